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

import { bindingOf, type DropOptions, type TableBinding } from "./binding.ts";
import { DataJointError } from "./errors.ts";
import type { Heading } from "./heading.ts";
import { type InsertOptions, insertRows } from "./insert.ts";
import { Query, type Row, type ToDictsOptions } from "./query.ts";

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
   * are dropped first, leaves first).
   */
  static drop(options?: DropOptions): Promise<void> {
    return this.binding().drop(options);
  }

  /**
   * Inserts rows (objects of attribute values). Values of codec attributes are encoded through
   * their codecs and written to their stores first; the rows then go in together, in one
   * transaction. Returns the number of rows.
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Subject: typeof Manual;
   * await Subject.insert([{ subject_id: 1 }, { subject_id: 2 }], { skipDuplicates: true });
   * ```
   */
  static async insert(
    rows: Iterable<Record<string, unknown>>,
    options?: InsertOptions,
  ): Promise<number> {
    const b = this.binding();
    await b.declare();
    return insertRows(await b.connection(), await b.heading(), rows, options);
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
   * The rows matching `condition` (an object of attribute values), as a query.
   *
   * @example
   * ```ts
   * import type { Manual } from "./table.ts";
   * declare const Session: typeof Manual;
   * const rows = await Session.restrict({ subject_id: 1 }).toDicts();
   * ```
   */
  static restrict(condition: Record<string, unknown>): Query {
    return new Query(this.binding()).restrict(condition);
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
    return new Query(this.binding()).toDicts(options);
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
    return new Query(this.binding()).fetch1(...attributes);
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
  static keys(): Promise<Row[]> {
    return new Query(this.binding()).keys();
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
    return new Query(this.binding()).count();
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
