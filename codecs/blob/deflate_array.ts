/**
 * Packing a big numeric array with compression without the plain blob in between: the header
 * and then the elements are fed to zlib piece by piece, straight from the array when C and F
 * order coincide, otherwise converted to F order a few slabs at a time in a buffer that stays in
 * the CPU cache. The plain route writes the whole converted blob to memory first and deflates it
 * from there. The decision to compress is the same (its samples are read from the blob as it
 * would be), and the stream inflates to the same plain blob, but its bytes may differ from the
 * plain route's: `node:zlib` deflates input given in pieces a little differently. Either route
 * always gives the same bytes for the same array.
 *
 * @module
 */

import { type CompressionPolicy, worthCompressing, writeZl123Header } from "./compress.ts";
import { arrayBlobHeader } from "./encode.ts";
import { type NDArray } from "./ndarray.ts";
import { type BitArray, bitView, cToFSlabs, isOrderFree, slabSize } from "./transpose.ts";
import { kindOf } from "./values.ts";
import { Deflater } from "./zlib_into.ts";

/** Smaller arrays take the plain route: their plain blob is cheap. */
const STREAM_FROM = 4 * 1024 * 1024;
/** Target size of one converted piece: well inside a core's L2 cache. */
const PIECE = 256 * 1024;
/** Slabs longer than this would need a big buffer again: the plain route does the same work. */
const MAX_SLAB = 16 * 1024 * 1024;

/**
 * `ZL123\0`-compressed bytes of the blob of `value` when it is a big numeric array that the
 * policy compresses, written piecewise into `allocate`d memory and returned as a tight copy;
 * `"plain"` when the policy (or the result's size) says to store it uncompressed; `undefined`
 * for any other value (the caller then packs it the plain way).
 *
 * @example
 * ```ts
 * import { deflateArray } from "./deflate_array.ts";
 * import { NDArray } from "./ndarray.ts";
 * const big = NDArray.from(new Int32Array(2_000_000).fill(5), [1000, 2000]);
 * const packed = deflateArray(big, { level: 6, skipIncompressible: true }, (n) => new Uint8Array(n));
 * console.log(packed instanceof Uint8Array); // true
 * ```
 */
export function deflateArray(
  value: unknown,
  policy: CompressionPolicy,
  allocate: (size: number) => Uint8Array<ArrayBuffer>,
): Uint8Array | "plain" | undefined {
  if (kindOf(value) !== "ndarray") return undefined;
  const a = value as NDArray;
  if (a.dtype === "object" || a.dtype === "bool") return undefined;
  // Small arrays leave first, before any work: pack calls this for every value it compresses.
  const dataBytes = (a.data as ArrayBufferView).byteLength * (a.imag === undefined ? 1 : 2);
  if (dataBytes + 21 + 8 * a.shape.length < STREAM_FROM) return undefined;
  const planes = [a.data, ...(a.imag === undefined ? [] : [a.imag])].map((p) =>
    bitView(p as ArrayBufferView & { readonly BYTES_PER_ELEMENT: number })
  );
  const itemSize = planes[0].BYTES_PER_ELEMENT;
  const orderFree = isOrderFree(a.shape);
  const slabBytes = orderFree ? 0 : slabSize(a.shape) * itemSize;
  if (slabBytes > MAX_SLAB) return undefined;
  const planeBytes = planes[0].byteLength;
  const header = arrayBlobHeader(a);
  const length = header.length + planeBytes * planes.length;
  if (length < STREAM_FROM) return undefined;
  const source = orderFree
    ? new FlatSource(header, planes)
    : new SlabSource(header, planes, a.shape, slabBytes);
  if (!worthCompressing(length, (start, end) => source.read(start, end), policy)) return "plain";
  const out = allocate(14 + Deflater.bound(length));
  const deflater = Deflater.open(policy.level, out.subarray(14));
  if (deflater === undefined) return undefined;
  try {
    deflater.write(header);
    source.feed((bytes) => deflater.write(bytes));
    const total = 14 + deflater.finish();
    if (total >= length) return "plain";
    writeZl123Header(out, length);
    return out.slice(0, total);
  } finally {
    deflater.close();
  }
}

/** The bytes of a plain array blob, by range (for samples) and in order (for the deflater). */
interface BlobSource {
  read(start: number, end: number): Uint8Array;
  feed(sink: (bytes: Uint8Array) => void): void;
}

/** Planes whose C order is their F order: their bytes as they are. */
class FlatSource implements BlobSource {
  readonly #header: Uint8Array;
  readonly #planes: Uint8Array[];

  constructor(header: Uint8Array, planes: BitArray[]) {
    this.#header = header;
    this.#planes = planes.map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  }

  read(start: number, end: number): Uint8Array {
    const parts = [this.#header, ...this.#planes];
    return readParts(
      parts.map((p) => p.length),
      start,
      end,
      (i, from, to) => parts[i].subarray(from, to),
    );
  }

  feed(sink: (bytes: Uint8Array) => void): void {
    for (const plane of this.#planes) sink(plane);
  }
}

/** Planes converted to F order a few slabs at a time. */
class SlabSource implements BlobSource {
  readonly #header: Uint8Array;
  readonly #planes: BitArray[];
  readonly #shape: readonly number[];
  readonly #slabBytes: number;
  readonly #last: number;

  constructor(header: Uint8Array, planes: BitArray[], shape: readonly number[], slabBytes: number) {
    this.#header = header;
    this.#planes = planes;
    this.#shape = shape;
    this.#slabBytes = slabBytes;
    const dims = shape.filter((d) => d !== 1);
    this.#last = dims[dims.length - 1];
  }

  read(start: number, end: number): Uint8Array {
    const planeBytes = this.#slabBytes * this.#last;
    const lengths = [this.#header.length, ...this.#planes.map(() => planeBytes)];
    return readParts(lengths, start, end, (i, from, to) => {
      if (i === 0) return this.#header.subarray(from, to);
      // A sample: the slabs it touches are converted, then cut to the range.
      const first = Math.floor(from / this.#slabBytes);
      const count = Math.ceil(to / this.#slabBytes) - first;
      const slabs = new Uint8Array(count * this.#slabBytes);
      cToFSlabs(this.#planes[i - 1], slabs, this.#shape, first, count);
      const skip = first * this.#slabBytes;
      return slabs.subarray(from - skip, to - skip);
    });
  }

  feed(sink: (bytes: Uint8Array) => void): void {
    const itemSize = this.#planes[0].BYTES_PER_ELEMENT;
    // At least a cache line's worth of slabs, as in the inflate (see inflate_array.ts).
    const perPiece = Math.max(Math.ceil(64 / itemSize), Math.floor(PIECE / this.#slabBytes));
    const buffer = new Uint8Array(Math.min(perPiece, this.#last) * this.#slabBytes);
    for (const plane of this.#planes) {
      for (let first = 0; first < this.#last; first += perPiece) {
        const count = Math.min(perPiece, this.#last - first);
        const piece = buffer.subarray(0, count * this.#slabBytes);
        cToFSlabs(plane, piece, this.#shape, first, count);
        sink(piece);
      }
    }
  }
}

/**
 * Bytes `start` to `end` of consecutive parts of the given lengths, where `part(i, from, to)`
 * gives bytes `from` to `to` of part `i`.
 */
function readParts(
  lengths: number[],
  start: number,
  end: number,
  part: (index: number, from: number, to: number) => Uint8Array,
): Uint8Array {
  const out = new Uint8Array(Math.max(0, end - start));
  let offset = 0;
  for (let i = 0; i < lengths.length && offset < end; i++) {
    const from = Math.max(start - offset, 0);
    const to = Math.min(end - offset, lengths[i]);
    if (from < to) out.set(part(i, from, to), offset + from - start);
    offset += lengths[i];
  }
  return out;
}
