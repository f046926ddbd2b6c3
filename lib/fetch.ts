/**
 * Decoding fetched rows: every stored attribute converted from the driver's value and decoded
 * through its codec chain. Store-backed codecs that give lazy references (`<npy@>`, `<object@>`,
 * `<filepath@>`) cost no download here; eager ones (`<blob@>`, `<attach@>`, `<hash@>`) are
 * fetched several rows at a time, and the attributes of one row in parallel.
 *
 * @example
 * ```ts
 * import { decodeRows } from "./fetch.ts";
 * import type { Connection } from "./connection.ts";
 * import type { QueryAttribute } from "./expression.ts";
 * declare const conn: Connection, attrs: QueryAttribute[];
 * const rows = await decodeRows(conn, attrs, await conn.query("SELECT …"), { label: "lab.subject" });
 * ```
 *
 * @module
 */
import { mapPool } from "../stores/pool.ts";
import { decodeAttribute, located } from "./attribute_codec.ts";
import type { Connection } from "./connection.ts";
import type { QueryAttribute } from "./expression.ts";
import { sqlValueReader } from "./values.ts";

/** Options of {@link decodeRows}. */
export interface DecodeRowsOptions {
  /** Rows decoded at once (store transfers run in parallel; default 8). */
  concurrency?: number;
  /** What errors name as the table (e.g. `` `lab`.`session` ``). */
  label: string;
}

/**
 * Decodes raw rows (column name → driver value) into attribute values. The driver's row objects
 * become the result rows (converted in place, never copied): core types that need no conversion
 * cost nothing per row. Rows the driver returns with other columns than `attrs` are rebuilt.
 *
 * @example
 * ```ts
 * import { decodeRows } from "./fetch.ts";
 * // see the module example
 * ```
 */
export function decodeRows(
  conn: Connection,
  attrs: readonly QueryAttribute[],
  raw: Record<string, unknown>[],
  options: DecodeRowsOptions,
): Promise<Record<string, unknown>[]> {
  const { dialect } = conn.kit;
  const rows = sameColumns(raw, attrs) ? raw : raw.map((r) => pickColumns(r, attrs));
  const keyOf = (r: Record<string, unknown>) => {
    const key: Record<string, unknown> = {};
    for (const k of attrs) if (k.inKey) key[k.name] = r[k.name];
    return key;
  };
  // Core types convert synchronously, and only those whose driver value is not final already.
  const converted: { name: string; read: (raw: unknown) => unknown }[] = [];
  const codecAttrs: QueryAttribute[] = [];
  for (const a of attrs) {
    if (a.source?.kind === "codec") codecAttrs.push(a);
    else if (a.source !== undefined) {
      const read = sqlValueReader(a.source, dialect);
      if (read !== undefined) converted.push({ name: a.name, read });
    }
  }
  if (converted.length > 0) {
    for (const r of rows) {
      for (const { name, read } of converted) {
        const v = r[name];
        if (v === null || v === undefined) continue;
        try {
          r[name] = read(v);
        } catch (e) {
          throw located(e, options.label, keyOf(r), name);
        }
      }
    }
  }
  if (codecAttrs.length === 0) return Promise.resolve(rows);
  const ctx = { dialect, stores: conn.stores, downloadPath: conn.config.downloadPath };
  const one = async (r: Record<string, unknown>): Promise<Record<string, unknown>> => {
    await Promise.all(codecAttrs.map(async (a) => {
      try {
        r[a.name] = await decodeAttribute(a.source!, r[a.name], ctx);
      } catch (e) {
        throw located(e, options.label, keyOf(r), a.name);
      }
    }));
    return r;
  };
  return mapPool(rows, options.concurrency ?? 8, one);
}

/** Whether the rows have exactly the attributes' columns, in order (checked on the first row). */
function sameColumns(raw: Record<string, unknown>[], attrs: readonly QueryAttribute[]): boolean {
  if (raw.length === 0) return true;
  const names = Object.keys(raw[0]);
  return names.length === attrs.length && attrs.every((a, i) => a.name === names[i]);
}

/** A row of the attributes only (a relation without attributes selects a placeholder column). */
function pickColumns(
  r: Record<string, unknown>,
  attrs: readonly QueryAttribute[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of attrs) out[a.name] = r[a.name] ?? null;
  return out;
}
