/**
 * The compression policy of `pack`: DataJoint Python's rule (compress blobs over 1000 bytes when
 * that makes them smaller), plus the documented sampled skip for big incompressible blobs.
 *
 * @module
 */

import { inflateSync } from "node:zlib";
import { BlobEncodeError, NDArray, pack, unpack } from "../mod.ts";
import { assert, assertThrowsA } from "./_blob_equal.ts";
import { noisyDoubles } from "./_blob_data.ts";

const ZL123 = "ZL123\0";

function isZl123(bytes: Uint8Array): boolean {
  return new TextDecoder().decode(bytes.subarray(0, 6)) === ZL123;
}

/** Uniform doubles in [0, 1): deflate saves only about 6% on their bytes. */
function noisy(n: number, seed = 7): NDArray {
  return NDArray.from(noisyDoubles(n, seed));
}

function smooth(n: number): NDArray {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(Math.sin(i / 500) * 1e3) / 1e3;
  return NDArray.from(out);
}

function inflatedEquals(packed: Uint8Array, plain: Uint8Array): boolean {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const claimed = view.getUint32(6, true) + view.getUint32(10, true) * 2 ** 32;
  const inflated = new Uint8Array(inflateSync(packed.subarray(14)));
  return claimed === plain.length && inflated.length === plain.length &&
    inflated.every((b, i) => b === plain[i]);
}

Deno.test("compression: a big noisy array is stored plain after sampling, by default", () => {
  const a = noisy(300_000); // 2.4 MB
  const plain = pack(a, { compress: false });
  const packed = pack(a);
  assert(!isZl123(packed), "sampled as incompressible: stored without ZL123");
  assert(packed.length === plain.length && packed.every((b, i) => b === plain[i]), "plain bytes");
});

Deno.test("compression: skipIncompressible false follows Python's rule at every size", () => {
  const a = noisy(300_000);
  const plain = pack(a, { compress: false });
  const packed = pack(a, { skipIncompressible: false });
  assert(isZl123(packed), "Python compresses whenever the result is smaller");
  assert(packed.length < plain.length, "and it is smaller");
  assert(inflatedEquals(packed, plain), "the stream inflates to the plain blob");
  assert((unpack(packed) as NDArray).size === 300_000, "and unpacks");
});

Deno.test("compression: noisy blobs under 1 MiB are never sampled", () => {
  const a = noisy(100_000); // 800 kB: about 6% smaller compressed, so Python compresses it
  const packed = pack(a);
  assert(isZl123(packed), "compressed as Python would");
  assert(inflatedEquals(packed, pack(a, { compress: false })), "inflates to the plain blob");
});

Deno.test("compression: big compressible blobs are compressed", () => {
  const a = smooth(300_000);
  const plain = pack(a, { compress: false });
  const packed = pack(a);
  assert(isZl123(packed), "compressed");
  assert(packed.length < plain.length / 2, "smooth data shrinks a lot");
  assert(inflatedEquals(packed, plain), "inflates to the plain blob");
});

Deno.test("compression: every level gives a stream that inflates to the plain blob", () => {
  const a = smooth(5_000);
  const plain = pack(a, { compress: false });
  for (let level = 1; level <= 9; level++) {
    const packed = pack(a, { compressionLevel: level });
    assert(isZl123(packed), `level ${level} compresses`);
    assert(inflatedEquals(packed, plain), `level ${level} inflates to the plain blob`);
  }
  const stored = pack(a, { compressionLevel: 0 });
  assert(!isZl123(stored), "level 0 (stored) is never smaller, so the blob stays plain");
});

Deno.test("compression: an invalid level is a BlobEncodeError", () => {
  for (const level of [-1, 10, 2.5, NaN]) {
    assertThrowsA(
      () => pack(smooth(2000), { compressionLevel: level }),
      BlobEncodeError,
      /compressionLevel/,
    );
  }
});
