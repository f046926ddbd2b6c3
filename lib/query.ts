/**
 * Queries: DataJoint's query algebra on tables, evaluated lazily. A {@link Query} is a tree of
 * operators (restrict, proj, join, aggr, union, `U`); nothing runs until a fetch
 * (`toDicts`, `fetch1`, `keys`, `count`, iteration…) compiles it into one `SELECT` through the
 * backend's dialect, with every value a bound parameter. Table classes are queries themselves:
 * `Session.restrict({ subject_id: 1 }).join(Subject).proj("session_date")`.
 *
 * @example
 * ```ts
 * import { Query } from "./query.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const sessions = Query.table("lab", "session", async () => conn);
 * const subjects = Query.table("lab", "subject", async () => conn);
 * const counts = subjects.aggr(sessions, { n: "count(session_idx)" });
 * for (const row of await counts.toDicts({ orderBy: "n DESC", limit: 3 })) console.log(row);
 * ```
 *
 * @module
 */
import {
  AndList,
  type Condition,
  isQueryLike,
  Not,
  QUERY_BRAND,
  type QueryLike,
  Top,
} from "./condition.ts";
import type { Connection } from "./connection.ts";
import { DataJointError, UnknownAttributeError } from "./errors.ts";
import {
  type AggrOptions,
  aggrSelect,
  distinctSelect,
  finish,
  groupSelect,
  isPlain,
  isSimple,
  joinSelects,
  limitSelect,
  objectCondition,
  orderItems,
  primaryKey,
  type ProjArg,
  projSelect,
  type QueryAttribute,
  type Select,
  semijoinCondition,
  SqlContext,
  tableSelect,
  unionSelects,
  wrap,
} from "./expression.ts";
import { decodeRows } from "./fetch.ts";
import {
  deleteCascade,
  type DeleteOptions,
  deleteQuick,
  dropQuery,
  type DropTableOptions,
} from "./delete.ts";

export { AndList, type Condition, Not, Top };
export type { ProjArg, QueryAttribute };

/** A fetched row: attribute name → decoded value. */
export type Row = Record<string, unknown>;

/** Options of the fetch methods. */
export interface ToDictsOptions {
  /** Order: attribute names, each optionally followed by ` DESC` / ` ASC`; `"KEY"` is the primary key. */
  orderBy?: string | readonly string[];
  /** At most this many rows (ordered by the primary key unless `orderBy` says otherwise). */
  limit?: number;
  /** Skip this many rows. */
  offset?: number;
  /** Rows decoded at once: store downloads of eager codecs run in parallel (default 8). */
  concurrency?: number;
}

/** Options of restrictions by a query. */
export interface RestrictOptions {
  /** Check that shared attributes have the same lineage (default true). */
  semanticCheck?: boolean;
}

/** Options of iteration. */
export interface IterateOptions {
  /** Rows fetched per round trip (default 1000). */
  batchSize?: number;
  /** Rows decoded at once (default 8). */
  concurrency?: number;
}

/** The heading of a query: its attributes and primary key. */
export interface QueryHeading {
  /** Attribute names, primary key first. */
  names: string[];
  /** Primary-key attribute names. */
  primaryKey: string[];
  /** Secondary attribute names. */
  secondary: string[];
  /** The attributes. */
  attributes: QueryAttribute[];
}

type Node =
  | {
    kind: "table";
    schema: string;
    table: string;
    conn: () => Promise<Connection>;
    declare?: () => Promise<void>;
  }
  | { kind: "restrict"; q: Query; cond: Condition; negate: boolean; semanticCheck: boolean }
  | { kind: "proj"; q: Query; args: readonly ProjArg[] }
  | { kind: "join"; a: Query; b: Query; left: boolean; semanticCheck: boolean }
  | {
    kind: "aggr";
    a: Query;
    b: Query;
    exprs: Readonly<Record<string, string>>;
    options: AggrOptions;
  }
  | { kind: "union"; a: Query; b: Query }
  | { kind: "distinct"; names: readonly string[]; q: Query }
  | {
    kind: "group";
    names: readonly string[];
    q: Query;
    exprs: Readonly<Record<string, string>>;
  };

/** A query compiled for one connection: its select and the statement's context. */
export interface Compiled {
  /** The connection it runs on. */
  conn: Connection;
  /** Parameters and aliases. */
  ctx: SqlContext;
  /** The select. */
  select: Select;
}

/**
 * A lazily evaluated query.
 *
 * @example
 * ```ts
 * import type { Query } from "./query.ts";
 * declare const sessions: Query;
 * console.log(await sessions.restrict({ subject_id: 1 }).count());
 * ```
 */
export class Query implements QueryLike, AsyncIterable<Row> {
  /** Brand that marks queries (see `condition.ts`). */
  readonly [QUERY_BRAND] = true as const;
  readonly #node: Node;

  /** A query from an operator node (use the methods, or {@link Query.table}). */
  private constructor(node: Node) {
    this.#node = node;
  }

  /**
   * The query of one existing table (any table, also ones declared by DataJoint Python).
   * `declare`, when given, runs before the table is first used.
   *
   * @example
   * ```ts
   * import { Query } from "./query.ts";
   * import type { Connection } from "./connection.ts";
   * declare const conn: Connection;
   * const subjects = Query.table("lab", "subject", async () => conn);
   * ```
   */
  static table(
    schema: string,
    table: string,
    conn: () => Promise<Connection>,
    declare?: () => Promise<void>,
  ): Query {
    return new Query({ kind: "table", schema, table, conn, declare });
  }

  /**
   * The rows that satisfy `condition` (see `condition.ts` for every form it takes).
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query, other: Query;
   * const one = q.restrict({ subject_id: 1, session_idx: 2 });
   * const some = q.restrict([{ subject_id: 1 }, { subject_id: 2 }]).restrict("duration > 10");
   * const matched = q.restrict(other);
   * ```
   */
  restrict(condition: Condition, options: RestrictOptions = {}): Query {
    return new Query({
      kind: "restrict",
      q: this,
      cond: condition,
      negate: false,
      semanticCheck: options.semanticCheck !== false,
    });
  }

  /**
   * The rows that do not satisfy `condition` (with a query: the antijoin).
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const subjects: Query, sessions: Query;
   * const withoutSessions = subjects.minus(sessions);
   * ```
   */
  minus(condition: Condition, options: RestrictOptions = {}): Query {
    if (condition instanceof Top) throw new DataJointError("Top cannot be subtracted");
    return new Query({
      kind: "restrict",
      q: this,
      cond: condition,
      negate: true,
      semanticCheck: options.semanticCheck !== false,
    });
  }

  /**
   * Projection. No arguments: the primary key only. Names keep attributes; `"..."` keeps all;
   * `"-name"` drops one; `{ new: "old" }` renames; `{ name: "SQL expression" }` computes (the
   * expression is translated for the backend, see `sql_expression.ts`). The primary key is
   * always kept.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const sessions: Query;
   * const p = sessions.proj("session_date", { minutes: "duration / 60", day: "session_date" });
   * ```
   */
  proj(...args: ProjArg[]): Query {
    return new Query({ kind: "proj", q: this, args });
  }

  /**
   * Join on all shared attributes (which must have the same lineage unless
   * `semanticCheck: false`). `left: true` keeps rows of this query without a match.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const sessions: Query, subjects: Query;
   * const rows = await sessions.join(subjects).toDicts();
   * ```
   */
  join(other: Query | QueryLike, options: { left?: boolean; semanticCheck?: boolean } = {}): Query {
    return new Query({
      kind: "join",
      a: this,
      b: asQuery(other),
      left: options.left === true,
      semanticCheck: options.semanticCheck !== false,
    });
  }

  /**
   * Left join with a query this one determines (this query holds its whole primary key): adds
   * its attributes, NULL where it has no row.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const sessions: Query, notes: Query;
   * const withNotes = sessions.extend(notes);
   * ```
   */
  extend(other: Query | QueryLike, options: { semanticCheck?: boolean } = {}): Query {
    return new Query({
      kind: "join",
      a: this,
      b: asQuery(other),
      left: true,
      semanticCheck: options.semanticCheck !== false,
    });
  }

  /**
   * Aggregation: for every row of this query, SQL aggregate expressions over the matching rows
   * of `other`. Rows without matches are kept (DataJoint 2.x) unless `excludeNonmatching`.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const subjects: Query, sessions: Query;
   * const n = subjects.aggr(sessions, { n: "count(session_idx)", last: "max(session_date)" });
   * ```
   */
  aggr(
    other: Query | QueryLike,
    expressions: Readonly<Record<string, string>>,
    options: AggrOptions = {},
  ): Query {
    return new Query({
      kind: "aggr",
      a: this,
      b: asQuery(other),
      exprs: expressions,
      options,
    });
  }

  /**
   * Union with a query of the same primary key.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const a: Query, b: Query;
   * const either = a.proj().union(b.proj());
   * ```
   */
  union(other: Query | QueryLike): Query {
    return new Query({ kind: "union", a: this, b: asQuery(other) });
  }

  /** @internal Builds `U` queries. */
  static _u(node: Node): Query {
    return new Query(node);
  }

  /**
   * The connection this query runs on (that of its first table).
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * const conn = await q.connection();
   * ```
   */
  connection(): Promise<Connection> {
    const n = this.#node;
    switch (n.kind) {
      case "table":
        return n.conn();
      case "restrict":
      case "proj":
      case "distinct":
      case "group":
        return n.q.connection();
      default:
        return n.a.connection();
    }
  }

  /**
   * Compiles the query into a select (used by the fetch methods, delete and insert-from-query).
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * const { select } = await q.compileSelect();
   * ```
   */
  async compileSelect(ctx?: SqlContext): Promise<Compiled> {
    const conn = await this.connection();
    const c = ctx ?? new SqlContext(conn.kit.dialect, conn.backend);
    return { conn, ctx: c, select: await this.#compile(conn, c) };
  }

  async #compile(conn: Connection, ctx: SqlContext): Promise<Select> {
    const n = this.#node;
    const sub = async (q: Query) => {
      if ((await q.connection()) !== conn) {
        throw new DataJointError(
          "Queries on different connections cannot be combined: open the schemas on one connection",
        );
      }
      return q.#compile(conn, ctx);
    };
    switch (n.kind) {
      case "table": {
        await n.declare?.();
        return tableSelect(await conn.heading(n.schema, n.table), ctx);
      }
      case "restrict": {
        const s = await sub(n.q);
        if (n.cond instanceof Top) return limitSelect(s, n.cond, ctx);
        const base = !isSimple(s) || (hasText(n.cond) && !isPlain(s, ctx)) ? wrap(s, ctx) : s;
        const term = await this.#condition(base, n.cond, n.semanticCheck, ctx, sub);
        const t = n.negate ? negate(term) : term;
        if (t === true) return base;
        return { ...base, where: [...base.where, t === false ? "1 = 0" : t] };
      }
      case "proj":
        return projSelect(await sub(n.q), n.args, ctx);
      case "join":
        return joinSelects(await sub(n.a), await sub(n.b), {
          left: n.left,
          semanticCheck: n.semanticCheck,
        }, ctx);
      case "aggr":
        return aggrSelect(await sub(n.a), await sub(n.b), n.exprs, n.options, ctx);
      case "union":
        return unionSelects(await sub(n.a), await sub(n.b), ctx);
      case "distinct":
        return distinctSelect(await sub(n.q), n.names, ctx);
      case "group":
        return groupSelect(await sub(n.q), n.names, n.exprs, ctx);
    }
  }

  async #condition(
    s: Select,
    cond: Condition,
    semanticCheck: boolean,
    ctx: SqlContext,
    sub: (q: Query) => Promise<Select>,
  ): Promise<string | boolean> {
    if (typeof cond === "boolean") return cond;
    if (typeof cond === "string") {
      const text = cond.trim();
      if (text === "") throw new DataJointError("An empty string is not a restriction");
      if (text.includes("\u0001") || text.includes("\u0002")) {
        throw new DataJointError("A restriction string may not contain control characters");
      }
      return text;
    }
    if (cond instanceof Top) {
      throw new DataJointError("Top is a restriction of its own: pass it to restrict() directly");
    }
    // The universal set holds every row, whatever its names (DataJoint's `q & dj.U(...)`).
    if (cond instanceof U) return true;
    if (cond instanceof Not) {
      return negate(await this.#condition(s, cond.condition, semanticCheck, ctx, sub));
    }
    if (cond instanceof AndList) {
      const terms: string[] = [];
      for (const c of cond.conditions) {
        const t = await this.#condition(s, c, semanticCheck, ctx, sub);
        if (t === false) return false;
        if (t !== true) terms.push(`(${t})`);
      }
      return terms.length === 0 ? true : terms.join(" AND ");
    }
    if (Array.isArray(cond)) {
      const terms: string[] = [];
      for (const c of cond as readonly Condition[]) {
        const t = await this.#condition(s, c, semanticCheck, ctx, sub);
        if (t === true) return true;
        if (t !== false) terms.push(`(${t})`);
      }
      return terms.length === 0 ? false : terms.join(" OR ");
    }
    if (isQueryLike(cond)) {
      const other = await sub(asQuery(cond));
      return semijoinCondition(s, other, false, semanticCheck, ctx);
    }
    if (typeof cond === "object" && cond !== null) {
      if (cond instanceof Map || cond instanceof Set) {
        throw new DataJointError("Restrict by a plain object of attribute values, not a Map/Set");
      }
      return objectCondition(s, cond as Record<string, unknown>, ctx);
    }
    throw new DataJointError(
      `Cannot restrict by ${typeof cond}: use an object, a SQL string, a query, an array, Not, AndList or Top`,
    );
  }

  /**
   * The query's attributes and primary key.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * console.log((await q.heading()).primaryKey);
   * ```
   */
  async heading(): Promise<QueryHeading> {
    const { select } = await this.compileSelect();
    return {
      names: select.attrs.map((a) => a.name),
      primaryKey: primaryKey(select),
      secondary: select.attrs.filter((a) => !a.inKey).map((a) => a.name),
      attributes: select.attrs,
    };
  }

  /**
   * The `SELECT` statement with the backend's placeholders and its parameters.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * const { sql, params } = await q.compile();
   * ```
   */
  async compile(options: ToDictsOptions = {}): Promise<{ sql: string; params: unknown[] }> {
    const { conn, ctx, select } = await this.compileSelect();
    const s = withFetchOptions(select, options, ctx);
    return finish(ctx, ctx.render(s), (n) => conn.placeholder(n));
  }

  async #run(
    options: ToDictsOptions,
    shape?: (s: Select, ctx: SqlContext) => Select,
    prepare?: (s: Select, ctx: SqlContext) => Select,
  ): Promise<{ rows: Row[]; attrs: QueryAttribute[]; label: string }> {
    const { conn, ctx, select } = await this.compileSelect();
    let s = withFetchOptions(prepare ? prepare(select, ctx) : select, options, ctx);
    if (shape) s = shape(s, ctx);
    const { sql, params } = finish(ctx, ctx.render(s), (n) => conn.placeholder(n));
    const raw = await conn.query(sql, params);
    const label = labelOf(select, ctx);
    const rows = await decodeRows(conn, s.attrs, raw, { concurrency: options.concurrency, label });
    return { rows, attrs: s.attrs, label };
  }

  /**
   * All rows, decoded.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * const rows = await q.toDicts({ orderBy: "subject_id DESC", limit: 5 });
   * ```
   */
  async toDicts(options: ToDictsOptions = {}): Promise<Row[]> {
    return (await this.#run(options)).rows;
  }

  /**
   * Columns of values. With attribute names: one array per name, in that order (destructure
   * them); without: an object of arrays, one per attribute.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * const [ids, dates] = await q.toArrays("session_idx", "session_date");
   * const columns = await q.toArrays(); // { session_idx: [...], session_date: [...], ... }
   * ```
   */
  toArrays(): Promise<Record<string, unknown[]>>;
  /** One array of values per named attribute, in the order named. */
  toArrays(...attributes: string[]): Promise<unknown[][]>;
  async toArrays(...attributes: string[]): Promise<Record<string, unknown[]> | unknown[][]> {
    const names = attributes.length > 0 ? expandKey(attributes) : undefined;
    const { rows, attrs } = await this.#run({}, names ? pick(names) : undefined);
    if (names === undefined) {
      const out: Record<string, unknown[]> = {};
      for (const a of attrs) out[a.name] = rows.map((r) => r[a.name]);
      return out;
    }
    const key = attrs.filter((a) => a.inKey).map((a) => a.name);
    return attributes.map((a) =>
      a === "KEY" ? rows.map((r) => keyOf(r, key)) : rows.map((r) => r[a])
    );
  }

  /**
   * The primary-key values of the matching rows.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * for (const key of await q.keys({ orderBy: "KEY" })) console.log(key);
   * ```
   */
  async keys(options: ToDictsOptions = {}): Promise<Row[]> {
    return (await this.#run(
      options,
      (s) => ({ ...s, attrs: s.attrs.filter((a) => a.inKey) }),
      // An order may name attributes that are not returned: computed and renamed ones are then
      // columns of a subquery, which the ORDER BY can name without selecting them.
      (s, ctx) =>
        options.orderBy !== undefined && !(isSimple(s) && isPlain(s, ctx)) ? wrap(s, ctx) : s,
    )).rows;
  }

  /**
   * The one matching row; an error unless exactly one row matches. With one attribute name, its
   * value alone; with several, an array of their values (`"KEY"` gives the primary key).
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * const trace = await q.restrict({ id: 1 }).fetch1("trace");
   * const [a, b] = await q.restrict({ id: 1 }).fetch1("a", "b") as [number, string];
   * ```
   */
  async fetch1(...attributes: string[]): Promise<unknown> {
    const names = attributes.length > 0 ? expandKey(attributes) : undefined;
    const { rows, attrs, label } = await this.#run(
      {},
      (s, ctx) => {
        const t = names ? pick(names)(s, ctx) : s;
        return { ...(t.limit === undefined && t.order === undefined ? t : wrap(t, ctx)), limit: 2 };
      },
    );
    if (rows.length !== 1) {
      throw new DataJointError(
        `fetch1 requires exactly one row of ${label}, but ${
          rows.length === 0
            ? "none matches: check the restriction"
            : "more than one matches: restrict it to one primary key"
        }`,
      );
    }
    const row = rows[0];
    if (attributes.length === 0) return row;
    const key = attrs.filter((a) => a.inKey).map((a) => a.name);
    const values = attributes.map((a) => (a === "KEY" ? keyOf(row, key) : row[a]));
    return attributes.length === 1 ? values[0] : values;
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
    const { conn, ctx, select } = await this.compileSelect();
    const inner = isSimple(select)
      ? `SELECT count(*) AS n FROM ${select.from}${whereText(select)}`
      : `SELECT count(*) AS n FROM (${ctx.render(select)}) AS ${ctx.q(ctx.alias())}`;
    const { sql, params } = finish(ctx, inner, (n) => conn.placeholder(n));
    const [row] = await conn.query<{ n: number | bigint | string }>(sql, params);
    return Number(row.n);
  }

  /**
   * Whether any row matches.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * if (await q.restrict({ subject_id: 1 }).exists()) console.log("found");
   * ```
   */
  async exists(): Promise<boolean> {
    const { conn, ctx, select } = await this.compileSelect();
    const inner = isSimple(select)
      ? `SELECT 1 AS one FROM ${select.from}${whereText(select)} LIMIT 1`
      : `SELECT 1 AS one FROM (${ctx.render(select)}) AS ${ctx.q(ctx.alias())} LIMIT 1`;
    const { sql, params } = finish(ctx, inner, (n) => conn.placeholder(n));
    return (await conn.query(sql, params)).length > 0;
  }

  /**
   * The first `n` rows in primary-key order.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * console.table(await q.head(5));
   * ```
   */
  head(n = 25): Promise<Row[]> {
    return this.toDicts({ limit: n });
  }

  /**
   * Streams the rows in primary-key order, `batchSize` rows per round trip, so that a large
   * result is never held in memory at once (keyset pagination: each batch continues after the
   * last key of the previous one).
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const q: Query;
   * for await (const row of q.iterate({ batchSize: 500 })) console.log(row);
   * ```
   */
  async *iterate(options: IterateOptions = {}): AsyncGenerator<Row> {
    const batchSize = options.batchSize ?? 1000;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new DataJointError(`batchSize must be a positive integer, got ${batchSize}`);
    }
    let last: Record<string, unknown> | undefined;
    for (;;) {
      const { conn, ctx, select } = await this.compileSelect();
      const key = primaryKey(select);
      if (key.length === 0) {
        // No key to continue from (a one-row aggregation): its rows come in one batch.
        yield* await this.toDicts({ concurrency: options.concurrency });
        return;
      }
      const inner = wrap(select, ctx);
      if (last !== undefined) {
        const cols = key.map((k) => ctx.q(k)).join(", ");
        const vals = key.map((k) => ctx.param(last![k])).join(", ");
        inner.where.push(`(${cols}) > (${vals})`);
      }
      const page = { ...inner, order: orderItems(inner, ["KEY"], ctx), limit: batchSize };
      const { sql, params } = finish(ctx, ctx.render(page), (n) => conn.placeholder(n));
      const raw = await conn.query(sql, params);
      if (raw.length === 0) return;
      // The key to continue from, copied: decoding converts the rows in place, and the caller
      // may change the rows it is given.
      const tail = raw[raw.length - 1];
      last = {};
      for (const k of key) last[k] = tail[k];
      yield* await decodeRows(conn, page.attrs, raw, {
        concurrency: options.concurrency,
        label: labelOf(select, ctx),
      });
      if (raw.length < batchSize) return;
    }
  }

  /** Streams the rows (see {@link Query.iterate}). */
  [Symbol.asyncIterator](): AsyncIterator<Row> {
    return this.iterate();
  }

  // ── delete and drop (lib/delete.ts) ─────────────────────────────────────────────────────────

  /**
   * Deletes the rows of this query (a restriction of one table) and every row that depends on
   * them, in any schema, leaves first, in one transaction. `partIntegrity` rules master/part pairs
   * (`"enforce"`, `"ignore"`, `"cascade"`); `prompt` gets the per-table counts before the commit and
   * may decline (rolled back). Returns the number of rows deleted from this query's table. Objects
   * in stores stay until garbage collection (`collectGarbage`) removes the unreferenced ones.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const sessions: Query;
   * const n = await sessions.restrict({ subject_id: 1 }).delete({
   *   prompt: (counts) => counts.every((c) => c.count < 100),
   * });
   * ```
   */
  delete(options?: DeleteOptions): Promise<number> {
    return deleteCascade(this, options);
  }

  /**
   * Deletes the rows of this query (a restriction of one table) with one `DELETE`, without
   * cascading: fails when other rows still reference them. Returns the number of rows deleted.
   *
   * @example
   * ```ts
   * import type { Query } from "./query.ts";
   * declare const trials: Query;
   * await trials.restrict({ outcome: "aborted" }).deleteQuick();
   * ```
   */
  deleteQuick(): Promise<number> {
    return deleteQuick(this);
  }

  /**
   * Drops the table of this query, which must be a whole table (restricted queries are refused);
   * `cascade` drops the tables that depend on it first. For table classes prefer `Table.drop()`.
   *
   * @example
   * ```ts
   * import { Query } from "./query.ts";
   * import type { Connection } from "./connection.ts";
   * declare const conn: Connection;
   * await Query.table("scratch", "tmp", async () => conn).drop({ cascade: true });
   * ```
   */
  drop(options?: DropTableOptions): Promise<void> {
    return dropQuery(this, options);
  }
  // ── end of delete and drop ──────────────────────────────────────────────────────────────────
}

/**
 * DataJoint's universal set: `new U("a", "b").restrict(q)` gives the distinct values of `a, b` in
 * `q`; `new U("a").aggr(q, { n: "count(*)" })` aggregates `q` grouped by `a`; `new U().aggr(q, …)`
 * aggregates all of `q` into one row.
 *
 * @example
 * ```ts
 * import { U, type Query } from "./query.ts";
 * declare const sessions: Query;
 * const days = new U("session_date").restrict(sessions);
 * const perDay = new U("session_date").aggr(sessions, { n: "count(*)" });
 * ```
 */
export class U {
  /** The attributes of the universal set. */
  readonly names: readonly string[];
  /** The universal set of `names`. */
  constructor(...names: string[]) {
    this.names = names;
  }

  /** The distinct values of the names in `query`. */
  restrict(query: Query | QueryLike): Query {
    if (this.names.length === 0) throw new DataJointError("U() & query needs attribute names");
    return Query._u({ kind: "distinct", names: this.names, q: asQuery(query) });
  }

  /** Aggregates `query` grouped by the names (one row for `new U()`). */
  aggr(query: Query | QueryLike, expressions: Readonly<Record<string, string>>): Query {
    return Query._u({ kind: "group", names: this.names, q: asQuery(query), exprs: expressions });
  }
}

/** A query from a query or a table class (whose static `query()` gives its query). */
function asQuery(x: Query | QueryLike): Query {
  if (x instanceof Query) return x;
  const q = (x as unknown as { query?: () => unknown }).query?.();
  if (q instanceof Query) return q;
  throw new DataJointError("Expected a query or a table class");
}

function hasText(c: Condition): boolean {
  if (typeof c === "string") return true;
  if (c instanceof Not) return hasText(c.condition);
  if (c instanceof AndList) return c.conditions.some(hasText);
  if (Array.isArray(c)) return (c as readonly Condition[]).some(hasText);
  return false;
}

function negate(t: string | boolean): string | boolean {
  return typeof t === "boolean" ? !t : `NOT (${t})`;
}

function whereText(s: Select): string {
  return s.where.length > 0 ? ` WHERE ${s.where.map((w) => `(${w})`).join(" AND ")}` : "";
}

function labelOf(s: Select, ctx: SqlContext): string {
  return s.base ? `${ctx.q(s.base.schema)}.${ctx.q(s.base.table)}` : "query";
}

function withFetchOptions(s: Select, o: ToDictsOptions, ctx: SqlContext): Select {
  const orderBy = typeof o.orderBy === "string" ? [o.orderBy] : o.orderBy;
  if (orderBy === undefined && o.limit === undefined && o.offset === undefined) return s;
  return limitSelect(s, { orderBy, limit: o.limit, offset: o.offset }, ctx);
}

function expandKey(names: readonly string[]): string[] {
  return names.flatMap((n) => (n === "KEY" ? ["\0KEY"] : [n]));
}

/** Restricts the select's attributes to `names` (`"\0KEY"` standing for the primary key). */
function pick(names: readonly string[]): (s: Select, ctx: SqlContext) => Select {
  return (s) => {
    const byName = new Map(s.attrs.map((a) => [a.name, a]));
    const out: QueryAttribute[] = [];
    for (const n of names) {
      const group = n === "\0KEY" ? s.attrs.filter((a) => a.inKey) : [byName.get(n)];
      for (const a of group) {
        if (a === undefined) {
          throw new UnknownAttributeError(
            `The query has no attribute ${JSON.stringify(n)} (its attributes: ${
              [...byName.keys()].join(", ")
            })`,
          );
        }
        if (!out.includes(a)) out.push(a);
      }
    }
    // Key attributes come along for error messages and KEY, marked as such.
    for (const a of s.attrs) if (a.inKey && !out.includes(a)) out.push(a);
    return { ...s, attrs: out };
  };
}

function keyOf(row: Row, names: readonly string[]): Row {
  const k: Row = {};
  for (const n of names) k[n] = row[n];
  return k;
}
