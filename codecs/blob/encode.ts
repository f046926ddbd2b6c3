/**
 * The blob writer: TypeScript values → the plain (uncompressed) DataJoint blob, `mYm\0` or
 * `dj0\0` header plus one root item, exactly as DataJoint Python's `pack(…, compress=False)`
 * lays it out.
 *
 * @module
 */

import { BlobEncodeError } from "../../lib/errors.ts";
import type { MatCell, MatStruct, RecArray } from "./containers.ts";
import { dtypeInfo, dtypeOfTypedArray, type NumericTypedArray } from "./dtype.ts";
import { NDArray } from "./ndarray.ts";
import type { Complex, Decimal, UUID } from "./scalars.ts";
import { bitView, cToFBytes, fOrderPositions, isOrderFree } from "./transpose.ts";
import { hashKey, kindOf } from "./values.ts";

/** Limits of the writer. */
export interface EncodeOptions {
  /** Deepest nesting of containers accepted (default 512); deeper input is rejected. */
  maxDepth?: number;
  /**
   * Supplies the memory when the blob outgrows 1 MiB (a big array plane): a buffer of at least
   * `size` bytes (longer is fine), which the writer fills from the start; the result is then a
   * view of it. For callers that reuse memory for blobs that live only until they are stored.
   * Default: fresh memory.
   */
  allocate?: (size: number) => Uint8Array<ArrayBuffer>;
}

/** Growth to this size or more goes through {@link EncodeOptions.allocate}. */
const ALLOCATE_FROM = 1024 * 1024;

const HEADER_MYM = [0x6d, 0x59, 0x6d, 0x00];
const HEADER_DJ0 = [0x64, 0x6a, 0x30, 0x00];
const MAX_INT_BYTES = 65535;
const textEncoder = new TextEncoder();

/**
 * Serialize a value to a plain blob (no compression wrapper).
 *
 * @example
 * ```ts
 * import { encodeBlob } from "./encode.ts";
 * const bytes = encodeBlob({ a: 1n });
 * new TextDecoder().decode(bytes.subarray(0, 3)); // "dj0"
 * ```
 */
export function encodeBlob(value: unknown, options: EncodeOptions = {}): Uint8Array {
  const w = new Writer(options.maxDepth ?? 512, options.allocate);
  w.bytes(HEADER_MYM);
  w.item(value, 0);
  if (w.dj0) w.buf.set(HEADER_DJ0, 0);
  return w.result();
}

/**
 * The bytes of a plain blob that come before the elements when its root item is the numeric
 * array `a` (protocol header, item code, shape, type id, complex flag): what {@link encodeBlob}
 * writes there, so that a caller can stream the elements after it.
 *
 * @example
 * ```ts
 * import { arrayBlobHeader } from "./encode.ts";
 * import { NDArray } from "./ndarray.ts";
 * arrayBlobHeader(NDArray.from(new Int32Array(6), [2, 3])).length; // 45
 * ```
 */
export function arrayBlobHeader(a: NDArray): Uint8Array {
  const w = new Writer(1);
  w.bytes(HEADER_MYM);
  w.arrayHead(a);
  if (w.dj0) w.buf.set(HEADER_DJ0, 0);
  return w.buf.slice(0, w.pos);
}

class Writer {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  pos = 0;
  /** Set as soon as anything in the tree needs the DataJoint-Python protocol. */
  dj0 = false;
  readonly #active = new Set<object>();

  /** Whether `buf` came from the caller's `allocate` (then it is theirs to size). */
  #supplied = false;

  constructor(
    readonly maxDepth: number,
    readonly allocate?: (size: number) => Uint8Array<ArrayBuffer>,
  ) {}

  result(): Uint8Array {
    // A tight copy when the growth slack is large, so callers do not keep a mostly empty buffer.
    return !this.#supplied && this.buf.length > this.pos * 1.25 + 1024
      ? this.buf.slice(0, this.pos)
      : this.buf.subarray(0, this.pos);
  }

  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let next: Uint8Array<ArrayBuffer>;
    // Double for many small writes (asking for just `need` would copy the whole blob on every
    // write past the end); a big array plane gets exactly the room it needs, so the result needs
    // no trimming copy.
    const size = Math.max(need, this.buf.length * 2);
    if (this.allocate !== undefined && need >= ALLOCATE_FROM) {
      next = this.allocate(size);
      if (!(next instanceof Uint8Array) || next.length < size) {
        throw new BlobEncodeError(
          `allocate(${size}) must return a Uint8Array of at least ${size} bytes, got ${
            next instanceof Uint8Array ? `${next.length} bytes` : typeof next
          }`,
        );
      }
      this.#supplied = true;
    } else {
      next = new Uint8Array(size);
      this.#supplied = false;
    }
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  /** A u64 length field (every length the writer emits is u64, as Python's). */
  len(v: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, v % 0x100000000, true);
    this.view.setUint32(this.pos + 4, Math.floor(v / 0x100000000), true);
    this.pos += 8;
  }

  bytes(src: ArrayLike<number>): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** An item preceded by its u64 byte length, patched in after the item is written. */
  framed(value: unknown, depth: number): void {
    this.ensure(8);
    const at = this.pos;
    this.pos += 8;
    this.item(value, depth);
    const n = this.pos - at - 8;
    this.view.setUint32(at, n % 0x100000000, true);
    this.view.setUint32(at + 4, Math.floor(n / 0x100000000), true);
  }

  item(value: unknown, depth: number): void {
    switch (typeof value) {
      case "number":
        this.dj0 = true;
        this.ensure(9);
        this.buf[this.pos] = 0x0d;
        this.view.setFloat64(this.pos + 1, value, true);
        this.pos += 9;
        return;
      case "string":
        this.dj0 = true;
        this.u8(0x05);
        this.string(value);
        return;
      case "bigint":
        this.dj0 = true;
        this.int(value);
        return;
      case "boolean":
        this.dj0 = true;
        this.ensure(2);
        this.buf[this.pos] = 0x0b;
        this.buf[this.pos + 1] = value ? 1 : 0;
        this.pos += 2;
        return;
      case "undefined":
        this.dj0 = true;
        this.u8(0xff);
        return;
    }
    if (value === null) {
      this.dj0 = true;
      this.u8(0xff);
      return;
    }
    const kind = kindOf(value);
    switch (kind) {
      case "ndarray":
        return this.array(value as NDArray, depth);
      case "typedarray":
        return this.array(typedArrayToNDArray(value as ArrayBufferView), depth);
      case "struct":
        return this.struct(value as MatStruct, depth);
      case "cell":
        return this.cell(value as MatCell, depth);
      case "recarray":
        this.dj0 = true;
        return this.recarray(value as RecArray, depth);
    }
    this.dj0 = true;
    switch (kind) {
      case "list":
        return this.sequence(0x02, value as unknown[], depth);
      case "tuple":
        return this.sequence(0x01, value as unknown[], depth);
      case "set":
        return this.set(value as Set<unknown>, depth);
      case "dict":
        return this.dict(value as Map<unknown, unknown> | Record<string, unknown>, depth);
      case "bytes":
        return this.bytesItem(value as Uint8Array | ArrayBuffer | DataView);
      case "complex": {
        const c = value as Complex;
        this.ensure(17);
        this.buf[this.pos] = 0x0c;
        this.view.setFloat64(this.pos + 1, c.re, true);
        this.view.setFloat64(this.pos + 9, c.im, true);
        this.pos += 17;
        return;
      }
      case "decimal": {
        this.u8(0x64);
        this.string(String(value as Decimal));
        return;
      }
      case "uuid":
        this.u8(0x75);
        this.bytes((value as UUID).bytes);
        return;
      case "date":
      case "time":
      case "datetime":
      case "jsdate":
        return this.temporal(value as Temporal.PlainDate);
    }
    throw new BlobEncodeError(
      `Cannot pack a value of type ${describeType(value)}: a blob holds null, booleans, numbers, ` +
        `bigints, strings, bytes, arrays, Maps, Sets, plain objects, Temporal dates and times, ` +
        `and the DataJoint value types (NDArray, Tuple, Decimal, UUID, Complex, MatStruct, MatCell, RecArray)`,
    );
  }

  string(s: string): void {
    const n = s.length;
    // ASCII fast path: one byte per UTF-16 unit; otherwise fall back to the encoder.
    this.ensure(8 + n);
    const at = this.pos;
    let i = 0;
    const buf = this.buf;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + 8 + i] = c;
    }
    let byteLength = i;
    if (i < n) {
      if (!s.isWellFormed()) {
        throw new BlobEncodeError(
          `Cannot pack a string with an unpaired UTF-16 surrogate: it has no UTF-8 form ` +
            `(at index ${firstLoneSurrogate(s)})`,
        );
      }
      this.ensure(8 + n * 3);
      const { written } = textEncoder.encodeInto(s, this.buf.subarray(at + 8));
      byteLength = written;
    }
    this.pos = at;
    this.len(byteLength);
    this.pos += byteLength;
  }

  int(v: bigint): void {
    const magnitude = v < 0n ? -v : v;
    // Python: n = bit_length(v) // 8 + 1 bytes, bit_length taken on the magnitude.
    const hex = magnitude.toString(16);
    const bits = magnitude === 0n
      ? 0
      : (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0], 16)));
    const n = Math.floor(bits / 8) + 1;
    if (n > MAX_INT_BYTES) {
      throw new BlobEncodeError(
        `Integer needs ${n} bytes; blobs hold integers up to ${MAX_INT_BYTES} bytes (DataJoint Python's limit)`,
      );
    }
    this.ensure(3 + n);
    this.buf[this.pos] = 0x0a;
    this.view.setUint16(this.pos + 1, n, true);
    const at = this.pos + 3;
    if (n <= 6) {
      let small = Number(BigInt.asUintN(n * 8, v));
      for (let i = 0; i < n; i++) {
        this.buf[at + i] = small & 0xff;
        small = Math.floor(small / 256);
      }
    } else {
      // Two's complement in n bytes, written little-endian from one hex string (linear time).
      const digits = BigInt.asUintN(n * 8, v).toString(16).padStart(2 * n, "0");
      for (let i = 0; i < n; i++) {
        const j = 2 * (n - 1 - i);
        this.buf[at + i] = parseInt(digits.slice(j, j + 2), 16);
      }
    }
    this.pos = at + n;
  }

  bytesItem(value: Uint8Array | ArrayBuffer | DataView): void {
    const u8 = value instanceof Uint8Array
      ? value
      : value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    this.u8(0x06);
    this.len(u8.length);
    this.bytes(u8);
  }

  temporal(value: Temporal.PlainDate | Temporal.PlainTime | Temporal.PlainDateTime | Date): void {
    let date = -1;
    let time = -1;
    let v: Temporal.PlainDate | Temporal.PlainTime | Temporal.PlainDateTime;
    if (value instanceof Date) {
      const ms = value.getTime();
      if (Number.isNaN(ms)) throw new BlobEncodeError(`Cannot pack an invalid Date`);
      v = Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO("UTC").toPlainDateTime();
    } else if (value instanceof Temporal.PlainTime) {
      v = value;
    } else {
      // The fields of a date in another calendar (hebrew, japanese, …) are not its ISO fields.
      v = value.withCalendar("iso8601");
    }
    if (!(v instanceof Temporal.PlainTime)) {
      const d = v as Temporal.PlainDate;
      if (d.year < 1 || d.year > 9999) {
        throw new BlobEncodeError(
          `Cannot pack the date ${String(v)}: blobs hold years 1 to 9999 (Python's datetime range)`,
        );
      }
      date = d.year * 10000 + d.month * 100 + d.day;
    }
    if (!(v instanceof Temporal.PlainDate)) {
      const t = v as Temporal.PlainTime;
      if (t.nanosecond !== 0) {
        throw new BlobEncodeError(
          `Cannot pack ${
            String(v)
          } exactly: blobs hold microseconds, round to whole microseconds first`,
        );
      }
      time = ((t.hour * 100 + t.minute) * 100 + t.second) * 1_000_000 + t.millisecond * 1000 +
        t.microsecond;
    }
    this.ensure(13);
    this.buf[this.pos] = 0x74;
    this.view.setInt32(this.pos + 1, date, true);
    this.view.setInt32(this.pos + 5, time === -1 ? -1 : time % 0x100000000, true);
    this.view.setInt32(this.pos + 9, time === -1 ? -1 : Math.floor(time / 0x100000000), true);
    this.pos += 13;
  }

  enter(container: object, depth: number): void {
    if (depth >= this.maxDepth) {
      throw new BlobEncodeError(`Value nests deeper than ${this.maxDepth} levels`);
    }
    if (this.#active.has(container)) {
      throw new BlobEncodeError(`Cannot pack a value that contains itself (a reference cycle)`);
    }
    this.#active.add(container);
  }

  leave(container: object): void {
    this.#active.delete(container);
  }

  sequence(code: number, items: readonly unknown[], depth: number): void {
    this.enter(items, depth);
    this.u8(code);
    this.len(items.length);
    for (let i = 0; i < items.length; i++) this.framed(items[i], depth + 1);
    this.leave(items);
  }

  set(items: Set<unknown>, depth: number): void {
    this.enter(items, depth);
    // Elements Python holds equal (1n, 1, true, Decimal("1.0")) are one element, the first.
    const kept: unknown[] = [];
    const seen = new Set<string>();
    for (const item of items) {
      const key = requireHashable(item, "set element");
      if (seen.has(key)) continue;
      seen.add(key);
      kept.push(item);
    }
    this.u8(0x03);
    this.len(kept.length);
    for (const item of kept) this.framed(item, depth + 1);
    this.leave(items);
  }

  dict(d: Map<unknown, unknown> | Record<string, unknown>, depth: number): void {
    this.enter(d, depth);
    this.u8(0x04);
    if (d instanceof Map) {
      // Keys Python holds equal (1n, 1, true, Decimal("1.0")) are one key, as in a Python dict
      // built from these pairs: the first key in its place, with the last value.
      const entries = new Map<string, [unknown, unknown]>();
      for (const [k, v] of d) {
        const key = requireHashable(k, "dict key");
        const entry = entries.get(key);
        if (entry === undefined) entries.set(key, [k, v]);
        else entry[1] = v;
      }
      this.len(entries.size);
      for (const [k, v] of entries.values()) {
        this.framed(k, depth + 1);
        this.framed(v, depth + 1);
      }
    } else {
      if (Object.getOwnPropertySymbols(d).length > 0) {
        throw new BlobEncodeError(`Cannot pack an object with symbol keys: dict keys are strings`);
      }
      const keys = Object.keys(d);
      this.len(keys.length);
      for (const k of keys) {
        this.framed(k, depth + 1);
        this.framed(d[k], depth + 1);
      }
    }
    this.leave(d);
  }

  array(a: NDArray, depth: number): void {
    this.arrayHead(a);
    const dtype = a.dtype;
    const shape = a.shape;
    if (dtype === "object") {
      this.enter(a, depth);
      this.framedElements(a.data as unknown[], shape, depth);
      this.leave(a);
      return;
    }
    let plane = a.data as NumericTypedArray;
    if (dtype === "bool") plane = normalizedBool(plane as Uint8Array);
    this.plane(plane, shape);
    if (a.imag !== undefined) this.plane(a.imag as NumericTypedArray, shape);
  }

  /** Item code, shape, type id and complex flag of an array. */
  arrayHead(a: NDArray): void {
    const dtype = a.dtype;
    const info = dtypeInfo(dtype);
    const shape = a.shape;
    if (
      dtype === "object" || dtype.startsWith("datetime64") ||
      (shape.length === 0 && dtype !== "char")
    ) {
      this.dj0 = true;
    }
    this.ensure(1 + 8 * (shape.length + 1) + 8);
    this.buf[this.pos++] = 0x41;
    this.len(shape.length);
    for (const d of shape) this.len(d);
    this.u32(info.typeId);
    this.u32(info.complex ? 1 : 0);
  }

  /** Elements held in C order, written as framed items in F order. */
  framedElements(items: readonly unknown[], shape: readonly number[], depth: number): void {
    if (isOrderFree(shape)) {
      for (let i = 0; i < items.length; i++) this.framed(items[i], depth + 1);
    } else {
      const order = fOrderPositions(shape);
      for (let i = 0; i < items.length; i++) this.framed(items[order[i]], depth + 1);
    }
  }

  /** One plane of elements, converted to F order. */
  plane(data: NumericTypedArray, shape: readonly number[]): void {
    const byteLength = data.byteLength;
    this.ensure(byteLength);
    cToFBytes(bitView(data), this.buf.subarray(this.pos, this.pos + byteLength), shape);
    this.pos += byteLength;
  }

  struct(s: MatStruct, depth: number): void {
    this.enter(s, depth);
    this.u8(0x53);
    this.len(s.shape.length);
    for (const d of s.shape) this.len(d);
    this.u32(s.fields.length);
    // Field names, each NUL-terminated. A zero-field struct gets no name section at all: Python
    // writes a lone NUL there that its own reader then rejects.
    for (const name of s.fields) this.fieldName(name);
    const order = isOrderFree(s.shape) ? undefined : fOrderPositions(s.shape);
    for (let i = 0; i < s.records.length; i++) {
      const record = s.records[order ? order[i] : i];
      for (let f = 0; f < s.fields.length; f++) this.framed(record[f], depth + 1);
    }
    this.leave(s);
  }

  /** A NUL-terminated UTF-8 field name (struct or recarray). */
  fieldName(name: string): void {
    if (!name.isWellFormed()) {
      throw new BlobEncodeError(
        `Cannot pack the field name ${JSON.stringify(name)}: it has an unpaired UTF-16 surrogate`,
      );
    }
    this.ensure(name.length * 3 + 1);
    const { written } = textEncoder.encodeInto(name, this.buf.subarray(this.pos));
    this.pos += written;
    this.buf[this.pos++] = 0;
  }

  cell(c: MatCell, depth: number): void {
    this.enter(c, depth);
    this.u8(0x43);
    this.len(c.shape.length);
    for (const d of c.shape) this.len(d);
    this.framedElements(c.data, c.shape, depth);
    this.leave(c);
  }

  recarray(r: RecArray, depth: number): void {
    this.enter(r, depth);
    this.u8(0x46);
    this.u32(r.fields.length);
    for (const [name] of r.fields) this.fieldName(name);
    for (const [, column] of r.fields) {
      if (kindOf(column) === "recarray") this.recarray(column as RecArray, depth + 1);
      else this.array(column as NDArray, depth + 1);
    }
    this.leave(r);
  }
}

function normalizedBool(data: Uint8Array): Uint8Array {
  for (let i = 0; i < data.length; i++) {
    if (data[i] > 1) return data.map((b) => (b ? 1 : 0));
  }
  return data;
}

/** A bare typed array packs as a 1-D array of its natural dtype. */
function typedArrayToNDArray(view: ArrayBufferView): NDArray {
  if (view instanceof Uint8ClampedArray) {
    return NDArray.from(new Uint8Array(view.buffer, view.byteOffset, view.length));
  }
  try {
    dtypeOfTypedArray(view);
  } catch (e) {
    throw new BlobEncodeError(
      `Cannot pack a ${view.constructor.name}: blobs hold int8…uint64, float32 and float64 arrays`,
      { cause: e },
    );
  }
  return NDArray.from(view as NumericTypedArray);
}

/** The value's Python hash identity ({@link hashKey}); an unhashable value is an error. */
function requireHashable(value: unknown, what: string): string {
  const key = hashKey(value);
  if (key === undefined) {
    throw new BlobEncodeError(
      `Cannot pack a ${describeType(value)} as a ${what}: Python needs a hashable value there ` +
        `(use a Tuple instead of an Array; sets, dicts and non-scalar arrays cannot be keys)`,
    );
  }
  return key;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const kind = kindOf(value);
  if (kind !== undefined) return kind;
  return (value as object).constructor?.name ?? "object";
}

function firstLoneSurrogate(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}
