/**
 * The S3 store (`stores/s3_store.ts`) against a real S3-compatible server (`DJ_S3_*`, see
 * `tests/_servers.ts`; OpenStack Swift + s3api in CI). One scratch bucket per run, removed at the
 * end with everything in it (objects and unfinished multipart uploads).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { DataJointError, MissingExternalFile, StoreError } from "../lib/errors.ts";
import type { StoreEntry, StoreSpec } from "../stores/backend.ts";
import { Stores } from "../stores/open.ts";
import { computeHash } from "../stores/paths.ts";
import { mapPool } from "../stores/pool.ts";
import { s3EndpointUrl, S3Store, type S3StoreOptions } from "../stores/s3_store.ts";
import { storeSpec } from "../stores/spec.ts";
import {
  assertBytesEqual,
  randomBytes,
  type S3Settings,
  s3Settings,
  scratchName,
  serverTest,
} from "./_servers.ts";
import { s3Client } from "./_stores.ts";

const MiB = 1024 * 1024;

Deno.test("s3EndpointUrl: scheme kept, else https (secure) or http", () => {
  assert.equal(s3EndpointUrl("s3.amazonaws.com"), "https://s3.amazonaws.com");
  assert.equal(s3EndpointUrl("s3.amazonaws.com", true), "https://s3.amazonaws.com");
  assert.equal(s3EndpointUrl("127.0.0.1:9000", false), "http://127.0.0.1:9000");
  assert.equal(s3EndpointUrl("http://minio:9000", true), "http://minio:9000");
  assert.equal(s3EndpointUrl("HTTPS://minio:9000", false), "HTTPS://minio:9000");
});

Deno.test("S3Store: key layout and url without a server", async () => {
  const base = { protocol: "s3", endpoint: "127.0.0.1:1", secure: false, bucket: "bkt" };
  const withLoc = new S3Store("s", storeSpec({ s: { ...base, location: "lab/data/" } }, "s"));
  const noLoc = new S3Store("s", storeSpec({ s: { ...base, location: "" } }, "s"));
  try {
    assert.equal(withLoc.url("_hash/x/abc"), "s3://bkt/lab/data/_hash/x/abc");
    assert.equal(noLoc.url("_hash/x/abc"), "s3://bkt/_hash/x/abc");
    assert.equal(withLoc.endpoint, "http://127.0.0.1:1");
    assert.throws(() => withLoc.url("/abs"), DataJointError);
    await assert.rejects(withLoc.get("a/../b"), DataJointError);
  } finally {
    await withLoc.close();
    await noLoc.close();
  }
});

function s3Spec(s: S3Settings, bucket: string, extra: Record<string, unknown> = {}): StoreSpec {
  return storeSpec({
    cloud: {
      protocol: "s3",
      endpoint: s.endpoint,
      bucket,
      location: "dj/test",
      access_key: s.accessKey,
      secret_key: s.secretKey,
      region: s.region,
      ...extra,
    },
  }, "cloud");
}

async function collect(it: AsyncIterable<StoreEntry>): Promise<StoreEntry[]> {
  const out: StoreEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

async function pathsAndSizes(
  it: AsyncIterable<StoreEntry>,
): Promise<{ path: string; size: number }[]> {
  return (await collect(it)).map(({ path, size }) => ({ path, size }));
}

/** A stream of `total` bytes of `data` in `chunk`-sized pieces that errors once `failAt` bytes went out. */
function streamOf(data: Uint8Array, chunk: number, failAt?: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (failAt !== undefined && at >= failAt) {
        c.error(new Error("source broke midway"));
        return;
      }
      if (at >= data.length) {
        c.close();
        return;
      }
      c.enqueue(data.slice(at, at + chunk));
      at += chunk;
    },
  });
}

async function headStatus(client: S3Client, Bucket: string, Key: string): Promise<number> {
  try {
    await client.send(new HeadObjectCommand({ Bucket, Key }));
    return 200;
  } catch (e) {
    return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
  }
}

async function emptyBucket(client: S3Client, Bucket: string): Promise<void> {
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket }));
  for (const u of uploads.Uploads ?? []) {
    await client.send(
      new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId }),
    );
  }
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket, ContinuationToken: token }));
    await mapPool(
      page.Contents ?? [],
      16,
      (o) => client.send(new DeleteObjectCommand({ Bucket, Key: o.Key })),
    );
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

function rejectsWith(
  p: Promise<unknown>,
  cls: typeof DataJointError,
  ...parts: string[]
): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    for (const part of parts) {
      assert.ok(e.message.includes(part), `"${e.message}" lacks "${part}"`);
    }
    return true;
  });
}

await serverTest("s3", "S3 store against a real server", async (t) => {
  const s = s3Settings()!;
  const client = s3Client(s);
  const Bucket = scratchName("dj-store-");
  await client.send(new CreateBucketCommand({ Bucket }));
  const opts: S3StoreOptions = { partSize: 5 * MiB, multipartThreshold: 8 * MiB, queueSize: 2 };
  const store = new S3Store("cloud", s3Spec(s, Bucket), opts);
  try {
    await t.step(
      "put/get: one PutObject under <location>/<path>, overwrite, counters",
      async () => {
        const data = randomBytes(1000);
        assert.deepEqual(await store.put("_hash/lab/obj", data), { written: true });
        assertBytesEqual(await store.get("_hash/lab/obj"), data);
        const head = await client.send(
          new HeadObjectCommand({ Bucket, Key: "dj/test/_hash/lab/obj" }),
        );
        assert.equal(head.ContentLength, 1000);
        assert.doesNotMatch(head.ETag ?? "", /-\d+"?$/, "a small object is not multipart");
        assert.equal(store.url("_hash/lab/obj"), `s3://${Bucket}/dj/test/_hash/lab/obj`);
        await store.put("_hash/lab/obj", data.subarray(0, 10));
        assertBytesEqual(await store.get("_hash/lab/obj"), data.subarray(0, 10));
        assert.deepEqual(store.counters, {
          gets: 2,
          rangeGets: 0,
          bytesRead: 1010,
          puts: 2,
          bytesWritten: 1010,
          stats: 0,
          lists: 0,
          removes: 0,
          renewals: 0,
        });
      },
    );

    await t.step("ifAbsent: a HeadObject first, nothing written when the key exists", async () => {
      assert.deepEqual(await store.put("once/x", new Uint8Array([1]), { ifAbsent: true }), {
        written: true,
      });
      let cancelled = false;
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          c.enqueue(new Uint8Array([2]));
        },
        cancel() {
          cancelled = true;
        },
      });
      assert.deepEqual(await store.put("once/x", stream, { ifAbsent: true }), { written: false });
      assert.ok(cancelled, "the skipped stream is cancelled");
      assertBytesEqual(await store.get("once/x"), new Uint8Array([1]));
    });

    await t.step("location: empty, and a trailing slash dropped", async () => {
      const root = new S3Store("cloud", s3Spec(s, Bucket, { location: "" }));
      const slash = new S3Store("cloud", s3Spec(s, Bucket, { location: "pre/fix/" }));
      try {
        await root.put("top.bin", new Uint8Array([5]));
        await slash.put("a/b.bin", new Uint8Array([6]));
        assert.equal(await headStatus(client, Bucket, "top.bin"), 200);
        assert.equal(await headStatus(client, Bucket, "pre/fix/a/b.bin"), 200);
        assert.deepEqual(await pathsAndSizes(slash.list("")), [{ path: "a/b.bin", size: 1 }]);
        await root.remove("top.bin");
        await slash.remove("a/b.bin");
      } finally {
        await root.close();
        await slash.close();
      }
    });

    await t.step("ranged reads with a Range header", async () => {
      const data = randomBytes(100_000);
      await store.put("r/obj", data);
      const before = store.counters.bytesRead;
      assertBytesEqual(await store.getRange("r/obj", 1000, 500), data.subarray(1000, 1500));
      assertBytesEqual(await store.getRange("r/obj", 99_990, 100), data.subarray(99_990));
      assert.equal((await store.getRange("r/obj", 200_000, 10)).length, 0);
      assert.equal((await store.getRange("r/obj", 10, 0)).length, 0);
      assert.equal(store.counters.bytesRead - before, 510);
      assert.equal(store.counters.rangeGets, 4);
      await rejectsWith(
        store.getRange("r/missing", 0, 10),
        MissingExternalFile,
        `Missing external file s3://${Bucket}/dj/test/r/missing`,
      );
      await rejectsWith(store.getRange("r/missing", 0, 0), MissingExternalFile);
      await assert.rejects(store.getRange("r/obj", -1, 1), DataJointError);
    });

    await t.step("get/open/download of a missing object: MissingExternalFile", async () => {
      const expected = `Missing external file s3://${Bucket}/dj/test/nope`;
      await rejectsWith(store.get("nope"), MissingExternalFile, expected);
      await rejectsWith(store.open("nope"), MissingExternalFile, expected);
      const dir = await Deno.makeTempDir({ prefix: "dj_s3_dl_" });
      try {
        await rejectsWith(store.download("nope", `${dir}/x.bin`), MissingExternalFile, expected);
        assert.deepEqual([...Deno.readDirSync(dir)], []);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });

    await t.step(
      "20 MB multipart upload from a stream; open and download stream it back",
      async () => {
        const data = randomBytes(20 * MiB);
        const puts = store.counters.puts;
        assert.deepEqual(await store.put("big/stream.bin", streamOf(data, 1 * MiB)), {
          written: true,
        });
        assert.equal(store.counters.puts, puts + 1);
        const head = await client.send(
          new HeadObjectCommand({ Bucket, Key: "dj/test/big/stream.bin" }),
        );
        assert.equal(head.ContentLength, 20 * MiB);
        assert.match(head.ETag ?? "", /-4"?$/, `4 parts of 5 MiB, ETag ${head.ETag}`);

        const chunks: Uint8Array[] = [];
        for await (const c of await store.open("big/stream.bin")) chunks.push(c);
        const back = new Uint8Array(20 * MiB);
        let at = 0;
        for (const c of chunks) (back.set(c, at), at += c.length);
        assert.equal(at, 20 * MiB);
        assert.equal(computeHash(back), computeHash(data));

        const dir = await Deno.makeTempDir({ prefix: "dj_s3_dl_" });
        try {
          await store.download("big/stream.bin", `${dir}/sub/copy.bin`);
          assert.equal(computeHash(await Deno.readFile(`${dir}/sub/copy.bin`)), computeHash(data));
          assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name), ["copy.bin"]);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }

        // Byte arrays: multipart from the threshold on, a single PUT below it.
        await store.put("big/bytes.bin", data.subarray(0, 12 * MiB));
        const h2 = await client.send(
          new HeadObjectCommand({ Bucket, Key: "dj/test/big/bytes.bin" }),
        );
        assert.match(h2.ETag ?? "", /-3"?$/);
        assert.equal(
          computeHash(await store.get("big/bytes.bin")),
          computeHash(data.subarray(0, 12 * MiB)),
        );
        await store.put("big/small.bin", data.subarray(0, 7 * MiB));
        const h3 = await client.send(
          new HeadObjectCommand({ Bucket, Key: "dj/test/big/small.bin" }),
        );
        assert.doesNotMatch(h3.ETag ?? "", /-\d+"?$/);
      },
    );

    await t.step(
      "a stream that fails midway leaves no object and no multipart upload",
      async () => {
        const data = randomBytes(20 * MiB);
        const puts = store.counters.puts;
        // Fails after two full parts went up: the multipart upload must be aborted.
        await assert.rejects(
          store.put("broken/late.bin", streamOf(data, 1 * MiB, 12 * MiB)),
          /source broke midway/,
        );
        // Fails inside the first part: nothing was sent at all.
        await assert.rejects(
          store.put("broken/early.bin", streamOf(data, 1 * MiB, 2 * MiB)),
          /source broke midway/,
        );
        // An existing object survives a failed overwrite.
        await store.put("broken/kept.bin", new Uint8Array([1, 2, 3]));
        await assert.rejects(
          store.put("broken/kept.bin", streamOf(data, 1 * MiB, 11 * MiB)),
          /source broke midway/,
        );
        assertBytesEqual(await store.get("broken/kept.bin"), new Uint8Array([1, 2, 3]));

        assert.equal(await headStatus(client, Bucket, "dj/test/broken/late.bin"), 404);
        assert.equal(await headStatus(client, Bucket, "dj/test/broken/early.bin"), 404);
        const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket }));
        assert.deepEqual(uploads.Uploads ?? [], [], "no multipart upload is left in progress");
        assert.equal(store.counters.puts, puts + 1);
      },
    );

    await t.step("putFile: small and multipart, ifAbsent, missing source", async () => {
      const dir = await Deno.makeTempDir({ prefix: "dj_s3_src_" });
      try {
        const small = randomBytes(5000);
        const large = randomBytes(9 * MiB);
        await Deno.writeFile(`${dir}/small`, small);
        await Deno.writeFile(`${dir}/large`, large);
        assert.deepEqual(await store.putFile("files/small", `${dir}/small`), { written: true });
        assert.deepEqual(await store.putFile("files/large", `${dir}/large`), { written: true });
        assertBytesEqual(await store.get("files/small"), small);
        assert.equal(computeHash(await store.get("files/large")), computeHash(large));
        const head = await client.send(
          new HeadObjectCommand({ Bucket, Key: "dj/test/files/large" }),
        );
        assert.match(head.ETag ?? "", /-2"?$/);
        assert.deepEqual(await store.putFile("files/small", `${dir}/large`, { ifAbsent: true }), {
          written: false,
        });
        assertBytesEqual(await store.get("files/small"), small);
        await rejectsWith(
          store.putFile("files/x", `${dir}/none`),
          DataJointError,
          "Local file not found",
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });

    await t.step("stat and exists: objects, prefixes as folders, missing", async () => {
      await store.put("st/dir/a.bin", new Uint8Array(7));
      const stats = store.counters.stats;
      const object = await store.stat("st/dir/a.bin");
      assert.deepEqual({ ...object, modified: undefined }, {
        size: 7,
        isDir: false,
        modified: undefined,
      });
      // The server's clock, in whole seconds.
      assert.ok(Math.abs(object!.modified!.getTime() - Date.now()) < 120_000);
      assert.deepEqual(await store.stat("st/dir"), { size: 0, isDir: true, modified: null });
      assert.deepEqual(await store.stat("st"), { size: 0, isDir: true, modified: null });
      assert.equal(await store.stat("st/none"), null);
      // "st/di" is a prefix of a key, but not a folder.
      assert.equal(await store.stat("st/di"), null);
      assert.equal(await store.exists("st/dir/a.bin"), true);
      assert.equal(await store.exists("st/nothing"), false);
      assert.equal(store.counters.stats, stats + 7);
    });

    await t.step(
      "list: paginated, recursive, prefix as folder, folder markers skipped",
      async () => {
        const pages = new S3Store("cloud", s3Spec(s, Bucket), { listPageSize: 100 });
        try {
          const keys = Array.from({ length: 250 }, (_, i) => `ls/k${String(i).padStart(3, "0")}`);
          await mapPool(keys, 16, (k, i) => pages.put(k, new Uint8Array(i % 7)));
          await pages.put("ls/sub/deep/x", new Uint8Array(3));
          await pages.put("lsx/not-under-ls", new Uint8Array(1));
          // A zero-byte "folder marker" some tools create.
          await client.send(
            new PutObjectCommand({ Bucket, Key: "dj/test/ls/marker/", Body: new Uint8Array(0) }),
          );
          const lists = pages.counters.lists;
          const all = await collect(pages.list("ls"));
          assert.equal(pages.counters.lists - lists, 3, "252 keys in pages of 100");
          assert.deepEqual(all.map((e) => e.path).sort(), [...keys, "ls/sub/deep/x"].sort());
          assert.equal(all.find((e) => e.path === "ls/k010")?.size, 10 % 7);
          const sub = await collect(pages.list("ls/sub/"));
          assert.deepEqual(sub.map(({ path, size }) => ({ path, size })), [{
            path: "ls/sub/deep/x",
            size: 3,
          }]);
          assert.ok(
            Math.abs(sub[0].modified.getTime() - Date.now()) < 120_000,
            "the object's time",
          );
          assert.deepEqual(await collect(pages.list("nothing")), []);
          assert.deepEqual(await collect(pages.list("ls/k001")), []);
          const everything = (await collect(pages.list(""))).map((e) => e.path);
          assert.ok(everything.includes("lsx/not-under-ls") && everything.includes("ls/k249"));
          assert.ok(everything.every((p) => !p.startsWith("dj/test") && !p.endsWith("/")));
          await client.send(new DeleteObjectCommand({ Bucket, Key: "dj/test/ls/marker/" }));
        } finally {
          await pages.close();
        }
      },
    );

    await t.step("remove: deletes, silent when missing", async () => {
      await store.put("rm/x", new Uint8Array([1]));
      const removes = store.counters.removes;
      await store.remove("rm/x");
      await store.remove("rm/x");
      await store.remove("rm/never");
      assert.equal(await store.exists("rm/x"), false);
      assert.equal(store.counters.removes, removes + 3);
    });

    await t.step(
      "wrong secret: StoreError naming the store, endpoint and credentials",
      async () => {
        const bad = new S3Store(
          "cloud",
          s3Spec(s, Bucket, { secret_key: `${s.secretKey}-wrong` }),
          {
            maxAttempts: 1,
          },
        );
        try {
          const parts = [
            "cloud",
            s.endpoint,
            "access_key",
            "secret_key",
            "refused the credentials",
          ];
          await rejectsWith(bad.get("_hash/lab/obj"), StoreError, ...parts);
          await rejectsWith(bad.put("x", new Uint8Array([1])), StoreError, ...parts);
          await rejectsWith(bad.stat("_hash/lab/obj"), StoreError, ...parts);
          await rejectsWith(collect(bad.list("")), StoreError, ...parts);
          await rejectsWith(bad.put("y", randomBytes(9 * MiB)), StoreError, ...parts);
          // A streamed local file is closed when the upload fails (the resource sanitizer checks).
          const src = await Deno.makeTempFile({ prefix: "dj_s3_src_" });
          try {
            await Deno.writeFile(src, randomBytes(9 * MiB));
            await rejectsWith(bad.putFile("z", src), StoreError, ...parts);
          } finally {
            await Deno.remove(src);
          }
          await assert.rejects(
            bad.get("_hash/lab/obj"),
            (e) => !(e instanceof MissingExternalFile),
          );
        } finally {
          await bad.close();
        }
      },
    );

    await t.step("missing bucket: StoreError saying the bucket does not exist", async () => {
      const ghost = scratchName("dj-ghost-");
      const nb = new S3Store("cloud", s3Spec(s, ghost), { maxAttempts: 1 });
      try {
        const parts = [`bucket "${ghost}" does not exist`, "stores.cloud.bucket"];
        await rejectsWith(nb.put("x", new Uint8Array([1])), StoreError, ...parts);
        await rejectsWith(
          nb.put("x", new Uint8Array([1]), { ifAbsent: true }),
          StoreError,
          ...parts,
        );
        await rejectsWith(nb.get("x"), StoreError, ...parts);
        await rejectsWith(nb.stat("x"), StoreError, ...parts);
        await rejectsWith(nb.exists("x"), StoreError, ...parts);
        await rejectsWith(collect(nb.list("")), StoreError, ...parts);
        await rejectsWith(nb.remove("x"), StoreError, ...parts);
      } finally {
        await nb.close();
      }
    });

    await t.step("unreachable endpoint: StoreError saying it cannot be reached", async () => {
      const down = new S3Store(
        "cloud",
        s3Spec(s, Bucket, { endpoint: "127.0.0.1:1", secure: false }),
        { maxAttempts: 1 },
      );
      try {
        await rejectsWith(
          down.get("x"),
          StoreError,
          "cannot reach the endpoint http://127.0.0.1:1",
          "stores.cloud.endpoint",
        );
        await rejectsWith(down.put("x", new Uint8Array([1])), StoreError, "cannot reach");
      } finally {
        await down.close();
      }
    });

    await t.step(
      "Stores opens an s3 backend from the configuration (scheme-less endpoint)",
      async () => {
        const url = new URL(s.endpoint);
        const stores = new Stores({
          default: "cloud",
          cloud: {
            protocol: "s3",
            endpoint: url.host,
            secure: url.protocol === "https:",
            bucket: Bucket,
            location: "via-stores",
            access_key: s.accessKey,
            secret_key: s.secretKey,
          },
        });
        try {
          const b = await stores.backend(null);
          assert.ok(b instanceof S3Store);
          assert.equal(b.endpoint, s.endpoint.replace(/\/$/, ""));
          await b.put("a", new Uint8Array([42]));
          assertBytesEqual(await b.get("a"), new Uint8Array([42]));
          assert.equal(await headStatus(client, Bucket, "via-stores/a"), 200);
          await b.remove("a");
        } finally {
          await stores.close();
        }
      },
    );
  } finally {
    await store.close();
    await emptyBucket(client, Bucket);
    await client.send(new DeleteBucketCommand({ Bucket }));
    client.destroy();
  }
});
