/**
 * The MySQL/MariaDB dialect: backtick quoting, inline indexes, `COMMENT "…"` on columns and the
 * table, exactly the statement text DataJoint Python sends (checked against golden/ddl), without
 * its escaping bugs: table comments are escaped like column comments, and backslashes are doubled
 * (the session's sql_mode keeps backslash escapes on).
 *
 * @example
 * ```ts
 * import { mysqlDialect } from "./mysql_dialect.ts";
 * console.log(mysqlDialect.quote("#species")); // `#species`
 * ```
 *
 * @module
 */
import { UUID } from "../../codecs/blob/scalars.ts";
import { DataJointError, DeclarationError } from "../errors.ts";
import type { CoreType } from "../types.ts";
import {
  columnDefinition,
  type ColumnPlan,
  type CreateStatements,
  type Dialect,
  type EnumType,
  hiddenColumn,
  insertInto,
  lineageInsert,
  mappedCoreType,
  singletonColumn,
  tableLines,
  type TablePlan,
} from "./dialect.ts";

const CORE: Record<string, string> = {
  int8: "tinyint",
  int16: "smallint",
  int32: "int",
  int64: "bigint",
  float32: "float",
  float64: "double",
  bool: "tinyint",
  uuid: "binary(16)",
  json: "json",
  bytes: "longblob",
  date: "date",
};

function quote(id: string): string {
  return "`" + id.replaceAll("`", "``") + "`";
}

/** Text inside a MySQL double-quoted literal: backslash and `"` escaped. */
function doubleQuoted(text: string): string {
  return '"' + text.replaceAll("\\", "\\\\").replaceAll('"', '\\"') + '"';
}

function columnLine(c: ColumnPlan): string {
  const s = columnDefinition(c, quote);
  return c.comment !== null && c.comment !== "" ? `${s} COMMENT ${doubleQuoted(c.comment)}` : s;
}

const cols = (names: string[], sep = ", ") => names.map(quote).join(sep);

/**
 * The MySQL/MariaDB dialect.
 *
 * @example
 * ```ts
 * import { mysqlDialect } from "./mysql_dialect.ts";
 * console.log(mysqlDialect.stringLiteral("it's")); // 'it''s'
 * ```
 */
export const mysqlDialect: Dialect = {
  name: "mysql",
  maxTableName: 64,
  quote,
  stringLiteral: (v) => "'" + v.replaceAll("\\", "\\\\").replaceAll("'", "''") + "'",
  coreType(core: CoreType): { sql: string } {
    switch (core.name) {
      case "decimal":
        // DataJoint keeps the spacing as written: `decimal(10, 3)`.
        return { sql: core.text };
      case "enum":
        return { sql: core.text };
      default:
        return { sql: mappedCoreType(core, CORE, "datetime", "MySQL") };
    }
  },
  jobMetadataColumns: () => [
    hiddenColumn("_job_start_time", "datetime(3)", "NULL"),
    hiddenColumn("_job_duration", "float", "NULL"),
    hiddenColumn("_job_version", "varchar(64)", "''"),
  ],
  singletonColumn: () => singletonColumn("tinyint"),
  createTable(plan: TablePlan): CreateStatements {
    const lines = tableLines(plan, columnLine, quote);
    for (const ix of plan.indexes) {
      lines.push(
        ix.origin === "declared"
          ? `${ix.unique ? "unique index" : "index"} (${cols(ix.columns, ",")})`
          : `UNIQUE INDEX (${cols(ix.columns)})`,
      );
    }
    const options = plan.comment === ""
      ? "ENGINE=InnoDB"
      : `ENGINE=InnoDB, COMMENT ${doubleQuoted(plan.comment)}`;
    return {
      create: `CREATE TABLE IF NOT EXISTS ${quote(plan.schema)}.${quote(plan.table)} (\n${
        lines.join(",\n")
      }\n) ${options}`,
      post: [],
    };
  },
  createEnumType(type: EnumType): string {
    throw new DeclarationError(`MySQL has no enum types (asked for ${type.name})`);
  },
  createLineageTable: (schema) =>
    `CREATE TABLE IF NOT EXISTS ${quote(schema)}.${quote("~lineage")} (\n` +
    '`table_name` VARCHAR(64) NOT NULL COMMENT "table name within the schema",\n' +
    '`attribute_name` VARCHAR(64) NOT NULL COMMENT "attribute name",\n' +
    '`lineage` VARCHAR(255) NOT NULL COMMENT "origin: schema.table.attribute",\n' +
    "PRIMARY KEY (`table_name`, `attribute_name`)\n) ENGINE=InnoDB",
  upsertLineage: (schema, rows, ph) =>
    `${
      lineageInsert(schema, rows, ph, quote)
    } ON DUPLICATE KEY UPDATE table_name = VALUES(table_name), attribute_name = VALUES(attribute_name), lineage = VALUES(lineage)`,
  createSchema: (schema) => `CREATE DATABASE ${quote(schema)}`,
  dropSchema: (schema) => `DROP DATABASE IF EXISTS ${quote(schema)}`,
  beginTransaction: "START TRANSACTION WITH CONSISTENT SNAPSHOT",
  boolParam: (b) => (b ? 1 : 0),
  uuidParam: (canonical) => new UUID(canonical).bytes,
  uuidValue: (raw) => {
    if (!(raw instanceof Uint8Array) || raw.length !== 16) {
      throw new DataJointError(`A uuid column holds 16 bytes; the server returned ${String(raw)}`);
    }
    return new UUID(raw).toString();
  },
  insert: (target, columns, rows, ph, onDuplicate) => {
    const head = insertInto(target, columns, rows, ph, quote);
    if (onDuplicate === "error") return head;
    // Skip: a no-op update of the first key column keeps the existing row (DataJoint Python's
    // form; INSERT IGNORE would also hide other errors such as truncation).
    // Columns are qualified with the table: with `INSERT … SELECT` a bare name is ambiguous.
    const full = `${quote(target.schema)}.${quote(target.table)}`;
    if (onDuplicate === "skip") {
      const k = `${full}.${quote(target.primaryKey[0] ?? columns[0])}`;
      return `${head} ON DUPLICATE KEY UPDATE ${k}=${k}`;
    }
    const rest = columns.filter((c) => !target.primaryKey.includes(c));
    const set = (rest.length > 0 ? rest : columns).map((c) =>
      `${full}.${quote(c)}=VALUES(${quote(c)})`
    );
    return `${head} ON DUPLICATE KEY UPDATE ${set.join(", ")}`;
  },
  // The driver connects with FOUND_ROWS (an UPDATE to the same value counts as matched), so a
  // duplicate the clauses above meet counts too.
  upsertCountsFoundRows: true,
};
