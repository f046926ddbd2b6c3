/**
 * Garbage collection's grace period: unreferenced objects written or reused within `minAge` are
 * kept, because an insert that wrote (or found and reused) them may not have committed its row
 * yet; a write-once put that finds its object renews the object's time, on the file store and
 * on S3.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import "../codecs/builtins.ts";
import { NDArray } from "../codecs/blob/ndarray.ts";
import type { Connection } from "../lib/connection.ts";
import { DataJointError } from "../lib/errors.ts";
import { collectGarbage, GC_MIN_AGE_DEFAULT } from "../lib/gc.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Manual } from "../lib/table.ts";
import type { StoreBackend } from "../stores/backend.ts";
import { Stores } from "../stores/open.ts";
import { openTestConnection } from "./_connections.ts";
import { scratchName, serverTest } from "./_servers.ts";
import { onEveryBackendAndStore, scratchStores, type StoreKind } from "./_stores.ts";

async function fixture(c: Connection) {
  const lab = makeSchema(scratchName("dj_gc_grace_"), { connection: c });
  @lab
  class Obj extends Manual {
    static override definition = "id : int32\n---\nblob : <blob@>\narr : <npy@>";
  }
  await lab.declare();
  return { Obj, schema: Obj.schemaName, drop: () => lab.drop({ cascade: true }) };
}

const row = (id: number, content = id) => ({
  id,
  blob: `value ${content}`,
  arr: NDArray.from(new Float64Array([id, id + 1]), [2]),
});

await onEveryBackendAndStore(
  "gc: unreferenced objects younger than minAge are kept; minAge 0 collects them",
  async (c) => {
    const f = await fixture(c);
    try {
      await f.Obj.insert1(row(1));
      await f.Obj.deleteQuick();
      const kept = await collectGarbage(c, { schemas: [f.schema], dryRun: false });
      assert.equal(kept.minAge, GC_MIN_AGE_DEFAULT);
      assert.deepEqual(kept.deleted, []);
      assert.deepEqual([...kept.orphanedHashPaths, ...kept.orphanedSchemaPaths], []);
      // The blob's hash object and the .npy file (the folder's manifest is not written for files).
      assert.equal(kept.recentUnreferenced.length, 2, kept.recentUnreferenced.join(", "));
      assert.ok(kept.recentUnreferenced.some((p) => p.startsWith(`_hash/${f.schema}/`)));

      const all = await collectGarbage(c, { schemas: [f.schema], dryRun: false, minAge: 0 });
      assert.deepEqual(all.recentUnreferenced, []);
      assert.deepEqual(all.deleted.sort(), kept.recentUnreferenced.sort());
      for (const minAge of [-1, Number.NaN, Infinity]) {
        await assert.rejects(
          collectGarbage(c, { schemas: [f.schema], minAge }),
          (e: Error) => e instanceof DataJointError && /minAge must be a number/.test(e.message),
        );
      }
    } finally {
      await f.drop();
    }
  },
);

// An insert that reuses an old unreferenced object and has not committed yet, while the collector
// reads the rows: the reuse renewed the object's time, so the collector keeps it. Two connections,
// so the servers only.
for (const backend of ["mysql", "postgres"] as const) {
  await serverTest(
    backend,
    `${backend}+file: gc keeps an old object that an uncommitted insert has just reused`,
    async () => {
      const stores = await scratchStores("file");
      const c = await openTestConnection(backend);
      const writer = await openTestConnection(backend);
      try {
        await c.configureStores(stores.config);
        await writer.configureStores(stores.config);
        const f = await fixture(c);
        try {
          await f.Obj.insert1(row(1, 7));
          const hashDir = join(stores.where, "_hash", f.schema);
          const [name] = [...Deno.readDirSync(hashDir)].map((e) => e.name);
          const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
          await Deno.utime(join(hashDir, name), twoDaysAgo, twoDaysAgo);
          await f.Obj.deleteQuick();
          // The writer's table class, on its own connection.
          const lab = makeSchema(f.schema, { connection: writer });
          @lab
          class Obj extends Manual {
            static override definition = "id : int32\n---\nblob : <blob@>\narr : <npy@>";
          }
          await writer.startTransaction();
          await Obj.insert1(row(2, 7));
          const report = await collectGarbage(c, { schemas: [f.schema], dryRun: false });
          await writer.commitTransaction();
          assert.deepEqual(report.deleted, []);
          assert.ok(report.recentUnreferenced.includes(`_hash/${f.schema}/${name}`));
          assert.equal(await f.Obj.restrict({ id: 2 }).fetch1("blob"), "value 7");
        } finally {
          if (writer.inTransaction) await writer.cancelTransaction();
          await f.drop();
        }
      } finally {
        await writer.close();
        await c.close();
        await stores.dispose();
      }
    },
  );
}

/** A write-once put of an existing object renews its time and counts a renewal. */
async function renews(store: StoreBackend, wait: number): Promise<void> {
  const bytes = new Uint8Array([1, 2, 3]);
  assert.deepEqual(await store.put("grace/a.bin", bytes, { ifAbsent: true }), { written: true });
  const first = (await store.stat("grace/a.bin"))!.modified!;
  await new Promise((r) => setTimeout(r, wait));
  const renewals = store.counters.renewals;
  assert.deepEqual(await store.put("grace/a.bin", bytes, { ifAbsent: true }), {
    written: false,
  });
  const content = await store.putContent(bytes, {
    onChunk: () => {},
    pathOf: () => "grace/a.bin",
    ifAbsent: true,
  });
  assert.equal(content.written, false);
  assert.equal(store.counters.renewals, renewals + 2);
  const second = (await store.stat("grace/a.bin"))!.modified!;
  assert.ok(second > first, `${second.toISOString()} after ${first.toISOString()}`);
  const listed = [];
  for await (const e of store.list("grace")) listed.push(e);
  assert.equal(listed.length, 1);
  assert.equal(listed[0].modified.getTime(), second.getTime());
  assert.deepEqual(await store.get("grace/a.bin"), bytes);
}

async function withStore(
  kind: StoreKind,
  fn: (store: StoreBackend) => Promise<void>,
  options?: ConstructorParameters<typeof Stores>[1],
) {
  const scratch = await scratchStores(kind);
  const stores = new Stores(scratch.config as ConstructorParameters<typeof Stores>[0], options);
  try {
    await fn(await stores.backend(null));
  } finally {
    await stores.close();
    await scratch.dispose();
  }
}

Deno.test("file store: a write-once put that finds its object renews the object's time", () =>
  withStore("file", (store) => renews(store, 20)));

await serverTest(
  "s3",
  "s3: a write-once put that finds its object renews the object's time",
  // S3 keeps whole seconds; renewAfter 0 renews whatever the object's age.
  () => withStore("s3", (store) => renews(store, 1100), { s3: { renewAfter: 0 } }),
);

await serverTest(
  "s3",
  "s3: an object written or renewed within renewAfter is not copied again",
  () =>
    withStore("s3", async (store) => {
      const bytes = new Uint8Array([4, 5]);
      await store.put("grace/b.bin", bytes, { ifAbsent: true });
      const first = (await store.stat("grace/b.bin"))!.modified!;
      await new Promise((r) => setTimeout(r, 1100));
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await store.put("grace/b.bin", bytes, { ifAbsent: true }), {
          written: false,
        });
      }
      assert.equal(store.counters.renewals, 0);
      assert.equal((await store.stat("grace/b.bin"))!.modified!.getTime(), first.getTime());
    }),
);
