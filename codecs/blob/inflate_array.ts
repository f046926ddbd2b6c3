/**
 * Unpacking a big compressed blob whose root is one numeric array without the plain blob in
 * between: the stream inflates piece by piece, straight into the array when C and F order
 * coincide, otherwise into a small buffer that stays in the CPU cache, from which each piece is
 * converted to C order at once. The plain route inflates the whole blob into fresh memory first
 * (for 100 MB, page faults that cost about a third of the inflate) and then converts it from
 * there. Anything unusual (another root item, a size that does not add up, an inflater this
 * runtime lacks, a stream that is not clean to its end) returns `undefined`, and the caller takes
 * the plain route, which gives the same value or the same error.
 *
 * @module
 */

import { compressedParts } from "./compress.ts";
import { readRootArrayHeader } from "./decode.ts";
import { dtypeInfo } from "./dtype.ts";
import { Inflater } from "./zlib_into.ts";
import { NDArray } from "./ndarray.ts";
import { bitView, fSlabsToC, isOrderFree, slabSize } from "./transpose.ts";

/** Smaller blobs take the plain route: their inflate buffer is cheap. */
const STREAM_FROM = 4 * 1024 * 1024;
/** Bytes inflated first, enough for the header of an array of up to 500 dimensions. */
const HEAD = 4096;
/** Target size of one piece between conversions: well inside a core's L2 cache. */
const PIECE = 256 * 1024;
/** Slabs longer than this would need a big buffer again: the plain route does the same work. */
const MAX_SLAB = 16 * 1024 * 1024;

/**
 * The array in a big `ZL123\0` blob whose root item is a numeric array, inflated piece by piece
 * into its place; `undefined` for any other blob (the caller then unpacks it the plain way).
 *
 * @example
 * ```ts
 * import { inflateArray } from "./inflate_array.ts";
 * import { pack } from "./mod.ts";
 * import { NDArray } from "./ndarray.ts";
 * const big = NDArray.from(new Int32Array(2_000_000).fill(5), [1000, 2000]);
 * const array = inflateArray(pack(big), false);
 * console.log(array?.shape); // [1000, 2000]
 * ```
 */
export function inflateArray(bytes: Uint8Array, use32bitDims: boolean): NDArray | undefined {
  const { expected, stream } = compressedParts(bytes, use32bitDims);
  if (expected < STREAM_FROM) return undefined;
  const inflater = Inflater.open(stream);
  if (inflater === undefined) return undefined;
  try {
    const head = new Uint8Array(HEAD);
    const got = inflater.read(head);
    const header = readRootArrayHeader(head.subarray(0, got), use32bitDims);
    if (header === undefined || header.dataStart + header.dataBytes !== expected) return undefined;
    const { shape, dtype, complex, dataStart } = header;
    const info = dtypeInfo(dtype);
    const orderFree = isOrderFree(shape);
    if (!orderFree && slabSize(shape) * info.itemSize > MAX_SLAB) return undefined;
    const n = header.dataBytes / info.itemSize / (complex ? 2 : 1);
    const ctor = info.ctor!;
    const head0 = head.subarray(dataStart, got);
    const real = new ctor(n);
    const imag = complex ? new ctor(n) : undefined;
    const planes = imag ? [real, imag] : [real];
    const ok = orderFree
      ? inflateFlat(inflater, head0, planes)
      : inflateSlabs(inflater, head0, planes, shape);
    if (!ok || !inflater.ended()) return undefined;
    return new NDArray(dtype, shape, real as never, imag as never);
  } finally {
    inflater.close();
  }
}

type Plane = ArrayBufferView & { readonly BYTES_PER_ELEMENT: number };

function bytesOf(plane: Plane): Uint8Array {
  return new Uint8Array(plane.buffer, plane.byteOffset, plane.byteLength);
}

/** Planes in F order = C order: the stream goes straight into them. */
function inflateFlat(inflater: Inflater, head: Uint8Array, planes: Plane[]): boolean {
  let pending = head;
  for (const plane of planes) {
    const out = bytesOf(plane);
    const early = Math.min(pending.length, out.length);
    out.set(pending.subarray(0, early));
    pending = pending.subarray(early);
    if (inflater.read(out.subarray(early)) !== out.length - early) return false;
  }
  return pending.length === 0;
}

/**
 * Planes that need F → C conversion: pieces of whole slabs are inflated into one buffer and
 * converted from there.
 */
function inflateSlabs(
  inflater: Inflater,
  head: Uint8Array,
  planes: Plane[],
  shape: readonly number[],
): boolean {
  const itemSize = planes[0].BYTES_PER_ELEMENT;
  const slabBytes = slabSize(shape) * itemSize;
  const dims = shape.filter((d) => d !== 1);
  const last = dims[dims.length - 1];
  // At least a cache line's worth of slabs: each destination line is then written whole.
  const perPiece = Math.max(Math.ceil(64 / itemSize), Math.floor(PIECE / slabBytes));
  const buffer = new Uint8Array(Math.min(perPiece, last) * slabBytes);
  let pending = head;
  for (const plane of planes) {
    const dst = bitView(plane);
    for (let first = 0; first < last; first += perPiece) {
      const count = Math.min(perPiece, last - first);
      const piece = buffer.subarray(0, count * slabBytes);
      const early = Math.min(pending.length, piece.length);
      piece.set(pending.subarray(0, early));
      pending = pending.subarray(early);
      if (inflater.read(piece.subarray(early)) !== piece.length - early) return false;
      fSlabsToC(piece, dst, shape, first, count);
    }
  }
  return pending.length === 0;
}
