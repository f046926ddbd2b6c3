/**
 * Queries on one table: restriction by attribute values and fetching, with codecs decoded. Table
 * classes are queries themselves (`Subject.restrict({ subject_id: 1 }).fetch1()`).
 *
 * @example
 * ```ts
 * import { Query } from "./query.ts";
 * import type { TableBinding } from "./binding.ts";
 * declare const binding: TableBinding;
 * const rows = await new Query(binding).restrict({ subject_id: 1 }).toDicts();
 * ```
 *
 * @module
 */
import type { TableBinding } from "./binding.ts";
import { DataJointError } from "./errors.ts";
import { fetchRows, whereClause } from "./fetch.ts";

/** A fetched row: attribute name → decoded value. */
export type Row = Record<string, unknown>;

/** Options of {@link Query.toDicts}. */
export interface ToDictsOptions {
  /** Order: attribute names, each optionally followed by ` DESC` / ` ASC`. */
  orderBy?: string | string[];
  /** At most this many rows. */
  limit?: number;
  /** Skip this many rows. */
  offset?: number;
  /** Rows decoded at once: store downloads of eager codecs run in parallel (default 8). */
  concurrency?: number;
}

/**
 * A restriction of one table.
 *
 * @example
 * ```ts
 * import type { Query } from "./query.ts";
 * declare const recordings: Query;
 * console.log(await recordings.restrict({ subject_id: 1 }).count());
 * ```
 */
export class Query {
  readonly #table: TableBinding;
  readonly #where: Row[];

  /** A query of the whole table. */
  constructor(table: TableBinding, where: Row[] = []) {
    this.#table = table;
    this.#where = where;
  }

  /**
   * The rows that also match `condition`: an object of attribute values (all must equal; `null`
   * matches NULL).
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * const one = q.restrict({ subject_id: 1, session_idx: 2 });
   * ```
   */
  restrict(condition: Row): Query {
    if (typeof condition !== "object" || condition === null || Array.isArray(condition)) {
      throw new DataJointError("restrict() takes an object of attribute values");
    }
    return new Query(this.#table, [...this.#where, condition]);
  }

  /**
   * All matching rows, decoded.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * const rows = await q.toDicts({ orderBy: "subject_id DESC", limit: 5 });
   * ```
   */
  async toDicts(options: ToDictsOptions = {}): Promise<Row[]> {
    await this.#table.declare();
    const conn = await this.#table.connection();
    const heading = await this.#table.heading();
    const orderBy = typeof options.orderBy === "string" ? [options.orderBy] : options.orderBy;
    return fetchRows(conn, heading, {
      where: this.#where,
      orderBy,
      limit: options.limit,
      offset: options.offset,
      concurrency: options.concurrency,
    });
  }

  /**
   * The primary-key values of the matching rows.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * for (const key of await q.keys()) console.log(key);
   * ```
   */
  async keys(): Promise<Row[]> {
    await this.#table.declare();
    const conn = await this.#table.connection();
    const heading = await this.#table.heading();
    return fetchRows(conn, heading, { where: this.#where, attributes: heading.primaryKey });
  }

  /**
   * The one matching row (all attributes, or the named ones); an error unless exactly one row
   * matches. With one attribute name, its value alone.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * const trace = await q.restrict({ id: 1 }).fetch1("trace");
   * ```
   */
  async fetch1(...attributes: string[]): Promise<unknown> {
    await this.#table.declare();
    const conn = await this.#table.connection();
    const heading = await this.#table.heading();
    const rows = await fetchRows(conn, heading, {
      where: this.#where,
      attributes: attributes.length > 0 ? attributes : undefined,
      limit: 2,
    });
    if (rows.length !== 1) {
      throw new DataJointError(
        `fetch1 expects exactly one row of ${heading.schema}.${heading.table}, got ${
          rows.length === 0 ? "none" : "more than one"
        }: restrict the query to one primary key`,
      );
    }
    return attributes.length === 1 ? rows[0][attributes[0]] : rows[0];
  }

  /**
   * The number of matching rows.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * console.log(await q.count());
   * ```
   */
  async count(): Promise<number> {
    await this.#table.declare();
    const conn = await this.#table.connection();
    const heading = await this.#table.heading();
    const where = whereClause(conn, heading, this.#where);
    const q = conn.kit.dialect.quote;
    const [row] = await conn.query<{ n: number | bigint | string }>(
      `SELECT count(*) AS n FROM ${q(heading.schema)}.${q(heading.table)}${where.sql}`,
      where.params,
    );
    return Number(row.n);
  }
}
