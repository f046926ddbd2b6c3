/**
 * `NpyRef` against a real `FileStore`: metadata reads do no I/O, `load()` downloads once and checks
 * the header against the metadata, `rows()` reads only the header and the requested rows with
 * ranged reads. Runs on a temporary copy of the golden store folder (never writes into it).
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { CorruptObjectError, DataJointError, MissingExternalFile } from "../lib/errors.ts";
import { NDArray } from "../codecs/blob/ndarray.ts";
import { encodeNpy } from "../codecs/npy_format.ts";
import { NpyRef, type NpyRefMetadata } from "../codecs/npy_ref.ts";
import type { StoreBackend } from "../stores/backend.ts";
import { FileStore } from "../stores/file_store.ts";
import { GOLDEN_ROOT, goldenFile } from "./_golden.ts";
import { buildNpy } from "./_npy.ts";
import { fileSpec } from "./_stores.ts";

const metadataFile = goldenFile("ddl/store-metadata.json");

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isDirectory) await copyDir(src, dst);
    else if (e.isFile) await Deno.copyFile(src, dst);
  }
}

/** A store over a fresh temp folder, and a factory that counts how often it is opened. */
async function fixture(copyGolden = false) {
  const root = await Deno.makeTempDir({ prefix: "npy_ref_" });
  if (copyGolden) {
    await copyDir(new URL("ddl/store/mysql/main", GOLDEN_ROOT).pathname, join(root, "main"));
  }
  const store = new FileStore("main", fileSpec(join(root, "main")));
  let opened = 0;
  const open = (): Promise<StoreBackend> => {
    opened++;
    return Promise.resolve(store);
  };
  return {
    root,
    store,
    open,
    get opened() {
      return opened;
    },
    async put(path: string, bytes: Uint8Array) {
      await Deno.mkdir(dirname(join(root, "main", path)), { recursive: true });
      await Deno.writeFile(join(root, "main", path), bytes);
    },
    reset() {
      for (const k of Object.keys(store.counters) as (keyof typeof store.counters)[]) {
        store.counters[k] = 0;
      }
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
    },
  };
}

function assertRows(actual: NDArray, full: NDArray, from: number, to: number): void {
  const rowElems = full.size / full.shape[0];
  assert.equal(actual.dtype, full.dtype);
  assert.deepEqual([...actual.shape], [to - from, ...full.shape.slice(1)]);
  assert.deepEqual(
    Array.from(actual.data as ArrayLike<unknown>),
    Array.from(full.data as ArrayLike<unknown>).slice(from * rowElems, to * rowElems),
  );
}

Deno.test({
  name: "NpyRef golden: metadata reads do no I/O; load() reads the file once",
  ignore: metadataFile.ignore,
  fn: async () => {
    const meta = JSON.parse(await Deno.readTextFile(metadataFile.url));
    const m: NpyRefMetadata = meta.examples["<npy@>"].mysql.metadata;
    await using fx = await fixture(true);
    const ref = new NpyRef(m, fx.open);

    assert.deepEqual([...ref.shape], [4, 3]);
    assert.equal(ref.dtype, "float32");
    assert.equal(ref.ndim, 2);
    assert.equal(ref.size, 12);
    assert.equal(ref.nbytes, 48);
    assert.equal(ref.path, m.path);
    assert.equal(ref.store, "main");
    assert.equal(ref.isLoaded, false);
    assert.equal(String(ref), "NpyRef(shape=[4, 3], dtype=float32, not loaded)");
    assert.equal(Deno.inspect(ref), "NpyRef(shape=[4, 3], dtype=float32, not loaded)");
    assert.deepEqual(JSON.parse(JSON.stringify(ref)), m);
    assert.deepEqual(ref.toJSON(), {
      path: m.path,
      store: "main",
      dtype: "float32",
      shape: [4, 3],
    });
    assert.equal(fx.opened, 0, "the backend is not even opened");
    assert.equal(fx.store.counters.gets + fx.store.counters.rangeGets + fx.store.counters.stats, 0);

    const a = await ref.load();
    assert.equal(a.dtype, "float32");
    assert.deepEqual([...a.shape], [4, 3]);
    const first = [0.1257302, -0.13210486, 0.64042264];
    first.forEach((v, i) => assert.ok(Math.abs((a.at(0, i) as number) - v) < 5e-8));
    const data = a.data as Float32Array;
    assert.ok(Math.abs(data.reduce((s, x) => s + x, 0) / 12 - 0.022070780396461487) < 1e-7);
    assert.equal(fx.store.counters.gets, 1);
    assert.equal(fx.store.counters.rangeGets, 0);
    assert.equal(ref.isLoaded, true);
    assert.equal(String(ref), "NpyRef(shape=[4, 3], dtype=float32, loaded)");

    // Cached: no more reads, the same array; rows() of a loaded array is a slice, no I/O.
    assert.equal(await ref.load(), a);
    assertRows(await ref.rows(1, 3), a, 1, 3);
    assert.equal(fx.store.counters.gets, 1);
    assert.equal(fx.store.counters.rangeGets, 0);

    // Row (2, 1) of the golden table: int64 [0..5] (its metadata is not in store-metadata.json).
    const ints = new NpyRef({
      path: "_schema/dj_golden/recording/subject_id=2/session_idx=1/array_cxBLjOs9.npy",
      store: "main",
      dtype: "int64",
      shape: [6],
    }, fx.open);
    assert.deepEqual([...(await ints.load()).data as BigInt64Array], [0n, 1n, 2n, 3n, 4n, 5n]);
  },
});

Deno.test({
  name: "NpyRef golden: rows() uses ranged reads only",
  ignore: metadataFile.ignore,
  fn: async () => {
    const meta = JSON.parse(await Deno.readTextFile(metadataFile.url));
    const m: NpyRefMetadata = meta.examples["<npy@>"].mysql.metadata;
    await using fx = await fixture(true);
    const full = await new NpyRef(m, fx.open).load();
    fx.reset();
    const ref = new NpyRef(m, fx.open);
    const part = await ref.rows(2, 4);
    assertRows(part, full, 2, 4);
    assert.equal(fx.store.counters.gets, 0);
    assert.equal(fx.store.counters.rangeGets, 2, "one read for the header, one for the rows");
    assert.equal(ref.isLoaded, false);
  },
});

Deno.test("NpyRef rows(): Python slice bounds, exact byte ranges, no whole-file read", async () => {
  await using fx = await fixture();
  const full = NDArray.from(Float64Array.from({ length: 7000 }, (_, i) => i / 7), [1000, 7]);
  const path = "_schema/lab/rec/id=1/trace_AbCdEfGh.npy";
  await fx.put(path, encodeNpy(full));
  const ref = new NpyRef({ path, store: "main", dtype: "float64", shape: [1000, 7] }, fx.open);

  const cases: [number, number | undefined, number, number][] = [
    [10, 20, 10, 20],
    [-3, undefined, 997, 1000],
    [990, 5000, 990, 1000],
    [-5000, 2, 0, 2],
    [0, -999, 0, 1],
  ];
  for (const [start, end, from, to] of cases) {
    fx.reset();
    assertRows(await ref.rows(start, end), full, from, to);
    assert.equal(fx.store.counters.gets, 0);
    assert.equal(fx.store.counters.rangeGets, 2);
    // The header probe plus exactly the rows: far less than the 56 KB file.
    assert.ok(fx.store.counters.bytesRead <= 512 + (to - from) * 56, `${start}:${end}`);
  }
  // An empty range reads the header only.
  fx.reset();
  const none = await ref.rows(5, 5);
  assert.deepEqual([...none.shape], [0, 7]);
  assert.equal(fx.store.counters.rangeGets, 1);
  assert.equal(ref.isLoaded, false);
  assert.equal(fx.opened, 1, "the backend is opened once and reused");

  await assert.rejects(() => ref.rows(1.5), DataJointError);
  const scalar = new NpyRef({ path, store: "main", dtype: "float64", shape: [] }, fx.open);
  await assert.rejects(() => scalar.rows(0), /0-d/);
});

Deno.test("NpyRef rows(): a header longer than the first probe is read again in full", async () => {
  await using fx = await fixture();
  // A valid v1 file whose header NumPy-style padding makes 1024 bytes long.
  const values = new Int32Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const file = buildNpy(
    "{'descr': '<i4', 'fortran_order': False, 'shape': (4, 2), }",
    new Uint8Array(values.buffer),
    { align: 1024 },
  );
  await fx.put("long.npy", file);
  const ref = new NpyRef({ path: "long.npy", store: null, dtype: "int32", shape: [4, 2] }, fx.open);
  const rows = await ref.rows(1, 3);
  assert.deepEqual([...rows.data as Int32Array], [3, 4, 5, 6]);
  assert.equal(fx.store.counters.rangeGets, 3);
  assert.equal(fx.store.counters.gets, 0);
});

Deno.test("NpyRef rows(): Fortran-order files fall back to a full load", async () => {
  await using fx = await fixture();
  // [[1, 2, 3], [4, 5, 6]] stored column by column, built from the format specification.
  const file = buildNpy(
    "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }",
    new Uint8Array(new Int16Array([1, 4, 2, 5, 3, 6]).buffer),
    { align: 128 },
  );
  await fx.put("f.npy", file);
  const ref = new NpyRef({ path: "f.npy", store: "main", dtype: "int16", shape: [2, 3] }, fx.open);
  const row = await ref.rows(1);
  assert.deepEqual([...row.data as Int16Array], [4, 5, 6]);
  assert.equal(fx.store.counters.gets, 1);
  assert.equal(ref.isLoaded, true);
});

Deno.test("NpyRef: a file that disagrees with its metadata is refused, naming the file", async () => {
  await using fx = await fixture();
  await fx.put("a.npy", encodeNpy(NDArray.from(new Float32Array(12), [4, 3])));
  const bytes = encodeNpy(NDArray.from(new Float32Array(12), [4, 3]));
  await fx.put("short.npy", bytes.subarray(0, bytes.length - 4));

  const bad: [Partial<NpyRefMetadata>, RegExp][] = [
    [{ shape: [4, 4] }, /shape \[4, 3\] but the metadata says \[4, 4\]/],
    [{ shape: [12] }, /shape/],
    [{ dtype: "float64" }, /dtype float32 but the metadata says float64/],
    [{ dtype: ">f4" }, /dtype/],
    [{ path: "short.npy" }, /Truncated/],
  ];
  for (const [change, pattern] of bad) {
    const m = { path: "a.npy", store: "main", dtype: "float32", shape: [4, 3], ...change };
    for (const read of [(r: NpyRef) => r.load(), (r: NpyRef) => r.rows(0, 4)]) {
      const ref = new NpyRef(m, fx.open);
      await assert.rejects(() => read(ref), (e: unknown) => {
        assert.ok(e instanceof CorruptObjectError, String(e));
        assert.match((e as Error).message, pattern);
        assert.ok((e as Error).message.includes(fx.store.url(m.path)), (e as Error).message);
        return true;
      });
      assert.equal(ref.isLoaded, false);
    }
  }
  // Spelling the same dtype differently is not a mismatch.
  const same = new NpyRef({ path: "a.npy", store: "main", dtype: "<f4", shape: [4, 3] }, fx.open);
  assert.equal((await same.load()).dtype, "float32");

  const missing = new NpyRef(
    { path: "nope.npy", store: "main", dtype: "int8", shape: [1] },
    fx.open,
  );
  await assert.rejects(() => missing.load(), MissingExternalFile);
  await assert.rejects(() => missing.rows(0), MissingExternalFile);
});

Deno.test("NpyRef: concurrent loads share one download; failures are not cached", async () => {
  await using fx = await fixture();
  await fx.put("x.npy", encodeNpy(NDArray.from(new Uint8Array([1, 2, 3]))));
  const ref = new NpyRef({ path: "x.npy", store: "main", dtype: "uint8", shape: [3] }, fx.open);
  const [a, b, c] = await Promise.all([ref.load(), ref.load(), ref.load()]);
  assert.equal(a, b);
  assert.equal(b, c);
  assert.equal(fx.store.counters.gets, 1);

  let attempts = 0;
  const flaky = new NpyRef({ path: "x.npy", store: "main", dtype: "uint8", shape: [3] }, () => {
    attempts++;
    return attempts === 1 ? Promise.reject(new Error("network down")) : Promise.resolve(fx.store);
  });
  await assert.rejects(() => flaky.load(), /network down/);
  assert.equal(flaky.isLoaded, false);
  assert.deepEqual([...(await flaky.load()).data as Uint8Array], [1, 2, 3]);
  assert.equal(attempts, 2);
});

Deno.test("NpyRef: nbytes, size and metadata validation", () => {
  const open = () => Promise.reject(new Error("no I/O expected"));
  const ref = (dtype: string, shape: number[]) =>
    new NpyRef({ path: "p.npy", store: null, dtype, shape }, open);
  assert.equal(ref("<U5", [2]).nbytes, 40);
  assert.equal(ref("|S3", [2, 2]).nbytes, 12);
  assert.equal(ref(">u2", [3]).nbytes, 6);
  assert.equal(ref("datetime64[D]", [4]).nbytes, 32);
  assert.equal(ref("complex128", []).nbytes, 16);
  assert.equal(ref("complex128", []).size, 1);
  assert.equal(ref("bool", [0, 5]).nbytes, 0);
  assert.equal(ref("float16", [3]).nbytes, 6);
  assert.throws(() => ref("[('a', '<i4'), ('b', '<f8')]", [3]).nbytes, (e: unknown) => {
    assert.ok(e instanceof DataJointError);
    assert.match((e as Error).message, /item size .* is unknown/);
    return true;
  });
  assert.throws(() => ref("object", [3]).nbytes, DataJointError);
  assert.equal(ref("bool", []).store, null);
  assert.equal(String(ref("<U5", [])), "NpyRef(shape=[], dtype=<U5, not loaded)");

  const bad: unknown[] = [
    null,
    { store: null, dtype: "int8", shape: [1] },
    { path: "p", store: 3, dtype: "int8", shape: [1] },
    { path: "p", store: null, shape: [1] },
    { path: "p", store: null, dtype: "int8", shape: [-1] },
    { path: "p", store: null, dtype: "int8", shape: "3" },
  ];
  for (const m of bad) {
    assert.throws(() => new NpyRef(m as NpyRefMetadata, open), DataJointError, JSON.stringify(m));
  }
  // Metadata is copied and frozen: changing the caller's object changes nothing.
  const meta = { path: "p.npy", store: "main", dtype: "int8", shape: [2] };
  const r = new NpyRef(meta, open);
  meta.shape[0] = 9;
  assert.deepEqual([...r.shape], [2]);
});
