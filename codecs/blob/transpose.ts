/**
 * Element order conversion between C (row-major, what {@link NDArray} holds) and F
 * (column-major, what the blob stores). Tiled so that both the strided side and the contiguous
 * side stay in cache.
 *
 * @module
 */

/** Anything indexable that holds elements: typed arrays or plain arrays. */
export interface Indexable<T> {
  [index: number]: T;
  readonly length: number;
}

const TILE = 32;

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
 * Copy `src`, whose elements are in F order for `shape`, into `dst` in C order.
 *
 * @example
 * ```ts
 * import { fToC } from "./transpose.ts";
 * const c = new Float64Array(6);
 * fToC(new Float64Array([1, 4, 2, 5, 3, 6]), c, [2, 3]);
 * // c is [1, 2, 3, 4, 5, 6]
 * ```
 */
export function fToC<T>(src: Indexable<T>, dst: Indexable<T>, shape: readonly number[]): void {
  reorder(src, dst, shape, false);
}

/**
 * Copy `src`, whose elements are in C order for `shape`, into `dst` in F order.
 *
 * @example
 * ```ts
 * import { cToF } from "./transpose.ts";
 * const f = new Float64Array(6);
 * cToF(new Float64Array([1, 2, 3, 4, 5, 6]), f, [2, 3]);
 * // f is [1, 4, 2, 5, 3, 6]
 * ```
 */
export function cToF<T>(src: Indexable<T>, dst: Indexable<T>, shape: readonly number[]): void {
  reorder(src, dst, shape, true);
}

/**
 * The C-order position of each F-order position, for element-by-element conversions (object
 * arrays, struct records, cells).
 *
 * @example
 * ```ts
 * import { fOrderPositions } from "./transpose.ts";
 * fOrderPositions([2, 3]); // Uint32Array or Float64Array [0, 3, 1, 4, 2, 5]
 * ```
 */
export function fOrderPositions(shape: readonly number[]): Indexable<number> {
  let n = 1;
  for (const d of shape) n *= d;
  const ids = n < 2 ** 32 ? new Uint32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  const out = n < 2 ** 32 ? new Uint32Array(n) : new Float64Array(n);
  cToF(ids, out, shape);
  return out;
}

function reorder<T>(src: Indexable<T>, dst: Indexable<T>, shape: readonly number[], toF: boolean) {
  const dims = shape.filter((d) => d !== 1);
  if (dims.length <= 1 || dims.includes(0)) {
    const n = dims.includes(0) ? 0 : src.length;
    for (let i = 0; i < n; i++) dst[i] = src[i];
    return;
  }
  const k = dims.length;
  const cStride = new Array<number>(k);
  const fStride = new Array<number>(k);
  cStride[k - 1] = 1;
  for (let j = k - 2; j >= 0; j--) cStride[j] = cStride[j + 1] * dims[j + 1];
  fStride[0] = 1;
  for (let j = 1; j < k; j++) fStride[j] = fStride[j - 1] * dims[j - 1];
  // The first axis is contiguous in F order and the last in C order; tile over those two and
  // walk the middle axes with an odometer.
  const rows = dims[0];
  const cols = dims[k - 1];
  const rowStepC = cStride[0];
  const colStepF = fStride[k - 1];
  const mid = dims.slice(1, k - 1);
  let midCount = 1;
  for (const d of mid) midCount *= d;
  const counter = new Array<number>(mid.length).fill(0);
  let cBase = 0;
  let fBase = 0;
  for (let m = 0; m < midCount; m++) {
    for (let r0 = 0; r0 < rows; r0 += TILE) {
      const rEnd = Math.min(r0 + TILE, rows);
      for (let c0 = 0; c0 < cols; c0 += TILE) {
        const cEnd = Math.min(c0 + TILE, cols);
        if (toF) {
          for (let c = c0; c < cEnd; c++) {
            let f = fBase + r0 + c * colStepF;
            let ci = cBase + r0 * rowStepC + c;
            for (let r = r0; r < rEnd; r++) {
              dst[f++] = src[ci];
              ci += rowStepC;
            }
          }
        } else {
          for (let r = r0; r < rEnd; r++) {
            let ci = cBase + r * rowStepC + c0;
            let f = fBase + r + c0 * colStepF;
            for (let c = c0; c < cEnd; c++) {
              dst[ci++] = src[f];
              f += colStepF;
            }
          }
        }
      }
    }
    for (let ax = mid.length - 1; ax >= 0; ax--) {
      counter[ax]++;
      cBase += cStride[ax + 1];
      fBase += fStride[ax + 1];
      if (counter[ax] < mid[ax]) break;
      cBase -= cStride[ax + 1] * mid[ax];
      fBase -= fStride[ax + 1] * mid[ax];
      counter[ax] = 0;
    }
  }
}
