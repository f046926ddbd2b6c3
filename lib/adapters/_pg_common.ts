/**
 * What the two PostgreSQL-dialect drivers (postgres.js and PGlite) share: the type OIDs whose text
 * form is kept as it is, the hex codec for `bytea`, and the SQLSTATE → error-class translation.
 * Imports no driver package, so loading PGlite never loads postgres.js and the other way round.
 *
 * @module
 */

import {
  AccessError,
  DuplicateError,
  IntegrityError,
  LostConnectionError,
  MissingTableError,
  QueryError,
  QuerySyntaxError,
  UnknownAttributeError,
} from "../errors.ts";
import { errorMessage, hintFor } from "./_sql_errors.ts";

/** PostgreSQL type OIDs used by the adapters. */
export const OID = {
  BOOL: 16,
  INT8: 20,
  JSON: 114,
  JSONB: 3802,
  BYTEA: 17,
  NUMERIC: 1700,
  DATE: 1082,
  TIME: 1083,
  TIMESTAMP: 1114,
  TIMESTAMPTZ: 1184,
  TIMETZ: 1266,
  INT8_ARRAY: 1016,
} as const;

/**
 * OIDs whose server text is already the normalised value: `date` `YYYY-MM-DD`, `timestamp`
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` (PostgreSQL prints fractions without trailing zeros), `time`
 * `HH:MM:SS[.ffffff]`, and `numeric` as exact text. `timestamptz`/`timetz` keep their offset
 * (`+00`): DataJoint only declares zone-less types, so these appear only in hand-written SQL.
 * This relies on `DateStyle` starting with `ISO`, which both drivers set for the session.
 */
export const TEXT_OIDS: readonly number[] = [
  OID.NUMERIC,
  OID.DATE,
  OID.TIME,
  OID.TIMESTAMP,
  OID.TIMESTAMPTZ,
  OID.TIMETZ,
];

/** Returns the text unchanged (a parser for {@link TEXT_OIDS}). */
export function keepText(text: string): string {
  return text;
}

type HexCodec = {
  fromHex?: (hex: string) => Uint8Array<ArrayBuffer>;
};

/** Decodes PostgreSQL's hex `bytea` output (`\x00ff`) into a fresh `Uint8Array`. */
export function byteaFromText(text: string): Uint8Array {
  const hex = text.startsWith("\\x") ? text.slice(2) : text;
  const native = (Uint8Array as unknown as HexCodec).fromHex;
  if (native) return native(hex);
  const out = new Uint8Array(hex.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/** Encodes bytes as PostgreSQL hex `bytea` input (`\x00ff`). */
export function byteaToText(bytes: Uint8Array): string {
  const native = (bytes as unknown as { toHex?: () => string }).toHex;
  if (native) return "\\x" + native.call(bytes);
  let s = "\\x";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * Parses PostgreSQL's text form of an array (`{1,NULL,3}`, `{{"a,b",c},{"",NULL}}`) into nested
 * JavaScript arrays, passing each element's text to `parseElement` (text is kept without one). An
 * unquoted `NULL` is `null`; a quoted `"NULL"` is the text. Bounds other than 1
 * (`[0:1]={1,2}`) are dropped, as PGlite does. `delimiter` is the element type's `typdelim`
 * (`;` for `box`).
 *
 * @example
 * ```ts
 * import { parsePgArray } from "./_pg_common.ts";
 *
 * parsePgArray("{1,NULL,3}", Number); // [1, null, 3]
 * parsePgArray('{{"a,b",NULL},{"NULL",""}}', undefined); // [["a,b", null], ["NULL", ""]]
 * ```
 */
export function parsePgArray(
  text: string,
  parseElement: ((text: string) => unknown) | undefined,
  delimiter = ",",
): unknown[] {
  let i = text.startsWith("[") ? text.indexOf("=") + 1 : 0;
  const malformed = () => new Error(`Malformed PostgreSQL array text: ${text}`);
  const element = (raw: string) => (parseElement ? parseElement(raw) : raw);

  function list(): unknown[] {
    if (text[i++] !== "{") throw malformed();
    const out: unknown[] = [];
    if (text[i] === "}") {
      i++;
      return out;
    }
    for (;;) {
      if (text[i] === "{") {
        out.push(list());
      } else if (text[i] === '"') {
        let s = "";
        for (i++; text[i] !== '"'; i++) {
          if (text[i] === "\\") i++;
          if (i >= text.length) throw malformed();
          s += text[i];
        }
        i++;
        out.push(element(s));
      } else {
        const start = i;
        while (i < text.length && text[i] !== delimiter && text[i] !== "}") i++;
        const raw = text.slice(start, i);
        out.push(raw === "NULL" ? null : element(raw));
      }
      const next = text[i++];
      if (next === "}") return out;
      if (next !== delimiter) throw malformed();
    }
  }

  const result = list();
  if (i !== text.length) throw malformed();
  return result;
}

/** The fields of a PostgreSQL error both drivers expose. */
export interface PgErrorFields {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  hint?: unknown;
}

/**
 * Translates an error carrying a SQLSTATE (postgres.js `PostgresError`, PGlite `DatabaseError`)
 * into the DataJoint error class; anything else becomes a plain {@link QueryError}.
 */
export function translatePgError(e: unknown, sql: string): QueryError {
  if (e instanceof QueryError) return e;
  const f = (typeof e === "object" && e !== null ? e : {}) as PgErrorFields;
  const code = typeof f.code === "string" ? f.code : undefined;
  const base = typeof f.message === "string" ? f.message : String(e);
  const detail = typeof f.detail === "string" && f.detail ? ` (${f.detail})` : "";
  const opts = { code, cause: e };
  const msg = (kind: Parameters<typeof hintFor>[0]): string =>
    errorMessage(base + detail, kind, sql);
  switch (code) {
    case "23505":
      return new DuplicateError(msg("duplicate"), opts);
    case "23503":
    case "23001": // restrict_violation: what PGlite reports for ON DELETE RESTRICT
      return new IntegrityError(msg("foreignKey"), opts);
    case "23502":
      return new IntegrityError(msg("notNull"), opts);
    case "42601":
      return new QuerySyntaxError(msg("syntax"), opts);
    case "42P01":
    case "3F000":
      return new MissingTableError(msg("missingTable"), opts);
    case "42703":
      return new UnknownAttributeError(msg("unknownAttribute"), opts);
    case "42501":
      return new AccessError(msg("access"), opts);
    case "57P01":
    case "57P02":
    case "57P03":
      return new LostConnectionError(msg("lostConnection"), opts);
  }
  if (code?.startsWith("08")) return new LostConnectionError(msg("lostConnection"), opts);
  return new QueryError(msg("other"), opts);
}
