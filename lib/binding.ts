/**
 * Which schema a table class belongs to, and the operations its schema provides for it. The
 * schema decorator creates a binding; the static methods of the tier classes reach their schema
 * through it, so `table.ts` does not import `schema.ts`.
 *
 * @example
 * ```ts
 * import { bindingOf } from "./binding.ts";
 * class NotDecorated {}
 * console.log(bindingOf(NotDecorated)); // undefined
 * ```
 *
 * @module
 */
import type { Connection } from "./connection.ts";
import type { Heading } from "./heading.ts";

/** Options of dropping a table. */
export interface DropOptions {
  /** Also drop every table that depends on this one (in any schema), leaves first. */
  cascade?: boolean;
}

/** What a table class can ask its schema. */
export interface TableBinding {
  /** Schema name. */
  readonly schemaName: string;
  /** SQL table name (with tier prefix). */
  readonly tableName: string;
  /** The master class of a part table. */
  readonly master?: abstract new (...args: never[]) => unknown;
  /** Declares the table (and its parents and parts) if it is not declared yet. */
  declare(): Promise<void>;
  /** Declares the table and its parents, not its parts (what a foreign key needs). */
  declareTable(): Promise<void>;
  /** The connection of the schema. */
  connection(): Promise<Connection>;
  /** The heading, read from the database. */
  heading(): Promise<Heading>;
  /** Definition text that re-declares the table. */
  describe(): Promise<string>;
  /**
   * Drops these tables (checked and ordered by `dropTable` of delete.ts), then lets every class
   * of the schema declare again.
   */
  dropTables(tables: { schema: string; table: string }[]): Promise<void>;
}

const BINDINGS = new WeakMap<object, TableBinding>();

/**
 * The binding of a table class, if its schema decorated it.
 *
 * @example
 * ```ts
 * import { bindingOf } from "./binding.ts";
 * console.log(bindingOf(class {}) === undefined); // true
 * ```
 */
export function bindingOf(cls: object): TableBinding | undefined {
  return Object.hasOwn(cls, BOUND) ? BINDINGS.get(cls) : undefined;
}

// Marks the class itself (not its subclasses) as bound: a subclass of a decorated class is a
// different table and needs its own decoration.
const BOUND = Symbol("datajoint.bound");

/**
 * Binds a table class to its schema (called by the schema decorator).
 *
 * @example
 * ```ts
 * import { bind, type TableBinding } from "./binding.ts";
 * declare const binding: TableBinding;
 * class Subject {}
 * bind(Subject, binding);
 * ```
 */
export function bind(cls: object, binding: TableBinding): void {
  Object.defineProperty(cls, BOUND, { value: true });
  BINDINGS.set(cls, binding);
}
