/**
 * Bench helpers: the database a bench runs on (PostgreSQL when a server answers, else PGlite in
 * memory, and which one it is), scratch object stores (a temp folder, and a fresh bucket on the
 * S3 server of `DJ_S3_ENDPOINT` when that is set), incompressible test data, and cleanup.
 *
 * `deno bench` has no teardown hook and does not wait for asynchronous work at exit, so
 * {@link cleanupAtExit} removes the scratch folder synchronously in an `unload` handler and runs
 * this module as a subprocess (synchronously) to drop the schemas and delete the bucket:
 * `deno run -A bench/_setup.ts --schema <name> --bucket <name>`. What a killed run leaves
 * behind is removed by {@link dropLeftovers} at the start of the next one.
 *
 * @module
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { Connection } from "../lib/connection.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { mapPool } from "../stores/pool.ts";
import { openTestConnection } from "../tests/_connections.ts";
import {
  pgSettings,
  type S3Settings,
  s3Settings,
  scratchName,
  serverStatus,
} from "../tests/_servers.ts";
import { s3Client } from "../tests/_stores.ts";

/**
 * Prefix of the schemas (`djbench_codec_…`) and buckets (`djbench-codec-…`) these benches create;
 * leftover cleanup removes only names with it (other benches use other `djbench_` names).
 */
export const BENCH_PREFIX = "djbench_codec_";

/** The bucket-name form of {@link BENCH_PREFIX} (S3 bucket names have no underscores). */
export const BUCKET_PREFIX = BENCH_PREFIX.replaceAll("_", "-");

/** The database a bench runs on. */
export interface BenchDatabase {
  /** The open connection. */
  conn: Connection;
  /** `true` for a PostgreSQL server, `false` for PGlite in memory. */
  server: boolean;
  /** What it is, for the report: `PostgreSQL 15.8 at 127.0.0.1:5432` or `PGlite … (in memory)`. */
  label: string;
}

/**
 * PostgreSQL when a server answers at `DJ_PG_*` (default `127.0.0.1:5432`), otherwise PGlite in
 * memory.
 */
export async function openBenchDatabase(): Promise<BenchDatabase> {
  const st = await serverStatus("postgres");
  if (st.reachable) {
    const conn = await openTestConnection("postgres");
    const [{ v }] = await conn.query<{ v: string }>(
      "SELECT current_setting('server_version') AS v",
    );
    const s = pgSettings();
    return { conn, server: true, label: `PostgreSQL ${v} at ${s.host}:${s.port}` };
  }
  console.log(`note: no PostgreSQL server at ${st.address} (${st.reason}); using PGlite in memory`);
  const conn = await openTestConnection("pglite");
  const [{ v }] = await conn.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  return { conn, server: false, label: `PGlite (PostgreSQL ${v}, in memory)` };
}

/** Scratch stores: `fs` (a temp folder) always, `s3` (a fresh bucket) when S3 is configured. */
export interface BenchStores {
  /** The `stores` configuration: `default: "fs"`, `fs`, and `s3` when available. */
  config: Record<string, unknown>;
  /** The temp folder (the `fs` store is its `fs` subfolder). */
  root: string;
  /** S3 settings, or `undefined` (then there is no `s3` store). */
  s3?: S3Settings;
  /** The scratch bucket. */
  bucket?: string;
  /** Why there is no `s3` store. */
  s3Missing?: string;
}

/** Makes the scratch stores (a temp folder; a bucket when `DJ_S3_ENDPOINT` is set). */
export async function benchStores(): Promise<BenchStores> {
  const root = await Deno.makeTempDir({ prefix: `${BUCKET_PREFIX}store-` });
  await Deno.mkdir(`${root}/fs`);
  const config: Record<string, unknown> = {
    default: "fs",
    fs: { protocol: "file", location: `${root}/fs` },
  };
  const s3 = s3Settings();
  if (s3 === undefined) return { config, root, s3Missing: "DJ_S3_ENDPOINT is not set" };
  const bucket = scratchName(BUCKET_PREFIX);
  const client = s3Client(s3);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  config.s3 = {
    protocol: "s3",
    endpoint: s3.endpoint,
    bucket,
    location: "dj",
    access_key: s3.accessKey,
    secret_key: s3.secretKey,
    region: s3.region,
  };
  return { config, root, s3, bucket };
}

/**
 * Drops schemas (`djbench_codec_…`) and buckets (`djbench-codec-…`) that an earlier (killed) run
 * left behind.
 */
export async function dropLeftovers(conn: Connection): Promise<void> {
  for (const old of await conn.listSchemas()) {
    if (old.startsWith(BENCH_PREFIX)) {
      await makeSchema(old, { connection: conn, create: false }).drop({ cascade: true });
    }
  }
  const s3 = s3Settings();
  if (s3 === undefined) return;
  const client = s3Client(s3);
  try {
    const out = await client.send(new ListBucketsCommand({}));
    for (const b of out.Buckets ?? []) {
      if (b.Name?.startsWith(BUCKET_PREFIX)) await removeBucket(client, b.Name);
    }
  } finally {
    client.destroy();
  }
}

/** Deletes every object of a bucket (16 requests at a time), then the bucket. */
async function removeBucket(client: S3Client, Bucket: string): Promise<void> {
  for (;;) {
    const out = await client.send(new ListObjectsV2Command({ Bucket }));
    const keys = (out.Contents ?? []).map((c) => c.Key!);
    if (keys.length === 0) break;
    // One by one: Swift's s3api wants Content-MD5 on DeleteObjects, which the SDK leaves out.
    await mapPool(keys, 16, (Key) => client.send(new DeleteObjectCommand({ Bucket, Key })));
  }
  await client.send(new DeleteBucketCommand({ Bucket }));
}

/** What {@link cleanupAtExit} removes. */
export interface CleanupPlan {
  /** Whether the schemas live on the PostgreSQL server (PGlite in memory vanishes by itself). */
  server: boolean;
  /** Schemas to drop. */
  schemas: string[];
  /** Bucket to empty and delete. */
  bucket?: string;
  /** Local folders to remove. */
  dirs: string[];
}

/**
 * At process exit: removes the folders, then (synchronously, in a subprocess, because `deno bench`
 * does not wait for promises at exit) drops the schemas and deletes the bucket.
 */
export function cleanupAtExit(plan: CleanupPlan): void {
  globalThis.addEventListener("unload", () => {
    for (const d of plan.dirs) {
      try {
        Deno.removeSync(d, { recursive: true });
      } catch {
        // Already gone.
      }
    }
    const args = ["run", "--allow-all", new URL(import.meta.url).pathname];
    if (plan.server) { for (const s of plan.schemas) args.push("--schema", s); }
    if (plan.bucket) args.push("--bucket", plan.bucket);
    if (args.length === 3) return;
    const out = new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "inherit" })
      .outputSync();
    if (!out.success) console.log("note: cleanup failed; the next run removes the leftovers");
  });
}

/** Deterministic pseudo-random doubles in [0, 1) with all 52 mantissa bits noisy (incompressible). */
export function randomDoubles(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < n; i++) out[i] = (next() + next() / 4294967296) / 4294967296;
  return out;
}

if (import.meta.main) {
  // Cleanup subprocess: --schema <name> (repeatable; on the PostgreSQL server), --bucket <name>.
  const schemas: string[] = [];
  let bucket: string | undefined;
  for (let i = 0; i < Deno.args.length; i += 2) {
    if (Deno.args[i] === "--schema") schemas.push(Deno.args[i + 1]);
    else if (Deno.args[i] === "--bucket") bucket = Deno.args[i + 1];
  }
  if (schemas.length > 0) {
    const conn = await openTestConnection("postgres");
    try {
      for (const s of schemas) {
        if (await conn.schemaExists(s)) {
          await makeSchema(s, { connection: conn, create: false }).drop({ cascade: true });
        }
      }
    } finally {
      await conn.close();
    }
  }
  const s3 = s3Settings();
  if (bucket && s3) {
    const client = s3Client(s3);
    try {
      await removeBucket(client, bucket);
    } finally {
      client.destroy();
    }
  }
}
