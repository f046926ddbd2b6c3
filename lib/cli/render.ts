/**
 * Fetched values as JSON for `dj fetch`: core types as plain JSON, blob-held values as the tagged
 * JSON of the golden blob vectors, store references as the metadata their column holds.
 *
 * | attribute type | JSON |
 * |---|---|
 * | `int8` … `int32`, `float32`, `float64` | number (`"nan"`, `"inf"`, `"-inf"` for non-finite floats) |
 * | `int64` | number with every digit (`1099511627777`), never rounded |
 * | `bool` | `true` / `false` |
 * | `decimal(p,s)` | string, exact (`"310.10"`) |
 * | `char`, `varchar`, `enum` | string |
 * | `date` | `"YYYY-MM-DD"` |
 * | `datetime(n)` | `"YYYY-MM-DD HH:MM:SS"` plus the stored fraction |
 * | `uuid` | `"12345678-1234-5678-1234-567812345678"` |
 * | `json` | the JSON value itself |
 * | `bytes`, `<hash@>` | `{"bytes": "<hex>"}` |
 * | `<blob>`, `<blob@>` | tagged JSON (`{"int": "3"}`, `{"array": {…}}`, …) |
 * | `<attach>`, `<attach@>` | path of the downloaded file |
 * | `<npy@>` | `{"path", "store", "dtype", "shape"}` |
 * | `<object@>`, `<filepath@>` | `{"path", "size", "hash", "ext", "is_dir", "timestamp", …}` |
 * | custom codecs | the value the codec stores, rendered by the rule of its storage type |
 *
 * @example
 * ```ts
 * import { jsonText, renderValue } from "./render.ts";
 * import type { Attribute } from "../heading.ts";
 * declare const attr: Attribute;
 * console.log(jsonText(await renderValue(attr, 7n, { schema: "lab", table: "subject" })));
 * ```
 *
 * @module
 */

import { toTagged } from "../../codecs/blob/tagged_json.ts";
import { getCodec } from "../../codecs/registry.ts";
import { DataJointError } from "../errors.ts";
import type { Attribute } from "../heading.ts";

/** What `JSON.rawJSON` returns: JSON text that `JSON.stringify` writes as it is. */
export interface RawJson {
  /** The JSON text. */
  readonly rawJSON: string;
}

/** A JSON value ready for `JSON.stringify` (big integers as {@link RawJson}). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | RawJson
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * The names of the codecs this library defines; any other codec is a custom or plugin codec.
 *
 * @example
 * ```ts
 * import { BUILTIN_CODECS } from "./render.ts";
 * BUILTIN_CODECS.has("blob"); // true
 * ```
 */
export const BUILTIN_CODECS: ReadonlySet<string> = new Set([
  "blob",
  "attach",
  "hash",
  "npy",
  "object",
  "filepath",
]);

/** Where a value comes from, for messages and for the encode context of custom codecs. */
export interface ValueOrigin {
  /** Schema name. */
  schema: string;
  /** SQL table name. */
  table: string;
}

/**
 * The JSON form of one fetched attribute value (see the module table).
 *
 * @example
 * ```ts
 * import { renderValue } from "./render.ts";
 * import type { Attribute } from "../heading.ts";
 * declare const blobAttr: Attribute;
 * await renderValue(blobAttr, [1n, 2.5], { schema: "lab", table: "t" });
 * // { list: [{ int: "1" }, { float: 2.5 }] }
 * ```
 */
export async function renderValue(
  attr: Attribute,
  value: unknown,
  origin: ValueOrigin,
): Promise<JsonValue> {
  if (value === null || value === undefined) return null;
  const chain = attr.kind === "codec" ? attr.resolved?.chain ?? [] : [];
  let v: unknown = value;
  let i = 0;
  // A custom codec's value is shown as what the codec stores, one layer down at a time, until a
  // built-in codec or the core type is reached: the form DataJoint Python reads too.
  for (; i < chain.length && !BUILTIN_CODECS.has(chain[i].name); i++) {
    const codec = getCodec(chain[i].name);
    // Schema-addressed codecs write objects while encoding: never re-encode those.
    if (codec === undefined || codec.addressing === "schema") break;
    try {
      v = await codec.encode(v, {
        key: { _schema: origin.schema, _table: origin.table, _field: attr.name },
      });
    } catch {
      // An encode that needs more than the value (a store, a row key) cannot be replayed here:
      // show the decoded value instead.
      break;
    }
    if (v === null || v === undefined) return null;
  }
  try {
    return i < chain.length && chain[i].name === "blob" ? toTagged(v) as JsonValue : plainJson(v);
  } catch (e) {
    throw new DataJointError(
      `cannot show ${origin.schema}.${origin.table}.${attr.name} (${attr.type}) as JSON: ${
        (e as Error).message
      }`,
      { cause: e },
    );
  }
}

/**
 * The plain JSON form of a value: numbers, strings, booleans and `null` as they are, `bigint` with
 * every digit, `Uint8Array` as `{"bytes": "<hex>"}`, non-finite numbers as `"nan"`/`"inf"`/
 * `"-inf"`, objects with `toJSON` through it, arrays and plain objects element by element, and any
 * other blob value (NDArray, Map, Set, …) in tagged JSON.
 *
 * @example
 * ```ts
 * import { jsonText, plainJson } from "./render.ts";
 * jsonText(plainJson({ n: 2n ** 64n, b: new Uint8Array([0, 255]) }));
 * // '{"n":18446744073709551616,"b":{"bytes":"00ff"}}'
 * ```
 */
export function plainJson(value: unknown): JsonValue {
  return plain(value, new Set());
}

function plain(value: unknown, seen: Set<unknown>): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "boolean":
    case "string":
      return value;
    case "number":
      if (Number.isFinite(value)) return value;
      return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
    case "bigint":
      // Every digit, unquoted: Python and jq read it exactly, where a double would round.
      return (JSON as unknown as { rawJSON(text: string): RawJson }).rawJSON(value.toString());
    case "object":
      break;
    default:
      throw new DataJointError(`a ${typeof value} has no JSON form`);
  }
  if (value instanceof Uint8Array) return { bytes: hex(value) };
  if (value instanceof ArrayBuffer) return { bytes: hex(new Uint8Array(value)) };
  if (value instanceof Date) return value.toISOString();
  if (seen.has(value)) throw new DataJointError("a cyclic value has no JSON form");
  seen.add(value);
  try {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return plain(toJSON.call(value), seen);
    if (Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype) {
      return value.map((x) => plain(x, seen));
    }
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      const out: Record<string, JsonValue> = {};
      for (const [k, x] of Object.entries(value)) {
        Object.defineProperty(out, k, {
          value: plain(x, seen),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return toTagged(value) as JsonValue;
  } finally {
    seen.delete(value);
  }
}

/**
 * Compact JSON text of a rendered value (big integers keep every digit).
 *
 * @example
 * ```ts
 * import { jsonText, plainJson } from "./render.ts";
 * jsonText(plainJson(12345678901234567890n)); // "12345678901234567890"
 * ```
 */
export function jsonText(value: JsonValue): string {
  return JSON.stringify(value);
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}
