/**
 * Edge cases of the store-backed codecs and their lazy references, found in review against
 * DataJoint Python's behaviour (reference `codecs-blob-stores.md` §2–§4): metadata variants the
 * reference leaves in databases, missing objects, and paths that must never leave their folder.
 * Codecs are called directly on real file stores; garbage-collection cases run on every backend.
 *
 * @module
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import assert from "node:assert/strict";
import { join } from "node:path";
import "../codecs/builtins.ts";
import { saveAttachment } from "../codecs/attach_codec.ts";
import { filepathCodec } from "../codecs/filepath_codec.ts";
import { objectCodec } from "../codecs/object_codec.ts";
import type { ObjectRef } from "../codecs/object_ref.ts";
import type { DecodeContext } from "../codecs/registry.ts";
import { NDArray } from "../codecs/blob/ndarray.ts";
import type { NpyRef } from "../codecs/npy_ref.ts";
import type { Connection } from "../lib/connection.ts";
import { CodecError, DataJointError, MissingExternalFile } from "../lib/errors.ts";
import { collectGarbage } from "../lib/gc.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Manual } from "../lib/table.ts";
import type { StoreEntry } from "../stores/backend.ts";
import { Stores } from "../stores/open.ts";
import { onEveryBackend } from "./_connections.ts";
import { scratchName, serverTest } from "./_servers.ts";
import { onEveryBackendAndStore, s3Client, scratchStores } from "./_stores.ts";

/** Stores `main` (the default) and `raw` (filepath_default) in fresh temp folders. */
async function twoStores(): Promise<{ root: string; stores: Stores; dispose(): Promise<void> }> {
  const root = await Deno.makeTempDir({ prefix: "dj-codec-edge-" });
  await Deno.mkdir(join(root, "main"));
  await Deno.mkdir(join(root, "raw"));
  const stores = new Stores({
    default: "main",
    filepath_default: "raw",
    main: { protocol: "file", location: join(root, "main") },
    raw: { protocol: "file", location: join(root, "raw") },
  });
  return {
    root,
    stores,
    dispose: async () => {
      await stores.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

Deno.test('<filepath@>: a row whose store is null or "" reads from filepath_default (reference bug #36 not copied)', async () => {
  const s = await twoStores();
  try {
    await Deno.mkdir(join(s.root, "raw", "acq"));
    await Deno.writeFile(join(s.root, "raw", "acq", "x.bin"), new Uint8Array([1, 2, 3]));
    const ctx: DecodeContext = { key: {}, stores: s.stores };
    for (const store of [null, ""]) {
      const meta = { path: "acq/x.bin", store, size: 3, is_dir: false, timestamp: null };
      const ref = await filepathCodec.decode(meta as never, ctx) as unknown as ObjectRef;
      assert.deepEqual(await ref.read(), new Uint8Array([1, 2, 3]), `store ${store}`);
    }
    // A named store is still read from that store: the file is not in main.
    await assert.rejects(
      async () =>
        await filepathCodec.decode({ path: "acq/x.bin", store: "main", size: 3 } as never, ctx),
      MissingExternalFile,
    );
  } finally {
    await s.dispose();
  }
});

Deno.test("<attach>: attachments of one name decoded at once each get their own file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dj-codec-edge-dl-" });
  try {
    const enc = new TextEncoder();
    const contents = ["first", "second", "third", "first"].map((t) => enc.encode(t));
    const paths = await Promise.all(contents.map((c) => saveAttachment(dir, "notes.txt", c)));
    for (const [i, p] of paths.entries()) {
      assert.deepEqual(await Deno.readFile(p), contents[i], p);
    }
    assert.equal(new Set(paths).size, 3, "identical content shares a file");
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["notes.txt", "notes_1.txt", "notes_2.txt"]);

    // A folder in the way is a name taken by something else.
    await Deno.mkdir(join(dir, "data.bin"));
    const p = await saveAttachment(dir, "data.bin", enc.encode("x"));
    assert.equal(p, join(dir, "data_1.bin"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Stores a local folder as `<object@main>` and returns its reference. */
async function storedFolder(
  stores: Stores,
  files: Record<string, string>,
): Promise<{ ref: ObjectRef; local: string }> {
  const local = await Deno.makeTempDir({ prefix: "dj-codec-edge-src-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(join(local, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(local, name), text);
  }
  const key = { _schema: "lab", _table: "rec", _field: "folder", id: 1 };
  const meta = await objectCodec.encode(local, { key, storeName: "main", stores });
  const ref = await objectCodec.decode(meta, { key: {}, stores }) as unknown as ObjectRef;
  return { ref, local };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("<object@> folder: a missing or incomplete folder is an error, an empty one is not", async () => {
  const s = await twoStores();
  try {
    const main = await s.stores.backend("main");
    const { ref, local } = await storedFolder(s.stores, { "a.txt": "aa", "sub/b.txt": "bbb" });
    // One file of the manifest gone: download names it and writes nothing.
    await main.remove(`${ref.path}/sub/b.txt`);
    const dest = join(s.root, "out");
    await assert.rejects(
      () => ref.download(dest),
      (e: unknown) => e instanceof MissingExternalFile && e.message.includes("sub/b.txt"),
    );
    assert.equal(await exists(dest), false);
    // Every file gone: walking, listing and downloading say so instead of finding nothing.
    await main.remove(`${ref.path}/a.txt`);
    await assert.rejects(async () => {
      for await (const _ of ref.walk()) { /* nothing */ }
    }, MissingExternalFile);
    await assert.rejects(() => ref.list(), MissingExternalFile);
    await assert.rejects(() => ref.download(dest), MissingExternalFile);
    await Deno.remove(local, { recursive: true });

    // An empty folder is stored as one: it walks as empty and downloads as an empty folder.
    const empty = await storedFolder(s.stores, {});
    assert.equal(empty.ref.itemCount, 0);
    assert.deepEqual(await empty.ref.list(), []);
    assert.equal(await empty.ref.download(dest), dest);
    assert.deepEqual([...Deno.readDirSync(dest)], []);
    await Deno.remove(empty.local, { recursive: true });
  } finally {
    await s.dispose();
  }
});

await serverTest(
  "s3",
  '<object@> folder on S3: a key with ".." never makes download write outside its folder',
  async () => {
    const scratch = await scratchStores("s3");
    const stores = new Stores(scratch.config);
    const out = await Deno.makeTempDir({ prefix: "dj-codec-edge-out-" });
    try {
      const { ref, local } = await storedFolder(stores, { "a.txt": "aa" });
      await Deno.remove(local, { recursive: true });
      // S3 keys are free-form: a bucket may hold one that climbs out of the folder.
      const client = s3Client();
      await client.send(
        new PutObjectCommand({
          Bucket: scratch.where,
          Key: `dj/${ref.path}/../escaped/x.txt`,
          Body: new Uint8Array([1]),
        }),
      );
      client.destroy();
      const dest = join(out, "a", "dest");
      await assert.rejects(() => ref.download(dest), CodecError);
      assert.equal(await exists(join(out, "a", "escaped")), false);
      assert.equal(await exists(dest), false);
    } finally {
      await stores.close();
      await scratch.dispose();
      await Deno.remove(out, { recursive: true });
    }
  },
);

Deno.test("<object@> stored-metadata input: a path that could not be read back is refused", async () => {
  const s = await twoStores();
  try {
    const ctx = {
      key: { _schema: "lab", _table: "rec", _field: "f" },
      storeName: "main",
      stores: s.stores,
    };
    for (const path of ["../../etc/passwd", "/etc/passwd", "_schema/lab//x", "a/./b"]) {
      await assert.rejects(
        async () => await objectCodec.encode({ path, store: "main", size: 1 }, ctx),
        (e: unknown) => e instanceof DataJointError && e.message.includes("Invalid store path"),
        path,
      );
    }
    const meta = { path: "_schema/lab/rec/f_AAAAAAAA.bin", store: "main", size: 1 };
    assert.equal(await objectCodec.encode(meta, ctx), meta, "a clean path passes unchanged");
  } finally {
    await s.dispose();
  }
});

/** A scratch schema with one table holding a stored blob and a stored array. */
async function gcFixture(c: Connection): Promise<{ table: typeof Manual; drop(): Promise<void> }> {
  const lab = makeSchema(scratchName("dj_gc_edge_"), { connection: c });
  @lab
  class Obj extends Manual {
    static override definition = `
      id : int32
      ---
      blob : <blob@>
      arr : <npy@>
    `;
  }
  await Obj.declare();
  return { table: Obj, drop: () => lab.drop({ cascade: true }) };
}

const row = (id: number) => ({
  id,
  blob: `value ${id}`,
  arr: NDArray.from(new Float64Array([id, id + 1]), [2]),
});

await onEveryBackendAndStore(
  "gc: a row inserted while the collector runs keeps its objects",
  async (c) => {
    const f = await gcFixture(c);
    try {
      await f.table.insert1(row(1));
      // Another writer inserts a row the moment the collector starts looking at the store.
      const store = await c.stores.backend(null);
      const list = store.list.bind(store);
      let raced = false;
      (store as { list: (prefix: string) => AsyncIterable<StoreEntry> }).list = async function* (
        prefix: string,
      ) {
        if (!raced) {
          raced = true;
          await f.table.insert1(row(2));
        }
        yield* list(prefix);
      };
      const report = await collectGarbage(c, {
        schemas: [f.table.schemaName],
        dryRun: false,
        minAge: 0,
      });
      assert.ok(raced);
      assert.deepEqual(report.deleted, []);
      assert.deepEqual(report.errors, []);
      const back = await f.table.restrict({ id: 2 }).toDicts();
      assert.equal(back[0].blob, "value 2");
      assert.deepEqual([...(await (back[0].arr as NpyRef).load()).data], [2, 3]);
    } finally {
      await f.drop();
    }
  },
);

await onEveryBackend(
  "gc: with empty hash and schema prefixes, referenced hash objects stay",
  async (c) => {
    const root = await Deno.makeTempDir({ prefix: "dj-gc-edge-" });
    await c.configureStores({
      default: "main",
      main: { protocol: "file", location: root, hash_prefix: "", schema_prefix: "" },
    });
    const f = await gcFixture(c);
    try {
      await f.table.insert1(row(1));
      const schema = f.table.schemaName;
      const stray = `${schema}/obj/id=9/arr_AAAAAAAA.npy`;
      await Deno.mkdir(join(root, schema, "obj", "id=9"), { recursive: true });
      await Deno.writeFile(join(root, stray), new Uint8Array(7));
      const dry = await collectGarbage(c, { schemas: [schema], minAge: 0 });
      assert.deepEqual(dry.orphanedHashPaths, []);
      assert.deepEqual(dry.orphanedSchemaPaths, [stray]);
      assert.equal(dry.hashPathsStored, 1);
      const wet = await collectGarbage(c, { schemas: [schema], dryRun: false, minAge: 0 });
      assert.deepEqual(wet.deleted, [stray]);
      assert.equal(await f.table.restrict({ id: 1 }).fetch1("blob"), "value 1");
    } finally {
      await f.drop();
      await Deno.remove(root, { recursive: true });
    }
  },
  { last: true },
);
