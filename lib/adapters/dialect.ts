/**
 * The SQL dialect contract: everything about *text* that differs between MySQL/MariaDB and
 * PostgreSQL (PGlite speaks PostgreSQL). Dialects are pure: they build strings, they never talk to
 * a server. The declaration compiler (`../declare.ts`) produces a backend-neutral
 * {@link TablePlan}; the dialect turns it into statements.
 *
 * @example
 * ```ts
 * import type { Dialect } from "./dialect.ts";
 * function fullName(d: Dialect, schema: string, table: string): string {
 *   return `${d.quote(schema)}.${d.quote(table)}`;
 * }
 * ```
 *
 * @module
 */
import { DeclarationError } from "../errors.ts";
import type { CoreType } from "../types.ts";

/** A PostgreSQL enum type (`CREATE TYPE "s"."enum_xxxxxxxx" AS ENUM (...)`). */
export interface EnumType {
  /** Schema the type lives in. */
  schema: string;
  /** Type name, `enum_` + 8 hex digits of md5 of the sorted labels joined by `_`. */
  name: string;
  /** Labels in declared order. */
  labels: string[];
}

/** One column of a table plan. */
export interface ColumnPlan {
  /** Column name. */
  name: string;
  /** The column's SQL type in this dialect. */
  sqlType: string;
  /** Emit `NOT NULL`. */
  notNull: boolean;
  /** The SQL default expression (`'x'`, `CURRENT_TIMESTAMP`, `NULL`, `TRUE`), or no clause. */
  default: string | null;
  /** The full stored comment (marker + user comment), unescaped; `null` for no comment. */
  comment: string | null;
  /** Part of the primary key. */
  inKey: boolean;
  /** Copied from a parent through a foreign key (PostgreSQL writes no comment for these). */
  fromForeignKey: boolean;
}

/** A foreign-key constraint. */
export interface ForeignKeyPlan {
  /** Child columns, in the parent's primary-key order. */
  columns: string[];
  /** Parent schema. */
  refSchema: string;
  /** Parent table. */
  refTable: string;
  /** Parent columns. */
  refColumns: string[];
}

/** An index. */
export interface IndexPlan {
  /** Unique index. */
  unique: boolean;
  /** Indexed columns. */
  columns: string[];
  /** `declared` (an index line), `foreignKey` (a `[unique]` foreign key). */
  origin: "declared" | "foreignKey";
}

/** Everything needed to create one table, independent of the backend. */
export interface TablePlan {
  /** Schema (database) name. */
  schema: string;
  /** Table name with tier prefix. */
  table: string;
  /** Table comment. */
  comment: string;
  /** Columns in order. */
  columns: ColumnPlan[];
  /** Primary-key column names in order. */
  primaryKey: string[];
  /** Foreign keys in definition order. */
  foreignKeys: ForeignKeyPlan[];
  /** Declared and unique-FK indexes in definition order. */
  indexes: IndexPlan[];
  /** Column lists of non-unique foreign keys (PostgreSQL may need support indexes for them). */
  foreignKeyIndexCandidates: string[][];
  /** PostgreSQL enum types the columns use that this table declares. */
  enumTypes: EnumType[];
  /**
   * Relation names already used in the schema: PostgreSQL index names live beside the tables of
   * their schema, so a new index name must avoid them.
   */
  takenNames?: readonly string[];
}

/** The statements that create a table. */
export interface CreateStatements {
  /** The `CREATE TABLE IF NOT EXISTS …` statement. */
  create: string;
  /** Statements to run after it, in order (PostgreSQL indexes and comments). */
  post: string[];
}

/**
 * A hidden column (job metadata) without comment, nullable, with a default.
 *
 * @example
 * ```ts
 * import { hiddenColumn } from "./dialect.ts";
 * console.log(hiddenColumn("_job_version", "varchar(64)", "''").notNull); // false
 * ```
 */
export function hiddenColumn(name: string, sqlType: string, dflt: string): ColumnPlan {
  return {
    name,
    sqlType,
    notNull: false,
    default: dflt,
    comment: null,
    inKey: false,
    fromForeignKey: false,
  };
}

/**
 * The `_singleton` primary-key column of a table without a key, with the dialect's `bool` type.
 *
 * @example
 * ```ts
 * import { singletonColumn } from "./dialect.ts";
 * console.log(singletonColumn("boolean").default); // TRUE
 * ```
 */
export function singletonColumn(sqlType: string): ColumnPlan {
  return {
    name: "_singleton",
    sqlType,
    notNull: true,
    default: "TRUE",
    comment: ":bool:singleton primary key",
    inKey: true,
    fromForeignKey: false,
  };
}

/**
 * The `FOREIGN KEY … REFERENCES … ON UPDATE CASCADE ON DELETE RESTRICT` clause DataJoint writes.
 *
 * @example
 * ```ts
 * import { foreignKeyClause } from "./dialect.ts";
 * const q = (s: string) => `"${s}"`;
 * foreignKeyClause({ columns: ["a"], refSchema: "s", refTable: "t", refColumns: ["a"] }, q);
 * // FOREIGN KEY ("a") REFERENCES "s"."t" ("a") ON UPDATE CASCADE ON DELETE RESTRICT
 * ```
 */
export function foreignKeyClause(fk: ForeignKeyPlan, quote: (id: string) => string): string {
  const cols = (names: string[]) => names.map(quote).join(", ");
  return `FOREIGN KEY (${cols(fk.columns)}) REFERENCES ${quote(fk.refSchema)}.${
    quote(fk.refTable)
  } (${cols(fk.refColumns)}) ON UPDATE CASCADE ON DELETE RESTRICT`;
}

/**
 * The SQL type of a core type that both dialects spell alike but for their names: `datetime[(n)]`
 * under the dialect's `datetime` name, `char(n)`/`varchar(n)`, and the rest from `names`
 * (decimal and enum types differ more, and each dialect handles them first).
 *
 * @example
 * ```ts
 * import { mappedCoreType } from "./dialect.ts";
 * import { parseType } from "../types.ts";
 * const t = parseType("datetime(3)") as never;
 * console.log(mappedCoreType(t, {}, "timestamp", "PostgreSQL")); // timestamp(3)
 * ```
 */
export function mappedCoreType(
  core: CoreType,
  names: Readonly<Record<string, string>>,
  datetime: string,
  backend: string,
): string {
  switch (core.name) {
    case "datetime":
      return core.fsp === undefined ? datetime : `${datetime}(${core.fsp})`;
    case "char":
    case "varchar":
      return `${core.name}(${core.length})`;
    default: {
      const sql = names[core.name];
      if (sql === undefined) throw new DeclarationError(`No ${backend} type for ${core.text}`);
      return sql;
    }
  }
}

/**
 * A column's definition without comment: `` `name` type [NOT NULL] [DEFAULT x] ``.
 *
 * @example
 * ```ts
 * import { columnDefinition } from "./dialect.ts";
 * const q = (s: string) => `"${s}"`;
 * const c = { name: "a", sqlType: "int", notNull: true, default: "0", comment: null, inKey: false, fromForeignKey: false };
 * console.log(columnDefinition(c, q)); // "a" int NOT NULL DEFAULT 0
 * ```
 */
export function columnDefinition(c: ColumnPlan, quote: (id: string) => string): string {
  let s = `${quote(c.name)} ${c.sqlType}`;
  if (c.notNull) s += " NOT NULL";
  if (c.default !== null) s += ` DEFAULT ${c.default}`;
  return s;
}

/**
 * The lines every `CREATE TABLE` starts with: the columns (as `column` writes them), the primary
 * key, then the foreign keys.
 *
 * @example
 * ```ts
 * import { columnDefinition, tableLines, type TablePlan } from "./dialect.ts";
 * declare const plan: TablePlan;
 * const q = (s: string) => `"${s}"`;
 * const lines = tableLines(plan, (c) => columnDefinition(c, q), q);
 * ```
 */
export function tableLines(
  plan: TablePlan,
  column: (c: ColumnPlan) => string,
  quote: (id: string) => string,
): string[] {
  const lines = plan.columns.map(column);
  lines.push(`PRIMARY KEY (${plan.primaryKey.map(quote).join(", ")})`);
  for (const fk of plan.foreignKeys) lines.push(foreignKeyClause(fk, quote));
  return lines;
}

/**
 * `INSERT INTO schema.~lineage (table_name, attribute_name, lineage) VALUES …` for `rows` rows,
 * column names unquoted as DataJoint Python writes them; each dialect adds its upsert clause.
 *
 * @example
 * ```ts
 * import { lineageInsert } from "./dialect.ts";
 * const q = (s: string) => `"${s}"`;
 * console.log(lineageInsert("lab", 1, (n) => `$${n}`, q));
 * // INSERT INTO "lab"."~lineage" (table_name, attribute_name, lineage) VALUES ($1, $2, $3)
 * ```
 */
export function lineageInsert(
  schema: string,
  rows: number,
  placeholder: (n: number) => string,
  quote: (id: string) => string,
): string {
  return `INSERT INTO ${quote(schema)}.${
    quote("~lineage")
  } (table_name, attribute_name, lineage) VALUES ${valuesList(rows, 3, placeholder)}`;
}

/**
 * SQL text generation for one backend family.
 *
 * @example
 * ```ts
 * import type { Dialect } from "./dialect.ts";
 * const literal = (d: Dialect) => d.stringLiteral("it's");
 * ```
 */
export interface Dialect {
  /** `mysql` or `postgresql`. */
  readonly name: "mysql" | "postgresql";
  /** Longest table name the server accepts. */
  readonly maxTableName: number;
  /** Quote an identifier. */
  quote(identifier: string): string;
  /** A string literal that reads back as `value`. */
  stringLiteral(value: string): string;
  /**
   * The column type of a core type; `schema` is where a PostgreSQL enum type is created. Returns
   * the enum type it needs, if any.
   */
  coreType(core: CoreType, schema: string): { sql: string; enumType?: EnumType };
  /** Hidden job-metadata columns for auto-populated tables. */
  jobMetadataColumns(): ColumnPlan[];
  /** The `_singleton` column of a table without primary key. */
  singletonColumn(): ColumnPlan;
  /** `CREATE TABLE` plus post statements. */
  createTable(plan: TablePlan): CreateStatements;
  /** `CREATE TYPE … AS ENUM (…)` (PostgreSQL only). */
  createEnumType(type: EnumType): string;
  /** `CREATE TABLE IF NOT EXISTS ~lineage …`. */
  createLineageTable(schema: string): string;
  /** Upsert of `~lineage` rows with `3 × rows` placeholders from `placeholder`. */
  upsertLineage(schema: string, rows: number, placeholder: (n: number) => string): string;
  /** `CREATE DATABASE` / `CREATE SCHEMA`. */
  createSchema(schema: string): string;
  /** Drop a schema and everything in it. */
  dropSchema(schema: string): string;
  /** `START TRANSACTION …` / `BEGIN`. */
  readonly beginTransaction: string;
  /** The parameter of a `bool` value (MySQL `1`/`0`, PostgreSQL `true`/`false`). */
  boolParam(value: boolean): unknown;
  /** The parameter of a canonical uuid text (MySQL 16 bytes for `binary(16)`, PostgreSQL text). */
  uuidParam(canonical: string): unknown;
  /** A `uuid` column value as the driver returns it → canonical lowercase text. */
  uuidValue(raw: unknown): string;
  /**
   * `INSERT` of `rows` rows of `columns` with placeholders. `onDuplicate`: `"error"` (plain),
   * `"skip"` (keep the existing row), `"replace"` (overwrite the existing row's non-key columns;
   * PostgreSQL `ON CONFLICT (primaryKey) DO UPDATE`, never `REPLACE INTO`).
   */
  insert(
    target: { schema: string; table: string; primaryKey: string[] },
    columns: string[],
    rows: number,
    placeholder: (n: number) => string,
    onDuplicate: "error" | "skip" | "replace",
  ): string;
  /**
   * Whether the affected-row count of an {@link Dialect.insert} that skips or replaces duplicates
   * counts the duplicates it met (MySQL: with the client's FOUND_ROWS flag a skipped row counts
   * 1, an overwritten one 1 or 2) rather than exactly the rows it inserted plus those it
   * overwrote (PostgreSQL).
   */
  readonly upsertCountsFoundRows: boolean;
}

/**
 * `INSERT INTO schema.table (columns) VALUES (…), (…)` without any conflict clause.
 *
 * @example
 * ```ts
 * import { insertInto } from "./dialect.ts";
 * const q = (id: string) => `"${id}"`;
 * console.log(insertInto({ schema: "lab", table: "t" }, ["a"], 2, (n) => `$${n}`, q));
 * // INSERT INTO "lab"."t" ("a") VALUES ($1), ($2)
 * ```
 */
export function insertInto(
  target: { schema: string; table: string },
  columns: string[],
  rows: number,
  placeholder: (n: number) => string,
  quote: (identifier: string) => string,
): string {
  return `INSERT INTO ${quote(target.schema)}.${quote(target.table)} (${
    columns.map(quote).join(", ")
  }) VALUES ${valuesList(rows, columns.length, placeholder)}`;
}

/**
 * The `VALUES (…), (…)` list of an insert: `rows` groups of `width` placeholders.
 *
 * @example
 * ```ts
 * import { valuesList } from "./dialect.ts";
 * console.log(valuesList(2, 2, (n) => `$${n}`)); // ($1, $2), ($3, $4)
 * ```
 */
export function valuesList(
  rows: number,
  width: number,
  placeholder: (n: number) => string,
): string {
  const groups: string[] = [];
  for (let r = 0; r < rows; r++) {
    const one: string[] = [];
    for (let c = 0; c < width; c++) one.push(placeholder(r * width + c + 1));
    groups.push(`(${one.join(", ")})`);
  }
  return groups.join(", ");
}
