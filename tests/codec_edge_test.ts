/**
 * Edge cases of the store-backed codecs and their lazy references, found in review against
 * DataJoint Python's behaviour (reference `codecs-blob-stores.md` §2–§4): metadata variants the
 * reference leaves in databases, missing objects, and paths that must never leave their folder.
 * Codecs are called directly on real file stores; garbage-collection cases run on every backend.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import "../codecs/builtins.ts";
import { filepathCodec } from "../codecs/filepath_codec.ts";
import type { ObjectRef } from "../codecs/object_ref.ts";
import type { DecodeContext } from "../codecs/registry.ts";
import { NDArray } from "../codecs/blob/ndarray.ts";
import type { NpyRef } from "../codecs/npy_ref.ts";
import type { Connection } from "../lib/connection.ts";
import { MissingExternalFile } from "../lib/errors.ts";
import { collectGarbage } from "../lib/gc.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Manual } from "../lib/table.ts";
import type { StoreEntry } from "../stores/backend.ts";
import { Stores } from "../stores/open.ts";
import { onEveryBackend } from "./_connections.ts";
import { scratchName } from "./_servers.ts";
import { onEveryBackendAndStore } from "./_stores.ts";

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
      const report = await collectGarbage(c, { schemas: [f.table.schemaName], dryRun: false });
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
      const dry = await collectGarbage(c, { schemas: [schema] });
      assert.deepEqual(dry.orphanedHashPaths, []);
      assert.deepEqual(dry.orphanedSchemaPaths, [stray]);
      assert.equal(dry.hashPathsStored, 1);
      const wet = await collectGarbage(c, { schemas: [schema], dryRun: false });
      assert.deepEqual(wet.deleted, [stray]);
      assert.equal(await f.table.restrict({ id: 1 }).fetch1("blob"), "value 1");
    } finally {
      await f.drop();
      await Deno.remove(root, { recursive: true });
    }
  },
  { last: true },
);
