/**
 * Fetching rows of one table: a `SELECT` restricted by attribute values (every value a bound
 * parameter), then every attribute decoded through its codec chain. Store-backed codecs that
 * give lazy references (`<npy@>`, `<object@>`, `<filepath@>`) cost no download here; eager ones
 * (`<blob@>`, `<attach@>`, `<hash@>`) are fetched several rows at a time.
 *
 * @example
 * ```ts
 * import { fetchRows } from "./fetch.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const heading = await conn.heading("lab", "recording");
 * const rows = await fetchRows(conn, heading, { where: [{ subject_id: 1 }], limit: 10 });
 * ```
 *
 * @module
 */
import { mapPool } from "../stores/pool.ts";
import { decodeAttribute, located } from "./attribute_codec.ts";
import type { Connection } from "./connection.ts";
import { DataJointError, UnknownAttributeError } from "./errors.ts";
import type { Attribute, Heading } from "./heading.ts";
import { toSqlValue } from "./values.ts";

/** What to fetch. */
export interface FetchSpec {
  /** Restrictions, all of which apply: each an object of attribute values (AND; `null` → IS NULL). */
  where?: Record<string, unknown>[];
  /** Attributes to return (default: all visible ones). */
  attributes?: string[];
  /** Order: attribute names, each optionally followed by ` DESC` / ` ASC`. */
  orderBy?: string[];
  /** At most this many rows. */
  limit?: number;
  /** Skip this many rows (with `limit`). */
  offset?: number;
  /** Rows decoded at once (store transfers run in parallel; default 8). */
  concurrency?: number;
}

/** A `WHERE` clause and its parameters (placeholders numbered from `first`). */
export interface WhereClause {
  /** `""` or ` WHERE …`. */
  sql: string;
  /** Parameter values. */
  params: unknown[];
}

function attributeMap(heading: Heading): Map<string, Attribute> {
  const m = new Map<string, Attribute>();
  for (const a of heading.attributes) if (!a.hidden) m.set(a.name, a);
  return m;
}

/**
 * The `WHERE` clause of object restrictions, with bound parameters.
 *
 * @example
 * ```ts
 * import { whereClause } from "./fetch.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const heading = await conn.heading("lab", "subject");
 * const w = whereClause(conn, heading, [{ subject_id: 1 }]);
 * ```
 */
export function whereClause(
  conn: Connection,
  heading: Heading,
  where: Record<string, unknown>[] = [],
  first = 1,
): WhereClause {
  const { dialect } = conn.kit;
  const attrs = attributeMap(heading);
  const terms: string[] = [];
  const params: unknown[] = [];
  for (const restriction of where) {
    for (const [name, value] of Object.entries(restriction)) {
      const attr = attrs.get(name);
      if (attr === undefined) {
        throw new UnknownAttributeError(
          `Cannot restrict ${dialect.quote(heading.schema)}.${dialect.quote(heading.table)} by ${
            JSON.stringify(name)
          }: it has no such attribute`,
        );
      }
      if (value === null || value === undefined) {
        terms.push(`${dialect.quote(name)} IS NULL`);
        continue;
      }
      if (attr.kind === "codec" || attr.blob || attr.json) {
        throw new DataJointError(
          `Cannot restrict by ${name}: ${attr.type} values are not comparable in SQL`,
        );
      }
      params.push(toSqlValue(attr, value, dialect));
      terms.push(`${dialect.quote(name)} = ${conn.placeholder(first + params.length - 1)}`);
    }
  }
  return { sql: terms.length === 0 ? "" : ` WHERE ${terms.join(" AND ")}`, params };
}

/**
 * Fetches and decodes rows of the table of `heading`.
 *
 * @example
 * ```ts
 * import { fetchRows } from "./fetch.ts";
 * // see the module example
 * ```
 */
export async function fetchRows(
  conn: Connection,
  heading: Heading,
  spec: FetchSpec = {},
): Promise<Record<string, unknown>[]> {
  const { dialect } = conn.kit;
  const attrs = attributeMap(heading);
  const names = spec.attributes ?? [...attrs.keys()];
  for (const n of names) {
    if (!attrs.has(n)) {
      throw new UnknownAttributeError(
        `${heading.schema}.${heading.table} has no attribute ${JSON.stringify(n)}`,
      );
    }
  }
  const where = whereClause(conn, heading, spec.where);
  const order = (spec.orderBy ?? []).map((o) => {
    const m = /^\s*(\S+)(?:\s+(ASC|DESC))?\s*$/i.exec(o);
    if (!m || !attrs.has(m[1])) {
      throw new DataJointError(`orderBy: ${JSON.stringify(o)} is not "<attribute> [ASC|DESC]"`);
    }
    return `${dialect.quote(m[1])}${m[2] ? ` ${m[2].toUpperCase()}` : ""}`;
  });
  const table = `${dialect.quote(heading.schema)}.${dialect.quote(heading.table)}`;
  // Key columns come along so that a decoding error can name the row.
  const selected = [...new Set([...names, ...heading.primaryKey])];
  let sql = `SELECT ${selected.map((n) => dialect.quote(n)).join(", ")} FROM ${table}${where.sql}`;
  if (order.length > 0) sql += ` ORDER BY ${order.join(", ")}`;
  if (spec.limit !== undefined) {
    if (!Number.isInteger(spec.limit) || spec.limit < 0) {
      throw new DataJointError(`limit must be a non-negative integer, got ${spec.limit}`);
    }
    sql += ` LIMIT ${spec.limit}`;
    if (spec.offset !== undefined) {
      if (!Number.isInteger(spec.offset) || spec.offset < 0) {
        throw new DataJointError(`offset must be a non-negative integer, got ${spec.offset}`);
      }
      sql += ` OFFSET ${spec.offset}`;
    }
  }
  const raw = await conn.query(sql, where.params);
  const ctx = { dialect, stores: conn.stores, downloadPath: conn.config.downloadPath };
  return mapPool(raw, spec.concurrency ?? 8, async (r) => {
    const out: Record<string, unknown> = {};
    for (const n of names) {
      try {
        out[n] = await decodeAttribute(attrs.get(n)!, r[n], ctx);
      } catch (e) {
        const key: Record<string, unknown> = {};
        for (const k of heading.primaryKey) {
          key[k] = await decodeAttribute(attrs.get(k)!, r[k], ctx).catch(() => r[k]);
        }
        throw located(e, table, key, n);
      }
    }
    return out;
  });
}
