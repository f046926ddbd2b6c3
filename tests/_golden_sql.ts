/**
 * Test helper: loads the golden DDL (`golden/ddl/mysql.sql` or `postgresql.sql`, optionally the
 * `*-data.sql` rows) into a scratch schema through a {@link Driver}, and reads `tables.json`.
 *
 * The files end every statement with `;` at the end of a line and never contain `;` followed by
 * a newline inside a statement, so dropping `--` comment lines and splitting on `/;\s*$/m` gives
 * the statements, which run one at a time (drivers need not support multi-statement text). The
 * schema name `dj_golden` is replaced textually, as the golden README prescribes.
 *
 * @example
 * ```ts
 * import { GOLDEN_DDL, loadGoldenSql } from "./_golden_sql.ts";
 * import type { Driver } from "../lib/adapters/driver.ts";
 *
 * Deno.test({ name: "golden", ignore: GOLDEN_DDL.mysql.ignore, fn: async () => {
 *   const db = undefined as unknown as Driver; // open one
 *   await loadGoldenSql(db, "dj_scratch_1");
 * } });
 * ```
 *
 * @module
 */
import type { Driver } from "../lib/adapters/driver.ts";
import { type GoldenFile, goldenFile, readGoldenJson } from "./_golden.ts";

/** The golden DDL files, per backend family, and `tables.json`. */
export const GOLDEN_DDL: {
  readonly mysql: GoldenFile;
  readonly mysqlData: GoldenFile;
  readonly postgresql: GoldenFile;
  readonly postgresqlData: GoldenFile;
  readonly tables: GoldenFile;
} = {
  mysql: goldenFile("ddl/mysql.sql"),
  mysqlData: goldenFile("ddl/mysql-data.sql"),
  postgresql: goldenFile("ddl/postgresql.sql"),
  postgresqlData: goldenFile("ddl/postgresql-data.sql"),
  tables: goldenFile("ddl/tables.json"),
};

/** The schema name used throughout the golden files. */
export const GOLDEN_SCHEMA = "dj_golden";

/** One column of a `tables.json` entry (fields as in the golden README). */
export interface GoldenColumn {
  /** Column name. */
  name: string;
  /** Whether it is part of the primary key. */
  in_primary_key: boolean;
  /** Whether NULL is allowed. */
  nullable: boolean;
  /** SQL type as DataJoint declares it on MySQL. */
  sql_type_mysql: string;
  /** MariaDB `column_type`. */
  sql_type_mysql_reported: string;
  /** SQL type as DataJoint declares it on PostgreSQL. */
  sql_type_postgresql: string;
  /** PostgreSQL `format_type`. */
  sql_type_postgresql_reported: string;
  /** MariaDB `column_default`. */
  default_mysql_reported: string | null;
  /** PostgreSQL `pg_get_expr(adbin)`. */
  default_postgresql_reported: string | null;
  /** MySQL column comment. */
  comment: string;
  /** PostgreSQL `col_description` (`null` for FK-inherited columns). */
  comment_postgresql: string | null;
  /** The column line DataJoint emitted on MySQL. */
  ddl_line_mysql?: string;
  /** The column line DataJoint emitted on PostgreSQL. */
  ddl_line_postgresql?: string;
}

/** One foreign key of a `tables.json` entry. */
export interface GoldenForeignKey {
  /** Referencing columns. */
  columns: string[];
  /** Backend-quoted MySQL full name of the referenced table. */
  references: string;
  /** Referenced columns. */
  referenced_columns: string[];
}

/** One `~lineage` row. */
export interface GoldenLineageRow {
  /** Only in the `~lineage` entry's `rows`. */
  table_name?: string;
  /** Attribute name. */
  attribute_name: string;
  /** Lineage string. */
  lineage: string;
}

/** One table of `tables.json`. */
export interface GoldenTable {
  /** SQL table name. */
  table: string;
  /** Tier (`hidden` for `~lineage`). */
  tier: string;
  /** Table comment as stored. */
  table_comment: string;
  /** Primary-key columns in order. */
  primary_key: string[];
  /** Foreign keys. */
  foreign_keys: GoldenForeignKey[];
  /** Index lines as DataJoint declared them, e.g. ``index (`label`)``. */
  indexes: string[];
  /** This table's `~lineage` rows. */
  lineage?: GoldenLineageRow[];
  /** All `~lineage` rows (only in the `~lineage` entry). */
  rows?: GoldenLineageRow[];
  /** Columns in order. */
  columns: GoldenColumn[];
}

/**
 * The tables of `tables.json`, schema name unchanged (`dj_golden`).
 *
 * @example
 * ```ts
 * import { readGoldenTables } from "./_golden_sql.ts";
 * const tables = await readGoldenTables();
 * console.log(tables.map((t) => t.table));
 * ```
 */
export async function readGoldenTables(): Promise<GoldenTable[]> {
  const doc = await readGoldenJson(GOLDEN_DDL.tables) as { tables: GoldenTable[] };
  return doc.tables;
}

/**
 * Splits golden SQL text into statements: `--` comment lines dropped, split on `;` at line ends,
 * `dj_golden` replaced by `schema`.
 *
 * @example
 * ```ts
 * import { goldenStatements } from "./_golden_sql.ts";
 * goldenStatements("-- c\nCREATE SCHEMA dj_golden;\n", "s1"); // ["CREATE SCHEMA s1"]
 * ```
 */
export function goldenStatements(text: string, schema: string): string[] {
  const body = text.split("\n").filter((line) => !line.trimStart().startsWith("--")).join("\n");
  return body.split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => s.replaceAll(GOLDEN_SCHEMA, schema));
}

/** Options for {@link loadGoldenSql}. */
export interface LoadGoldenOptions {
  /** Also load the golden rows (`*-data.sql`). Default `false`. */
  data?: boolean;
}

/**
 * Executes the golden DDL for the driver's backend (`mysql.sql` for MySQL/MariaDB,
 * `postgresql.sql` for PostgreSQL and PGlite) with `dj_golden` renamed to `schema`, which must
 * not exist yet (PostgreSQL's `CREATE TYPE` fails on an existing type). MySQL's leading
 * `SET SESSION sql_mode` is DataJoint's own connection setting and is run as is.
 * Throws when the golden folder is missing (tests are ignored before that outside CI).
 *
 * @example
 * ```ts
 * import { loadGoldenSql } from "./_golden_sql.ts";
 * import type { Driver } from "../lib/adapters/driver.ts";
 * async function setUp(db: Driver): Promise<void> {
 *   await loadGoldenSql(db, "dj_scratch_1", { data: true });
 * }
 * ```
 */
export async function loadGoldenSql(
  db: Driver,
  schema: string,
  options: LoadGoldenOptions = {},
): Promise<void> {
  const mysql = db.backend === "mysql";
  const files = [mysql ? GOLDEN_DDL.mysql : GOLDEN_DDL.postgresql];
  if (options.data) files.push(mysql ? GOLDEN_DDL.mysqlData : GOLDEN_DDL.postgresqlData);
  for (const file of files) {
    if (!file.found) {
      throw new Error(`golden file ${file.url.pathname} is missing (CI=true requires it)`);
    }
    for (const sql of goldenStatements(await Deno.readTextFile(file.url), schema)) {
      await db.execute(sql);
    }
  }
}
