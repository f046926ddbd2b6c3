/**
 * fast-check arbitraries for DataJoint blob values (see `codecs/blob/values.ts` for the value
 * model). Every value they produce round-trips through `pack`/`unpack` to a strictly equal value
 * (see `_blob_equal.ts`): they avoid the documented decode normalisations (zero-field structs,
 * plain objects with array-index keys, Maps whose keys are all plain strings, collapsing set
 * elements and dict keys, `undefined`, JS `Date`, non-`Uint8Array` typed arrays).
 *
 * Sizes are kept small so that a few hundred runs take well under a second each.
 *
 * @module
 */

import fc from "fast-check";
import {
  type BlobValue,
  Complex,
  Decimal,
  type DType,
  MatCell,
  MatStruct,
  NAT,
  NDArray,
  RecArray,
  tuple,
  UUID,
} from "../codecs/blob/mod.ts";
import { DATETIME_UNITS } from "../codecs/blob/dtype.ts";
import { hashKey, isArrayIndexKey } from "../codecs/blob/values.ts";

type Arb<T> = fc.Arbitrary<T>;

// ---------------------------------------------------------------------------------------------
// Scalars

/** The integers at the edges of the 1-, 2-, 4- and 8-byte encodings, and some huge ones. */
export const INT_BOUNDARIES: readonly bigint[] = [
  0n,
  1n,
  -1n,
  127n,
  128n,
  -128n,
  -129n,
  255n,
  256n,
  -255n,
  -256n,
  32767n,
  32768n,
  -32768n,
  -32769n,
  65535n,
  65536n,
  2n ** 31n - 1n,
  2n ** 31n,
  -(2n ** 31n),
  -(2n ** 31n) - 1n,
  2n ** 47n,
  -(2n ** 47n),
  2n ** 53n,
  -(2n ** 53n),
  2n ** 63n - 1n,
  2n ** 63n,
  -(2n ** 63n),
  -(2n ** 63n) - 1n,
  2n ** 64n,
  2n ** 200n,
  -(2n ** 200n),
  2n ** 200n - 1n,
  -(2n ** 200n) + 1n,
];

/** Python ints: boundaries, small values and values up to ±2^200. */
export const intArb: Arb<bigint> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...INT_BOUNDARIES) },
  { weight: 3, arbitrary: fc.bigInt(-70000n, 70000n) },
  { weight: 2, arbitrary: fc.bigInt(-(2n ** 200n), 2n ** 200n) },
);

/** Doubles that are easy to get wrong: signed zeros, NaN, infinities, subnormals, extremes. */
export const SPECIAL_DOUBLES: readonly number[] = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072009e-308, // largest subnormal
  2.2250738585072014e-308, // smallest normal
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.EPSILON,
  2 ** 53,
  2 ** 53 + 2,
  0.1,
  -1.5,
  1,
];

/** Python floats, including -0, NaN, ±Infinity and subnormals. */
export const floatArb: Arb<number> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_DOUBLES) },
  { weight: 3, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.double({ min: -1e-307, max: 1e-307 }) },
);

/** Python complex numbers. */
export const complexArb: Arb<Complex> = fc.tuple(floatArb, floatArb).map(([re, im]) =>
  new Complex(re, im)
);

const SPECIAL_STRINGS = [
  "",
  "\0",
  "a\0b",
  "é",
  "日本語",
  "😀",
  "\u{10FFFF}",
  "\uFEFF",
  "x".repeat(65), // past the decoder's short-ASCII fast path
  "ü".repeat(40),
];

/** Python strs: any well-formed text, including NUL, non-ASCII and astral characters. */
export const strArb: Arb<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
);

/** Python bytes. */
export const bytesArb: Arb<Uint8Array> = fc.uint8Array({ maxLength: 16 }).map((b) => b.slice());

const SPECIAL_DECIMALS = [
  "0",
  "-0",
  "0.000",
  "0E+5",
  "-0E-3",
  "1.50",
  "-1.50",
  "100",
  "1E+2",
  "1.0E+7",
  "0.000001",
  "1E-7",
  "123456789012345678901234567890.000",
  "NaN",
  "-NaN",
  "NaN123",
  "Infinity",
  "-Infinity",
];

/** Finite decimals with any coefficient (trailing zeros kept) and exponent. */
const finiteDecimalArb: Arb<Decimal> = fc.tuple(
  fc.boolean(),
  fc.stringMatching(/^[0-9]{1,25}$/),
  fc.nat({ max: 4 }),
  fc.integer({ min: -40, max: 40 }),
).map(([neg, digits, zeros, exp]) =>
  new Decimal(`${neg ? "-" : ""}${digits}${"0".repeat(zeros)}E${exp}`)
);

/** Hashable Python Decimals (everything but signaling NaN). */
export const decimalArb: Arb<Decimal> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_DECIMALS).map((s) => new Decimal(s)) },
  { weight: 2, arbitrary: finiteDecimalArb },
);

/** Python Decimals including signaling NaN (not hashable, so never a key or set element). */
export const anyDecimalArb: Arb<Decimal> = fc.oneof(
  decimalArb,
  fc.constantFrom("sNaN", "-sNaN", "sNaN42").map((s) => new Decimal(s)),
);

/** Python UUIDs. */
export const uuidArb: Arb<UUID> = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => new UUID(b)),
  fc.uuid().map((s) => new UUID(s)),
);

/** Python dates, years 1..9999. */
export const dateArb: Arb<Temporal.PlainDate> = fc.oneof(
  fc.constantFrom(
    Temporal.PlainDate.from("0001-01-01"),
    Temporal.PlainDate.from("9999-12-31"),
    Temporal.PlainDate.from("2000-02-29"),
    Temporal.PlainDate.from("1970-01-01"),
  ),
  fc.tuple(
    fc.integer({ min: 1, max: 9999 }),
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 31 }),
  ).map(([year, month, day]) =>
    Temporal.PlainDate.from({ year, month, day }, { overflow: "constrain" })
  ),
);

/** Python times of day with microseconds. */
export const timeArb: Arb<Temporal.PlainTime> = fc.oneof(
  fc.constantFrom(
    new Temporal.PlainTime(0, 0, 0),
    new Temporal.PlainTime(23, 59, 59, 999, 999),
    new Temporal.PlainTime(12, 0, 0, 0, 1),
  ),
  fc.tuple(
    fc.integer({ min: 0, max: 23 }),
    fc.integer({ min: 0, max: 59 }),
    fc.integer({ min: 0, max: 59 }),
    fc.integer({ min: 0, max: 999_999 }),
  ).map(([h, m, s, us]) => new Temporal.PlainTime(h, m, s, Math.floor(us / 1000), us % 1000)),
);

/** Python datetimes with microseconds. */
export const datetimeArb: Arb<Temporal.PlainDateTime> = fc.tuple(dateArb, timeArb).map((
  [d, t],
) => d.toPlainDateTime(t));

// ---------------------------------------------------------------------------------------------
// NDArrays

/** The datetime64 units, in type-id order. */
export { DATETIME_UNITS };

/** Every dtype except `object`. */
export const NUMERIC_DTYPES: readonly DType[] = [
  "bool",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "float32",
  "float64",
  "complex64",
  "complex128",
  "char",
  ...DATETIME_UNITS.map((u) => `datetime64[${u}]` as DType),
];

/** Every dtype. */
export const ALL_DTYPES: readonly DType[] = [...NUMERIC_DTYPES, "object"];

/** Bytes per element (of one plane) for the non-object dtypes. */
export function itemSizeOf(dtype: DType): number {
  if (dtype === "bool" || dtype === "int8" || dtype === "uint8") return 1;
  if (dtype === "int16" || dtype === "uint16" || dtype === "char") return 2;
  if (dtype === "int32" || dtype === "uint32" || dtype === "float32" || dtype === "complex64") {
    return 4;
  }
  if (dtype === "object") throw new Error("object arrays have no item size");
  return 8;
}

type Ctor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;

function ctorOf(dtype: DType): Ctor {
  switch (dtype) {
    case "bool":
    case "uint8":
      return Uint8Array;
    case "int8":
      return Int8Array;
    case "int16":
      return Int16Array;
    case "uint16":
    case "char":
      return Uint16Array;
    case "int32":
      return Int32Array;
    case "uint32":
      return Uint32Array;
    case "float32":
    case "complex64":
      return Float32Array;
    case "float64":
    case "complex128":
      return Float64Array;
    case "uint64":
      return BigUint64Array;
    default:
      return BigInt64Array; // int64, datetime64[*]
  }
}

/** Bit patterns (as unsigned integers) worth having in a plane of each element width. */
const SPECIAL_BITS: Record<number, readonly bigint[]> = {
  1: [0n, 1n, 0x7fn, 0x80n, 0xffn],
  2: [0n, 1n, 0x7fffn, 0x8000n, 0xffffn, 0xd800n, 0xdc00n, 0xdbffn, 0x00e9n],
  4: [
    0n,
    1n,
    0x7fffffffn,
    0x80000000n,
    0xffffffffn,
    0x3f800000n, // 1.0f
    0x7f800000n, // +inf
    0xff800000n, // -inf
    0x7fc00000n, // quiet NaN
    0x7f800001n, // signaling NaN
    0xffc00001n, // negative NaN with payload
    0x007fffffn, // largest subnormal
  ],
  8: [
    0n,
    1n,
    0x7fffffffffffffffn,
    0x8000000000000000n, // -0.0, int64 min, NaT
    0xffffffffffffffffn,
    0x3ff0000000000000n, // 1.0
    0x7ff0000000000000n, // +inf
    0xfff0000000000000n, // -inf
    0x7ff8000000000000n, // quiet NaN
    0x7ff0000000000001n, // signaling NaN
    0xfff8000000000001n, // negative NaN with payload
    0x000fffffffffffffn, // largest subnormal
  ],
};

function bitsArb(itemSize: number): Arb<bigint> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_BITS[itemSize]) },
    { weight: 2, arbitrary: fc.bigInt(0n, (1n << BigInt(8 * itemSize)) - 1n) },
  );
}

/** One plane of `n` elements, from bit patterns, sometimes a view at an offset in a larger buffer. */
function planeArb(dtype: DType, n: number): Arb<ArrayBufferView> {
  const itemSize = itemSizeOf(dtype);
  const elements = dtype === "bool"
    ? fc.array(fc.constantFrom(0n, 1n), { minLength: n, maxLength: n })
    : fc.array(bitsArb(itemSize), { minLength: n, maxLength: n });
  return fc.tuple(elements, fc.nat({ max: 2 })).map(([bits, pad]) => {
    const buffer = new ArrayBuffer((n + 2 * pad) * itemSize);
    const bytes = new Uint8Array(buffer, pad * itemSize, n * itemSize);
    bits.forEach((b, i) => {
      for (let k = 0; k < itemSize; k++) {
        bytes[i * itemSize + k] = Number((b >> BigInt(8 * k)) & 0xffn);
      }
    });
    return new (ctorOf(dtype))(buffer, pad * itemSize, n);
  });
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

const dimArb: Arb<number> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.constant(1) },
  { weight: 5, arbitrary: fc.integer({ min: 2, max: 4 }) },
);

/** Shapes with 0 to `maxDims` dimensions (0-d included, 0-length axes included). */
export function shapeArb(maxDims = 4, maxSize = 48): Arb<number[]> {
  return fc.array(dimArb, { minLength: 0, maxLength: maxDims }).map((shape) => {
    // Shrink the largest axes until the element count fits.
    const s = [...shape];
    while (sizeOf(s) > maxSize) {
      const i = s.indexOf(Math.max(...s));
      s[i] = Math.max(1, s[i] - 1);
    }
    return s;
  });
}

/** A non-object NDArray of a dtype and shape, data from arbitrary bit patterns. */
export function numericArrayOf(dtype: DType, shape: readonly number[]): Arb<NDArray> {
  const n = sizeOf(shape);
  const complex = dtype === "complex64" || dtype === "complex128";
  return fc.tuple(planeArb(dtype, n), complex ? planeArb(dtype, n) : fc.constant(undefined)).map(
    ([data, imag]) => new NDArray(dtype, shape, data as never, imag as never),
  );
}

/** NDArrays of every non-object dtype, up to 4-D, including 0-d and empty shapes. */
export const numericArrayArb: Arb<NDArray> = fc.tuple(
  fc.constantFrom(...NUMERIC_DTYPES),
  shapeArb(),
).chain(([dtype, shape]) => numericArrayOf(dtype, shape));

/** 0-d numeric arrays (NumPy scalars), which Python can hash. */
export const scalarArrayArb: Arb<NDArray> = fc.constantFrom(
  ...NUMERIC_DTYPES.filter((d) => d !== "char"),
).chain((dtype) => numericArrayOf(dtype, []));

/** datetime64 arrays with NaT present. */
export const datetimeArrayArb: Arb<NDArray> = fc.tuple(
  fc.constantFrom(...DATETIME_UNITS),
  fc.array(fc.oneof(fc.constant(NAT), fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n)), {
    minLength: 1,
    maxLength: 6,
  }),
).map(([unit, values]) =>
  new NDArray(`datetime64[${unit}]`, [values.length], BigInt64Array.from(values))
);

// ---------------------------------------------------------------------------------------------
// Hashable values (set elements, Map keys)

/** Hashable scalars: every kind Python can hash except tuples. */
export const hashableLeafArb: Arb<BlobValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  intArb,
  floatArb,
  complexArb,
  strArb,
  bytesArb,
  decimalArb,
  uuidArb,
  dateArb,
  timeArb,
  datetimeArb,
  scalarArrayArb,
);

/** Hashable values: scalars and (nested) tuples of them. */
export const hashableArb: Arb<BlobValue> = fc.oneof(
  { weight: 5, arbitrary: hashableLeafArb },
  {
    weight: 1,
    arbitrary: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: hashableLeafArb },
        {
          weight: 1,
          arbitrary: fc.array(hashableLeafArb, { maxLength: 2 }).map((a) => tuple(...a)),
        },
      ),
      { maxLength: 3 },
    ).map((a) => tuple(...a)),
  },
);

/** Remove values equal to an earlier one in Python's sense (they would collapse in a blob). */
export function dedupeByHash<T>(items: readonly T[], key: (item: T) => unknown): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const item of items) {
    const k = hashKey(key(item));
    if (k === undefined) throw new Error("unhashable value generated as a key");
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(item);
  }
  return out;
}

/** Sets of hashable values, never holding two elements that Python considers equal. */
export const setArb: Arb<Set<BlobValue>> = fc.array(hashableArb, { maxLength: 5 }).map((items) =>
  new Set(dedupeByHash(items, (v) => v))
);

/** Plain-object dict keys: any string except array-index keys (`"0"`, `"42"`, ...). */
export const dictKeyArb: Arb<string> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "__proto__",
      "constructor",
      "toString",
      "hasOwnProperty",
      "valueOf",
      "",
      "\0",
      "-0",
      "01",
      "1.5",
      "-1",
      "4294967295",
      "9007199254740993",
      "NaN",
      "Infinity",
      "a b",
    ),
  },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) },
).filter((k) => !isArrayIndexKey(k));

// ---------------------------------------------------------------------------------------------
// The recursive value

/** Options of {@link blobValueArb}. */
export interface BlobValueOptions {
  /** Container nesting depth (default 3). */
  depth?: number;
}

/** Scalars of every kind a blob holds. */
export const leafArb: Arb<BlobValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  intArb,
  floatArb,
  complexArb,
  strArb,
  bytesArb,
  anyDecimalArb,
  uuidArb,
  dateArb,
  timeArb,
  datetimeArb,
);

const cache = new Map<number, Arb<BlobValue>>();

/**
 * Random nested blob values: lists, tuples, sets, dicts (plain objects and Maps), NDArrays of every
 * dtype, MatStruct, MatCell and RecArray, down to `depth` levels of containers.
 */
export function blobValueArb(options: BlobValueOptions = {}): Arb<BlobValue> {
  const depth = options.depth ?? 3;
  const cached = cache.get(depth);
  if (cached) return cached;
  let arb: Arb<BlobValue>;
  if (depth <= 0) {
    arb = fc.oneof(
      { weight: 6, arbitrary: leafArb },
      { weight: 2, arbitrary: numericArrayArb },
      { weight: 1, arbitrary: setArb },
    );
  } else {
    const sub = blobValueArb({ depth: depth - 1 });
    arb = fc.oneof(
      { weight: 5, arbitrary: leafArb },
      { weight: 2, arbitrary: numericArrayArb },
      { weight: 2, arbitrary: fc.array(sub, { maxLength: 4 }) },
      { weight: 1, arbitrary: fc.array(sub, { maxLength: 4 }).map((a) => tuple(...a)) },
      { weight: 1, arbitrary: setArb },
      { weight: 2, arbitrary: plainDictArb(sub) },
      { weight: 1, arbitrary: mapDictArb(sub) },
      { weight: 1, arbitrary: objectArrayArb(sub) },
      { weight: 1, arbitrary: matStructArb(sub) },
      { weight: 1, arbitrary: matCellArb(sub) },
      { weight: 1, arbitrary: recArrayArb(sub) },
    );
  }
  cache.set(depth, arb);
  return arb;
}

/** Dicts with string keys as plain objects (`__proto__` included, as an own property). */
export function plainDictArb(value: Arb<BlobValue>): Arb<Record<string, BlobValue>> {
  return fc.uniqueArray(fc.tuple(dictKeyArb, value), { selector: ([k]) => k, maxLength: 4 })
    .map((entries) => Object.fromEntries(entries));
}

/**
 * Dicts as Maps with at least one key that a plain object cannot hold in order (a non-string or
 * an array-index string), so they decode as Maps again; keys never collapse in Python's sense.
 */
export function mapDictArb(value: Arb<BlobValue>): Arb<Map<BlobValue, BlobValue>> {
  const key = fc.oneof(
    { weight: 4, arbitrary: hashableArb },
    { weight: 1, arbitrary: fc.constantFrom("0", "2", "10", "4294967294") },
  );
  return fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 4 })
    .map((entries) => dedupeByHash(entries, ([k]) => k))
    .filter((entries) => entries.some(([k]) => typeof k !== "string" || isArrayIndexKey(k)))
    .map((entries) => new Map(entries));
}

/** Object arrays up to 4-D (0-d and empty included) of arbitrary values. */
export function objectArrayArb(value: Arb<BlobValue>): Arb<NDArray> {
  return shapeArb(4, 8).chain((shape) =>
    fc.array(value, { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((data) =>
      new NDArray("object", shape, data)
    )
  );
}

const fieldNameArb: Arb<string> = fc.oneof(
  fc.constantFrom("a", "b", "x1", "C", "é", "名前"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 5 }).filter((s) => !s.includes("\0")),
);

/** MATLAB struct arrays with at least one field (zero-field structs decode as `array(None)`). */
export function matStructArb(value: Arb<BlobValue>): Arb<MatStruct> {
  return fc.tuple(
    shapeArb(3, 6),
    fc.uniqueArray(fieldNameArb, { minLength: 1, maxLength: 3 }),
  ).chain(([shape, fields]) =>
    fc.array(fc.array(value, { minLength: fields.length, maxLength: fields.length }), {
      minLength: sizeOf(shape),
      maxLength: sizeOf(shape),
    }).map((records) => new MatStruct(shape, fields, records))
  );
}

/** MATLAB cell arrays up to 4-D. */
export function matCellArb(value: Arb<BlobValue>): Arb<MatCell> {
  return shapeArb(4, 6).chain((shape) =>
    fc.array(value, { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((data) =>
      new MatCell(shape, data)
    )
  );
}

/** NumPy record arrays: 1–3 fields of any dtype (object included), nested record arrays too. */
export function recArrayArb(value: Arb<BlobValue>): Arb<RecArray> {
  const columnOf = (shape: number[], nested: number): Arb<NDArray | RecArray> => {
    const arrays: Arb<NDArray | RecArray> = fc.constantFrom(...ALL_DTYPES).chain((dtype) =>
      dtype === "object"
        ? fc.array(value, { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((data) =>
          new NDArray("object", shape, data)
        )
        : numericArrayOf(dtype, shape)
    );
    if (nested <= 0) return arrays;
    return fc.oneof({ weight: 4, arbitrary: arrays }, {
      weight: 1,
      arbitrary: recordsOf(shape, nested - 1),
    });
  };
  const recordsOf = (shape: number[], nested: number): Arb<RecArray> =>
    fc.uniqueArray(fieldNameArb, { minLength: 1, maxLength: 3 }).chain((names) =>
      fc.tuple(...names.map((name) => columnOf(shape, nested).map((c) => [name, c] as const)))
        .map((fields) => new RecArray(fields))
    );
  return shapeArb(3, 6).chain((shape) => recordsOf(shape, 1));
}

// ---------------------------------------------------------------------------------------------
// Hand-built blob bytes (independent of the encoder)

const utf8 = new TextEncoder();

/** Little-endian u64 bytes of a non-negative integer below 2^64. */
export function u64(v: number | bigint): number[] {
  let x = BigInt(v);
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  }
  return out;
}

/** Little-endian u32 bytes. */
export function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Builders of single items (no header), written from the format description. */
export const item = {
  none: (): number[] => [0xff],
  bool: (b: boolean): number[] => [0x0b, b ? 1 : 0],
  /** Python's int item: `bit_length(|v|) // 8 + 1` bytes of two's complement. */
  int: (v: bigint): number[] => {
    const mag = v < 0n ? -v : v;
    const n = Math.floor((mag === 0n ? 0 : mag.toString(2).length) / 8) + 1;
    let x = BigInt.asUintN(8 * n, v);
    const out = [0x0a, n & 0xff, n >> 8];
    for (let i = 0; i < n; i++) {
      out.push(Number(x & 0xffn));
      x >>= 8n;
    }
    return out;
  },
  float: (x: number): number[] => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, true);
    return [0x0d, ...b];
  },
  str: (s: string): number[] => {
    const b = utf8.encode(s);
    return [0x05, ...u64(b.length), ...b];
  },
  decimal: (s: string): number[] => {
    const b = utf8.encode(s);
    return [0x64, ...u64(b.length), ...b];
  },
  framed: (it: number[]): number[] => [...u64(it.length), ...it],
  list: (
    items: number[][],
  ): number[] => [0x02, ...u64(items.length), ...items.flatMap(item.framed)],
  tuple: (items: number[][]): number[] => [
    0x01,
    ...u64(items.length),
    ...items.flatMap(item.framed),
  ],
  set: (items: number[][]): number[] => [0x03, ...u64(items.length), ...items.flatMap(item.framed)],
  dict: (pairs: [number[], number[]][]): number[] => [
    0x04,
    ...u64(pairs.length),
    ...pairs.flatMap(([k, v]) => [...item.framed(k), ...item.framed(v)]),
  ],
};

/** `"dj0\0"` + the item, as a Uint8Array. */
export function dj0(it: number[]): Uint8Array {
  return new Uint8Array([0x64, 0x6a, 0x30, 0x00, ...it]);
}

/** `"mYm\0"` + the item, as a Uint8Array. */
export function mym(it: number[]): Uint8Array {
  return new Uint8Array([0x6d, 0x59, 0x6d, 0x00, ...it]);
}

// ---------------------------------------------------------------------------------------------
// MATLAB-shaped values (for the header rule)

const MATLAB_DTYPES = NUMERIC_DTYPES.filter((d) => !d.startsWith("datetime64"));

/** Values that mostly stay `mYm`: numeric/char arrays in cells and structs, rarely a dj0 item. */
export const matlabValueArb: Arb<BlobValue> = (() => {
  const mymLeaf: Arb<BlobValue> = fc.constantFrom(...MATLAB_DTYPES).chain((dtype) =>
    shapeArb(4, 12)
      .filter((shape) => dtype === "char" || shape.length > 0)
      .chain((shape) => numericArrayOf(dtype, shape))
  );
  const dj0Leaf: Arb<BlobValue> = fc.oneof(
    scalarArrayArb,
    datetimeArrayArb,
    fc.constant(NDArray.objects([])),
    leafArb,
  );
  const leaf = fc.oneof({ weight: 12, arbitrary: mymLeaf }, { weight: 1, arbitrary: dj0Leaf });
  const level1 = fc.oneof(
    { weight: 2, arbitrary: leaf },
    { weight: 1, arbitrary: matCellArb(leaf) },
    { weight: 1, arbitrary: matStructArb(leaf) },
  );
  return fc.oneof(
    { weight: 1, arbitrary: level1 },
    { weight: 1, arbitrary: matCellArb(level1) },
    { weight: 1, arbitrary: matStructArb(level1) },
  );
})();
