/**
 * Element order conversion between C (row-major, what {@link NDArray} holds) and F
 * (column-major, what the blob stores).
 *
 * Numeric planes are converted between a typed array and raw blob bytes, which may sit at any
 * alignment, without any temporary: both sides are read and written through `DataView`s, which
 * V8 compiles to plain (unaligned) loads and stores, as fast as aligned typed-array access and
 * without the copy into an aligned scratch chunk that typed arrays would need. The permutation is
 * a series of two-axis transpositions (first and last axis) by kernels specialised per element
 * width. They are written out per width on purpose: one kernel taking the width's get/set
 * accessors as functions ran 9x slower on 10 MB of int32 (3.6 vs 32.6 ms in the same run), since
 * V8 does not inline a `DataView` accessor called through a parameter.
 *
 * @module
 */

/** Anything indexable that holds elements: typed arrays or plain arrays. */
export interface Indexable<T> {
  [index: number]: T;
  readonly length: number;
}

/** A typed array whose element copies never alter bit patterns (NaN payloads included). */
export type BitArray = Float64Array | Uint32Array | Uint16Array | Uint8Array;

/**
 * A two-axis transposition whose source-contiguous side is at most this long (and the shorter
 * side) is done in bands of destination rows: the eight-row kernel would run loops of a few steps
 * each (shapes such as [n, 3] in C order).
 */
const SHORT = 32;
/**
 * A move runs through the source-contiguous side in tiles of this many elements, so that it
 * touches at most this many destination rows (often as many memory pages) between revisits:
 * without tiles, a C → F conversion of 100 MB int32 [1024, 25600] ran at half the speed.
 */
const TILE = 1024;

/**
 * Whether C and F order coincide for a shape (at most one dimension longer than 1), in which case
 * conversion is a plain copy.
 *
 * @example
 * ```ts
 * import { isOrderFree } from "./transpose.ts";
 * isOrderFree([1, 5]); // true
 * isOrderFree([2, 3]); // false
 * ```
 */
export function isOrderFree(shape: readonly number[]): boolean {
  let big = 0;
  for (const d of shape) if (d > 1) big++;
  return big <= 1;
}

/**
 * A bit-preserving view of the same memory for an element size of 1, 2, 4 or 8 bytes
 * (`byteOffset` must be a multiple of the element size).
 *
 * @example
 * ```ts
 * import { bitView } from "./transpose.ts";
 * bitView(new BigInt64Array(2)).constructor.name; // "Float64Array"
 * ```
 */
export function bitView(data: ArrayBufferView & { readonly BYTES_PER_ELEMENT: number }): BitArray {
  const itemSize = data.BYTES_PER_ELEMENT;
  return new (bitCtor(itemSize))(
    data.buffer as ArrayBuffer,
    data.byteOffset,
    data.byteLength / itemSize,
  );
}

function bitCtor(itemSize: number) {
  return itemSize === 8
    ? Float64Array
    : itemSize === 4
    ? Uint32Array
    : itemSize === 2
    ? Uint16Array
    : Uint8Array;
}

/**
 * The dimensions longer than 1, as small integers where they fit. A dimension computed in doubles
 * (`2 ** 32 * hi + lo`, a division) reaches here as a heap number; offsets derived from it would
 * then be doubles too, and V8 would compile the kernels for doubles (or throw their code away
 * when they meet one after integers): 3-D float64 of 1 MB converted 1.5x slower that way.
 */
function longDims(shape: readonly number[]): number[] {
  const dims: number[] = [];
  for (const d of shape) if (d !== 1) dims.push(smallInt(d));
  return dims;
}

function smallInt(n: number): number {
  return n >= 0 && n <= 0x3fffffff ? n | 0 : n;
}

/**
 * Fill `dst` (C order for `shape`) from `bytes`, the F-order elements as they sit in a blob,
 * at any byte alignment.
 *
 * @example
 * ```ts
 * import { fBytesToC } from "./transpose.ts";
 * const f = new Uint8Array(new Float64Array([1, 4, 2, 5, 3, 6]).buffer);
 * const c = new Float64Array(6);
 * fBytesToC(f, c, [2, 3]);
 * // c is [1, 2, 3, 4, 5, 6]
 * ```
 */
export function fBytesToC(bytes: Uint8Array, dst: BitArray, shape: readonly number[]): void {
  const itemSize = dst.BYTES_PER_ELEMENT;
  const n = dst.length;
  const dims = longDims(shape);
  if (dims.length <= 1 || n === 0) {
    new Uint8Array(dst.buffer, dst.byteOffset, n * itemSize).set(bytes.subarray(0, n * itemSize));
    return;
  }
  const byteLength = n * itemSize;
  permute(
    bytes.buffer as ArrayBuffer,
    bytes.byteOffset,
    stridesF(dims, itemSize),
    0,
    dst.buffer as ArrayBuffer,
    dst.byteOffset,
    stridesC(dims, itemSize),
    dims.length - 1,
    dims,
    itemSize,
    byteLength,
    byteLength,
  );
}

/**
 * Fill part of `dst` (C order for `shape`) from `bytes`: the elements whose index along the last
 * axis runs from `first` to `first + count`, which in F order are one contiguous run of `count`
 * whole slabs (each slab all elements with one last-axis index). A blob can so be converted piece
 * by piece as it is inflated. `shape` must have at least two dimensions longer than 1; its
 * dimensions of 1 are ignored, as the last axis is the last longer one.
 *
 * @example
 * ```ts
 * import { fSlabsToC } from "./transpose.ts";
 * // shape [2, 3]: F order is 1, 4 | 2, 5 | 3, 6; the slabs of columns 1 and 2
 * const c = new Float64Array(6);
 * fSlabsToC(new Uint8Array(new Float64Array([2, 5, 3, 6]).buffer), c, [2, 3], 1, 2);
 * // c is [0, 2, 3, 0, 5, 6]
 * ```
 */
export function fSlabsToC(
  bytes: Uint8Array,
  dst: BitArray,
  shape: readonly number[],
  first: number,
  count: number,
): void {
  const itemSize = dst.BYTES_PER_ELEMENT;
  const { dims, part, partBytes } = slabRun(shape, first, count, itemSize, bytes.length);
  if (count === 0) return;
  const dstOffset = first * itemSize;
  permute(
    bytes.buffer as ArrayBuffer,
    bytes.byteOffset,
    stridesF(part, itemSize),
    0,
    dst.buffer as ArrayBuffer,
    dst.byteOffset + dstOffset,
    stridesC(dims, itemSize),
    dims.length - 1,
    part,
    itemSize,
    partBytes,
    dst.byteLength - dstOffset,
  );
}

/**
 * The run of slabs `first` to `first + count` of `shape`: the dimensions longer than 1, the
 * run's own shape (those with the last replaced by `count`) and its bytes, which `room` must hold.
 */
function slabRun(
  shape: readonly number[],
  first: number,
  count: number,
  itemSize: number,
  room: number,
): { dims: number[]; part: number[]; partBytes: number } {
  const dims = longDims(shape);
  const k = dims.length;
  if (k < 2 || first < 0 || count < 0 || first + count > dims[k - 1]) {
    throw new RangeError(`slabs ${first}..${first + count} of shape [${shape}]`);
  }
  const partBytes = slabSize(dims) * count * itemSize;
  if (room < partBytes) throw new RangeError(`${room} bytes for ${partBytes}`);
  return { dims, part: [...dims.slice(0, -1), smallInt(count)], partBytes };
}

/**
 * The inverse of {@link fSlabsToC}: write into `out` the F-order bytes of the slabs `first` to
 * `first + count` of `src` (C order for `shape`), so that a blob can be written piece by piece.
 *
 * @example
 * ```ts
 * import { cToFSlabs } from "./transpose.ts";
 * const out = new Uint8Array(32);
 * cToFSlabs(new Float64Array([1, 2, 3, 4, 5, 6]), out, [2, 3], 1, 2);
 * // out holds the doubles 2, 5, 3, 6
 * ```
 */
export function cToFSlabs(
  src: BitArray,
  out: Uint8Array,
  shape: readonly number[],
  first: number,
  count: number,
): void {
  const itemSize = src.BYTES_PER_ELEMENT;
  const { dims, part, partBytes } = slabRun(shape, first, count, itemSize, out.length);
  if (count === 0) return;
  const srcOffset = first * itemSize;
  permute(
    src.buffer as ArrayBuffer,
    src.byteOffset + srcOffset,
    stridesC(dims, itemSize),
    dims.length - 1,
    out.buffer as ArrayBuffer,
    out.byteOffset,
    stridesF(part, itemSize),
    0,
    part,
    itemSize,
    src.byteLength - srcOffset,
    partBytes,
  );
}

/**
 * Elements in one slab of F-ordered `shape` (all but its last dimension longer than 1): the
 * unit in which {@link fSlabsToC} converts.
 *
 * @example
 * ```ts
 * import { slabSize } from "./transpose.ts";
 * slabSize([4, 1, 3, 5]); // 12
 * ```
 */
export function slabSize(shape: readonly number[]): number {
  const dims = longDims(shape);
  let n = 1;
  for (let i = 0; i < dims.length - 1; i++) n *= dims[i];
  return n;
}

/**
 * Write the elements of `src` (C order for `shape`) into `out` in F order, as a blob stores them,
 * at any byte alignment of `out`.
 *
 * @example
 * ```ts
 * import { cToFBytes } from "./transpose.ts";
 * const out = new Uint8Array(48);
 * cToFBytes(new Float64Array([1, 2, 3, 4, 5, 6]), out, [2, 3]);
 * // out holds the doubles 1, 4, 2, 5, 3, 6
 * ```
 */
export function cToFBytes(src: BitArray, out: Uint8Array, shape: readonly number[]): void {
  const itemSize = src.BYTES_PER_ELEMENT;
  const n = src.length;
  const dims = longDims(shape);
  if (dims.length <= 1 || n === 0) {
    out.set(new Uint8Array(src.buffer, src.byteOffset, n * itemSize));
    return;
  }
  permute(
    src.buffer as ArrayBuffer,
    src.byteOffset,
    stridesC(dims, itemSize),
    dims.length - 1,
    out.buffer as ArrayBuffer,
    out.byteOffset,
    stridesF(dims, itemSize),
    0,
    dims,
    itemSize,
    n * itemSize,
    n * itemSize,
  );
}

/**
 * For each F-order position, the C-order position of the same element: the order in which
 * element-by-element writers (object arrays, struct records, cells) visit a C-order array.
 *
 * @example
 * ```ts
 * import { fOrderPositions } from "./transpose.ts";
 * fOrderPositions([2, 3]); // [0, 3, 1, 4, 2, 5]
 * ```
 */
export function fOrderPositions(shape: readonly number[]): Indexable<number> {
  let n = 1;
  for (const d of shape) n *= d;
  const out = n < 2 ** 32 ? new Uint32Array(n) : new Float64Array(n);
  const k = shape.length;
  const cStrides = stridesC(shape);
  const counter = new Array<number>(k).fill(0);
  let c = 0;
  for (let i = 0; i < n; i++) {
    out[i] = c;
    for (let ax = 0; ax < k; ax++) {
      counter[ax]++;
      c += cStrides[ax];
      if (counter[ax] < shape[ax]) break;
      c -= cStrides[ax] * shape[ax];
      counter[ax] = 0;
    }
  }
  return out;
}

function stridesC(dims: readonly number[], itemSize = 1): number[] {
  const k = dims.length;
  const strides = new Array<number>(k);
  let s = itemSize;
  for (let i = k - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
  return strides;
}

function stridesF(dims: readonly number[], itemSize: number): number[] {
  const k = dims.length;
  const strides = new Array<number>(k);
  let s = itemSize;
  for (let i = 0; i < k; i++) {
    strides[i] = s;
    s *= dims[i];
  }
  return strides;
}

/**
 * Copy every element of an array of shape `dims` from one memory range to another, each with its
 * own byte strides per axis, where axis `a` is contiguous in the source and axis `b` (another
 * one) in the destination: the first and last axis, one way or the other. Each combination of
 * the axes in between is one two-axis transposition, done by the kernel for the element width.
 */
function permute(
  srcBuffer: ArrayBuffer,
  srcOffset: number,
  srcStrides: readonly number[],
  a: number,
  dstBuffer: ArrayBuffer,
  dstOffset: number,
  dstStrides: readonly number[],
  b: number,
  dims: readonly number[],
  itemSize: number,
  srcLength: number,
  dstLength: number,
): void {
  const k = dims.length;
  const nA = dims[a];
  const nB = dims[b];
  const sB = srcStrides[b];
  const dA = dstStrides[a];
  let count = 1;
  for (let ax = 1; ax < k - 1; ax++) count *= dims[ax];
  const counter = new Array<number>(k).fill(0);
  const short = nA <= SHORT && nA < nB;
  const src = new DataView(srcBuffer, srcOffset, srcLength);
  const dst = new DataView(dstBuffer, dstOffset, dstLength);
  const srcBytes = new Uint8Array(srcBuffer, srcOffset, srcLength);
  const dstBytes = new Uint8Array(dstBuffer, dstOffset, dstLength);
  let s = 0;
  let d = 0;
  for (let m = 0; m < count; m++) {
    if (itemSize === 8) {
      if (short) band64(src, s, sB, dst, d, dA, nA, nB);
      else move64(src, s, sB, dst, d, dA, nA, nB);
    } else if (itemSize === 4) {
      if (short) band32(src, s, sB, dst, d, dA, nA, nB);
      else move32(src, s, sB, dst, d, dA, nA, nB);
    } else if (itemSize === 2) {
      if (short) band16(src, s, sB, dst, d, dA, nA, nB);
      else move16(src, s, sB, dst, d, dA, nA, nB);
    } else {
      if (short) band8(srcBytes, s, sB, dstBytes, d, dA, nA, nB);
      else move8(srcBytes, s, sB, dstBytes, d, dA, nA, nB);
    }
    // The axes between the first and the last, as an odometer.
    for (let ax = k - 2; ax >= 1; ax--) {
      counter[ax]++;
      s += srcStrides[ax];
      d += dstStrides[ax];
      if (counter[ax] < dims[ax]) break;
      s -= srcStrides[ax] * dims[ax];
      d -= dstStrides[ax] * dims[ax];
      counter[ax] = 0;
    }
  }
}

// The kernels copy, for i < nA and j < nB, the element at byte s + j * sB + i * W of the source
// to byte d + i * dA + j * W of the destination (W the element width). A move reads eight source
// rows side by side (eight sequential streams), and each step writes eight neighbouring
// destination elements, so both sides move through whole cache lines; 4-byte elements go sixteen
// at a time, so that a step fills a whole 64-byte line, which is then never revisited (with half
// lines, a 100 MB int32 [1024, 25600] took 74 ms instead of 50: the other half came a tile
// later, after the line had left the cache, whose sets the power-of-two row stride crowds into
// few). 2- and 1-byte elements go thirty-two at a time (int16 at 10 and 100 MB: 12–24% faster
// than eight; uint8 up to 20% F → C). A band writes eight
// destination rows side by side instead. They are copies of one another on purpose: V8 compiles
// a function for the accesses it has seen, and one function for every width would make each
// access polymorphic. 8-byte elements move as 64-bit integers: a float64 through DataView
// loses the signalling bit of a NaN in some V8 tiers, and optimised code keeps the integers in
// registers (no BigInt is allocated), as fast as float64.

function move64(
  src: DataView,
  s: number,
  sB: number,
  dst: DataView,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  for (let i0 = 0; i0 < nA; i0 += TILE) {
    const start = i0 * 8;
    const end = Math.min(nA, i0 + TILE) * 8;
    const first = d + i0 * dA;
    let j = 0;
    for (; j + 8 <= nB; j += 8) {
      const s0 = s + j * sB, s1 = s0 + sB, s2 = s1 + sB, s3 = s2 + sB;
      const s4 = s3 + sB, s5 = s4 + sB, s6 = s5 + sB, s7 = s6 + sB;
      let o = first + j * 8;
      for (let i = start; i < end; i += 8) {
        dst.setBigUint64(o, src.getBigUint64(s0 + i, true), true);
        dst.setBigUint64(o + 8, src.getBigUint64(s1 + i, true), true);
        dst.setBigUint64(o + 16, src.getBigUint64(s2 + i, true), true);
        dst.setBigUint64(o + 24, src.getBigUint64(s3 + i, true), true);
        dst.setBigUint64(o + 32, src.getBigUint64(s4 + i, true), true);
        dst.setBigUint64(o + 40, src.getBigUint64(s5 + i, true), true);
        dst.setBigUint64(o + 48, src.getBigUint64(s6 + i, true), true);
        dst.setBigUint64(o + 56, src.getBigUint64(s7 + i, true), true);
        o += dA;
      }
    }
    for (; j + 2 <= nB; j += 2) {
      const s0 = s + j * sB, s1 = s0 + sB;
      let o = first + j * 8;
      for (let i = start; i < end; i += 8) {
        dst.setBigUint64(o, src.getBigUint64(s0 + i, true), true);
        dst.setBigUint64(o + 8, src.getBigUint64(s1 + i, true), true);
        o += dA;
      }
    }
    if (j < nB) {
      const s0 = s + j * sB;
      let o = first + j * 8;
      for (let i = start; i < end; i += 8) {
        dst.setBigUint64(o, src.getBigUint64(s0 + i, true), true);
        o += dA;
      }
    }
  }
}

function band64(
  src: DataView,
  s: number,
  sB: number,
  dst: DataView,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  const end = nB * 8;
  let i = 0;
  for (; i + 8 <= nA; i += 8) {
    const o0 = d + i * dA, o1 = o0 + dA, o2 = o1 + dA, o3 = o2 + dA;
    const o4 = o3 + dA, o5 = o4 + dA, o6 = o5 + dA, o7 = o6 + dA;
    let r = s + i * 8;
    for (let j = 0; j < end; j += 8) {
      dst.setBigUint64(o0 + j, src.getBigUint64(r, true), true);
      dst.setBigUint64(o1 + j, src.getBigUint64(r + 8, true), true);
      dst.setBigUint64(o2 + j, src.getBigUint64(r + 16, true), true);
      dst.setBigUint64(o3 + j, src.getBigUint64(r + 24, true), true);
      dst.setBigUint64(o4 + j, src.getBigUint64(r + 32, true), true);
      dst.setBigUint64(o5 + j, src.getBigUint64(r + 40, true), true);
      dst.setBigUint64(o6 + j, src.getBigUint64(r + 48, true), true);
      dst.setBigUint64(o7 + j, src.getBigUint64(r + 56, true), true);
      r += sB;
    }
  }
  for (; i < nA; i++) {
    const o = d + i * dA;
    let r = s + i * 8;
    for (let j = 0; j < end; j += 8) {
      dst.setBigUint64(o + j, src.getBigUint64(r, true), true);
      r += sB;
    }
  }
}

function move32(
  src: DataView,
  s: number,
  sB: number,
  dst: DataView,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  for (let i0 = 0; i0 < nA; i0 += TILE) {
    const start = i0 * 4;
    const end = Math.min(nA, i0 + TILE) * 4;
    const first = d + i0 * dA;
    let j = 0;
    for (; j + 16 <= nB; j += 16) {
      const s0 = s + j * sB, s1 = s0 + sB, s2 = s1 + sB, s3 = s2 + sB;
      const s4 = s3 + sB, s5 = s4 + sB, s6 = s5 + sB, s7 = s6 + sB;
      const s8 = s7 + sB, s9 = s8 + sB, s10 = s9 + sB, s11 = s10 + sB;
      const s12 = s11 + sB, s13 = s12 + sB, s14 = s13 + sB, s15 = s14 + sB;
      let o = first + j * 4;
      for (let i = start; i < end; i += 4) {
        dst.setUint32(o, src.getUint32(s0 + i, true), true);
        dst.setUint32(o + 4, src.getUint32(s1 + i, true), true);
        dst.setUint32(o + 8, src.getUint32(s2 + i, true), true);
        dst.setUint32(o + 12, src.getUint32(s3 + i, true), true);
        dst.setUint32(o + 16, src.getUint32(s4 + i, true), true);
        dst.setUint32(o + 20, src.getUint32(s5 + i, true), true);
        dst.setUint32(o + 24, src.getUint32(s6 + i, true), true);
        dst.setUint32(o + 28, src.getUint32(s7 + i, true), true);
        dst.setUint32(o + 32, src.getUint32(s8 + i, true), true);
        dst.setUint32(o + 36, src.getUint32(s9 + i, true), true);
        dst.setUint32(o + 40, src.getUint32(s10 + i, true), true);
        dst.setUint32(o + 44, src.getUint32(s11 + i, true), true);
        dst.setUint32(o + 48, src.getUint32(s12 + i, true), true);
        dst.setUint32(o + 52, src.getUint32(s13 + i, true), true);
        dst.setUint32(o + 56, src.getUint32(s14 + i, true), true);
        dst.setUint32(o + 60, src.getUint32(s15 + i, true), true);
        o += dA;
      }
    }
    for (; j + 8 <= nB; j += 8) {
      const s0 = s + j * sB, s1 = s0 + sB, s2 = s1 + sB, s3 = s2 + sB;
      const s4 = s3 + sB, s5 = s4 + sB, s6 = s5 + sB, s7 = s6 + sB;
      let o = first + j * 4;
      for (let i = start; i < end; i += 4) {
        dst.setUint32(o, src.getUint32(s0 + i, true), true);
        dst.setUint32(o + 4, src.getUint32(s1 + i, true), true);
        dst.setUint32(o + 8, src.getUint32(s2 + i, true), true);
        dst.setUint32(o + 12, src.getUint32(s3 + i, true), true);
        dst.setUint32(o + 16, src.getUint32(s4 + i, true), true);
        dst.setUint32(o + 20, src.getUint32(s5 + i, true), true);
        dst.setUint32(o + 24, src.getUint32(s6 + i, true), true);
        dst.setUint32(o + 28, src.getUint32(s7 + i, true), true);
        o += dA;
      }
    }
    for (; j + 2 <= nB; j += 2) {
      const s0 = s + j * sB, s1 = s0 + sB;
      let o = first + j * 4;
      for (let i = start; i < end; i += 4) {
        dst.setUint32(o, src.getUint32(s0 + i, true), true);
        dst.setUint32(o + 4, src.getUint32(s1 + i, true), true);
        o += dA;
      }
    }
    if (j < nB) {
      const s0 = s + j * sB;
      let o = first + j * 4;
      for (let i = start; i < end; i += 4) {
        dst.setUint32(o, src.getUint32(s0 + i, true), true);
        o += dA;
      }
    }
  }
}

function band32(
  src: DataView,
  s: number,
  sB: number,
  dst: DataView,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  const end = nB * 4;
  let i = 0;
  for (; i + 8 <= nA; i += 8) {
    const o0 = d + i * dA, o1 = o0 + dA, o2 = o1 + dA, o3 = o2 + dA;
    const o4 = o3 + dA, o5 = o4 + dA, o6 = o5 + dA, o7 = o6 + dA;
    let r = s + i * 4;
    for (let j = 0; j < end; j += 4) {
      dst.setUint32(o0 + j, src.getUint32(r, true), true);
      dst.setUint32(o1 + j, src.getUint32(r + 4, true), true);
      dst.setUint32(o2 + j, src.getUint32(r + 8, true), true);
      dst.setUint32(o3 + j, src.getUint32(r + 12, true), true);
      dst.setUint32(o4 + j, src.getUint32(r + 16, true), true);
      dst.setUint32(o5 + j, src.getUint32(r + 20, true), true);
      dst.setUint32(o6 + j, src.getUint32(r + 24, true), true);
      dst.setUint32(o7 + j, src.getUint32(r + 28, true), true);
      r += sB;
    }
  }
  for (; i < nA; i++) {
    const o = d + i * dA;
    let r = s + i * 4;
    for (let j = 0; j < end; j += 4) {
      dst.setUint32(o + j, src.getUint32(r, true), true);
      r += sB;
    }
  }
}

function move16(
  src: DataView,
  s: number,
  sB: number,
  dst: DataView,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  for (let i0 = 0; i0 < nA; i0 += TILE) {
    const start = i0 * 2;
    const end = Math.min(nA, i0 + TILE) * 2;
    const first = d + i0 * dA;
    let j = 0;
    for (; j + 32 <= nB; j += 32) {
      const s0 = s + j * sB, s1 = s0 + sB, s2 = s1 + sB, s3 = s2 + sB;
      const s4 = s3 + sB, s5 = s4 + sB, s6 = s5 + sB, s7 = s6 + sB;
      const s8 = s7 + sB, s9 = s8 + sB, s10 = s9 + sB, s11 = s10 + sB;
      const s12 = s11 + sB, s13 = s12 + sB, s14 = s13 + sB, s15 = s14 + sB;
      const s16 = s15 + sB, s17 = s16 + sB, s18 = s17 + sB, s19 = s18 + sB;
      const s20 = s19 + sB, s21 = s20 + sB, s22 = s21 + sB, s23 = s22 + sB;
      const s24 = s23 + sB, s25 = s24 + sB, s26 = s25 + sB, s27 = s26 + sB;
      const s28 = s27 + sB, s29 = s28 + sB, s30 = s29 + sB, s31 = s30 + sB;
      let o = first + j * 2;
      for (let i = start; i < end; i += 2) {
        dst.setUint16(o, src.getUint16(s0 + i, true), true);
        dst.setUint16(o + 2, src.getUint16(s1 + i, true), true);
        dst.setUint16(o + 4, src.getUint16(s2 + i, true), true);
        dst.setUint16(o + 6, src.getUint16(s3 + i, true), true);
        dst.setUint16(o + 8, src.getUint16(s4 + i, true), true);
        dst.setUint16(o + 10, src.getUint16(s5 + i, true), true);
        dst.setUint16(o + 12, src.getUint16(s6 + i, true), true);
        dst.setUint16(o + 14, src.getUint16(s7 + i, true), true);
        dst.setUint16(o + 16, src.getUint16(s8 + i, true), true);
        dst.setUint16(o + 18, src.getUint16(s9 + i, true), true);
        dst.setUint16(o + 20, src.getUint16(s10 + i, true), true);
        dst.setUint16(o + 22, src.getUint16(s11 + i, true), true);
        dst.setUint16(o + 24, src.getUint16(s12 + i, true), true);
        dst.setUint16(o + 26, src.getUint16(s13 + i, true), true);
        dst.setUint16(o + 28, src.getUint16(s14 + i, true), true);
        dst.setUint16(o + 30, src.getUint16(s15 + i, true), true);
        dst.setUint16(o + 32, src.getUint16(s16 + i, true), true);
        dst.setUint16(o + 34, src.getUint16(s17 + i, true), true);
        dst.setUint16(o + 36, src.getUint16(s18 + i, true), true);
        dst.setUint16(o + 38, src.getUint16(s19 + i, true), true);
        dst.setUint16(o + 40, src.getUint16(s20 + i, true), true);
        dst.setUint16(o + 42, src.getUint16(s21 + i, true), true);
        dst.setUint16(o + 44, src.getUint16(s22 + i, true), true);
        dst.setUint16(o + 46, src.getUint16(s23 + i, true), true);
        dst.setUint16(o + 48, src.getUint16(s24 + i, true), true);
        dst.setUint16(o + 50, src.getUint16(s25 + i, true), true);
        dst.setUint16(o + 52, src.getUint16(s26 + i, true), true);
        dst.setUint16(o + 54, src.getUint16(s27 + i, true), true);
        dst.setUint16(o + 56, src.getUint16(s28 + i, true), true);
        dst.setUint16(o + 58, src.getUint16(s29 + i, true), true);
        dst.setUint16(o + 60, src.getUint16(s30 + i, true), true);
        dst.setUint16(o + 62, src.getUint16(s31 + i, true), true);
        o += dA;
      }
    }
    for (; j + 8 <= nB; j += 8) {
      const s0 = s + j * sB, s1 = s0 + sB, s2 = s1 + sB, s3 = s2 + sB;
      const s4 = s3 + sB, s5 = s4 + sB, s6 = s5 + sB, s7 = s6 + sB;
      let o = first + j * 2;
      for (let i = start; i < end; i += 2) {
        dst.setUint16(o, src.getUint16(s0 + i, true), true);
        dst.setUint16(o + 2, src.getUint16(s1 + i, true), true);
        dst.setUint16(o + 4, src.getUint16(s2 + i, true), true);
        dst.setUint16(o + 6, src.getUint16(s3 + i, true), true);
        dst.setUint16(o + 8, src.getUint16(s4 + i, true), true);
        dst.setUint16(o + 10, src.getUint16(s5 + i, true), true);
        dst.setUint16(o + 12, src.getUint16(s6 + i, true), true);
        dst.setUint16(o + 14, src.getUint16(s7 + i, true), true);
        o += dA;
      }
    }
    for (; j + 2 <= nB; j += 2) {
      const s0 = s + j * sB, s1 = s0 + sB;
      let o = first + j * 2;
      for (let i = start; i < end; i += 2) {
        dst.setUint16(o, src.getUint16(s0 + i, true), true);
        dst.setUint16(o + 2, src.getUint16(s1 + i, true), true);
        o += dA;
      }
    }
    if (j < nB) {
      const s0 = s + j * sB;
      let o = first + j * 2;
      for (let i = start; i < end; i += 2) {
        dst.setUint16(o, src.getUint16(s0 + i, true), true);
        o += dA;
      }
    }
  }
}

function band16(
  src: DataView,
  s: number,
  sB: number,
  dst: DataView,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  const end = nB * 2;
  let i = 0;
  for (; i + 8 <= nA; i += 8) {
    const o0 = d + i * dA, o1 = o0 + dA, o2 = o1 + dA, o3 = o2 + dA;
    const o4 = o3 + dA, o5 = o4 + dA, o6 = o5 + dA, o7 = o6 + dA;
    let r = s + i * 2;
    for (let j = 0; j < end; j += 2) {
      dst.setUint16(o0 + j, src.getUint16(r, true), true);
      dst.setUint16(o1 + j, src.getUint16(r + 2, true), true);
      dst.setUint16(o2 + j, src.getUint16(r + 4, true), true);
      dst.setUint16(o3 + j, src.getUint16(r + 6, true), true);
      dst.setUint16(o4 + j, src.getUint16(r + 8, true), true);
      dst.setUint16(o5 + j, src.getUint16(r + 10, true), true);
      dst.setUint16(o6 + j, src.getUint16(r + 12, true), true);
      dst.setUint16(o7 + j, src.getUint16(r + 14, true), true);
      r += sB;
    }
  }
  for (; i < nA; i++) {
    const o = d + i * dA;
    let r = s + i * 2;
    for (let j = 0; j < end; j += 2) {
      dst.setUint16(o + j, src.getUint16(r, true), true);
      r += sB;
    }
  }
}

function move8(
  src: Uint8Array,
  s: number,
  sB: number,
  dst: Uint8Array,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  for (let i0 = 0; i0 < nA; i0 += TILE) {
    const start = i0;
    const end = Math.min(nA, i0 + TILE);
    const first = d + i0 * dA;
    let j = 0;
    for (; j + 32 <= nB; j += 32) {
      const s0 = s + j * sB, s1 = s0 + sB, s2 = s1 + sB, s3 = s2 + sB;
      const s4 = s3 + sB, s5 = s4 + sB, s6 = s5 + sB, s7 = s6 + sB;
      const s8 = s7 + sB, s9 = s8 + sB, s10 = s9 + sB, s11 = s10 + sB;
      const s12 = s11 + sB, s13 = s12 + sB, s14 = s13 + sB, s15 = s14 + sB;
      const s16 = s15 + sB, s17 = s16 + sB, s18 = s17 + sB, s19 = s18 + sB;
      const s20 = s19 + sB, s21 = s20 + sB, s22 = s21 + sB, s23 = s22 + sB;
      const s24 = s23 + sB, s25 = s24 + sB, s26 = s25 + sB, s27 = s26 + sB;
      const s28 = s27 + sB, s29 = s28 + sB, s30 = s29 + sB, s31 = s30 + sB;
      let o = first + j;
      for (let i = start; i < end; i++) {
        dst[o] = src[s0 + i];
        dst[o + 1] = src[s1 + i];
        dst[o + 2] = src[s2 + i];
        dst[o + 3] = src[s3 + i];
        dst[o + 4] = src[s4 + i];
        dst[o + 5] = src[s5 + i];
        dst[o + 6] = src[s6 + i];
        dst[o + 7] = src[s7 + i];
        dst[o + 8] = src[s8 + i];
        dst[o + 9] = src[s9 + i];
        dst[o + 10] = src[s10 + i];
        dst[o + 11] = src[s11 + i];
        dst[o + 12] = src[s12 + i];
        dst[o + 13] = src[s13 + i];
        dst[o + 14] = src[s14 + i];
        dst[o + 15] = src[s15 + i];
        dst[o + 16] = src[s16 + i];
        dst[o + 17] = src[s17 + i];
        dst[o + 18] = src[s18 + i];
        dst[o + 19] = src[s19 + i];
        dst[o + 20] = src[s20 + i];
        dst[o + 21] = src[s21 + i];
        dst[o + 22] = src[s22 + i];
        dst[o + 23] = src[s23 + i];
        dst[o + 24] = src[s24 + i];
        dst[o + 25] = src[s25 + i];
        dst[o + 26] = src[s26 + i];
        dst[o + 27] = src[s27 + i];
        dst[o + 28] = src[s28 + i];
        dst[o + 29] = src[s29 + i];
        dst[o + 30] = src[s30 + i];
        dst[o + 31] = src[s31 + i];
        o += dA;
      }
    }
    for (; j + 8 <= nB; j += 8) {
      const s0 = s + j * sB, s1 = s0 + sB, s2 = s1 + sB, s3 = s2 + sB;
      const s4 = s3 + sB, s5 = s4 + sB, s6 = s5 + sB, s7 = s6 + sB;
      let o = first + j;
      for (let i = start; i < end; i++) {
        dst[o] = src[s0 + i];
        dst[o + 1] = src[s1 + i];
        dst[o + 2] = src[s2 + i];
        dst[o + 3] = src[s3 + i];
        dst[o + 4] = src[s4 + i];
        dst[o + 5] = src[s5 + i];
        dst[o + 6] = src[s6 + i];
        dst[o + 7] = src[s7 + i];
        o += dA;
      }
    }
    for (; j + 2 <= nB; j += 2) {
      const s0 = s + j * sB, s1 = s0 + sB;
      let o = first + j;
      for (let i = start; i < end; i++) {
        dst[o] = src[s0 + i];
        dst[o + 1] = src[s1 + i];
        o += dA;
      }
    }
    if (j < nB) {
      const s0 = s + j * sB;
      let o = first + j;
      for (let i = start; i < end; i++) {
        dst[o] = src[s0 + i];
        o += dA;
      }
    }
  }
}

function band8(
  src: Uint8Array,
  s: number,
  sB: number,
  dst: Uint8Array,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  const end = nB;
  let i = 0;
  for (; i + 8 <= nA; i += 8) {
    const o0 = d + i * dA, o1 = o0 + dA, o2 = o1 + dA, o3 = o2 + dA;
    const o4 = o3 + dA, o5 = o4 + dA, o6 = o5 + dA, o7 = o6 + dA;
    let r = s + i;
    for (let j = 0; j < end; j++) {
      dst[o0 + j] = src[r];
      dst[o1 + j] = src[r + 1];
      dst[o2 + j] = src[r + 2];
      dst[o3 + j] = src[r + 3];
      dst[o4 + j] = src[r + 4];
      dst[o5 + j] = src[r + 5];
      dst[o6 + j] = src[r + 6];
      dst[o7 + j] = src[r + 7];
      r += sB;
    }
  }
  for (; i < nA; i++) {
    const o = d + i * dA;
    let r = s + i;
    for (let j = 0; j < end; j++) {
      dst[o + j] = src[r];
      r += sB;
    }
  }
}
