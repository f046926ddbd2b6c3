/**
 * The blob value model: the union of TypeScript values a blob holds, how each is classified for
 * writing, and Python's notion of equality for dict keys and set elements.
 *
 * | Python / MATLAB | TypeScript |
 * |---|---|
 * | `None` | `null` (`undefined` is written as `None` too) |
 * | `bool` | `boolean` |
 * | `int` (any size) | `bigint` |
 * | `float` | `number` |
 * | `complex` | {@link Complex} |
 * | `str` | `string` |
 * | `bytes` | `Uint8Array` |
 * | `list` / `tuple` / `set` | `Array` / {@link Tuple} / `Set` |
 * | `dict` | plain object when every key is a string (and none looks like an array index), else `Map` |
 * | `Decimal` / `UUID` | {@link Decimal} / {@link UUID} |
 * | `date` / `time` / `datetime` | `Temporal.PlainDate` / `Temporal.PlainTime` / `Temporal.PlainDateTime` |
 * | NumPy array or scalar, MATLAB matrix | {@link NDArray} |
 * | MATLAB struct / cell, NumPy recarray | {@link MatStruct} / {@link MatCell} / {@link RecArray} |
 *
 * @module
 */

import type { MatCell, MatStruct, RecArray, Tuple } from "./containers.ts";
import type { NDArray } from "./ndarray.ts";
import { BLOB_KIND, type Complex, type Decimal, type UUID } from "./scalars.ts";

/**
 * Any value a blob can hold, as {@link unpack} returns it. {@link pack} also accepts a few
 * conveniences that decode as their canonical form: `undefined` (→ `null`), a JS `Date` (→ a
 * naive UTC `Temporal.PlainDateTime`), an `ArrayBuffer` (→ `Uint8Array`), and typed arrays other
 * than `Uint8Array` (→ a 1-D {@link NDArray}).
 */
export type BlobValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Complex
  | Decimal
  | UUID
  | Temporal.PlainDate
  | Temporal.PlainTime
  | Temporal.PlainDateTime
  | NDArray
  | MatStruct
  | MatCell
  | RecArray
  | Tuple<BlobValue>
  | BlobValue[]
  | Set<BlobValue>
  | Map<BlobValue, BlobValue>
  | BlobDict;

/** A Python dict whose keys are all strings, as a plain object. */
export interface BlobDict {
  /** A value per string key. */
  [key: string]: BlobValue;
}

/** The kinds of value the writer distinguishes, named after the blob item they become. */
export type BlobKind =
  | "none"
  | "bool"
  | "int"
  | "float"
  | "complex"
  | "str"
  | "bytes"
  | "decimal"
  | "uuid"
  | "date"
  | "time"
  | "datetime"
  | "tuple"
  | "list"
  | "set"
  | "dict"
  | "ndarray"
  | "struct"
  | "cell"
  | "recarray"
  | "typedarray"
  | "jsdate";

/**
 * Classify a value for writing, or return `undefined` when no blob item can hold it.
 *
 * @example
 * ```ts
 * import { kindOf } from "./values.ts";
 * kindOf(3n);        // "int"
 * kindOf(3);         // "float"
 * kindOf(new Map()); // "dict"
 * kindOf(() => 1);   // undefined
 * ```
 */
export function kindOf(value: unknown): BlobKind | undefined {
  switch (typeof value) {
    case "undefined":
      return "none";
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return "float";
    case "string":
      return "str";
    case "object":
      break;
    default:
      return undefined;
  }
  if (value === null) return "none";
  const branded = (value as { [BLOB_KIND]?: unknown })[BLOB_KIND];
  if (typeof branded === "string") return branded as BlobKind;
  if (Array.isArray(value)) return "list";
  if (value instanceof Uint8Array) return "bytes";
  if (ArrayBuffer.isView(value)) return value instanceof DataView ? "bytes" : "typedarray";
  if (value instanceof ArrayBuffer) return "bytes";
  if (value instanceof Map) return "dict";
  if (value instanceof Set) return "set";
  if (value instanceof Temporal.PlainDateTime) return "datetime";
  if (value instanceof Temporal.PlainDate) return "date";
  if (value instanceof Temporal.PlainTime) return "time";
  if (value instanceof Date) return "jsdate";
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return "dict";
  return undefined;
}

/**
 * Whether a plain-object key would be reordered by JavaScript (array-index keys such as `"2"`
 * are enumerated first, in numeric order), so a dict with such a key must be a `Map` to keep the
 * blob's key order.
 */
export function isArrayIndexKey(key: string): boolean {
  if (key.length === 0 || key.length > 10) return false;
  const c = key.charCodeAt(0);
  if (c < 48 || c > 57 || (c === 48 && key.length > 1)) return false;
  for (let i = 1; i < key.length; i++) {
    const d = key.charCodeAt(i);
    if (d < 48 || d > 57) return false;
  }
  return Number(key) < 4294967295;
}

let nanCounter = 0;

/**
 * A string that is equal for two values exactly when Python considers them equal as dict keys
 * or set elements (so `true`, `1n`, `1`, `Decimal("1.0")` and `Complex(1, 0)` share one key), or
 * `undefined` when Python cannot hash the value (lists, sets, dicts, arrays, and tuples holding
 * one of them). Each NaN is its own key, as distinct NaN objects are in Python.
 *
 * @example
 * ```ts
 * import { hashKey } from "./values.ts";
 * hashKey(1n) === hashKey(true); // true
 * hashKey([1n]);                 // undefined
 * ```
 */
export function hashKey(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return "s" + value;
    case "boolean":
      return value ? "n1" : "n0";
    case "bigint":
      // Through the decimal normal form, so that 10n ** 5000n meets Decimal("1E+5000").
      return value < 0n
        ? normalizedDecimalKey(true, (-value).toString(), 0n)
        : normalizedDecimalKey(false, value.toString(), 0n);
    case "number":
      return numberKey(value);
    case "undefined":
      return "N";
    case "object":
      break;
    default:
      return undefined;
  }
  if (value === null) return "N";
  switch (kindOf(value)) {
    case "complex": {
      const c = value as Complex;
      return c.im === 0 ? numberKey(c.re) : `c${numberKey(c.re)},${numberKey(c.im)}`;
    }
    case "decimal":
      return decimalKey(value as Decimal);
    case "uuid":
      return "u" + String(value);
    case "bytes":
      return "b" + latin1(value as Uint8Array | ArrayBuffer | DataView);
    case "date":
      return "D" + (value as Temporal.PlainDate).toString({ calendarName: "never" });
    case "time":
      return "T" + String(value);
    case "datetime":
      return "DT" + (value as Temporal.PlainDateTime).toString({ calendarName: "never" });
    case "jsdate": {
      const t = (value as Date).getTime();
      return Number.isNaN(t) ? undefined : "DT" + new Date(t).toISOString().slice(0, -1);
    }
    case "tuple": {
      let key = "t";
      for (const item of value as unknown[]) {
        const k = hashKey(item);
        if (k === undefined) return undefined;
        key += `${k.length}:${k}`;
      }
      return key;
    }
    case "ndarray":
      return scalarKey(value as NDArray);
    default:
      return undefined;
  }
}

/** NumPy scalars (0-d numeric arrays) hash like the Python numbers they equal. */
function scalarKey(a: NDArray): string | undefined {
  if (a.shape.length !== 0 || a.dtype === "object" || a.dtype === "char") return undefined;
  const v = (a.data as ArrayLike<unknown>)[0];
  if (a.dtype.startsWith("datetime64")) return `M${a.dtype}${v}`;
  if (a.imag !== undefined) {
    const im = (a.imag as ArrayLike<number>)[0];
    return im === 0 ? numberKey(v as number) : `c${numberKey(v as number)},${numberKey(im)}`;
  }
  return typeof v === "bigint" ? "n" + v : numberKey(v as number);
}

function numberKey(x: number): string {
  if (Number.isInteger(x)) return "n" + BigInt(x).toString();
  if (Number.isNaN(x)) return `nan#${++nanCounter}`;
  if (!Number.isFinite(x)) return "f" + x;
  return exactFloatKey(x);
}

/** A non-integral finite double written as its exact decimal expansion (digits, exponent). */
function exactFloatKey(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp2: number;
  if (biased === 0) exp2 = -1074;
  else {
    mantissa |= 1n << 52n;
    exp2 = biased - 1075;
  }
  // x = mantissa × 2^exp2 with exp2 < 0 (x is not an integer) = mantissa × 5^-exp2 × 10^exp2
  const digits = mantissa * 5n ** BigInt(-exp2);
  return normalizedDecimalKey(x < 0, digits.toString(), BigInt(exp2));
}

function decimalKey(d: Decimal): string | undefined {
  if (d.form === "snan") return undefined;
  if (d.form === "nan") return `nan#${++nanCounter}`;
  if (d.form === "infinity") return d.negative ? "f-Infinity" : "fInfinity";
  return normalizedDecimalKey(d.negative, d.digits, d.exponent);
}

function normalizedDecimalKey(negative: boolean, digits: string, exponent: bigint): string {
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) === 48) end--;
  const stripped = digits.slice(0, end);
  if (stripped === "") return "n0";
  const exp = exponent + BigInt(digits.length - stripped.length);
  const sign = negative ? "-" : "";
  if (exp >= 0n && exp < 4096n) return `n${sign}${stripped}${"0".repeat(Number(exp))}`;
  return `d${sign}${stripped}e${exp}`;
}

function latin1(bytes: Uint8Array | ArrayBuffer | DataView): string {
  const u8 = bytes instanceof Uint8Array
    ? bytes
    : bytes instanceof ArrayBuffer
    ? new Uint8Array(bytes)
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let s = "";
  for (let i = 0; i < u8.length; i += 8192) s += String.fromCharCode(...u8.subarray(i, i + 8192));
  return s;
}
