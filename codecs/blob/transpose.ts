/**
 * Element order conversion between C (row-major, what {@link NDArray} holds) and F
 * (column-major, what the blob stores).
 *
 * Numeric planes are converted between a typed array and raw blob bytes. Blob bytes at an aligned
 * position are permuted in place; otherwise they pass through a small scratch chunk: the F-order
 * bytes of a range of the last axis are contiguous, so each chunk is copied once (aligned) and
 * permuted. No full-size temporary is allocated. The permutation is a series of two-axis
 * transpositions (first and last axis) by kernels specialised per element width.
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
 * Target size of the scratch chunk through which unaligned blob bytes pass: small enough to stay
 * in the L2 cache while it is permuted.
 */
const CHUNK_BYTES = 512 * 1024;
/**
 * A chunk holds at least this many bytes' worth of units of the last axis (eight float64, sixteen
 * int32), so that every cache line of the C-order side is filled by one chunk rather than
 * partly by several chunks far apart in time...
 */
const LINE_BYTES = 64;
/** ...unless that makes the scratch chunk bigger than this. */
const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
/**
 * A two-axis transposition whose source-contiguous side is at most this long (and the shorter
 * side) is done in bands of destination rows: the eight-stream kernel would run loops of a few
 * steps each. Measured: 3-D float64 from C to F order through 8-unit chunks, 1.4 → 2.6 GB/s.
 */
const SHORT = 32;

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
  const dims = shape.filter((d) => d !== 1);
  if (dims.length <= 1 || n === 0) {
    new Uint8Array(dst.buffer, dst.byteOffset, n * itemSize).set(bytes.subarray(0, n * itemSize));
    return;
  }
  const k = dims.length;
  const cStrides = stridesC(dims);
  if (bytes.byteOffset % itemSize === 0) {
    // Aligned elements are permuted where they are, without passing through a scratch chunk.
    const src = new (bitCtor(itemSize))(bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
    permute(src, 0, stridesF(dims), 0, dst, 0, cStrides, k - 1, dims);
    return;
  }
  const plan = chunkPlan(dims, itemSize);
  for (let c0 = 0; c0 < plan.last; c0 += plan.perChunk) {
    const cols = Math.min(plan.perChunk, plan.last - c0);
    const from = c0 * plan.slab * itemSize;
    plan.scratchBytes.set(bytes.subarray(from, from + cols * plan.slab * itemSize));
    plan.subDims[k - 1] = cols;
    permute(plan.scratch, 0, plan.fStrides, 0, dst, c0, cStrides, k - 1, plan.subDims);
  }
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
  const dims = shape.filter((d) => d !== 1);
  if (dims.length <= 1 || n === 0) {
    out.set(new Uint8Array(src.buffer, src.byteOffset, n * itemSize));
    return;
  }
  const k = dims.length;
  const cStrides = stridesC(dims);
  if (out.byteOffset % itemSize === 0) {
    const dst = new (bitCtor(itemSize))(out.buffer as ArrayBuffer, out.byteOffset, n);
    permute(src, 0, cStrides, k - 1, dst, 0, stridesF(dims), 0, dims);
    return;
  }
  const plan = chunkPlan(dims, itemSize);
  for (let c0 = 0; c0 < plan.last; c0 += plan.perChunk) {
    const cols = Math.min(plan.perChunk, plan.last - c0);
    plan.subDims[k - 1] = cols;
    permute(src, c0, cStrides, k - 1, plan.scratch, 0, plan.fStrides, 0, plan.subDims);
    const bytes = cols * plan.slab * itemSize;
    out.set(plan.scratchBytes.subarray(0, bytes), c0 * plan.slab * itemSize);
  }
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

interface ChunkPlan {
  /** Length of the last axis, which F order stores slowest. */
  last: number;
  /** Elements per unit of the last axis (the product of the other axes). */
  slab: number;
  /** Units of the last axis per chunk. */
  perChunk: number;
  scratch: BitArray;
  scratchBytes: Uint8Array;
  /** Strides of one chunk in F order. */
  fStrides: number[];
  /** Shape of one chunk (the last entry is set per chunk). */
  subDims: number[];
}

function chunkPlan(dims: number[], itemSize: number): ChunkPlan {
  const k = dims.length;
  const last = dims[k - 1];
  let slab = 1;
  for (let i = 0; i < k - 1; i++) slab *= dims[i];
  const line = LINE_BYTES / itemSize;
  let perChunk = Math.floor(CHUNK_BYTES / (slab * itemSize));
  if (perChunk >= line) perChunk -= perChunk % line;
  else if (slab * line * itemSize <= MAX_CHUNK_BYTES) perChunk = line;
  perChunk = Math.max(1, Math.min(last, perChunk));
  const scratch = new (bitCtor(itemSize))(perChunk * slab);
  return {
    last,
    slab,
    perChunk,
    scratch,
    scratchBytes: new Uint8Array(scratch.buffer),
    fStrides: stridesF(dims),
    subDims: [...dims],
  };
}

function stridesC(dims: readonly number[]): number[] {
  const k = dims.length;
  const strides = new Array<number>(k);
  let s = 1;
  for (let i = k - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
  return strides;
}

function stridesF(dims: readonly number[]): number[] {
  const k = dims.length;
  const strides = new Array<number>(k);
  let s = 1;
  for (let i = 0; i < k; i++) {
    strides[i] = s;
    s *= dims[i];
  }
  return strides;
}

/**
 * Copy every element of an array of shape `dims` from `src` (offset and strides per axis) to
 * `dst` (its own offset and strides), where axis `a` has stride 1 in the source and axis `b`
 * (another one) has stride 1 in the destination: the first and last axis, one way or the other.
 * Each combination of the axes in between is one two-axis transposition, done by the kernel for
 * the element width.
 */
function permute(
  src: BitArray,
  srcOffset: number,
  srcStrides: readonly number[],
  a: number,
  dst: BitArray,
  dstOffset: number,
  dstStrides: readonly number[],
  b: number,
  dims: readonly number[],
): void {
  const k = dims.length;
  const nA = dims[a];
  const nB = dims[b];
  const sB = srcStrides[b];
  const dA = dstStrides[a];
  let count = 1;
  for (let ax = 1; ax < k - 1; ax++) count *= dims[ax];
  const counter = new Array<number>(k).fill(0);
  let sBase = srcOffset;
  let dBase = dstOffset;
  const itemSize = src.BYTES_PER_ELEMENT;
  const short = nA <= SHORT && nA < nB;
  for (let m = 0; m < count; m++) {
    if (itemSize === 8) {
      if (short) band64(src as Float64Array, sBase, sB, dst as Float64Array, dBase, dA, nA, nB);
      else move64(src as Float64Array, sBase, sB, dst as Float64Array, dBase, dA, nA, nB);
    } else if (itemSize === 4) {
      if (short) band32(src as Uint32Array, sBase, sB, dst as Uint32Array, dBase, dA, nA, nB);
      else move32(src as Uint32Array, sBase, sB, dst as Uint32Array, dBase, dA, nA, nB);
    } else if (itemSize === 2) {
      if (short) band16(src as Uint16Array, sBase, sB, dst as Uint16Array, dBase, dA, nA, nB);
      else move16(src as Uint16Array, sBase, sB, dst as Uint16Array, dBase, dA, nA, nB);
    } else {
      if (short) band8(src as Uint8Array, sBase, sB, dst as Uint8Array, dBase, dA, nA, nB);
      else move8(src as Uint8Array, sBase, sB, dst as Uint8Array, dBase, dA, nA, nB);
    }
    // The axes between the first and the last, as an odometer.
    for (let ax = k - 2; ax >= 1; ax--) {
      counter[ax]++;
      sBase += srcStrides[ax];
      dBase += dstStrides[ax];
      if (counter[ax] < dims[ax]) break;
      sBase -= srcStrides[ax] * dims[ax];
      dBase -= dstStrides[ax] * dims[ax];
      counter[ax] = 0;
    }
  }
}

// The kernels: dst[d + i * dA + j] = src[s + j * sB + i] for i < nA, j < nB. Eight source rows
// are read side by side (eight sequential streams) and each step writes eight neighbouring
// destination elements, so both sides move through whole cache lines. move64 and move32 are
// the same code on purpose: V8 optimises a function for the typed arrays it has seen, and one
// function shared by every element width would make each element access polymorphic (about
// twice as slow).

function move64(
  src: Float64Array,
  s: number,
  sB: number,
  dst: Float64Array,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  let j = 0;
  for (; j + 8 <= nB; j += 8) {
    const s0 = s + j * sB, s1 = s0 + sB, s2 = s1 + sB, s3 = s2 + sB;
    const s4 = s3 + sB, s5 = s4 + sB, s6 = s5 + sB, s7 = s6 + sB;
    let o = d + j;
    for (let i = 0; i < nA; i++) {
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
    let o = d + j;
    for (let i = 0; i < nA; i++) {
      dst[o] = src[s0 + i];
      dst[o + 1] = src[s1 + i];
      o += dA;
    }
  }
  if (j < nB) {
    const s0 = s + j * sB;
    let o = d + j;
    for (let i = 0; i < nA; i++) {
      dst[o] = src[s0 + i];
      o += dA;
    }
  }
}

function move32(
  src: Uint32Array,
  s: number,
  sB: number,
  dst: Uint32Array,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  let j = 0;
  for (; j + 8 <= nB; j += 8) {
    const s0 = s + j * sB, s1 = s0 + sB, s2 = s1 + sB, s3 = s2 + sB;
    const s4 = s3 + sB, s5 = s4 + sB, s6 = s5 + sB, s7 = s6 + sB;
    let o = d + j;
    for (let i = 0; i < nA; i++) {
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
    let o = d + j;
    for (let i = 0; i < nA; i++) {
      dst[o] = src[s0 + i];
      dst[o + 1] = src[s1 + i];
      o += dA;
    }
  }
  if (j < nB) {
    const s0 = s + j * sB;
    let o = d + j;
    for (let i = 0; i < nA; i++) {
      dst[o] = src[s0 + i];
      o += dA;
    }
  }
}

function band64(
  src: Float64Array,
  s: number,
  sB: number,
  dst: Float64Array,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  let i = 0;
  for (; i + 8 <= nA; i += 8) {
    const o0 = d + i * dA, o1 = o0 + dA, o2 = o1 + dA, o3 = o2 + dA;
    const o4 = o3 + dA, o5 = o4 + dA, o6 = o5 + dA, o7 = o6 + dA;
    let r = s + i;
    for (let j = 0; j < nB; j++) {
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
    for (let j = 0; j < nB; j++) {
      dst[o + j] = src[r];
      r += sB;
    }
  }
}

function band32(
  src: Uint32Array,
  s: number,
  sB: number,
  dst: Uint32Array,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  let i = 0;
  for (; i + 8 <= nA; i += 8) {
    const o0 = d + i * dA, o1 = o0 + dA, o2 = o1 + dA, o3 = o2 + dA;
    const o4 = o3 + dA, o5 = o4 + dA, o6 = o5 + dA, o7 = o6 + dA;
    let r = s + i;
    for (let j = 0; j < nB; j++) {
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
    for (let j = 0; j < nB; j++) {
      dst[o + j] = src[r];
      r += sB;
    }
  }
}

function move16(
  src: Uint16Array,
  s: number,
  sB: number,
  dst: Uint16Array,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  let j = 0;
  for (; j + 8 <= nB; j += 8) {
    const s0 = s + j * sB, s1 = s0 + sB, s2 = s1 + sB, s3 = s2 + sB;
    const s4 = s3 + sB, s5 = s4 + sB, s6 = s5 + sB, s7 = s6 + sB;
    let o = d + j;
    for (let i = 0; i < nA; i++) {
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
    let o = d + j;
    for (let i = 0; i < nA; i++) {
      dst[o] = src[s0 + i];
      dst[o + 1] = src[s1 + i];
      o += dA;
    }
  }
  if (j < nB) {
    const s0 = s + j * sB;
    let o = d + j;
    for (let i = 0; i < nA; i++) {
      dst[o] = src[s0 + i];
      o += dA;
    }
  }
}

function band16(
  src: Uint16Array,
  s: number,
  sB: number,
  dst: Uint16Array,
  d: number,
  dA: number,
  nA: number,
  nB: number,
): void {
  let i = 0;
  for (; i + 8 <= nA; i += 8) {
    const o0 = d + i * dA, o1 = o0 + dA, o2 = o1 + dA, o3 = o2 + dA;
    const o4 = o3 + dA, o5 = o4 + dA, o6 = o5 + dA, o7 = o6 + dA;
    let r = s + i;
    for (let j = 0; j < nB; j++) {
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
    for (let j = 0; j < nB; j++) {
      dst[o + j] = src[r];
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
  let j = 0;
  for (; j + 8 <= nB; j += 8) {
    const s0 = s + j * sB, s1 = s0 + sB, s2 = s1 + sB, s3 = s2 + sB;
    const s4 = s3 + sB, s5 = s4 + sB, s6 = s5 + sB, s7 = s6 + sB;
    let o = d + j;
    for (let i = 0; i < nA; i++) {
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
    let o = d + j;
    for (let i = 0; i < nA; i++) {
      dst[o] = src[s0 + i];
      dst[o + 1] = src[s1 + i];
      o += dA;
    }
  }
  if (j < nB) {
    const s0 = s + j * sB;
    let o = d + j;
    for (let i = 0; i < nA; i++) {
      dst[o] = src[s0 + i];
      o += dA;
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
  let i = 0;
  for (; i + 8 <= nA; i += 8) {
    const o0 = d + i * dA, o1 = o0 + dA, o2 = o1 + dA, o3 = o2 + dA;
    const o4 = o3 + dA, o5 = o4 + dA, o6 = o5 + dA, o7 = o6 + dA;
    let r = s + i;
    for (let j = 0; j < nB; j++) {
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
    for (let j = 0; j < nB; j++) {
      dst[o + j] = src[r];
      r += sB;
    }
  }
}
