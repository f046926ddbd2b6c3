/**
 * Rows and store objects written by DataJoint Python 2.3 (`golden/ddl`): loaded into MariaDB,
 * PostgreSQL and PGlite with a copy of the store folders the reference wrote, opened with
 * `virtualSchema`, and fetched and decoded here, for every codec. Then our writes next to theirs:
 * the same inputs give the same hash-addressed paths and metadata, default-store columns (which
 * Python could not write, reference bug #1) get the resolved store names, and garbage collection
 * keeps every object either implementation references while deleting true orphans.
 *
 * @module
 */
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { NDArray } from "../codecs/blob/ndarray.ts";
import type { NpyRef } from "../codecs/npy_ref.ts";
import type { ObjectRef } from "../codecs/object_ref.ts";
import type { Connection } from "../lib/connection.ts";
import { collectGarbage } from "../lib/gc.ts";
import { virtualSchema } from "../lib/schema.ts";
import type { Manual } from "../lib/table.ts";
import { onEveryBackend } from "./_connections.ts";
import { GOLDEN_ROOT } from "./_golden.ts";
import { GOLDEN_DDL, GOLDEN_SCHEMA, loadGoldenSql } from "./_golden_sql.ts";
import { scratchName } from "./_servers.ts";

const STORE_METADATA = new URL("ddl/store-metadata.json", GOLDEN_ROOT);
const ignore = GOLDEN_DDL.mysqlData.ignore || GOLDEN_DDL.postgresqlData.ignore;

interface Golden {
  schema: string;
  dir: string;
  tables: Record<string, typeof Manual>;
}

/** Loads the golden schema under a new name and points stores at a renamed copy of its files. */
async function loadGolden(c: Connection): Promise<Golden> {
  const schema = scratchName("dj_gold_");
  await loadGoldenSql(c.driver, schema, { data: true });
  const family = c.backend === "mysql" ? "mysql" : "postgresql";
  const dir = await Deno.makeTempDir({ prefix: "dj-golden-store-" });
  await cp(new URL(`ddl/store/${family}/`, GOLDEN_ROOT).pathname, dir, { recursive: true });
  for (const section of ["_hash", "_schema"]) {
    await Deno.rename(
      `${dir}/main/${section}/${GOLDEN_SCHEMA}`,
      `${dir}/main/${section}/${schema}`,
    );
  }
  await c.configureStores({
    default: "main",
    filepath_default: "raw",
    main: { protocol: "file", location: `${dir}/main` },
    raw: { protocol: "file", location: `${dir}/raw` },
  });
  const vs = await virtualSchema(schema, { connection: c });
  return { schema, dir, tables: vs.tables as unknown as Record<string, typeof Manual> };
}

async function dropGolden(c: Connection, g: Golden): Promise<void> {
  await c.execute(c.kit.dialect.dropSchema(g.schema));
  await Deno.remove(g.dir, { recursive: true });
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

await onEveryBackend(
  "golden rows and objects written by DataJoint Python fetch and decode",
  async (c) => {
    if (ignore) return;
    const g = await loadGolden(c);
    const download = await Deno.makeTempDir({ prefix: "dj-download-" });
    (c.config as { downloadPath: string }).downloadPath = download;
    try {
      const { Recording, Analysis, Subject, Session } = g.tables;
      const [r1, r2] = await Recording.toDicts({ orderBy: "subject_id" });

      // <blob>: the dj0 dict of row 1 and the nested list of row 2.
      const b1 = r1.inline_blob as Record<string, unknown>;
      assert.deepEqual([...(b1.a as NDArray).data as Int32Array], [0, 1, 2, 3, 4]);
      assert.equal((b1.a as NDArray).dtype, "int32");
      assert.equal(b1.c, "text");
      assert.equal(String(b1.t), "2020-01-01T12:00:00");
      assert.equal(String(b1.u), "12345678-1234-5678-1234-567812345678");
      assert.deepEqual(r2.inline_blob, [[1n, 2n], [3n, 4n]], "Python ints are bigints");
      // <blob@main>: hash-addressed, verified; float64 arange(12).reshape(3, 4).
      const sb = r1.store_blob as NDArray;
      assert.deepEqual(sb.shape, [3, 4]);
      assert.deepEqual([...sb.data as Float64Array], Array.from({ length: 12 }, (_, i) => i));
      const sb2 = r2.store_blob as { nested: { list: unknown; arr: NDArray }; s: string };
      assert.equal(sb2.s, "στρινγ");
      assert.deepEqual([...sb2.nested.arr.data as Float64Array], [1, 0, 0, 1]);
      // <attach> and <attach@main>: written to the download folder under their names.
      assert.equal(await Deno.readTextFile(r1.inline_attach as string), "hello attachment\n");
      const big = await Deno.readFile(r1.store_attach as string);
      assert.equal(big.length, 1024);
      assert.ok(big.every((b, i) => b === i % 256));
      assert.match(r1.store_attach as string, /big\.bin$/);
      // <npy@main>: shape and dtype from metadata, data from NumPy's file.
      const arr = r1.array as NpyRef;
      assert.deepEqual([...arr.shape], [4, 3]);
      assert.equal(arr.dtype, "float32");
      const loaded = await arr.load();
      const f32 = loaded.data as Float32Array;
      assert.deepEqual([...f32.slice(0, 3)].map((x) => Math.round(x * 1e7) / 1e7), [
        0.1257302,
        -0.1321049,
        0.6404226,
      ]);
      assert.ok(Math.abs(mean(f32) - 0.022070780396461487) < 1e-7);
      assert.deepEqual([...(await (r2.array as NpyRef).load()).data as BigInt64Array], [
        0n,
        1n,
        2n,
        3n,
        4n,
        5n,
      ]);
      // <object@main>: a folder with its manifest, and a single file.
      const folder = r1.folder as ObjectRef;
      assert.equal(folder.isDir, true);
      assert.equal(folder.itemCount, 2);
      await folder.verify();
      assert.equal(text(await folder.read("a.txt")), "file a\n");
      assert.equal(text(await folder.read("sub/b.csv")), "x,y\n1,2\n");
      const file = r2.folder as ObjectRef;
      assert.equal(file.ext, ".bin");
      assert.equal((await file.read()).length, 1024);
      // <hash@main> (deduplicated) and <filepath@raw>.
      assert.equal(text(r1.raw_hash as Uint8Array), "raw bytes for <hash@>");
      assert.deepEqual(r1.raw_hash, r2.raw_hash);
      const raw = await (r1.raw_file as ObjectRef).read();
      assert.deepEqual([...raw.slice(0, 3)], [0, 1, 2]);
      assert.equal(text(raw.slice(3)), "raw acquisition bytes");

      // A computed table with <blob> and <blob@main> dicts.
      const [a1, a2] = await Analysis.toDicts({ orderBy: "subject_id" });
      assert.equal(a1.mean_value, 0.022070780396461487);
      assert.equal(a1.n_keys, 5);
      const summary = a1.summary as { mean: number; shape: unknown; key: Record<string, unknown> };
      assert.equal(summary.mean, 0.022070780396461487);
      assert.deepEqual(a1.stored_summary, a1.summary);
      assert.equal((a2.summary as { mean: number }).mean, 2.5);

      // Core types come back as documented.
      const [s1, s2] = await Subject.toDicts({ orderBy: "subject_id" });
      assert.equal(s1.weight, "23.45");
      assert.equal(s2.weight, "310.10");
      assert.equal(s1.is_active, true);
      assert.equal(s2.is_active, false);
      assert.equal(s1.rank64, 1099511627777n);
      assert.equal(s2.rank64, -1099511627776n);
      assert.equal(s1.dob, "2024-01-02 03:04:05");
      assert.equal(s1.birth_date, "2024-01-02");
      assert.equal(s2.birth_date, null);
      assert.equal(s1.code, "M001");
      assert.equal(s1.sex, "M");
      assert.equal(s1.temp32, 36.6);
      assert.equal(s2.temp32, null);
      const session = await Session.restrict({ subject_id: 1, session_idx: 1 }).fetch1() as Record<
        string,
        unknown
      >;
      assert.deepEqual(session.params, {
        rate: 30000,
        channels: [1, 2, 3],
        nested: { a: null, b: true },
      });
      assert.deepEqual([...session.raw_bytes as Uint8Array], [0, 255, 0x72, 0x61, 0x77]);
    } finally {
      await dropGolden(c, g);
      await Deno.remove(download, { recursive: true });
    }
  },
);

await onEveryBackend(
  "our writes beside Python's: same hashes, resolved default stores, safe GC",
  async (c) => {
    if (ignore) return;
    const g = await loadGolden(c);
    const meta = JSON.parse(await Deno.readTextFile(STORE_METADATA));
    const local = await Deno.makeTempDir({ prefix: "dj-local-" });
    (c.config as { downloadPath: string }).downloadPath = local;
    try {
      const { Session, Recording, BareAt } = g.tables;
      await Session.insert1({
        subject_id: 1,
        session_idx: 2,
        label: "ours",
        score: null,
        params: { written: "by deno" },
        raw_bytes: new Uint8Array([1]),
      });
      const bigBin = `${local}/big.bin`;
      await Deno.writeFile(bigBin, Uint8Array.from({ length: 1024 }, (_, i) => i % 256));
      await Deno.writeTextFile(`${local}/notes.txt`, "hello attachment\n");
      await Recording.insert1({
        subject_id: 1,
        session_idx: 2,
        inline_blob: 1,
        store_blob: NDArray.from(Float64Array.from({ length: 12 }, (_, i) => i), [3, 4]),
        inline_attach: `${local}/notes.txt`,
        store_attach: bigBin,
        array: NDArray.from(new Float32Array([1, 2, 3]), [3]),
        folder: bigBin,
        raw_hash: new TextEncoder().encode("raw bytes for <hash@>"),
        raw_file: "acq/sess1/data.bin",
      });
      const q = c.kit.dialect.quote;
      const [ours] = await c.query(
        `SELECT ${q("store_blob")}, ${q("store_attach")}, ${q("raw_hash")}, ${q("folder")} FROM ${
          q(g.schema)
        }.${q("recording")} WHERE session_idx = 2`,
      );
      const expected = (codec: string) => {
        const m = meta.examples[codec].mysql.metadata;
        return { ...m, schema: g.schema, path: m.path.replace(GOLDEN_SCHEMA, g.schema) };
      };
      // Byte-identical blob encoding, hashing and paths: the very objects Python wrote.
      assert.deepEqual(ours.store_blob, expected("<blob@>"));
      assert.deepEqual(ours.store_attach, expected("<attach@>"));
      assert.deepEqual(ours.raw_hash, expected("<hash@>"));
      const folder = ours.folder as Record<string, unknown>;
      assert.equal(folder.ext, ".bin");
      assert.equal(folder.size, 1024);
      assert.match(
        folder.path as string,
        new RegExp(
          `^_schema/${g.schema}/recording/subject_id=1/session_idx=2/folder_[\\w-]{8}\\.bin$`,
        ),
      );

      // The default-store form, which DataJoint Python 2.3 cannot insert.
      await BareAt.insert1({
        row_id: 1,
        b: [1, 2, 3],
        a: bigBin,
        n: NDArray.from(new Int32Array([7]), [1]),
        o: new Uint8Array([1, 2]),
        h: new Uint8Array([3]),
        f: "acq/sess1/data.bin",
      });
      const [bare] = await c.query(`SELECT * FROM ${q(g.schema)}.${q("bare_at")}`);
      for (const column of ["b", "a", "n", "o", "h", "f"]) {
        const s = (bare[column] as { store?: unknown }).store;
        assert.equal(s, column === "f" ? "raw" : "main", `${column} names its resolved store`);
      }
      assert.deepEqual(bare.a, expected("<attach@>"), "same file, same object as Python's");
      const back = await BareAt.fetch1() as Record<string, unknown>;
      assert.deepEqual([...(await (back.n as NpyRef).load()).data as Int32Array], [7]);
      assert.deepEqual(back.h, new Uint8Array([3]));

      // GC: nothing referenced by either writer is an orphan; planted strays are, and only they go.
      const main = await c.stores.backend("main");
      const strayHash = `_hash/${g.schema}/aaaaaaaaaaaaaaaaaaaaaaaaaa`;
      const strayObject = `_schema/${g.schema}/recording/subject_id=9/session_idx=9/x_AAAAAAAA.bin`;
      await main.put(strayHash, new Uint8Array([1]));
      await main.put(strayObject, new Uint8Array([2, 2]));
      const dry = await collectGarbage(c, { schemas: [g.schema], minAge: 0 });
      assert.deepEqual(dry.orphanedHashPaths, [strayHash]);
      assert.deepEqual(dry.orphanedSchemaPaths, [strayObject]);
      assert.equal(dry.hashPathsOrphanedBytes, 1);
      const wet = await collectGarbage(c, { schemas: [g.schema], dryRun: false, minAge: 0 });
      assert.deepEqual(wet.deleted.sort(), [strayHash, strayObject].sort());
      assert.equal(await main.exists(strayHash), false);
      // Every row, Python's and ours, still decodes.
      for (const r of await Recording.toDicts()) {
        await (r.folder as ObjectRef).verify();
        await (r.array as NpyRef).load();
      }
    } finally {
      await dropGolden(c, g);
      await Deno.remove(local, { recursive: true });
    }
  },
);
