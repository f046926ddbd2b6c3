/**
 * Inserting the result of a query (`INSERT INTO t (cols) SELECT …`): the rows never leave the
 * server. Stored values are copied as stored (codec metadata and blob bytes included), as
 * DataJoint Python does.
 *
 * @example
 * ```ts
 * import { insertSelect } from "./insert_select.ts";
 * import type { Connection } from "./connection.ts";
 * import type { Query } from "./query.ts";
 * declare const conn: Connection, archive: Query;
 * const heading = await conn.heading("lab", "subject_archive");
 * await insertSelect(conn, heading, archive, { skipDuplicates: true });
 * ```
 *
 * @module
 */
import type { Connection } from "./connection.ts";
import { DataJointError, DuplicateError, UnknownAttributeError } from "./errors.ts";
import { finish, wrap } from "./expression.ts";
import type { Heading } from "./heading.ts";
import type { InsertOptions } from "./insert.ts";
import type { Query } from "./query.ts";

/**
 * Inserts the rows of `query` into the table of `heading`; returns the number of rows the server
 * reports.
 *
 * @example
 * ```ts
 * import { insertSelect } from "./insert_select.ts";
 * // see the module example
 * ```
 */
export async function insertSelect(
  conn: Connection,
  heading: Heading,
  query: Query,
  options: InsertOptions = {},
): Promise<number> {
  const d = conn.kit.dialect;
  const table = `${d.quote(heading.schema)}.${d.quote(heading.table)}`;
  if (options.skipDuplicates && options.replace) {
    throw new DataJointError("insert: skipDuplicates and replace exclude each other; choose one");
  }
  const { conn: qc, ctx, select } = await query.compileSelect();
  if (qc !== conn) {
    throw new DataJointError(`${table}: insert from a query on another connection is not possible`);
  }
  const mine = new Set(heading.attributes.filter((a) => !a.hidden).map((a) => a.name));
  const attrs = select.attrs.filter((a) => {
    if (mine.has(a.name)) return true;
    if (options.ignoreExtraFields) return false;
    throw new UnknownAttributeError(
      `${table} has no attribute ${
        JSON.stringify(a.name)
      } (from the query): project it away, or insert with { ignoreExtraFields: true }`,
    );
  });
  const missing = heading.primaryKey.filter((k) =>
    !attrs.some((a) => a.name === k) &&
    !heading.attributes.find((a) => a.name === k)?.autoIncrement &&
    !k.startsWith("_")
  );
  if (missing.length > 0) {
    throw new DataJointError(
      `${table}: the query lacks primary-key attribute${missing.length > 1 ? "s" : ""} ${
        missing.join(", ")
      }`,
    );
  }
  // A subquery keeps the source's own grouping and limits, and lets MySQL read the table it
  // inserts into.
  const source = wrap(select, ctx);
  const cols = attrs.map((a) => a.name);
  const head = d.insert(
    { schema: heading.schema, table: heading.table, primaryKey: heading.primaryKey },
    cols,
    1,
    () => "\u0003",
    options.skipDuplicates ? "skip" : options.replace ? "replace" : "error",
  );
  const selectText = ctx.render(source, source.attrs.filter((a) => cols.includes(a.name)));
  const sql = head.replace(/VALUES \([^)]*\)/, () => selectText);
  const { sql: text, params } = finish(ctx, sql, (n) => conn.placeholder(n));
  try {
    const r = await conn.execute(text, params);
    return r.affectedRows;
  } catch (e) {
    if (e instanceof DuplicateError) {
      // The driver's message carries the advice already, unless it came without it.
      const advice = e.message.includes("skipDuplicates")
        ? ""
        : ". Insert with { skipDuplicates: true } to skip rows whose key exists, or { replace: true } to overwrite them";
      throw new DuplicateError(`${table}: ${e.message}${advice}`, { cause: e, code: e.code });
    }
    throw e;
  }
}
