/**
 * The catalog layer: what a database holds about the tables of one schema (columns, keys,
 * indexes, comments, `~lineage` rows), read in a constant number of queries per schema and
 * normalised the same way on MySQL/MariaDB, PostgreSQL and PGlite.
 *
 * This module holds the shared types, the pure normalisation helpers and the assembly of query
 * rows into a {@link SchemaCatalog}. The per-backend readers are `mysql_catalog.ts`
 * (`mysqlCatalog`) and `postgres_catalog.ts` (`postgresCatalog`, also used for PGlite).
 *
 * Normal forms (what every backend reports):
 *
 * - `sqlType`: lowercase type keywords. MySQL integer display widths are removed (`int(11)` →
 *   `int`); PostgreSQL names are mapped to their short declarable form (`character varying(n)` →
 *   `varchar(n)`, `character(n)` → `char(n)`, `numeric(p,s)` → `decimal(p,s)`,
 *   `timestamp(n) without time zone` → `timestamp(n)`, enum → the type name `enum_xxxxxxxx`).
 * - `defaultText`: a SQL literal in standard SQL (quotes doubled, no backslash escapes), casts
 *   stripped, numbers unquoted on numeric columns, `CURRENT_TIMESTAMP[(n)]` spelled in capitals;
 *   `null` when there is no default or the default is NULL.
 *
 * @example
 * ```ts
 * import { normaliseCurrentTimestamp, quoteSqlString } from "./catalog.ts";
 *
 * quoteSqlString("it's"); // "'it''s'"
 * normaliseCurrentTimestamp("current_timestamp(3)"); // "CURRENT_TIMESTAMP(3)"
 * ```
 *
 * @module
 */
import type { Driver, Row } from "./driver.ts";

// Re-exported so that the catalog's signatures document themselves from this module.
export type { Backend, Driver, ExecResult, Row } from "./driver.ts";

/** A PostgreSQL enum type a column uses (MySQL enums stay inline in `sqlType`). */
export interface EnumTypeInfo {
  /** Schema the type lives in (`pg_type.typnamespace`), which may differ from the table's. */
  schema: string;
  /** Type name, e.g. `enum_e54fc739`. */
  name: string;
  /** Labels in their sort order (`pg_enum.enumsortorder`). */
  labels: string[];
}

/** One column as the database reports it, normalised (see the module documentation). */
export interface ColumnInfo {
  /** Column name, exactly as stored. */
  name: string;
  /** 1-based position among the table's live columns (dense: dropped columns leave no gap). */
  ordinal: number;
  /** Normalised SQL type, e.g. `int`, `varchar(32)`, `enum('M','F','U')`, `timestamp(3)`. */
  sqlType: string;
  /** The PostgreSQL enum type of the column (only for enum columns on PostgreSQL/PGlite). */
  enumType?: EnumTypeInfo;
  /**
   * Present and `true` when the column holds JSON: MySQL 8 `json`, MariaDB `longtext` with a
   * `json_valid` CHECK, PostgreSQL `json`/`jsonb`.
   */
  jsonText?: boolean;
  /** Whether NULL is allowed. */
  nullable: boolean;
  /** The default as a normalised SQL literal or expression; `null` for none or NULL. */
  defaultText: string | null;
  /** The stored column comment, `""` when there is none. */
  comment: string;
  /** MySQL `auto_increment`; PostgreSQL identity or `serial` (`nextval`) columns. */
  autoIncrement: boolean;
}

/** A foreign key of a table. */
export interface ForeignKeyInfo {
  /** Constraint name (server-generated names differ between backends). */
  name: string;
  /** Referencing columns, in constraint order. */
  columns: string[];
  /** Schema of the referenced table. */
  refSchema: string;
  /** Referenced table. */
  refTable: string;
  /** Referenced columns, paired with `columns`. */
  refColumns: string[];
}

/** A secondary index (the primary key is not listed). */
export interface IndexInfo {
  /** Index name. */
  name: string;
  /** Whether it is a unique index. */
  unique: boolean;
  /** Indexed columns in index order (an expression appears as its text). */
  columns: string[];
  /**
   * MySQL/MariaDB only: `true` when the index looks like the one InnoDB creates by itself for a
   * foreign key (non-unique, exactly the FK's columns, named after the constraint or its first
   * column). A heuristic: an explicit index of that shape and name is reported the same way.
   */
  implicit?: boolean;
}

/** One base table. */
export interface TableInfo {
  /** Table name, exactly as stored (with tier prefix, e.g. `#species`, `__analysis`). */
  name: string;
  /** Table comment, `""` when there is none. */
  comment: string;
  /** Columns in ordinal order. */
  columns: ColumnInfo[];
  /** Primary-key column names in key order (empty when the table has no primary key). */
  primaryKey: string[];
  /** Foreign keys, in declaration order where the server tells it. */
  foreignKeys: ForeignKeyInfo[];
  /** Secondary indexes. */
  indexes: IndexInfo[];
}

/** Everything loaded about one schema. */
export interface SchemaCatalog {
  /** The schema (MySQL database, PostgreSQL schema). */
  schema: string;
  /** Tables by name, in code-point order of their names. */
  tables: Map<string, TableInfo>;
  /**
   * `~lineage` rows: table → attribute → lineage string (`schema.table.attribute`); `null` when
   * the schema has no `~lineage` table (DataJoint then disables semantic checks).
   */
  lineage: Map<string, Map<string, string>> | null;
}

/** A foreign key, from any schema, that points into a given schema. */
export interface ReferencingTable {
  /** Schema of the referencing (child) table. */
  schema: string;
  /** The referencing table. */
  table: string;
  /** The referenced table inside the schema that was asked about. */
  refTable: string;
}

/**
 * Reading a backend's catalog. One implementation per backend family: `mysqlCatalog`
 * (MySQL/MariaDB) and `postgresCatalog` (PostgreSQL and PGlite). Every name goes to the server
 * as a bound parameter, except the `~lineage` table name, which is quoted as an identifier.
 *
 * @example
 * ```ts
 * import type { Catalog } from "./catalog.ts";
 * import type { Driver } from "./driver.ts";
 *
 * async function describeSchema(catalog: Catalog, db: Driver, schema: string): Promise<void> {
 *   const { tables } = await catalog.loadSchema(db, schema);
 *   for (const t of tables.values()) console.log(t.name, t.primaryKey.join(", "));
 * }
 * ```
 */
export interface Catalog {
  /** All schemas except the server's system schemas, in code-point order. */
  listSchemas(db: Driver): Promise<string[]>;
  /** Whether the schema exists (exact, case-sensitive name). */
  schemaExists(db: Driver, schema: string): Promise<boolean>;
  /** Base tables of the schema, hidden ones (`~lineage`, `~~jobs`) included, in code-point order. */
  listTables(db: Driver, schema: string): Promise<string[]>;
  /**
   * Loads tables, columns, keys, indexes and lineage of a schema in a constant number of
   * queries, whatever the number of tables or columns. `tables` restricts the result (and the
   * lineage map) to those tables; names that do not exist are left out.
   */
  loadSchema(db: Driver, schema: string, tables?: readonly string[]): Promise<SchemaCatalog>;
  /** Foreign keys from any schema (this one included) into `schema`, one query. */
  referencingTables(db: Driver, schema: string): Promise<ReferencingTable[]>;
}

// ------------------------------------------------------------------------------------------------
// Pure helpers

/**
 * A standard SQL string literal: wrapped in single quotes, quotes doubled, nothing else escaped.
 *
 * @example
 * ```ts
 * import { quoteSqlString } from "./catalog.ts";
 * quoteSqlString("it's"); // "'it''s'"
 * ```
 */
export function quoteSqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * The value of a standard SQL string literal (`'it''s'` → `it's`), or `undefined` when the text
 * is not exactly one such literal.
 *
 * @example
 * ```ts
 * import { unquoteSqlString } from "./catalog.ts";
 * unquoteSqlString("'it''s'"); // "it's"
 * unquoteSqlString("1"); // undefined
 * ```
 */
export function unquoteSqlString(literal: string): string | undefined {
  const m = /^'((?:[^']|'')*)'$/s.exec(literal);
  return m ? m[1].replaceAll("''", "'") : undefined;
}

const NUMERIC_TYPE =
  /^(?:tinyint|smallint|mediumint|int|integer|bigint|decimal|numeric|float|double|real|double precision)\b/i;

/**
 * Whether a normalised SQL type is numeric (integers, decimals, floats on either backend).
 * Numeric defaults are reported as bare numbers.
 *
 * @example
 * ```ts
 * import { isNumericSqlType } from "./catalog.ts";
 * isNumericSqlType("decimal(6,2)"); // true
 * isNumericSqlType("varchar(8)"); // false
 * ```
 */
export function isNumericSqlType(sqlType: string): boolean {
  return NUMERIC_TYPE.test(sqlType.trim());
}

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Whether a text is a plain decimal number as servers print numeric defaults.
 *
 * @example
 * ```ts
 * import { isNumberText } from "./catalog.ts";
 * isNumberText("-1.5"); // true
 * isNumberText("NaN"); // false
 * ```
 */
export function isNumberText(text: string): boolean {
  return NUMBER_TEXT.test(text);
}

/**
 * Spells a current-timestamp default the same way on every server: `current_timestamp()`,
 * `now()` and `CURRENT_TIMESTAMP` become `CURRENT_TIMESTAMP`, a precision is kept
 * (`current_timestamp(3)` → `CURRENT_TIMESTAMP(3)`). Other text is returned unchanged.
 *
 * @example
 * ```ts
 * import { normaliseCurrentTimestamp } from "./catalog.ts";
 * normaliseCurrentTimestamp("current_timestamp()"); // "CURRENT_TIMESTAMP"
 * normaliseCurrentTimestamp("now(6)"); // "CURRENT_TIMESTAMP(6)"
 * ```
 */
export function normaliseCurrentTimestamp(text: string): string {
  const m = /^(?:current_timestamp|now)\s*(?:\(\s*(\d*)\s*\))?$/i.exec(text.trim());
  if (!m) return text;
  return m[1] ? `CURRENT_TIMESTAMP(${m[1]})` : "CURRENT_TIMESTAMP";
}

/**
 * The normal form of a string-literal default: a bare number when the column is numeric and the
 * text is a number (servers quote numbers differently), otherwise a standard SQL literal.
 *
 * @example
 * ```ts
 * import { literalDefault } from "./catalog.ts";
 * literalDefault("0", "bigint"); // "0"
 * literalDefault("XX", "char(4)"); // "'XX'"
 * ```
 */
export function literalDefault(value: string, sqlType: string): string {
  return isNumericSqlType(sqlType) && isNumberText(value) ? value : quoteSqlString(value);
}

/**
 * Compares strings by code point, with runs of digits compared as numbers, so that MySQL's
 * generated names order as declared (`t_ibfk_2` before `t_ibfk_10`).
 *
 * @example
 * ```ts
 * import { naturalCompare } from "./catalog.ts";
 * ["a_10", "a_2"].sort(naturalCompare); // ["a_2", "a_10"]
 * ```
 */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const diff = BigInt(x) - BigInt(y);
      if (diff !== 0n) return diff < 0n ? -1 : 1;
      return x.length - y.length;
    }
    return codePointCompare(x, y);
  }
  return pa.length - pb.length;
}

/**
 * Compares strings by code point (locale-independent, the same order on every machine).
 *
 * @example
 * ```ts
 * import { codePointCompare } from "./catalog.ts";
 * ["b", "B", "a"].sort(codePointCompare); // ["B", "a", "b"]
 * ```
 */
export function codePointCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ------------------------------------------------------------------------------------------------
// Row access: drivers normalise values, but information_schema columns differ in type between
// servers (bigint counts, binary-collated text on MySQL 8), so every read goes through these.

const decoder = new TextDecoder();

/**
 * A row field as text (`Uint8Array` decoded as UTF-8), or `null`.
 *
 * @example
 * ```ts
 * import { textOf } from "./catalog.ts";
 * textOf({ a: new Uint8Array([104, 105]) }, "a"); // "hi"
 * ```
 */
export function textOf(row: Row, key: string): string | null {
  const v = row[key];
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return decoder.decode(v);
  return String(v);
}

/**
 * A row field as a number (from `number`, `bigint` or numeric text).
 *
 * @example
 * ```ts
 * import { numberOf } from "./catalog.ts";
 * numberOf({ n: 3n }, "n"); // 3
 * ```
 */
export function numberOf(row: Row, key: string): number {
  const v = row[key];
  const n = typeof v === "number" ? v : Number(typeof v === "bigint" ? v : textOf(row, key));
  if (!Number.isFinite(n)) throw new Error(`catalog: field ${key} is not a number: ${String(v)}`);
  return n;
}

/**
 * `count` placeholders starting at number `first`, comma-separated, for an `IN (…)` list.
 *
 * @example
 * ```ts
 * import { placeholders } from "./catalog.ts";
 * import type { Driver } from "./driver.ts";
 * const list = (db: Driver) => placeholders(db, 2, 3); // "$2, $3, $4" on PostgreSQL
 * ```
 */
export function placeholders(db: Driver, first: number, count: number): string {
  return Array.from({ length: count }, (_, i) => db.placeholder(first + i)).join(", ");
}

// ------------------------------------------------------------------------------------------------
// Assembly

/**
 * A row field as text, `""` for NULL.
 *
 * @example
 * ```ts
 * import { textOrEmpty } from "./catalog.ts";
 * textOrEmpty({ a: null }, "a"); // ""
 * ```
 */
export function textOrEmpty(row: Row, key: string): string {
  return textOf(row, key) ?? "";
}

/** The tables a catalog query found, narrowed to the requested ones. */
export interface SelectedTables {
  /** The requested tables that exist, with their comments. */
  tables: { name: string; comment: string }[];
  /** The requested names (all when undefined). */
  wanted: Set<string> | undefined;
  /** The names to filter further queries by (undefined: no restriction). */
  names: string[] | undefined;
  /** Whether the schema has a `~lineage` table. */
  hasLineage: boolean;
}

/**
 * The tables of a schema from rows with `table_name` and `table_comment`, narrowed to `restrict`
 * (exact names) when given.
 *
 * @example
 * ```ts
 * import { selectTables } from "./catalog.ts";
 * const rows = [{ table_name: "t", table_comment: "" }, { table_name: "~lineage", table_comment: "" }];
 * console.log(selectTables(rows, ["t"]).names, selectTables(rows).hasLineage); // [ "t" ] true
 * ```
 */
export function selectTables(rows: Row[], restrict?: readonly string[]): SelectedTables {
  const wanted = restrict === undefined ? undefined : new Set(restrict);
  const tables = rows
    .map((r) => ({ name: textOrEmpty(r, "table_name"), comment: textOrEmpty(r, "table_comment") }))
    .filter((t) => wanted === undefined || wanted.has(t.name));
  return {
    tables,
    wanted,
    names: restrict === undefined ? undefined : tables.map((t) => t.name),
    hasLineage: rows.some((r) => textOrEmpty(r, "table_name") === "~lineage"),
  };
}

/**
 * Reads the `~lineage` rows of a schema (of the tables in `names`, all when undefined), keeping
 * those `keep` accepts (the exact-name check after the server's collation).
 *
 * @example
 * ```ts
 * import { readLineage } from "./catalog.ts";
 * import type { Driver } from "./driver.ts";
 * declare const db: Driver;
 * const rows = await readLineage(db, "lab", undefined, (id) => `"${id}"`, () => true);
 * ```
 */
export async function readLineage(
  db: Driver,
  schema: string,
  names: readonly string[] | undefined,
  quote: (id: string) => string,
  keep: (row: Row) => boolean,
): Promise<CatalogLineageRow[]> {
  const rows = await db.query(
    `SELECT table_name AS table_name, attribute_name AS attribute_name, lineage AS lineage ` +
      `FROM ${quote(schema)}.${quote("~lineage")}` +
      (names === undefined ? "" : ` WHERE table_name IN (${placeholders(db, 1, names.length)})`),
    names ?? [],
  );
  return rows.filter(keep).map((r) => ({
    table: textOrEmpty(r, "table_name"),
    attribute: textOrEmpty(r, "attribute_name"),
    lineage: textOrEmpty(r, "lineage"),
  }));
}

/**
 * The order of referencing tables: by schema, table, then referenced table (code points).
 *
 * @example
 * ```ts
 * import { compareReferencing } from "./catalog.ts";
 * const a = { schema: "a", table: "t", refTable: "p" };
 * console.log(compareReferencing(a, { ...a, table: "u" })); // -1
 * ```
 */
export function compareReferencing(a: ReferencingTable, b: ReferencingTable): number {
  return codePointCompare(a.schema, b.schema) || codePointCompare(a.table, b.table) ||
    codePointCompare(a.refTable, b.refTable);
}

/** A column row with the table it belongs to (input to {@link assembleSchemaCatalog}). */
export interface CatalogColumnRow extends ColumnInfo {
  /** Table the column belongs to. */
  table: string;
}

/** One column of a primary or foreign key (input to {@link assembleSchemaCatalog}). */
export interface CatalogKeyRow {
  /** Table owning the constraint. */
  table: string;
  /** Constraint name. */
  constraint: string;
  /** Primary key or foreign key. */
  kind: "primary" | "foreign";
  /** Column of the constraint. */
  column: string;
  /** Foreign keys: referenced schema. */
  refSchema?: string;
  /** Foreign keys: referenced table. */
  refTable?: string;
  /** Foreign keys: referenced column paired with `column`. */
  refColumn?: string;
}

/** One column of a secondary index (input to {@link assembleSchemaCatalog}). */
export interface CatalogIndexRow {
  /** Table owning the index. */
  table: string;
  /** Index name. */
  index: string;
  /** Whether the index is unique. */
  unique: boolean;
  /** Column (or expression text) at this position. */
  column: string;
}

/** One `~lineage` row. */
export interface CatalogLineageRow {
  /** Table within the schema. */
  table: string;
  /** Attribute of that table. */
  attribute: string;
  /** Lineage string, `schema.table.attribute`. */
  lineage: string;
}

/**
 * What a backend reader fetched for one schema. Key and index rows must arrive grouped per
 * constraint and in column order; constraints and indexes keep their first-appearance order.
 */
export interface CatalogRows {
  /** The schema. */
  schema: string;
  /** Tables to report, with comments. */
  tables: readonly { name: string; comment: string }[];
  /** Column rows (any order; sorted by ordinal here). */
  columns: readonly CatalogColumnRow[];
  /** Primary- and foreign-key column rows. */
  keys: readonly CatalogKeyRow[];
  /** Secondary-index column rows. */
  indexes: readonly CatalogIndexRow[];
  /**
   * `~lineage` rows, or `null` when the schema has no `~lineage` table. Kept as given (also rows
   * of tables that no longer exist); readers apply a `tables` restriction themselves.
   */
  lineage: readonly CatalogLineageRow[] | null;
}

/**
 * Builds a {@link SchemaCatalog} from backend rows. Rows of tables not in `rows.tables` are
 * ignored (this is how a `tables` restriction is applied exactly, whatever the server's
 * collation did with the `IN` list).
 *
 * @example
 * ```ts
 * import { assembleSchemaCatalog } from "./catalog.ts";
 *
 * const cat = assembleSchemaCatalog({
 *   schema: "lab",
 *   tables: [{ name: "t", comment: "" }],
 *   columns: [{ table: "t", name: "id", ordinal: 1, sqlType: "int", nullable: false,
 *     defaultText: null, comment: ":int32:", autoIncrement: false }],
 *   keys: [{ table: "t", constraint: "PRIMARY", kind: "primary", column: "id" }],
 *   indexes: [],
 *   lineage: null,
 * });
 * cat.tables.get("t")?.primaryKey; // ["id"]
 * ```
 */
export function assembleSchemaCatalog(rows: CatalogRows): SchemaCatalog {
  const tables = new Map<string, TableInfo>();
  for (const t of [...rows.tables].sort((a, b) => codePointCompare(a.name, b.name))) {
    tables.set(t.name, {
      name: t.name,
      comment: t.comment,
      columns: [],
      primaryKey: [],
      foreignKeys: [],
      indexes: [],
    });
  }
  for (const { table, ...column } of rows.columns) tables.get(table)?.columns.push(column);
  for (const t of tables.values()) {
    t.columns.sort((a, b) => a.ordinal - b.ordinal);
    t.columns.forEach((c, i) => (c.ordinal = i + 1));
  }
  const fks = new Map<string, ForeignKeyInfo>();
  for (const k of rows.keys) {
    const t = tables.get(k.table);
    if (!t) continue;
    if (k.kind === "primary") {
      t.primaryKey.push(k.column);
      continue;
    }
    const id = `${k.table}\u0000${k.constraint}`;
    let fk = fks.get(id);
    if (!fk) {
      fk = {
        name: k.constraint,
        columns: [],
        refSchema: k.refSchema ?? "",
        refTable: k.refTable ?? "",
        refColumns: [],
      };
      fks.set(id, fk);
      t.foreignKeys.push(fk);
    }
    fk.columns.push(k.column);
    fk.refColumns.push(k.refColumn ?? "");
  }
  const indexes = new Map<string, IndexInfo>();
  for (const r of rows.indexes) {
    const t = tables.get(r.table);
    if (!t) continue;
    const id = `${r.table}\u0000${r.index}`;
    let ix = indexes.get(id);
    if (!ix) {
      ix = { name: r.index, unique: r.unique, columns: [] };
      indexes.set(id, ix);
      t.indexes.push(ix);
    }
    ix.columns.push(r.column);
  }
  let lineage: Map<string, Map<string, string>> | null = null;
  if (rows.lineage !== null) {
    lineage = new Map();
    for (const r of rows.lineage) {
      let m = lineage.get(r.table);
      if (!m) lineage.set(r.table, m = new Map());
      m.set(r.attribute, r.lineage);
    }
  }
  return { schema: rows.schema, tables, lineage };
}

/**
 * The catalog of a schema in which no (requested) table exists; `hasLineage` tells whether the
 * schema has a `~lineage` table.
 *
 * @example
 * ```ts
 * import { emptySchemaCatalog } from "./catalog.ts";
 * console.log(emptySchemaCatalog("lab", false).lineage); // null
 * ```
 */
export function emptySchemaCatalog(schema: string, hasLineage: boolean): SchemaCatalog {
  return assembleSchemaCatalog({
    schema,
    tables: [],
    columns: [],
    keys: [],
    indexes: [],
    lineage: hasLineage ? [] : null,
  });
}
