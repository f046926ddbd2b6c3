/**
 * C ↔ F order conversion of large arrays: the two-axis kernels (eight rows side by side, bands
 * for a short side, the tails), for every element width, at unaligned blob positions and aligned
 * ones, checked against a naive element-by-element reference; and 8-byte elements keep every bit
 * (signalling NaN payloads) through the conversion.
 *
 * @module
 */

import { NDArray, pack, unpack } from "../mod.ts";
import { cToFBytes, fBytesToC } from "../codecs/blob/transpose.ts";
import { assert } from "./_blob_equal.ts";

/** The F-order position of each C-order position, by plain index arithmetic. */
function naiveFOrder(shape: number[]): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Array<number>(n);
  for (let c = 0; c < n; c++) {
    let rest = c;
    const index = new Array<number>(shape.length);
    for (let ax = shape.length - 1; ax >= 0; ax--) {
      index[ax] = rest % shape[ax];
      rest = Math.floor(rest / shape[ax]);
    }
    let f = 0;
    let stride = 1;
    for (let ax = 0; ax < shape.length; ax++) {
      f += index[ax] * stride;
      stride *= shape[ax];
    }
    out[c] = f;
  }
  return out;
}

const SHAPES = [
  [300, 400], // eight rows side by side, no tail
  [70_000, 2], // a short last axis: the two-row tail, and bands from C to F
  [37, 41, 43], // 3-D, odd sizes, tiles with remainders
  [5, 1, 17, 1, 19, 23], // singleton axes mixed in
  [9, 11, 13, 15], // 4-D
  [2500, 19], // a long side in several tiles, with every tail
  [19, 2500],
];

for (const shape of SHAPES) {
  Deno.test(`transpose: [${shape}] in F order on the wire, C order in memory`, () => {
    const n = shape.reduce((a, b) => a * b, 1);
    const f = naiveFOrder(shape);
    const arrays = [
      NDArray.from(Float64Array.from({ length: n }, (_, i) => i + 0.5), shape),
      NDArray.from(Int32Array.from({ length: n }, (_, i) => i - 7), shape),
      NDArray.from(Uint16Array.from({ length: n }, (_, i) => i & 0xffff), shape),
      NDArray.from(Int8Array.from({ length: n }, (_, i) => (i % 256) - 128), shape),
    ];
    for (const a of arrays) {
      // After a 3-byte string in a list, the elements start 2 bytes past an 8-byte boundary.
      const bytes = pack(["xyz", a], { compress: false });
      const header = 4 + 1 + 8 + (8 + 1 + 8 + 3) + 8 + 1 + 8 + 8 * shape.length + 8;
      const itemSize = a.data.BYTES_PER_ELEMENT;
      const wire = new DataView(bytes.buffer, bytes.byteOffset + header, n * itemSize);
      const read = (k: number) =>
        itemSize === 8
          ? wire.getFloat64(k * 8, true)
          : itemSize === 4
          ? wire.getInt32(k * 4, true)
          : itemSize === 2
          ? wire.getUint16(k * 2, true)
          : wire.getInt8(k);
      for (let c = 0; c < n; c++) {
        if (read(f[c]) !== a.data[c]) {
          assert(false, `${a.dtype} [${shape}]: element ${c} is not at F position ${f[c]}`);
        }
      }
      const back = (unpack(bytes) as unknown[])[1] as NDArray;
      assert(back.dtype === a.dtype && back.shape.join() === shape.join(), "dtype and shape");
      for (let c = 0; c < n; c++) {
        if (back.data[c] !== a.data[c]) assert(false, `${a.dtype}: decoded element ${c} differs`);
      }
    }
  });
}

const ALIGNED_SHAPES = [
  [300, 400], // the 32-, 16- and 8-row kernels and their tails
  [37, 41, 43], // 3-D, sides that are not multiples of eight
  [20_001, 3], // a short last axis: the one- and two-row tails
  [3, 20_001], // a short first axis: destination rows in bands
  [9, 1, 11, 13, 15], // 4-D with a singleton axis
  [2500, 19], // a long side in several tiles, with every tail
  [19, 2500],
];

for (const shape of ALIGNED_SHAPES) {
  Deno.test(`transpose: [${shape}] from and to aligned memory, every element width`, () => {
    const n = shape.reduce((a, b) => a * b, 1);
    const f = naiveFOrder(shape);
    const planes = [
      Float64Array.from({ length: n }, (_, i) => i + 0.25),
      Uint32Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 0),
      Uint16Array.from({ length: n }, (_, i) => (i * 40503) & 0xffff),
      Uint8Array.from({ length: n }, (_, i) => (i * 131) & 0xff),
    ];
    for (const c of planes) {
      const itemSize = c.BYTES_PER_ELEMENT;
      const name = c.constructor.name;
      // 16 bytes into the buffer: aligned for every width.
      const wire = new Uint8Array(16 + n * itemSize).subarray(16);
      cToFBytes(c, wire, shape);
      const wireElements = new (c.constructor as Uint8ArrayConstructor)(wire.buffer, 16, n);
      for (let k = 0; k < n; k++) {
        if (wireElements[f[k]] !== c[k]) {
          assert(false, `${name} [${shape}]: element ${k} is not at F position ${f[k]}`);
        }
      }
      const back = new (c.constructor as Uint8ArrayConstructor)(n);
      fBytesToC(wire, back, shape);
      for (let k = 0; k < n; k++) {
        if (back[k] !== c[k]) assert(false, `${name} [${shape}]: element ${k} differs back in C`);
      }
    }
  });
}

Deno.test("transpose: NaN payloads and signalling NaNs keep every bit through F order", () => {
  const patterns = [
    0x7ff0000000000001n, // signalling NaN
    0xfff0000000000abcn, // negative signalling NaN with a payload
    0x7ff8000000000001n, // quiet NaN with a payload
    0xfff8000000000000n, // negative quiet NaN
  ];
  const shape = [3, 5, 7];
  const n = 3 * 5 * 7;
  const bits = BigUint64Array.from({ length: n }, (_, i) => patterns[i % patterns.length]);
  const a = NDArray.from(new Float64Array(bits.buffer), shape);
  // The first conversions run in V8's unoptimised tiers, where a float64 load may quiet a NaN.
  for (const prefix of [[], ["x"], ["xyz"]]) {
    const back = (unpack(pack([...prefix, a], { compress: false })) as unknown[]).at(-1) as NDArray;
    const backBits = new BigUint64Array((back.data as Float64Array).slice().buffer);
    for (let k = 0; k < n; k++) {
      if (backBits[k] !== bits[k]) {
        assert(
          false,
          `element ${k}: ${bits[k].toString(16)} came back ${backBits[k].toString(16)}`,
        );
      }
    }
  }
});
