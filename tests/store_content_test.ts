/**
 * Reads that show each piece as it arrives (`get` with `onChunk`, `byteOffset`) and writes whose
 * path is computed from the content (`putContent`), on the file store and on the real S3 server:
 * the pieces are the object in order, errors stop the transfer and leave nothing behind, and
 * content-addressed writes are write-once. These are what `<hash@>` uses to hash alongside the
 * transfer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { DataJointError, MissingExternalFile } from "../lib/errors.ts";
import type { StoreBackend } from "../stores/backend.ts";
import { FileStore } from "../stores/file_store.ts";
import { computeHash, createContentHasher, hashPath } from "../stores/paths.ts";
import { S3Store } from "../stores/s3_store.ts";
import { storeSpec } from "../stores/spec.ts";
import { assertBytesEqual, randomBytes, s3Settings, scratchName, serverTest } from "./_servers.ts";
import { deleteBucket, fileSpec, s3Client } from "./_stores.ts";

const MiB = 1024 * 1024;
const SPEC = { subfolding: [2, 2], hash_prefix: "_hash" };

/** Concatenation of pieces. */
function joined(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Writes `data` hash-addressed through `putContent`, as `<hash@>` does. */
async function putHashed(
  store: StoreBackend,
  data: Uint8Array,
): Promise<{ path: string; written: boolean; hash: string; pieces: number }> {
  const hasher = createContentHasher();
  let hash = "";
  let pieces = 0;
  const { path, written } = await store.putContent(data, {
    onChunk(piece) {
      pieces++;
      hasher.update(piece);
    },
    pathOf: () => hashPath(hash = hasher.digest(), "lab", SPEC),
    ifAbsent: true,
  });
  return { path, written, hash, pieces };
}

/** The checks both backends must pass. */
async function contentChecks(store: StoreBackend): Promise<void> {
  // Sizes: empty, one piece, and several pieces (the file store reads 4 MiB at a time).
  for (const size of [0, 1000, 9 * MiB + 17]) {
    const data = randomBytes(size);
    const { path, written, hash } = await putHashed(store, data);
    assert.equal(written, true);
    assert.equal(hash, computeHash(data));
    assert.equal(path, hashPath(computeHash(data), "lab", SPEC));
    assertBytesEqual(await store.get(path), data, `object of ${size} bytes`);

    // A second write of the same bytes writes nothing (write-once) and names the same path.
    const again = await putHashed(store, data);
    assert.deepEqual([again.path, again.written], [path, false]);

    const pieces: Uint8Array[] = [];
    const bytes = await store.get(path, { onChunk: (p) => void pieces.push(p.slice()) });
    assertBytesEqual(bytes, data, "get with onChunk");
    assertBytesEqual(joined(pieces), data, "the pieces, in order");
    assert.equal(pieces.length === 0, size === 0);

    const placed = await store.get(path, { byteOffset: 3 });
    assert.equal(placed.byteOffset, 3);
    assertBytesEqual(placed, data, "get with byteOffset");
    const both = await store.get(path, { byteOffset: 5, onChunk: () => {} });
    assert.equal(both.byteOffset, 5);
    assertBytesEqual(both, data, "get with byteOffset and onChunk");
  }

  // An error of onChunk stops the read and comes out unchanged.
  const data = randomBytes(9 * MiB);
  const { path } = await putHashed(store, data);
  const stop = new Error("stop reading");
  let seen = 0;
  await assert.rejects(
    store.get(path, {
      onChunk(p) {
        seen += p.length;
        throw stop;
      },
    }),
    (e) => e === stop,
  );
  assert.ok(seen > 0 && seen < data.length, `stopped after the first piece (${seen} bytes)`);
  assertBytesEqual(await store.get(path), data, "the object after a stopped read");

  // A missing object is a MissingExternalFile, with or without onChunk.
  await assert.rejects(store.get("_hash/lab/none", { onChunk: () => {} }), MissingExternalFile);
  await assert.rejects(store.get(path, { byteOffset: -1 }), DataJointError);
  await assert.rejects(store.get(path, { byteOffset: 1.5 }), DataJointError);

  // A failing onChunk or pathOf, or a bad path, writes nothing.
  const fresh = randomBytes(2 * MiB);
  const before = await listAll(store);
  await assert.rejects(
    store.putContent(fresh, {
      onChunk: () => {
        throw stop;
      },
      pathOf: () => "_hash/lab/never",
    }),
    (e) => e === stop,
  );
  await assert.rejects(
    store.putContent(fresh, {
      onChunk: () => {},
      pathOf: () => {
        throw stop;
      },
    }),
    (e) => e === stop,
  );
  await assert.rejects(
    store.putContent(fresh, { onChunk: () => {}, pathOf: () => "../outside" }),
    DataJointError,
  );
  assert.deepEqual(await listAll(store), before, "nothing was written by failed writes");

  // Without ifAbsent an existing object is replaced.
  const other = randomBytes(100);
  const replaced = await store.putContent(other, { onChunk: () => {}, pathOf: () => path });
  assert.deepEqual(replaced, { path, written: true });
  assertBytesEqual(await store.get(path), other, "the replaced object");
}

async function listAll(store: StoreBackend): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.list("")) out.push(`${e.path}:${e.size}`);
  return out.sort();
}

Deno.test("FileStore: get with onChunk/byteOffset, putContent", async () => {
  const root = await Deno.makeTempDir({ prefix: "dj-content-" });
  try {
    const store = new FileStore("main", fileSpec(root));
    await contentChecks(store);
    // No temporary file is left in the store folder (failed writes included).
    const names: string[] = [];
    for await (const e of Deno.readDir(root)) names.push(e.name);
    assert.deepEqual(names.filter((n) => n.includes(".saving-")), []);
    assert.deepEqual(names, ["_hash"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("FileStore: putContent publishes write-once by hard link, not over a folder", async () => {
  const root = await Deno.makeTempDir({ prefix: "dj-content-" });
  try {
    const store = new FileStore("main", fileSpec(root));
    const data = randomBytes(5000);
    const path = hashPath(computeHash(data), "lab", SPEC);
    // Another writer got there first with the same name: left as it is.
    await Deno.mkdir(`${root}/${path.split("/").slice(0, -1).join("/")}`, { recursive: true });
    await Deno.writeFile(`${root}/${path}`, new Uint8Array([1, 2, 3]));
    const r = await store.putContent(data, {
      onChunk: () => {},
      pathOf: () => path,
      ifAbsent: true,
    });
    assert.deepEqual(r, { path, written: false });
    assert.deepEqual(await Deno.readFile(`${root}/${path}`), new Uint8Array([1, 2, 3]));
    // A folder under the name is an error that says so, and nothing is left behind.
    await Deno.mkdir(`${root}/_hash/lab/dir/x`, { recursive: true });
    await assert.rejects(
      store.putContent(data, { onChunk: () => {}, pathOf: () => "_hash/lab/dir" }),
      (e: unknown) => e instanceof DataJointError && /a folder of that name exists/.test(e.message),
    );
    const names: string[] = [];
    for await (const e of Deno.readDir(root)) names.push(e.name);
    assert.deepEqual(names, ["_hash"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

await serverTest("s3", "S3Store: get with onChunk/byteOffset, putContent", async () => {
  const s = s3Settings()!;
  const client = s3Client(s);
  const bucket = scratchName("dj-content-");
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const store = new S3Store(
    "cloud",
    storeSpec({
      cloud: {
        protocol: "s3",
        endpoint: s.endpoint,
        bucket,
        location: "dj",
        access_key: s.accessKey,
        secret_key: s.secretKey,
        region: s.region,
      },
    }, "cloud"),
    // Multipart from 6 MiB on, so that the 9 MiB objects take that path.
    { multipartThreshold: 6 * MiB, partSize: 5 * MiB },
  );
  try {
    await contentChecks(store);
  } finally {
    await store.close();
    await deleteBucket(client, bucket);
    client.destroy();
  }
});
