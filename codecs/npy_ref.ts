/**
 * `NpyRef`: what a `<npy@store>` attribute fetches as (reference §2.12). A lazy handle on a `.npy`
 * file: `shape`, `dtype`, `size` and `nbytes` come from the row's metadata without touching the
 * store; `load()` downloads and caches the array; `rows()` reads a slice along the first axis with
 * two small ranged requests instead of the whole file.
 *
 * @example
 * ```ts
 * import { NpyRef } from "./npy_ref.ts";
 * import type { NDArray } from "./blob/ndarray.ts";
 * import type { StoreBackend } from "../stores/backend.ts";
 *
 * async function firstRows(store: StoreBackend): Promise<NDArray> {
 *   const ref = new NpyRef(
 *     { path: "_schema/lab/rec/id=1/trace_Ab3dE5fG.npy", store: "main", dtype: "float32", shape: [1000, 64] },
 *     async () => store,
 *   );
 *   console.log(ref.shape, ref.nbytes); // [1000, 64] 256000, no download
 *   return await ref.rows(0, 10); // the header, then bytes 128..2688 only
 * }
 * ```
 *
 * @module
 */

import { CorruptObjectError, DataJointError } from "../lib/errors.ts";
import type { StoreBackend } from "../stores/backend.ts";
import type { DataFor, DType, NumericTypedArray } from "./blob/dtype.ts";
import { NDArray } from "./blob/ndarray.ts";
import {
  decodeNpy,
  decodeNpyData,
  type NpyHeader,
  npyHeaderSize,
  npyRowRange,
  parseNpyDType,
  parseNpyHeader,
} from "./npy_format.ts";

/**
 * The metadata of a `<npy@>` value, as the column stores it (reference key order).
 *
 * @example
 * ```ts
 * import type { NpyRefMetadata } from "./npy_ref.ts";
 * const m: NpyRefMetadata = {
 *   path: "_schema/lab/rec/id=1/array_ZO1xqlq0.npy", store: "main", dtype: "float32", shape: [4, 3],
 * };
 * ```
 */
export interface NpyRefMetadata {
  /** Store-relative path of the `.npy` file. */
  path: string;
  /** Store name (`null` = the default store). */
  store: string | null;
  /** NumPy's `str(dtype)`: `float64`, `<U5`, `>u2`, `datetime64[D]`. */
  dtype: string;
  /** Shape (`[]` for a 0-d array). */
  shape: number[];
}

/**
 * First ranged read of `rows()`: NumPy's headers are 128 bytes for up to a few axes, so one read
 * of this size nearly always holds the whole header; a longer one costs a second read.
 */
const HEADER_PROBE_BYTES = 512;

/**
 * A lazy reference to a `.npy` file in an object store.
 *
 * @example
 * ```ts
 * import { NpyRef } from "./npy_ref.ts";
 * const ref = new NpyRef(
 *   { path: "a.npy", store: null, dtype: "int64", shape: [6] },
 *   () => Promise.reject(new Error("not opened: reading metadata does no I/O")),
 * );
 * String(ref); // "NpyRef(shape=[6], dtype=int64, not loaded)"
 * ref.nbytes; // 48
 * ```
 */
export class NpyRef {
  readonly #meta: NpyRefMetadata;
  readonly #openBackend: () => Promise<StoreBackend>;
  #backend: Promise<StoreBackend> | undefined;
  #cached: NDArray | undefined;
  #loading: Promise<NDArray> | undefined;

  /**
   * Wrap metadata and a way to open the store. Does no I/O: `backend` is called on the first read.
   * Throws a {@link DataJointError} when the metadata is not `{path, store, dtype, shape}`.
   */
  constructor(metadata: NpyRefMetadata, backend: () => Promise<StoreBackend>) {
    const m = metadata as Partial<NpyRefMetadata> | null;
    if (m === null || typeof m !== "object") {
      throw new DataJointError(`<npy@> metadata must be an object {path, store, dtype, shape}`);
    }
    if (typeof m.path !== "string" || m.path === "") {
      throw new DataJointError(`<npy@> metadata has no path: ${JSON.stringify(m)}`);
    }
    if (m.store !== null && m.store !== undefined && typeof m.store !== "string") {
      throw new DataJointError(
        `<npy@> metadata store must be a name or null, got ${JSON.stringify(m.store)}`,
      );
    }
    if (typeof m.dtype !== "string") {
      throw new DataJointError(`<npy@> metadata for ${m.path} has no dtype string`);
    }
    if (!Array.isArray(m.shape) || !m.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new DataJointError(
        `<npy@> metadata for ${m.path} has an invalid shape ${
          JSON.stringify(m.shape)
        }: expected non-negative integers`,
      );
    }
    if (typeof backend !== "function") {
      throw new DataJointError(`NpyRef needs a function that opens the store backend`);
    }
    this.#meta = Object.freeze({
      path: m.path,
      store: m.store ?? null,
      dtype: m.dtype,
      shape: Object.freeze([...m.shape]) as number[],
    });
    this.#openBackend = backend;
  }

  /** The array's shape, from the metadata (no I/O). */
  get shape(): readonly number[] {
    return this.#meta.shape;
  }

  /** NumPy's `str(dtype)` as the metadata records it: `float32`, `<U5`, `datetime64[ms]` (no I/O). */
  get dtype(): string {
    return this.#meta.dtype;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.#meta.shape.length;
  }

  /** Number of elements (1 for a 0-d array). */
  get size(): number {
    let n = 1;
    for (const d of this.#meta.shape) n *= d;
    return n;
  }

  /**
   * Bytes of the array's data: `size × itemsize`. Throws a {@link DataJointError} when the dtype's
   * item size is unknown (a structured dtype recorded as a Python list, or `object`).
   */
  get nbytes(): number {
    let itemSize: number;
    try {
      const dt = parseNpyDType(this.#meta.dtype);
      if (dt.kind === "O") throw new DataJointError(`object elements have no fixed size`);
      itemSize = dt.itemSize;
    } catch (e) {
      throw new DataJointError(
        `NpyRef(${this.#meta.path}).nbytes: the item size of dtype ${
          JSON.stringify(this.#meta.dtype)
        } is unknown; load() the array instead`,
        { cause: e },
      );
    }
    return this.size * itemSize;
  }

  /** Store-relative path of the file. */
  get path(): string {
    return this.#meta.path;
  }

  /** Store name from the metadata (`null` = the default store). */
  get store(): string | null {
    return this.#meta.store;
  }

  /** Whether `load()` has completed and the array is cached. */
  get isLoaded(): boolean {
    return this.#cached !== undefined;
  }

  /**
   * Download the file once, parse it and cache the array. The header's shape and dtype must match
   * the metadata, else a {@link CorruptObjectError} names the file: a reference never returns
   * data other than what the row describes.
   *
   * @example
   * ```ts
   * import { NpyRef } from "./npy_ref.ts";
   * import type { StoreBackend } from "../stores/backend.ts";
   *
   * async function last(store: StoreBackend): Promise<unknown> {
   *   const ref = new NpyRef({ path: "a.npy", store: null, dtype: "int64", shape: [6] }, async () => store);
   *   const a = await ref.load(); // one download; later calls return the cached array
   *   return a.at(5); // 5n
   * }
   * ```
   */
  load(): Promise<NDArray> {
    if (this.#cached) return Promise.resolve(this.#cached);
    // Concurrent callers share one download; a failed one is not cached, so a retry can succeed.
    this.#loading ??= this.#download().then(
      (array) => {
        this.#cached = array;
        this.#loading = undefined;
        return array;
      },
      (e) => {
        this.#loading = undefined;
        throw e;
      },
    );
    return this.#loading;
  }

  /**
   * Rows `[start, end)` along the first axis (Python slice rules: negative indices count from the
   * end, out-of-range bounds are clipped; `end` defaults to the last row). Reads only the header
   * and those rows with ranged requests, unless the array is already loaded (then no I/O) or the
   * file is in Fortran order (then the whole file is loaded).
   *
   * @example
   * ```ts
   * import { NpyRef } from "./npy_ref.ts";
   * import type { StoreBackend } from "../stores/backend.ts";
   *
   * async function slices(store: StoreBackend): Promise<void> {
   *   const ref = new NpyRef({ path: "a.npy", store: null, dtype: "float32", shape: [4, 3] }, async () => store);
   *   (await ref.rows(1, 3)).shape; // [2, 3]
   *   (await ref.rows(-1)).shape; // [1, 3]: the last row
   * }
   * ```
   */
  async rows(start: number, end?: number): Promise<NDArray> {
    const shape = this.#meta.shape;
    if (shape.length === 0) {
      throw new DataJointError(`NpyRef(${this.#meta.path}) is 0-d: it has no rows; use load()`);
    }
    const [from, to] = sliceBounds(shape[0], start, end);
    if (this.#cached) return sliceRows(this.#cached, from, to);
    const backend = await this.#store();
    const path = this.#meta.path;
    const header = await this.#fetchHeader(backend);
    if (header.fortranOrder) return sliceRows(await this.load(), from, to);
    const rowShape = [to - from, ...shape.slice(1)];
    const { offset, length } = npyRowRange(header, from, to);
    if (length === 0) return decodeNpyData(header, new Uint8Array(0), rowShape);
    const bytes = await backend.getRange(path, offset, length);
    if (bytes.length !== length) {
      throw new CorruptObjectError(
        `${backend.url(path)}: Truncated .npy file: rows ${from}..${to} need bytes ${offset}..${
          offset + length
        } but the read returned ${bytes.length}`,
      );
    }
    return this.#annotate(backend, () => decodeNpyData(header, bytes, rowShape, { adopt: true }));
  }

  /** `NpyRef(shape=[4, 3], dtype=float32, not loaded)`. */
  toString(): string {
    return `NpyRef(shape=[${this.#meta.shape.join(", ")}], dtype=${this.#meta.dtype}, ${
      this.isLoaded ? "loaded" : "not loaded"
    })`;
  }

  /** The metadata, as the column stores it: `{path, store, dtype, shape}`. */
  toJSON(): NpyRefMetadata {
    const m = this.#meta;
    return { path: m.path, store: m.store, dtype: m.dtype, shape: [...m.shape] };
  }

  /** `console.log` in Deno prints the same as {@link NpyRef.toString}. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  #store(): Promise<StoreBackend> {
    this.#backend ??= this.#openBackend().catch((e) => {
      this.#backend = undefined;
      throw e;
    });
    return this.#backend;
  }

  async #download(): Promise<NDArray> {
    const backend = await this.#store();
    const bytes = await backend.get(this.#meta.path);
    return this.#annotate(backend, () => {
      this.#verify(parseNpyHeader(bytes));
      return decodeNpy(bytes, { adopt: true }); // a fresh download: nobody else holds it
    });
  }

  async #fetchHeader(backend: StoreBackend): Promise<NpyHeader> {
    const path = this.#meta.path;
    let prefix = await backend.getRange(path, 0, HEADER_PROBE_BYTES);
    const size = this.#annotate(backend, () => npyHeaderSize(prefix));
    if (size > prefix.length && prefix.length === HEADER_PROBE_BYTES) {
      prefix = await backend.getRange(path, 0, size);
    }
    const header = this.#annotate(backend, () => parseNpyHeader(prefix, { headerOnly: true }));
    this.#annotate(backend, () => this.#verify(header));
    return header;
  }

  /** The header must describe exactly the array the row's metadata promises. */
  #verify(header: NpyHeader): void {
    const meta = this.#meta;
    const same = header.shape.length === meta.shape.length &&
      header.shape.every((d, i) => d === meta.shape[i]);
    if (!same) {
      throw new CorruptObjectError(
        `the file holds shape [${header.shape.join(", ")}] but the metadata says [${
          meta.shape.join(", ")
        }]`,
      );
    }
    let expected: string;
    try {
      expected = parseNpyDType(meta.dtype).descr;
    } catch {
      expected = meta.dtype;
    }
    if (parseNpyDType(header.descr).descr !== expected) {
      throw new CorruptObjectError(
        `the file holds dtype ${header.dtype} but the metadata says ${meta.dtype}`,
      );
    }
  }

  /** Run a parse step; a format error gets the file's location in front of its message. */
  #annotate<T>(backend: StoreBackend, step: () => T): T {
    try {
      return step();
    } catch (e) {
      if (e instanceof DataJointError) {
        const Ctor = e.constructor as new (
          message: string,
          options?: ErrorOptions,
        ) => DataJointError;
        throw new Ctor(`${backend.url(this.#meta.path)}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }
}

/** Python slice bounds for `[start:end]` on an axis of length `n`. */
function sliceBounds(n: number, start: number, end: number | undefined): [number, number] {
  const norm = (v: number, what: string): number => {
    if (!Number.isInteger(v)) {
      throw new DataJointError(`NpyRef.rows: ${what} must be an integer, got ${v}`);
    }
    if (v < 0) v += n;
    return Math.min(Math.max(v, 0), n);
  };
  const from = norm(start, "start");
  const to = end === undefined ? n : norm(end, "end");
  return [from, Math.max(from, to)];
}

function sliceRows(array: NDArray, from: number, to: number): NDArray {
  let rowElems = 1;
  for (const d of array.shape.slice(1)) rowElems *= d;
  const cut = <T extends NumericTypedArray | unknown[]>(x: T): T =>
    x.slice(from * rowElems, to * rowElems) as T;
  const dtype: DType = array.dtype;
  return new NDArray(
    dtype,
    [to - from, ...array.shape.slice(1)],
    cut(array.data as NumericTypedArray | unknown[]) as DataFor<DType>,
    array.imag === undefined ? undefined : cut(array.imag as NumericTypedArray) as DataFor<DType>,
  );
}
