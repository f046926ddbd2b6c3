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
