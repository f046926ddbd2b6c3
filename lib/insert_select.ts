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
import { DataJointError, UnknownAttributeError } from "./errors.ts";
import { finish, type Select, type SqlContext, wrap } from "./expression.ts";
import type { Heading } from "./heading.ts";
import { insertFailure, type InsertOptions } from "./insert.ts";
import type { Query } from "./query.ts";
import { countRows, keysPresentSql, upsertCounting } from "./upsert_count.ts";

/**
 * Inserts the rows of `query` into the table of `heading`; returns the number of rows inserted,
 * plus, with `replace`, the stored rows overwritten (each once, changed or not; a row given only
 * its key attributes has nothing to overwrite). Rows skipped with `skipDuplicates` do not count.
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
  const onDuplicate = options.skipDuplicates ? "skip" : options.replace ? "replace" : "error";
  const head = d.insert(
    { schema: heading.schema, table: heading.table, primaryKey: heading.primaryKey },
    cols,
    1,
    () => "\u0003",
    onDuplicate,
  );
  const selectText = ctx.render(source, source.attrs.filter((a) => cols.includes(a.name)));
  const sql = head.replace(/VALUES \([^)]*\)/, () => selectText);
  const insert = async () => {
    const { sql: text, params } = finish(ctx, sql, (n) => conn.placeholder(n));
    return (await conn.execute(text, params)).affectedRows;
  };
  try {
    const counting = upsertCounting(d, heading, cols, onDuplicate);
    if (counting === "server") return await insert();
    return await countWritten(conn, heading, counting, { source, ctx, insert });
  } catch (e) {
    throw insertFailure(e, table, onDuplicate);
  }
}

/** An insert from a query, ready to run. */
interface PendingInsert {
  /** The query's rows, as a subquery. */
  source: Select;
  /** Its context (parameters, aliases). */
  ctx: SqlContext;
  /** Runs the insert; the server's affected-row count. */
  insert(): Promise<number>;
}

/**
 * The rows an insert that skips or replaces duplicates wrote, on a server whose count includes
 * the duplicates it met (MySQL). Rows are matched by the primary-key attributes the query gives;
 * the counts read only the target's rows that hold the query's keys.
 */
async function countWritten(
  conn: Connection,
  heading: Heading,
  counting: "added" | "keys",
  { source, ctx, insert }: PendingInsert,
): Promise<number> {
  const pk = heading.primaryKey;
  const keys = source.attrs.filter((a) => pk.includes(a.name));
  const count = (text: string) => {
    const { sql, params } = finish(ctx, text, (n) => conn.placeholder(n));
    return countRows(conn, sql, params);
  };
  if (counting === "keys") {
    // Each key of the query is inserted or overwrites its row: one row written per key. Counted
    // first, so that a query reading the table itself sees it as the insert does.
    const written = await count(
      `SELECT COUNT(*) AS n FROM (${ctx.render({ ...source, distinct: true }, keys)}) AS ${
        ctx.q(ctx.alias())
      }`,
    );
    await insert();
    return written;
  }
  // Skipping (or "replacing" with key attributes only, which overwrites nothing): the rows that
  // hold the query's keys, counted before and after the insert in one transaction. Its snapshot
  // (REPEATABLE READ, MySQL's default) shows the transaction's own inserts but not the rows
  // other workers add meanwhile, so the difference is what this insert added.
  const present = keysPresentSql(
    conn.kit.dialect,
    heading,
    keys.map((a) => a.name),
    ctx.render(source, keys),
  );
  const own = !conn.inTransaction;
  if (own) await conn.startTransaction();
  try {
    const before = await count(present);
    await insert();
    const after = await count(present);
    if (own) await conn.commitTransaction();
    return after - before;
  } catch (e) {
    if (own && conn.inTransaction) await conn.cancelTransaction().catch(() => {});
    throw e;
  }
}
