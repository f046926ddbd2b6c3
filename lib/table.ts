/**
 * Table tiers: the base classes users extend to declare tables. The tier decides the table-name
 * prefix (`Manual` none, `Lookup` `#`, `Imported` `_`, `Computed` `__`, `Part` its master's name +
 * `__`) and who may insert. A class says what its table holds either with a `static definition`
 * string, with the decorators of `decorators.ts`, or with `defineTable()`; the schema decorator
 * declares it.
 *
 * @example
 * ```ts
 * import { Manual } from "./table.ts";
 *
 * class Subject extends Manual {
 *   static override definition = `
 *     subject_id : int32
 *     ---
 *     name : varchar(64)
 *   `;
 * }
 * console.log(Subject.tier); // Manual
 * ```
 *
 * @module
 */

import { bindingOf, type TableBinding } from "./binding.ts";
import { type DeleteOptions, dropTable, type DropTableOptions } from "./delete.ts";
import { updateRow } from "./update.ts";
import { DataJointError } from "./errors.ts";
import type { Heading } from "./heading.ts";
import { insertAllowedByMake, type InsertOptions, insertRows } from "./insert.ts";
import { type Condition, isQueryLike, QUERY_BRAND, type QueryLike } from "./condition.ts";
import type { AggrOptions, ProjArg } from "./expression.ts";
import { insertSelect } from "./insert_select.ts";
import { tierOfTableName } from "./naming.ts";
import {
  type IterateOptions,
  Query,
  type RestrictOptions,
  type Row,
  type ToDictsOptions,
} from "./query.ts";
import type { Jobs } from "./jobs.ts";
import {
  jobsOf,
  populate,
  type PopulateArg,
  type PopulateProgress,
  type PopulateResult,
  progress,
} from "./populate.ts";

/** The five user tiers. */
export type Tier = "Manual" | "Lookup" | "Imported" | "Computed" | "Part";

/**
 * The common base of every table class. Not used directly: extend a tier.
 *
 * @example
 * ```ts
 * import { Lookup, Table } from "./table.ts";
 * class Species extends Lookup {}
 * console.log(Object.getPrototypeOf(Lookup) === Table); // true
 * ```
 */
export abstract class Table {
  /** The tier of this table class. */
  static readonly tier: Tier;
  /** Definition text; when absent the decorators' metadata is compiled into one. */
  static definition?: string;

  /** The schema binding; throws when the class was not decorated with a schema. */
  protected static binding(): TableBinding {
    const b = bindingOf(this);
    if (b === undefined) {
      throw new DataJointError(
        `Table class ${this.name} belongs to no schema: decorate it with @schema (const schema = dj.schema("name"))`,
      );
    }
    return b;
  }

  /** The SQL table name, with its tier prefix (`#rig`, `__analysis`, `session__trial`). */
  static get tableName(): string {
    return this.binding().tableName;
  }

  /** The schema (database) name. */
  static get schemaName(): string {
    return this.binding().schemaName;
  }

  /** Declares the table (parents first) unless it exists; called implicitly by every operation. */
  static declare(): Promise<void> {
    return this.binding().declare();
  }

  /** The table's heading, read back from the database. */
  static heading(): Promise<Heading> {
    return this.binding().heading();
  }

  /** Definition text that declares an identical table. */
  static describe(): Promise<string> {
    return this.binding().describe();
  }

  /**
   * Drops the table. Refuses when other tables depend on it, unless `cascade` is set (then they
   * are dropped first, leaves first), and a part table on its own unless
   * `partIntegrity: "ignore"` (drop its master instead). `prompt` gets the tables and their row
   * counts and may decline.
   */
  static async drop(options: DropTableOptions = {}): Promise<void> {
    const b = this.binding();
    await dropTable(
      await b.connection(),
      b.schemaName,
      b.tableName,
      options,
      (tables) => b.dropTables(tables),
    );
  }

  /**
   * The query of the whole table: every query operation starts here (the statics below are
   * shortcuts for it).
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Session: typeof Manual;
   * const q = Session.query().restrict("duration > 10");
   * ```
   */
  static query(): Query {
    const b = this.binding();
    return Query.table(b.schemaName, b.tableName, () => b.connection(), () => b.declare());
  }

  /** Brand: a table class can stand wherever a query is expected. */
  static readonly [QUERY_BRAND] = true as const;

  /**
   * Inserts rows (objects of attribute values), or the rows of a query (`INSERT … SELECT`, the
   * rows never leave the server). Values of codec attributes are encoded through their codecs and
   * written to their stores first; the rows then go in together, in one transaction. Returns the
   * number of rows inserted plus, with `replace`, the stored rows overwritten (each once, changed
   * or not; rows given only their key attributes overwrite nothing): rows skipped with
   * `skipDuplicates` do not count (a row given twice goes in once and counts once): the same count
   * on every backend, for rows and for a query. Without `skipDuplicates` or `replace` every row
   * goes in or none does, so the count is the number of rows.
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual;
   * await Subject.insert([{ subject_id: 1 }, { subject_id: 2 }], { skipDuplicates: true });
   * ```
   */
  static async insert(
    rows: Iterable<Record<string, unknown>> | Query | QueryLike,
    options?: InsertOptions,
  ): Promise<number> {
    const b = this.binding();
    await b.declare();
    const conn = await b.connection();
    const heading = await b.heading();
    if (isQueryLike(rows)) {
      checkDirectInsert(conn, heading, options);
      const q = rows instanceof Query ? rows : (rows as unknown as typeof Table).query();
      return insertSelect(conn, heading, q, options);
    }
    return insertRows(conn, heading, rows, options);
  }

  /**
   * Inserts one row.
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual;
   * await Subject.insert1({ subject_id: 1, name: "M1" });
   * ```
   */
  static async insert1(row: Record<string, unknown>, options?: InsertOptions): Promise<void> {
    await this.insert([row], options);
  }

  /**
   * The rows matching `condition`, as a query (see {@link Query.restrict}).
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Session: typeof Manual;
   * const rows = await Session.restrict({ subject_id: 1 }).toDicts();
   * ```
   */
  static restrict(condition: Condition, options?: RestrictOptions): Query {
    return this.query().restrict(condition, options);
  }

  /**
   * The rows not matching `condition` (see {@link Query.minus}).
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual, Session: typeof Manual;
   * const idle = Subject.minus(Session);
   * ```
   */
  static minus(condition: Condition, options?: RestrictOptions): Query {
    return this.query().minus(condition, options);
  }

  /**
   * Projection (see {@link Query.proj}).
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Session: typeof Manual;
   * const keys = Session.proj();
   * ```
   */
  static proj(...args: ProjArg[]): Query {
    return this.query().proj(...args);
  }

  /**
   * Join (see {@link Query.join}).
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Session: typeof Manual, Subject: typeof Manual;
   * const rows = await Session.join(Subject).toDicts();
   * ```
   */
  static join(
    other: Query | QueryLike,
    options?: { left?: boolean; semanticCheck?: boolean },
  ): Query {
    return this.query().join(other, options);
  }

  /**
   * Left join with a table this one determines (see {@link Query.extend}).
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Session: typeof Manual, Note: typeof Manual;
   * const rows = await Session.extend(Note).toDicts();
   * ```
   */
  static extend(other: Query | QueryLike, options?: { semanticCheck?: boolean }): Query {
    return this.query().extend(other, options);
  }

  /**
   * Aggregation (see {@link Query.aggr}).
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual, Session: typeof Manual;
   * const n = await Subject.aggr(Session, { n: "count(session_idx)" }).toDicts();
   * ```
   */
  static aggr(
    other: Query | QueryLike,
    expressions: Readonly<Record<string, string>>,
    options?: AggrOptions,
  ): Query {
    return this.query().aggr(other, expressions, options);
  }

  /**
   * Union (see {@link Query.union}).
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Mouse: typeof Manual, Rat: typeof Manual;
   * const all = Mouse.proj().union(Rat.proj());
   * ```
   */
  static union(other: Query | QueryLike): Query {
    return this.query().union(other);
  }

  /**
   * All rows, decoded.
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual;
   * console.log(await Subject.toDicts({ orderBy: "subject_id" }));
   * ```
   */
  static toDicts(options?: ToDictsOptions): Promise<Row[]> {
    return this.query().toDicts(options);
  }

  /**
   * Columns of values (see {@link Query.toArrays}).
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual;
   * const [ids, names] = await Subject.toArrays("subject_id", "name");
   * ```
   */
  static toArrays(): Promise<Record<string, unknown[]>>;
  /** One array of values per named attribute, in the order named. */
  static toArrays(...attributes: string[]): Promise<unknown[][]>;
  static toArrays(...attributes: string[]): Promise<Record<string, unknown[]> | unknown[][]> {
    return attributes.length === 0 ? this.query().toArrays() : this.query().toArrays(...attributes);
  }

  /**
   * The table's one row (or the named attributes of it); see {@link Query.fetch1}.
   *
   * @example
   * ```ts
   * import type { Lookup } from "./table.ts";
   * declare const Config: typeof Lookup;
   * const row = await Config.fetch1();
   * ```
   */
  static fetch1(...attributes: string[]): Promise<unknown> {
    return this.query().fetch1(...attributes);
  }

  /**
   * The primary keys of all rows.
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual;
   * console.log(await Subject.keys());
   * ```
   */
  static keys(options?: ToDictsOptions): Promise<Row[]> {
    return this.query().keys(options);
  }

  /**
   * The number of rows.
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual;
   * console.log(await Subject.count());
   * ```
   */
  static count(): Promise<number> {
    return this.query().count();
  }

  /**
   * Whether the table has any row.
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual;
   * if (!(await Subject.exists())) console.log("empty");
   * ```
   */
  static exists(): Promise<boolean> {
    return this.query().exists();
  }

  /**
   * The first rows in primary-key order.
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual;
   * console.table(await Subject.head(5));
   * ```
   */
  static head(n?: number): Promise<Row[]> {
    return this.query().head(n);
  }

  /**
   * Streams all rows (see {@link Query.iterate}); `for await (const row of Subject)` works too.
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual;
   * for await (const row of Subject.iterate({ batchSize: 100 })) console.log(row);
   * ```
   */
  static iterate(options?: IterateOptions): AsyncGenerator<Row> {
    return this.query().iterate(options);
  }

  /** Streams all rows. */
  static [Symbol.asyncIterator](): AsyncIterator<Row> {
    return this.query().iterate();
  }

  /** The class of this instance (inside `make()`, `this` is an instance). */
  #cls(): typeof Table {
    return this.constructor as typeof Table;
  }

  /**
   * Inserts rows into this table (the instance form, for `this` inside `make()`).
   *
   * @example
   * ```ts
   * import { Computed } from "./table.ts";
   * class Mean extends Computed {
   *   async make(key: Record<string, unknown>) {
   *     await this.insert1({ ...key, mean: 0 });
   *   }
   * }
   * ```
   */
  insert(
    rows: Iterable<Record<string, unknown>> | Query | QueryLike,
    options?: InsertOptions,
  ): Promise<number> {
    return this.#cls().insert(rows, options);
  }

  /** Inserts one row into this table (instance form, see {@link Table.insert}). */
  insert1(row: Record<string, unknown>, options?: InsertOptions): Promise<void> {
    return this.#cls().insert1(row, options);
  }

  /** The query of this table (instance form). */
  query(): Query {
    return this.#cls().query();
  }

  /** Restriction of this table (instance form, see {@link Query.restrict}). */
  restrict(condition: Condition, options?: RestrictOptions): Query {
    return this.#cls().restrict(condition, options);
  }

  // ── populate and jobs (lib/populate.ts, lib/jobs.ts) ───────────────────────────────────────

  /**
   * Fills a Computed/Imported table: calls the class's `make(key, makeKwargs)` (or its
   * `makeFetch`/`makeCompute`/`makeInsert`) for every key of its key source, narrowed by the
   * restrictions, that has no row yet — each key in its own transaction. Options `suppressErrors`,
   * `maxCalls`, `reserveJobs`, `priority`, `displayProgress`, `makeKwargs`, `refresh`,
   * `orphanTimeout` (see `PopulateOptions` in populate.ts).
   *
   * The last argument is taken as the options when it is a plain object whose keys are all
   * option names (`{}` too); every other argument is a restriction. To restrict by an attribute
   * named like an option, end with an options object: `populate({ priority: 1 }, {})`.
   *
   * @example
   * ```ts
   * import type { Computed } from "./table.ts";
   * declare const Analysis: typeof Computed;
   * const { successCount, errorList } = await Analysis.populate({ subject_id: 1 }, {
   *   reserveJobs: true,
   *   suppressErrors: true,
   *   displayProgress: true,
   * });
   * ```
   */
  static populate(...args: PopulateArg[]): Promise<PopulateResult> {
    return populate(this, ...args);
  }

  /**
   * How many keys of the key source (narrowed by the restrictions) are still to be populated.
   *
   * @example
   * ```ts
   * import type { Computed } from "./table.ts";
   * declare const Analysis: typeof Computed;
   * const { remaining, total } = await Analysis.progress();
   * ```
   */
  static progress(...restrictions: Condition[]): Promise<PopulateProgress> {
    return progress(this, ...restrictions);
  }

  /**
   * The table's jobs table `~~<name>`, shared with DataJoint Python workers (declared on first
   * use): `refresh`, `reserve`, `complete`, `error`, `ignore`, and the `pending`, `reserved`,
   * `errors`, `ignored`, `completed` queries.
   *
   * @example
   * ```ts
   * import type { Computed } from "./table.ts";
   * declare const Analysis: typeof Computed;
   * for (const job of await Analysis.jobs.errors.toDicts()) console.log(job.error_message);
   * ```
   */
  static get jobs(): Jobs {
    return jobsOf(this);
  }
  // ── end of populate and jobs ───────────────────────────────────────────────────────────────

  // ── delete and update (lib/delete.ts, lib/update.ts) ───────────────────────────────────────

  /**
   * Deletes all rows of the table and every row that depends on them, leaves first, in one
   * transaction (see {@link Query.delete}; restrict first to delete some: `T.restrict(c).delete()`).
   * Deleting from a Part table directly is refused unless `partIntegrity` is `"ignore"` or
   * `"cascade"`. Returns the number of rows deleted from this table.
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Session: typeof Manual;
   * await Session.restrict({ subject_id: 1 }).delete();
   * await Session.delete({ prompt: (counts) => confirm(JSON.stringify(counts)) });
   * ```
   */
  static delete(options?: DeleteOptions): Promise<number> {
    return this.query().delete(options);
  }

  /**
   * Deletes all rows with one `DELETE`, without cascading (see {@link Query.deleteQuick}).
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Scratch: typeof Manual;
   * await Scratch.deleteQuick();
   * ```
   */
  static deleteQuick(): Promise<number> {
    return this.query().deleteQuick();
  }

  /**
   * Changes attributes of one existing row: `row` holds the full primary key and the attributes to
   * set. Absent or `undefined` attributes keep their value; `null` stores NULL in a nullable
   * attribute and restores the default of a non-nullable one (see `update.ts`). Codec values are
   * encoded as on insert.
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual;
   * await Subject.update1({ subject_id: 1, weight: 21.5, notes: null });
   * ```
   */
  static async update1(row: Record<string, unknown>): Promise<void> {
    const b = this.binding();
    await b.declare();
    await updateRow(await b.connection(), await b.heading(), row);
  }
  // ── end of delete and update ───────────────────────────────────────────────────────────────
}

/** Refuses direct inserts into auto-populated tables, as the row insert does. */
function checkDirectInsert(_conn: unknown, heading: Heading, options?: InsertOptions): void {
  const tier = tierOfTableName(heading.table);
  if (
    (tier === "Imported" || tier === "Computed") && !options?.allowDirectInsert &&
    !insertAllowedByMake(heading.schema, heading.table)
  ) {
    throw new DataJointError(
      `\`${heading.schema}\`.\`${heading.table}\` is auto-populated: its rows come from make() during populate(). Insert with { allowDirectInsert: true } to do it anyway`,
    );
  }
}

/**
 * Data entered by hand or by scripts outside populate. Table name: the class name in snake_case.
 *
 * @example
 * ```ts
 * import { Manual } from "./table.ts";
 * class Session extends Manual {
 *   static override definition = "session_id : int32";
 * }
 * ```
 */
export abstract class Manual extends Table {
  /** This tier. */
  static override readonly tier: Tier = "Manual";
}

/**
 * Small reference tables whose `contents` are inserted on declaration. Table name prefix `#`.
 *
 * @example
 * ```ts
 * import { Lookup } from "./table.ts";
 * class Species extends Lookup {
 *   static override definition = "species : varchar(32)";
 *   static contents = [{ species: "mouse" }, { species: "rat" }];
 * }
 * ```
 */
export abstract class Lookup extends Table {
  /** This tier. */
  static override readonly tier: Tier = "Lookup";
}

/**
 * Data imported from outside by `make()` during populate. Table name prefix `_`.
 *
 * @example
 * ```ts
 * import { Imported } from "./table.ts";
 * class Ingest extends Imported {
 *   static override definition = "-> Session";
 * }
 * ```
 */
export abstract class Imported extends Table {
  /** This tier. */
  static override readonly tier: Tier = "Imported";
}

/**
 * Data computed from other tables by `make()` during populate. Table name prefix `__`.
 *
 * @example
 * ```ts
 * import { Computed } from "./table.ts";
 * class Analysis extends Computed {
 *   static override definition = "-> Session\n---\nmean : float64";
 * }
 * ```
 */
export abstract class Computed extends Table {
  /** This tier. */
  static override readonly tier: Tier = "Computed";
}

/**
 * A part of a master table, held as a static property of the master class; its rows are inserted
 * together with the master's. Table name: `<master table>__<part in snake_case>`.
 *
 * @example
 * ```ts
 * import { Manual, Part } from "./table.ts";
 * class Probe extends Manual {
 *   static override definition = "probe : int32";
 *   static Channel = class Channel extends Part {
 *     static override definition = "-> master\nchannel : int16";
 *   };
 * }
 * ```
 */
export abstract class Part extends Table {
  /** This tier. */
  static override readonly tier: Tier = "Part";
}

/** A concrete table class (any subclass of a tier). */
export type TableClass = abstract new (...args: never[]) => Table;
