/**
 * The NumPy `.npy` file format (what `np.save` writes and `np.load` reads), for the `<npy@store>`
 * codec: encode an {@link NDArray}, parse a header, decode a whole file or a range of rows.
 *
 * Pure: no I/O. Every length, shape and dtype in a file is checked against the bytes actually
 * present before anything is allocated, so a hostile or truncated file fails fast with a
 * {@link CorruptObjectError}; a valid file whose dtype {@link NDArray} cannot hold (float16,
 * timedelta64, structured, object) fails with a {@link CodecError}.
 *
 * How NumPy-only element types map onto `NDArray` (which has no fixed-width string dtypes):
 *
 * | `.npy` descr | `NDArray` |
 * |---|---|
 * | `<U n` (unicode) | `object` array of JS strings (trailing NULs stripped, as NumPy does) |
 * | `\|S n` (bytes) | `object` array of `Uint8Array`s (trailing NULs stripped, as NumPy does) |
 *
 * and back: an `object` array whose elements are all strings is written as `<U n`, all
 * `Uint8Array`s as `|S n` (n = the longest element, at least 1); a MATLAB `char` array is written
 * as `<U1` (one UTF-16 code unit per element). Any other object array, and an empty one (whose
 * element type is unknowable), is refused.
 *
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "./npy_format.ts";
 * import { NDArray } from "./blob/ndarray.ts";
 * const bytes = encodeNpy(NDArray.from(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]));
 * decodeNpy(bytes).at(1, 2); // 6
 * ```
 *
 * @module
 */

import { CodecError, CorruptObjectError, DataJointError } from "../lib/errors.ts";
import {
  type DataFor,
  DATETIME_UNITS,
  type DatetimeUnit,
  type DType,
  dtypeInfo,
  isComplexDType,
  isDatetimeDType,
  type NumericTypedArray,
} from "./blob/dtype.ts";
import { NDArray } from "./blob/ndarray.ts";
import { bitView, fBytesToC, fOrderPositions, isOrderFree } from "./blob/transpose.ts";

/** `\x93NUMPY`. */
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
/** NumPy aligns the data to 64 bytes (`ARRAY_ALIGN`), which lets readers map it in place. */
const ARRAY_ALIGN = 64;
/**
 * NumPy ≥ 2 leaves room for the first axis to grow to 21 digits (`GROWTH_AXIS_MAX_DIGITS`), so
 * that appending rows can rewrite the header in place; matching it makes our files byte-identical.
 */
const GROWTH_AXIS_MAX_DIGITS = 21;
/** NumPy's `NPY_MAXDIMS` (2.x): a file with more axes cannot be loaded by NumPy. */
const MAX_DIMS = 64;
/**
 * Upper bound on a header we agree to parse. NumPy itself refuses headers over 10 000 characters
 * unless pickles are allowed; any header of a dtype we support is far below this.
 */
const MAX_HEADER_BYTES = 1 << 20;
/** NumPy's largest item size (a C `int`). */
const MAX_ITEM_SIZE = 2 ** 31 - 1;
/** Nesting depth of the header literal; the real one has depth 2. */
const MAX_LITERAL_DEPTH = 32;

const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HOST_ORDER: "<" | ">" = HOST_LITTLE ? "<" : ">";

/**
 * The byte order of a dtype: little, big, or not applicable (one-byte and byte-string types).
 *
 * @example
 * ```ts
 * import { type NpyByteOrder, parseNpyDType } from "./npy_format.ts";
 * const order: NpyByteOrder = parseNpyDType(">u2").byteOrder; // ">"
 * ```
 */
export type NpyByteOrder = "<" | ">" | "|";

/**
 * A NumPy dtype as a `.npy` file or `<npy@>` metadata names it, resolved to the facts a reader
 * needs.
 *
 * @example
 * ```ts
 * import { type NpyDType, parseNpyDType } from "./npy_format.ts";
 * const dt: NpyDType = parseNpyDType("complex64");
 * dt.descr; // "<c8"
 * ```
 */
export interface NpyDType {
  /** NumPy kind: `b` bool, `i`, `u`, `f`, `c`, `M` datetime, `m` timedelta, `U`, `S`, `V`, `O`. */
  readonly kind: string;
  /** Bytes per element (for complex, both parts). */
  readonly itemSize: number;
  /** Byte order of the elements. */
  readonly byteOrder: NpyByteOrder;
  /** The type string NumPy writes as `descr` (`dtype.str`): `<f8`, `|b1`, `<U5`, `>M8[D]`. */
  readonly descr: string;
  /** What NumPy's `str(dtype)` prints: `float64`, `bool`, `<U5`, `|S3`, `>u2`, `datetime64[D]`. */
  readonly name: string;
  /** The `datetime64`/`timedelta64` unit with its multiplier (`D`, `10s`); `""` when generic. */
  readonly unit?: string;
}

/**
 * The parsed header of a `.npy` file.
 *
 * @example
 * ```ts
 * import { encodeNpy, type NpyHeader, parseNpyHeader } from "./npy_format.ts";
 * import { NDArray } from "./blob/ndarray.ts";
 * const h: NpyHeader = parseNpyHeader(encodeNpy(NDArray.from(new Int32Array(6), [2, 3])));
 * h.descr; // "<i4"
 * h.dataLength; // 24
 * ```
 */
export interface NpyHeader {
  /** Format major version: 1 (u16 header length), 2 (u32), 3 (u32, UTF-8 header). */
  readonly version: 1 | 2 | 3;
  /** Byte offset of the data (magic, version, length field and header text together). */
  readonly headerLength: number;
  /** The `descr` string as written in the file. */
  readonly descr: string;
  /** Whether the data is stored in Fortran (column-major) order. */
  readonly fortranOrder: boolean;
  /** The array's shape (`[]` for a 0-d array). */
  readonly shape: readonly number[];
  /** NumPy's `str(dtype)`: `float64`, `int32`, `bool`, `<U5`, `|S3`, `>u2`, `datetime64[D]`. */
  readonly dtype: string;
  /** Bytes per element. */
  readonly itemSize: number;
  /** Byte order of the data. */
  readonly byteOrder: NpyByteOrder;
  /** Number of elements (1 for a 0-d array). */
  readonly size: number;
  /** Bytes of data that follow the header (`size × itemSize`). */
  readonly dataLength: number;
}

/**
 * Options of {@link parseNpyHeader}.
 *
 * @example
 * ```ts
 * import { encodeNpy, parseNpyHeader, type ParseNpyHeaderOptions } from "./npy_format.ts";
 * import { NDArray } from "./blob/ndarray.ts";
 * const prefix = encodeNpy(NDArray.from(new Float64Array(1000))).subarray(0, 512);
 * const options: ParseNpyHeaderOptions = { headerOnly: true };
 * parseNpyHeader(prefix, options).shape; // [1000]
 * ```
 */
export interface ParseNpyHeaderOptions {
  /**
   * The bytes may end after the header (a ranged read of the file's beginning): the data is not
   * required to be present. Default `false`: the data must fit in `bytes`.
   */
  readonly headerOnly?: boolean;
}

// ---------------------------------------------------------------------------------------------
// dtypes

const NUMERIC_NAMES: Record<string, string> = {
  b1: "bool",
  i1: "int8",
  i2: "int16",
  i4: "int32",
  i8: "int64",
  u1: "uint8",
  u2: "uint16",
  u4: "uint32",
  u8: "uint64",
  f2: "float16",
  f4: "float32",
  f8: "float64",
  f12: "float96",
  f16: "float128",
  c8: "complex64",
  c16: "complex128",
  c24: "complex192",
  c32: "complex256",
};
const NAME_TO_CODE: Record<string, string> = Object.fromEntries(
  Object.entries(NUMERIC_NAMES).map(([code, name]) => [name, code]),
);
const VALID_SIZES: Record<string, readonly number[]> = {
  b: [1],
  i: [1, 2, 4, 8],
  u: [1, 2, 4, 8],
  f: [2, 4, 8, 12, 16],
  c: [8, 16, 24, 32],
};
const TIME_UNITS = new Set<string>([...DATETIME_UNITS, "generic"]);

/**
 * Resolve a NumPy dtype string: a `descr` as a `.npy` header writes it (`<f8`, `|b1`, `>u2`,
 * `<U5`, `<M8[D]`) or a name as `str(dtype)` prints it (`float64`, `bool`, `datetime64[D]`).
 * Throws a {@link CodecError} for anything else (structured dtypes, single-character type codes).
 *
 * @example
 * ```ts
 * import { parseNpyDType } from "./npy_format.ts";
 * parseNpyDType("<f4").name; // "float32"
 * parseNpyDType("<U5").itemSize; // 20
 * parseNpyDType("datetime64[D]").descr; // "<M8[D]"
 * ```
 */
export function parseNpyDType(spec: string): NpyDType {
  if (typeof spec !== "string") throw new CodecError(`A NumPy dtype must be a string`);
  const byName = fromName(spec);
  if (byName) return byName;
  const m = /^([<>|=]?)([biufcMmUSVO])(\d*)(?:\[(\d*)([A-Za-z]+)\])?$/.exec(spec);
  if (!m) throw unknownDType(spec);
  const [, order, kind, digits, mult, unit] = m;
  // NumPy keeps item sizes in a C int: anything larger is "not understood" there too.
  if (digits.length > 10 || Number(digits) > MAX_ITEM_SIZE) throw unknownDType(spec);
  if (kind === "O") {
    if ((digits !== "" && digits !== "8") || unit) throw unknownDType(spec);
    return { kind, itemSize: 8, byteOrder: "|", descr: "|O", name: "object" };
  }
  if (kind === "M" || kind === "m") {
    if (digits !== "8" || (unit === undefined && mult !== undefined)) throw unknownDType(spec);
    return timeDType(
      kind,
      resolveOrder(order, 8),
      unit === undefined ? "" : timeUnit(spec, mult, unit),
    );
  }
  if (unit !== undefined || digits === "") throw unknownDType(spec);
  const n = Number(digits);
  if (kind === "U" || kind === "S" || kind === "V") {
    const itemSize = kind === "U" ? 4 * n : n;
    if (itemSize > MAX_ITEM_SIZE) throw unknownDType(spec);
    const byteOrder = kind === "U" ? resolveOrder(order, 4) : "|";
    const descr = `${byteOrder}${kind}${n}`;
    return { kind, itemSize, byteOrder, descr, name: descr };
  }
  if (!VALID_SIZES[kind].includes(n)) throw unknownDType(spec);
  return numericDType(kind, n, resolveOrder(order, n));
}

function fromName(spec: string): NpyDType | undefined {
  const code = Object.hasOwn(NAME_TO_CODE, spec) ? NAME_TO_CODE[spec] : undefined;
  if (code) {
    const n = Number(code.slice(1));
    return numericDType(code[0], n, n === 1 ? "|" : HOST_ORDER);
  }
  if (spec === "object") return parseNpyDType("|O");
  const t = /^(datetime64|timedelta64)(?:\[(\d*)([A-Za-z]+)\])?$/.exec(spec);
  if (t) {
    const unit = t[3] === undefined ? "" : timeUnit(spec, t[2], t[3]);
    return timeDType(t[1] === "datetime64" ? "M" : "m", HOST_ORDER, unit);
  }
  return undefined;
}

function resolveOrder(order: string, itemSize: number): NpyByteOrder {
  if (itemSize <= 1) return "|";
  if (order === "<" || order === ">") return order;
  // `=`, `|` and no prefix mean native, which for a multi-byte type is the host's order.
  return HOST_ORDER;
}

function numericDType(kind: string, n: number, byteOrder: NpyByteOrder): NpyDType {
  const code = `${kind}${n}`;
  const descr = `${byteOrder}${code}`;
  const native = byteOrder === "|" || byteOrder === HOST_ORDER;
  return { kind, itemSize: n, byteOrder, descr, name: native ? NUMERIC_NAMES[code] : descr };
}

function timeUnit(spec: string, mult: string | undefined, unit: string): string {
  if (!TIME_UNITS.has(unit)) throw unknownDType(spec);
  if (unit === "generic") return "";
  const k = mult === undefined || mult === "" ? 1 : Number(mult);
  if (!Number.isSafeInteger(k) || k < 1) throw unknownDType(spec);
  return k === 1 ? unit : `${k}${unit}`;
}

function timeDType(kind: "M" | "m", byteOrder: NpyByteOrder, unit: string): NpyDType {
  const suffix = unit === "" ? "" : `[${unit}]`;
  const descr = `${byteOrder}${kind}8${suffix}`;
  const native = byteOrder === HOST_ORDER;
  const word = kind === "M" ? "datetime64" : "timedelta64";
  return { kind, itemSize: 8, byteOrder, descr, name: native ? `${word}${suffix}` : descr, unit };
}

function unknownDType(spec: string): CodecError {
  return new CodecError(
    `Unsupported NumPy dtype ${JSON.stringify(spec)}: expected a simple type string such as ` +
      `"<f8", "float64", "<U5" or "datetime64[ms]" (structured dtypes are not supported)`,
  );
}

/**
 * The NumPy dtype an {@link NDArray} is stored with in a `.npy` file.
 */
function npyDTypeOf(array: NDArray): NpyDType {
  const dtype: DType = array.dtype;
  if (dtype === "object") return objectDType(array.data as unknown[]);
  if (dtype === "char") return parseNpyDType("<U1");
  if (isDatetimeDType(dtype)) return parseNpyDType(dtype);
  if (!Object.hasOwn(NAME_TO_CODE, dtype)) {
    throw new CodecError(`NDArray dtype ${dtype} has no .npy form`);
  }
  return parseNpyDType(dtype);
}

function objectDType(values: readonly unknown[]): NpyDType {
  const refuse = () =>
    new CodecError(
      "object arrays cannot be stored in .npy (NumPy would need pickle): store numbers in a " +
        "numeric NDArray, or make every element a string (saved as <U n) or every element a " +
        "Uint8Array (saved as |S n)",
    );
  if (values.length === 0) throw refuse();
  if (values.every((v) => typeof v === "string")) {
    let longest = 1;
    for (const s of values as string[]) longest = Math.max(longest, codePointCount(s));
    return parseNpyDType(`<U${longest}`);
  }
  if (values.every((v) => v instanceof Uint8Array)) {
    let longest = 1;
    for (const b of values as Uint8Array[]) longest = Math.max(longest, b.length);
    return parseNpyDType(`|S${longest}`);
  }
  throw refuse();
}

function codePointCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) i++;
    }
    n++;
  }
  return n;
}

/**
 * The dtype string DataJoint writes into `<npy@>` metadata for an array: what NumPy's
 * `str(dtype)` prints for the array once loaded, which `np.dtype(str)` accepts back.
 * Throws a {@link CodecError} for arrays `.npy` cannot hold (mixed object arrays).
 *
 * @example
 * ```ts
 * import { npyDtypeName } from "./npy_format.ts";
 * import { NDArray } from "./blob/ndarray.ts";
 * npyDtypeName(NDArray.from(new Int32Array(3))); // "int32"
 * npyDtypeName(NDArray.objects(["ab", "cde"])); // "<U3"
 * ```
 */
export function npyDtypeName(array: NDArray): string {
  return npyDTypeOf(array).name;
}

// ---------------------------------------------------------------------------------------------
// encode

/**
 * Serialize an array as a `.npy` file, byte-for-byte what NumPy ≥ 2 `np.save` writes for the same
 * array: format 1.0 (2.0 if the header outgrows 65535 bytes), C order, native byte order
 * (little-endian wherever Deno runs), the header padded to 64 bytes with NumPy's growth room.
 * Throws a {@link CodecError} for arrays NumPy could only store by pickling (see the module notes)
 * or with more than 64 axes.
 *
 * @example
 * ```ts
 * import { encodeNpy } from "./npy_format.ts";
 * import { NDArray } from "./blob/ndarray.ts";
 * const bytes = encodeNpy(NDArray.from(new BigInt64Array([0n, 1n, 2n])));
 * bytes.length; // 152 (128-byte header + 24 bytes of data)
 * ```
 */
export function encodeNpy(array: NDArray): Uint8Array {
  if (!(array instanceof NDArray)) {
    throw new CodecError(`encodeNpy needs an NDArray, got ${describe(array)}`);
  }
  const dt = npyDTypeOf(array);
  const shape = array.shape;
  if (shape.length > MAX_DIMS) {
    throw new CodecError(
      `NumPy supports at most ${MAX_DIMS} dimensions, this array has ${shape.length}`,
    );
  }
  const header = wrapHeader(headerText(dt.descr, false, shape));
  const n = array.size;
  const dataLength = n * dt.itemSize;
  const out = new Uint8Array(header.length + dataLength);
  out.set(header);
  const body = out.subarray(header.length);
  writeElements(array, dt, body);
  return out;
}

function headerText(descr: string, fortranOrder: boolean, shape: readonly number[]): string {
  const shapeRepr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let text = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? "True" : "False"}, ` +
    `'shape': ${shapeRepr}, }`;
  if (shape.length > 0) {
    const growthAxis = shape[fortranOrder ? shape.length - 1 : 0];
    text += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(growthAxis).length));
  }
  return text;
}

function wrapHeader(text: string): Uint8Array {
  // The text is ASCII (descr strings and integers only), so latin-1 = ASCII bytes.
  const hlen = text.length + 1;
  let version = 1;
  let lengthBytes = 2;
  let padlen = ARRAY_ALIGN - ((8 + lengthBytes + hlen) % ARRAY_ALIGN);
  if (hlen + padlen > 0xffff) {
    version = 2;
    lengthBytes = 4;
    padlen = ARRAY_ALIGN - ((8 + lengthBytes + hlen) % ARRAY_ALIGN);
  }
  const total = 8 + lengthBytes + hlen + padlen;
  const out = new Uint8Array(total);
  out.set(MAGIC);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (lengthBytes === 2) view.setUint16(8, hlen + padlen, true);
  else view.setUint32(8, hlen + padlen, true);
  let p = 8 + lengthBytes;
  for (let i = 0; i < text.length; i++) out[p++] = text.charCodeAt(i);
  out.fill(0x20, p, total - 1);
  out[total - 1] = 0x0a;
  return out;
}

function writeElements(array: NDArray, dt: NpyDType, body: Uint8Array): void {
  const n = array.size;
  if (dt.kind === "U") {
    const width = dt.itemSize / 4;
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    if (array.dtype === "char") {
      const units = array.data as Uint16Array;
      for (let i = 0; i < n; i++) view.setUint32(i * 4, units[i], true);
      return;
    }
    const strings = array.data as string[];
    for (let i = 0; i < n; i++) {
      let p = i * dt.itemSize;
      const s = strings[i];
      let k = 0;
      for (let j = 0; j < s.length && k < width; j++, k++) {
        const cp = s.codePointAt(j)!;
        if (cp > 0xffff) j++;
        view.setUint32(p, cp, true);
        p += 4;
      }
    }
    return;
  }
  if (dt.kind === "S") {
    const items = array.data as Uint8Array[];
    for (let i = 0; i < n; i++) body.set(items[i], i * dt.itemSize);
    return;
  }
  if (dt.kind === "c") {
    const re = array.data as Float32Array | Float64Array;
    const im = array.imag as Float32Array | Float64Array;
    // The body starts at a multiple of 64 in a fresh buffer, so an aligned view is possible.
    const dst = re instanceof Float64Array
      ? new Float64Array(body.buffer, body.byteOffset, 2 * n)
      : new Float32Array(body.buffer, body.byteOffset, 2 * n);
    for (let i = 0; i < n; i++) {
      dst[2 * i] = re[i];
      dst[2 * i + 1] = im[i];
    }
    return;
  }
  const data = array.data as NumericTypedArray;
  body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (dt.kind === "b") {
    // NDArray promises 0/1, but a hand-built Uint8Array may hold other truthy bytes; NumPy's bool
    // must be exactly 0 or 1.
    for (let i = 0; i < n; i++) if (body[i] > 1) body[i] = 1;
  }
  // Numbers go out in the host's order, which is what the descr names (as NumPy does).
}

// ---------------------------------------------------------------------------------------------
// header parsing

/**
 * The byte offset at which a `.npy` file's data starts, from its first 12 bytes (or 10 for
 * format 1.0). Lets a ranged reader fetch exactly the header. Throws a {@link CorruptObjectError}
 * for a bad magic string or version, or when `prefix` is too short to hold the length field.
 *
 * @example
 * ```ts
 * import { encodeNpy, npyHeaderSize } from "./npy_format.ts";
 * import { NDArray } from "./blob/ndarray.ts";
 * npyHeaderSize(encodeNpy(NDArray.from(new Float64Array(3))).subarray(0, 12)); // 128
 * ```
 */
export function npyHeaderSize(prefix: Uint8Array): number {
  return preamble(prefix).headerLength;
}

function preamble(bytes: Uint8Array): { version: 1 | 2 | 3; start: number; headerLength: number } {
  if (!(bytes instanceof Uint8Array)) throw new CorruptObjectError(`A .npy file must be bytes`);
  const magicOk = MAGIC.every((b, i) => i >= bytes.length || bytes[i] === b);
  if (magicOk && bytes.length < 8) {
    throw new CorruptObjectError(
      `Truncated .npy file: ${bytes.length} bytes end inside the magic string`,
    );
  }
  if (!magicOk) {
    const shown = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join(
      " ",
    );
    throw new CorruptObjectError(
      `Not a .npy file: it must start with the magic string \\x93NUMPY, found [${shown}]`,
    );
  }
  const major = bytes[6] as 1 | 2 | 3;
  const minor = bytes[7];
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    throw new CorruptObjectError(
      `Unsupported .npy format version ${major}.${minor}: expected 1.0, 2.0 or 3.0`,
    );
  }
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) {
    throw new CorruptObjectError(
      `Truncated .npy file: ${bytes.length} bytes end inside the header length`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = lengthBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (hlen > MAX_HEADER_BYTES) {
    throw new CorruptObjectError(
      `The .npy header claims ${hlen} bytes; no array of a supported dtype needs more than ${MAX_HEADER_BYTES}`,
    );
  }
  return { version: major, start: 8 + lengthBytes, headerLength: 8 + lengthBytes + hlen };
}

/**
 * Parse and validate the header of a `.npy` file. Nothing in it is trusted: a header length beyond
 * the bytes, a malformed dict literal, missing or extra keys, a negative or non-integer axis, or
 * (unless `options.headerOnly`) data that would not fit in `bytes` raise a
 * {@link CorruptObjectError}; a dtype outside the simple NumPy types raises a {@link CodecError}.
 *
 * @example
 * ```ts
 * import { encodeNpy, parseNpyHeader } from "./npy_format.ts";
 * import { NDArray } from "./blob/ndarray.ts";
 * const h = parseNpyHeader(encodeNpy(NDArray.from(new Float32Array(12), [4, 3])));
 * h.dtype; // "float32"
 * h.shape; // [4, 3]
 * h.headerLength; // 128
 * ```
 */
export function parseNpyHeader(bytes: Uint8Array, options: ParseNpyHeaderOptions = {}): NpyHeader {
  const { version, start, headerLength } = preamble(bytes);
  if (headerLength > bytes.length) {
    throw new CorruptObjectError(
      `Truncated .npy file: the header claims to end at byte ${headerLength} but the file has ${bytes.length}`,
    );
  }
  const raw = bytes.subarray(start, headerLength);
  let text: string;
  if (version === 3) {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch (e) {
      throw new CorruptObjectError(`The .npy 3.0 header is not valid UTF-8`, { cause: e });
    }
  } else {
    text = latin1(raw);
  }
  const dict = parseHeaderDict(text);
  const descrValue = dict.get("descr");
  if (typeof descrValue !== "string") {
    throw new CodecError(
      `Unsupported .npy descr ${
        pyRepr(descrValue)
      }: structured and sub-array dtypes are not supported`,
    );
  }
  const fortranValue = dict.get("fortran_order");
  if (typeof fortranValue !== "boolean") {
    throw new CorruptObjectError(
      `Bad .npy header: fortran_order is not a bool: ${pyRepr(fortranValue)}`,
    );
  }
  const shapeValue = dict.get("shape");
  if (!(shapeValue instanceof PyTuple) || !shapeValue.items.every((d) => typeof d === "bigint")) {
    throw new CorruptObjectError(
      `Bad .npy header: shape is not a tuple of integers: ${pyRepr(shapeValue)}`,
    );
  }
  const dims = shapeValue.items as bigint[];
  if (dims.length > MAX_DIMS) {
    throw new CorruptObjectError(
      `Bad .npy header: ${dims.length} dimensions (NumPy allows ${MAX_DIMS})`,
    );
  }
  const shape: number[] = [];
  for (const d of dims) {
    if (d < 0n) {
      throw new CorruptObjectError(
        `Bad .npy header: negative dimension in shape ${pyRepr(shapeValue)}`,
      );
    }
    if (d > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CorruptObjectError(`Bad .npy header: shape ${pyRepr(shapeValue)} is too large`);
    }
    shape.push(Number(d));
  }
  const dt = parseNpyDType(descrValue);
  if (dt.kind === "O") {
    throw new CodecError(`Object arrays cannot be loaded from .npy without pickle (descr '|O')`);
  }
  // As NumPy does, the non-zero axes must multiply to a representable size even if another axis
  // is zero.
  let nonZero = 1;
  let empty = false;
  for (const d of shape) {
    if (d === 0) empty = true;
    else nonZero *= d;
  }
  if (!Number.isSafeInteger(nonZero)) {
    throw new CorruptObjectError(`Bad .npy header: shape ${pyRepr(shapeValue)} is too large`);
  }
  const size = empty ? 0 : nonZero;
  if (dt.itemSize > 0 && size > Number.MAX_SAFE_INTEGER / dt.itemSize) {
    throw new CorruptObjectError(
      `Bad .npy header: shape ${pyRepr(shapeValue)} is too large for ${dt.name}`,
    );
  }
  const dataLength = size * dt.itemSize;
  if (!options.headerOnly && dataLength > bytes.length - headerLength) {
    throw new CorruptObjectError(
      `Truncated .npy file: shape [${shape}] of ${dt.name} needs ${dataLength} bytes of data but ` +
        `only ${bytes.length - headerLength} follow the header`,
    );
  }
  return {
    version,
    headerLength,
    descr: descrValue,
    fortranOrder: fortranValue,
    shape,
    dtype: dt.name,
    itemSize: dt.itemSize,
    byteOrder: dt.byteOrder,
    size,
    dataLength,
  };
}

function latin1(raw: Uint8Array): string {
  let s = "";
  for (let i = 0; i < raw.length; i += 8192) {
    s += String.fromCharCode(...raw.subarray(i, i + 8192));
  }
  return s;
}

/** A Python tuple from the header literal (distinct from a list, which NumPy rejects as a shape). */
class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
type PyValue = string | bigint | boolean | null | PyValue[] | PyTuple | Map<PyValue, PyValue>;

function pyRepr(v: PyValue | undefined): string {
  if (v === undefined) return "missing";
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return `'${v}'`;
  if (v instanceof PyTuple) {
    return v.items.length === 1
      ? `(${pyRepr(v.items[0])},)`
      : `(${v.items.map(pyRepr).join(", ")})`;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  return `{${[...v].map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
}

/**
 * Parse the header's Python dict literal: the subset `ast.literal_eval` accepts that can occur in
 * a `.npy` header (strings, ints with Python 2's `L` suffix, True/False/None, tuples, lists,
 * dicts), and check it has exactly NumPy's three keys.
 */
function parseHeaderDict(text: string): Map<string, PyValue> {
  const p = new LiteralParser(text);
  const value = p.value(0);
  p.skipSpace();
  if (p.pos !== text.length) p.fail(`unexpected ${JSON.stringify(text.slice(p.pos, p.pos + 10))}`);
  if (!(value instanceof Map)) {
    throw new CorruptObjectError(`Bad .npy header: not a dictionary: ${clip(text)}`);
  }
  const keys = [...value.keys()];
  const expected = ["descr", "fortran_order", "shape"];
  if (
    keys.length !== expected.length || !expected.every((k) => keys.includes(k))
  ) {
    throw new CorruptObjectError(
      `Bad .npy header: keys must be exactly ${expected.join(", ")}, found ${
        keys.map((k) => pyRepr(k)).join(", ")
      }`,
    );
  }
  return value as Map<string, PyValue>;
}

function clip(text: string): string {
  const t = text.trimEnd();
  return JSON.stringify(t.length > 80 ? `${t.slice(0, 80)}…` : t);
}

class LiteralParser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new CorruptObjectError(
      `Bad .npy header: ${what} at character ${this.pos} of ${clip(this.text)}`,
    );
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f") this.pos++;
      else break;
    }
  }

  value(depth: number): PyValue {
    if (depth > MAX_LITERAL_DEPTH) this.fail("nesting too deep");
    this.skipSpace();
    const t = this.text;
    const c = t[this.pos];
    if (c === undefined) this.fail("unexpected end");
    if (c === "{") return this.dict(depth);
    if (c === "(") return this.sequence(depth, ")");
    if (c === "[") return this.sequence(depth, "]");
    if (c === "'" || c === '"') return this.string();
    if ((c === "u" || c === "U") && (t[this.pos + 1] === "'" || t[this.pos + 1] === '"')) {
      this.pos++;
      return this.string();
    }
    if (c === "-" || c === "+" || (c >= "0" && c <= "9")) return this.int();
    for (const [word, v] of [["True", true], ["False", false], ["None", null]] as const) {
      if (t.startsWith(word, this.pos) && !/\w/.test(t[this.pos + word.length] ?? "")) {
        this.pos += word.length;
        return v;
      }
    }
    this.fail(`unexpected ${JSON.stringify(c)}`);
  }

  dict(depth: number): Map<PyValue, PyValue> {
    this.pos++;
    const out = new Map<PyValue, PyValue>();
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === "}") {
        this.pos++;
        return out;
      }
      const key = this.value(depth + 1);
      if (typeof key !== "string" && typeof key !== "bigint" && typeof key !== "boolean") {
        this.fail("unhashable dict key");
      }
      this.skipSpace();
      if (this.text[this.pos] !== ":") this.fail("expected ':'");
      this.pos++;
      out.set(key, this.value(depth + 1));
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ",") this.pos++;
      else if (c !== "}") this.fail("expected ',' or '}'");
    }
  }

  sequence(depth: number, close: ")" | "]"): PyValue {
    this.pos++;
    const items: PyValue[] = [];
    let comma = false;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        break;
      }
      items.push(this.value(depth + 1));
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ",") {
        this.pos++;
        comma = true;
      } else if (c !== close) {
        this.fail(`expected ',' or '${close}'`);
      }
    }
    if (close === "]") return items;
    // `(x)` is just x in Python; only a comma (or `()`) makes a tuple.
    if (items.length === 1 && !comma) return items[0];
    return new PyTuple(items);
  }

  string(): string {
    const t = this.text;
    const quote = t[this.pos++];
    let out = "";
    for (;;) {
      const c = t[this.pos++];
      if (c === undefined || c === "\n") this.fail("unterminated string");
      if (c === quote) return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = t[this.pos++];
      const simple: Record<string, string> = {
        "\\": "\\",
        "'": "'",
        '"': '"',
        n: "\n",
        t: "\t",
        r: "\r",
        "0": "\0",
      };
      if (e !== undefined && Object.hasOwn(simple, e)) {
        out += simple[e];
      } else if (e === "x" || e === "u") {
        const len = e === "x" ? 2 : 4;
        const hex = t.slice(this.pos, this.pos + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail("bad escape");
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += len;
      } else {
        this.fail("unsupported escape");
      }
    }
  }

  int(): bigint {
    const m = /^([-+]?)\s*(\d+)[lL]?/.exec(this.text.slice(this.pos, this.pos + 64));
    if (!m) this.fail("bad number");
    if (m[2].length > 40) this.fail("integer too long");
    const next = this.text[this.pos + m[0].length];
    if (next !== undefined && /[\w.]/.test(next)) this.fail("bad number");
    this.pos += m[0].length;
    const v = BigInt(m[2]);
    return m[1] === "-" ? -v : v;
  }
}

// ---------------------------------------------------------------------------------------------
// decode

/**
 * Decode a whole `.npy` file to an {@link NDArray} in C order: Fortran-order data is transposed,
 * big-endian data byte-swapped, and the elements copied into fresh, aligned typed arrays (the
 * result never aliases `bytes`). Bytes after the data are refused, like every other mismatch
 * between the header and the file ({@link CorruptObjectError}); dtypes `NDArray` cannot hold raise
 * a {@link CodecError}.
 *
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "./npy_format.ts";
 * import { NDArray } from "./blob/ndarray.ts";
 * const a = decodeNpy(encodeNpy(NDArray.from(new Int16Array([1, 2, 3, 4]), [2, 2])));
 * a.dtype; // "int16"
 * a.at(1, 0); // 3
 * ```
 */
export function decodeNpy(bytes: Uint8Array, options: DecodeNpyOptions = {}): NDArray {
  const header = parseNpyHeader(bytes);
  const extra = bytes.length - header.headerLength - header.dataLength;
  if (extra !== 0) {
    throw new CorruptObjectError(
      `Bad .npy file: ${extra} unexpected bytes after the ${header.dataLength} bytes of data the header describes`,
    );
  }
  return decodeNpyData(header, bytes.subarray(header.headerLength), header.shape, options);
}

/**
 * Options of {@link decodeNpy} and {@link decodeNpyData}.
 *
 * @example
 * ```ts
 * import type { DecodeNpyOptions } from "./npy_format.ts";
 * const options: DecodeNpyOptions = { adopt: true };
 * ```
 */
export interface DecodeNpyOptions {
  /**
   * The caller hands the bytes over (a fresh download): numeric C-order data in host byte order
   * that is suitably aligned becomes the array's storage without a copy.
   */
  adopt?: boolean;
}

/**
 * Decode the data of a `.npy` file (the bytes after the header, or a range of whole rows read with
 * {@link npyRowRange}) to an {@link NDArray} of `shape` (default: the header's). `data` must hold
 * exactly the elements of `shape`.
 *
 * @example
 * ```ts
 * import { decodeNpyData, encodeNpy, npyRowRange, parseNpyHeader } from "./npy_format.ts";
 * import { NDArray } from "./blob/ndarray.ts";
 * const file = encodeNpy(NDArray.from(new Float64Array([1, 2, 3, 4, 5, 6]), [3, 2]));
 * const h = parseNpyHeader(file);
 * const { offset, length } = npyRowRange(h, 1, 3);
 * decodeNpyData(h, file.subarray(offset, offset + length), [2, 2]).at(0, 0); // 3
 * ```
 */
export function decodeNpyData(
  header: NpyHeader,
  data: Uint8Array,
  shape: readonly number[] = header.shape,
  options: DecodeNpyOptions = {},
): NDArray {
  const dt = parseNpyDType(header.descr);
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new DataJointError(`Invalid shape [${shape}]`);
    n *= d;
  }
  if (!Number.isSafeInteger(n) || n * dt.itemSize !== data.length) {
    throw new CorruptObjectError(
      `Bad .npy data: shape [${shape}] of ${dt.name} needs ${
        n * dt.itemSize
      } bytes, got ${data.length}`,
    );
  }
  const fortran = header.fortranOrder && !isOrderFree(shape);
  switch (dt.kind) {
    case "U":
      return decodeStrings(dt, data, n, shape, fortran);
    case "S":
      return decodeByteStrings(dt, data, n, shape, fortran);
    case "b":
    case "i":
    case "u":
    case "f":
    case "c":
    case "M":
      return decodeNumeric(dt, data, n, shape, fortran, options.adopt === true);
    default:
      throw unsupportedForNDArray(dt);
  }
}

function unsupportedForNDArray(dt: NpyDType): CodecError {
  return new CodecError(
    `Cannot load a .npy array of dtype ${dt.name} (${dt.descr}): NDArray holds bool, int8–int64, ` +
      `uint8–uint64, float32, float64, complex64, complex128, datetime64[unit], and <U n / |S n as ` +
      `object arrays`,
  );
}

function ndarrayDType(dt: NpyDType): DType | undefined {
  if (dt.kind === "M") {
    return dt.unit !== undefined && (DATETIME_UNITS as readonly string[]).includes(dt.unit)
      ? `datetime64[${dt.unit as DatetimeUnit}]`
      : undefined;
  }
  const name = NUMERIC_NAMES[`${dt.kind}${dt.itemSize}`];
  if (name === undefined) return undefined;
  try {
    dtypeInfo(name as DType);
    return name as DType;
  } catch {
    return undefined;
  }
}

function decodeNumeric(
  dt: NpyDType,
  data: Uint8Array,
  n: number,
  shape: readonly number[],
  fortran: boolean,
  adopt = false,
): NDArray {
  const dtype = ndarrayDType(dt);
  if (dtype === undefined) throw unsupportedForNDArray(dt);
  const info = dtypeInfo(dtype);
  const ctor = info.ctor!;
  const complex = isComplexDType(dtype);
  // slice() copies into a fresh buffer at offset 0: aligned for any element size, and the result
  // never aliases the caller's bytes. Adopted bytes are the caller's to give: a view saves a copy
  // (the .npy header pads data to 64 bytes, so downloads are aligned).
  const raw = adopt && !complex && data.byteOffset % dt.itemSize === 0 ? data : data.slice();
  const swapWidth = complex ? dt.itemSize / 2 : dt.itemSize;
  if (dt.byteOrder !== "|" && dt.byteOrder !== HOST_ORDER && swapWidth > 1) {
    swapBytes(raw, swapWidth);
  }
  let planes: NumericTypedArray[];
  if (complex) {
    const both = new ctor(raw.buffer as ArrayBuffer, raw.byteOffset, 2 * n) as
      | Float32Array
      | Float64Array;
    const re = new ctor(n) as Float32Array | Float64Array;
    const im = new ctor(n) as Float32Array | Float64Array;
    for (let i = 0; i < n; i++) {
      re[i] = both[2 * i];
      im[i] = both[2 * i + 1];
    }
    planes = [re, im];
  } else {
    planes = [new ctor(raw.buffer as ArrayBuffer, raw.byteOffset, n)];
  }
  if (fortran) {
    planes = planes.map((plane) => {
      const out = new ctor(n);
      fBytesToC(
        new Uint8Array(plane.buffer, plane.byteOffset, plane.byteLength),
        bitView(out),
        shape,
      );
      return out;
    });
  }
  if (dtype === "bool") {
    const b = planes[0] as Uint8Array;
    for (let i = 0; i < n; i++) if (b[i] > 1) b[i] = 1;
  }
  return new NDArray(
    dtype,
    shape,
    planes[0] as DataFor<typeof dtype>,
    planes[1] as DataFor<typeof dtype> | undefined,
  );
}

function toCOrder<T>(items: T[], shape: readonly number[], fortran: boolean): T[] {
  if (!fortran) return items;
  const pos = fOrderPositions(shape);
  const out = new Array<T>(items.length);
  for (let i = 0; i < items.length; i++) out[pos[i]] = items[i];
  return out;
}

function decodeStrings(
  dt: NpyDType,
  data: Uint8Array,
  n: number,
  shape: readonly number[],
  fortran: boolean,
): NDArray {
  const width = dt.itemSize / 4;
  const little = dt.byteOrder !== ">";
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const items = new Array<string>(n);
  // Sized by the element width only when there are elements, whose bytes have been checked to be
  // present: an empty array may declare any width.
  const codes = new Array<number>(n > 0 ? width : 0);
  for (let i = 0; i < n; i++) {
    const base = i * dt.itemSize;
    let len = 0;
    for (let k = 0; k < width; k++) {
      const cp = view.getUint32(base + 4 * k, little);
      if (cp > 0x10ffff) {
        throw new CorruptObjectError(
          `Bad .npy data: element ${i} of a ${dt.name} array holds code point 0x${
            cp.toString(16)
          }, beyond Unicode`,
        );
      }
      codes[k] = cp;
      if (cp !== 0) len = k + 1;
    }
    // NumPy drops trailing NULs when it reads an element; embedded ones stay.
    let s = "";
    for (let k = 0; k < len; k += 4096) {
      s += String.fromCodePoint(...codes.slice(k, Math.min(len, k + 4096)));
    }
    items[i] = s;
  }
  return new NDArray("object", shape, toCOrder(items, shape, fortran));
}

function decodeByteStrings(
  dt: NpyDType,
  data: Uint8Array,
  n: number,
  shape: readonly number[],
  fortran: boolean,
): NDArray {
  const items = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) {
    const base = i * dt.itemSize;
    let end = base + dt.itemSize;
    while (end > base && data[end - 1] === 0) end--;
    items[i] = data.slice(base, end);
  }
  return new NDArray("object", shape, toCOrder(items, shape, fortran));
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let p = 0; p + width <= bytes.length; p += width) {
    for (let a = p, b = p + width - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// partial reads

/**
 * The byte range of rows `[startRow, endRow)` along the first axis of a C-order `.npy` file, for a
 * ranged read; decode the bytes with {@link decodeNpyData} and shape `[endRow - startRow,
 * ...shape.slice(1)]`. Throws a {@link DataJointError} for Fortran-order or 0-d arrays and rows
 * outside `0 ≤ startRow ≤ endRow ≤ shape[0]`.
 *
 * @example
 * ```ts
 * import { encodeNpy, npyRowRange, parseNpyHeader } from "./npy_format.ts";
 * import { NDArray } from "./blob/ndarray.ts";
 * const h = parseNpyHeader(encodeNpy(NDArray.from(new Float32Array(12), [4, 3])));
 * npyRowRange(h, 1, 3); // { offset: 140, length: 24 }
 * ```
 */
export function npyRowRange(
  header: NpyHeader,
  startRow: number,
  endRow: number,
): { offset: number; length: number } {
  if (header.shape.length === 0) {
    throw new DataJointError(`A 0-d .npy array has no rows to read`);
  }
  if (header.fortranOrder) {
    throw new DataJointError(
      `Rows of a Fortran-order .npy array are not contiguous: load the whole array`,
    );
  }
  const rows = header.shape[0];
  if (
    !Number.isSafeInteger(startRow) || !Number.isSafeInteger(endRow) || startRow < 0 ||
    startRow > endRow || endRow > rows
  ) {
    throw new DataJointError(
      `Rows [${startRow}, ${endRow}) are outside the ${rows} rows of this .npy array`,
    );
  }
  let rowBytes = header.itemSize;
  for (const d of header.shape.slice(1)) rowBytes *= d;
  return {
    offset: header.headerLength + startRow * rowBytes,
    length: (endRow - startRow) * rowBytes,
  };
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  return (v as object).constructor?.name ?? typeof v;
}
