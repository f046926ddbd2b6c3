/**
 * Helpers the store-backed built-in codecs share: getting at the stores from a codec context,
 * splitting the reference's insert key into schema/table/field and primary-key values, reading
 * stored JSON metadata, and the reference's timestamp format.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { CodecError } from "../lib/errors.ts";
import { escapeNonAscii } from "../lib/values.ts";
import type { DecodeContext, EncodeContext, StoreAccess } from "./registry.ts";

/** The store access of a context, or an error that says the codec needs one. */
export function storesOf(ctx: EncodeContext | DecodeContext, codec: string): StoreAccess {
  if (ctx.stores === undefined) {
    throw new CodecError(
      `<${codec}> reads and writes an object store, but no store access was given: insert and fetch through a table, or pass { stores } in the codec context`,
    );
  }
  return ctx.stores;
}

/**
 * What a rejected value is, for error messages: `null`, the constructor name of an object
 * (`Uint8Array`, `Object`), else its `typeof` (`string`, `undefined`).
 */
export function describeValue(value: unknown): string {
  return value === null
    ? "null"
    : typeof value === "object"
    ? `${value.constructor?.name}`
    : typeof value;
}

/** Schema, table, field and primary-key entries of an insert key (reference `_extract_context`). */
export interface InsertContext {
  /** Schema (database) name. */
  schema: string;
  /** SQL table name with its tier prefix. */
  table: string;
  /** Attribute name. */
  field: string;
  /** Primary-key values present in the row, in primary-key order. */
  key: [string, unknown][];
}

/** Splits the reference's insert key (`_schema`, `_table`, `_field`, then key values). */
export function insertContext(ctx: EncodeContext): InsertContext {
  const k = ctx.key ?? {};
  const text = (v: unknown, fallback: string) => (typeof v === "string" && v !== "" ? v : fallback);
  return {
    schema: text(k._schema, "unknown"),
    table: text(k._table, "unknown"),
    field: text(k._field, "data"),
    key: Object.entries(k).filter(([name]) => !name.startsWith("_")),
  };
}

/**
 * Stored JSON metadata as an object with a string `path` (drivers hand JSON columns back parsed;
 * text is accepted too).
 */
export function metadataOf(stored: unknown, codec: string): Record<string, unknown> & {
  path: string;
} {
  let meta = stored;
  if (typeof meta === "string") {
    try {
      meta = JSON.parse(meta);
    } catch (e) {
      throw new CodecError(`<${codec}> metadata is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (
    typeof meta !== "object" || meta === null || Array.isArray(meta) ||
    typeof (meta as { path?: unknown }).path !== "string"
  ) {
    throw new CodecError(
      `<${codec}> metadata must be a JSON object with a "path", got ${
        JSON.stringify(meta)?.slice(0, 80)
      }`,
    );
  }
  return meta as Record<string, unknown> & { path: string };
}

/** The store named in metadata: a name, or `null` for the default store (`""` counts as null). */
export function metadataStore(meta: Record<string, unknown>): string | null {
  return typeof meta.store === "string" && meta.store !== "" ? meta.store : null;
}

/**
 * The current time as Python's `datetime.now(timezone.utc).isoformat()` prints it
 * (`2026-01-14T10:30:00.123000+00:00`; JavaScript clocks give milliseconds).
 */
export function isoTimestamp(now: Date = new Date()): string {
  const iso = now.toISOString(); // 2026-01-14T10:30:00.123Z
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 19)}${ms === "000" ? "" : `.${ms}000`}+00:00`;
}

/**
 * JSON with two-space indentation and non-ASCII escaped, as Python's `json.dumps(indent=2)`.
 */
export function pythonIndentedJson(value: unknown): string {
  return escapeNonAscii(JSON.stringify(value, null, 2));
}

/**
 * The local path a codec input names: a non-empty string, or a `file:` URL.
 */
export function localPathOf(value: unknown, codec: string): string {
  if (value instanceof URL) {
    if (value.protocol !== "file:") {
      throw new CodecError(`<${codec}> takes local paths, got the URL ${value.href}`);
    }
    return fileURLToPath(value);
  }
  if (typeof value !== "string" || value === "") {
    throw new CodecError(
      `<${codec}> takes the path of a local file (string or file URL), got ${describeValue(value)}`,
    );
  }
  return value;
}
