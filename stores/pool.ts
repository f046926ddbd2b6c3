/**
 * Bounded concurrency for store requests: many small objects go faster with several requests in
 * flight, but an unbounded `Promise.all` over thousands of rows exhausts sockets and memory.
 *
 * @example
 * ```ts
 * import { mapPool } from "./pool.ts";
 * const sizes = await mapPool(["a", "b", "c"], 2, async (name) => name.length);
 * console.log(sizes); // [1, 1, 1]
 * ```
 *
 * @module
 */

/**
 * Applies `fn` to every item with at most `limit` calls running at once; the results keep the
 * order of `items`. On the first failure no new call starts; the calls already running are
 * awaited (so nothing is left running behind the caller's back) and the first error is rethrown.
 *
 * @throws {RangeError} when `limit` is not a positive integer.
 *
 * @example
 * ```ts
 * import { mapPool } from "./pool.ts";
 * declare const store: { get(path: string): Promise<Uint8Array> };
 * const blobs = await mapPool(["_hash/lab/a", "_hash/lab/b"], 8, (p) => store.get(p));
 * ```
 */
export async function mapPool<T, R>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`mapPool: limit must be a positive integer, got ${limit}`);
  }
  const iterator = items[Symbol.iterator]();
  const results: R[] = [];
  let next = 0;
  let failed: { error: unknown } | undefined;

  async function worker(): Promise<void> {
    while (!failed) {
      const step = iterator.next();
      if (step.done) return;
      const index = next++;
      try {
        results[index] = await fn(step.value, index);
      } catch (error) {
        failed ??= { error };
        return;
      }
    }
  }

  const workers: Promise<void>[] = [];
  for (let i = 0; i < limit; i++) workers.push(worker());
  await Promise.all(workers);
  if (failed) throw failed.error;
  results.length = next;
  return results;
}
