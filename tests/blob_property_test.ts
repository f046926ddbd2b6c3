/**
 * Property-based tests of the blob serializer (fixed seeds, so every run checks the same inputs),
 * plus unit tests for specific hazards of hostile or unusual values.
 */

import { deflateSync, inflateSync } from "node:zlib";
import fc from "fast-check";
import {
  type BlobValue,
  Complex,
  Decimal,
  type DType,
  MatCell,
  MatStruct,
  NDArray,
  pack,
  RecArray,
  tuple,
  unpack,
  UUID,
} from "../codecs/blob/mod.ts";
import { isArrayIndexKey } from "../codecs/blob/values.ts";
import { BlobDecodeError, BlobEncodeError } from "../lib/errors.ts";
import {
  blobValueArb,
  dj0,
  item,
  itemSizeOf,
  leafArb,
  matCellArb,
  matlabValueArb,
  matStructArb,
  numericArrayArb,
  objectArrayArb,
  sizeOf,
  u32,
  u64,
} from "./_blob_arbitraries.ts";
import {
  assert,
  assertBlobEqual,
  assertThrowsA,
  blobDiff,
  bytesEqual,
  toHex,
} from "./_blob_equal.ts";

const SEED = 20240611;
const MYM = [0x6d, 0x59, 0x6d, 0x00];
const DJ0 = [0x64, 0x6a, 0x30, 0x00];
const ZL123 = [0x5a, 0x4c, 0x31, 0x32, 0x33, 0x00];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

function assertBytes(actual: Uint8Array, expected: Uint8Array | number[], what: string): void {
  const e = expected instanceof Uint8Array ? expected : new Uint8Array(expected);
  if (!bytesEqual(actual, e)) {
    let i = 0;
    while (i < actual.length && i < e.length && actual[i] === e[i]) i++;
    throw new Error(
      `${what}: bytes differ at offset ${i} (lengths ${actual.length} / ${e.length})\n` +
        `  actual:   ${toHex(actual.subarray(0, 400))}\n  expected: ${toHex(e.subarray(0, 400))}`,
    );
  }
}

/**
 * Python's header rule, written independently of the encoder: `dj0` as soon as the tree holds an
 * item other than A/S/C, or an A item that is 0-d numeric/bool, datetime64 or object. Char arrays
 * of any ndim stay `mYm`.
 */
function usesDj0(v: unknown): boolean {
  if (v instanceof NDArray) {
    if (v.dtype === "object" || v.dtype.startsWith("datetime64")) return true;
    return v.shape.length === 0 && v.dtype !== "char";
  }
  if (v instanceof MatStruct) return v.records.some((r) => r.some(usesDj0));
  if (v instanceof MatCell) return v.data.some(usesDj0);
  return true;
}

/** The plain blob inside a (possibly ZL123-compressed) blob, checking the wrapper's fields. */
function plainOf(bytes: Uint8Array): Uint8Array {
  if (!startsWith(bytes, ZL123)) return bytes;
  const claimed = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(6, true);
  const inflated = inflateSync(bytes.subarray(14));
  const plain = new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  assert(BigInt(plain.length) === claimed, `ZL123 length field ${claimed} ≠ ${plain.length}`);
  return plain;
}

function checkRoundTrip(value: BlobValue): void {
  const plain = pack(value, { compress: false });
  const packed = pack(value);
  // Header rule.
  const header = usesDj0(value) ? DJ0 : MYM;
  assert(
    startsWith(plain, header),
    `header ${toHex(plain.subarray(0, 4))}, expected ${usesDj0(value) ? "dj0" : "mYm"}`,
  );
  // Compression rule: compressed iff longer than 1000 bytes and that makes it shorter.
  if (startsWith(packed, ZL123)) {
    assert(plain.length > 1000, `compressed a ${plain.length}-byte blob`);
    assert(packed.length < plain.length, `compressed form is not shorter`);
    assertBytes(plainOf(packed), plain, "ZL123 payload");
  } else {
    assertBytes(packed, plain, "uncompressed pack() vs pack({compress: false})");
    if (plain.length > 1000) {
      const wrapped = 14 + deflateSync(plain).length;
      assert(wrapped >= plain.length, `not compressed, though ${wrapped} < ${plain.length} bytes`);
    }
  }
  // Round trips.
  assertBlobEqual(unpack(plain), value, "unpack(pack(v, {compress: false}))");
  assertBlobEqual(unpack(packed), value, "unpack(pack(v))");
  // Idempotent re-encoding.
  assertBytes(pack(unpack(plain), { compress: false }), plain, "pack(unpack(pack(v)))");
  assertBytes(pack(unpack(packed)), packed, "pack(unpack(pack(v))) compressed");
}

Deno.test("property: random nested values round-trip exactly, idempotently, with Python's header", () => {
  fc.assert(fc.property(blobValueArb(), checkRoundTrip), { seed: SEED, numRuns: 400 });
});

Deno.test("property: NDArrays of every dtype, up to 4-D, round-trip exactly", () => {
  fc.assert(fc.property(numericArrayArb, checkRoundTrip), { seed: SEED + 1, numRuns: 600 });
});

Deno.test("property: MATLAB-shaped values get mYm exactly when nothing needs dj0", () => {
  let mymCount = 0;
  fc.assert(
    fc.property(matlabValueArb, (v) => {
      checkRoundTrip(v);
      if (!usesDj0(v)) mymCount++;
    }),
    { seed: SEED + 2, numRuns: 300 },
  );
  // The generator must exercise both outcomes for the header rule to be tested at all.
  assert(mymCount > 50 && mymCount < 290, `only ${mymCount} of 300 values were mYm-only`);
});

Deno.test("property: big values cross the compression threshold and round-trip", () => {
  const big = fc.tuple(blobValueArb({ depth: 1 }), fc.integer({ min: 100, max: 400 })).map((
    [v, n],
  ) => [v, new NDArray("float64", [n], new Float64Array(n).fill(1.5)), "x".repeat(n)]);
  let compressed = 0;
  fc.assert(
    fc.property(big, (v) => {
      checkRoundTrip(v);
      if (startsWith(pack(v), ZL123)) compressed++;
    }),
    { seed: SEED + 3, numRuns: 60 },
  );
  assert(compressed > 30, `only ${compressed} of 60 big values were compressed`);
});

// ---------------------------------------------------------------------------------------------
// F order, checked against bytes computed here (not just round trips).

const TYPE_IDS: Record<string, number> = {
  bool: 3,
  char: 4,
  object: 5,
  float64: 6,
  float32: 7,
  complex128: 6,
  complex64: 7,
  int8: 8,
  uint8: 9,
  int16: 10,
  uint16: 11,
  int32: 12,
  uint32: 13,
  int64: 14,
  uint64: 15,
};
["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as"].forEach((u, i) => {
  TYPE_IDS[`datetime64[${u}]`] = 65536 + i;
});

/** C-order index of each F-order position. */
function fOrder(shape: readonly number[]): number[] {
  const n = sizeOf(shape);
  const cStride = shape.map((_, k) => sizeOf(shape.slice(k + 1)));
  const out: number[] = [];
  for (let p = 0; p < n; p++) {
    let rest = p;
    let c = 0;
    for (let k = 0; k < shape.length; k++) {
      c += (rest % shape[k]) * cStride[k];
      rest = Math.floor(rest / shape[k]);
    }
    out.push(c);
  }
  return out;
}

function dims(shape: readonly number[]): number[] {
  return [...u64(shape.length), ...shape.flatMap((d) => u64(d))];
}

function framedElement(v: unknown): number[] {
  return item.framed([...pack(v, { compress: false }).subarray(4)]);
}

/** The expected item bytes of an NDArray, MatCell or MatStruct, elements in F order. */
function expectedItem(v: NDArray | MatCell | MatStruct): number[] {
  if (v instanceof MatCell) {
    return [0x43, ...dims(v.shape), ...fOrder(v.shape).flatMap((c) => framedElement(v.data[c]))];
  }
  if (v instanceof MatStruct) {
    const names = v.fields.flatMap((f) => [...new TextEncoder().encode(f), 0]);
    return [
      0x53,
      ...dims(v.shape),
      ...u32(v.fields.length),
      ...names,
      ...fOrder(v.shape).flatMap((c) => v.records[c].flatMap(framedElement)),
    ];
  }
  const head = [
    0x41,
    ...dims(v.shape),
    ...u32(TYPE_IDS[v.dtype]),
    ...u32(v.imag ? 1 : 0),
  ];
  if (v.dtype === "object") {
    return [...head, ...fOrder(v.shape).flatMap((c) => framedElement((v.data as unknown[])[c]))];
  }
  const size = itemSizeOf(v.dtype);
  const planeBytes = (plane: ArrayBufferView) => {
    const b = new Uint8Array(plane.buffer, plane.byteOffset, plane.byteLength);
    return fOrder(v.shape).flatMap((c) => [...b.subarray(c * size, c * size + size)]);
  };
  return [
    ...head,
    ...planeBytes(v.data as ArrayBufferView),
    ...(v.imag ? planeBytes(v.imag as ArrayBufferView) : []),
  ];
}

Deno.test("property: arrays, cells and structs are written in F order with the A/C/S layout", () => {
  const leafy = fc.oneof(leafArb, numericArrayArb);
  const arb = fc.oneof(
    { weight: 3, arbitrary: numericArrayArb },
    { weight: 1, arbitrary: objectArrayArb(leafy) },
    { weight: 1, arbitrary: matCellArb(leafy) },
    { weight: 1, arbitrary: matStructArb(leafy) },
  );
  fc.assert(
    fc.property(arb, (v) => {
      const expected = [...(usesDj0(v) ? DJ0 : MYM), ...expectedItem(v)];
      assertBytes(pack(v, { compress: false }), expected, "pack(v) vs F-order bytes");
      assertBlobEqual(unpack(new Uint8Array(expected)), v, "unpack(F-order bytes)");
    }),
    { seed: SEED + 4, numRuns: 500 },
  );
});

Deno.test("F order: a 2-D int16 array against hand-computed bytes", () => {
  const a = new NDArray("int16", [2, 3], new Int16Array([1, 2, 3, 4, 5, 6]));
  const hex = "6d596d00" + "41" + "0200000000000000" + "0200000000000000" + "0300000000000000" +
    "0a000000" + "00000000" + "0100" + "0400" + "0200" + "0500" + "0300" + "0600";
  assert(toHex(pack(a, { compress: false })) === hex, toHex(pack(a, { compress: false })));
  const back = unpack(pack(a)) as NDArray;
  assert(
    Array.from(back.data as Int16Array).join() === "1,2,3,4,5,6",
    `C order back: ${back.data}`,
  );
});

Deno.test("F order: a 3-D uint8 array against hand-computed bytes", () => {
  // C data 0..11 in shape [2, 2, 3]; F position i + 2j + 4k holds C element 6i + 3j + k.
  const a = new NDArray("uint8", [2, 2, 3], Uint8Array.from({ length: 12 }, (_, i) => i));
  const hex = "6d596d00" + "41" + "0300000000000000" + "0200000000000000" + "0200000000000000" +
    "0300000000000000" + "09000000" + "00000000" + "000603090107040a0208050b";
  assert(toHex(pack(a, { compress: false })) === hex, toHex(pack(a, { compress: false })));
  const back = unpack(new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)))) as NDArray;
  assert(
    Array.from(back.data as Uint8Array).join() === "0,1,2,3,4,5,6,7,8,9,10,11",
    `C order back: ${back.data}`,
  );
});

// ---------------------------------------------------------------------------------------------
// Dict key order

Deno.test("property: a dict decodes with its keys in blob order (Map or plain object)", () => {
  const key = fc.oneof(
    fc.nat().map(String),
    fc.constantFrom("4294967294", "4294967295", "01", "-1", "1.5", "9007199254740993", "-0"),
    fc.string({ maxLength: 4 }),
  );
  fc.assert(
    fc.property(fc.uniqueArray(key, { minLength: 1, maxLength: 6 }), (keys) => {
      const bytes = dj0(item.dict(keys.map((k, i) => [item.str(k), item.int(BigInt(i))])));
      const back = unpack(bytes);
      const entries = back instanceof Map
        ? [...back]
        : Object.keys(back as object).map((k) => [k, (back as Record<string, unknown>)[k]]);
      assert(
        JSON.stringify(entries.map(([k]) => k)) === JSON.stringify(keys),
        `keys ${JSON.stringify(keys)} came back as ${JSON.stringify(entries.map(([k]) => k))}`,
      );
      entries.forEach(([, v], i) => assert(v === BigInt(i), `value of key #${i}`));
      assert(
        (back instanceof Map) === keys.some(isArrayIndexKey),
        `${back instanceof Map ? "Map" : "object"} for keys ${JSON.stringify(keys)}`,
      );
    }),
    { seed: SEED + 5, numRuns: 300 },
  );
});

// ---------------------------------------------------------------------------------------------
// Hazards

Deno.test("hazard: dict keys __proto__ and constructor decode as own properties", () => {
  const bytes = dj0(item.dict([
    [item.str("__proto__"), item.dict([[item.str("polluted"), item.bool(true)]])],
    [item.str("constructor"), item.int(1n)],
    [item.str("toString"), item.str("x")],
  ]));
  for (const b of [bytes, pack(unpack(bytes))]) {
    const v = unpack(b) as Record<string, BlobValue>;
    assert(Object.getPrototypeOf(v) === Object.prototype, "prototype changed");
    assert(Object.hasOwn(v, "__proto__"), "__proto__ is not an own property");
    assert(Object.hasOwn(v, "constructor") && v["constructor"] === 1n, "constructor");
    assert(Object.hasOwn(v, "toString") && v["toString"] === "x", "toString");
    assert(JSON.stringify(Object.keys(v)) === '["__proto__","constructor","toString"]', "order");
    const inner = Object.getOwnPropertyDescriptor(v, "__proto__")!.value;
    assertBlobEqual(inner, { polluted: true });
    // deno-lint-ignore no-explicit-any
    assert(({} as any).polluted === undefined, "Object.prototype was polluted");
    assert(!("polluted" in Object.prototype), "Object.prototype was polluted");
  }
  // The same through pack of a plain object built with an own __proto__ key.
  const obj = Object.fromEntries([["__proto__", { polluted: 1n }], ["constructor", null]]);
  assertBlobEqual(unpack(pack(obj)), obj);
  // deno-lint-ignore no-explicit-any
  assert(({} as any).polluted === undefined, "Object.prototype was polluted");
});

Deno.test("hazard: a dict with an index-like key comes back as a Map in blob order", () => {
  const v = unpack(dj0(item.dict([
    [item.str("b"), item.int(1n)],
    [item.str("2"), item.int(2n)],
    [item.str("a"), item.int(3n)],
  ])));
  assert(v instanceof Map, `expected a Map, got ${v?.constructor?.name}`);
  assertBlobEqual(v, new Map<BlobValue, BlobValue>([["b", 1n], ["2", 2n], ["a", 3n]]));
  // A plain object with such a key (which JS reorders) packs in JS order and decodes as a Map.
  const w = unpack(pack({ b: 1n, 2: 2n }));
  assertBlobEqual(w, new Map<BlobValue, BlobValue>([["2", 2n], ["b", 1n]]));
});

Deno.test("hazard: repeated dict keys keep the first position and the last value", () => {
  const v = unpack(dj0(item.dict([
    [item.str("a"), item.int(1n)],
    [item.str("b"), item.int(2n)],
    [item.str("a"), item.int(3n)],
  ])));
  assertBlobEqual(v, { a: 3n, b: 2n });
  // Python-equal keys of different types: 1, "k", True, 1.0 → {1: 'w', 'k': 'y'}.
  const m = unpack(dj0(item.dict([
    [item.int(1n), item.str("x")],
    [item.str("k"), item.str("y")],
    [item.bool(true), item.str("z")],
    [item.float(1), item.str("w")],
  ])));
  assertBlobEqual(m, new Map<BlobValue, BlobValue>([[1n, "w"], ["k", "y"]]));
  // A string key repeated after the switch to a Map.
  const n = unpack(dj0(item.dict([
    [item.str("k"), item.int(1n)],
    [item.int(5n), item.int(2n)],
    [item.str("k"), item.int(3n)],
  ])));
  assertBlobEqual(n, new Map<BlobValue, BlobValue>([["k", 3n], [5n, 2n]]));
});

Deno.test("hazard: repeated set elements collapse to the first", () => {
  const s = unpack(dj0(item.set([
    item.int(1n),
    item.bool(true),
    item.float(1),
    item.str("a"),
    item.str("a"),
    item.int(2n),
    item.decimal("2.000"),
    item.tuple([item.int(1n), item.str("t")]),
    item.tuple([item.bool(true), item.str("t")]),
  ])));
  assert(s instanceof Set, "not a Set");
  const elems = [...s];
  assert(elems.length === 4, `${elems.length} elements`);
  assertBlobEqual(elems.slice(0, 3), [1n, "a", 2n]);
  assertBlobEqual(elems[3], tuple(1n, "t"));
  // Two NaN elements are distinct in Python, but a JS Set holds one NaN number.
  const nans = unpack(dj0(item.set([item.float(NaN), item.float(NaN)]))) as Set<unknown>;
  assert(nans.size === 1 && Number.isNaN([...nans][0]), "NaN set");
});

Deno.test("hazard: Python-equal Map keys and Set elements are written once, as Python holds them", () => {
  // {1: 'a', 1.0: 'b', True: 'c', 'k': 'd', Decimal('1.0'): 'e'} is {1: 'e', 'k': 'd'} in Python.
  const map = new Map<BlobValue, BlobValue>([
    [1n, "a"],
    [1, "b"],
    [true, "c"],
    ["k", "d"],
    [new Decimal("1.0"), "e"],
  ]);
  const expected = new Map<BlobValue, BlobValue>([[1n, "e"], ["k", "d"]]);
  assert(toHex(pack(map)) === toHex(pack(expected)), "the blob of the collapsed dict");
  assertBlobEqual(unpack(pack(map)), expected);
  const set = new Set<BlobValue>([tuple(1n, "t"), 2n, tuple(true, "t"), 2, new Decimal("2.00")]);
  assert(toHex(pack(set)) === toHex(pack(new Set([tuple(1n, "t"), 2n]))), "the collapsed set");
  assertBlobEqual(unpack(pack(set)), new Set<BlobValue>([tuple(1n, "t"), 2n]));
  // Also with thousands of zeros: 10**5000 == Decimal('1E+5000') in Python (one dict key).
  const big = new Map<BlobValue, BlobValue>([[10n ** 5000n, "a"], [new Decimal("1E+5000"), "b"]]);
  assertBlobEqual(unpack(pack(big)), new Map<BlobValue, BlobValue>([[10n ** 5000n, "b"]]));
  const bigSet = new Set<BlobValue>([new Decimal("-1E+4096"), -(10n ** 4096n)]);
  assertBlobEqual(unpack(pack(bigSet)), new Set<BlobValue>([new Decimal("-1E+4096")]));
});

Deno.test("hazard: cycles are rejected with BlobEncodeError", () => {
  const list: unknown[] = [1n];
  list.push(list);
  assertThrowsA(() => pack(list), BlobEncodeError, /cycle/);
  const obj: Record<string, unknown> = {};
  obj.self = { inner: obj };
  assertThrowsA(() => pack(obj), BlobEncodeError, /cycle/);
  const map = new Map<unknown, unknown>();
  map.set(1n, [map]);
  assertThrowsA(() => pack(map), BlobEncodeError, /cycle/);
  const objects: unknown[] = [null];
  const arr = new NDArray("object", [1], objects);
  objects[0] = arr;
  assertThrowsA(() => pack(arr), BlobEncodeError, /cycle/);
  const cellData: unknown[] = [null];
  const cell = new MatCell([1], cellData);
  cellData[0] = cell;
  assertThrowsA(() => pack(cell), BlobEncodeError, /cycle/);
  const t = tuple<unknown[]>(1n);
  t.push([t]);
  assertThrowsA(() => pack(t), BlobEncodeError, /cycle/);
  // Shared, acyclic references are fine.
  const shared = [1n];
  assertBlobEqual(unpack(pack([shared, shared, { a: shared }])), [[1n], [1n], { a: [1n] }]);
});

function nestedLists(depth: number): unknown {
  let v: unknown = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

/** `depth` nested lists (the innermost empty) as hand-built bytes, without recursion. */
function nestedListBytes(depth: number): Uint8Array {
  const out = new Uint8Array(4 + 17 * (depth - 1) + 9);
  out.set(DJ0);
  const view = new DataView(out.buffer);
  let p = 4;
  for (let i = 0; i < depth - 1; i++) {
    out[p] = 0x02;
    view.setBigUint64(p + 1, 1n, true);
    view.setBigUint64(p + 9, BigInt(9 + 17 * (depth - 2 - i)), true);
    p += 17;
  }
  out[p] = 0x02;
  return out;
}

Deno.test("hazard: over-deep nesting is rejected on pack and unpack", () => {
  assertBlobEqual(unpack(nestedListBytes(5)), nestedLists(5) as BlobValue);
  const ok = nestedLists(500);
  assertBlobEqual(unpack(pack(ok)), ok as BlobValue);
  assertThrowsA(() => pack(nestedLists(600)), BlobEncodeError, /deeper/);
  assertThrowsA(() => unpack(nestedListBytes(600)), BlobDecodeError, /deeper/);
  assertThrowsA(() => pack(nestedLists(20), { maxDepth: 10 }), BlobEncodeError);
  assertThrowsA(() => unpack(pack(nestedLists(20)), { maxDepth: 10 }), BlobDecodeError);
});

Deno.test("hazard: strings with lone surrogates are rejected on pack", () => {
  for (const s of ["\uD800", "a\uDC00b", "abc\uDBFF", "\uDC00\uD800", "é\uD800"]) {
    const ctx = `${JSON.stringify(s)}: `;
    assertThrowsA(() => pack(s), BlobEncodeError, /surrogate/, ctx);
    assertThrowsA(() => pack([1n, s]), BlobEncodeError, /surrogate/, ctx);
    assertThrowsA(() => pack({ [s]: 1n }), BlobEncodeError, /surrogate/, ctx);
    assertThrowsA(() => pack(new Map([[1n, s]])), BlobEncodeError, /surrogate/, ctx);
    assertThrowsA(() => pack(new Set([s])), BlobEncodeError, /surrogate/, ctx);
  }
  // A well-formed surrogate pair is fine.
  assertBlobEqual(unpack(pack("\uD83D\uDE00")), "😀");
});

Deno.test("hazard: struct and recarray field names with lone surrogates are rejected on pack", () => {
  // Field names are UTF-8 strings like any other: an unpaired surrogate has no UTF-8 form, so
  // packing must fail rather than silently write U+FFFD (which would change the field name).
  assertThrowsA(
    () => pack(new MatStruct([1], ["a\uD800"], [[1n]])),
    BlobEncodeError,
    undefined,
    "MatStruct field name: ",
  );
  assertThrowsA(
    () => pack(new RecArray([["b\uDC00", new NDArray("uint8", [1], new Uint8Array([1]))]])),
    BlobEncodeError,
    undefined,
    "RecArray field name: ",
  );
});

Deno.test("hazard: ints needing more than 65535 bytes are rejected", () => {
  // Python writes bit_length(|v|) // 8 + 1 bytes: 2^524278 + x (524279 bits) takes 65535 bytes.
  const largest = (1n << 524278n) + 12345n;
  assertBlobEqual(unpack(pack(largest)), largest);
  assertBlobEqual(unpack(dj0(item.int(-largest))), -largest);
  assertThrowsA(() => pack(1n << 524279n), BlobEncodeError, /65535/); // 65536 bytes
  assertThrowsA(() => pack(-(1n << 524279n)), BlobEncodeError, /65535/);
  assertThrowsA(() => pack([0n, { k: 1n << 600000n }]), BlobEncodeError, /65535/);
});

Deno.test("hazard: dates outside years 1..9999 and nanosecond Temporals are rejected", () => {
  const bad: unknown[] = [
    Temporal.PlainDate.from({ year: 0, month: 12, day: 31 }),
    Temporal.PlainDate.from({ year: 10000, month: 1, day: 1 }),
    Temporal.PlainDate.from({ year: -5, month: 6, day: 1 }),
    Temporal.PlainDateTime.from({ year: 10000, month: 1, day: 1 }),
    Temporal.PlainDateTime.from({ year: 0, month: 1, day: 1, hour: 3 }),
    new Date(Date.UTC(10000, 0, 1)),
    new Date("-000001-01-01T00:00:00Z"),
    new Temporal.PlainTime(0, 0, 0, 0, 0, 1),
    new Temporal.PlainTime(23, 59, 59, 999, 999, 999),
    Temporal.PlainDateTime.from("2024-01-01T00:00:00.000000001"),
    new Date(NaN),
  ];
  for (const v of bad) assertThrowsA(() => pack(v), BlobEncodeError, undefined, `${v}: `);
  // The edges themselves are fine.
  for (
    const v of [
      Temporal.PlainDate.from("0001-01-01"),
      Temporal.PlainDateTime.from("9999-12-31T23:59:59.999999"),
      new Temporal.PlainTime(23, 59, 59, 999, 999),
    ]
  ) {
    assertBlobEqual(unpack(pack(v)), v);
  }
});

Deno.test("normalisations: documented non-identity round trips", () => {
  // Zero-field struct → 0-d object array holding None.
  const none0d = new NDArray("object", [], [null]);
  assertBlobEqual(unpack(pack(new MatStruct([2], [], [[], []]))), none0d);
  // undefined → null; Date → PlainDateTime; Int32Array → 1-D NDArray; Map of plain string keys → object.
  assertBlobEqual(unpack(pack(undefined)), null);
  assertBlobEqual(
    unpack(pack(new Date(Date.UTC(2024, 1, 29, 12, 30, 0, 250)))),
    Temporal.PlainDateTime.from("2024-02-29T12:30:00.25"),
  );
  assertBlobEqual(
    unpack(pack(new Int32Array([1, -2]))),
    new NDArray("int32", [2], new Int32Array([1, -2])),
  );
  assertBlobEqual(unpack(pack(new Map([["x", 1n], ["y", 2n]]))), { x: 1n, y: 2n });
  // The equality helper itself keeps the distinctions the round trips rely on.
  assert(blobDiff(1n, 1) !== undefined, "bigint vs number");
  assert(blobDiff(-0, 0) !== undefined, "-0 vs 0");
  assert(blobDiff(NaN, NaN) === undefined, "NaN vs NaN");
  assert(blobDiff(tuple(1n), [1n]) !== undefined, "tuple vs list");
  assert(blobDiff(new Map([["a", 1n]]), { a: 1n }) !== undefined, "Map vs object");
  assert(blobDiff({ a: 1n, b: 2n }, { b: 2n, a: 1n }) !== undefined, "key order");
  assert(blobDiff(new Set([1n, "a"]), new Set(["a", 1n])) === undefined, "set order");
  assert(blobDiff(new Set([1n]), new Set([true])) !== undefined, "set 1n vs true");
  assert(blobDiff(new Decimal("1.0"), new Decimal("1.00")) !== undefined, "Decimal digits");
  assert(
    blobDiff(new UUID("12345678-1234-5678-1234-567812345678"), new UUID(new Uint8Array(16))) !==
      undefined,
    "UUID",
  );
  assert(blobDiff(new Complex(0, -0), new Complex(0, 0)) !== undefined, "complex -0");
  const nan1 = new Float64Array([NaN]);
  const nan2 = new Float64Array(new BigUint64Array([0x7ff0000000000001n]).buffer);
  const dt: DType = "float64";
  assert(
    blobDiff(new NDArray(dt, [1], nan1), new NDArray(dt, [1], nan2)) !== undefined,
    "NaN payload bits in float arrays",
  );
  assert(
    blobDiff(
      new NDArray("uint8", [1], new Uint8Array(1)),
      new NDArray("bool", [1], new Uint8Array(1)),
    ) !==
      undefined,
    "dtype",
  );
  assert(
    blobDiff(Temporal.PlainDate.from("2020-01-01"), Temporal.PlainDateTime.from("2020-01-01")) !==
      undefined,
    "date vs datetime",
  );
});

// ---------------------------------------------------------------------------------------------
// Inputs that made earlier versions backtrack quadratically (a regex over the whole Decimal text,
// a trailing-zero regex in hashing). They are large enough that such a regression takes minutes,
// which shows in the run; the assertions check the outcome only, never the time.

function decimalItem(text: string): Uint8Array {
  const b = new TextEncoder().encode(text);
  return new Uint8Array([0x64, ...u64(b.length), ...b]);
}

Deno.test("hazard: a Decimal item of 200 kB whitespace then junk is rejected", () => {
  const it = decimalItem(" ".repeat(200_000) + "x");
  assertThrowsA(() => unpack(new Uint8Array([...DJ0, ...it])), BlobDecodeError);
});

Deno.test("hazard: a set holding a Decimal with 200 kB of inner zeros decodes", () => {
  const text = "1" + "0".repeat(200_000) + "1";
  const it = decimalItem(text);
  const set = unpack(new Uint8Array([...DJ0, 0x03, ...u64(1), ...u64(it.length), ...it]));
  assert(set instanceof Set && set.size === 1, "a one-element set");
  assert(String([...set][0]) === text, "the Decimal keeps every digit");
});
