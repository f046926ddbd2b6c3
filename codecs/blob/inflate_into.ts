/**
 * A zlib inflater that writes into memory the caller gives it, piece by piece. `node:zlib` has no
 * public call for that: `inflateSync` returns its own fresh buffer. Its stream objects, in Node
 * and in Deno alike, drive a native handle whose `writeSync(flush, input, inOffset, inLength,
 * output, outOffset, outLength)` is exactly that call (it is what `inflateSync` runs on), with
 * the bytes left over in `_writeState` and errors reported to `onerror`. That handle is not a
 * documented interface, so {@link Inflater.open} checks its shape and returns `undefined` when it
 * differs, and callers then take the documented path.
 *
 * @module
 */

import { constants, createInflate } from "node:zlib";
import { BlobDecodeError } from "../../lib/errors.ts";

interface NativeHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
  onerror?: (message: string, errno: number) => void;
}

interface InflateStream {
  _handle?: NativeHandle;
  _writeState?: Uint32Array;
  close(): void;
}

/**
 * Inflates one zlib stream into caller-given memory.
 *
 * @example
 * ```ts
 * import { deflateSync } from "node:zlib";
 * import { Inflater } from "./inflate_into.ts";
 * const stream = deflateSync(new Uint8Array(1000).fill(7));
 * const z = Inflater.open(stream);
 * if (z) {
 *   const out = new Uint8Array(1000);
 *   z.read(out.subarray(0, 400)); // 400
 *   z.read(out.subarray(400)); // 600
 *   z.ended(); // true
 *   z.close();
 * }
 * ```
 */
export class Inflater {
  readonly #stream: InflateStream;
  readonly #handle: NativeHandle;
  readonly #state: Uint32Array;
  readonly #input: Uint8Array;
  #inOffset = 0;
  #error: string | undefined;

  private constructor(stream: InflateStream, input: Uint8Array) {
    this.#stream = stream;
    this.#handle = stream._handle!;
    this.#state = stream._writeState!;
    this.#input = input;
    this.#handle.onerror = (message) => {
      this.#error = message;
    };
  }

  /** An inflater for `input`, or `undefined` when this runtime's `node:zlib` lacks the handle. */
  static open(input: Uint8Array): Inflater | undefined {
    const stream = createInflate() as unknown as InflateStream;
    const handle = stream._handle;
    const state = stream._writeState;
    if (
      typeof handle?.writeSync !== "function" || !(state instanceof Uint32Array) ||
      state.length < 2
    ) {
      stream.close();
      return undefined;
    }
    return new Inflater(stream, input);
  }

  /**
   * Inflates into all of `out`, or as much as the stream holds; returns how many bytes were
   * written. A corrupt or truncated stream is a {@link BlobDecodeError}.
   */
  read(out: Uint8Array): number {
    let written = 0;
    while (written < out.length) {
      const room = out.length - written;
      this.#handle.writeSync(
        constants.Z_FINISH,
        this.#input,
        this.#inOffset,
        this.#input.length - this.#inOffset,
        out,
        written,
        room,
      );
      if (this.#error !== undefined) {
        throw new BlobDecodeError(`Compressed blob is corrupt: ${this.#error}`);
      }
      const availOut = this.#state[0];
      const availIn = this.#state[1];
      const consumed = this.#input.length - this.#inOffset - availIn;
      this.#inOffset += consumed;
      written += room - availOut;
      // No progress with room left: the stream has ended.
      if (availOut === room && consumed === 0) break;
      if (availOut > 0 && availIn === 0) break;
    }
    return written;
  }

  /** Whether the stream has ended here: no more output and no input left over after it. */
  ended(): boolean {
    const probe = new Uint8Array(1);
    return this.read(probe) === 0 && this.#inOffset === this.#input.length;
  }

  /** Frees the native stream. */
  close(): void {
    this.#stream.close();
  }
}
