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
import { fromSqlValue } from "./values.ts";
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
import { fromSqlValue } from "./values.ts";

/** Options of {@link decodeRows}. */
export interface DecodeRowsOptions {
  /** Rows decoded at once (store transfers run in parallel; default 8). */
  concurrency?: number;
  /** What errors name as the table (e.g. `` `lab`.`session` ``). */
  label: string;
}

/**
 * Decodes raw rows (column name → driver value) into attribute values.
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
  raw: readonly Record<string, unknown>[],
  options: DecodeRowsOptions,
): Promise<Record<string, unknown>[]> {
  const { dialect } = conn.kit;
  const ctx = { dialect, stores: conn.stores, downloadPath: conn.config.downloadPath };
  const keyOf = (r: Record<string, unknown>) => {
    const key: Record<string, unknown> = {};
    for (const k of attrs) if (k.inKey) key[k.name] = r[k.name];
    return key;
  };
  // Core types convert synchronously; only codec attributes need promises (and the pool).
  const plain = (r: Record<string, unknown>, out: Record<string, unknown>) => {
    for (const a of attrs) {
      const v = r[a.name];
      if (a.source === undefined) out[a.name] = v ?? null;
      else if (a.source.kind !== "codec") {
        try {
          out[a.name] = fromSqlValue(a.source, v, dialect);
        } catch (e) {
          throw located(e, options.label, keyOf(r), a.name);
        }
      } else out[a.name] = undefined; // placeholder keeps the attribute order
    }
    return out;
  };
  const codecAttrs = attrs.filter((a) => a.source?.kind === "codec");
  if (codecAttrs.length === 0) return Promise.resolve(raw.map((r) => plain(r, {})));
  const one = async (r: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const out = plain(r, {});
    await Promise.all(codecAttrs.map(async (a) => {
      try {
        out[a.name] = await decodeAttribute(a.source!, r[a.name], ctx);
      } catch (e) {
        throw located(e, options.label, keyOf(r), a.name);
      }
    }));
    return out;
  };
  return mapPool(raw, options.concurrency ?? 8, one);
}
