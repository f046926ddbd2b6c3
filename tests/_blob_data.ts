/**
 * Test data for blob tests: seeded doubles that do not compress.
 *
 * @module
 */

/**
 * `n` seeded doubles in [0, 1) with every mantissa bit noisy: deflate saves only about 6% on
 * their bytes.
 *
 * @example
 * ```ts
 * import { noisyDoubles } from "./_blob_data.ts";
 * noisyDoubles(3, 1).length; // 3
 * ```
 */
export function noisyDoubles(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  // Two draws per double so that all 52 mantissa bits are noise.
  for (let i = 0; i < n; i++) out[i] = (next() + next() / 4294967296) / 4294967296;
  return out;
}
