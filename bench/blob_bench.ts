/**
 * Blob serializer speed, each case against same-run baselines on the same bytes:
 * - `copy`: a memory copy into a fresh buffer (`TypedArray.prototype.slice`, i.e. allocation plus
 *   `set`), the least work any decoder or encoder that returns new memory can do;
 * - `zlib deflate` / `zlib inflate`: raw `node:zlib` at level 6 on the same plain blob;
 * - `fflate …` and `zlib deflate level 1`: the alternatives the compression choice was made
 *   against (library and level).
 *
 * Run: `deno task bench` (or `deno bench -A bench/blob_bench.ts`). Set `DJ_BENCH_SIZES=1,10` to
 * skip the 100 MB cases. `deno bench --json` gives machine-readable numbers; divide the bytes
 * by the time per iteration for MB/s.
 */

import { deflateSync, inflateSync } from "node:zlib";
import { unzlibSync, zlibSync } from "fflate";
import { NDArray, pack, unpack } from "../codecs/blob/mod.ts";

const MB = 1024 * 1024;
const sizes = (Deno.env.get("DJ_BENCH_SIZES") ?? "1,10,100").split(",").map(Number);

/** Deterministic pseudo-random doubles in [0, 1) with all 52 mantissa bits noisy (incompressible). */
function randomDoubles(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < n; i++) out[i] = (next() + next() / 4294967296) / 4294967296;
  return out;
}

/** A smooth signal rounded to 4 decimals: compresses about 3:1 like many recordings. */
function smoothDoubles(n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(Math.sin(i / 1000) * 1e4) / 1e4;
  return out;
}

function cube(n: number): number[] {
  const side = Math.floor(Math.cbrt(n));
  return [side, side, Math.floor(n / (side * side))];
}

function fit(data: Float64Array | Int32Array, shape: number[]) {
  const n = shape.reduce((a, b) => a * b, 1);
  return data.subarray(0, n);
}

interface Case {
  name: string;
  array: NDArray;
}

function cases(mb: number): Case[] {
  const n = (mb * MB) / 8;
  const random = randomDoubles(n, mb);
  const smooth = smoothDoubles(n);
  const shape3 = cube(n);
  const ints = new Int32Array((mb * MB) / 4);
  for (let i = 0; i < ints.length; i++) ints[i] = (i * 7919) % 100000;
  return [
    { name: `float64 1-D random ${mb} MB`, array: NDArray.from(random) },
    { name: `float64 1-D smooth ${mb} MB`, array: NDArray.from(smooth) },
    { name: `float64 3-D random ${mb} MB`, array: NDArray.from(fit(random, shape3), shape3) },
    { name: `float64 3-D smooth ${mb} MB`, array: NDArray.from(fit(smooth, shape3), shape3) },
    { name: `int32 2-D ${mb} MB`, array: NDArray.from(ints, [1024, ints.length / 1024]) },
  ];
}

for (const mb of sizes) {
  const iterations = mb >= 100 ? { n: 5, warmup: 1 } : mb >= 10 ? { n: 20, warmup: 2 } : {};
  // The memory-speed cases take milliseconds: many more runs, so that their fastest run (what the
  // README reports) does not depend on when the garbage collector happened to run.
  const quick = mb >= 100 ? { n: 30, warmup: 3 } : mb >= 10 ? { n: 200, warmup: 10 } : {};
  for (const { name, array } of cases(mb)) {
    const plain = pack(array, { compress: false });
    const packed = pack(array);
    const stream = deflateSync(plain, { level: 6 });
    const group = name;
    Deno.bench({
      name: `copy ${plain.length} bytes`,
      group,
      baseline: true,
      ...quick,
      fn: () => {
        plain.slice();
      },
    });
    Deno.bench({
      name: "unpack (uncompressed)",
      group,
      ...quick,
      fn: () => void unpack(plain),
    });
    Deno.bench({
      name: "pack (no compression)",
      group,
      ...quick,
      fn: () => void pack(array, { compress: false }),
    });
    Deno.bench({ name: "zlib inflate", group, ...iterations, fn: () => void inflateSync(stream) });
    Deno.bench({
      name: "unpack (compressed)",
      group,
      ...iterations,
      fn: () => void unpack(packed),
    });
    Deno.bench({
      name: "zlib deflate",
      group,
      ...iterations,
      fn: () => void deflateSync(plain, { level: 6 }),
    });
    Deno.bench({ name: "pack (compressed)", group, ...iterations, fn: () => void pack(array) });
    Deno.bench({
      name: "pack (compressed, no sampling)",
      group,
      ...iterations,
      fn: () => void pack(array, { skipIncompressible: false }),
    });
    Deno.bench({
      name: "zlib deflate level 1",
      group,
      ...iterations,
      fn: () => void deflateSync(plain, { level: 1 }),
    });
    Deno.bench({
      name: "fflate zlibSync level 6",
      group,
      ...iterations,
      fn: () => void zlibSync(plain, { level: 6 }),
    });
    Deno.bench({
      name: "fflate unzlibSync",
      group,
      ...iterations,
      fn: () => void unzlibSync(stream),
    });
  }
}

// A nested structure of 100,000 small items: dicts of an int, a string and a float, in a list.
const records = Array.from({ length: 25_000 }, (_, i) => ({
  id: BigInt(i),
  name: `item ${i}`,
  value: i * 0.5,
}));
const ITEMS = 100_000;
const nestedPlain = pack(records, { compress: false });
const nestedPacked = pack(records);
Deno.bench({
  name: `copy ${nestedPlain.length} bytes`,
  group: "nested 100k items",
  baseline: true,
  fn: () => void nestedPlain.slice(),
});
Deno.bench({
  name: `unpack ${ITEMS} items (uncompressed)`,
  group: "nested 100k items",
  fn: () => void unpack(nestedPlain),
});
Deno.bench({
  name: `pack ${ITEMS} items (no compression)`,
  group: "nested 100k items",
  fn: () => void pack(records, { compress: false }),
});
Deno.bench({
  name: `unpack ${ITEMS} items (compressed)`,
  group: "nested 100k items",
  fn: () => void unpack(nestedPacked),
});
Deno.bench({
  name: `pack ${ITEMS} items (compressed)`,
  group: "nested 100k items",
  fn: () => void pack(records),
});
