/**
 * The DataJoint blob serializer: `pack` and `unpack`, byte-compatible with DataJoint Python's
 * `datajoint.blob` and readable by MATLAB's mYm for the MATLAB subset.
 *
 * @module
 */

import { BlobDecodeError, BlobEncodeError } from "../../lib/errors.ts";
import { compressBlob, decompressBlob, isCompressed } from "./compress.ts";
import { decodeBlob } from "./decode.ts";
import { encodeBlob } from "./encode.ts";
import { deflateArray } from "./deflate_array.ts";
import { inflateArray } from "./inflate_array.ts";
import { ScratchPool } from "./scratch.ts";
import type { BlobValue } from "./values.ts";

export { MatCell, MatStruct, RecArray, Tuple, tuple } from "./containers.ts";
export type { DatetimeUnit, DType } from "./dtype.ts";
export { NAT } from "./dtype.ts";
export { NDArray } from "./ndarray.ts";
export { BLOB_KIND, Complex, Decimal, UUID } from "./scalars.ts";
export type { BlobDict, BlobValue } from "./values.ts";

/** Options of {@link pack}. */
export interface PackOptions {
  /**
   * Wrap the blob in `ZL123\0` compression when it is longer than 1000 bytes and that makes it
   * smaller (DataJoint Python's rule). Default `true`.
   */
  compress?: boolean;
  /** zlib level 0–9 for compression. Default 6 (zlib's and Python's default). */
  compressionLevel?: number;
  /**
   * Store blobs of 1 MiB or more uncompressed when four 16 KiB samples spread over them shrink
   * by less than 10% (noisy recordings, random data), saving a deflate pass that would gain a
   * few percent. Default `true`; `false` follows DataJoint Python's rule for every size. Either
   * way DataJoint Python reads the result.
   */
  skipIncompressible?: boolean;
  /** Deepest nesting of containers accepted (default 512). */
  maxDepth?: number;
  /**
   * Supplies the memory of a blob that outgrows 1 MiB: a buffer of at least `size` bytes (longer
   * is fine) that the result is then a view of, unless it is compressed into new memory. For
   * callers that reuse memory for blobs that live only until they are stored (fresh memory costs
   * page faults on first touch, about as much as the copy into it). Default: fresh memory for
   * an uncompressed result; when compressing, reused memory of a pool inside this module (kept
   * while packing goes on, dropped after two idle seconds), which an uncompressed result then
   * takes over.
   */
  allocate?: (size: number) => Uint8Array<ArrayBuffer>;
}

/** Options of {@link unpack}. */
export interface UnpackOptions {
  /**
   * Read length fields as u32: blobs written by the 32-bit build of MATLAB's mYm
   * (DataJoint Python's `use_32bit_dims`). Default `false`.
   */
  use32bitDims?: boolean;
  /** Deepest nesting of items accepted (default 512). */
  maxDepth?: number;
  /**
   * `bytes` are handed over (a fresh download nobody else holds): a big array whose elements
   * need no reordering (1-D, or one dimension above 1) and lie aligned in `bytes`' buffer uses
   * that memory instead of a copy. Do not use or change `bytes` afterwards. Default `false`.
   * (The elements of a top-level array start 21 + 8 × ndim bytes into a plain blob, so they are
   * aligned when `bytes.byteOffset % 8 === 3`: see {@link BLOB_ADOPT_OFFSET}.)
   */
  adopt?: boolean;
}

/**
 * Where to place a plain blob in a fresh buffer (its `byteOffset`) so that the elements of a
 * top-level numeric array are 8-byte aligned and {@link unpack} with `adopt` can use them in
 * place: they start 21 + 8 × ndim bytes into the blob.
 *
 * @example
 * ```ts
 * import { BLOB_ADOPT_OFFSET, NDArray, pack, unpack } from "./mod.ts";
 * const packed = pack(NDArray.from(new Float64Array(1000)), { compress: false });
 * const placed = new Uint8Array(packed.length + BLOB_ADOPT_OFFSET).subarray(BLOB_ADOPT_OFFSET);
 * placed.set(packed);
 * const back = unpack(placed, { adopt: true }) as NDArray;
 * console.log(back.data.buffer === placed.buffer); // true
 * ```
 */
export const BLOB_ADOPT_OFFSET = 3;

/**
 * Serialize a value to DataJoint blob bytes, as DataJoint Python's `blob.pack` does: header
 * `mYm\0` when the value is MATLAB-compatible (numeric, bool and char arrays with at least one
 * dimension, structs, cells), `dj0\0` as soon as anything needs DataJoint Python's extensions.
 *
 * @example
 * ```ts
 * import { NDArray, pack, unpack } from "./mod.ts";
 * const bytes = pack({ trace: NDArray.from(new Float64Array([1, 2, 3])), rate: 30.0 });
 * const back = unpack(bytes) as { trace: NDArray; rate: number };
 * back.rate; // 30
 * ```
 */
export function pack(value: unknown, options: PackOptions = {}): Uint8Array {
  const compress = options.compress !== false;
  const level = options.compressionLevel ?? 6;
  if (compress && (!Number.isInteger(level) || level < 0 || level > 9)) {
    throw new BlobEncodeError(`compressionLevel must be an integer from 0 to 9, got ${level}`);
  }
  // A plain blob that is compressed right away is garbage once deflated: it goes into reused
  // memory, sparing the page faults of fresh memory (for 100 MB, about 50 ms on top of the
  // transposition, a fifth of a level-6 deflate of compressible data).
  const lent: Uint8Array<ArrayBuffer>[] = [];
  const allocate = options.allocate ??
    (compress
      ? (size: number) => {
        const buf = PLAIN_SCRATCH.take(size);
        lent.push(buf);
        return buf;
      }
      : undefined);
  const policy = { level, skipIncompressible: options.skipIncompressible ?? true };
  try {
    // A big numeric array is deflated as it is converted, without the plain blob in between.
    const streamed = compress ? deflateArray(value, policy, allocate!) : undefined;
    if (streamed instanceof Uint8Array) return streamed;
    const plain = withStackGuard(
      () => encodeBlob(value, { maxDepth: options.maxDepth, allocate }),
      (message) => new BlobEncodeError(message),
    );
    if (!compress) return plain;
    const out = streamed === "plain" ? plain : compressBlob(plain, policy);
    if (out !== plain || lent.length === 0) return out;
    // Stored uncompressed: the result keeps its buffer (which leaves the pool), unless that is
    // much longer than the blob.
    if (lent.at(-1)!.length > plain.length * 1.25 + 1024) return plain.slice();
    lent.pop();
    return plain;
  } finally {
    for (const buf of lent) PLAIN_SCRATCH.give(buf);
  }
}

/** Reused memory for plain blobs that {@link pack} compresses right away. */
const PLAIN_SCRATCH = new ScratchPool();

/**
 * Deserialize DataJoint blob bytes (plain or `ZL123\0`-compressed) written by this library,
 * DataJoint Python or MATLAB. Throws a {@link BlobDecodeError} for anything that is not a valid
 * blob, including an unknown header (where DataJoint Python silently returns `None`).
 *
 * @example
 * ```ts
 * import { pack, unpack } from "./mod.ts";
 * unpack(pack([1n, "two", 3.5])); // [1n, "two", 3.5]
 * ```
 */
export function unpack(bytes: Uint8Array, options: UnpackOptions = {}): BlobValue {
  if (!(bytes instanceof Uint8Array)) {
    throw new BlobDecodeError(`unpack needs a Uint8Array of blob bytes, got ${typeof bytes}`);
  }
  const use32bitDims = options.use32bitDims ?? false;
  const compressed = isCompressed(bytes);
  if (compressed) {
    const array = inflateArray(bytes, use32bitDims);
    if (array !== undefined) return array;
  }
  const plain = compressed ? decompressBlob(bytes, use32bitDims) : bytes;
  return withStackGuard(
    // Inflated bytes are not adopted: zlib may hand out small results from a shared pool.
    () =>
      decodeBlob(plain, {
        use32bitDims,
        maxDepth: options.maxDepth,
        adopt: plain === bytes && options.adopt === true,
      }),
    (message) => new BlobDecodeError(message),
  );
}

/**
 * Report a JavaScript stack overflow (possible only when `maxDepth` is raised far above its
 * default) as a DataJoint error instead of an engine `RangeError`.
 */
function withStackGuard<T>(run: () => T, error: (message: string) => Error): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw error(`Value nests too deeply for the JavaScript stack: lower maxDepth`);
    }
    throw e;
  }
}
