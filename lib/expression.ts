/**
 * The query compiler: relational operators on {@link Select}s, the intermediate form of one
 * `SELECT` statement under construction. Pure (no I/O): the query module resolves table headings
 * and nested queries first and hands them over as `Select`s.
 *
 * Every value becomes a bound parameter: fragments carry parameter *tokens* that index
 * {@link SqlContext.params}; {@link finish} turns them into the backend's placeholders in text
 * order, so fragments can be nested and reordered freely.
 *
 * A `Select` stays one flat statement while that is correct (restrictions add `WHERE` terms,
 * joins chain `JOIN … USING`, projections rename in place) and becomes a subquery
 * (`(SELECT …) AS "_q1"`) when an operator needs its output columns by name: after grouping,
 * `DISTINCT` or a `LIMIT`, before a raw-SQL condition or an expression that names renamed or
 * computed attributes, and on the right of a left join.
 *
 * @example
 * ```ts
 * import { finish, SqlContext, tableSelect } from "./expression.ts";
 * import { postgresDialect } from "./adapters/postgres_dialect.ts";
 * import type { Heading } from "./heading.ts";
 * declare const heading: Heading;
 * const ctx = new SqlContext(postgresDialect, "postgresql");
 * const { sql } = finish(ctx, ctx.render(tableSelect(heading, ctx)), (n) => `$${n}`);
 * ```
 *
 * @module
 */
import type { Dialect } from "./adapters/dialect.ts";
import type { Backend } from "./adapters/driver.ts";
import { DataJointError, UnknownAttributeError } from "./errors.ts";
import type { Attribute, Heading } from "./heading.ts";
import { translateExpression } from "./sql_expression.ts";
import { toSqlValue } from "./values.ts";

/** One attribute of a query result. */
export interface QueryAttribute {
  /** Name in the result. */
  name: string;
  /** Part of the result's primary key. */
  inKey: boolean;
  /** May be NULL. */
  nullable: boolean;
  /** `schema.table.attribute` of origin (kept by renames), `null` when unknown or computed. */
  lineage: string | null;
  /** The stored attribute it comes from (decides conversion and decoding); absent when computed. */
  source?: Attribute;
  /** Its SQL expression in the scope of the `FROM` clause. */
  sql: string;
}

/** One `SELECT` under construction. */
export interface Select {
  /** Result attributes, in order. */
  attrs: QueryAttribute[];
  /** The `FROM` clause. */
  from: string;
  /** Whether `from` is a join chain (it is parenthesised when nested in another join). */
  fromIsJoin: boolean;
  /** Base tables named directly in `from` (a table may appear only once per level). */
  tables: string[];
  /**
   * Every column name an unqualified reference can reach in `from`, attributes or not: a
   * projection drops attributes but not their columns, which would clash in a join.
   */
  columns: string[];
  /** `WHERE` terms (AND). */
  where: string[];
  /** `GROUP BY` expressions (aggregations). */
  groupBy?: string[];
  /** `SELECT DISTINCT`. */
  distinct: boolean;
  /** `ORDER BY` items (with `limit`, a `Top`). */
  order?: string[];
  /** `LIMIT`. */
  limit?: number;
  /** `OFFSET`. */
  offset?: number;
  /** Whether every table involved has `~lineage` (semantic checks apply). */
  lineageAvailable: boolean;
  /** The one base table, while the query is a restriction of it (what `delete` needs). */
  base?: { schema: string; table: string };
}

/**
 * Parameters and aliases of one statement being compiled.
 *
 * @example
 * ```ts
 * import { SqlContext } from "./expression.ts";
 * import { mysqlDialect } from "./adapters/mysql_dialect.ts";
 * const ctx = new SqlContext(mysqlDialect, "mysql");
 * console.log(ctx.alias()); // _q1
 * ```
 */
export class SqlContext {
  /** Parameter values, indexed by the tokens in the SQL text. */
  readonly params: unknown[] = [];
  /** The backend's dialect. */
  readonly dialect: Dialect;
  /** The backend. */
  readonly backend: Backend;
  #aliases = 0;

  /** A context for `dialect`. */
  constructor(dialect: Dialect, backend: Backend) {
    this.dialect = dialect;
    this.backend = backend;
  }

  /** A token standing for the bound parameter `value`. */
  param(value: unknown): string {
    this.params.push(value);
    return `\u0001${this.params.length - 1}\u0002`;
  }

  /** A fresh subquery alias. */
  alias(): string {
    return `_q${++this.#aliases}`;
  }

  /** A quoted identifier. */
  q(name: string): string {
    return this.dialect.quote(name);
  }

  /**
   * The SQL text of a select (with parameter tokens).
   *
   * @example
   * ```ts
   * import { SqlContext, type Select } from "./expression.ts";
   * declare const ctx: SqlContext, s: Select;
   * const text = ctx.render(s);
   * ```
   */
  render(s: Select, attrs: QueryAttribute[] = s.attrs): string {
    const items = attrs.map((
      a,
    ) => (a.sql === this.q(a.name) ? a.sql : `${a.sql} AS ${this.q(a.name)}`));
    // A relation without visible attributes (the projection of a singleton table) still has rows.
    if (items.length === 0) items.push(`1 AS ${this.q("_dj_row")}`);
    let sql = `SELECT ${s.distinct ? "DISTINCT " : ""}${items.join(", ")} FROM ${s.from}`;
    if (s.where.length > 0) sql += ` WHERE ${s.where.map((w) => `(${w})`).join(" AND ")}`;
    if (s.groupBy && s.groupBy.length > 0) sql += ` GROUP BY ${s.groupBy.join(", ")}`;
    if (s.order && s.order.length > 0) sql += ` ORDER BY ${s.order.join(", ")}`;
    if (s.limit !== undefined) sql += ` LIMIT ${s.limit}`;
    if (s.offset !== undefined && s.offset > 0) {
      if (s.limit === undefined) sql += ` LIMIT 999999999999`;
      sql += ` OFFSET ${s.offset}`;
    }
    return sql;
  }
}

/**
 * Replaces parameter tokens by the backend's placeholders, in text order.
 *
 * @example
 * ```ts
 * import { finish, SqlContext } from "./expression.ts";
 * import { mysqlDialect } from "./adapters/mysql_dialect.ts";
 * const ctx = new SqlContext(mysqlDialect, "mysql");
 * const r = finish(ctx, `a = ${ctx.param(1)}`, () => "?");
 * console.log(r.sql, r.params); // a = ? [ 1 ]
 * ```
 */
export function finish(
  ctx: SqlContext,
  sql: string,
  placeholder: (n: number) => string,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  // deno-lint-ignore no-control-regex -- the tokens are control characters on purpose
  const text = sql.replace(/\u0001(\d+)\u0002/g, (_, i) => {
    params.push(ctx.params[Number(i)]);
    return placeholder(params.length);
  });
  return { sql: text, params };
}

/**
 * The select of a whole table: its visible attributes.
 *
 * @example
 * ```ts
 * import { SqlContext, tableSelect } from "./expression.ts";
 * import type { Heading } from "./heading.ts";
 * declare const heading: Heading, ctx: SqlContext;
 * console.log(tableSelect(heading, ctx).from);
 * ```
 */
export function tableSelect(heading: Heading, ctx: SqlContext): Select {
  const full = `${ctx.q(heading.schema)}.${ctx.q(heading.table)}`;
  const visible = heading.attributes.filter((a) => !a.hidden);
  const ordered = [...visible.filter((a) => a.inKey), ...visible.filter((a) => !a.inKey)];
  return {
    attrs: ordered.map((a) => ({
      name: a.name,
      inKey: a.inKey,
      nullable: a.nullable,
      lineage: a.lineage,
      source: a,
      sql: ctx.q(a.name),
    })),
    from: full,
    fromIsJoin: false,
    tables: [full],
    columns: visible.map((a) => a.name),
    where: [],
    distinct: false,
    lineageAvailable: heading.lineageAvailable,
    base: { schema: heading.schema, table: heading.table },
  };
}

/** Whether the select has no grouping, `DISTINCT` or `LIMIT`/`ORDER BY`. */
export function isSimple(s: Select): boolean {
  return !s.groupBy && !s.distinct && s.order === undefined && s.limit === undefined &&
    s.offset === undefined;
}

/** Whether every attribute is a column of the `FROM` clause under its own name. */
export function isPlain(s: Select, ctx: SqlContext): boolean {
  return s.attrs.every((a) => a.sql === ctx.q(a.name));
}

/**
 * The select as a subquery whose columns are its attributes.
 *
 * @example
 * ```ts
 * import { SqlContext, type Select, wrap } from "./expression.ts";
 * declare const ctx: SqlContext, s: Select;
 * const sub = wrap(s, ctx); // SELECT … FROM (SELECT …) AS "_q1"
 * ```
 */
export function wrap(s: Select, ctx: SqlContext): Select {
  return {
    attrs: s.attrs.map((a) => ({ ...a, sql: ctx.q(a.name) })),
    from: `(${ctx.render(s)}) AS ${ctx.q(ctx.alias())}`,
    fromIsJoin: false,
    tables: [],
    columns: s.attrs.map((a) => a.name),
    where: [],
    distinct: false,
    lineageAvailable: s.lineageAvailable,
  };
}

/** The primary-key attribute names of a select. */
export function primaryKey(s: Select): string[] {
  return s.attrs.filter((a) => a.inKey).map((a) => a.name);
}

function attrMap(s: Select): Map<string, QueryAttribute> {
  return new Map(s.attrs.map((a) => [a.name, a]));
}

/**
 * Checks the semantic-matching rule on attributes two queries share: each must have the same,
 * known lineage on both sides (skipped when either side's schemas have no `~lineage`).
 */
export function checkLineage(a: Select, b: Select, common: string[], what: string): void {
  if (!a.lineageAvailable || !b.lineageAvailable) return;
  const am = attrMap(a);
  const bm = attrMap(b);
  for (const n of common) {
    const la = am.get(n)!.lineage;
    const lb = bm.get(n)!.lineage;
    if (la === null || lb === null) {
      throw new DataJointError(
        `Cannot ${what} on attribute \`${n}\`: lineage missing on one side (it is computed, or its table was declared without ~lineage). Rename it with proj(), or pass { semanticCheck: false }`,
      );
    }
    if (la !== lb) {
      throw new DataJointError(
        `Cannot ${what} on attribute \`${n}\`: different lineages (${la} vs ${lb}). Use .proj() to rename one of the attributes, or pass { semanticCheck: false }`,
      );
    }
  }
}

/** Attribute names both selects have. */
export function commonNames(a: Select, b: Select): string[] {
  const bn = new Set(b.attrs.map((x) => x.name));
  return a.attrs.filter((x) => bn.has(x.name)).map((x) => x.name);
}

/**
 * `ORDER BY` items for `orderBy` entries (`"name"`, `"name DESC"`, `"KEY"`, `"KEY DESC"`).
 *
 * @example
 * ```ts
 * import { orderItems, SqlContext, type Select } from "./expression.ts";
 * declare const ctx: SqlContext, s: Select;
 * const items = orderItems(s, ["KEY DESC"], ctx);
 * ```
 */
export function orderItems(s: Select, orderBy: readonly string[], ctx: SqlContext): string[] {
  const names = attrMap(s);
  const out: string[] = [];
  for (const item of orderBy) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(ASC|DESC))?\s*$/i.exec(item);
    if (!m || (m[1] !== "KEY" && !names.has(m[1]))) {
      throw new UnknownAttributeError(
        `orderBy ${
          JSON.stringify(item)
        }: expected "<attribute> [ASC|DESC]" or "KEY [ASC|DESC]" with one of ${
          [...names.keys()].join(", ")
        }`,
      );
    }
    const desc = m[2]?.toUpperCase() === "DESC";
    const dir = m[2] ? ` ${m[2].toUpperCase()}` : "";
    // NULL sorts as the smallest value on every backend (MySQL's rule; PostgreSQL is told so).
    const nulls = ctx.backend === "mysql" ? "" : desc ? " NULLS LAST" : " NULLS FIRST";
    const cols = m[1] === "KEY" ? primaryKey(s) : [m[1]];
    for (const c of cols) out.push(`${ctx.q(c)}${dir}${nulls}`);
  }
  return out;
}

/**
 * Adds `ORDER BY`/`LIMIT`/`OFFSET` (a `Top`, or fetch options); a select that has them already
 * becomes a subquery first.
 *
 * @example
 * ```ts
 * import { limitSelect, SqlContext, type Select } from "./expression.ts";
 * declare const ctx: SqlContext, s: Select;
 * const first = limitSelect(s, { orderBy: ["KEY"], limit: 1 }, ctx);
 * ```
 */
export function limitSelect(
  s: Select,
  o: { orderBy?: readonly string[]; limit?: number; offset?: number },
  ctx: SqlContext,
): Select {
  for (const [name, v] of [["limit", o.limit], ["offset", o.offset]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
      throw new DataJointError(`${name} must be a non-negative integer, got ${v}`);
    }
  }
  const base = s.order !== undefined || s.limit !== undefined || s.offset !== undefined
    ? wrap(s, ctx)
    : s;
  // A limit without an order is made deterministic by the primary key, as in DataJoint Python.
  const orderBy = o.orderBy && o.orderBy.length > 0
    ? o.orderBy
    : o.limit !== undefined || o.offset !== undefined
    ? ["KEY"]
    : [];
  const order = orderItems(base, orderBy, ctx);
  if (order.length > 0) {
    // Rows that tie in the order come in the primary key's order, so that a page (or a Top)
    // holds the same rows on every backend.
    const named = new Set(
      orderBy.flatMap((o) => {
        const n = o.trim().split(/\s+/)[0];
        return n === "KEY" ? primaryKey(base) : [n];
      }),
    );
    order.push(...orderItems(base, primaryKey(base).filter((k) => !named.has(k)), ctx));
  }
  return {
    ...base,
    order: order.length > 0 ? order : undefined,
    limit: o.limit,
    offset: o.offset,
  };
}

/**
 * The condition text of an object restriction, `true` for an empty object. Keys that are not
 * attributes are ignored (DataJoint's rule, so that a row of another table restricts by what the
 * two share); an object none of whose keys is an attribute is an error.
 */
export function objectCondition(
  s: Select,
  cond: Readonly<Record<string, unknown>>,
  ctx: SqlContext,
): string | boolean {
  const names = attrMap(s);
  const entries = Object.entries(cond).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return true;
  const terms: string[] = [];
  for (const [name, value] of entries) {
    const a = names.get(name);
    if (a === undefined) {
      const path = /^(\w+)[.:[]/.exec(name);
      if (path && names.has(path[1])) {
        // DataJoint Python reads `attr.path` (`attr.path:type`) as a JSON path into `attr`;
        // ignoring it like a key of another table would return rows it does not select.
        throw new DataJointError(
          `Restriction key ${JSON.stringify(name)} is a JSON path into ${
            path[1]
          }, which object restrictions do not support: restrict by a SQL string instead`,
        );
      }
      continue;
    }
    if (value === null) {
      terms.push(`${a.sql} IS NULL`);
      continue;
    }
    terms.push(`${a.sql} = ${ctx.param(conditionValue(a, value, ctx))}`);
  }
  if (terms.length === 0) {
    throw new UnknownAttributeError(
      `Restriction ${
        JSON.stringify(entries.map(([k]) => k))
      } names no attribute of the query (its attributes: ${
        [...names.keys()].join(", ")
      }): check the spelling`,
    );
  }
  return terms.join(" AND ");
}

function conditionValue(a: QueryAttribute, value: unknown, ctx: SqlContext): unknown {
  const src = a.source;
  if (src === undefined) {
    if (["number", "string", "boolean", "bigint"].includes(typeof value)) {
      return typeof value === "boolean" ? ctx.dialect.boolParam(value) : value;
    }
    throw new DataJointError(
      `Cannot restrict by ${a.name} (a computed attribute) with ${typeof value}: use a number, string, boolean or bigint`,
    );
  }
  if (src.kind === "codec" || src.json || src.blob) {
    throw new DataJointError(
      `Cannot restrict by ${a.name}: ${src.type} values are not comparable in SQL; restrict by other attributes`,
    );
  }
  // Named after the result attribute so that messages speak of what the user wrote.
  return toSqlValue({ name: a.name, storage: src.storage }, value, ctx.dialect);
}

/**
 * The semijoin (or antijoin) condition of `s` by `other`: rows whose common attributes appear
 * in `other`; with no common attributes, whether `other` has any row.
 *
 * @example
 * ```ts
 * import { semijoinCondition, SqlContext, type Select } from "./expression.ts";
 * declare const ctx: SqlContext, s: Select, other: Select;
 * const term = semijoinCondition(s, other, false, true, ctx);
 * ```
 */
export function semijoinCondition(
  s: Select,
  other: Select,
  negate: boolean,
  semanticCheck: boolean,
  ctx: SqlContext,
): string {
  const common = commonNames(s, other);
  if (semanticCheck) checkLineage(s, other, common, "restrict");
  if (common.length === 0) return `${negate ? "NOT " : ""}EXISTS (${ctx.render(other)})`;
  const mine = attrMap(s);
  const inner = isSimple(other) ? other : wrap(other, ctx);
  const theirs = attrMap(inner);
  const sub = ctx.render(inner, common.map((n) => theirs.get(n)!));
  return `(${common.map((n) => mine.get(n)!.sql).join(", ")}) ${negate ? "NOT IN" : "IN"} (${sub})`;
}

/** One projection argument: attribute names (`"..."`, `"-a"`) or `{ new: "old" | "SQL" }`. */
export type ProjArg = string | Readonly<Record<string, string>>;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Projection: keep, exclude, rename and compute attributes. The primary key is always kept
 * (under its new name when renamed).
 *
 * @example
 * ```ts
 * import { projSelect, SqlContext, type Select } from "./expression.ts";
 * declare const ctx: SqlContext, s: Select;
 * const p = projSelect(s, ["...", "-notes", { start: "session_date", n: "duration * 2" }], ctx);
 * ```
 */
export function projSelect(s: Select, args: readonly ProjArg[], ctx: SqlContext): Select {
  const names = attrMap(s);
  const include = new Set<string>();
  const exclude = new Set<string>();
  let all = false;
  const renames = new Map<string, string>(); // old → new
  const computed: [string, string][] = [];
  const unknown = (n: string) =>
    new UnknownAttributeError(
      `proj: ${JSON.stringify(n)} is not an attribute of the query (its attributes: ${
        [...names.keys()].join(", ")
      })`,
    );
  for (const arg of args) {
    if (typeof arg === "string") {
      const n = arg.trim();
      if (n === "...") all = true;
      else if (n.startsWith("-")) {
        const x = n.slice(1).trim();
        if (!names.has(x)) throw unknown(x);
        if (names.get(x)!.inKey) {
          throw new DataJointError(`Cannot exclude primary key attribute ${x}`);
        }
        exclude.add(x);
      } else {
        if (!names.has(n)) throw unknown(n);
        include.add(n);
      }
      continue;
    }
    if (typeof arg !== "object" || arg === null) {
      throw new DataJointError("proj takes attribute names and objects of { newName: source }");
    }
    for (const [to, from] of Object.entries(arg)) {
      if (!IDENT.test(to)) {
        throw new DataJointError(`proj: ${JSON.stringify(to)} is not a valid name`);
      }
      if (typeof from !== "string" || from.trim() === "") {
        throw new DataJointError(`proj: ${to} must map to an attribute name or a SQL expression`);
      }
      const f = from.trim();
      if (IDENT.test(f) && names.has(f)) {
        if (renames.has(f)) throw new DataJointError(`proj: ${f} is renamed twice`);
        renames.set(f, to);
      } else if (IDENT.test(f) && !/^(null|true|false)$/i.test(f)) {
        throw unknown(f);
      } else computed.push([to, f]);
    }
  }
  const out: QueryAttribute[] = [];
  for (const a of s.attrs) {
    const to = renames.get(a.name);
    if (to !== undefined) out.push({ ...a, name: to });
    else if (a.inKey || include.has(a.name) || (all && !exclude.has(a.name))) out.push(a);
  }
  let base = s;
  if (computed.length > 0 && (!isSimple(s) || !isPlain(s, ctx))) {
    // Expressions name attributes of the query, which then must be columns.
    base = wrap(s, ctx);
    const byName = attrMap(base);
    for (let i = 0; i < out.length; i++) {
      const old = [...renames].find(([, t]) => t === out[i].name)?.[0] ?? out[i].name;
      out[i] = { ...out[i], sql: byName.get(old)!.sql };
    }
  }
  for (const [to, expr] of computed) {
    out.push({
      name: to,
      inKey: false,
      nullable: true,
      lineage: null,
      sql: `(${expressionSql(expr, ctx)})`,
    });
  }
  const seen = new Set<string>();
  for (const a of out) {
    if (seen.has(a.name)) {
      throw new DataJointError(`proj: attribute ${a.name} would appear twice; choose another name`);
    }
    seen.add(a.name);
  }
  return { ...base, attrs: out, base: undefined };
}

/**
 * A user's SQL expression for the backend. The compiler's parameter tokens are control
 * characters; an expression holding them would turn into references to other parameters.
 */
function expressionSql(expr: string, ctx: SqlContext): string {
  if (expr.includes("\u0001") || expr.includes("\u0002")) {
    throw new DataJointError(
      `An expression may not contain control characters: ${JSON.stringify(expr)}`,
    );
  }
  return translateExpression(expr, ctx.backend);
}

/** Options of {@link joinSelects}. */
export interface JoinOptions {
  /** Keep rows of the left side without a match (left join). */
  left?: boolean;
  /** Check lineage of shared attributes (default true). */
  semanticCheck?: boolean;
}

/**
 * `s` as one side of a join with `other`: a subquery unless its clauses can join in place. A
 * column `s` holds but does not show (projected away) and `other` can reach would make unqualified
 * references ambiguous, so it is hidden in a subquery.
 */
function joinable(
  s: Select,
  ctx: SqlContext,
  mustBeUnrestricted: boolean,
  avoid: string[],
  otherColumns: string[],
): Select {
  const clash = s.tables.some((t) => avoid.includes(t));
  const shown = new Set(s.attrs.map((a) => a.name));
  const reachable = new Set(otherColumns);
  const hidden = s.columns.some((c) => !shown.has(c) && reachable.has(c));
  return !isSimple(s) || !isPlain(s, ctx) || (mustBeUnrestricted && s.where.length > 0) || clash ||
      hidden
    ? wrap(s, ctx)
    : s;
}

/**
 * Join on all shared attributes. The result's primary key: the left side's when it determines
 * the right side (holds its whole primary key), else the right side's when that determines the
 * left, else both.
 *
 * @example
 * ```ts
 * import { joinSelects, SqlContext, type Select } from "./expression.ts";
 * declare const ctx: SqlContext, a: Select, b: Select;
 * const ab = joinSelects(a, b, {}, ctx);
 * ```
 */
export function joinSelects(a: Select, b: Select, o: JoinOptions, ctx: SqlContext): Select {
  const common = commonNames(a, b);
  if (o.semanticCheck !== false) checkLineage(a, b, common, "join");
  if (o.left) {
    // Unmatched rows would hold NULL in the right side's key attributes, part of the result's key.
    const have = new Set(a.attrs.map((x) => x.name));
    const undetermined = primaryKey(b).filter((k) => !have.has(k));
    if (undetermined.length > 0) {
      throw new DataJointError(
        `Left join requires the left operand to determine the right operand (A → B). The following attributes from the right operand's primary key are not in the left operand: [${
          undetermined.map((n) => `'${n}'`).join(", ")
        }]. Use an inner join or restructure the query`,
      );
    }
  }
  const left = joinable(a, ctx, false, [], b.columns);
  const right = joinable(b, ctx, o.left === true, left.tables, left.columns);
  const rightFrom = right.fromIsJoin ? `(${right.from})` : right.from;
  const using = `USING (${common.map((n) => ctx.q(n)).join(", ")})`;
  const from = common.length > 0
    ? `${left.from} ${o.left ? "LEFT JOIN" : "JOIN"} ${rightFrom} ${using}`
    : o.left
    ? `${left.from} LEFT JOIN ${rightFrom} ON TRUE`
    : `${left.from} CROSS JOIN ${rightFrom}`;
  const aNames = new Set(left.attrs.map((x) => x.name));
  const bNames = new Set(right.attrs.map((x) => x.name));
  const aKey = primaryKey(left);
  const bKey = primaryKey(right);
  const key = bKey.every((k) => aNames.has(k))
    ? new Set(aKey)
    : aKey.every((k) => bNames.has(k))
    ? new Set(bKey)
    : new Set([...aKey, ...bKey]);
  const merged = [
    ...left.attrs,
    ...right.attrs.filter((x) => !aNames.has(x.name)).map((x) =>
      o.left ? { ...x, nullable: true } : x
    ),
  ].map((x) => ({ ...x, inKey: key.has(x.name) }));
  return {
    attrs: [...merged.filter((x) => x.inKey), ...merged.filter((x) => !x.inKey)],
    from,
    fromIsJoin: true,
    tables: [...left.tables, ...right.tables],
    columns: [...new Set([...left.columns, ...right.columns])],
    where: [...left.where, ...right.where],
    distinct: false,
    lineageAvailable: left.lineageAvailable && right.lineageAvailable,
  };
}

/** Options of {@link aggrSelect}. */
export interface AggrOptions {
  /** Attributes of the grouping side to keep besides its primary key (`"..."` for all). */
  attributes?: readonly string[];
  /** Drop groups without matching rows (default false: keep every row, as DataJoint 2.x). */
  excludeNonmatching?: boolean;
  /** Check lineage of shared attributes (default true). */
  semanticCheck?: boolean;
}

function computedAttrs(
  exprs: Readonly<Record<string, string>>,
  taken: Set<string>,
  ctx: SqlContext,
): QueryAttribute[] {
  return Object.entries(exprs).map(([name, expr]) => {
    if (!IDENT.test(name)) throw new DataJointError(`${JSON.stringify(name)} is not a valid name`);
    if (taken.has(name)) {
      throw new DataJointError(`Attribute ${name} exists already; name the expression otherwise`);
    }
    if (typeof expr !== "string" || expr.trim() === "") {
      throw new DataJointError(`Expression of ${name} must be SQL text, e.g. "count(*)"`);
    }
    taken.add(name);
    return {
      name,
      inKey: false,
      nullable: true,
      lineage: null,
      sql: `(${expressionSql(expr.trim(), ctx)})`,
    };
  });
}

/**
 * Aggregation: per row of `a`, expressions over the matching rows of `b` (`GROUP BY` the
 * primary key of `a`; rows of `a` without matches are kept unless `excludeNonmatching`).
 *
 * @example
 * ```ts
 * import { aggrSelect, SqlContext, type Select } from "./expression.ts";
 * declare const ctx: SqlContext, subjects: Select, sessions: Select;
 * const counted = aggrSelect(subjects, sessions, { n: "count(session_idx)" }, {}, ctx);
 * ```
 */
export function aggrSelect(
  a: Select,
  b: Select,
  exprs: Readonly<Record<string, string>>,
  o: AggrOptions,
  ctx: SqlContext,
): Select {
  const bNames = new Set(b.attrs.map((x) => x.name));
  const missing = primaryKey(a).filter((k) => !bNames.has(k));
  if (missing.length > 0) {
    throw new DataJointError(
      `Aggregation requires the group expression to contain all primary key attributes of the grouping expression. Missing attributes: [${
        missing.map((m) => `'${m}'`).join(", ")
      }]: join the group query with a table that has them first (A.aggr(B.join(C), …)), or aggregate over a query that has them`,
    );
  }
  const common = commonNames(a, b);
  if (o.semanticCheck !== false) checkLineage(a, b, common, "aggregate");
  const left = joinable(a, ctx, false, [], b.columns);
  const right = joinable(b, ctx, true, left.tables, left.columns);
  const rightFrom = right.fromIsJoin ? `(${right.from})` : right.from;
  const from = `${left.from} ${o.excludeNonmatching ? "JOIN" : "LEFT JOIN"} ${rightFrom} USING (${
    common.map((n) => ctx.q(n)).join(", ")
  })`;
  const wanted = new Set(o.attributes ?? []);
  for (const n of wanted) {
    if (n !== "..." && !left.attrs.some((x) => x.name === n)) {
      throw new UnknownAttributeError(`aggr: ${n} is not an attribute of the grouping query`);
    }
  }
  const keep = left.attrs.filter((x) => x.inKey || wanted.has("...") || wanted.has(x.name));
  const taken = new Set(keep.map((x) => x.name));
  return {
    attrs: [...keep, ...computedAttrs(exprs, taken, ctx)],
    from,
    fromIsJoin: true,
    tables: [...left.tables, ...right.tables],
    columns: [...new Set([...left.columns, ...right.columns])],
    where: left.where,
    // Every kept column is grouped on: MariaDB's ONLY_FULL_GROUP_BY does not infer functional
    // dependence on the primary key.
    groupBy: keep.map((x) => x.sql),
    distinct: false,
    lineageAvailable: left.lineageAvailable && right.lineageAvailable,
  };
}

function requireNames(s: Select, names: readonly string[], what: string): void {
  const have = new Set(s.attrs.map((x) => x.name));
  const missing = names.filter((n) => !have.has(n));
  if (missing.length > 0) {
    throw new UnknownAttributeError(
      `${what}: the query has no attribute ${missing.join(", ")} (its attributes: ${
        [...have].join(", ")
      })`,
    );
  }
}

/**
 * The distinct values of `names` in `s` (`U(...names) & q`): they form the primary key.
 *
 * @example
 * ```ts
 * import { distinctSelect, SqlContext, type Select } from "./expression.ts";
 * declare const ctx: SqlContext, sessions: Select;
 * const dates = distinctSelect(sessions, ["session_date"], ctx);
 * ```
 */
export function distinctSelect(s: Select, names: readonly string[], ctx: SqlContext): Select {
  requireNames(s, names, "U");
  const base = isSimple(s) ? s : wrap(s, ctx);
  const m = attrMap(base);
  return {
    ...base,
    attrs: names.map((n) => ({ ...m.get(n)!, inKey: true })),
    distinct: true,
    base: undefined,
  };
}

/**
 * Aggregation grouped by `names` of `s` (`U(...names).aggr(q, exprs)`); no names: one row.
 *
 * @example
 * ```ts
 * import { groupSelect, SqlContext, type Select } from "./expression.ts";
 * declare const ctx: SqlContext, sessions: Select;
 * const perDay = groupSelect(sessions, ["session_date"], { n: "count(*)" }, ctx);
 * ```
 */
export function groupSelect(
  s: Select,
  names: readonly string[],
  exprs: Readonly<Record<string, string>>,
  ctx: SqlContext,
): Select {
  requireNames(s, names, "U");
  const base = isSimple(s) && isPlain(s, ctx) ? s : wrap(s, ctx);
  const m = attrMap(base);
  const keep = names.map((n) => ({ ...m.get(n)!, inKey: true }));
  return {
    ...base,
    attrs: [...keep, ...computedAttrs(exprs, new Set(names), ctx)],
    groupBy: keep.length > 0 ? keep.map((x) => x.sql) : undefined,
    base: undefined,
  };
}

/**
 * Union of two queries with the same primary key. Secondary attributes may not be shared;
 * each side's secondary attributes are NULL in the other side's rows.
 *
 * @example
 * ```ts
 * import { SqlContext, type Select, unionSelects } from "./expression.ts";
 * declare const ctx: SqlContext, a: Select, b: Select;
 * const both = unionSelects(a, b, ctx);
 * ```
 */
export function unionSelects(a: Select, b: Select, ctx: SqlContext): Select {
  const aKey = primaryKey(a);
  const bKey = new Set(primaryKey(b));
  if (aKey.length !== bKey.size || !aKey.every((k) => bKey.has(k))) {
    throw new DataJointError(
      `Union requires the same primary key on both sides (${aKey.join(", ")} vs ${
        [...bKey].join(", ")
      })`,
    );
  }
  const aSec = a.attrs.filter((x) => !x.inKey);
  const bSec = b.attrs.filter((x) => !x.inKey);
  const shared = aSec.filter((x) => bSec.some((y) => y.name === x.name));
  if (shared.length > 0) {
    throw new DataJointError(
      `Union of queries that share secondary attributes (${
        shared.map((x) => x.name).join(", ")
      }) is not defined: project them away or rename them`,
    );
  }
  checkLineage(a, b, aKey, "union");
  const names = [...aKey, ...aSec.map((x) => x.name), ...bSec.map((x) => x.name)];
  let first: string;
  let second: string;
  if (aSec.length === 0 && bSec.length === 0) {
    first = ctx.render(a, aKey.map((k) => a.attrs.find((x) => x.name === k)!));
    second = ctx.render(b, aKey.map((k) => b.attrs.find((x) => x.name === k)!));
  } else {
    const joined = joinSelects(a, b, { left: true, semanticCheck: false }, ctx);
    const jm = attrMap(joined);
    first = ctx.render(joined, names.map((n) => jm.get(n)!));
    const onlyB = isSimple(b) ? b : wrap(b, ctx);
    const rest = {
      ...onlyB,
      where: [...onlyB.where, semijoinCondition(onlyB, a, true, false, ctx)],
    };
    const rm = attrMap(rest);
    second = ctx.render(
      rest,
      names.map((n) => rm.get(n) ?? { ...aSec.find((x) => x.name === n)!, sql: "NULL" }),
    );
  }
  const source = new Map([...a.attrs, ...b.attrs].map((x) => [x.name, x]));
  return {
    attrs: names.map((n) => ({
      ...source.get(n)!,
      nullable: source.get(n)!.nullable || !source.get(n)!.inKey,
      sql: ctx.q(n),
    })),
    from: `((${first}) UNION (${second})) AS ${ctx.q(ctx.alias())}`,
    fromIsJoin: false,
    tables: [],
    columns: names,
    where: [],
    distinct: false,
    lineageAvailable: a.lineageAvailable && b.lineageAvailable,
  };
}
