/**
 * Reusable memory for big byte buffers that live only briefly, such as a `<blob@>` value packed
 * for the store: once its bytes are stored nothing refers to them. Fresh memory costs page faults
 * on first touch (here about as long as the copy into it: 50–60 ms per 100 MB against 7–10 ms
 * for a copy into memory already touched), so given-back buffers are kept for the next taker,
 * and all dropped once the pool has been idle for a moment (an unreferenced timer, which never
 * keeps a program alive).
 *
 * @example
 * ```ts
 * import { ScratchPool } from "./scratch.ts";
 * const pool = new ScratchPool();
 * const a = pool.take(5_000_000);
 * pool.give(a);
 * console.log(pool.take(4_000_000) === a); // true: reused
 * ```
 *
 * @module
 */

/** Limits of a {@link ScratchPool}. */
export interface ScratchPoolOptions {
  /** Buffers smaller than this are not kept (cheap to allocate). Default 1 MiB. */
  minBytes?: number;
  /** At most this many bytes are kept. Default 512 MiB. */
  maxBytes?: number;
  /** Kept buffers are dropped after this many idle milliseconds. Default 2000. */
  idleMs?: number;
}

/**
 * A pool of big byte buffers. A taken buffer belongs to the taker until it is given back; a
 * buffer must not be used after it is given back.
 *
 * @example
 * ```ts
 * import { ScratchPool } from "./scratch.ts";
 * const pool = new ScratchPool({ idleMs: 500 });
 * const buf = pool.take(8 * 1024 * 1024);
 * try {
 *   buf.fill(1); // ... use it ...
 * } finally {
 *   pool.give(buf);
 * }
 * ```
 */
export class ScratchPool {
  readonly #minBytes: number;
  readonly #maxBytes: number;
  readonly #idleMs: number;
  #free: Uint8Array<ArrayBuffer>[] = [];
  #kept = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** An empty pool. */
  constructor(options: ScratchPoolOptions = {}) {
    this.#minBytes = options.minBytes ?? 1024 * 1024;
    this.#maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
    this.#idleMs = options.idleMs ?? 2000;
  }

  /** Bytes held for reuse now. */
  get keptBytes(): number {
    return this.#kept;
  }

  /**
   * A buffer of at least `size` bytes: the smallest kept one that fits and is at most twice that
   * size (a much bigger one would waste memory), else a fresh one.
   */
  take(size: number): Uint8Array<ArrayBuffer> {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const n = this.#free[i].length;
      if (n >= size && n <= 2 * size && (best < 0 || n < this.#free[best].length)) best = i;
    }
    if (best < 0) return new Uint8Array(size);
    const [buf] = this.#free.splice(best, 1);
    this.#kept -= buf.length;
    return buf;
  }

  /** Hands a buffer back for reuse (kept only when big enough and there is room). */
  give(buf: Uint8Array<ArrayBuffer>): void {
    if (buf.length < this.#minBytes || this.#free.includes(buf)) return;
    // The largest buffers are the ones worth keeping: make room by dropping smaller ones, when
    // that is enough.
    let smaller = 0;
    for (const f of this.#free) if (f.length < buf.length) smaller += f.length;
    if (this.#kept - smaller + buf.length > this.#maxBytes) return;
    this.#free.sort((a, b) => a.length - b.length);
    while (this.#kept + buf.length > this.#maxBytes) this.#kept -= this.#free.shift()!.length;
    this.#free.push(buf);
    this.#kept += buf.length;
    this.#restartTimer();
  }

  /** Drops every kept buffer. */
  clear(): void {
    this.#free = [];
    this.#kept = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #restartTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.clear();
    }, this.#idleMs);
    Deno.unrefTimer(timer as unknown as number);
    this.#timer = timer;
  }
}
