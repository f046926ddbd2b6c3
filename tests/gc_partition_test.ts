/**
 * Garbage collection of schema-addressed objects under partition folders (`partition_pattern`:
 * `_schema/{attr=value…}/{schema}/…`), which DataJoint Python's collector never lists: the
 * unreferenced ones of the scanned schemas go, everything else stays.
 *
 * @module
 */
import assert from "node:assert/strict";
import "../codecs/builtins.ts";
import { NDArray } from "../codecs/blob/ndarray.ts";
import type { NpyRef } from "../codecs/npy_ref.ts";
import type { Connection } from "../lib/connection.ts";
import { collectGarbage } from "../lib/gc.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Manual } from "../lib/table.ts";
import { scratchName } from "./_servers.ts";
import { onEveryBackendAndStore } from "./_stores.ts";

async function recordings(c: Connection) {
  const lab = makeSchema(scratchName("dj_gc_part_"), { connection: c });
  @lab
  class Recording extends Manual {
    static override definition = "subject : int32\nsession : int32\n---\ntrace : <npy@>";
  }
  await lab.declare();
  return { Recording, schema: Recording.schemaName, drop: () => lab.drop({ cascade: true }) };
}

const trace = (subject: number, session: number) => ({
  subject,
  session,
  trace: NDArray.from(new Float32Array([subject, session, 0.5]), [3]),
});

await onEveryBackendAndStore(
  "gc: objects under partition folders are collected, per scanned schema",
  async (c, _backend, stores) => {
    const main = (stores.config as { main: Record<string, unknown> }).main;
    await c.configureStores({
      ...stores.config,
      main: { ...main, partition_pattern: "{subject}" },
    });
    const a = await recordings(c);
    const b = await recordings(c);
    try {
      await a.Recording.insert([trace(1, 1), trace(2, 1)]);
      await b.Recording.insert([trace(1, 1)]);
      const path = async (q: typeof a.Recording, subject: number) =>
        (await q.restrict({ subject }).fetch1("trace") as NpyRef).path;
      const gone = await path(a.Recording, 1);
      assert.ok(gone.startsWith(`_schema/subject=1/${a.schema}/`), gone);
      const kept = [await path(a.Recording, 2), await path(b.Recording, 1)];

      // Everything referenced: nothing to collect.
      const clean = await collectGarbage(c, { schemas: [a.schema, b.schema], minAge: 0 });
      assert.deepEqual(clean.orphanedSchemaPaths, []);
      assert.equal(clean.schemaPathsStored, 3);

      await a.Recording.restrict({ subject: 1 }).deleteQuick();
      const report = await collectGarbage(c, { schemas: [a.schema], dryRun: false, minAge: 0 });
      assert.deepEqual(report.errors, []);
      assert.deepEqual(report.deleted, [gone]);
      const store = await c.stores.backend(null);
      assert.equal(await store.exists(gone), false);
      for (const p of kept) assert.equal(await store.exists(p), true, p);
      const left = await (await a.Recording.fetch1("trace") as NpyRef).load();
      assert.deepEqual([...(left.data as Float32Array)], [2, 1, 0.5]);
      // The other schema's object under the same partition folder was not scanned, nor touched.
      await b.Recording.deleteQuick();
      const other = await collectGarbage(c, { schemas: [a.schema], dryRun: false, minAge: 0 });
      assert.deepEqual(other.deleted, []);
      assert.equal(await store.exists(kept[1]), true);
    } finally {
      await a.drop();
      await b.drop();
    }
  },
);
