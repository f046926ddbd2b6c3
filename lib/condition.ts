/**
 * Restriction conditions beyond plain objects and strings: {@link Not}, {@link AndList} and
 * {@link Top}, with the {@link Condition} type that `restrict()` accepts.
 *
 * | condition | meaning |
 * |---|---|
 * | `{ a: 1, b: "x" }` | AND of equalities (`null` matches NULL); keys that are not attributes of the query are ignored, as in DataJoint, but an object that names none of them is an error |
 * | `"a > 3"` | raw SQL, used verbatim (never put user input into it: use an object instead) |
 * | `true` / `false` | everything / nothing |
 * | a query | semijoin: rows whose common attributes appear in the other query |
 * | `new Not(c)` | negation (`q.minus(c)` is `q.restrict(new Not(c))`) |
 * | `new AndList([c1, c2])` | AND |
 * | `[c1, c2]` | OR; `[]` matches nothing |
 * | `new Top({ limit, orderBy, offset })` | the first rows in an order |
 * | `new U(...)` | everything (the universal set, as `q & dj.U(...)` in DataJoint) |
 *
 * @example
 * ```ts
 * import { AndList, Not, Top } from "./condition.ts";
 * const c = [new AndList([{ subject_id: 1 }, "duration > 10"]), new Not({ subject_id: 2 })];
 * const first = new Top({ limit: 5, orderBy: "session_date DESC" });
 * console.log(c.length, first.limit); // 2 5
 * ```
 *
 * @module
 */
import { DataJointError } from "./errors.ts";
import type { U } from "./query.ts";

/** Anything `restrict()` accepts. Queries are matched structurally by the query module. */
export type Condition =
  | Readonly<Record<string, unknown>>
  | string
  | boolean
  | Not
  | AndList
  | Top
  | U
  | QueryLike
  | readonly Condition[];

/** What a query looks like to a condition (the query module's class implements it). */
export interface QueryLike {
  /** Brand: set by query objects only. */
  readonly [QUERY_BRAND]: true;
}

/**
 * Marks query objects, so a condition that is a query is told from a plain object without
 * `instanceof` (two copies of the library may meet).
 *
 * @example
 * ```ts
 * import { QUERY_BRAND } from "./condition.ts";
 * console.log(typeof QUERY_BRAND); // symbol
 * ```
 */
export const QUERY_BRAND: unique symbol = Symbol.for("datajoint.query") as never;

/**
 * Whether a value is a query (as opposed to an object of attribute values).
 *
 * @example
 * ```ts
 * import { isQueryLike } from "./condition.ts";
 * console.log(isQueryLike({ subject_id: 1 })); // false
 * ```
 */
export function isQueryLike(x: unknown): x is QueryLike {
  return typeof x === "object" && x !== null && (x as QueryLike)[QUERY_BRAND] === true ||
    typeof x === "function" && (x as unknown as QueryLike)[QUERY_BRAND] === true;
}

/**
 * The negation of a condition.
 *
 * @example
 * ```ts
 * import { Not } from "./condition.ts";
 * const notMouse = new Not({ species: "mouse" });
 * console.log(notMouse.condition); // { species: "mouse" }
 * ```
 */
export class Not {
  /** The negated condition. */
  readonly condition: Condition;
  /** Negates `condition`. */
  constructor(condition: Condition) {
    if (condition instanceof Top) {
      throw new DataJointError("Top cannot be negated: restrict by it directly");
    }
    this.condition = condition;
  }
}

/**
 * Conditions that must all hold (an array means *any* of them).
 *
 * @example
 * ```ts
 * import { AndList } from "./condition.ts";
 * const both = new AndList([{ subject_id: 1 }, "duration > 10"]);
 * console.log(both.conditions.length); // 2
 * ```
 */
export class AndList {
  /** The conditions. */
  readonly conditions: readonly Condition[];
  /** All of `conditions`. */
  constructor(conditions: Iterable<Condition>) {
    this.conditions = [...conditions];
  }
}

/** Options of {@link Top}. */
export interface TopOptions {
  /** How many rows (default 1). */
  limit?: number;
  /** Order: attribute names with optional ` ASC`/` DESC`; `"KEY"` is the primary key (default). */
  orderBy?: string | readonly string[];
  /** Rows to skip first (default 0). */
  offset?: number;
}

/**
 * The first `limit` rows in an order, as a restriction (DataJoint's `dj.Top`).
 *
 * @example
 * ```ts
 * import { Top } from "./condition.ts";
 * const latest = new Top({ limit: 3, orderBy: "session_date DESC" });
 * console.log(latest.orderBy); // ["session_date DESC"]
 * ```
 */
export class Top {
  /** Row count. */
  readonly limit: number;
  /** Order items. */
  readonly orderBy: readonly string[];
  /** Rows skipped. */
  readonly offset: number;
  /** A top-`limit` restriction. */
  constructor(options: TopOptions = {}) {
    const { limit = 1, offset = 0 } = options;
    for (const [name, v] of [["limit", limit], ["offset", offset]] as const) {
      if (!Number.isInteger(v) || v < 0) {
        throw new DataJointError(`Top: ${name} must be a non-negative integer, got ${v}`);
      }
    }
    this.limit = limit;
    this.offset = offset;
    const order = options.orderBy ?? "KEY";
    this.orderBy = typeof order === "string" ? [order] : [...order];
  }
}
