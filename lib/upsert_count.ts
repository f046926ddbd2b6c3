/**
 * Exact counts of inserts that skip or replace duplicates, shared by inserts of rows
 * (lib/insert.ts) and from a query (lib/insert_select.ts). Both return the rows inserted plus,
 * with `replace`, the stored rows overwritten (each once, changed or not). PostgreSQL's
 * affected-row count is exactly that; MySQL's counts every duplicate met as well
 * ({@link Dialect.upsertCountsFoundRows}), so there the rows holding the insert's keys are
 * counted instead.
 *
 * @example
 * ```ts
 * import { countRows, keysPresentSql, upsertCounting } from "./upsert_count.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const heading = await conn.heading("lab", "subject");
 * const d = conn.kit.dialect;
 * if (upsertCounting(d, heading, ["subject_id"], "skip") === "added") {
 *   const sql = keysPresentSql(d, heading, ["subject_id"], conn.placeholder(1));
 *   console.log(await countRows(conn, sql, [1]));
 * }
 * ```
 *
 * @module
 */
import type { Dialect } from "./adapters/dialect.ts";
import type { Connection } from "./connection.ts";
import type { Attribute, Heading } from "./heading.ts";

/**
 * How an insert's count is found: `server`, the affected-row count is exact; `added`, the rows
 * holding the insert's keys counted before and after it (their difference is what it added;
 * skipped rows and key-only "replaced" ones add nothing); `keys`, every key of the insert is
 * inserted or overwrites its row, so the count is the distinct keys it holds.
 */
export type UpsertCounting = "server" | "added" | "keys";

/**
 * How to count an insert of `columns` into the table of `heading` (see {@link UpsertCounting}).
 *
 * @example
 * ```ts
 * import { upsertCounting } from "./upsert_count.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const heading = await conn.heading("lab", "subject");
 * upsertCounting(conn.kit.dialect, heading, ["subject_id", "name"], "replace"); // "keys" on MySQL
 * ```
 */
export function upsertCounting(
  dialect: Dialect,
  heading: Heading,
  columns: readonly string[],
  onDuplicate: "error" | "skip" | "replace",
): UpsertCounting {
  if (onDuplicate === "error" || !dialect.upsertCountsFoundRows) return "server";
  const pk = heading.primaryKey;
  // A key attribute left to auto-increment gets a fresh value: no row meets a stored one by its
  // primary key, so the server's count is the rows inserted (unless another unique index turns
  // one away, which it counts too).
  const auto = (k: string) => heading.attributes.find((a) => a.name === k)?.autoIncrement;
  if (pk.some((k) => !columns.includes(k) && auto(k))) return "server";
  return onDuplicate === "replace" && columns.some((c) => !pk.includes(c)) ? "keys" : "added";
}

/**
 * `SELECT COUNT(*) AS n` of the target's rows whose primary-key attributes `keys` are among
 * `list` (an SQL list of tuples, or a subquery); no `keys` (the key is all defaults, at most one
 * row): every row.
 *
 * @example
 * ```ts
 * import { keysPresentSql } from "./upsert_count.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const heading = await conn.heading("lab", "subject");
 * keysPresentSql(conn.kit.dialect, heading, ["subject_id"], "?, ?");
 * ```
 */
export function keysPresentSql(
  dialect: Dialect,
  heading: Heading,
  keys: readonly string[],
  list: string,
): string {
  const table = `${dialect.quote(heading.schema)}.${dialect.quote(heading.table)}`;
  if (keys.length === 0) return `SELECT COUNT(*) AS n FROM ${table}`;
  const columns = keys.map((k) => `${table}.${dialect.quote(k)}`);
  const tuple = columns.length === 1 ? columns[0] : `(${columns.join(", ")})`;
  return `SELECT COUNT(*) AS n FROM ${table} WHERE ${tuple} IN (${list})`;
}

/**
 * A key value's placeholder as the MySQL column compares it to stored keys: a value the column
 * rounds when it stores it (float, decimal, date and time types) is rounded the same way first,
 * so that the row it became is found. Used only where {@link upsertCounting} is not
 * `server`, that is on MySQL.
 *
 * @example
 * ```ts
 * import { keyParamSql } from "./upsert_count.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const heading = await conn.heading("lab", "subject");
 * keyParamSql(heading.attributes[0], "?"); // "?" for an int32, "CAST(? AS FLOAT)" for a float32
 * ```
 */
export function keyParamSql(attr: Attribute, placeholder: string): string {
  const t = attr.sqlType.toLowerCase();
  if (/^float\b/.test(t)) return `CAST(${placeholder} AS FLOAT)`;
  const dec = /^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)/.exec(t);
  if (dec) return `CAST(${placeholder} AS DECIMAL(${dec[1]}, ${dec[2]}))`;
  const time = /^(datetime|timestamp|time)\b\s*(?:\(\s*(\d)\s*\))?/.exec(t);
  if (time) {
    return `CAST(${placeholder} AS ${time[1] === "time" ? "TIME" : "DATETIME"}(${time[2] ?? 0}))`;
  }
  return t === "date" ? `CAST(${placeholder} AS DATE)` : placeholder;
}

/**
 * The `n` of a `SELECT COUNT(*) AS n`, as a number.
 *
 * @example
 * ```ts
 * import { countRows } from "./upsert_count.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * await countRows(conn, "SELECT COUNT(*) AS n FROM lab.subject", []);
 * ```
 */
export async function countRows(
  conn: Connection,
  sql: string,
  params: readonly unknown[],
): Promise<number> {
  const [{ n }] = await conn.query<{ n: number | bigint | string }>(sql, params);
  return Number(n);
}
