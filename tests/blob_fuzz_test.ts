/**
 * Seeded, bounded fuzzing of the blob decoder: 50,000 inputs (mutated golden vectors and random
 * bytes behind a valid header), each decoded with u64 and with u32 length fields. Every decode
 * must return a value or throw a `DataJointError`, and must not allocate much more than its input
 * (or, for ZL123 input, its claimed plain length). Finishing at all is the no-hang check.
 *
 * Set `BLOB_FUZZ_SEED` to replay another seed; the seed in use is printed.
 */

import { deflateSync } from "node:zlib";
import fc from "fast-check";
import { pack, unpack } from "../codecs/blob/mod.ts";
import { BlobDecodeError, DataJointError } from "../lib/errors.ts";
import { blobValueArb, dj0, item, matlabValueArb, mym, u32, u64 } from "./_blob_arbitraries.ts";
import { assert, assertThrowsA, blobDiff, toHex } from "./_blob_equal.ts";
import { fromHex, goldenFile, readGoldenJson } from "./_golden.ts";

const SEED = Number(Deno.env.get("BLOB_FUZZ_SEED") ?? 0x5eed2024) >>> 0;
const TOTAL_INPUTS = 50_000;
const RANDOM_INPUTS = 20_000;
const MiB = 1024 * 1024;
const ZL123 = [0x5a, 0x4c, 0x31, 0x32, 0x33, 0x00];
const MYM = [0x6d, 0x59, 0x6d, 0x00];
const DJ0 = [0x64, 0x6a, 0x30, 0x00];

// ---------------------------------------------------------------------------------------------
// PRNG and helpers

/** mulberry32: a tiny, fast, seedable 32-bit PRNG. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function zl123(plain: Uint8Array, claimed: number | bigint = plain.length): Uint8Array {
  return concat(ZL123, u64(claimed), deflateSync(plain));
}

function memory(): number {
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

// ---------------------------------------------------------------------------------------------
// Golden vectors

interface GoldenVector {
  name: string;
  hex?: string;
  hex_compressed?: string;
  encode_hex?: string;
}

/**
 * The golden blobs as bytes, or the reason they are unavailable. `_golden.ts` skips a missing
 * file outside CI and makes it an error on CI (`CI=true`).
 */
async function loadGoldenBlobs(): Promise<{ name: string; bytes: Uint8Array }[] | string> {
  const file = goldenFile("blob/vectors.json");
  if (file.ignore) return `golden vectors not found at ${file.url.pathname}`;
  const doc = await readGoldenJson(file) as { vectors: GoldenVector[] };
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const v of doc.vectors) {
    for (const key of ["hex", "hex_compressed", "encode_hex"] as const) {
      const hex = v[key];
      if (typeof hex === "string" && hex.length > 0) {
        out.push({ name: `${v.name}.${key}`, bytes: fromHex(hex) });
      }
    }
  }
  if (out.length < 100) throw new Error(`only ${out.length} golden blobs in ${file.url.pathname}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Mutators

const HUGE_U64: readonly bigint[] = [
  2n ** 31n,
  2n ** 32n,
  2n ** 32n - 1n,
  2n ** 53n,
  2n ** 60n,
  2n ** 62n,
  2n ** 63n,
  2n ** 64n - 1n,
  0n,
  1n,
];
const HUGE_U32: readonly number[] = [0x7fffffff, 0x80000000, 0xffffffff, 0, 0xffff];
const ITEM_CODES = [
  0x41,
  0x53,
  0x43,
  0x46,
  0x50,
  0xff,
  0x01,
  0x02,
  0x03,
  0x04,
  0x05,
  0x06,
  0x0a,
  0x0b,
  0x0c,
  0x0d,
  0x64,
  0x74,
  0x75,
];

/** A random byte biased towards item codes, small counts and boundary values. */
function fuzzByte(rng: Rng): number {
  const r = rng.next();
  if (r < 0.25) return rng.pick(ITEM_CODES);
  if (r < 0.55) return rng.int(9);
  if (r < 0.65) return rng.pick([0x00, 0xff, 0x7f, 0x80]);
  return rng.int(256);
}

function fuzzBytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = fuzzByte(rng);
  return out;
}

type Mutator = (rng: Rng, b: Uint8Array) => Uint8Array;

const MUTATORS: readonly [string, Mutator][] = [
  ["bitflip", (rng, b) => {
    const out = b.slice();
    const flips = 1 + rng.int(4);
    for (let i = 0; i < flips && out.length > 0; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
    return out;
  }],
  ["byteset", (rng, b) => {
    const out = b.slice();
    const sets = 1 + rng.int(3);
    for (let i = 0; i < sets && out.length > 0; i++) {
      out[rng.int(out.length)] = rng.pick([0x00, 0xff, 0x7f, 0x80]);
    }
    return out;
  }],
  ["truncate", (rng, b) => b.slice(0, rng.int(b.length))],
  ["insert", (rng, b) => {
    const at = rng.int(b.length + 1);
    return concat(b.subarray(0, at), fuzzBytes(rng, 1 + rng.int(8)), b.subarray(at));
  }],
  ["delete", (rng, b) => {
    const at = rng.int(b.length + 1);
    return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(16))));
  }],
  ["duplicate", (rng, b) => {
    const from = rng.int(b.length + 1);
    const to = Math.min(b.length, from + 1 + rng.int(32));
    const at = rng.int(b.length + 1);
    return concat(b.subarray(0, at), b.subarray(from, to), b.subarray(at));
  }],
  ["length64", (rng, b) => {
    const out = b.slice();
    if (out.length < 12) return out;
    // Often the first length field of the root item (after header and code), else anywhere.
    const at = rng.chance(0.3) && out.length >= 13 ? 5 : 4 + rng.int(out.length - 11);
    out.set(u64(rng.pick(HUGE_U64)), at);
    return out;
  }],
  ["length32", (rng, b) => {
    const out = b.slice();
    if (out.length < 8) return out;
    out.set(u32(rng.pick(HUGE_U32)), 4 + rng.int(out.length - 7));
    return out;
  }],
];

function mutate(rng: Rng, base: Uint8Array): { bytes: Uint8Array; how: string } {
  let bytes = base;
  const steps: string[] = [];
  const n = 1 + (rng.chance(0.3) ? rng.int(3) : 0);
  for (let i = 0; i < n; i++) {
    const [name, fn] = rng.pick(MUTATORS);
    bytes = fn(rng, bytes);
    steps.push(name);
  }
  // Let a mutated plain blob reach the parser through the compression layer too.
  if (!startsWith(base, ZL123) && rng.chance(0.05)) {
    const lie = rng.chance(0.3);
    bytes = zl123(bytes, lie ? bytes.length + rng.pick([-1, 1, 1000]) : bytes.length);
    steps.push(lie ? "zl123-wrong-length" : "zl123");
  }
  return { bytes, how: steps.join("+") };
}

function startsWith(b: Uint8Array, prefix: readonly number[]): boolean {
  return b.length >= prefix.length && prefix.every((x, i) => b[i] === x);
}

/** Random bytes behind a valid header, plain or ZL123-wrapped. */
function randomInput(rng: Rng): { bytes: Uint8Array; how: string } {
  const body = fuzzBytes(rng, rng.int(rng.chance(0.8) ? 48 : 400));
  const r = rng.next();
  if (r < 0.45) return { bytes: concat(MYM, body), how: "random-mYm" };
  if (r < 0.9) return { bytes: concat(DJ0, body), how: "random-dj0" };
  const plain = rng.chance(0.8) ? concat(rng.chance(0.5) ? MYM : DJ0, body) : body;
  const claimed = rng.chance(0.7)
    ? plain.length
    : rng.pick([0, plain.length + 1, plain.length - 1, 2 ** 32, 2 ** 40]);
  return { bytes: zl123(plain, Math.max(0, claimed)), how: "random-zl123" };
}

// ---------------------------------------------------------------------------------------------
// The decode check

interface Failure {
  signature: string;
  message: string;
  how: string;
  use32bitDims: boolean;
  bytes: Uint8Array;
}

/** The length whose multiple bounds what a decode may allocate. */
function allocationBase(bytes: Uint8Array, use32bitDims: boolean): number {
  if (!startsWith(bytes, ZL123) || bytes.length < (use32bitDims ? 10 : 14)) return bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const claimed = use32bitDims
    ? view.getUint32(6, true)
    : view.getUint32(6, true) + view.getUint32(10, true) * 2 ** 32;
  const stream = bytes.length - (use32bitDims ? 10 : 14);
  return Math.max(bytes.length, Math.min(claimed, stream * 1032 + 64));
}

function allocationBound(bytes: Uint8Array, use32bitDims: boolean): number {
  return 64 * allocationBase(bytes, use32bitDims) + 8 * MiB;
}

/** Decode once; return a failure description, or undefined when the outcome is acceptable. */
function checkDecode(
  bytes: Uint8Array,
  use32bitDims: boolean,
  outcome?: { returned: boolean; value?: unknown; error?: unknown },
): { signature: string; message: string } | undefined {
  const before = memory();
  let result: unknown;
  let error: unknown;
  try {
    result = unpack(bytes, { use32bitDims });
  } catch (e) {
    error = e;
  }
  const growth = memory() - before;
  holder.last = result; // keep the result alive until after the measurement
  if (outcome) {
    outcome.returned = error === undefined;
    outcome.value = result;
    outcome.error = error;
  }
  if (error !== undefined && !(error instanceof DataJointError)) {
    const name = (error as Error)?.constructor?.name ?? typeof error;
    const message = String((error as Error)?.message ?? error);
    return {
      signature: `${name}: ${message.replace(/\d+/g, "#")}`,
      message: `${name}: ${message}`,
    };
  }
  const bound = allocationBound(bytes, use32bitDims);
  if (growth > bound) {
    return {
      signature: "memory",
      message: `decode grew memory by ${growth} bytes, bound ${bound} (${
        error ? "then threw" : "returned"
      })`,
    };
  }
  return undefined;
}

const holder: { last: unknown } = { last: undefined };

function offsetOutcome(view: Uint8Array): { returned: boolean; value?: unknown; message?: string } {
  try {
    return { returned: true, value: unpack(view) };
  } catch (e) {
    return { returned: false, message: (e as Error)?.message };
  }
}

/** Shrink a failing input while it keeps failing the same way (bounded effort). */
function minimize(f: Failure): Uint8Array {
  let best = f.bytes;
  let budget = 3000;
  const stillFails = (b: Uint8Array) => checkDecode(b, f.use32bitDims)?.signature === f.signature;
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1 && budget > 0; chunk >>= 1) {
    let progress = true;
    while (progress && budget > 0) {
      progress = false;
      for (let at = 0; at + chunk <= best.length && budget > 0; at += chunk) {
        budget--;
        const candidate = concat(best.subarray(0, at), best.subarray(at + chunk));
        if (stillFails(candidate)) {
          best = candidate;
          progress = true;
          break;
        }
      }
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// The fuzz run

Deno.test(`fuzz: ${TOTAL_INPUTS} seeded hostile inputs decode or fail with DataJointError`, async () => {
  console.log(`blob fuzz seed: ${SEED} (replay with BLOB_FUZZ_SEED=${SEED})`);
  // The memory probe must see a decode-sized allocation, or the bound below would be vacuous.
  const probeBefore = memory();
  holder.last = new Uint8Array(16 * MiB);
  assert(memory() - probeBefore >= 15 * MiB, "Deno.memoryUsage() does not see allocations");
  holder.last = undefined;

  const loaded = await loadGoldenBlobs();
  // Packed random values (all item kinds, deep nesting) join the golden blobs as mutation bases.
  const sampled = [
    ...fc.sample(blobValueArb(), { seed: SEED, numRuns: 150 }),
    ...fc.sample(matlabValueArb, { seed: SEED, numRuns: 50 }),
  ].map((v, i) => ({ name: `sampled#${i}`, bytes: pack(v, { compress: i % 2 === 0 }) }));
  // Without the golden folder (a user's clone), the packed values are the only mutation bases.
  const bases = typeof loaded === "string" ? sampled : [...loaded, ...sampled];
  if (typeof loaded === "string") {
    console.log(`skip: golden-vector mutations (${loaded}); mutating packed values only`);
  }
  const rng = new Rng(SEED);
  const failures = new Map<string, Failure>();
  let decoded = 0;
  let rejected = 0;

  // Most inputs are rejected; skipping stack capture makes each rejection several times cheaper.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const outcome: { returned: boolean; value?: unknown; error?: unknown } = { returned: false };
  const record = (failure: Omit<Failure, "bytes"> & { bytes: Uint8Array }) => {
    const known = failures.get(failure.signature);
    if (!known || failure.bytes.length < known.bytes.length) {
      failures.set(failure.signature, failure);
    }
  };
  const run = (bytes: Uint8Array, how: string) => {
    for (const use32bitDims of [false, true]) {
      const failure = checkDecode(bytes, use32bitDims, outcome);
      if (failure !== undefined) record({ ...failure, how, use32bitDims, bytes });
      if (use32bitDims) continue;
      if (outcome.returned) decoded++;
      else rejected++;
      // Sometimes decode the same bytes from an odd offset inside a larger buffer: the outcome
      // must not depend on where the bytes sit.
      if (rng.chance(0.1)) {
        const offset = 1 + rng.int(7);
        const host = new Uint8Array(bytes.length + offset + 3).fill(0xa5);
        host.set(bytes, offset);
        const shifted = offsetOutcome(host.subarray(offset, offset + bytes.length));
        const plain = outcome.returned ? "value" : `${(outcome.error as Error)?.message}`;
        const diff = shifted.returned !== outcome.returned
          ? `returned ${shifted.returned} at offset ${offset}, ${outcome.returned} at 0`
          : outcome.returned
          ? blobDiff(shifted.value, outcome.value)
          : shifted.message !== plain
          ? `error ${JSON.stringify(shifted.message)} at offset ${offset} vs ${
            JSON.stringify(plain)
          }`
          : undefined;
        if (diff !== undefined) {
          record({
            signature: `offset: ${diff.replace(/\d+/g, "#")}`,
            message: `decoding at byte offset ${offset} differs: ${diff}`,
            how,
            use32bitDims,
            bytes,
          });
        }
      }
    }
  };

  let mutationInputs = 0;
  try {
    // Every base blob as is first: all must decode or be rejected cleanly.
    for (const g of bases) run(g.bytes, `base ${g.name}`);
    mutationInputs = TOTAL_INPUTS - RANDOM_INPUTS - bases.length;
    for (let i = 0; i < mutationInputs; i++) {
      const base = rng.pick(bases);
      const { bytes, how } = mutate(rng, base.bytes);
      run(bytes, `${how} of ${base.name}`);
    }
    mutationInputs += bases.length;
    for (let i = 0; i < RANDOM_INPUTS; i++) {
      const { bytes, how } = randomInput(rng);
      run(bytes, how);
    }
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  console.log(
    `${
      mutationInputs + RANDOM_INPUTS
    } inputs (${mutationInputs} mutations of golden and packed blobs, ` +
      `${RANDOM_INPUTS} random): ${decoded} decoded, ${rejected} rejected (u64 lengths)`,
  );
  // Both outcomes must occur, or the fuzzer is not exercising the decoder.
  assert(decoded > 1000 && rejected > 1000, `decoded ${decoded}, rejected ${rejected}`);

  if (failures.size > 0) {
    const report = [...failures.values()].slice(0, 8).map((f) => {
      const small = minimize(f);
      return `- ${f.message}\n  use32bitDims=${f.use32bitDims}, from ${f.how}\n` +
        `  input (${f.bytes.length} bytes): ${toHex(f.bytes.subarray(0, 512))}${
          f.bytes.length > 512 ? "…" : ""
        }\n  minimized (${small.length} bytes): ${toHex(small)}`;
    });
    throw new Error(`${failures.size} kinds of decoder failure:\n${report.join("\n")}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Directed rejections: each must be a BlobDecodeError, without allocating for the claimed size.

function assertRejected(bytes: Uint8Array, what: string, use32bitDims = false): void {
  const before = memory();
  assertThrowsA(
    () => unpack(bytes, { use32bitDims }),
    BlobDecodeError,
    undefined,
    `${what} (${toHex(bytes.subarray(0, 64))}${bytes.length > 64 ? "…" : ""}): `,
  );
  const growth = memory() - before;
  const bound = allocationBound(bytes, use32bitDims);
  assert(growth <= bound, `${what}: memory grew by ${growth} bytes (bound ${bound})`);
}

Deno.test("reject: ZL123 claiming 2^40 bytes with a tiny stream, without allocating", () => {
  const stream = deflateSync(new Uint8Array([...DJ0, 0xff]));
  const bytes = concat(ZL123, u64(2n ** 40n), stream);
  const before = memory();
  assertThrowsA(() => unpack(bytes), BlobDecodeError, /size mismatch|claims/i);
  const growth = memory() - before;
  assert(growth < 4 * MiB, `rejecting it allocated ${growth} bytes`);
  // The 32-bit variant: 2^32 - 1 claimed.
  assertRejected(concat(ZL123, u32(0xffffffff), stream), "ZL123 u32 claim", true);
  // Claims just off the true length, and a stream that inflates past its claim.
  assertRejected(zl123(new Uint8Array([...DJ0, 0xff]), 6), "ZL123 claim one too many");
  assertRejected(zl123(new Uint8Array([...DJ0, 0xff]), 4), "ZL123 claim one too few");
  assertRejected(zl123(new Uint8Array(5000), 100), "ZL123 stream longer than claim");
});

Deno.test("reject: an A item claiming 2^60 elements", () => {
  const head = (ndims: bigint, dims: bigint[]) => [0x41, ...u64(ndims), ...dims.flatMap(u64)];
  const tail = [...u32(6), ...u32(0), ...new Array(32).fill(0)];
  assertRejected(mym([...head(1n, [2n ** 60n]), ...tail]), "1-D of 2^60");
  assertRejected(mym([...head(2n, [2n ** 30n, 2n ** 30n]), ...tail]), "2^30 × 2^30");
  assertRejected(mym([...head(2n, [2n ** 32n, 2n ** 32n]), ...tail]), "2^32 × 2^32");
  assertRejected(mym([...head(2n ** 60n, [1n]), ...tail]), "ndims 2^60");
  assertRejected(dj0([...head(1n, [2n ** 60n]), ...u32(5), ...u32(0)]), "object 2^60");
  assertRejected(mym([0x43, ...u64(1), ...u64(2n ** 60n), ...u64(0)]), "cell of 2^60");
  assertRejected(
    mym([0x53, ...u64(1), ...u64(2n ** 60n), ...u32(1), 0x61, 0, ...u64(0)]),
    "struct of 2^60",
  );
  assertRejected(mym([0x53, ...u64(1), ...u64(1), ...u32(0xffffffff), 0x61, 0]), "2^32-1 fields");
  // u32 length fields: 2^32 - 1 elements.
  assertRejected(
    mym([0x41, ...u32(1), ...u32(0xffffffff), ...u32(6), ...u32(0), 0, 0, 0, 0]),
    "u32 dims",
    true,
  );
});

Deno.test("reject: an array whose zero-size shape overflows when multiplied", () => {
  // 20 axes of 2^53 - 1 and one of 0: no elements, but the shape's product is not a number.
  const shape = [...new Array(20).fill(2n ** 53n - 1n), 0n];
  const dimsBytes = [...u64(shape.length), ...shape.flatMap(u64)];
  assertRejected(mym([0x41, ...dimsBytes, ...u32(6), ...u32(0)]), "float64 array");
  assertRejected(dj0([0x41, ...dimsBytes, ...u32(5), ...u32(0)]), "object array");
  assertRejected(mym([0x43, ...dimsBytes]), "cell array");
  assertRejected(mym([0x53, ...dimsBytes, ...u32(1), 0x61, 0]), "struct array");
});

Deno.test("reject: a list claiming 2^62 items, a string claiming 2^63 bytes", () => {
  assertRejected(dj0([0x02, ...u64(2n ** 62n), ...item.framed(item.none())]), "list 2^62");
  assertRejected(dj0([0x01, ...u64(2n ** 62n)]), "tuple 2^62");
  assertRejected(dj0([0x03, ...u64(2n ** 61n), ...item.framed(item.none())]), "set 2^61");
  assertRejected(dj0([0x04, ...u64(2n ** 61n)]), "dict 2^61");
  assertRejected(dj0([0x05, ...u64(2n ** 63n), 0x61, 0x62]), "str 2^63");
  assertRejected(dj0([0x06, ...u64(2n ** 64n - 1n), 0x61]), "bytes 2^64-1");
  assertRejected(dj0([0x64, ...u64(2n ** 63n), 0x31]), "decimal 2^63");
  assertRejected(dj0([0x02, ...u64(1), ...u64(2n ** 63n), 0xff]), "framed item 2^63");
  assertRejected(dj0([0x0a, 0xff, 0xff, 0x01]), "int of 65535 bytes with 1 present");
  assertRejected(dj0([0x05, ...u32(0xffffffff), 0x61]), "str u32 2^32-1", true);
});

Deno.test("reject: ZL123 nested inside ZL123", () => {
  const inner = pack(new Array(500).fill(1.5));
  assert(startsWith(inner, ZL123), "the inner blob should be compressed");
  assertRejected(zl123(inner), "nested ZL123");
  assertRejected(zl123(zl123(new Uint8Array([...DJ0, 0xff]))), "nested small ZL123");
});

Deno.test("reject: 100,000 nested lists", () => {
  const depth = 100_000;
  const bytes = new Uint8Array(4 + 17 * (depth - 1) + 9);
  bytes.set(DJ0);
  const view = new DataView(bytes.buffer);
  let p = 4;
  for (let i = 0; i < depth - 1; i++) {
    bytes[p] = 0x02;
    view.setBigUint64(p + 1, 1n, true);
    view.setBigUint64(p + 9, BigInt(9 + 17 * (depth - 2 - i)), true);
    p += 17;
  }
  bytes[p] = 0x02; // innermost: an empty list
  assertRejected(bytes, "100,000 nested lists");
  // The same depth through other containers.
  const tuples = bytes.map((b, i) => (i >= 4 && (i - 4) % 17 === 0 && i < p ? 0x01 : b));
  assertRejected(tuples, "100,000 nested tuples");
  assertRejected(zl123(bytes), "100,000 nested lists, compressed");
});
