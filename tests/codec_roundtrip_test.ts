/**
 * Every built-in codec through insert and fetch, on MariaDB, PostgreSQL and PGlite, each with a
 * file store and with the real S3 server: stored metadata as the reference writes it (store names
 * resolved for the default-store form, hash paths, schema-addressed paths, manifests), lazy
 * references that download nothing until asked, deduplication, atomic inserts that leave no
 * schema-addressed objects behind, and corrupted or missing objects reported with table, key and
 * attribute.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { NDArray } from "../codecs/blob/ndarray.ts";
import { pack, unpack } from "../codecs/blob/mod.ts";
import type { NpyRef } from "../codecs/npy_ref.ts";
import type { ObjectRef } from "../codecs/object_ref.ts";
import type { Connection } from "../lib/connection.ts";
import {
  CodecError,
  CorruptObjectError,
  DuplicateError,
  MissingExternalFile,
} from "../lib/errors.ts";
import { collectGarbage } from "../lib/gc.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Manual } from "../lib/table.ts";
import { scratchName } from "./_servers.ts";
import { onEveryBackendAndStore } from "./_stores.ts";

/** Base32 (RFC 4648, lowercase, unpadded) of MD5, written independently of the code under test. */
function md5Base32(bytes: Uint8Array): string {
  const digest = createHash("md5").update(bytes).digest();
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = 0, value = 0, out = "";
  for (const b of digest) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

const DEFINITION = `
  rec_id : int32
  ---
  inline_blob : <blob>
  store_blob : <blob@>          # the default store
  named_blob = null : <blob@main>
  inline_attach : <attach>
  store_attach : <attach@>
  arr : <npy@>
  folder : <object@>
  raw_hash : <hash@>
  raw_file : <filepath@>
`;

interface Fixture {
  table: typeof Manual;
  tableName: string;
  schemaName: string;
  drop(): Promise<void>;
}

async function declareFixture(c: Connection): Promise<Fixture> {
  const name = scratchName("dj_codec_");
  const lab = makeSchema(name, { connection: c });
  @lab
  class Rec extends Manual {
    static override definition = DEFINITION;
  }
  await Rec.declare();
  return {
    table: Rec,
    tableName: "rec",
    schemaName: name,
    drop: () => lab.drop({ cascade: true }),
  };
}

async function localFixtures(): Promise<{ dir: string; file: string; folder: string }> {
  const dir = await Deno.makeTempDir({ prefix: "dj-local-" });
  const file = `${dir}/notes.txt`;
  await Deno.writeTextFile(file, "hello attachment\n");
  await Deno.mkdir(`${dir}/folder/sub`, { recursive: true });
  await Deno.writeTextFile(`${dir}/folder/a.txt`, "file a\n");
  await Deno.writeTextFile(`${dir}/folder/sub/b.csv`, "x,y\n1,2\n");
  return { dir, file, folder: `${dir}/folder` };
}

async function rawColumn(c: Connection, f: Fixture, column: string, id: number): Promise<unknown> {
  const q = c.kit.dialect.quote;
  const [row] = await c.query(
    `SELECT ${q(column)} AS v FROM ${q(f.schemaName)}.${q(f.tableName)} WHERE rec_id = ${id}`,
  );
  return row.v;
}

async function storePaths(c: Connection, prefix: string): Promise<string[]> {
  const store = await c.stores.backend("main");
  const out: string[] = [];
  for await (const e of store.list(prefix)) out.push(e.path);
  return out.sort();
}

await onEveryBackendAndStore(
  "every built-in codec round-trips and is stored as the reference stores it",
  async (c) => {
    const f = await declareFixture(c);
    const local = await localFixtures();
    const download = await Deno.makeTempDir({ prefix: "dj-download-" });
    (c.config as { downloadPath: string }).downloadPath = download;
    try {
      const rawStore = await c.stores.backend("raw");
      await rawStore.put("acq/sess1/data.bin", new TextEncoder().encode("raw acquisition bytes"));
      const storeValue = { nested: { list: [1, 2, 3] }, s: "στρινγ" };
      const arr = NDArray.from(new Float32Array([0.5, -1, 2, 3.25, 4, 5]), [2, 3]);
      const hashBytes = new TextEncoder().encode("raw bytes for <hash@>");
      await f.table.insert([
        {
          rec_id: 1,
          inline_blob: [1, "x", [2.5, null]],
          store_blob: storeValue,
          inline_attach: local.file,
          store_attach: local.file,
          arr,
          folder: local.folder,
          raw_hash: hashBytes,
          raw_file: "acq/sess1/data.bin",
        },
        {
          rec_id: 2,
          inline_blob: 7,
          store_blob: storeValue, // same bytes: deduplicated
          named_blob: [1, 2],
          inline_attach: local.file,
          store_attach: local.file,
          arr: NDArray.from(new BigInt64Array([0n, 1n, 2n]), [3]),
          folder: new TextEncoder().encode("just bytes"),
          raw_hash: hashBytes,
          raw_file: "acq/sess1/data.bin",
        },
      ]);

      // Stored metadata, read raw: the default store's real name, reference paths.
      const blobMeta = await rawColumn(c, f, "store_blob", 1) as Record<string, unknown>;
      const packed = pack(storeValue as never, { compress: true });
      const h = md5Base32(packed);
      assert.deepEqual(blobMeta, {
        hash: h,
        path: `_hash/${f.schemaName}/${h}`,
        schema: f.schemaName,
        store: "main",
        size: packed.length,
      });
      assert.deepEqual(await rawColumn(c, f, "store_blob", 2), blobMeta, "deduplicated");
      const fileMeta = await rawColumn(c, f, "raw_file", 1) as Record<string, unknown>;
      assert.equal(fileMeta.store, "raw", "<filepath@> names filepath_default's store");
      assert.equal(fileMeta.size, 21);
      const npyMeta = await rawColumn(c, f, "arr", 1) as Record<string, unknown>;
      assert.match(
        npyMeta.path as string,
        new RegExp(`^_schema/${f.schemaName}/rec/rec_id=1/arr_[A-Za-z0-9_-]{8}\\.npy$`),
      );
      assert.deepEqual({ ...npyMeta, path: "" }, {
        path: "",
        store: "main",
        dtype: "float32",
        shape: [2, 3],
      });
      const folderMeta = await rawColumn(c, f, "folder", 1) as Record<string, unknown>;
      assert.equal(folderMeta.is_dir, true);
      assert.equal(folderMeta.item_count, 2);
      assert.equal(folderMeta.size, 15);
      const manifest = JSON.parse(
        new TextDecoder().decode(
          await (await c.stores.backend("main")).get(`${folderMeta.path}.manifest.json`),
        ),
      );
      assert.deepEqual(manifest.files, [{ path: "a.txt", size: 7 }, {
        path: "sub/b.csv",
        size: 8,
      }]);
      assert.equal(manifest.total_size, 15);
      const hashObjects = await storePaths(c, `_hash/${f.schemaName}/`);
      // blob (shared by both rows), attach (same file twice), hash (twice), named_blob.
      assert.equal(hashObjects.length, 4, hashObjects.join(", "));

      // Fetch: values, lazy references without downloads.
      const main = await c.stores.backend("main");
      const before = main.counters.gets + main.counters.rangeGets;
      const rows = await f.table.restrict({}).toDicts({ orderBy: "rec_id" });
      const afterFetch = main.counters.gets + main.counters.rangeGets;
      const [r1, r2] = rows;
      assert.equal(rows.length, 2);
      assert.deepEqual(unpack(pack(r1.inline_blob as never)), unpack(pack([1, "x", [2.5, null]])));
      assert.deepEqual(r1.store_blob, storeValue);
      assert.equal(r2.named_blob !== null, true);
      const npy = r1.arr as NpyRef;
      assert.deepEqual([...npy.shape], [2, 3]);
      assert.equal(npy.dtype, "float32");
      const folder = r1.folder as ObjectRef;
      assert.equal(folder.isDir, true);
      // Only the eager codecs downloaded: blob@, attach@, hash@ of both rows, named_blob of row 2.
      assert.equal(afterFetch - before, 7, "lazy references download nothing on fetch");
      // A partial read uses ranged requests only (on S3, HTTP ranges).
      const gets = main.counters.gets;
      const row1 = await npy.rows(1, 2);
      assert.deepEqual([...row1.data as Float32Array], [3.25, 4, 5]);
      assert.deepEqual([...row1.shape], [1, 3]);
      assert.equal(main.counters.gets, gets, "rows() downloads no whole object");
      const loaded = await npy.load();
      assert.deepEqual([...loaded.data as Float32Array], [0.5, -1, 2, 3.25, 4, 5]);
      assert.deepEqual([...(await (r2.arr as NpyRef).load()).data as BigInt64Array], [0n, 1n, 2n]);
      assert.equal(new TextDecoder().decode(await folder.read("sub/b.csv")), "x,y\n1,2\n");
      assert.deepEqual(await folder.list(), ["a.txt", "sub"]);
      await folder.verify();
      const copyDir = await Deno.makeTempDir({ prefix: "dj-copy-" });
      await folder.download(copyDir);
      assert.equal(await Deno.readTextFile(`${copyDir}/sub/b.csv`), "x,y\n1,2\n");
      const streamed = await new Response(await folder.open("a.txt")).text();
      assert.equal(streamed, "file a\n");
      await Deno.remove(copyDir, { recursive: true });
      const bytesRef = r2.folder as ObjectRef;
      assert.equal(new TextDecoder().decode(await bytesRef.read()), "just bytes");
      assert.deepEqual(r1.raw_hash, hashBytes);
      const attached = r1.store_attach as string;
      assert.equal(attached, `${download}/notes.txt`);
      assert.equal(await Deno.readTextFile(attached), "hello attachment\n");
      assert.equal(r1.inline_attach, attached, "identical content reuses the downloaded file");
      const rawRef = r1.raw_file as ObjectRef;
      assert.equal(new TextDecoder().decode(await rawRef.read()), "raw acquisition bytes");

      // Nothing is orphaned.
      const gc = await collectGarbage(c, { schemas: [f.schemaName], minAge: 0 });
      assert.deepEqual(gc.orphanedHashPaths, []);
      assert.deepEqual(gc.orphanedSchemaPaths, []);
      assert.equal(gc.hashPathsStored, 4);
    } finally {
      await f.drop();
      await Deno.remove(local.dir, { recursive: true });
      await Deno.remove(download, { recursive: true });
    }
  },
);

await onEveryBackendAndStore(
  "a failed insert removes its schema-addressed objects and leaves shared ones to GC",
  async (c) => {
    const f = await declareFixture(c);
    const local = await localFixtures();
    try {
      const rawStore = await c.stores.backend("raw");
      await rawStore.put("acq/x.bin", new Uint8Array([1, 2, 3]));
      const row = (id: number, blob: unknown) => ({
        rec_id: id,
        inline_blob: 1,
        store_blob: blob,
        inline_attach: local.file,
        store_attach: local.file,
        arr: NDArray.from(new Float64Array([1, 2]), [2]),
        folder: local.folder,
        raw_hash: new Uint8Array([9, 9, 9]),
        raw_file: "acq/x.bin",
      });
      await f.table.insert1(row(1, "first"));
      const schemaBefore = await storePaths(c, `_schema/${f.schemaName}/`);
      const hashBefore = await storePaths(c, `_hash/${f.schemaName}/`);

      // The same key again: the database refuses after the objects were written.
      await assert.rejects(
        () => f.table.insert1(row(1, "a new value")),
        (e: unknown) => e instanceof DuplicateError && /skipDuplicates/.test(e.message),
      );
      assert.deepEqual(await storePaths(c, `_schema/${f.schemaName}/`), schemaBefore);
      const hashAfter = await storePaths(c, `_hash/${f.schemaName}/`);
      const newHash = hashAfter.filter((p) => !hashBefore.includes(p));
      assert.equal(newHash.length, 1, "the new blob's object is kept for GC");
      const report = await collectGarbage(c, { schemas: [f.schemaName], minAge: 0 });
      assert.deepEqual(report.orphanedHashPaths, newHash);
      assert.deepEqual(report.orphanedSchemaPaths, []);

      // A bad value in the second row of a batch: nothing of the batch stays.
      await assert.rejects(
        () => f.table.insert([row(2, "two"), { ...row(3, "three"), arr: "not an array" }]),
        (e: unknown) =>
          e instanceof CodecError && /rec_id":3/.test(e.message) && /arr/.test(e.message),
      );
      assert.equal(await f.table.count(), 1);
      assert.deepEqual(await storePaths(c, `_schema/${f.schemaName}/`), schemaBefore);

      // GC deletes exactly the orphans; the row still reads.
      const gc = await collectGarbage(c, { schemas: [f.schemaName], dryRun: false, minAge: 0 });
      assert.deepEqual(gc.deleted.sort(), [...gc.orphanedHashPaths].sort());
      assert.ok(gc.deleted.length >= 1);
      assert.equal(
        await f.table.restrict({ rec_id: 1 }).fetch1("store_blob"),
        "first",
      );
    } finally {
      await f.drop();
      await Deno.remove(local.dir, { recursive: true });
    }
  },
);

await onEveryBackendAndStore(
  "corrupted and missing objects are errors that name table, key and attribute",
  async (c) => {
    const f = await declareFixture(c);
    const local = await localFixtures();
    try {
      await (await c.stores.backend("raw")).put("acq/y.bin", new Uint8Array([1, 2, 3, 4]));
      await f.table.insert1({
        rec_id: 5,
        inline_blob: 1,
        store_blob: "intact",
        inline_attach: local.file,
        store_attach: local.file,
        arr: NDArray.from(new Float64Array([1, 2, 3]), [3]),
        folder: local.file,
        raw_hash: new Uint8Array([1]),
        raw_file: "acq/y.bin",
      });
      const main = await c.stores.backend("main");
      const meta = await rawColumn(c, f, "store_blob", 5) as { path: string };
      // Same length, different bytes: only the hash can tell.
      const good = await main.get(meta.path);
      const bad = good.slice();
      bad[bad.length - 1] ^= 0xff;
      await main.remove(meta.path);
      await main.put(meta.path, bad);
      await assert.rejects(
        () => f.table.restrict({ rec_id: 5 }).fetch1("store_blob"),
        (e: unknown) =>
          e instanceof CorruptObjectError && /rec/.test(e.message) &&
          /"rec_id":5/.test(e.message) &&
          /store_blob/.test(e.message) && /Hash mismatch/.test(e.message),
      );
      await main.remove(meta.path);
      await assert.rejects(
        () => f.table.restrict({ rec_id: 5 }).fetch1("store_blob"),
        (e: unknown) => e instanceof MissingExternalFile && /store_blob/.test(e.message),
      );
      // A user-managed file that changed size after insert.
      await (await c.stores.backend("raw")).remove("acq/y.bin");
      await (await c.stores.backend("raw")).put("acq/y.bin", new Uint8Array([1]));
      await assert.rejects(
        () => f.table.restrict({ rec_id: 5 }).fetch1("raw_file"),
        (e: unknown) => e instanceof CorruptObjectError && /raw_file/.test(e.message),
      );
      // A lazy reference finds out on read.
      const npy = await f.table.restrict({ rec_id: 5 }).fetch1("arr") as NpyRef;
      await main.remove(npy.path);
      await assert.rejects(() => npy.load(), MissingExternalFile);
      const obj = await f.table.restrict({ rec_id: 5 }).fetch1("folder") as ObjectRef;
      await main.remove(obj.path);
      await main.put(obj.path, new Uint8Array(3));
      await assert.rejects(() => obj.read(), CorruptObjectError);
    } finally {
      await f.drop();
      await Deno.remove(local.dir, { recursive: true });
    }
  },
);
