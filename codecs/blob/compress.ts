/**
 * The `ZL123\0` compression wrapper of DataJoint blobs: `"ZL123\0"`, the u64 length of the plain
 * blob, then one zlib (RFC 1950) stream. Any valid zlib stream is readable by DataJoint Python
 * and MATLAB, so the deflate implementation and level are ours to choose.
 *
 * @module
 */

import { deflateRawSync, deflateSync, inflateSync } from "node:zlib";
import { BlobDecodeError } from "../../lib/errors.ts";

/** The 6-byte prefix that marks a compressed blob. */
export const ZL123 = new Uint8Array([0x5a, 0x4c, 0x31, 0x32, 0x33, 0x00]);

/** DataJoint Python compresses only blobs longer than this many bytes. */
export const COMPRESSION_THRESHOLD = 1000;

/** How {@link compressBlob} decides. */
export interface CompressionPolicy {
  /** zlib level 0–9 (6 is zlib's and DataJoint Python's default). */
  level: number;
  /**
   * For blobs of at least 1 MiB, first deflate four 16 KiB samples spread over the blob and store
   * it uncompressed when they shrink by less than 10% (noisy measurements, random bytes), which
   * saves the whole deflate pass for a gain of a few percent. Blobs under 1 MiB always follow
   * DataJoint Python's rule exactly.
   */
  skipIncompressible: boolean;
}

/** Blobs shorter than this are never sampled: their full deflate is cheap. */
const SAMPLE_FROM = 1024 * 1024;
const SAMPLE_COUNT = 4;
const SAMPLE_BYTES = 16 * 1024;
/** Samples that shrink by less than this fraction mark a blob as not worth compressing. */
const MIN_SAVING = 0.1;

/**
 * Deflate can shrink data at most about 1032:1, so a stream of `n` bytes never inflates to more
 * than this many; a larger claimed length is a lie and is rejected before inflating.
 */
const MAX_DEFLATE_RATIO = 1032;

/** Bytes beyond the claimed length in the inflate output buffer (zlib needs at least 64). */
const INFLATE_SLACK = 64;

/** The inflate output buffer is at most this many times the compressed stream. */
const INFLATE_PIECE_RATIO = 64;

/**
 * Whether bytes start with the `ZL123\0` prefix.
 *
 * @example
 * ```ts
 * import { isCompressed } from "./compress.ts";
 * isCompressed(new TextEncoder().encode("ZL123\0...")); // true
 * ```
 */
export function isCompressed(bytes: Uint8Array): boolean {
  if (bytes.length < ZL123.length) return false;
  for (let i = 0; i < ZL123.length; i++) if (bytes[i] !== ZL123[i]) return false;
  return true;
}

/**
 * Wrap a plain blob in `ZL123\0` when it is longer than 1000 bytes and the wrapped form is
 * shorter (DataJoint Python's rule); otherwise return it unchanged. See
 * {@link CompressionPolicy} for the one departure: sampled skipping of incompressible big blobs.
 *
 * @example
 * ```ts
 * import { compressBlob, isCompressed } from "./compress.ts";
 * const plain = new Uint8Array(4000); // zeros compress well
 * isCompressed(compressBlob(plain, { level: 6, skipIncompressible: true })); // true
 * ```
 */
export function compressBlob(plain: Uint8Array, policy: CompressionPolicy): Uint8Array {
  const read = (start: number, end: number) => plain.subarray(start, end);
  if (!worthCompressing(plain.length, read, policy)) return plain;
  const stream = deflateSync(plain, { level: policy.level });
  const total = ZL123.length + 8 + stream.length;
  if (total >= plain.length) return plain;
  const out = new Uint8Array(total);
  writeZl123Header(out, plain.length);
  out.set(stream, 14);
  return out;
}

/**
 * Whether {@link compressBlob}'s policy deflates a plain blob of `length` bytes, `read(start,
 * end)` giving its bytes in that range (only a few samples are read, and only from big blobs).
 *
 * @example
 * ```ts
 * import { worthCompressing } from "./compress.ts";
 * const zeros = new Uint8Array(2_000_000);
 * worthCompressing(zeros.length, (a, b) => zeros.subarray(a, b), { level: 6, skipIncompressible: true }); // true
 * ```
 */
export function worthCompressing(
  length: number,
  read: (start: number, end: number) => Uint8Array,
  policy: CompressionPolicy,
): boolean {
  if (length <= COMPRESSION_THRESHOLD) return false;
  if (!policy.skipIncompressible || length < SAMPLE_FROM) return true;
  // The fraction by which evenly spaced samples shrink under raw deflate.
  let raw = 0;
  let packed = 0;
  for (let k = 0; k < SAMPLE_COUNT; k++) {
    const at = Math.floor(((length - SAMPLE_BYTES) * k) / (SAMPLE_COUNT - 1));
    const sample = read(at, at + SAMPLE_BYTES);
    raw += sample.length;
    packed += deflateRawSync(sample, { level: policy.level }).length;
  }
  return 1 - packed / raw >= MIN_SAVING;
}

/**
 * Write the 14-byte `ZL123\0` prefix with the plain length into `out`.
 *
 * @example
 * ```ts
 * import { writeZl123Header } from "./compress.ts";
 * const out = new Uint8Array(14);
 * writeZl123Header(out, 4000); // "ZL123\0" then 4000 as a little-endian u64
 * ```
 */
export function writeZl123Header(out: Uint8Array, plainLength: number): void {
  out.set(ZL123, 0);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(6, plainLength % 0x100000000, true);
  view.setUint32(10, Math.floor(plainLength / 0x100000000), true);
}

/**
 * The parts of a `ZL123\0` blob: the plain length it claims (u64, or u32 for 32-bit-dims blobs),
 * checked to be one that the zlib stream could yield, and the stream.
 *
 * @example
 * ```ts
 * import { compressBlob, compressedParts } from "./compress.ts";
 * compressedParts(compressBlob(new Uint8Array(4000), { level: 6, skipIncompressible: true }), false)
 *   .expected; // 4000
 * ```
 */
export function compressedParts(
  bytes: Uint8Array,
  use32bitDims: boolean,
): { expected: number; stream: Uint8Array } {
  const lenWidth = use32bitDims ? 4 : 8;
  const start = ZL123.length + lenWidth;
  if (bytes.length < start) {
    throw new BlobDecodeError(`Compressed blob is truncated: no room for its length field`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(6, true);
  const hi = use32bitDims ? 0 : view.getUint32(10, true);
  const expected = hi * 0x100000000 + lo;
  const stream = bytes.subarray(start);
  if (expected > stream.length * MAX_DEFLATE_RATIO + 64) {
    throw new BlobDecodeError(
      `Blob size mismatch: the header claims ${expected} bytes, more than ${stream.length} ` +
        `compressed bytes can hold`,
    );
  }
  return { expected, stream };
}

/**
 * Unwrap a `ZL123\0` blob: read the claimed plain length (u64, or u32 for 32-bit-dims blobs),
 * inflate at most that many bytes, and require exactly that many.
 *
 * @example
 * ```ts
 * import { compressBlob, decompressBlob } from "./compress.ts";
 * const plain = new Uint8Array(4000);
 * decompressBlob(compressBlob(plain, 6), false).length; // 4000
 * ```
 */
export function decompressBlob(bytes: Uint8Array, use32bitDims: boolean): Uint8Array {
  const { expected, stream } = compressedParts(bytes, use32bitDims);
  let plain: Uint8Array;
  try {
    // One output buffer a little longer than the claimed length (zlib's default is 16 KiB
    // pieces joined by a copy at the end), and one byte of tolerance so that an overlong stream
    // is detected, without a second buffer, rather than cut short. For a claim beyond
    // INFLATE_PIECE_RATIO times the stream (all but the most repetitive data), pieces of that
    // size: nothing is allocated far ahead of what the stream really yields.
    const inflated = inflateSync(stream, {
      chunkSize: Math.min(expected, stream.length * INFLATE_PIECE_RATIO) + INFLATE_SLACK,
      maxOutputLength: expected + 1,
    });
    plain = new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      throw new BlobDecodeError(`Blob size mismatch: expected ${expected}, got more`);
    }
    throw new BlobDecodeError(
      `Compressed blob is corrupt: ${(e as Error).message || code || "zlib error"}`,
      { cause: e },
    );
  }
  if (plain.length !== expected) {
    throw new BlobDecodeError(`Blob size mismatch: expected ${expected}, got ${plain.length}`);
  }
  return plain;
}
