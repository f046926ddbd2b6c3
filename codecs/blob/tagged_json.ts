/**
 * Tagged JSON: a lossless JSON description of blob values, shared with the DataJoint golden
 * vectors (`datajoint-blob-vectors/1`), the `dj blob` command and `dj fetch --format json`.
 *
 * JSON `null`, booleans and strings stand for themselves; every other value is a single-key object
 * whose key is the tag:
 *
 * | TypeScript value | tagged JSON |
 * |---|---|
 * | `bigint` (Python `int`) | `{"int": "-123"}` |
 * | `number` (Python `float`) | `{"float": 1.5}`, or `"nan"`, `"inf"`, `"-inf"`, `"-0"` |
 * | {@link Complex} | `{"complex": [1.5, "-0"]}` |
 * | `Uint8Array` (Python `bytes`) | `{"bytes": "00ff"}` |
 * | `Array` / `Tuple` / `Set` | `{"list": [...]}` / `{"tuple": [...]}` / `{"set": [...]}` |
 * | `Map` or plain object (Python `dict`) | `{"dict": [[key, value], ...]}` |
 * | {@link Decimal} / {@link UUID} | `{"decimal": "1E+2"}` / `{"uuid": "…"}` |
 * | `Temporal.PlainDateTime` / `PlainDate` / `PlainTime` | `{"datetime": "2024-03-05T06:07:08.000009"}` / `{"date": …}` / `{"time": …}` |
 * | {@link NDArray} | `{"array": {"dtype", "shape", "data"}}`, or `{"scalar": {"dtype", "value"}}` when 0-d numeric |
 * | {@link RecArray} / {@link MatStruct} / {@link MatCell} | `{"recarray": …}` / `{"struct": …}` / `{"cell": …}` |
 *
 * Array `data` lists the elements in C (row-major) order. Integer elements of `int64`, `uint64`
 * and `datetime64[…]` arrays are written as decimal strings so that no JSON reader rounds them.
 *
 * {@link toTagged} writes what DataJoint Python's decoder would have returned: MATLAB char arrays
 * appear as NumPy `str` arrays (a row joined into one string), and empty cells with shape `[0]`.
 *
 * **Big integers on input.** {@link fromTagged} accepts integer array elements as decimal strings
 * or JSON numbers. A JSON number is accepted only while it is a safe integer (|n| < 2^53): beyond
 * that `JSON.parse` may already have rounded it, so such elements must be given as strings, and a
 * larger JSON number is rejected rather than silently changed. `{"int": …}` always takes a string.
 *
 * @example
 * ```ts
 * import { parseTagged, stringifyTagged } from "./tagged_json.ts";
 * const v = parseTagged('{"dict": [["n", {"int": "3"}], ["x", {"float": "-0"}]]}');
 * stringifyTagged(v); // '{"dict":[["n",{"int":"3"}],["x",{"float":"-0"}]]}'
 * ```
 *
 * @module
 */

import { DataJointError } from "../../lib/errors.ts";
import { MatCell, MatStruct, RecArray, tuple } from "./containers.ts";
import {
  type DataFor,
  type DType,
  dtypeInfo,
  isComplexDType,
  isDatetimeDType,
  isDType,
  type NumericTypedArray,
} from "./dtype.ts";
import { NDArray, shapeSize } from "./ndarray.ts";
import { Complex, Decimal, UUID } from "./scalars.ts";
import { type BlobValue, hashKey, kindOf } from "./values.ts";

/** A float in tagged JSON: a finite number other than `-0`, or one of the special strings. */
export type TaggedFloat = number | "nan" | "inf" | "-inf" | "-0";

/**
 * One element of an array's `data` (or a scalar's `value`): a boolean, an integer (JSON number or
 * decimal string), a {@link TaggedFloat}, a `[re, im]` pair, a string, or, for object arrays, any
 * {@link TaggedValue}.
 */
export type TaggedElement =
  | TaggedValue
  | number
  | readonly [TaggedFloat, TaggedFloat];

/** The body of `{"array": …}`: NumPy dtype name, shape, and the elements in C order. */
export interface TaggedArray {
  /** `bool`, `int8` … `uint64`, `float32`, `float64`, `complex64`, `complex128`, `datetime64[U]`, `str`, `object` (`char` on input only). */
  dtype: string;
  /** Dimensions in NumPy order; `[]` for 0-d. */
  shape: number[];
  /** `prod(shape)` elements in C order. */
  data: TaggedElement[];
}

/** The body of `{"scalar": …}`: a NumPy scalar (0-d array) of a numeric, bool or datetime dtype. */
export interface TaggedScalar {
  /** The dtype; never `str`, `object` or `char`. */
  dtype: string;
  /** The single element. */
  value: TaggedElement;
}

/** A recarray column: an array of the record shape, a scalar (0-d recarrays only), or a nested recarray. */
export type TaggedColumn =
  | { array: TaggedArray }
  | { scalar: TaggedScalar }
  | { recarray: TaggedRecArray };

/** The body of `{"recarray": …}`: record shape and `[name, column]` pairs in declaration order. */
export interface TaggedRecArray {
  /** The record shape, shared by every column. */
  shape: number[];
  /** Fields in declaration order. */
  fields: [string, TaggedColumn][];
}

/** The body of `{"struct": …}`: a MATLAB struct array. */
export interface TaggedStruct {
  /** MATLAB size. */
  shape: number[];
  /** Field names in order. */
  fields: string[];
  /** One record per element in C order, each with one value per field. */
  data: TaggedValue[][];
}

/** The body of `{"cell": …}`: a MATLAB cell array. */
export interface TaggedCell {
  /** MATLAB size (`[0]` for an empty cell, as Python reports it). */
  shape: number[];
  /** The elements in C order. */
  data: TaggedValue[];
}

/** A blob value in tagged JSON: `null`, a boolean, a string, or a single-key tagged object. */
export type TaggedValue =
  | null
  | boolean
  | string
  | { int: string }
  | { float: TaggedFloat }
  | { complex: [TaggedFloat, TaggedFloat] }
  | { bytes: string }
  | { list: TaggedValue[] }
  | { tuple: TaggedValue[] }
  | { set: TaggedValue[] }
  | { dict: [TaggedValue, TaggedValue][] }
  | { decimal: string }
  | { uuid: string }
  | { datetime: string }
  | { date: string }
  | { time: string }
  | { array: TaggedArray }
  | { scalar: TaggedScalar }
  | { recarray: TaggedRecArray }
  | { struct: TaggedStruct }
  | { cell: TaggedCell };

const MAX_DEPTH = 1000;

// ---------------------------------------------------------------------------------------------
// TypeScript value → tagged JSON
// ---------------------------------------------------------------------------------------------

/**
 * Describe a blob value (as {@link unpack} returns it, or anything {@link pack} accepts) in tagged
 * JSON. The result is a plain JSON-serialisable value. Throws a {@link DataJointError} for values
 * no blob can hold, and for reference cycles.
 *
 * @example
 * ```ts
 * import { toTagged } from "./tagged_json.ts";
 * import { NDArray } from "./ndarray.ts";
 * toTagged(3n);       // { int: "3" }
 * toTagged(-0);       // { float: "-0" }
 * toTagged(NDArray.char("hi")); // { array: { dtype: "str", shape: [1], data: ["hi"] } }
 * toTagged(NDArray.from(new BigInt64Array([1n]))); // { array: { dtype: "int64", shape: [1], data: ["1"] } }
 * ```
 */
export function toTagged(value: unknown): TaggedValue {
  return new TaggedWriter().value(value, "$", 0);
}

/**
 * {@link toTagged} followed by `JSON.stringify`. `indent` pretty-prints (default: compact).
 *
 * @example
 * ```ts
 * import { stringifyTagged } from "./tagged_json.ts";
 * stringifyTagged(new Map([["a", [1n, NaN]]])); // '{"dict":[["a",{"list":[{"int":"1"},{"float":"nan"}]}]]}'
 * ```
 */
export function stringifyTagged(value: unknown, options: { indent?: number } = {}): string {
  return JSON.stringify(toTagged(value), null, options.indent);
}

/**
 * A float in "float encoding F": a JSON number, except `-0`, NaN and the infinities, which are
 * strings (many JSON libraries drop the sign of a numeric `-0`).
 *
 * @example
 * ```ts
 * import { taggedFloat } from "./tagged_json.ts";
 * taggedFloat(0.1); // 0.1
 * taggedFloat(-0);  // "-0"
 * taggedFloat(NaN); // "nan"
 * ```
 */
export function taggedFloat(x: number): TaggedFloat {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (Object.is(x, -0)) return "-0";
  return x;
}

class TaggedWriter {
  readonly #active = new Set<object>();

  value(v: unknown, path: string, depth: number): TaggedValue {
    switch (typeof v) {
      case "undefined":
        return null;
      case "boolean":
      case "string":
        return v;
      case "bigint":
        return { int: v.toString() };
      case "number":
        return { float: taggedFloat(v) };
    }
    if (v === null) return null;
    const kind = kindOf(v);
    switch (kind) {
      case "bytes":
        return { bytes: toHex(asBytes(v as Uint8Array | ArrayBuffer | DataView)) };
      case "complex": {
        const c = v as Complex;
        return { complex: [taggedFloat(c.re), taggedFloat(c.im)] };
      }
      case "decimal":
        return { decimal: String(v) };
      case "uuid":
        return { uuid: String(v) };
      // ISO fields without a calendar annotation, whatever the calendar (Python's are ISO).
      case "date":
        return { date: (v as Temporal.PlainDate).toString({ calendarName: "never" }) };
      case "time":
        return { time: (v as Temporal.PlainTime).toString({ fractionalSecondDigits: 6 }) };
      case "datetime":
        return {
          datetime: (v as Temporal.PlainDateTime).toString({
            fractionalSecondDigits: 6,
            calendarName: "never",
          }),
        };
      case "jsdate":
        return { datetime: jsDateToTagged(v as Date, path) };
      case "typedarray":
        return {
          array: this.arrayBody(typedArrayToNDArray(v as ArrayBufferView, path), path, depth),
        };
      case undefined:
        throw new DataJointError(
          `Cannot describe ${describeJs(v)} at ${
            shortPath(path)
          } as tagged JSON: no blob item holds it`,
        );
    }
    const obj = v as object;
    if (depth >= MAX_DEPTH) {
      throw new DataJointError(`Value nests deeper than ${MAX_DEPTH} levels at ${shortPath(path)}`);
    }
    if (this.#active.has(obj)) {
      throw new DataJointError(`Value contains itself (a reference cycle) at ${shortPath(path)}`);
    }
    this.#active.add(obj);
    try {
      return this.container(obj, kind, path, depth + 1);
    } finally {
      this.#active.delete(obj);
    }
  }

  container(v: object, kind: string, path: string, depth: number): TaggedValue {
    switch (kind) {
      case "list":
        return { list: this.items(v as unknown[], `${path}.list`, depth) };
      case "tuple":
        return { tuple: this.items(v as unknown[], `${path}.tuple`, depth) };
      case "set":
        return { set: this.items([...(v as Set<unknown>)], `${path}.set`, depth) };
      case "dict": {
        const entries: [unknown, unknown][] = v instanceof Map
          ? [...v]
          : Object.keys(v).map((k) => [k, (v as Record<string, unknown>)[k]]);
        return {
          dict: entries.map(([k, x], i) => [
            this.value(k, `${path}.dict[${i}][0]`, depth),
            this.value(x, `${path}.dict[${i}][1]`, depth),
          ]),
        };
      }
      case "ndarray": {
        const a = v as NDArray;
        if (a.shape.length === 0 && isScalarDType(a.dtype)) {
          return { scalar: { dtype: a.dtype, value: this.element(a, 0, path, depth) } };
        }
        return { array: this.arrayBody(a, path, depth) };
      }
      case "struct": {
        const s = v as MatStruct;
        return {
          struct: {
            shape: [...s.shape],
            fields: [...s.fields],
            data: s.records.map((r, i) =>
              r.map((x, f) => this.value(x, `${path}.struct.data[${i}][${f}]`, depth))
            ),
          },
        };
      }
      case "cell": {
        const c = v as MatCell;
        return {
          cell: {
            // Python turns every empty cell into a 1-d array of length 0.
            shape: c.data.length === 0 ? [0] : [...c.shape],
            data: this.items(c.data, `${path}.cell.data`, depth),
          },
        };
      }
      case "recarray":
        return { recarray: this.recarrayBody(v as RecArray, path, depth) };
    }
    throw new DataJointError(`Cannot describe a ${kind} at ${shortPath(path)} as tagged JSON`);
  }

  items(items: readonly unknown[], path: string, depth: number): TaggedValue[] {
    const out: TaggedValue[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) out[i] = this.value(items[i], `${path}[${i}]`, depth);
    return out;
  }

  recarrayBody(r: RecArray, path: string, depth: number): TaggedRecArray {
    if (depth >= MAX_DEPTH) {
      throw new DataJointError(`Value nests deeper than ${MAX_DEPTH} levels at ${shortPath(path)}`);
    }
    return {
      shape: [...r.shape],
      fields: r.fields.map(([name, column]): [string, TaggedColumn] => {
        const at = `${path}.recarray.fields[${JSON.stringify(name)}]`;
        if (kindOf(column) === "recarray") {
          return [name, { recarray: this.recarrayBody(column as RecArray, at, depth + 1) }];
        }
        // A column is an ndarray, not a NumPy scalar, so even a 0-d column stays an `array`.
        return [name, { array: this.arrayBody(column as NDArray, at, depth + 1) }];
      }),
    };
  }

  arrayBody(a: NDArray, path: string, depth: number): TaggedArray {
    if (a.dtype === "char") return charArrayBody(a);
    const n = a.size;
    const data: TaggedElement[] = new Array(n);
    for (let i = 0; i < n; i++) data[i] = this.element(a, i, path, depth);
    return { dtype: a.dtype, shape: [...a.shape], data };
  }

  element(a: NDArray, i: number, path: string, depth: number): TaggedElement {
    const x = (a.data as ArrayLike<unknown>)[i];
    switch (a.dtype) {
      case "object":
        return this.value(x, `${path}.array.data[${i}]`, depth + 1);
      case "bool":
        return x !== 0;
      case "float32":
      case "float64":
        return taggedFloat(x as number);
      case "complex64":
      case "complex128":
        return [taggedFloat(x as number), taggedFloat((a.imag as ArrayLike<number>)[i])];
    }
    return typeof x === "bigint" ? x.toString() : x as number;
  }
}

function isScalarDType(dtype: DType): boolean {
  return dtype !== "object" && dtype !== "char";
}

/**
 * Python's view of MATLAB char data: a row (or 1-d) array is one joined string with shape `[1]`;
 * any other shape keeps the declared shape with one character per element.
 */
function charArrayBody(a: NDArray): TaggedArray {
  const units = a.data as Uint16Array;
  const shape = a.shape;
  if (shape.length === 1 || (shape.length === 2 && shape[0] === 1)) {
    return { dtype: "str", shape: [1], data: [a.text()] };
  }
  const data: string[] = new Array(units.length);
  for (let i = 0; i < units.length; i++) data[i] = String.fromCharCode(units[i]);
  return { dtype: "str", shape: [...shape], data };
}

function jsDateToTagged(d: Date, path: string): string {
  const ms = d.getTime();
  if (Number.isNaN(ms)) {
    throw new DataJointError(`Invalid Date at ${shortPath(path)}: it has no datetime value`);
  }
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO("UTC").toPlainDateTime()
    .toString({ fractionalSecondDigits: 6 });
}

function typedArrayToNDArray(v: ArrayBufferView, path: string): NDArray {
  const data = v instanceof Uint8ClampedArray
    ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
    : v;
  try {
    return NDArray.from(data as NumericTypedArray);
  } catch (e) {
    throw new DataJointError(`Cannot describe ${describeJs(v)} at ${shortPath(path)} as an array`, {
      cause: e,
    });
  }
}

function asBytes(v: Uint8Array | ArrayBuffer | DataView): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

function describeJs(v: unknown): string {
  if (typeof v !== "object" || v === null) return `a ${typeof v}`;
  return `a ${(v as object).constructor?.name ?? "null-prototype object"}`;
}

// ---------------------------------------------------------------------------------------------
// tagged JSON → TypeScript value
// ---------------------------------------------------------------------------------------------

/**
 * Parse tagged JSON text into a value ready for {@link pack}: `JSON.parse` followed by
 * {@link fromTagged}. Syntax errors become a {@link DataJointError} too.
 *
 * @example
 * ```ts
 * import { parseTagged } from "./tagged_json.ts";
 * parseTagged('{"tuple": [{"int": "1"}, "a"]}'); // Tuple [1n, "a"]
 * parseTagged('{"int": '); // throws DataJointError "invalid tagged JSON: …"
 * ```
 */
export function parseTagged(text: string): BlobValue {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataJointError(`invalid tagged JSON: ${(e as Error).message}`, { cause: e });
  }
  return fromTagged(json);
}

/**
 * Turn parsed tagged JSON into the value it describes, ready for {@link pack}. Validation is
 * strict: any malformed input throws a {@link DataJointError} whose message starts with
 * `invalid tagged JSON: ` and names the position (`$` is the root), e.g. an unknown tag or dtype,
 * a bare number or array, an unparsable `int`/`bytes`/`uuid`/`date`/`time`/`datetime`/`decimal`
 * string, `data` whose length is not `prod(shape)`, a struct record of the wrong length, an
 * element out of range for its dtype, a `scalar` of dtype `str`/`object`, a struct or recarray
 * without fields, or an unhashable dict key or set element.
 *
 * `dict` becomes a `Map` (it keeps any key order and key kind), `set` a `Set`, `tuple` a
 * `Tuple`; `str` arrays become object {@link NDArray}s of strings (how Python writes them)
 * and `char` arrays MATLAB char arrays. As in Python, a repeated dict key keeps its first position
 * and its last value, and equal set elements collapse (`1`, `1.0` and `true` are equal).
 *
 * @example
 * ```ts
 * import { fromTagged } from "./tagged_json.ts";
 * const m = fromTagged({ dict: [[{ int: "1" }, { float: "nan" }]] }) as Map<unknown, unknown>;
 * m.get(1n); // NaN
 * fromTagged({ array: { dtype: "uint8", shape: [2], data: [1, 256] } }); // throws: out of range
 * ```
 */
export function fromTagged(json: unknown): BlobValue {
  return readValue(json, "$", 0);
}

function fail(path: string, message: string): never {
  throw new DataJointError(`invalid tagged JSON: ${shortPath(path)}: ${message}`);
}

/** A path deep in a document is cut in its middle, so that a message stays a readable line. */
function shortPath(path: string): string {
  return path.length <= 160 ? path : `${path.slice(0, 40)}…${path.slice(-110)}`;
}

function show(v: unknown): string {
  let s: string;
  try {
    s = typeof v === "bigint" ? `${v}n` : JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The fields of a tag's body object, requiring exactly the named keys. */
function body(
  v: unknown,
  path: string,
  tag: string,
  keys: readonly string[],
): Record<string, unknown> {
  if (!isObject(v)) {
    fail(path, `${tag} needs an object with keys ${keys.join(", ")}, got ${show(v)}`);
  }
  for (const k of keys) if (!Object.hasOwn(v, k)) fail(path, `${tag} is missing "${k}"`);
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) {
      fail(path, `${tag} has an unknown key "${k}" (allowed: ${keys.join(", ")})`);
    }
  }
  return v;
}

function list(v: unknown, path: string, what: string): unknown[] {
  if (!Array.isArray(v)) fail(path, `${what} must be a JSON array, got ${show(v)}`);
  return v;
}

function readValue(json: unknown, path: string, depth: number): BlobValue {
  switch (typeof json) {
    case "string":
    case "boolean":
      return json;
    case "number":
      fail(
        path,
        `bare JSON numbers are not allowed; use {"int": ...} or {"float": ...}, got ${show(json)}`,
      );
  }
  if (json === null) return null;
  if (Array.isArray(json)) {
    fail(path, `bare JSON arrays are not allowed; use {"list": [...]} or {"tuple": [...]}`);
  }
  if (!isObject(json)) fail(path, `not a JSON value: ${describeJs(json)}`);
  const keys = Object.keys(json);
  if (keys.length !== 1) {
    fail(
      path,
      `a tagged value is an object with exactly one key (the tag), got keys [${keys.join(", ")}]`,
    );
  }
  if (depth >= MAX_DEPTH) fail(path, `nesting deeper than ${MAX_DEPTH} levels`);
  const tag = keys[0];
  const v = json[tag];
  const at = `${path}.${tag}`;
  switch (tag) {
    case "int":
      if (typeof v !== "string") fail(at, `int needs a decimal string, got ${show(v)}`);
      return parseBigInt(v, at, `invalid integer string ${show(v)}`);
    case "float":
      return readFloat(v, at);
    case "complex": {
      const parts = list(v, at, "complex");
      if (parts.length !== 2) fail(at, `complex needs [re, im], got ${show(v)}`);
      return new Complex(readFloat(parts[0], `${at}[0]`), readFloat(parts[1], `${at}[1]`));
    }
    case "bytes":
      return parseHex(v, at);
    case "list":
      return readItems(list(v, at, "list"), at, depth);
    case "tuple":
      return tuple(...readItems(list(v, at, "tuple"), at, depth));
    case "set":
      return readSet(list(v, at, "set"), at, depth);
    case "dict":
      return readDict(list(v, at, "dict"), at, depth);
    case "decimal":
      if (typeof v !== "string") fail(at, `decimal needs a string, got ${show(v)}`);
      return wrap(at, `invalid decimal string ${show(v)}`, () => new Decimal(v));
    case "uuid":
      if (typeof v !== "string") fail(at, `uuid needs a string, got ${show(v)}`);
      return wrap(at, `invalid UUID string ${show(v)}`, () => new UUID(v));
    case "date":
      return parseDate(v, at);
    case "time":
      return parseTime(v, at);
    case "datetime":
      return parseDateTime(v, at);
    case "array":
      return readArray(v, at, depth);
    case "scalar":
      return readScalar(v, at);
    case "recarray":
      return readRecArray(v, at, depth);
    case "struct":
      return readStruct(v, at, depth);
    case "cell":
      return readCell(v, at, depth);
  }
  fail(path, `unknown tag ${show(tag)}`);
}

function readItems(items: unknown[], path: string, depth: number): BlobValue[] {
  const out: BlobValue[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) out[i] = readValue(items[i], `${path}[${i}]`, depth + 1);
  return out;
}

function readSet(items: unknown[], path: string, depth: number): Set<BlobValue> {
  const seen = new Set<string>();
  const out = new Set<BlobValue>();
  items.forEach((item, i) => {
    const at = `${path}[${i}]`;
    const v = readValue(item, at, depth + 1);
    const key = hashKey(v);
    if (key === undefined) {
      fail(at, `unhashable set element (${kindOf(v)}); Python sets hold hashable values only`);
    }
    if (!seen.has(key)) {
      seen.add(key);
      out.add(v);
    }
  });
  return out;
}

function readDict(pairs: unknown[], path: string, depth: number): Map<BlobValue, BlobValue> {
  // Python semantics for a repeated key: the first key object keeps its place, the last value wins.
  const keyByHash = new Map<string, BlobValue>();
  const out = new Map<BlobValue, BlobValue>();
  pairs.forEach((pair, i) => {
    const at = `${path}[${i}]`;
    const kv = list(pair, at, "a dict entry");
    if (kv.length !== 2) fail(at, `a dict entry is a [key, value] pair, got ${kv.length} items`);
    const k = readValue(kv[0], `${at}[0]`, depth + 1);
    const v = readValue(kv[1], `${at}[1]`, depth + 1);
    const hash = hashKey(k);
    if (hash === undefined) {
      fail(`${at}[0]`, `unhashable dict key (${kindOf(k)}); Python dict keys must be hashable`);
    }
    const existing = keyByHash.get(hash);
    if (existing === undefined && !keyByHash.has(hash)) {
      keyByHash.set(hash, k);
      out.set(k, v);
    } else {
      out.set(existing as BlobValue, v);
    }
  });
  return out;
}

function wrap<T>(path: string, message: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof DataJointError || e instanceof RangeError || e instanceof TypeError) {
      fail(path, message);
    }
    throw e;
  }
}

const INT_RE = /^[+-]?[0-9]+$/;

function parseBigInt(s: string, path: string, message: string): bigint {
  if (!INT_RE.test(s)) fail(path, message);
  return BigInt(s);
}

function readFloat(v: unknown, path: string): number {
  if (typeof v === "number") return v;
  switch (v) {
    case "nan":
      return NaN;
    case "inf":
      return Infinity;
    case "-inf":
      return -Infinity;
    case "-0":
      return -0;
  }
  fail(path, `a float is a JSON number or one of "nan", "inf", "-inf", "-0", got ${show(v)}`);
}

function parseHex(v: unknown, path: string): Uint8Array {
  if (typeof v !== "string" || v.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(v)) {
    fail(path, `bytes needs an even-length hex string, got ${show(v)}`);
  }
  const out = new Uint8Array(v.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(v.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/;

function dateFields(m: RegExpExecArray | null, v: unknown, path: string, what: string) {
  if (!m) fail(path, `invalid ${what} string ${show(v)}`);
  const year = Number(m[1]);
  // Python's date range; Temporal itself would also take year 0.
  if (year < 1) fail(path, `invalid ${what} string ${show(v)}: years run from 0001 to 9999`);
  return { year, month: Number(m[2]), day: Number(m[3]) };
}

function timeFields(m: RegExpExecArray | null, v: unknown, path: string, what: string) {
  if (!m) fail(path, `invalid ${what} string ${show(v)}`);
  const micro = Number((m[4] ?? "").padEnd(6, "0"));
  return {
    hour: Number(m[1]),
    minute: Number(m[2]),
    second: Number(m[3] ?? "0"),
    millisecond: Math.floor(micro / 1000),
    microsecond: micro % 1000,
  };
}

function parseDate(v: unknown, path: string): Temporal.PlainDate {
  if (typeof v !== "string") fail(path, `date needs a "YYYY-MM-DD" string, got ${show(v)}`);
  const fields = dateFields(DATE_RE.exec(v), v, path, "date");
  return wrap(
    path,
    `invalid date ${show(v)}`,
    () => Temporal.PlainDate.from(fields, { overflow: "reject" }),
  );
}

function parseTime(v: unknown, path: string): Temporal.PlainTime {
  if (typeof v !== "string") fail(path, `time needs an "HH:MM:SS.ffffff" string, got ${show(v)}`);
  const fields = timeFields(TIME_RE.exec(v), v, path, "time");
  return wrap(
    path,
    `invalid time ${show(v)}`,
    () => Temporal.PlainTime.from(fields, { overflow: "reject" }),
  );
}

function parseDateTime(v: unknown, path: string): Temporal.PlainDateTime {
  if (typeof v !== "string") {
    fail(path, `datetime needs a "YYYY-MM-DDTHH:MM:SS.ffffff" string, got ${show(v)}`);
  }
  const sep = v.length > 10 ? v[10] : "";
  if (sep !== "T" && sep !== " ") fail(path, `invalid datetime string ${show(v)}`);
  const date = dateFields(DATE_RE.exec(v.slice(0, 10)), v, path, "datetime");
  const time = timeFields(TIME_RE.exec(v.slice(11)), v, path, "datetime");
  return wrap(
    path,
    `invalid datetime ${show(v)}`,
    () => Temporal.PlainDateTime.from({ ...date, ...time }, { overflow: "reject" }),
  );
}

function readShape(v: unknown, path: string): number[] {
  const shape = list(v, path, "shape");
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      fail(path, `shape entries must be non-negative integers, got ${show(v)}`);
    }
  }
  try {
    shapeSize(shape as number[]);
  } catch {
    fail(path, `shape ${show(v)} has too many elements`);
  }
  return shape as number[];
}

const DTYPE_HINT = "use bool, int8 … uint64, float32, float64, complex64, complex128, " +
  "datetime64[unit], str, object or char";

/** The dtype names accepted on input: the {@link DType}s plus NumPy `str`. */
function readDType(v: unknown, path: string, tag: string): DType | "str" {
  if (v === "str" || isDType(v)) return v;
  fail(path, `${tag}: unknown dtype ${show(v)} (${DTYPE_HINT})`);
}

function readData(b: Record<string, unknown>, shape: number[], path: string): unknown[] {
  const data = list(b.data, `${path}.data`, "data");
  const n = shapeSize(shape);
  if (data.length !== n) {
    fail(path, `data must be a list of prod(shape)=${n} elements, got ${data.length}`);
  }
  return data;
}

function readArray(v: unknown, path: string, depth: number): NDArray {
  const b = body(v, path, "array", ["dtype", "shape", "data"]);
  const dtype = readDType(b.dtype, `${path}.dtype`, "array");
  const shape = readShape(b.shape, `${path}.shape`);
  const data = readData(b, shape, path);
  return buildArray(dtype, shape, data, `${path}.data`, depth);
}

function readScalar(v: unknown, path: string): NDArray {
  const b = body(v, path, "scalar", ["dtype", "value"]);
  const dtype = readDType(b.dtype, `${path}.dtype`, "scalar");
  if (dtype === "str" || dtype === "object" || dtype === "char") {
    fail(`${path}.dtype`, `scalar: dtype ${dtype} has no NumPy scalar; use a 0-d "array"`);
  }
  return buildArray(dtype, [], [b.value], `${path}.value`, 0);
}

function buildArray(
  dtype: DType | "str",
  shape: number[],
  data: unknown[],
  path: string,
  depth: number,
): NDArray {
  const n = data.length;
  if (dtype === "str") {
    // NumPy unicode arrays are written as object arrays of str items.
    for (let i = 0; i < n; i++) {
      if (typeof data[i] !== "string") {
        fail(`${path}[${i}]`, `a str element must be a string, got ${show(data[i])}`);
      }
    }
    return new NDArray("object", shape, [...data]);
  }
  if (dtype === "object") {
    return new NDArray("object", shape, readItems(data, path, depth));
  }
  if (dtype === "char") {
    const units = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const c = data[i];
      if (typeof c !== "string" || c.length !== 1 || c.charCodeAt(0) > 0xff) {
        fail(`${path}[${i}]`, `a char element is one character U+0000..U+00FF, got ${show(c)}`);
      }
      units[i] = c.charCodeAt(0);
    }
    return new NDArray("char", shape, units);
  }
  const info = dtypeInfo(dtype);
  const ctor = info.ctor!;
  const real = new ctor(n);
  if (isComplexDType(dtype)) {
    const imag = new ctor(n) as Float64Array;
    const single = dtype === "complex64";
    for (let i = 0; i < n; i++) {
      const at = `${path}[${i}]`;
      const pair = data[i];
      if (!Array.isArray(pair) || pair.length !== 2) {
        fail(at, `a ${dtype} element is [re, im], got ${show(pair)}`);
      }
      (real as Float64Array)[i] = readFloatElement(pair[0], single, `${at}[0]`);
      imag[i] = readFloatElement(pair[1], single, `${at}[1]`);
    }
    return new NDArray(dtype, shape, real as DataFor<typeof dtype>, imag as DataFor<typeof dtype>);
  }
  if (dtype === "float32" || dtype === "float64") {
    const single = dtype === "float32";
    for (let i = 0; i < n; i++) {
      (real as Float64Array)[i] = readFloatElement(data[i], single, `${path}[${i}]`);
    }
  } else if (dtype === "bool") {
    for (let i = 0; i < n; i++) {
      const b = data[i];
      if (typeof b !== "boolean") {
        fail(`${path}[${i}]`, `a bool element is true or false, got ${show(b)}`);
      }
      (real as Uint8Array)[i] = b ? 1 : 0;
    }
  } else {
    const [min, max] = INT_RANGE[isDatetimeDType(dtype) ? "int64" : dtype];
    const big = real instanceof BigInt64Array || real instanceof BigUint64Array;
    for (let i = 0; i < n; i++) {
      const x = readIntElement(data[i], dtype, min, max, `${path}[${i}]`);
      (real as BigInt64Array)[i] = (big ? x : Number(x)) as bigint;
    }
  }
  return new NDArray(dtype, shape, real as DataFor<typeof dtype>);
}

const INT_RANGE: Record<string, readonly [bigint, bigint]> = {
  int8: [-(2n ** 7n), 2n ** 7n - 1n],
  uint8: [0n, 2n ** 8n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

function readIntElement(v: unknown, dtype: string, min: bigint, max: bigint, path: string): bigint {
  let x: bigint;
  if (typeof v === "number") {
    if (!Number.isInteger(v)) fail(path, `a ${dtype} element must be an integer, got ${show(v)}`);
    if (!Number.isSafeInteger(v)) {
      fail(
        path,
        `${
          show(v)
        } is beyond 2^53 as a JSON number and may have lost precision; give it as a decimal string`,
      );
    }
    x = BigInt(v);
  } else if (typeof v === "string") {
    x = parseBigInt(v, path, `a ${dtype} element must be an integer, got ${show(v)}`);
  } else {
    fail(
      path,
      `a ${dtype} element must be an integer (JSON number or decimal string), got ${show(v)}`,
    );
  }
  if (x < min || x > max) fail(path, `${x} is out of range for ${dtype} (${min}..${max})`);
  return x;
}

function readFloatElement(v: unknown, single: boolean, path: string): number {
  const x = readFloat(v, path);
  if (single) {
    const f = Math.fround(x);
    if (Number.isFinite(x) && !Number.isFinite(f)) {
      fail(path, `${show(v)} is out of range for float32`);
    }
    return f;
  }
  return x;
}

function readColumn(v: unknown, shape: number[], path: string, depth: number): NDArray | RecArray {
  // Nested recarrays recurse here, not through readValue, so they need their own bound.
  if (depth >= MAX_DEPTH) fail(path, `nesting deeper than ${MAX_DEPTH} levels`);
  if (!isObject(v) || Object.keys(v).length !== 1) {
    fail(
      path,
      `a recarray column is {"array": ...}, {"scalar": ...} or {"recarray": ...}, got ${show(v)}`,
    );
  }
  const tag = Object.keys(v)[0];
  let column: NDArray | RecArray;
  if (tag === "array") column = readArray(v.array, `${path}.array`, depth);
  else if (tag === "scalar") column = readScalar(v.scalar, `${path}.scalar`);
  else if (tag === "recarray") column = readRecArray(v.recarray, `${path}.recarray`, depth);
  else fail(path, `a recarray column is an array, scalar or recarray, not ${show(tag)}`);
  if (column.shape.length !== shape.length || column.shape.some((d, i) => d !== shape[i])) {
    fail(path, `column shape [${column.shape}] differs from the recarray shape [${shape}]`);
  }
  return column;
}

function readRecArray(v: unknown, path: string, depth: number): RecArray {
  const b = body(v, path, "recarray", ["shape", "fields"]);
  const shape = readShape(b.shape, `${path}.shape`);
  const fields = list(b.fields, `${path}.fields`, "recarray fields");
  if (fields.length === 0) {
    fail(path, `a recarray needs at least one field (Python cannot read one without)`);
  }
  const columns = fields.map((entry, i): [string, NDArray | RecArray] => {
    const at = `${path}.fields[${i}]`;
    const pair = list(entry, at, "a recarray field");
    if (pair.length !== 2 || typeof pair[0] !== "string") {
      fail(at, `a recarray field is [name, column]`);
    }
    return [pair[0], readColumn(pair[1], shape, `${at}[1]`, depth + 1)];
  });
  try {
    return new RecArray(columns);
  } catch (e) {
    fail(path, (e as Error).message);
  }
}

function readStruct(v: unknown, path: string, depth: number): MatStruct {
  const b = body(v, path, "struct", ["shape", "fields", "data"]);
  const shape = readShape(b.shape, `${path}.shape`);
  const fields = list(b.fields, `${path}.fields`, "struct fields");
  if (fields.length === 0) {
    fail(path, `a struct needs at least one field (Python cannot read one without)`);
  }
  fields.forEach((f, i) => {
    if (typeof f !== "string") {
      fail(`${path}.fields[${i}]`, `a field name must be a string, got ${show(f)}`);
    }
  });
  const data = readData(b, shape, path);
  const records = data.map((r, i) => {
    const at = `${path}.data[${i}]`;
    const rec = list(r, at, "a struct record");
    if (rec.length !== fields.length) {
      fail(at, `a struct record needs ${fields.length} values (one per field), got ${rec.length}`);
    }
    return readItems(rec, at, depth);
  });
  try {
    return new MatStruct(shape, fields as string[], records);
  } catch (e) {
    fail(path, (e as Error).message);
  }
}

function readCell(v: unknown, path: string, depth: number): MatCell {
  const b = body(v, path, "cell", ["shape", "data"]);
  const shape = readShape(b.shape, `${path}.shape`);
  return new MatCell(shape, readItems(readData(b, shape, path), `${path}.data`, depth));
}
