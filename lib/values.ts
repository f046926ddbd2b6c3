/**
 * Core-type values between TypeScript and the database: what an attribute of each core type
 * accepts on insert, what is sent to the driver, and what a fetch returns. Codec attributes pass
 * through here after their codec chain (encode) or before it (decode), with the chain's storage
 * type (`bytes`, `json`, …).
 *
 * | core type | insert accepts | fetch returns |
 * |---|---|---|
 * | `int8` … `int32`, `float32`, `float64` | `number` (a `bigint` in range) | `number` |
 * | `int64` | `number` or `bigint` | `bigint` |
 * | `bool` | `boolean`, `0`/`1` | `boolean` |
 * | `decimal(p,s)` | `string`, `number`, blob `Decimal` | `string` (exact) |
 * | `char`, `varchar`, `enum` | `string` | `string` |
 * | `date` | `"YYYY-MM-DD"`, `Temporal.PlainDate` | `string` `YYYY-MM-DD` |
 * | `datetime(n)` | `"YYYY-MM-DD HH:MM:SS[.f]"`, `Temporal.PlainDateTime`, `Date` (its UTC time) | `string` |
 * | `uuid` | canonical string, blob `UUID` | `string` canonical lowercase |
 * | `json` | any JSON value | the parsed value |
 * | `bytes` | `Uint8Array` | `Uint8Array` |
 *
 * JSON is sent as text written the way Python's `json.dumps` writes it (`", "`/`": "`
 * separators, non-ASCII escaped), so MariaDB, which keeps JSON text as sent, holds the same text
 * for a row whether DataJoint Python or this library wrote it.
 *
 * @example
 * ```ts
 * import { pythonJson } from "./values.ts";
 * console.log(pythonJson({ a: [1, "é"], b: null })); // {"a": [1, "\u00e9"], "b": null}
 * ```
 *
 * @module
 */
import type { Dialect } from "./adapters/dialect.ts";
import { DataJointError } from "./errors.ts";
import type { CoreType, NativeType } from "./types.ts";
import { BLOB_KIND, UUID } from "../codecs/blob/scalars.ts";

/** What this module needs to know about an attribute. */
export interface ValueTarget {
  /** Attribute name (for messages). */
  name: string;
  /** Its storage type: a core type or a native SQL type. */
  storage: CoreType | NativeType;
}

const INT_RANGE: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

/** "an object" for a plain object (JSON's `{…}`), else the class with its article: "a Map". */
function objectKind(value: object): string {
  const name = Object.getPrototypeOf(value) === null ? "Object" : value.constructor?.name;
  if (name === undefined || name === "" || name === "Object") return "an object";
  return `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}`;
}

/**
 * Whether a string holds more than `n` characters (code points, as both servers count them)
 * beyond trailing spaces, which the servers cut off instead of refusing.
 */
function tooLong(value: string, n: number): boolean {
  let count = 0;
  for (const _ of value.trimEnd()) if (++count > n) return true;
  return false;
}

/** The digits before the point of a decimal's text (`"-0012.5e1"` → 3), leading zeros aside. */
function integerDigits(text: string): number {
  const m = /^[+-]?(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(text)!;
  const digits = (m[1] + m[2]).replace(/^0+/, "");
  if (digits === "") return 0;
  const leadingZeros = (m[1] + m[2]).length - digits.length;
  // Position of the point within `digits`, after the exponent moves it.
  return Math.max(0, m[1].length - leadingZeros + Number(m[3] ?? 0));
}

function wrongType(t: ValueTarget, expected: string, value: unknown): DataJointError {
  const got = value === null
    ? "null"
    : Array.isArray(value)
    ? "an array"
    : value instanceof Uint8Array
    ? "a Uint8Array"
    : typeof value === "object"
    ? objectKind(value as object)
    : `${typeof value} ${JSON.stringify(String(value)).slice(0, 40)}`;
  return new DataJointError(
    `Attribute ${t.name} (${t.storage.text}) expects ${expected}, got ${got}`,
  );
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$/;

/**
 * Whether a text that matched {@link DATE_RE} or {@link DATETIME_RE} names a real day and time
 * (no February 30, no hour 24): MySQL would match nothing and PostgreSQL refuse it.
 */
function onCalendar(text: string): boolean {
  const [y, mo, d, h = 0, mi = 0, sec = 0] = text.split(/[-T :.]/).map(Number);
  const days = new Date(Date.UTC(2000, mo, 0)).getUTCDate() - (mo === 2 && !leap(y) ? 1 : 0);
  return mo >= 1 && mo <= 12 && d >= 1 && d <= days && h < 24 && mi < 60 && sec < 60;
}

function leap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

function dateTimeText(t: ValueTarget, v: unknown): string {
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw wrongType(t, "a valid date and time", v);
    return `${v.getUTCFullYear()}-${pad(v.getUTCMonth() + 1)}-${pad(v.getUTCDate())} ${
      pad(v.getUTCHours())
    }:${pad(v.getUTCMinutes())}:${pad(v.getUTCSeconds())}.${pad(v.getUTCMilliseconds(), 3)}`;
  }
  if (v instanceof Temporal.PlainDateTime) {
    // Databases keep microseconds at most: Temporal's nanoseconds are cut, not rounded.
    return v.toString().replace("T", " ").replace(/(\.\d{6})\d+$/, "$1");
  }
  if (v instanceof Temporal.PlainDate) return `${v.toString()} 00:00:00`;
  if (typeof v === "string" && (DATETIME_RE.test(v.trim()) || DATE_RE.test(v.trim()))) {
    if (!onCalendar(v.trim())) throw wrongType(t, "a date and time that exist (hours 00-23)", v);
    return v.trim().replace("T", " ");
  }
  // CURRENT_TIMESTAMP and friends are defaults, not values: refuse other strings early.
  throw wrongType(t, 'a date and time ("YYYY-MM-DD HH:MM:SS[.ffffff]", Temporal, or Date)', v);
}

function dateText(t: ValueTarget, v: unknown): string {
  if (v instanceof Temporal.PlainDate) return v.toString();
  if (v instanceof Date) {
    return `${v.getUTCFullYear()}-${pad(v.getUTCMonth() + 1)}-${pad(v.getUTCDate())}`;
  }
  if (typeof v === "string" && DATE_RE.test(v.trim())) {
    if (!onCalendar(v.trim())) throw wrongType(t, "a date that exists (no February 30)", v);
    return v.trim();
  }
  throw wrongType(t, 'a date ("YYYY-MM-DD" or Temporal.PlainDate)', v);
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Canonical lowercase hyphenated text of a uuid given as text or as a blob `UUID`. */
function uuidText(t: ValueTarget, v: unknown): string {
  const s = typeof v === "string"
    ? v.trim()
    : typeof v === "object" && v !== null && (v as { [k: symbol]: unknown })[
          BLOB_KIND
        ] === "uuid"
    ? String(v)
    : undefined;
  if (s === undefined || !UUID_RE.test(s)) {
    throw wrongType(t, "a UUID (12345678-1234-5678-1234-567812345678)", v);
  }
  return new UUID(s).toString();
}

/**
 * Escapes every character outside ASCII (and DEL) of JSON text as `\uXXXX` (UTF-16 units), as
 * Python's `json.dumps` does with its default `ensure_ascii=True`.
 *
 * @example
 * ```ts
 * import { escapeNonAscii } from "./values.ts";
 * console.log(escapeNonAscii('"é"')); // "\u00e9"
 * ```
 */
export function escapeNonAscii(json: string): string {
  return json.replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * JSON text as Python's `json.dumps` writes it: `", "` and `": "` separators, non-ASCII escaped
 * as `\uXXXX`. Throws for values JSON cannot hold (functions, cycles, NaN/Infinity) and for
 * strings PostgreSQL's JSON types refuse (NUL characters, unpaired surrogates).
 *
 * @example
 * ```ts
 * import { pythonJson } from "./values.ts";
 * console.log(pythonJson({ hash: "abc", size: 133 })); // {"hash": "abc", "size": 133}
 * ```
 */
export function pythonJson(value: unknown): string {
  const seen = new Set<unknown>();
  const write = (v: unknown): string => {
    if (v === null || v === undefined) return "null";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") {
      // Python writes NaN/Infinity; no database JSON type accepts them, so refuse.
      if (!Number.isFinite(v)) throw new DataJointError(`JSON cannot hold the number ${v}`);
      return JSON.stringify(v);
    }
    // Exact digits are valid JSON (Python reads them exactly; JavaScript readers may round).
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "string") {
      // PostgreSQL's json/jsonb refuse both (MySQL keeps them): refused everywhere, like text.
      if (v.includes("\0")) throw new DataJointError("JSON strings cannot hold NUL characters");
      if (!v.isWellFormed()) {
        throw new DataJointError("JSON strings cannot hold unpaired UTF-16 surrogates");
      }
      return escapeNonAscii(JSON.stringify(v));
    }
    if (typeof v !== "object") throw new DataJointError(`JSON cannot hold a ${typeof v}`);
    if (seen.has(v)) throw new DataJointError("JSON cannot hold a cyclic value");
    seen.add(v);
    let out: string;
    const toJSON = (v as { toJSON?: () => unknown }).toJSON;
    if (typeof toJSON === "function") {
      out = write(toJSON.call(v));
    } else if (Array.isArray(v)) {
      out = `[${v.map(write).join(", ")}]`;
    } else {
      const parts: string[] = [];
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined || typeof x === "function") continue;
        parts.push(`${write(k)}: ${write(x)}`);
      }
      out = `{${parts.join(", ")}}`;
    }
    seen.delete(v);
    return out;
  };
  return write(value);
}

/**
 * The driver parameter for one attribute value (after any codec chain). `null`/`undefined` →
 * SQL NULL. Throws a `DataJointError` that names the attribute for a value of the wrong type.
 *
 * @example
 * ```ts
 * import { toSqlValue } from "./values.ts";
 * import { parseType } from "./types.ts";
 * import { mysqlDialect } from "./adapters/mysql_dialect.ts";
 * const p = toSqlValue({ name: "ok", storage: parseType("bool") as never }, true, mysqlDialect);
 * console.log(p); // 1
 * ```
 */
export function toSqlValue(target: ValueTarget, value: unknown, dialect: Dialect): unknown {
  if (value === null || value === undefined) return null;
  const s = target.storage;
  if (s.kind === "native") {
    if (value instanceof Uint8Array || typeof value !== "object") return value;
    throw wrongType(target, "a number, string, boolean or Uint8Array", value);
  }
  switch (s.name) {
    case "int8":
    case "int16":
    case "int32": {
      const n = typeof value === "bigint" ? Number(value) : value;
      const [lo, hi] = INT_RANGE[s.name];
      if (typeof n !== "number" || !Number.isInteger(n) || n < lo || n > hi) {
        throw wrongType(target, `an integer in ${lo}..${hi}`, value);
      }
      return n;
    }
    case "int64": {
      if (typeof value === "bigint") {
        if (value < -(2n ** 63n) || value >= 2n ** 63n) {
          throw wrongType(target, "an integer in the int64 range", value);
        }
        return value;
      }
      if (typeof value === "number" && Number.isSafeInteger(value)) return value;
      // A number past 2^53 may already have lost digits: only a bigint carries them exactly.
      throw wrongType(
        target,
        "an integer: a number up to 2^53 - 1 in magnitude, or a bigint (123n) beyond",
        value,
      );
    }
    case "float32":
    case "float64":
      if (typeof value !== "number") throw wrongType(target, "a number", value);
      if (!Number.isFinite(value)) {
        // MySQL has no NaN/Infinity; refusing on every backend keeps rows portable.
        throw wrongType(target, "a finite number", value);
      }
      return value;
    case "bool":
      if (typeof value === "boolean") return dialect.boolParam(value);
      if (value === 0 || value === 1) return dialect.boolParam(value === 1);
      throw wrongType(target, "a boolean", value);
    case "decimal": {
      const text = typeof value === "number"
        ? (Number.isFinite(value) ? String(value) : "")
        : typeof value === "string" ||
            (typeof value === "object" &&
              (value as { [k: symbol]: unknown })[BLOB_KIND] ===
                "decimal")
        ? String(value).trim()
        : "";
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
        throw wrongType(target, 'a decimal number ("23.45" or a number)', value);
      }
      // Digits after the point are rounded by the server; too many before it are an error there,
      // in the server's words (no attribute named): checked here.
      if (s.precision !== undefined && s.scale !== undefined) {
        const room = s.precision - s.scale;
        if (integerDigits(text) > room) {
          throw wrongType(
            target,
            `a number below 10^${room} in magnitude (${room} digit${
              room === 1 ? "" : "s"
            } before the point)`,
            value,
          );
        }
      }
      return text;
    }
    case "char":
    case "varchar":
      if (typeof value !== "string") throw wrongType(target, "a string", value);
      if (value.includes("\0")) {
        // PostgreSQL text cannot hold NUL; refusing it on every backend keeps rows portable.
        throw wrongType(target, "a string without NUL characters", value);
      }
      if (!value.isWellFormed()) {
        // Both backends would store U+FFFD in its place: refused rather than silently changed.
        throw wrongType(target, "a string without unpaired UTF-16 surrogates", value);
      }
      if (s.length !== undefined && value.length > s.length && tooLong(value, s.length)) {
        throw wrongType(target, `at most ${s.length} characters`, value);
      }
      return value;
    case "enum":
      if (typeof value !== "string" || !(s.labels ?? []).includes(value)) {
        throw wrongType(
          target,
          `one of ${(s.labels ?? []).map((l) => `'${l}'`).join(", ")}`,
          value,
        );
      }
      return value;
    case "date":
      return dateText(target, value);
    case "datetime":
      return dateTimeText(target, value);
    case "uuid":
      return dialect.uuidParam(uuidText(target, value));
    case "json":
      try {
        return pythonJson(value);
      } catch (e) {
        throw new DataJointError(`Attribute ${target.name} (json): ${(e as Error).message}`, {
          cause: e,
        });
      }
    case "bytes":
      if (value instanceof Uint8Array) return value;
      if (value instanceof ArrayBuffer) return new Uint8Array(value);
      throw wrongType(target, "a Uint8Array", value);
  }
}

/**
 * The value a fetch returns for one attribute (before any codec chain is decoded), from what the
 * driver returned (see the driver's normalisation table).
 *
 * @example
 * ```ts
 * import { fromSqlValue } from "./values.ts";
 * import { parseType } from "./types.ts";
 * import { mysqlDialect } from "./adapters/mysql_dialect.ts";
 * const v = fromSqlValue({ name: "ok", storage: parseType("bool") as never }, 1, mysqlDialect);
 * console.log(v); // true
 * ```
 */
export function fromSqlValue(target: ValueTarget, raw: unknown, dialect: Dialect): unknown {
  if (raw === null || raw === undefined) return null;
  const read = sqlValueReader(target, dialect);
  return read === undefined ? raw : read(raw);
}

/**
 * The conversion {@link fromSqlValue} applies to an attribute's non-null driver values, or
 * `undefined` when the driver's value is already the fetched value (every type but `bool`,
 * `int64`, `uuid` and `bytes`): a fetch of many rows decides once per attribute, not per value.
 *
 * @example
 * ```ts
 * import { sqlValueReader } from "./values.ts";
 * import { parseType } from "./types.ts";
 * import { mysqlDialect } from "./adapters/mysql_dialect.ts";
 * const read = sqlValueReader({ name: "n", storage: parseType("int64") as never }, mysqlDialect);
 * console.log(read?.("12")); // 12n
 * ```
 */
export function sqlValueReader(
  target: ValueTarget,
  dialect: Dialect,
): ((raw: unknown) => unknown) | undefined {
  const s = target.storage;
  if (s.kind === "native") return undefined;
  switch (s.name) {
    case "bool":
      return (raw) => (typeof raw === "boolean" ? raw : Number(raw) !== 0);
    case "int64":
      return (raw) => (typeof raw === "bigint" ? raw : BigInt(raw as number | string));
    case "uuid":
      return (raw) => dialect.uuidValue(raw);
    case "bytes":
      return (raw) => (raw instanceof Uint8Array ? raw : new Uint8Array(raw as ArrayBuffer));
    default:
      // The drivers parse JSON; text arrives only from a server that does not flag the column.
      return undefined;
  }
}
