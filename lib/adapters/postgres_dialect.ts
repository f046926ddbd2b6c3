/**
 * The PostgreSQL dialect (also PGlite's): double-quote quoting, enum types per schema, indexes
 * and comments as separate statements after `CREATE TABLE`, exactly the statement text DataJoint
 * Python sends (checked against golden/ddl). Index names follow Python's
 * `idx_<table>_<columns[:30]>` but are made unique and at most 63 characters (reference bug #30).
 *
 * @example
 * ```ts
 * import { enumTypeName } from "./postgres_dialect.ts";
 * console.log(enumTypeName(["M", "F", "U"])); // enum_e54fc739
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { CoreType } from "../types.ts";
import {
  columnDefinition,
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
  int8: "smallint",
  int16: "smallint",
  int32: "integer",
  int64: "bigint",
  float32: "real",
  float64: "double precision",
  bool: "boolean",
  uuid: "uuid",
  json: "jsonb",
  bytes: "bytea",
  date: "date",
};

const MAX_IDENTIFIER = 63;

function quote(id: string): string {
  return '"' + id.replaceAll('"', '""') + '"';
}

function literal(v: string): string {
  return "'" + v.replaceAll("'", "''") + "'";
}

function md5hex(text: string): string {
  return createHash("md5").update(text, "utf8").digest("hex");
}

/** Python's `sorted()` on strings: by code point, not by UTF-16 unit. */
function byCodePoint(a: string, b: string): number {
  const ca = [...a];
  const cb = [...b];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const d = ca[i].codePointAt(0)! - cb[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}

/**
 * The enum type name DataJoint Python gives a label set: `enum_` + the first 8 hex digits of the
 * md5 of the labels sorted by code point and joined by `_`.
 *
 * @example
 * ```ts
 * import { enumTypeName } from "./postgres_dialect.ts";
 * console.log(enumTypeName(["a", "b", "c"])); // enum_8d28cddc
 * ```
 */
export function enumTypeName(labels: readonly string[]): string {
  return "enum_" + md5hex([...labels].sort(byCodePoint).join("_")).slice(0, 8);
}

/**
 * The comment text as DataJoint Python stores it on PostgreSQL: `"` in the user comment written as
 * `\"`; the `:type:` marker in front of it is kept as written (Python escapes the user comment
 * before it prepends the marker).
 */
function commentText(comment: string): string {
  const marker = /^:[^:]*:/.exec(comment)?.[0] ?? "";
  return literal(marker + comment.slice(marker.length).replaceAll('"', '\\"'));
}

const cols = (names: string[]) => names.map(quote).join(", ");

function isPrefix(prefix: string[], of: string[]): boolean {
  return prefix.length <= of.length && prefix.every((c, i) => of[i] === c);
}

/**
 * Python's index name, made unique within the schema (`taken`: names in use there; Python's
 * `idx_session_trial_x` serves both `session_trial(x)` and `session(trial_x)`) and at most 63
 * characters long.
 */
function indexNamer(table: string, taken: readonly string[]): (columns: string[]) => string {
  const used = new Set<string>(taken);
  return (columns) => {
    let name = `idx_${table}_${columns.join("_").slice(0, 30)}`;
    // The same columns may be indexed more than once: salt the hash until the name is free.
    for (let salt = 0; used.has(name) || name.length > MAX_IDENTIFIER; salt++) {
      const hash = md5hex(`${table}\0${columns.join("\0")}\0${salt || ""}`).slice(0, 8);
      name = `idx_${table.slice(0, MAX_IDENTIFIER - 13)}_${hash}`;
    }
    used.add(name);
    return name;
  };
}

/**
 * The PostgreSQL dialect (PGlite uses it too).
 *
 * @example
 * ```ts
 * import { postgresDialect } from "./postgres_dialect.ts";
 * console.log(postgresDialect.quote("#species")); // "#species"
 * ```
 */
export const postgresDialect: Dialect = {
  name: "postgresql",
  maxTableName: MAX_IDENTIFIER,
  quote,
  stringLiteral: literal,
  coreType(core: CoreType, schema: string): { sql: string; enumType?: EnumType } {
    switch (core.name) {
      case "decimal":
        // Like Python (`"numeric" + text[7:]`): the spacing as written, `numeric(10, 3)`.
        return { sql: "numeric" + core.text.slice("decimal".length) };
      case "enum": {
        const enumType = { schema, name: enumTypeName(core.labels!), labels: core.labels! };
        return { sql: `${quote(schema)}.${quote(enumType.name)}`, enumType };
      }
      default:
        return { sql: mappedCoreType(core, CORE, "timestamp", "PostgreSQL") };
    }
  },
  jobMetadataColumns: () => [
    hiddenColumn("_job_start_time", "timestamp", "NULL"),
    hiddenColumn("_job_duration", "real", "NULL"),
    hiddenColumn("_job_version", "varchar(64)", "''"),
  ],
  singletonColumn: () => singletonColumn("boolean"),
  createTable(plan: TablePlan): CreateStatements {
    const full = `${quote(plan.schema)}.${quote(plan.table)}`;
    // Comments go into COMMENT ON statements after the table.
    const lines = tableLines(plan, (c) => columnDefinition(c, quote), quote);
    const post: string[] = [];
    const name = indexNamer(plan.table, plan.takenNames ?? []);
    for (const ix of plan.indexes) {
      post.push(
        `CREATE ${ix.unique ? "UNIQUE " : ""}INDEX ${quote(name(ix.columns))} ON ${full} (${
          cols(ix.columns)
        })`,
      );
    }
    // Foreign keys need a supporting index on PostgreSQL (MySQL makes one implicitly), unless
    // the primary key, a declared index or a longer support index already starts with them.
    const covered = [plan.primaryKey, ...plan.indexes.map((i) => i.columns)];
    const candidates = [...plan.foreignKeyIndexCandidates].sort((a, b) => b.length - a.length);
    for (const c of candidates) {
      if (covered.some((k) => isPrefix(c, k))) continue;
      covered.push(c);
      post.push(`CREATE INDEX ${quote(name(c))} ON ${full} (${cols(c)})`);
    }
    post.push(`COMMENT ON TABLE ${full} IS ${literal(plan.comment)}`);
    const commented = plan.columns.filter((c) =>
      !c.fromForeignKey && c.comment !== null && c.comment !== "" && c.name !== "_singleton"
    );
    const singleton = plan.columns.find((c) => c.name === "_singleton");
    if (singleton) commented.push(singleton);
    for (const c of commented) {
      post.push(`COMMENT ON COLUMN ${full}.${quote(c.name)} IS ${commentText(c.comment!)}`);
    }
    return { create: `CREATE TABLE IF NOT EXISTS ${full} (\n${lines.join(",\n")}\n)`, post };
  },
  createEnumType: (t) =>
    `CREATE TYPE ${quote(t.schema)}.${quote(t.name)} AS ENUM (${t.labels.map(literal).join(", ")})`,
  createLineageTable: (schema) =>
    `CREATE TABLE IF NOT EXISTS ${quote(schema)}.${quote("~lineage")} (\n` +
    '"table_name" VARCHAR(64) NOT NULL,\n' +
    '"attribute_name" VARCHAR(64) NOT NULL,\n' +
    '"lineage" VARCHAR(255) NOT NULL,\n' +
    'PRIMARY KEY ("table_name", "attribute_name")\n)',
  upsertLineage: (schema, rows, ph) =>
    `${
      lineageInsert(schema, rows, ph, quote)
    } ON CONFLICT (table_name, attribute_name) DO UPDATE SET lineage = EXCLUDED.lineage`,
  createSchema: (schema) => `CREATE SCHEMA ${quote(schema)}`,
  // CASCADE also drops foreign keys of other schemas that point here; the schema layer refuses
  // to drop a schema that others depend on unless asked to cascade.
  dropSchema: (schema) => `DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`,
  beginTransaction: "BEGIN",
  boolParam: (b) => b,
  uuidParam: (canonical) => canonical,
  uuidValue: (raw) => String(raw).toLowerCase(),
  insert: (target, columns, rows, ph, onDuplicate) => {
    const head = insertInto(target, columns, rows, ph, quote);
    if (onDuplicate === "error") return head;
    if (onDuplicate === "skip") return `${head} ON CONFLICT DO NOTHING`;
    const rest = columns.filter((c) => !target.primaryKey.includes(c));
    const conflict = `ON CONFLICT (${target.primaryKey.map(quote).join(", ")})`;
    return rest.length === 0
      ? `${head} ${conflict} DO NOTHING`
      : `${head} ${conflict} DO UPDATE SET ${
        rest.map((c) => `${quote(c)} = EXCLUDED.${quote(c)}`).join(", ")
      }`;
  },
  upsertCountsFoundRows: false,
};
