/**
 * The `.npy` format: golden files written by NumPy through DataJoint Python, round trips for every
 * dtype, hand-built Fortran-order / big-endian / old-version files (built here from the format
 * specification, not with the code under test), hostile input, and interop with a real NumPy
 * when `python3` has one.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CodecError, CorruptObjectError, DataJointError } from "../lib/errors.ts";
import { NAT } from "../codecs/blob/dtype.ts";
import { NDArray } from "../codecs/blob/ndarray.ts";
import { Complex } from "../codecs/blob/scalars.ts";
import {
  decodeNpy,
  decodeNpyData,
  encodeNpy,
  npyDtypeName,
  npyHeaderSize,
  npyRowRange,
  parseNpyDType,
  parseNpyHeader,
} from "../codecs/npy_format.ts";
import { GOLDEN_ROOT, goldenFile } from "./_golden.ts";
import { ascii, buildNpy, concat } from "./_npy.ts";

// ---------------------------------------------------------------------------------------------
// helpers independent of the code under test

/** Bytes of numbers written one by one with DataView in the given byte order. */
function be(
  kind: "i2" | "u2" | "i4" | "f4" | "f8" | "i8" | "u4",
  values: number[],
  little = false,
) {
  const size = Number(kind.slice(1));
  const out = new Uint8Array(size * values.length);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    const p = i * size;
    if (kind === "i2") dv.setInt16(p, v, little);
    else if (kind === "u2") dv.setUint16(p, v, little);
    else if (kind === "i4") dv.setInt32(p, v, little);
    else if (kind === "u4") dv.setUint32(p, v, little);
    else if (kind === "f4") dv.setFloat32(p, v, little);
    else if (kind === "f8") dv.setFloat64(p, v, little);
    else dv.setBigInt64(p, BigInt(v), little);
  });
  return out;
}

const dict = (descr: string, fortran: boolean, shape: string) =>
  `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': ${shape}, }`;

function assertSameArray(actual: NDArray, expected: NDArray): void {
  assert.equal(actual.dtype, expected.dtype);
  assert.deepEqual([...actual.shape], [...expected.shape]);
  const a = actual.data as ArrayLike<unknown>;
  const e = expected.data as ArrayLike<unknown>;
  assert.equal(a.length, e.length);
  for (let i = 0; i < e.length; i++) {
    if (e[i] instanceof Uint8Array) assert.deepEqual(a[i], e[i]);
    else assert.ok(Object.is(a[i], e[i]), `element ${i}: ${a[i]} !== ${e[i]}`);
  }
  if (expected.imag) {
    for (let i = 0; i < e.length; i++) {
      assert.ok(Object.is((actual.imag as Float64Array)[i], (expected.imag as Float64Array)[i]));
    }
  } else {
    assert.equal(actual.imag, undefined);
  }
}

/** Whether `fn` throws a DataJointError (or the given subclass) quickly. */
function assertRejects(
  bytes: Uint8Array,
  cls: typeof DataJointError = DataJointError,
  pattern?: RegExp,
): void {
  const t0 = performance.now();
  assert.throws(() => decodeNpy(bytes), (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    if (pattern) assert.match((e as Error).message, pattern);
    return true;
  });
  assert.ok(performance.now() - t0 < 200, "rejection must be fast");
}

// ---------------------------------------------------------------------------------------------
// golden files

const metadataFile = goldenFile("ddl/store-metadata.json");

async function goldenNpyFiles(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.name.endsWith(".npy")) out.push(p);
    }
  };
  await walk(new URL("ddl/store", GOLDEN_ROOT).pathname);
  return out.sort();
}

Deno.test({
  name:
    "npy golden: every NumPy-written file decodes to the inserted values and re-encodes identically",
  ignore: metadataFile.ignore,
  fn: async () => {
    const meta = JSON.parse(await Deno.readTextFile(metadataFile.url));
    const npy = meta.examples["<npy@>"];
    const files = await goldenNpyFiles();
    assert.equal(files.length, 4);
    let floatRows = 0;
    let intRows = 0;
    for (const file of files) {
      const bytes = await Deno.readFile(file);
      const header = parseNpyHeader(bytes);
      assert.equal(header.version, 1);
      assert.equal(header.headerLength, 128);
      assert.equal(header.fortranOrder, false);
      const a = decodeNpy(bytes);
      if (a.dtype === "float32") {
        floatRows++;
        const backend = file.includes("/mysql/") ? "mysql" : "postgresql";
        assert.ok(file.endsWith(npy[backend].metadata.path));
        assert.equal(header.dtype, npy[backend].metadata.dtype);
        assert.deepEqual([...a.shape], npy[backend].metadata.shape);
        assert.equal(bytes.length, npy[backend].object.size);
        // The README prints the first row to ~7 significant digits.
        const first = [0.1257302, -0.13210486, 0.64042264];
        first.forEach((v, i) => assert.ok(Math.abs((a.at(0, i) as number) - v) < 5e-8));
        const data = a.data as Float32Array;
        const mean = data.reduce((s, x) => s + x, 0) / data.length;
        assert.ok(Math.abs(mean - 0.022070780396461487) < 1e-7, `mean ${mean}`);
      } else {
        intRows++;
        assert.equal(a.dtype, "int64");
        assert.equal(header.dtype, "int64");
        assert.deepEqual([...a.data as BigInt64Array], [0n, 1n, 2n, 3n, 4n, 5n]);
      }
      assert.deepEqual(encodeNpy(a), bytes, `${file} re-encodes byte for byte`);
      assert.equal(npyDtypeName(a), header.dtype);
    }
    assert.equal(floatRows, 2);
    assert.equal(intRows, 2);
  },
});

// ---------------------------------------------------------------------------------------------
// encoding layout

Deno.test("npy encode: NumPy 2 header layout (sorted keys, growth room, 64-byte alignment)", () => {
  const bytes = encodeNpy(NDArray.from(new BigInt64Array([0n, 1n, 2n, 3n, 4n, 5n])));
  const text = dict("<i8", false, "(6,)") + " ".repeat(20);
  const expected = buildNpy(text, be("i8", [0, 1, 2, 3, 4, 5], true));
  assert.deepEqual(bytes, expected);
  assert.equal(expected.length, 128 + 48);

  const cases: [NDArray, string, string][] = [
    [NDArray.scalar("float64", 1.5), "<f8", "()"],
    [NDArray.from(new Float32Array(0), [0]), "<f4", "(0,)"],
    [NDArray.from(new Int16Array(24), [2, 3, 4]), "<i2", "(2, 3, 4)"],
    [NDArray.bool([true]), "|b1", "(1,)"],
    [NDArray.from(new Uint8Array(1)), "|u1", "(1,)"],
    [new NDArray("datetime64[ms]", [1], new BigInt64Array(1)), "<M8[ms]", "(1,)"],
    [NDArray.complex(new Float32Array(1), new Float32Array(1)), "<c8", "(1,)"],
    [NDArray.objects(["ab", "c"]), "<U2", "(2,)"],
    [NDArray.objects([new Uint8Array([1, 2, 3])]), "|S3", "(1,)"],
    [NDArray.char("hi"), "<U1", "(1, 2)"],
  ];
  for (const [array, descr, shape] of cases) {
    const out = encodeNpy(array);
    const growth = array.ndim === 0 ? "" : " ".repeat(21 - String(array.shape[0]).length);
    const head = buildNpy(dict(descr, false, shape) + growth, new Uint8Array(0));
    assert.deepEqual(out.subarray(0, head.length), head, descr);
    assert.equal(head.length % 64, 0);
    assert.equal(parseNpyHeader(out).descr, descr);
  }
  // A many-axis shape needs a longer header, still a multiple of 64.
  const deep = encodeNpy(NDArray.from(new Float64Array(1), new Array(40).fill(1)));
  assert.equal(npyHeaderSize(deep), 256);
  assert.throws(
    () => encodeNpy(NDArray.from(new Float64Array(1), new Array(65).fill(1))),
    CodecError,
  );
});

Deno.test("npy encode: object arrays only as all-strings (<U n) or all-bytes (|S n)", () => {
  for (const bad of [NDArray.objects([1, "a"]), NDArray.objects([]), NDArray.objects([null])]) {
    assert.throws(() => encodeNpy(bad), (e: unknown) => {
      assert.ok(e instanceof CodecError);
      assert.match((e as Error).message, /object arrays cannot be stored in \.npy/);
      return true;
    });
  }
  assert.throws(() => encodeNpy("x" as unknown as NDArray), CodecError);
  assert.equal(npyDtypeName(NDArray.objects(["", ""])), "<U1");
  assert.equal(npyDtypeName(NDArray.objects(["😀a"])), "<U2");
});

// ---------------------------------------------------------------------------------------------
// round trips

function roundTripCases(): NDArray[] {
  const shapes: number[][] = [[], [0], [2, 0, 3], [2, 3, 4], [5]];
  const out: NDArray[] = [];
  const make = <T extends { length: number }>(
    f: (n: number) => T,
  ) => shapes.map((s) => [s, f(s.reduce((a, b) => a * b, 1))] as const);
  for (const [s, d] of make((n) => Float64Array.from({ length: n }, (_, i) => i * 1.5 - 3))) {
    out.push(NDArray.from(d, s));
  }
  const specials = new Float64Array([NaN, -0, Infinity, -Infinity, 5e-324, 1.7976931348623157e308]);
  out.push(NDArray.from(specials), NDArray.from(new Float32Array(specials)));
  out.push(NDArray.from(new Int8Array([-128, 127, 0])), NDArray.from(new Uint8Array([255, 0])));
  out.push(NDArray.from(new Int16Array([-32768, 32767]), [2, 1]));
  out.push(NDArray.from(new Uint16Array([65535, 1]), [1, 2]));
  out.push(NDArray.from(new Int32Array([-(2 ** 31), 2 ** 31 - 1, 7, 8]), [2, 2]));
  out.push(NDArray.from(new Uint32Array([2 ** 32 - 1, 0])));
  out.push(NDArray.from(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]), [1, 1, 2]));
  out.push(NDArray.from(new BigUint64Array([2n ** 64n - 1n, 0n])));
  out.push(NDArray.bool([true, false, true, true, false, false], [2, 3]));
  out.push(NDArray.scalar("bool", true), NDArray.scalar("int16", -7), NDArray.scalar("uint64", 9n));
  out.push(
    NDArray.complex(new Float64Array([1, -0, NaN]), new Float64Array([-2, 3.5, Infinity]), [3, 1]),
  );
  out.push(NDArray.complex(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), [2, 2]));
  out.push(NDArray.scalar("complex128", new Complex(1, -1)));
  for (const unit of ["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as"]) {
    out.push(
      new NDArray(`datetime64[${unit}]` as "datetime64[D]", [3], new BigInt64Array([0n, NAT, -1n])),
    );
  }
  out.push(NDArray.objects(["ab", "", "😀\u00e9x", "a\0b"], [2, 2]));
  out.push(NDArray.objects(["x"], []));
  out.push(NDArray.objects([new Uint8Array([0, 1]), new Uint8Array([255]), new Uint8Array(0)]));
  return out;
}

Deno.test("npy round trip: every dtype, 0-d, empty and 3-d arrays", () => {
  for (const array of roundTripCases()) {
    const bytes = encodeNpy(array);
    const header = parseNpyHeader(bytes);
    assert.equal(header.headerLength % 64, 0);
    assert.equal(header.dtype, npyDtypeName(array));
    assert.deepEqual([...header.shape], [...array.shape]);
    assert.equal(header.dataLength, bytes.length - header.headerLength);
    const back = decodeNpy(bytes);
    assertSameArray(back, array);
    assert.deepEqual(encodeNpy(back), bytes, `${array.dtype} re-encodes identically`);
  }
});

Deno.test("npy round trip: char arrays are written as <U1 and read back as strings", () => {
  const back = decodeNpy(encodeNpy(NDArray.char("hé")));
  assert.equal(back.dtype, "object");
  assert.deepEqual([...back.shape], [1, 2]);
  assert.deepEqual(back.data, ["h", "é"]);
});

Deno.test("npy decode: the result never aliases the input and is aligned", () => {
  const bytes = encodeNpy(NDArray.from(new Float64Array([1, 2, 3])));
  // Decode from an odd offset inside a larger buffer.
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  const a = decodeNpy(shifted.subarray(3));
  assert.deepEqual([...a.data as Float64Array], [1, 2, 3]);
  assert.equal((a.data as Float64Array).byteOffset % 8, 0);
  shifted.fill(0);
  assert.deepEqual([...a.data as Float64Array], [1, 2, 3]);
});

// ---------------------------------------------------------------------------------------------
// hand-built files: Fortran order, big-endian, other versions and spellings

Deno.test("npy decode: Fortran order is transposed to C order", () => {
  // [[1, 2, 3], [4, 5, 6]] stored column by column.
  const f = buildNpy(dict("<i4", true, "(2, 3)"), be("i4", [1, 4, 2, 5, 3, 6], true));
  const a = decodeNpy(f);
  assert.deepEqual([...a.data as Int32Array], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...a.shape], [2, 3]);

  // 3-d: element (i, j, k) = 100i + 10j + k, F order = i fastest.
  const vals: number[] = [];
  for (let k = 0; k < 4; k++) {
    for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) vals.push(100 * i + 10 * j + k);
  }
  const g = decodeNpy(buildNpy(dict("<f8", true, "(2, 3, 4)"), be("f8", vals, true)));
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 3; j++) {
      for (let k = 0; k < 4; k++) assert.equal(g.at(i, j, k), 100 * i + 10 * j + k);
    }
  }

  // Complex F order: interleaved pairs, then transposed.
  const cplx = be("f8", [1, -1, 3, -3, 2, -2, 4, -4], true); // (0,0) (1,0) (0,1) (1,1)
  const c = decodeNpy(buildNpy(dict("<c16", true, "(2, 2)"), cplx));
  assert.deepEqual([...c.data as Float64Array], [1, 2, 3, 4]);
  assert.deepEqual([...c.imag as Float64Array], [-1, -2, -3, -4]);

  // Strings and bools in F order.
  const u = new Uint8Array(4 * 4);
  const dv = new DataView(u.buffer);
  ["a", "c", "b", "d"].forEach((s, i) => dv.setUint32(4 * i, s.charCodeAt(0), true));
  assert.deepEqual(decodeNpy(buildNpy(dict("<U1", true, "(2, 2)"), u)).data, ["a", "b", "c", "d"]);
  const s = decodeNpy(buildNpy(dict("|S1", true, "(2, 2)"), ascii("acbd")));
  assert.deepEqual(s.data, [ascii("a"), ascii("b"), ascii("c"), ascii("d")]);
  const b = decodeNpy(buildNpy(dict("|b1", true, "(2, 2)"), new Uint8Array([1, 0, 0, 7])));
  assert.deepEqual([...b.data as Uint8Array], [1, 0, 0, 1]);
});

Deno.test("npy decode: big-endian descrs are byte-swapped", () => {
  const f8 = decodeNpy(buildNpy(dict(">f8", false, "(3,)"), be("f8", [1.5, -2, NaN])));
  assert.equal(f8.dtype, "float64");
  assert.deepEqual([...f8.data as Float64Array], [1.5, -2, NaN]);
  assert.equal(parseNpyHeader(buildNpy(dict(">f8", false, "(0,)"), new Uint8Array())).dtype, ">f8");

  const i2 = decodeNpy(buildNpy(dict(">i2", false, "(2,)"), be("i2", [-2, 300])));
  assert.deepEqual([...i2.data as Int16Array], [-2, 300]);
  const u4 = decodeNpy(buildNpy(dict(">u4", false, "(1,)"), be("u4", [0xdeadbeef])));
  assert.deepEqual([...u4.data as Uint32Array], [0xdeadbeef]);
  const i8 = decodeNpy(buildNpy(dict(">i8", true, "(2, 2)"), be("i8", [1, 3, 2, 4])));
  assert.deepEqual([...i8.data as BigInt64Array], [1n, 2n, 3n, 4n]);
  const m8 = decodeNpy(buildNpy(dict(">M8[s]", false, "(1,)"), be("i8", [-5])));
  assert.equal(m8.dtype, "datetime64[s]");
  assert.deepEqual([...m8.data as BigInt64Array], [-5n]);

  // >c8: each float32 part swapped on its own, F order on top.
  const c = decodeNpy(buildNpy(dict(">c8", true, "(1, 2)"), be("f4", [1, 2, 3, 4])));
  assert.equal(c.dtype, "complex64");
  assert.deepEqual([...c.data as Float32Array], [1, 3]);
  assert.deepEqual([...c.imag as Float32Array], [2, 4]);

  const u = new Uint8Array(8);
  new DataView(u.buffer).setUint32(0, 0x1f600, false);
  new DataView(u.buffer).setUint32(4, 0x41, false);
  const s = decodeNpy(buildNpy(dict(">U2", false, "(1,)"), u));
  assert.deepEqual(s.data, ["😀A"]);
  assert.equal(parseNpyHeader(buildNpy(dict(">U2", false, "(1,)"), u)).dtype, ">U2");
});

Deno.test("npy decode: versions 2.0 and 3.0, old 16-byte alignment and other spellings", () => {
  const data = be("f8", [1, 2], true);
  const v2 = buildNpy(dict("<f8", false, "(2,)"), data, { version: 2 });
  assert.equal(parseNpyHeader(v2).version, 2);
  assert.deepEqual([...decodeNpy(v2).data as Float64Array], [1, 2]);
  const v3 = buildNpy(dict("<f8", false, "(2,)"), data, { version: 3 });
  assert.equal(parseNpyHeader(v3).version, 3);
  assert.deepEqual([...decodeNpy(v3).data as Float64Array], [1, 2]);
  // NumPy < 1.9 aligned to 16 bytes and wrote no growth room.
  const old = buildNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data, {
    align: 16,
  });
  assert.equal(parseNpyHeader(old).headerLength % 16, 0);
  assert.deepEqual([...decodeNpy(old).data as Float64Array], [1, 2]);
  // Python 2 longs, double quotes, another key order, no trailing comma, '=' and no order prefix.
  const spellings = [
    `{"shape": (2L,), "fortran_order": False, "descr": "<f8"}`,
    `{'fortran_order':False,'shape':(2,),'descr':u'=f8'}`,
    `{'descr': 'f8', 'fortran_order': False, 'shape': ( 2 , ) }`,
  ];
  for (const text of spellings) {
    assert.deepEqual([...decodeNpy(buildNpy(text, data)).data as Float64Array], [1, 2], text);
  }
  // (2) is the int 2, not a tuple: NumPy rejects it as a shape.
  assertRejects(
    buildNpy(`{'descr': '<f8', 'fortran_order': False, 'shape': (2)}`, data),
    CorruptObjectError,
    /shape/,
  );
});

// ---------------------------------------------------------------------------------------------
// hostile input

Deno.test("npy decode: malformed files raise DataJointError subclasses quickly", () => {
  const good = encodeNpy(NDArray.from(new Float64Array([1, 2, 3])));
  const f8 = be("f8", [1, 2, 3], true);
  const h = (text: string, data = f8) => buildNpy(text, data);
  const lying = good.slice();
  new DataView(lying.buffer).setUint16(8, 60000, true);
  const lyingV2 = buildNpy(dict("<f8", false, "(3,)"), f8, { version: 2 });
  new DataView(lyingV2.buffer).setUint32(8, 0xffffffff, true);

  const corrupt: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /Truncated/],
    ["not npy", ascii("hello world, this is text"), /magic/],
    ["bad magic", concat(ascii("\x93NUMPX"), good.subarray(6)), /magic/],
    ["truncated in magic", good.subarray(0, 4), /Truncated/],
    ["truncated in length", good.subarray(0, 9), /Truncated/],
    ["truncated in header", good.subarray(0, 60), /Truncated/],
    ["truncated in data", good.subarray(0, good.length - 1), /Truncated/],
    ["trailing bytes", concat(good, new Uint8Array(1)), /unexpected bytes/],
    [
      "version 9.0",
      concat(good.subarray(0, 6), new Uint8Array([9, 0]), good.subarray(8)),
      /version/,
    ],
    ["lying header length", lying, /Truncated/],
    ["lying v2 header length", lyingV2, /claims/],
    ["not a dict", h("[1, 2, 3]"), /not a dictionary/],
    [
      "unterminated dict",
      h("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)"),
      /Bad .npy header/,
    ],
    [
      "garbage",
      h("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), } x"),
      /Bad .npy header/,
    ],
    ["unterminated string", h("{'descr: '<f8'}"), /Bad .npy header/],
    ["missing key", h("{'descr': '<f8', 'shape': (3,)}"), /keys/],
    ["extra key", h("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}"), /keys/],
    ["shape is a list", h(dict("<f8", false, "[3]")), /shape/],
    ["negative dim", h(dict("<f8", false, "(-3,)")), /negative/],
    ["float dim", h(dict("<f8", false, "(3.0,)")), /Bad .npy header/],
    ["string dim", h(dict("<f8", false, "('3',)")), /shape/],
    [
      "fortran_order not bool",
      h("{'descr': '<f8', 'fortran_order': 0, 'shape': (3,)}"),
      /fortran_order/,
    ],
    [
      "huge shape",
      h(dict("<f8", false, "(1000000000000000000, 1000000000000000000)")),
      /too large/,
    ],
    ["shape larger than data", h(dict("<f8", false, "(1099511627776,)")), /Truncated/],
    ["huge item size", h(dict("|S2147483647", false, "(1,)")), /Truncated/],
    ["too many dims", h(dict("<f8", false, `(${"1, ".repeat(65)})`)), /dimensions/],
    ["deep nesting", h("(".repeat(10_000)), /nesting/],
    ["huge integer", h(dict("<f8", false, `(${"9".repeat(500)},)`)), /Bad .npy header/],
    [
      "NUL in header",
      h("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}\0"),
      /Bad .npy header/,
    ],
    ["bad code point", h(dict("<U1", false, "(1,)"), be("u4", [0x110000], true)), /code point/],
  ];
  const badUtf8 = buildNpy(dict("<f8", false, "(3,)"), f8, { version: 3 });
  badUtf8[20] = 0xff;
  corrupt.push(["v3 header not UTF-8", badUtf8, /UTF-8/]);
  for (const [name, bytes, pattern] of corrupt) {
    try {
      assertRejects(bytes, CorruptObjectError, pattern);
    } catch (e) {
      throw new Error(`case "${name}": ${(e as Error).message}`, { cause: e });
    }
  }

  const unsupported: [string, Uint8Array, RegExp][] = [
    ["object", h(dict("|O", false, "(3,)")), /pickle/],
    [
      "structured",
      h("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,)}"),
      /structured/,
    ],
    ["float16", h(dict("<f2", false, "(3,)"), new Uint8Array(6)), /float16/],
    ["timedelta", h(dict("<m8[s]", false, "(3,)")), /timedelta64/],
    ["generic datetime", h(dict("<M8", false, "(3,)")), /datetime64/],
    ["void", h(dict("|V8", false, "(3,)")), /V8/],
    ["unknown descr", h(dict("<x8", false, "(3,)")), /Unsupported NumPy dtype/],
    [
      "item size beyond NumPy's",
      h(dict("<U999999999999", false, "(0,)")),
      /Unsupported NumPy dtype/,
    ],
    [
      "U item size beyond NumPy's",
      h(dict("<U536870912", false, "(0,)")),
      /Unsupported NumPy dtype/,
    ],
    ["char code", h(dict("d", false, "(3,)")), /Unsupported NumPy dtype/],
  ];
  for (const [name, bytes, pattern] of unsupported) {
    try {
      assertRejects(bytes, CodecError, pattern);
    } catch (e) {
      throw new Error(`case "${name}": ${(e as Error).message}`, { cause: e });
    }
  }
});

Deno.test("npy decode: random corruption never escapes as anything but a DataJointError", () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const seeds = roundTripCases().map(encodeNpy);
  const t0 = performance.now();
  for (let iter = 0; iter < 3000; iter++) {
    const base = seeds[Math.floor(rand() * seeds.length)];
    let bytes = base.slice();
    const mode = Math.floor(rand() * 3);
    if (mode === 0) bytes = bytes.subarray(0, Math.floor(rand() * bytes.length));
    const flips = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < flips && bytes.length > 0; k++) {
      // Corrupt mostly the header, where the parser's decisions are.
      const limit = mode === 2 ? bytes.length : Math.min(bytes.length, 128);
      bytes[Math.floor(rand() * limit)] = Math.floor(rand() * 256);
    }
    try {
      decodeNpy(bytes);
    } catch (e) {
      if (!(e instanceof DataJointError)) {
        throw new Error(`iteration ${iter}: escaped ${e}`, { cause: e });
      }
    }
  }
  assert.ok(performance.now() - t0 < 10_000);
});

// ---------------------------------------------------------------------------------------------
// dtype names, headers and row ranges

Deno.test("npy dtypes: descr and str(dtype) spellings", () => {
  const table: [string, string, string, number][] = [
    // spec, str(dtype), descr, itemsize
    ["<f8", "float64", "<f8", 8],
    ["float64", "float64", "<f8", 8],
    [">f8", ">f8", ">f8", 8],
    ["|b1", "bool", "|b1", 1],
    ["bool", "bool", "|b1", 1],
    [">i1", "int8", "|i1", 1],
    ["<u2", "uint16", "<u2", 2],
    [">u2", ">u2", ">u2", 2],
    ["=i4", "int32", "<i4", 4],
    ["i4", "int32", "<i4", 4],
    ["<c8", "complex64", "<c8", 8],
    ["complex128", "complex128", "<c16", 16],
    ["<U5", "<U5", "<U5", 20],
    ["|U5", "<U5", "<U5", 20],
    [">U5", ">U5", ">U5", 20],
    ["|S3", "|S3", "|S3", 3],
    ["<M8[D]", "datetime64[D]", "<M8[D]", 8],
    ["datetime64[D]", "datetime64[D]", "<M8[D]", 8],
    [">M8[D]", ">M8[D]", ">M8[D]", 8],
    ["<M8[1s]", "datetime64[s]", "<M8[s]", 8],
    ["<M8", "datetime64", "<M8", 8],
    ["<m8[us]", "timedelta64[us]", "<m8[us]", 8],
    ["<f2", "float16", "<f2", 2],
    ["float16", "float16", "<f2", 2],
    ["<f16", "float128", "<f16", 16],
    ["<c32", "complex256", "<c32", 32],
    ["|V8", "|V8", "|V8", 8],
  ];
  for (const [spec, name, descr, size] of table) {
    const dt = parseNpyDType(spec);
    assert.deepEqual([dt.name, dt.descr, dt.itemSize], [name, descr, size], spec);
  }
  for (const bad of ["[('a', '<i4')]", "float", "<i3", "<f8[s]", "<M8[xs]", "", "<U", "d"]) {
    assert.throws(() => parseNpyDType(bad), CodecError, bad);
  }
  const names: [NDArray, string][] = [
    [NDArray.from(new Float64Array(1)), "float64"],
    [NDArray.from(new Int32Array(1)), "int32"],
    [NDArray.bool([true]), "bool"],
    [NDArray.complex(new Float32Array(1), new Float32Array(1)), "complex64"],
    [NDArray.objects(["abcde"]), "<U5"],
    [NDArray.objects([new Uint8Array(3)]), "|S3"],
    [new NDArray("datetime64[D]", [1], new BigInt64Array(1)), "datetime64[D]"],
    [NDArray.from(new BigUint64Array(1)), "uint64"],
  ];
  for (const [array, name] of names) assert.equal(npyDtypeName(array), name);
});

Deno.test("npy rows: byte ranges of rows decode to the same rows as a full decode", () => {
  const full = NDArray.from(Float32Array.from({ length: 60 }, (_, i) => i), [5, 3, 4]);
  const file = encodeNpy(full);
  const header = parseNpyHeader(file.subarray(0, 128), { headerOnly: true });
  assert.deepEqual(npyRowRange(header, 1, 3), { offset: 128 + 48, length: 96 });
  for (const [a, b] of [[0, 5], [1, 3], [4, 5], [2, 2]]) {
    const { offset, length } = npyRowRange(header, a, b);
    const part = decodeNpyData(header, file.subarray(offset, offset + length), [b - a, 3, 4]);
    assert.deepEqual(
      [...part.data as Float32Array],
      [...full.data as Float32Array].slice(a * 12, b * 12),
    );
  }
  for (const [a, b] of [[-1, 2], [3, 2], [0, 6], [0.5, 1]]) {
    assert.throws(() => npyRowRange(header, a, b), DataJointError);
  }
  const fortran = parseNpyHeader(buildNpy(dict("<i4", true, "(2, 3)"), new Uint8Array(24)));
  assert.throws(() => npyRowRange(fortran, 0, 1), /Fortran/);
  const scalar = parseNpyHeader(encodeNpy(NDArray.scalar("int8", 1)));
  assert.throws(() => npyRowRange(scalar, 0, 1), /0-d/);
  // headerOnly does not need the data, but the default does.
  assert.throws(() => parseNpyHeader(file.subarray(0, 128)), /Truncated/);
  assert.equal(npyHeaderSize(file.subarray(0, 10)), 128);
});

// ---------------------------------------------------------------------------------------------
// interop with a real NumPy

function findNumpy(): string | undefined {
  try {
    const out = new Deno.Command("python3", {
      args: ["-c", "import numpy; print(numpy.__version__)"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}
const numpyVersion = findNumpy();
if (!numpyVersion) console.log("skip: NumPy interop tests need python3 with numpy on PATH");

const PY_SUMMARY = `
import json, sys, io, os
import numpy as np

def values(a):
    k = a.dtype.kind
    flat = np.ascontiguousarray(a).reshape(-1)
    if k == 'b': return [bool(x) for x in flat]
    if k in 'iu': return [str(int(x)) for x in flat]
    if k == 'f': return [repr(float(x)) for x in flat]
    if k == 'c': return [[repr(float(x.real)), repr(float(x.imag))] for x in flat]
    if k == 'M': return [str(int(x)) for x in flat.astype(flat.dtype.newbyteorder('=')).view('i8')]
    if k == 'U': return [str(x) for x in flat]
    if k == 'S': return [bytes(x).hex() for x in flat]
    raise TypeError(k)

def summary(a, path):
    buf = io.BytesIO()
    np.save(buf, a)
    with open(path, 'rb') as f:
        same = buf.getvalue() == f.read()
    return {'dtype': str(a.dtype), 'shape': list(a.shape), 'fortran': bool(a.flags.f_contiguous and not a.flags.c_contiguous), 'values': values(a), 'same_bytes': same}
`;

async function python(script: string, dir: string): Promise<Record<string, PySummary>> {
  const out = await new Deno.Command("python3", {
    args: ["-c", PY_SUMMARY + script, dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `python3 failed: ${err}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

interface PySummary {
  dtype: string;
  shape: number[];
  fortran: boolean;
  values: unknown[];
  same_bytes: boolean;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const pyFloat = (s: string) =>
  s === "nan" ? NaN : s === "inf" ? Infinity : s === "-inf" ? -Infinity : Number(s);

/** Compare an NDArray's elements (C order) with Python's `values()` rendering. */
function assertMatchesPython(a: NDArray, py: PySummary, label: string): void {
  assert.deepEqual([...a.shape], py.shape, `${label}: shape`);
  assert.equal(a.size, py.values.length, `${label}: size`);
  for (let i = 0; i < a.size; i++) {
    const v = py.values[i];
    const d = (a.data as ArrayLike<unknown>)[i];
    let ok: boolean;
    if (a.dtype === "bool") ok = (d !== 0) === v;
    else if (a.dtype === "object" || a.dtype === "char") {
      ok = d instanceof Uint8Array
        ? hex(d) === v
        : a.dtype === "char"
        ? String.fromCharCode(d as number) === v
        : d === v;
    } else if (a.imag) {
      const [re, im] = v as string[];
      ok = Object.is(d, pyFloat(re)) && Object.is((a.imag as ArrayLike<number>)[i], pyFloat(im));
    } else if (typeof d === "bigint") ok = String(d) === v;
    else if (a.dtype.startsWith("float")) ok = Object.is(d, pyFloat(v as string));
    else ok = String(d) === v;
    assert.ok(ok, `${label}: element ${i}: ${String(d)} vs ${JSON.stringify(v)}`);
  }
}

Deno.test({
  name: `npy interop: NumPy ${
    numpyVersion ?? "(absent)"
  } loads what encodeNpy writes, byte for byte`,
  ignore: !numpyVersion,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "npy_interop_" });
    try {
      const arrays = roundTripCases();
      arrays.push(NDArray.char("hé"));
      const names = arrays.map((_, i) => `a${i}.npy`);
      for (let i = 0; i < arrays.length; i++) {
        await Deno.writeFile(join(dir, names[i]), encodeNpy(arrays[i]));
      }
      const py = await python(
        `
d = sys.argv[1]
out = {}
for name in sorted(os.listdir(d)):
    a = np.load(os.path.join(d, name), allow_pickle=False)
    out[name] = summary(a, os.path.join(d, name))
print(json.dumps(out))
`,
        dir,
      );
      for (let i = 0; i < arrays.length; i++) {
        const s = py[names[i]];
        assert.ok(s, names[i]);
        assert.equal(s.dtype, npyDtypeName(arrays[i]), `${names[i]} dtype`);
        assert.equal(
          s.same_bytes,
          true,
          `${names[i]} (${s.dtype}): NumPy's np.save writes the same bytes`,
        );
        assertMatchesPython(arrays[i], s, `${names[i]} (${s.dtype})`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `npy interop: files NumPy ${
    numpyVersion ?? "(absent)"
  } saves (C/F order, big-endian, strings) decode`,
  ignore: !numpyVersion,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "npy_interop_" });
    try {
      const py = await python(
        `
d = sys.argv[1]
arrays = {
  'c_f8': np.arange(12.0).reshape(3, 4),
  'f_i4_3d': np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)),
  'be_f8': np.array([1.5, -2.25, np.nan, np.inf, -0.0], dtype='>f8'),
  'be_u2_f': np.asfortranarray(np.arange(6, dtype='>u2').reshape(2, 3)),
  'be_u8': np.array([2**64 - 1, 0, 12345678901234567890], dtype='>u8'),
  'i8_min': np.array([-2**63, 2**63 - 1], dtype='<i8'),
  'i1': np.array([[-128, 127], [0, 1]], dtype=np.int8),
  'be_c8': np.array([1 + 2j, -3.5 - 0.25j], dtype='>c8'),
  'f_c16': np.asfortranarray((np.arange(6) + 1j * np.arange(6, 12)).reshape(2, 3)),
  'u': np.array([['ab', '\\u00e7\\u00e9'], ['\\U0001F600x', '']]),
  'u_f': np.asfortranarray(np.array([['ab', 'c'], ['d', 'efg']])),
  'be_u': np.array(['abc', 'z'], dtype='>U3'),
  's': np.array([b'ab', b'c\\x00d', b''], dtype='S3'),
  's_f': np.asfortranarray(np.array([[b'a', b'bb'], [b'ccc', b'']])),
  'b_f': np.asfortranarray(np.array([[True, False, True], [False, False, True]])),
  'm_d': np.array(['2020-01-01', 'NaT', '1969-12-31'], dtype='datetime64[D]'),
  'be_m_ms': np.array(['2020-01-01T00:00:00.123'], dtype='>M8[ms]'),
  'zero_d_f4': np.array(np.float32(3.5)),
  'zero_d_i2': np.array(np.int16(-7)),
  'empty_2d': np.zeros((0, 3)),
  'empty_f': np.zeros((2, 0), order='F'),
  'f_f4_t': np.arange(20, dtype=np.float32).reshape(4, 5).T,
}
out = {}
for name, a in arrays.items():
    p = os.path.join(d, name + '.npy')
    np.save(p, a)
    out[name] = summary(np.load(p), p)
print(json.dumps(out))
`,
        dir,
      );
      assert.equal(Object.keys(py).length, 22);
      for (const [name, s] of Object.entries(py)) {
        const bytes = await Deno.readFile(join(dir, `${name}.npy`));
        const header = parseNpyHeader(bytes);
        assert.equal(header.dtype, s.dtype, `${name} dtype`);
        assert.equal(header.fortranOrder, s.fortran, `${name} order`);
        const a = decodeNpy(bytes);
        assertMatchesPython(a, s, name);
        // C-order little-endian files re-encode to NumPy's exact bytes.
        if (!header.fortranOrder && header.byteOrder !== ">") {
          assert.deepEqual(encodeNpy(a), bytes, `${name} re-encodes identically`);
        }
        // Row reads agree with the full decode for C-order files.
        if (!header.fortranOrder && header.shape.length > 0 && header.shape[0] > 1) {
          const { offset, length } = npyRowRange(header, 1, 2);
          const row = decodeNpyData(header, bytes.subarray(offset, offset + length), [
            1,
            ...header.shape.slice(1),
          ]);
          assert.deepEqual(
            Array.from(row.data as ArrayLike<unknown>),
            Array.from(a.data as ArrayLike<unknown>).slice(row.size, 2 * row.size),
          );
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("npy: adopted bytes become the array's storage; others are copied", () => {
  const file = encodeNpy(NDArray.from(new Float64Array([1.5, -2, 3]), [3]));
  const copied = decodeNpy(file);
  assert.notEqual((copied.data as Float64Array).buffer, file.buffer);
  const adopted = decodeNpy(file, { adopt: true });
  assert.equal((adopted.data as Float64Array).buffer, file.buffer, "no copy for a fresh download");
  assert.deepEqual([...adopted.data as Float64Array], [1.5, -2, 3]);
  // Misaligned data (here: one byte in) is copied even when adopted.
  const shifted = new Uint8Array(file.length + 1);
  shifted.set(file, 1);
  const fromShifted = decodeNpy(shifted.subarray(1), { adopt: true });
  assert.notEqual((fromShifted.data as Float64Array).buffer, shifted.buffer);
  assert.deepEqual([...fromShifted.data as Float64Array], [1.5, -2, 3]);
});
