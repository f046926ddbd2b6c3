/**
 * Catalog reader for MySQL 8 and MariaDB: `information_schema` queries, one per kind of fact,
 * filtered by schema with bound parameters.
 *
 * `loadSchema` issues at most six queries, whatever the number of tables: tables, columns, key
 * columns (primary and foreign), index columns, CHECK constraints (MariaDB only, for JSON
 * detection), and the `~lineage` rows (only when the schema has a `~lineage` table). When no
 * table matches, it stops after the first.
 *
 * MariaDB and MySQL 8 report defaults differently (MariaDB quotes string literals with
 * backslash escapes, spells `current_timestamp()`; MySQL 8 reports bare values and flags
 * expressions with `DEFAULT_GENERATED`), so the server flavour is read with `VERSION()` in the
 * tables query, and both are normalised to the forms described in `catalog.ts`.
 *
 * @example
 * ```ts
 * import { mysqlCatalog } from "./mysql_catalog.ts";
 * import type { Driver } from "./driver.ts";
 *
 * async function tableNames(db: Driver): Promise<string[]> {
 *   return await mysqlCatalog.listTables(db, "lab");
 * }
 * ```
 *
 * @module
 */
import type { Driver, Row } from "./driver.ts";
import {
  assembleSchemaCatalog,
  type Catalog,
  type CatalogColumnRow,
  type CatalogIndexRow,
  type CatalogKeyRow,
  codePointCompare,
  compareReferencing,
  emptySchemaCatalog,
  type ForeignKeyInfo,
  type IndexInfo,
  literalDefault,
  naturalCompare,
  normaliseCurrentTimestamp,
  numberOf,
  placeholders,
  readLineage,
  type ReferencingTable,
  type SchemaCatalog,
  selectTables,
  textOf,
  textOrEmpty,
} from "./catalog.ts";

const SYSTEM_SCHEMAS = ["mysql", "information_schema", "performance_schema", "sys"];

/** Base tables; MariaDB reports system-versioned tables with their own table type. */
const BASE_TABLE_TYPES = "('BASE TABLE', 'SYSTEM VERSIONED')";

/**
 * The normalised form of a MySQL/MariaDB `column_type`: integer (and `year`) display widths
 * removed, the leading type keyword in lowercase; enum/set value lists kept as reported.
 *
 * @example
 * ```ts
 * import { normaliseMysqlType } from "./mysql_catalog.ts";
 * normaliseMysqlType("int(11)"); // "int"
 * normaliseMysqlType("int(10) unsigned"); // "int unsigned"
 * normaliseMysqlType("enum('M','F','U')"); // "enum('M','F','U')"
 * ```
 */
export function normaliseMysqlType(columnType: string): string {
  const t = columnType.trim();
  const m = /^([a-z]+)/i.exec(t);
  if (!m) return t;
  const head = m[1].toLowerCase();
  let rest = t.slice(m[1].length);
  // Display widths are presentation only (MySQL 8.0.19+ dropped them except tinyint(1)).
  if (/^(?:tinyint|smallint|mediumint|int|integer|bigint|year)$/.test(head)) {
    rest = rest.replace(/^\s*\(\s*\d+\s*\)/, "");
  }
  // Keywords after the type (unsigned, zerofill) are lowercased; value lists are not touched.
  if (!rest.startsWith("(")) rest = rest.toLowerCase();
  return head + rest;
}

/**
 * Parses one MariaDB/MySQL single-quoted string literal (quotes doubled or backslash-escaped)
 * and returns its value, or `undefined` when the text is not exactly one literal.
 *
 * @example
 * ```ts
 * import { parseMysqlStringLiteral } from "./mysql_catalog.ts";
 * parseMysqlStringLiteral("'a\\\\b'"); // "a\\b" (one backslash)
 * parseMysqlStringLiteral("'it''s'"); // "it's"
 * ```
 */
export function parseMysqlStringLiteral(text: string): string | undefined {
  if (text.length < 2 || text[0] !== "'" || text[text.length - 1] !== "'") return undefined;
  let out = "";
  for (let i = 1; i < text.length - 1; i++) {
    const ch = text[i];
    if (ch === "'") {
      if (text[i + 1] !== "'" || i + 1 >= text.length - 1) return undefined;
      out += "'";
      i++;
    } else if (ch === "\\") {
      if (i + 1 >= text.length - 1) return undefined;
      const next = text[++i];
      out += ESCAPES[next] ?? (next === "%" || next === "_" ? "\\" + next : next);
    } else {
      out += ch;
    }
  }
  return out;
}

const ESCAPES: Record<string, string> = {
  "0": "\0",
  "b": "\b",
  "n": "\n",
  "r": "\r",
  "t": "\t",
  "Z": "\x1a",
};

/**
 * The normalised default of a MariaDB column from `information_schema.columns.column_default`:
 * SQL NULL (no default) and the text `NULL` (DEFAULT NULL) → `null`; quoted literals re-quoted in
 * standard SQL (numbers unquoted on numeric columns); `current_timestamp(…)` spelled
 * `CURRENT_TIMESTAMP(…)`; anything else (numbers, `b'101'`, expressions) as reported.
 *
 * @example
 * ```ts
 * import { normaliseMariadbDefault } from "./mysql_catalog.ts";
 * normaliseMariadbDefault("'XX'", "char(4)"); // "'XX'"
 * normaliseMariadbDefault("current_timestamp()", "datetime"); // "CURRENT_TIMESTAMP"
 * normaliseMariadbDefault("NULL", "date"); // null
 * ```
 */
export function normaliseMariadbDefault(raw: string | null, sqlType: string): string | null {
  if (raw === null || raw === "NULL") return null;
  const value = parseMysqlStringLiteral(raw);
  if (value !== undefined) return literalDefault(value, sqlType);
  return normaliseCurrentTimestamp(raw);
}

/**
 * The normalised default of a MySQL 8 column: MySQL reports literal defaults unquoted and marks
 * expression defaults with `DEFAULT_GENERATED` in `extra`, so literals of non-numeric columns are
 * quoted here and expressions kept (with `CURRENT_TIMESTAMP` spelled in capitals).
 *
 * @example
 * ```ts
 * import { normaliseMysql8Default } from "./mysql_catalog.ts";
 * normaliseMysql8Default("XX", "", "char(4)"); // "'XX'"
 * normaliseMysql8Default("0", "", "bigint"); // "0"
 * normaliseMysql8Default("CURRENT_TIMESTAMP(3)", "DEFAULT_GENERATED", "datetime(3)"); // "CURRENT_TIMESTAMP(3)"
 * ```
 */
export function normaliseMysql8Default(
  raw: string | null,
  extra: string,
  sqlType: string,
): string | null {
  if (raw === null) return null;
  if (/\bDEFAULT_GENERATED\b/i.test(extra)) return normaliseCurrentTimestamp(raw);
  if (/^bit\b/i.test(sqlType)) return raw;
  return literalDefault(raw, sqlType);
}

/**
 * The column a MariaDB `json_valid(...)` CHECK clause guards (as MariaDB writes the CHECK it adds
 * for a `json` column), or `undefined` for any other clause.
 *
 * @example
 * ```ts
 * import { jsonValidColumn } from "./mysql_catalog.ts";
 * jsonValidColumn("json_valid(`params`)"); // "params"
 * jsonValidColumn("`a` > 0"); // undefined
 * ```
 */
export function jsonValidColumn(checkClause: string): string | undefined {
  const m = /^\s*json_valid\s*\(\s*`((?:[^`]|``)+)`\s*\)\s*$/i.exec(checkClause);
  return m ? m[1].replaceAll("``", "`") : undefined;
}

/**
 * A MySQL identifier in backquotes (backquotes doubled). Used only for the `~lineage` table,
 * whose name cannot be a bound parameter.
 *
 * @example
 * ```ts
 * import { quoteMysqlIdentifier } from "./mysql_catalog.ts";
 * quoteMysqlIdentifier("~lineage"); // "`~lineage`"
 * ```
 */
export function quoteMysqlIdentifier(name: string): string {
  return "`" + name.replaceAll("`", "``") + "`";
}

const text = textOrEmpty;

/**
 * information_schema compares names with a case-insensitive collation on MariaDB, so every row
 * is checked again for the exact schema (and table) name.
 */
function sameName(row: Row, key: string, name: string): boolean {
  return textOf(row, key) === name;
}

/**
 * A table-name filter: ` AND <column> IN (…)` with its parameters, or nothing without a
 * restriction. The exact match is re-checked in JavaScript.
 */
function tableFilter(
  db: Driver,
  column: string,
  first: number,
  tables: readonly string[] | undefined,
): string {
  return tables === undefined
    ? ""
    : ` AND ${column} IN (${placeholders(db, first, tables.length)})`;
}

async function loadSchema(
  db: Driver,
  schema: string,
  restrict?: readonly string[],
): Promise<SchemaCatalog> {
  const p1 = db.placeholder(1);
  const tableRows = await db.query(
    `SELECT table_schema AS table_schema, table_name AS table_name, ` +
      `table_comment AS table_comment, VERSION() AS server_version ` +
      `FROM information_schema.tables ` +
      `WHERE table_schema = ${p1} AND table_type IN ${BASE_TABLE_TYPES}`,
    [schema],
  );
  const all = tableRows.filter((r) => sameName(r, "table_schema", schema));
  const { tables, wanted, names, hasLineage } = selectTables(all, restrict);
  if (tables.length === 0) {
    return emptySchemaCatalog(schema, hasLineage);
  }
  const mariadb = /mariadb/i.test(text(all[0], "server_version"));
  const params = [schema, ...(names ?? [])];
  const keep = (r: Row): boolean =>
    sameName(r, "table_schema", schema) &&
    (wanted === undefined || wanted.has(text(r, "table_name")));

  const columnRows = (await db.query(
    `SELECT table_schema AS table_schema, table_name AS table_name, ` +
      `column_name AS column_name, ordinal_position AS ordinal_position, ` +
      `column_type AS column_type, is_nullable AS is_nullable, ` +
      `column_default AS column_default, extra AS extra, column_comment AS column_comment ` +
      `FROM information_schema.columns WHERE table_schema = ${p1}` +
      tableFilter(db, "table_name", 2, names),
    params,
  )).filter(keep);

  const keyRows = (await db.query(
    `SELECT table_schema AS table_schema, table_name AS table_name, ` +
      `constraint_name AS constraint_name, column_name AS column_name, ` +
      `ordinal_position AS ordinal_position, ` +
      `referenced_table_schema AS referenced_table_schema, ` +
      `referenced_table_name AS referenced_table_name, ` +
      `referenced_column_name AS referenced_column_name ` +
      `FROM information_schema.key_column_usage WHERE table_schema = ${p1}` +
      ` AND (constraint_name = 'PRIMARY' OR referenced_table_name IS NOT NULL)` +
      tableFilter(db, "table_name", 2, names),
    params,
  )).filter(keep);

  const indexRows = (await db.query(
    `SELECT table_schema AS table_schema, table_name AS table_name, ` +
      `index_name AS index_name, non_unique AS non_unique, seq_in_index AS seq_in_index, ` +
      `column_name AS column_name ` +
      `FROM information_schema.statistics WHERE table_schema = ${p1}` +
      ` AND index_name <> 'PRIMARY'` +
      tableFilter(db, "table_name", 2, names),
    params,
  )).filter(keep);

  // MariaDB stores `json` as longtext plus a CHECK (json_valid(`col`)) named after the column;
  // MySQL 8 reports `json` itself (and its check_constraints has no table_name column).
  const jsonColumns = new Set<string>();
  if (mariadb) {
    const checkRows = await db.query(
      `SELECT constraint_schema AS table_schema, table_name AS table_name, ` +
        `check_clause AS check_clause ` +
        `FROM information_schema.check_constraints WHERE constraint_schema = ${p1}` +
        tableFilter(db, "table_name", 2, names),
      params,
    );
    for (const r of checkRows.filter(keep)) {
      const col = jsonValidColumn(text(r, "check_clause"));
      if (col !== undefined) jsonColumns.add(`${text(r, "table_name")}\u0000${col}`);
    }
  }

  const lineage = hasLineage
    ? await readLineage(
      db,
      schema,
      names,
      quoteMysqlIdentifier,
      (r) => wanted === undefined || wanted.has(text(r, "table_name")),
    )
    : null;

  const columns: CatalogColumnRow[] = columnRows.map((r) => {
    const table = text(r, "table_name");
    const name = text(r, "column_name");
    const sqlType = normaliseMysqlType(text(r, "column_type"));
    const extra = text(r, "extra");
    const autoIncrement = /\bauto_increment\b/i.test(extra);
    const raw = textOf(r, "column_default");
    const col: CatalogColumnRow = {
      table,
      name,
      ordinal: numberOf(r, "ordinal_position"),
      sqlType,
      nullable: text(r, "is_nullable").toUpperCase() === "YES",
      defaultText: autoIncrement
        ? null
        : mariadb
        ? normaliseMariadbDefault(raw, sqlType)
        : normaliseMysql8Default(raw, extra, sqlType),
      comment: text(r, "column_comment"),
      autoIncrement,
    };
    if (sqlType === "json" || jsonColumns.has(`${table}\u0000${name}`)) col.jsonText = true;
    return col;
  });

  // information_schema gives no declaration order for constraints; generated names
  // (`t_ibfk_1`, `t_ibfk_2`, …) sort into it naturally.
  const keys: CatalogKeyRow[] = keyRows
    .map((r) => ({ r, constraint: text(r, "constraint_name") }))
    .sort((a, b) =>
      codePointCompare(text(a.r, "table_name"), text(b.r, "table_name")) ||
      (a.constraint === "PRIMARY" ? -1 : 0) - (b.constraint === "PRIMARY" ? -1 : 0) ||
      naturalCompare(a.constraint, b.constraint) ||
      numberOf(a.r, "ordinal_position") - numberOf(b.r, "ordinal_position")
    )
    .map(({ r, constraint }) =>
      constraint === "PRIMARY" && textOf(r, "referenced_table_name") === null
        ? {
          table: text(r, "table_name"),
          constraint,
          kind: "primary" as const,
          column: text(r, "column_name"),
        }
        : {
          table: text(r, "table_name"),
          constraint,
          kind: "foreign" as const,
          column: text(r, "column_name"),
          refSchema: text(r, "referenced_table_schema"),
          refTable: text(r, "referenced_table_name"),
          refColumn: text(r, "referenced_column_name"),
        }
    );

  const indexes: CatalogIndexRow[] = indexRows
    .sort((a, b) =>
      codePointCompare(text(a, "table_name"), text(b, "table_name")) ||
      naturalCompare(text(a, "index_name"), text(b, "index_name")) ||
      numberOf(a, "seq_in_index") - numberOf(b, "seq_in_index")
    )
    .map((r) => ({
      table: text(r, "table_name"),
      index: text(r, "index_name"),
      unique: numberOf(r, "non_unique") === 0,
      // MySQL 8 functional index parts have no column name.
      column: textOf(r, "column_name") ?? "(expression)",
    }));

  const catalog = assembleSchemaCatalog({ schema, tables, columns, keys, indexes, lineage });
  for (const t of catalog.tables.values()) {
    for (const ix of t.indexes) ix.implicit = isImplicitFkIndex(ix, t.foreignKeys);
  }
  return catalog;
}

/**
 * Whether an index has the shape of the one InnoDB adds for a foreign key that no existing index
 * serves: non-unique, exactly the FK's columns, named after the constraint (named FK) or its
 * first column (unnamed FK, possibly with a `_N` suffix when that name was taken).
 *
 * @example
 * ```ts
 * import { isImplicitFkIndex } from "./mysql_catalog.ts";
 * isImplicitFkIndex(
 *   { name: "species", unique: false, columns: ["species"] },
 *   [{ name: "subject_ibfk_1", columns: ["species"], refSchema: "lab", refTable: "#species", refColumns: ["species"] }],
 * ); // true
 * ```
 */
export function isImplicitFkIndex(
  index: IndexInfo,
  foreignKeys: readonly ForeignKeyInfo[],
): boolean {
  if (index.unique) return false;
  return foreignKeys.some((fk) => {
    if (fk.columns.length !== index.columns.length) return false;
    if (!fk.columns.every((c, i) => c === index.columns[i])) return false;
    const first = fk.columns[0];
    return index.name === fk.name || index.name === first ||
      (index.name.startsWith(first + "_") && /^\d+$/.test(index.name.slice(first.length + 1)));
  });
}

/**
 * The MySQL/MariaDB catalog reader (see the module documentation for the queries).
 *
 * @example
 * ```ts
 * import { mysqlCatalog } from "./mysql_catalog.ts";
 * import type { Driver } from "./driver.ts";
 *
 * async function show(db: Driver): Promise<void> {
 *   const cat = await mysqlCatalog.loadSchema(db, "lab");
 *   for (const [name, t] of cat.tables) console.log(name, t.columns.map((c) => c.sqlType));
 * }
 * ```
 */
export const mysqlCatalog: Catalog = {
  async listSchemas(db: Driver): Promise<string[]> {
    const rows = await db.query(
      `SELECT schema_name AS schema_name FROM information_schema.schemata ` +
        `WHERE schema_name NOT IN (${placeholders(db, 1, SYSTEM_SCHEMAS.length)})`,
      SYSTEM_SCHEMAS,
    );
    return rows.map((r) => text(r, "schema_name"))
      .filter((s) => !SYSTEM_SCHEMAS.includes(s))
      .sort(codePointCompare);
  },

  async schemaExists(db: Driver, schema: string): Promise<boolean> {
    const rows = await db.query(
      `SELECT schema_name AS schema_name FROM information_schema.schemata ` +
        `WHERE schema_name = ${db.placeholder(1)}`,
      [schema],
    );
    return rows.some((r) => sameName(r, "schema_name", schema));
  },

  async listTables(db: Driver, schema: string): Promise<string[]> {
    const rows = await db.query(
      `SELECT table_schema AS table_schema, table_name AS table_name ` +
        `FROM information_schema.tables ` +
        `WHERE table_schema = ${db.placeholder(1)} AND table_type IN ${BASE_TABLE_TYPES}`,
      [schema],
    );
    return rows.filter((r) => sameName(r, "table_schema", schema))
      .map((r) => text(r, "table_name"))
      .sort(codePointCompare);
  },

  loadSchema,

  async referencingTables(db: Driver, schema: string): Promise<ReferencingTable[]> {
    const rows = await db.query(
      `SELECT DISTINCT constraint_schema AS table_schema, table_name AS table_name, ` +
        `unique_constraint_schema AS ref_schema, referenced_table_name AS ref_table ` +
        `FROM information_schema.referential_constraints ` +
        `WHERE unique_constraint_schema = ${db.placeholder(1)}`,
      [schema],
    );
    const seen = new Set<string>();
    const out: ReferencingTable[] = [];
    for (const r of rows) {
      if (!sameName(r, "ref_schema", schema)) continue;
      const item = {
        schema: text(r, "table_schema"),
        table: text(r, "table_name"),
        refTable: text(r, "ref_table"),
      };
      const id = `${item.schema}\u0000${item.table}\u0000${item.refTable}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(item);
    }
    return out.sort(compareReferencing);
  },
};
