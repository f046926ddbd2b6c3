/**
 * zlib streams that read and write memory the caller gives them, piece by piece. `node:zlib` has
 * no public call for that: `inflateSync` and `deflateSync` take one whole input and return their
 * own fresh buffer. Its stream objects, in Node and in Deno alike, drive a native handle whose
 * `writeSync(flush, input, inOffset, inLength, output, outOffset, outLength)` is exactly that
 * call (it is what the sync functions run on), with the bytes left over in `_writeState` and
 * errors reported to `onerror`. That handle is not a documented interface, so {@link
 * Inflater.open} and {@link Deflater.open} check its shape and return `undefined` when it
 * differs, and callers then take the documented path. The stream's bytes may differ from those
 * `deflateSync` gives for the same input, and with where the input is cut (measured with Deno
 * 2.9.6), though every one of them inflates to that input.
 *
 * @module
 */

import { constants, createDeflate, createInflate } from "node:zlib";
import { BlobDecodeError, BlobEncodeError } from "../../lib/errors.ts";

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

interface ZlibStream {
  _handle?: NativeHandle;
  _writeState?: Uint32Array;
  close(): void;
}

/** One zlib stream's native handle: a step of it, its error, its end. */
class NativeStream {
  readonly #stream: ZlibStream;
  readonly #handle: NativeHandle;
  readonly #state: Uint32Array;
  /** The last error zlib reported, if any. */
  error: string | undefined;

  private constructor(stream: ZlibStream) {
    this.#stream = stream;
    this.#handle = stream._handle!;
    this.#state = stream._writeState!;
    this.#handle.onerror = (message) => {
      this.error = message;
    };
  }

  /** The native side of `stream`, or `undefined` (and the stream closed) when it is not there. */
  static of(stream: ZlibStream): NativeStream | undefined {
    const handle = stream._handle;
    const state = stream._writeState;
    if (
      typeof handle?.writeSync !== "function" || !(state instanceof Uint32Array) ||
      state.length < 2
    ) {
      stream.close();
      return undefined;
    }
    return new NativeStream(stream);
  }

  /** One `writeSync`; returns the output room and input bytes left over. */
  step(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    output: Uint8Array,
    outOffset: number,
  ): { availOut: number; availIn: number } {
    this.#handle.writeSync(
      flush,
      input,
      inOffset,
      input.length - inOffset,
      output,
      outOffset,
      output.length - outOffset,
    );
    return { availOut: this.#state[0], availIn: this.#state[1] };
  }

  close(): void {
    this.#stream.close();
  }
}

/**
 * Inflates one zlib stream into caller-given memory.
 *
 * @example
 * ```ts
 * import { deflateSync } from "node:zlib";
 * import { Inflater } from "./zlib_into.ts";
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
  readonly #native: NativeStream;
  readonly #input: Uint8Array;
  #inOffset = 0;

  private constructor(native: NativeStream, input: Uint8Array) {
    this.#native = native;
    this.#input = input;
  }

  /** An inflater for `input`, or `undefined` when this runtime's `node:zlib` lacks the handle. */
  static open(input: Uint8Array): Inflater | undefined {
    const native = NativeStream.of(createInflate() as unknown as ZlibStream);
    return native && new Inflater(native, input);
  }

  /**
   * Inflates into all of `out`, or as much as the stream holds; returns how many bytes were
   * written. A corrupt or truncated stream is a {@link BlobDecodeError}.
   */
  read(out: Uint8Array): number {
    let written = 0;
    while (written < out.length) {
      const room = out.length - written;
      const { availOut, availIn } = this.#native.step(
        constants.Z_FINISH,
        this.#input,
        this.#inOffset,
        out,
        written,
      );
      if (this.#native.error !== undefined) {
        throw new BlobDecodeError(`Compressed blob is corrupt: ${this.#native.error}`);
      }
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
    this.#native.close();
  }
}

/**
 * Deflates input given piece by piece into one caller-given output buffer, which must have room
 * for the whole stream (zlib's bound: a little more than the input).
 *
 * @example
 * ```ts
 * import { Deflater } from "./zlib_into.ts";
 * const out = new Uint8Array(Deflater.bound(2000));
 * const z = Deflater.open(6, out);
 * if (z) {
 *   z.write(new Uint8Array(1000));
 *   z.write(new Uint8Array(1000).fill(1));
 *   const stream = out.subarray(0, z.finish()); // a zlib stream of the 2000 bytes
 *   z.close();
 * }
 * ```
 */
export class Deflater {
  readonly #native: NativeStream;
  readonly #out: Uint8Array;
  #outOffset = 0;

  private constructor(native: NativeStream, out: Uint8Array) {
    this.#native = native;
    this.#out = out;
  }

  /**
   * Room enough for the zlib stream of `n` input bytes at any level (zlib's `compressBound`, plus
   * the stream header and checksum).
   */
  static bound(n: number): number {
    return n + Math.ceil(n / 4096) + Math.ceil(n / 16384) + Math.ceil(n / 33554432) + 64;
  }

  /** A deflater at zlib `level` into `out`, or `undefined` when `node:zlib` lacks the handle. */
  static open(level: number, out: Uint8Array): Deflater | undefined {
    const native = NativeStream.of(createDeflate({ level }) as unknown as ZlibStream);
    return native && new Deflater(native, out);
  }

  /** Deflates `input` (zlib may keep some of it until later calls). */
  write(input: Uint8Array): void {
    this.#run(constants.Z_NO_FLUSH, input);
  }

  /** Ends the stream; returns its length in the output buffer. */
  finish(): number {
    this.#run(constants.Z_FINISH, new Uint8Array(0));
    return this.#outOffset;
  }

  #run(flush: number, input: Uint8Array): void {
    let inOffset = 0;
    for (;;) {
      const room = this.#out.length - this.#outOffset;
      const { availOut, availIn } = this.#native.step(
        flush,
        input,
        inOffset,
        this.#out,
        this.#outOffset,
      );
      if (this.#native.error !== undefined) {
        throw new BlobEncodeError(`zlib deflate failed: ${this.#native.error}`);
      }
      inOffset = input.length - availIn;
      this.#outOffset += room - availOut;
      // Done when all input is taken and, when finishing, zlib stopped short of the room it had.
      if (availIn === 0 && (flush === constants.Z_NO_FLUSH || availOut > 0)) return;
      if (availOut === 0) throw new BlobEncodeError("Internal: the deflate output buffer is full");
    }
  }

  /** Frees the native stream. */
  close(): void {
    this.#native.close();
  }
}
