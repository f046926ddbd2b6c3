/**
 * Element order conversion between C (row-major, what {@link NDArray} holds) and F
 * (column-major, what the blob stores).
 *
 * Numeric planes are converted between a typed array and raw blob bytes through a small scratch
 * chunk: the F-order bytes of a range of the last axis are contiguous, so each chunk is copied
 * once (aligned) and permuted by a tiled kernel. No full-size temporary is allocated, and the
 * blob bytes may sit at any alignment.
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

const TILE = 16;
/** Elements per scratch chunk (512 KiB of float64): large enough to amortise, cache-sized. */
const CHUNK_ELEMENTS = 65536;

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
  const dstBytes = new Uint8Array(dst.buffer, dst.byteOffset, n * itemSize);
  const dims = shape.filter((d) => d !== 1);
  if (dims.length <= 1 || n === 0) {
    dstBytes.set(bytes.subarray(0, n * itemSize));
    return;
  }
  const plan = chunkPlan(dims, itemSize);
  for (let c0 = 0; c0 < plan.last; c0 += plan.perChunk) {
    const cols = Math.min(plan.perChunk, plan.last - c0);
    const from = c0 * plan.slab * itemSize;
    plan.scratchBytes.set(bytes.subarray(from, from + cols * plan.slab * itemSize));
    plan.subDims[plan.subDims.length - 1] = cols;
    strided(plan.scratch, 0, plan.fStrides, dst, c0, plan.cStrides, plan.subDims);
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
  const plan = chunkPlan(dims, itemSize);
  for (let c0 = 0; c0 < plan.last; c0 += plan.perChunk) {
    const cols = Math.min(plan.perChunk, plan.last - c0);
    plan.subDims[plan.subDims.length - 1] = cols;
    strided(src, c0, plan.cStrides, plan.scratch, 0, plan.fStrides, plan.subDims);
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
  /** Strides of the full array in C order. */
  cStrides: number[];
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
  const perChunk = Math.max(1, Math.min(last, Math.floor(CHUNK_ELEMENTS / slab)));
  const scratch = new (bitCtor(itemSize))(perChunk * slab);
  const fStrides = new Array<number>(k);
  fStrides[0] = 1;
  for (let i = 1; i < k; i++) fStrides[i] = fStrides[i - 1] * dims[i - 1];
  return {
    last,
    slab,
    perChunk,
    scratch,
    scratchBytes: new Uint8Array(scratch.buffer),
    cStrides: stridesC(dims),
    fStrides,
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

/**
 * Copy every element of an array of shape `dims` from `src` (offset and strides per axis) to
 * `dst` (its own offset and strides). Tiles over the axis that is contiguous in the source and
 * the one contiguous in the destination so that both sides stay in cache; the other axes are
 * walked with an odometer.
 */
function strided(
  src: BitArray,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: BitArray,
  dstOffset: number,
  dstStrides: readonly number[],
  dims: readonly number[],
): void {
  const k = dims.length;
  let a = 0;
  let b = 0;
  for (let i = 1; i < k; i++) {
    if (srcStrides[i] < srcStrides[a]) a = i;
    if (dstStrides[i] < dstStrides[b]) b = i;
  }
  const others: number[] = [];
  for (let i = 0; i < k; i++) if (i !== a && i !== b) others.push(i);
  let count = 1;
  for (const ax of others) count *= dims[ax];
  const counter = new Array<number>(others.length).fill(0);
  const nA = dims[a];
  const nB = dims[b];
  const sA = srcStrides[a];
  const dA = dstStrides[a];
  const sB = srcStrides[b];
  const dB = dstStrides[b];
  let sBase = srcOffset;
  let dBase = dstOffset;
  for (let m = 0; m < count; m++) {
    if (a === b) {
      let s = sBase;
      let d = dBase;
      for (let i = 0; i < nA; i++) {
        dst[d] = src[s];
        s += sA;
        d += dA;
      }
    } else {
      for (let b0 = 0; b0 < nB; b0 += TILE) {
        const bEnd = Math.min(b0 + TILE, nB);
        for (let a0 = 0; a0 < nA; a0 += TILE) {
          const aEnd = Math.min(a0 + TILE, nA);
          for (let j = b0; j < bEnd; j++) {
            let s = sBase + j * sB + a0 * sA;
            let d = dBase + j * dB + a0 * dA;
            for (let i = a0; i < aEnd; i++) {
              dst[d] = src[s];
              s += sA;
              d += dA;
            }
          }
        }
      }
    }
    for (let o = others.length - 1; o >= 0; o--) {
      const ax = others[o];
      counter[o]++;
      sBase += srcStrides[ax];
      dBase += dstStrides[ax];
      if (counter[o] < dims[ax]) break;
      sBase -= srcStrides[ax] * dims[ax];
      dBase -= dstStrides[ax] * dims[ax];
      counter[o] = 0;
    }
  }
}
