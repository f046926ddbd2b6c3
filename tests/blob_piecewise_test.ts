/**
 * The piecewise routes for big arrays. Inflate (`inflate_array.ts`): for every element type and
 * many shapes it gives exactly what the plain route (inflate the whole blob, then decode) gives;
 * it declines, leaving the blob to the plain route, whatever it does not handle; and hostile
 * streams give a value or a `BlobDecodeError`, the same outcome as the plain route. Deflate
 * (`deflate_array.ts`): `pack` gives a stream that inflates byte for byte to the plain route's
 * blob (encode the whole blob, then compress it), with the same decision to store it
 * uncompressed, and the same bytes every time.
 *
 * @module
 */

import { deflateSync } from "node:zlib";
import { BlobDecodeError } from "../lib/errors.ts";
import { compressBlob, decompressBlob, isCompressed } from "../codecs/blob/compress.ts";
import { decodeBlob } from "../codecs/blob/decode.ts";
import { deflateArray } from "../codecs/blob/deflate_array.ts";
import { encodeBlob } from "../codecs/blob/encode.ts";
import { dtypeInfo } from "../codecs/blob/dtype.ts";
import { inflateArray } from "../codecs/blob/inflate_array.ts";
import { Inflater } from "../codecs/blob/zlib_into.ts";
import { type DType, NDArray, pack, unpack } from "../mod.ts";
import { assert, assertBlobEqual, assertThrowsA, bytesEqual } from "./_blob_equal.ts";
import { noisyDoubles } from "./_blob_data.ts";

const MB = 1024 * 1024;

/** A compressible plane of `n` elements for `dtype` (values repeat with a short period). */
function plane(dtype: DType, n: number, salt = 0): NDArray["data"] {
  const i = (k: number) => (k * 7 + salt) % 251;
  switch (dtype) {
    case "int8":
      return new Int8Array(n).map((_, k) => i(k) - 125);
    case "uint8":
      return new Uint8Array(n).map((_, k) => i(k));
    case "int16":
      return new Int16Array(n).map((_, k) => i(k) * -3);
    case "uint16":
    case "char":
      return new Uint16Array(n).map((_, k) => i(k) + 40);
    case "int32":
      return new Int32Array(n).map((_, k) => i(k) * -100003);
    case "uint32":
      return new Uint32Array(n).map((_, k) => i(k) * 17000003);
    case "float32":
    case "complex64":
      return new Float32Array(n).map((_, k) => i(k) / 8);
    case "float64":
    case "complex128":
      return new Float64Array(n).map((_, k) => i(k) / 16 - 3);
    case "int64":
    case "datetime64[us]":
      return new BigInt64Array(n).map((_, k) => BigInt(i(k)) * -(2n ** 40n));
    default:
      return new BigUint64Array(n).map((_, k) => BigInt(i(k)) << 50n);
  }
}

function array(dtype: DType, shape: number[]): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const complex = dtype === "complex64" || dtype === "complex128";
  return new NDArray(
    dtype,
    shape,
    plane(dtype, n) as never,
    complex ? plane(dtype, n, 3) as never : undefined,
  );
}

/** The plain route, for comparison. */
function plainRoute(blob: Uint8Array): unknown {
  return decodeBlob(decompressBlob(blob, false));
}

const SHAPES: Record<number, number[][]> = {
  1: [[4_400_000]],
  2: [[1100, 2000], [2000, 1100], [3, 700_000], [700_000, 3]],
  4: [[1100, 1000], [1000, 1100], [1, 1100, 1, 1000]],
  8: [[300, 1000, 2], [80, 80, 90], [600_000, 1]],
};

/** Every element type the piecewise routes handle. */
const DTYPES: DType[] = [
  "int8",
  "uint8",
  "int16",
  "uint16",
  "char",
  "int32",
  "uint32",
  "float32",
  "float64",
  "int64",
  "uint64",
  "datetime64[us]",
  "complex64",
  "complex128",
];

Deno.test("piecewise inflate: every element type and shape gives the plain route's array", () => {
  for (const dtype of DTYPES) {
    const { itemSize } = dtypeInfo(dtype);
    for (const shape of SHAPES[itemSize]) {
      const a = array(dtype, shape);
      const blob = pack(a);
      assert(isCompressed(blob), `${dtype} [${shape}] was stored compressed`);
      const fast = inflateArray(blob, false);
      assert(fast !== undefined, `${dtype} [${shape}] took the piecewise route`);
      assertBlobEqual(fast, plainRoute(blob), `${dtype} [${shape}] as the plain route`);
      assertBlobEqual(fast, a, `${dtype} [${shape}] as packed`);
      assertBlobEqual(unpack(blob), a, `${dtype} [${shape}] through unpack`);
    }
  }
});

Deno.test("piecewise inflate: declines what it does not handle, and unpack still reads it", () => {
  const big = array("int32", [1100, 1000]);
  const cases: [string, unknown][] = [
    ["a small array", array("int32", [100, 100])],
    [
      "a bool array",
      new NDArray(
        "bool",
        [3000, 2000],
        new Uint8Array(6_000_000).map((_, k) => k % 3 === 0 ? 1 : 0),
      ),
    ],
    ["an array inside a list", [big]],
    [
      "slabs over 16 MiB (the plain route's buffer would be no bigger)",
      array("int32", [4_300_000, 2]),
    ],
    ["a dict", { a: big }],
  ];
  for (const [what, value] of cases) {
    const blob = pack(value);
    assert(isCompressed(blob), `${what}: compressed`);
    assert(inflateArray(blob, false) === undefined, `${what}: declined`);
    assertBlobEqual(unpack(blob), value, `${what}: unpacked`);
  }
  // A blob with 64-bit dims read as one with 32-bit dims: refused by both routes.
  const blob = pack(big);
  assertThrowsA(() => inflateArray(blob, true), BlobDecodeError, /corrupt/);
  assertThrowsA(() => unpack(blob, { use32bitDims: true }), BlobDecodeError, /corrupt/);
});

/** A compressed blob of `plain` claiming `claimed` bytes. */
function wrap(plain: Uint8Array, claimed = plain.length): Uint8Array {
  const stream = deflateSync(plain);
  const out = new Uint8Array(14 + stream.length);
  out.set(new TextEncoder().encode("ZL123\0"));
  new DataView(out.buffer).setUint32(6, claimed % 2 ** 32, true);
  new DataView(out.buffer).setUint32(10, Math.floor(claimed / 2 ** 32), true);
  out.set(stream, 14);
  return out;
}

/** What a decode gives: the value, or the name of the error class. */
function outcome(run: () => unknown): unknown {
  try {
    return run();
  } catch (e) {
    if (e instanceof BlobDecodeError) return "BlobDecodeError";
    throw e;
  }
}

Deno.test("piecewise inflate: hostile streams give a value or a BlobDecodeError, as the plain route", () => {
  const a = array("float64", [700, 800]);
  const plain = pack(a, { compress: false });
  const header = plain.length - 700 * 800 * 8;
  // A shape that claims more or fewer elements than the blob holds, a wrong claimed length,
  // garbage after the stream, a truncated stream: declined or refused like the plain route.
  const variants: [string, Uint8Array][] = [];
  for (const at of [13, 21, 29]) {
    const bad = plain.slice();
    bad[at] ^= 0x01;
    variants.push([`dimension byte ${at} changed`, wrap(bad)]);
  }
  variants.push(["claims one byte more", wrap(plain, plain.length + 1)]);
  variants.push(["claims one byte less", wrap(plain, plain.length - 1)]);
  const good = wrap(plain);
  const garbage = new Uint8Array(good.length + 4);
  garbage.set(good);
  garbage.set([1, 2, 3, 4], good.length);
  variants.push(["garbage after the stream", garbage]);
  variants.push(["truncated", good.subarray(0, good.length - 1000)]);
  const typeId = plain.slice();
  new DataView(typeId.buffer).setUint32(header - 8, 99, true);
  variants.push(["unknown type id", wrap(typeId)]);
  // Seeded byte flips anywhere in the compressed stream.
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  for (let k = 0; k < 60; k++) {
    const bad = good.slice();
    const at = 14 + (next() % (k < 20 ? 200 : good.length - 14));
    bad[at] ^= 1 + (next() % 255);
    variants.push([`flip at ${at}`, bad]);
  }
  for (const [what, blob] of variants) {
    // outcome() lets anything but a BlobDecodeError through, failing the test.
    const fast = outcome(() => inflateArray(blob, false));
    const viaUnpack = outcome(() => unpack(blob));
    const plainOnly = outcome(() => plainRoute(blob));
    assertBlobEqual(viaUnpack, plainOnly, `${what}: unpack gives what the plain route gives`);
    if (fast !== undefined) assertBlobEqual(fast, plainOnly, `${what}: piecewise as plain`);
  }
});

Deno.test("inflater: fills given memory piece by piece, reports corruption and the stream's end", () => {
  const plain = new Uint8Array(5 * MB).map((_, k) => (k * 31) % 253);
  const stream = deflateSync(plain);
  const z = Inflater.open(stream);
  if (z === undefined) {
    console.log("node:zlib here has no writable handle: the piecewise route is not used");
    return;
  }
  try {
    const out = new Uint8Array(plain.length + 10);
    let at = 0;
    for (const size of [1, 4096, MB, 3 * MB]) at += z.read(out.subarray(at, at + size));
    at += z.read(out.subarray(at));
    assert(at === plain.length, `read ${at} of ${plain.length}`);
    assert(out.subarray(0, at).every((b, k) => b === plain[k]), "bytes as deflated");
    assert(z.ended(), "ended");
  } finally {
    z.close();
  }
  const bad = stream.slice();
  bad[100] ^= 0xff;
  const broken = Inflater.open(bad)!;
  try {
    assertThrowsA(() => broken.read(new Uint8Array(plain.length)), BlobDecodeError, /corrupt/);
  } finally {
    broken.close();
  }
  const short = Inflater.open(stream.subarray(0, stream.length >> 1))!;
  try {
    assertThrowsA(() => short.read(new Uint8Array(plain.length)), BlobDecodeError, /corrupt/);
  } finally {
    short.close();
  }
});

/** Whether `packed` is compressed and inflates to exactly `plain`. */
function inflatesTo(packed: Uint8Array, plain: Uint8Array): boolean {
  return isCompressed(packed) && bytesEqual(decompressBlob(packed, false), plain);
}

Deno.test("piecewise deflate: pack's stream inflates to the plain route's blob, every type and shape", () => {
  const policy = { level: 6, skipIncompressible: true };
  const fresh = (n: number) => new Uint8Array(n);
  for (const dtype of DTYPES) {
    for (const shape of SHAPES[dtypeInfo(dtype).itemSize]) {
      const a = array(dtype, shape);
      const streamed = deflateArray(a, policy, fresh);
      assert(streamed instanceof Uint8Array, `${dtype} [${shape}] took the piecewise route`);
      assert(inflatesTo(streamed, encodeBlob(a)), `${dtype} [${shape}]: the plain route's blob`);
      const packed = pack(a);
      assert(bytesEqual(packed, streamed), `${dtype} [${shape}]: pack takes the piecewise route`);
      assert(bytesEqual(pack(a), packed), `${dtype} [${shape}]: the same bytes every time`);
      assertBlobEqual(unpack(packed), a, `${dtype} [${shape}]: unpacked`);
    }
  }
  const a = array("float64", [300, 1000, 2]);
  for (const level of [1, 9]) {
    assert(inflatesTo(pack(a, { compressionLevel: level }), encodeBlob(a)), `level ${level}`);
  }
});

Deno.test("piecewise deflate: incompressible data is stored plain, as by the plain route", () => {
  for (const shape of [[600_000], [1000, 600], [60, 100, 100]]) {
    const n = shape.reduce((x, y) => x * y, 1);
    const noisy = NDArray.from(noisyDoubles(n, 99), shape);
    const policy = { level: 6, skipIncompressible: true };
    assert(
      deflateArray(noisy, policy, (k) => new Uint8Array(k)) === "plain",
      `[${shape}]: sampled as incompressible`,
    );
    const packed = pack(noisy);
    assert(!isCompressed(packed), `[${shape}]: stored plain`);
    assert(bytesEqual(packed, encodeBlob(noisy)), `[${shape}]: the plain blob`);
    // Without sampling, deflate runs; noise shrinks a little, so the result is compressed.
    const forced = pack(noisy, { skipIncompressible: false });
    assert(inflatesTo(forced, encodeBlob(noisy)), `[${shape}]: forced`);
    assertBlobEqual(unpack(forced), noisy, `[${shape}]: forced, unpacked`);
  }
});

Deno.test("piecewise deflate: declines what it does not handle", () => {
  const policy = { level: 6, skipIncompressible: true };
  const fresh = (n: number) => new Uint8Array(n);
  const big = array("int32", [1100, 1000]);
  const declined: [string, unknown][] = [
    ["a small array", array("int32", [100, 100])],
    ["a bool array", new NDArray("bool", [3000, 2000], new Uint8Array(6_000_000))],
    ["an array inside a list", [big]],
    ["a plain typed array", new Int32Array(2_000_000)],
    ["slabs over 16 MiB", array("int32", [4_300_000, 2])],
  ];
  for (const [what, value] of declined) {
    assert(deflateArray(value, policy, fresh) === undefined, `${what}: declined`);
    assert(
      bytesEqual(pack(value), compressBlob(encodeBlob(value), policy)),
      `${what}: packed as before`,
    );
  }
});

Deno.test("piecewise inflate: a blob with 32-bit dims (MATLAB's 32-bit mYm) when asked to read one", () => {
  const a = array("int32", [1100, 1000]);
  const f = encodeBlob(a).subarray(4 + 1 + 8 + 16 + 8); // the F-order elements
  const head = new Uint8Array(4 + 1 + 4 + 8 + 8);
  head.set([0x6d, 0x59, 0x6d, 0x00, 0x41]);
  const view = new DataView(head.buffer);
  [2, 1100, 1000, 12, 0].forEach((v, i) => view.setUint32(5 + 4 * i, v, true));
  const plain = new Uint8Array(head.length + f.length);
  plain.set(head);
  plain.set(f, head.length);
  const stream = deflateSync(plain);
  const blob = new Uint8Array(10 + stream.length);
  blob.set(new TextEncoder().encode("ZL123\0"));
  new DataView(blob.buffer).setUint32(6, plain.length, true);
  blob.set(stream, 10);
  const fast = inflateArray(blob, true);
  assert(fast !== undefined, "took the piecewise route");
  assertBlobEqual(fast, a, "as written");
  assertBlobEqual(unpack(blob, { use32bitDims: true }), a, "through unpack");
});
