/**
 * Store-backed codecs end to end, each case against same-run baselines on the same store:
 *
 * - **100 MB through `<blob@>` and `<npy@>`** (a random, incompressible float64 `NDArray` of
 *   12.5 M elements), to the file store and to S3: each iteration inserts a new row (fresh key,
 *   fresh bytes, so `<blob@>`'s deduplication cannot skip the upload) and fetches it back whole
 *   (`fetch1`, plus `load()` for `<npy@>`). Baseline (`baseline: true`): the store's raw
 *   `put(path, bytes)` + `get(path)` of the same 100 MB; for scale, a memory copy of them. The
 *   target is 1.3× the baseline. Two more groups per store time the halves apart: `insert1`
 *   against the raw `put` ("write only") and `fetch1` against the raw `get` ("read only"; the
 *   row is inserted, untimed, in the same iteration).
 * - **100 MB codec steps in memory**: the CPU work of those paths alone (blob pack/unpack, the
 *   MD5 content hash, `.npy` encode/decode, and what a `<blob@>` insert and fetch do instead of
 *   a plain pack and unpack: pack into reused memory, unpack adopting the download),
 *   against the same memory copy, to see where the time over the raw store goes.
 * - **1,000 `<npy@>` rows, every `shape` read**: the fetch must download nothing; the store's
 *   request counters are checked (the bench throws on any get or ranged get) and printed.
 *   Baseline: the driver's raw `SELECT` of the same rows.
 * - **1,000 small `<blob@>` rows from S3**: `toDicts({ concurrency: 1 })` (baseline) against the
 *   default 8 and 16 downloads at once; for reference, the store's raw `get` of the same 1,000
 *   objects, 16 at a time.
 *
 * Rows go to PostgreSQL when a server answers (`DJ_PG_*`, default `127.0.0.1:5432`), else to
 * PGlite in memory; the run prints which. S3 cases need `DJ_S3_ENDPOINT`, `DJ_S3_ACCESS_KEY`,
 * `DJ_S3_SECRET_KEY` (a fresh bucket is made and deleted) and are skipped with a note without
 * them. Every 100 MB object is removed right after its iteration; the schema, bucket and temp
 * folder are removed at exit (and leftovers of a killed run at the next start).
 *
 * Run: `deno bench --allow-all bench/codec_bench.ts` (`--json` for machine-readable numbers; MB/s
 * is 100 MB divided by the time per iteration). Results are in README.md, "Performance".
 *
 * @module
 */
import { NDArray } from "../codecs/blob/ndarray.ts";
import { BLOB_ADOPT_OFFSET, pack, unpack } from "../codecs/blob/mod.ts";
import { ScratchPool } from "../codecs/blob/scratch.ts";
import { decodeNpy, encodeNpy } from "../codecs/npy_format.ts";
import type { NpyRef } from "../codecs/npy_ref.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Manual } from "../lib/table.ts";
import type { StoreBackend, StoreCounters } from "../stores/backend.ts";
import { computeHash } from "../stores/paths.ts";
import { mapPool } from "../stores/pool.ts";
import { scratchName } from "../tests/_servers.ts";
import {
  BENCH_PREFIX,
  benchStores,
  cleanupAtExit,
  dropLeftovers,
  openBenchDatabase,
  randomDoubles,
} from "./_setup.ts";

/** 12.5 M float64 elements: 100,000,000 bytes. */
const ELEMENTS = 12_500_000;
const BYTES = ELEMENTS * 8;
const ROWS = 1000;
/** Iterations of the 100 MB cases (each moves 200 MB through the store). */
const BIG = { file: { n: 10, warmup: 1 }, s3: { n: 5, warmup: 1 } };

const db = await openBenchDatabase();
const conn = db.conn;
await dropLeftovers(conn);
const stores = await benchStores();
await conn.configureStores(stores.config);
const kinds: ("fs" | "s3")[] = stores.s3 ? ["fs", "s3"] : ["fs"];
const schemaName = scratchName(BENCH_PREFIX);
cleanupAtExit({
  server: db.server,
  schemas: [schemaName],
  bucket: stores.bucket,
  dirs: [stores.root],
});
console.log(`rows: ${db.label}, schema ${schemaName}`);
console.log(
  stores.s3
    ? `stores: file ${stores.root}/fs; S3 ${stores.s3.endpoint}, bucket ${stores.bucket}`
    : `stores: file ${stores.root}/fs\nskip: S3 cases (${stores.s3Missing})`,
);

const lab = makeSchema(schemaName, { connection: conn });

/** A `Manual` table class of this schema. */
function table(name: string, definition: string): typeof Manual {
  const cls = class extends Manual {
    static override definition = definition;
  };
  Object.defineProperty(cls, "name", { value: name });
  lab(cls);
  return cls;
}

const big = Object.fromEntries(kinds.map((k) => [
  k,
  table(
    `Big${k === "fs" ? "File" : "S3"}`,
    `id : int32\n---\nblob_v = null : <blob@${k}>\nnpy_v = null : <npy@${k}>`,
  ),
])) as Record<string, typeof Manual>;
const shapes = Object.fromEntries(kinds.map((k) => [
  k,
  table(`Shapes${k === "fs" ? "File" : "S3"}`, `id : int32\n---\narr : <npy@${k}>`),
])) as Record<string, typeof Manual>;
const Small = stores.s3 ? table("SmallS3", "id : int32\n---\nv : <blob@s3>") : undefined;
await lab.declare();

// --- 100 MB ---------------------------------------------------------------------------------

const array = NDArray.from(randomDoubles(ELEMENTS, 42));
const data = array.data as Float64Array;
const bytes = new Uint8Array(data.buffer);
let nextId = 1;

/** A new key, and new content (so the content hash differs from every earlier iteration's). */
function fresh(): number {
  const id = nextId++;
  data[0] = id;
  return id;
}

function check(back: NDArray, id: number): void {
  const d = back.data as Float64Array;
  if (d.length !== ELEMENTS || d[0] !== id || d[ELEMENTS - 1] !== data[ELEMENTS - 1]) {
    throw new Error(`row ${id}: the fetched array differs from the inserted one`);
  }
}

/** Removes a row and the store object its `column` metadata points to. */
async function removeRow(
  cls: typeof Manual,
  store: StoreBackend,
  column: string,
  id: number,
): Promise<void> {
  const q = conn.kit.dialect.quote;
  const from = `${q(schemaName)}.${q(cls.tableName)}`;
  const where = `WHERE id = ${conn.placeholder(1)}`;
  const [row] = await conn.query(`SELECT ${q(column)} AS m FROM ${from} ${where}`, [id]);
  const meta = (typeof row.m === "string" ? JSON.parse(row.m) : row.m) as { path: string };
  await store.remove(meta.path);
  await conn.execute(`DELETE FROM ${from} ${where}`, [id]);
}

for (const k of kinds) {
  const store = await conn.stores.backend(k);
  const Big = big[k];
  const label = k === "fs" ? "file store" : "S3";
  const group = `100 MB, ${label}`;
  const iterations = k === "fs" ? BIG.file : BIG.s3;
  Deno.bench({
    name: `memory copy of 100 MB (scale)`,
    group,
    ...iterations,
    fn: () => void bytes.slice(),
  });
  Deno.bench({
    name: `${k}: raw store put + get of 100 MB (baseline)`,
    group,
    baseline: true,
    ...iterations,
    async fn(t) {
      const path = `bench/raw_${fresh()}.bin`;
      t.start();
      await store.put(path, bytes);
      const back = await store.get(path);
      t.end();
      if (back.length !== BYTES) throw new Error(`raw get returned ${back.length} bytes`);
      await store.remove(path);
    },
  });
  Deno.bench({
    name: `${k}: <blob@> insert1 + fetch1 of 100 MB`,
    group,
    ...iterations,
    async fn(t) {
      const id = fresh();
      t.start();
      await Big.insert1({ id, blob_v: array });
      const back = await Big.restrict({ id }).fetch1("blob_v") as NDArray;
      t.end();
      check(back, id);
      await removeRow(Big, store, "blob_v", id);
    },
  });
  Deno.bench({
    name: `${k}: <npy@> insert1 + fetch1 + load() of 100 MB`,
    group,
    ...iterations,
    async fn(t) {
      const id = fresh();
      t.start();
      await Big.insert1({ id, npy_v: array });
      const ref = await Big.restrict({ id }).fetch1("npy_v") as NpyRef;
      const back = await ref.load();
      t.end();
      check(back, id);
      await removeRow(Big, store, "npy_v", id);
    },
  });

  // The same, the write and the read timed apart (each against the raw store's own half).
  const writes = `100 MB, ${label}: write only`;
  Deno.bench({
    name: `${k}: raw store put of 100 MB (baseline)`,
    group: writes,
    baseline: true,
    ...iterations,
    async fn(t) {
      const path = `bench/raw_${fresh()}.bin`;
      t.start();
      await store.put(path, bytes);
      t.end();
      await store.remove(path);
    },
  });
  for (const [column, what] of [["blob_v", "<blob@>"], ["npy_v", "<npy@>"]] as const) {
    Deno.bench({
      name: `${k}: ${what} insert1 of 100 MB`,
      group: writes,
      ...iterations,
      async fn(t) {
        const id = fresh();
        t.start();
        await Big.insert1({ id, [column]: array });
        t.end();
        await removeRow(Big, store, column, id);
      },
    });
  }
  const reads = `100 MB, ${label}: read only`;
  Deno.bench({
    name: `${k}: raw store get of 100 MB (baseline)`,
    group: reads,
    baseline: true,
    ...iterations,
    async fn(t) {
      const path = `bench/raw_${fresh()}.bin`;
      await store.put(path, bytes);
      t.start();
      const back = await store.get(path);
      t.end();
      if (back.length !== BYTES) throw new Error(`raw get returned ${back.length} bytes`);
      await store.remove(path);
    },
  });
  Deno.bench({
    name: `${k}: <blob@> fetch1 of 100 MB`,
    group: reads,
    ...iterations,
    async fn(t) {
      const id = fresh();
      await Big.insert1({ id, blob_v: array });
      t.start();
      const back = await Big.restrict({ id }).fetch1("blob_v") as NDArray;
      t.end();
      check(back, id);
      await removeRow(Big, store, "blob_v", id);
    },
  });
  Deno.bench({
    name: `${k}: <npy@> fetch1 + load() of 100 MB`,
    group: reads,
    ...iterations,
    async fn(t) {
      const id = fresh();
      await Big.insert1({ id, npy_v: array });
      t.start();
      const ref = await Big.restrict({ id }).fetch1("npy_v") as NpyRef;
      const back = await ref.load();
      t.end();
      check(back, id);
      await removeRow(Big, store, "npy_v", id);
    },
  });
}

// The CPU work of those paths, without I/O: where the time over the raw store goes.
{
  const group = "100 MB codec steps in memory";
  const iterations = { n: 5, warmup: 1 };
  const packed = pack(array, { compress: true });
  const npy = encodeNpy(array);
  Deno.bench({
    name: "memory copy of 100 MB",
    group,
    baseline: true,
    ...iterations,
    fn: () => void bytes.slice(),
  });
  Deno.bench({
    name: "blob pack (compress: true, as <blob> does)",
    group,
    ...iterations,
    fn: () => void pack(array, { compress: true }),
  });
  // What a <blob@> insert does instead: pack into memory reused from the previous insert.
  const scratch = new ScratchPool();
  Deno.bench({
    name: "blob pack into reused memory (as <blob@> insert1 does)",
    group,
    ...iterations,
    fn() {
      const lent: Uint8Array<ArrayBuffer>[] = [];
      pack(array, {
        compress: true,
        allocate: (size) => {
          lent.push(scratch.take(size));
          return lent[lent.length - 1];
        },
      });
      for (const buf of lent) scratch.give(buf);
    },
  });
  Deno.bench({
    name: "MD5 content hash (computeHash)",
    group,
    ...iterations,
    fn: () => void computeHash(packed),
  });
  Deno.bench({ name: "blob unpack", group, ...iterations, fn: () => void unpack(packed) });
  // What a <blob@> fetch does instead: the download is placed so the elements are aligned, and
  // the array adopts them (the placing copy here stands for the download, so it is not timed).
  Deno.bench({
    name: "blob unpack of a download (adopt, as <blob@> fetch1 does)",
    group,
    ...iterations,
    fn(t) {
      const placed = new Uint8Array(BLOB_ADOPT_OFFSET + packed.length).subarray(BLOB_ADOPT_OFFSET);
      placed.set(packed);
      t.start();
      const back = unpack(placed, { adopt: true }) as NDArray;
      t.end();
      if ((back.data as Float64Array).buffer !== placed.buffer) throw new Error("not adopted");
    },
  });
  Deno.bench({ name: ".npy encode", group, ...iterations, fn: () => void encodeNpy(array) });
  Deno.bench({ name: ".npy decode", group, ...iterations, fn: () => void decodeNpy(npy) });
}

// --- 1,000 <npy@> rows: shapes without downloads --------------------------------------------

/** Store requests that read, since a snapshot. */
interface Reads {
  gets: number;
  rangeGets: number;
  stats: number;
  lists: number;
  bytesRead: number;
}

function reads(now: StoreCounters, before: StoreCounters): Reads {
  return {
    gets: now.gets - before.gets,
    rangeGets: now.rangeGets - before.rangeGets,
    stats: now.stats - before.stats,
    lists: now.lists - before.lists,
    bytesRead: now.bytesRead - before.bytesRead,
  };
}

const shapeTotals: Record<string, { fetches: number; rows: number; requests: Reads }> = {};
{
  const group = "1,000 <npy@> rows: fetch, read every shape";
  const small = (i: number) => {
    const rows = 1 + (i % 7);
    return NDArray.from(new Float32Array(rows * 4).fill(i), [rows, 4]);
  };
  for (const k of kinds) {
    await shapes[k].insert(
      Array.from({ length: ROWS }, (_, i) => ({ id: i, arr: small(i) })),
      { concurrency: 16 },
    );
  }
  const q = conn.kit.dialect.quote;
  const first = kinds[0];
  Deno.bench({
    name: `driver SELECT of the 1,000 rows (${first}; baseline)`,
    group,
    baseline: true,
    n: 20,
    warmup: 2,
    async fn() {
      const rows = await conn.query(
        `SELECT id, arr FROM ${q(schemaName)}.${q(shapes[first].tableName)}`,
      );
      if (rows.length !== ROWS) throw new Error(`SELECT returned ${rows.length} rows`);
    },
  });
  for (const k of kinds) {
    const store = await conn.stores.backend(k);
    const none = { gets: 0, rangeGets: 0, stats: 0, lists: 0, bytesRead: 0 };
    const totals = shapeTotals[k] = { fetches: 0, rows: 0, requests: none };
    Deno.bench({
      name: `${k}: toDicts() + every NpyRef.shape`,
      group,
      n: 20,
      warmup: 2,
      async fn() {
        const before = { ...store.counters };
        const rows = await shapes[k].toDicts();
        let rowsSeen = 0;
        for (const r of rows) rowsSeen += (r.arr as NpyRef).shape[0];
        const d = reads(store.counters, before);
        if (rows.length !== ROWS || rowsSeen === 0) throw new Error(`fetched ${rows.length} rows`);
        if (d.gets + d.rangeGets !== 0) {
          throw new Error(
            `${k}: reading shapes downloaded data: ${d.gets} gets, ${d.rangeGets} ranged gets`,
          );
        }
        totals.fetches++;
        totals.rows += rows.length;
        for (const key of Object.keys(d) as (keyof Reads)[]) totals.requests[key] += d[key];
      },
    });
  }
}

// --- 1,000 small <blob@> rows from S3: concurrency ------------------------------------------

let smallGets: Record<number, number> = {};
if (Small) {
  const group = "1,000 small <blob@s3> rows: toDicts() concurrency";
  const value = (i: number) => ({
    trial: i,
    label: `trial ${i}`,
    samples: NDArray.from(new Float64Array(32).fill(i)),
  });
  const size = pack(value(0), { compress: true }).length;
  await Small.insert(Array.from({ length: ROWS }, (_, i) => ({ id: i, v: value(i) })), {
    concurrency: 16,
  });
  console.log(`small <blob@s3> objects: ${size} bytes each`);
  const store = await conn.stores.backend("s3");
  const q = conn.kit.dialect.quote;
  const paths = (await conn.query(`SELECT v FROM ${q(schemaName)}.${q(Small.tableName)}`)).map(
    (r) => (typeof r.v === "string" ? JSON.parse(r.v) : r.v).path as string,
  );
  for (const concurrency of [1, 8, 16]) {
    Deno.bench({
      name: `s3: toDicts({ concurrency: ${concurrency} })${
        concurrency === 1 ? " (baseline)" : concurrency === 8 ? " (default)" : ""
      }`,
      group,
      baseline: concurrency === 1,
      n: 3,
      warmup: 1,
      async fn() {
        const before = store.counters.gets;
        const rows = await Small.toDicts({ concurrency });
        if (rows.length !== ROWS) throw new Error(`fetched ${rows.length} rows`);
        smallGets = { ...smallGets, [concurrency]: store.counters.gets - before };
      },
    });
  }
  Deno.bench({
    name: "s3: raw store.get of the same 1,000 objects, 16 at a time (reference)",
    group,
    n: 3,
    warmup: 1,
    async fn() {
      const got = await mapPool(paths, 16, (p) => store.get(p));
      if (got.length !== ROWS) throw new Error(`got ${got.length} objects`);
    },
  });
}

globalThis.addEventListener("unload", () => {
  console.log(`\nrows: ${db.label}`);
  for (const [k, t] of Object.entries(shapeTotals)) {
    console.log(
      `${k}: ${t.fetches} fetches of ${ROWS} <npy@> rows (${t.rows} shapes read); store requests: ${
        JSON.stringify(t.requests)
      }`,
    );
  }
  for (const [c, gets] of Object.entries(smallGets)) {
    console.log(`s3: toDicts({ concurrency: ${c} }) of ${ROWS} small <blob@> rows: ${gets} GETs`);
  }
});
