/**
 * Test helpers for object stores: a store configuration on a fresh temp folder or on a fresh
 * bucket of the real S3 server, and `onEveryBackendAndStore`, which runs a test on MariaDB,
 * PostgreSQL and PGlite, each with a file store and with the S3 store (S3 combinations skip
 * locally without a server and fail under CI=true, as every server test does).
 *
 * @module
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import type { Connection } from "../lib/connection.ts";
import type { StoreSpec } from "../stores/backend.ts";
import { openTestConnection, type TestBackend } from "./_connections.ts";
import { type S3Settings, s3Settings, scratchName, serverTest } from "./_servers.ts";

/** Which store kind a test runs with. */
export type StoreKind = "file" | "s3";

/** A scratch store: its `stores` configuration and how to remove it. */
export interface ScratchStores {
  /** The `stores` configuration (`default` = `main`, `filepath_default` = `raw`). */
  config: Record<string, unknown>;
  /** Local folder (file stores) or bucket (S3) of the `main` store. */
  where: string;
  /** Removes folders or buckets. */
  dispose(): Promise<void>;
}

/**
 * A file store's specification with the reference defaults (flat hashes, no partitions, 8-letter
 * tokens, `_hash`/`_schema` sections, no filepath prefix).
 */
export function fileSpec(location: string): StoreSpec {
  return {
    protocol: "file",
    location,
    subfolding: null,
    partition_pattern: null,
    token_length: 8,
    hash_prefix: "_hash",
    schema_prefix: "_schema",
    filepath_prefix: null,
  };
}

/** An S3 client for the test server. */
export function s3Client(s: S3Settings = s3Settings()!): S3Client {
  return new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKey, secretAccessKey: s.secretKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** Deletes every object of a bucket, then the bucket. */
export async function deleteBucket(client: S3Client, Bucket: string): Promise<void> {
  for (;;) {
    const out = await client.send(new ListObjectsV2Command({ Bucket }));
    const keys = (out.Contents ?? []).map((c) => c.Key!);
    if (keys.length === 0) break;
    // One by one: Swift's s3api wants Content-MD5 on DeleteObjects, which the SDK leaves out.
    for (const Key of keys) await client.send(new DeleteObjectCommand({ Bucket, Key }));
  }
  await client.send(new DeleteBucketCommand({ Bucket }));
}

/**
 * Fresh stores `main` and `raw`: temp folders, or (for `"s3"`) `main` in a fresh bucket of the
 * test server and `raw` a temp folder.
 */
export async function scratchStores(kind: StoreKind): Promise<ScratchStores> {
  const root = await Deno.makeTempDir({ prefix: "dj-store-" });
  await Deno.mkdir(`${root}/main`);
  await Deno.mkdir(`${root}/raw`);
  const raw = { protocol: "file", location: `${root}/raw` };
  if (kind === "file") {
    return {
      config: {
        default: "main",
        filepath_default: "raw",
        main: { protocol: "file", location: `${root}/main` },
        raw,
      },
      where: `${root}/main`,
      dispose: () => Deno.remove(root, { recursive: true }),
    };
  }
  const s = s3Settings()!;
  const client = s3Client(s);
  const bucket = scratchName("dj-test-");
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    config: {
      default: "main",
      filepath_default: "raw",
      main: {
        protocol: "s3",
        endpoint: s.endpoint,
        bucket,
        location: "dj",
        access_key: s.accessKey,
        secret_key: s.secretKey,
      },
      raw,
    },
    where: bucket,
    dispose: async () => {
      await deleteBucket(client, bucket);
      client.destroy();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/**
 * Runs `fn` on every backend with every store kind, each with a fresh connection and fresh
 * stores configured on it.
 */
export async function onEveryBackendAndStore(
  name: string,
  fn: (
    c: Connection,
    backend: TestBackend,
    stores: ScratchStores,
    kind: StoreKind,
  ) => Promise<void>,
  kinds: StoreKind[] = ["file", "s3"],
): Promise<void> {
  for (const backend of ["mysql", "postgres", "pglite"] as const) {
    for (const kind of kinds) {
      const run = async () => {
        const stores = await scratchStores(kind);
        const c = await openTestConnection(backend);
        try {
          await c.configureStores(stores.config);
          await fn(c, backend, stores, kind);
        } finally {
          await c.close();
          await stores.dispose();
        }
      };
      const label = `${backend}+${kind}: ${name}`;
      // An S3 combination is gated on the S3 server (the database servers run wherever it does).
      if (kind === "s3") {
        await serverTest("s3", label, run);
      } else if (backend === "pglite") {
        Deno.test(label, run);
      } else {
        await serverTest(backend, label, run);
      }
    }
  }
}
