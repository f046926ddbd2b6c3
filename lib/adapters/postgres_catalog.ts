/**
 * Catalog reader for PostgreSQL and PGlite, from `pg_catalog` (not `information_schema`, which
 * hides objects the user does not own and loses type modifiers). Tables are found by joining
 * `pg_class` to `pg_namespace` on the exact names, so mixed-case and odd names (`#species`,
 * `~lineage`, `"Lab"`) work; DataJoint Python's unquoted `('s' || '.' || 't')::regclass` does
 * not (reference bug #27).
 *
 * `loadSchema` issues at most six queries, whatever the number of tables: tables, columns, enum
 * labels, key columns (primary and foreign), index columns, and the `~lineage` rows (only when
 * the schema has a `~lineage` table). When no table matches, it stops after the first.
 *
 * Types come from `format_type(atttypid, atttypmod)`, which keeps declared precisions: a column
 * declared `timestamp` has typmod -1 and is reported `timestamp`, one declared `timestamp(6)`
 * has typmod 6 and is reported `timestamp(6)`, although both store microseconds. Defaults come
 * from `pg_get_expr`, with casts stripped from literals.
 *
 * @example
 * ```ts
 * import { postgresCatalog } from "./postgres_catalog.ts";
 * import type { Driver } from "./driver.ts";
 *
 * async function tableNames(db: Driver): Promise<string[]> {
 *   return await postgresCatalog.listTables(db, "lab");
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
  type EnumTypeInfo,
  literalDefault,
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

/**
 * The normalised form of a PostgreSQL type as `format_type` prints it: `character varying(n)` →
 * `varchar(n)`, `character(n)` → `char(n)`, `numeric(p,s)` → `decimal(p,s)` (plain `numeric`
 * stays), `timestamp[(n)] without time zone` → `timestamp[(n)]`, `… with time zone` →
 * `timestamptz[(n)]`, likewise `time`/`timetz`; array suffixes are kept. For an enum pass its
 * `pg_type.typname` as `enumName`: the result is that bare name (`enum_e54fc739`).
 *
 * @example
 * ```ts
 * import { normalisePgType } from "./postgres_catalog.ts";
 * normalisePgType("character varying(32)"); // "varchar(32)"
 * normalisePgType("timestamp(3) without time zone"); // "timestamp(3)"
 * normalisePgType("timestamp without time zone"); // "timestamp"
 * normalisePgType("lab.enum_e54fc739", "enum_e54fc739"); // "enum_e54fc739"
 * ```
 */
export function normalisePgType(formatted: string, enumName?: string): string {
  if (enumName !== undefined) return enumName;
  const m = /^(.*?)((?:\[\])*)$/.exec(formatted.trim())!;
  return normaliseScalarPgType(m[1]) + m[2];
}

function normaliseScalarPgType(t: string): string {
  let m: RegExpExecArray | null;
  if ((m = /^character varying(\(\d+\))?$/.exec(t))) return `varchar${m[1] ?? ""}`;
  if ((m = /^(?:character|bpchar)(\(\d+\))?$/.exec(t))) return `char${m[1] ?? ""}`;
  if ((m = /^numeric\((\d+),(\d+)\)$/.exec(t))) return `decimal(${m[1]},${m[2]})`;
  if ((m = /^(timestamp|time)(\(\d+\))? (with|without) time zone$/.exec(t))) {
    return `${m[1]}${m[3] === "with" ? "tz" : ""}${m[2] ?? ""}`;
  }
  return t;
}

/**
 * Reads the literal at the start of `expr`: a (possibly `E`-prefixed) string, a number, `NULL`,
 * `true`/`false`, or a parenthesised expression; returns it with the end offset.
 */
function readPrimary(
  expr: string,
):
  | { kind: "string" | "number" | "null" | "bool" | "paren"; value: string; end: number }
  | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^(E?)'((?:[^']|'')*)'/s.exec(expr))) {
    let value = m[2].replaceAll("''", "'");
    if (m[1]) value = unescapeEString(value);
    return { kind: "string", value, end: m[0].length };
  }
  if ((m = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(expr))) {
    return { kind: "number", value: m[0], end: m[0].length };
  }
  if ((m = /^null\b/i.exec(expr))) return { kind: "null", value: "", end: m[0].length };
  if ((m = /^(true|false)\b/i.exec(expr))) {
    return { kind: "bool", value: m[1].toLowerCase(), end: m[0].length };
  }
  if (expr.startsWith("(")) {
    // Balanced parentheses, skipping quoted strings and identifiers.
    let depth = 0;
    for (let i = 0; i < expr.length; i++) {
      const ch = expr[i];
      if (ch === "'" || ch === '"') {
        const close = expr.indexOf(ch, i + 1);
        if (close < 0) return undefined;
        i = close;
      } else if (ch === "(") depth++;
      else if (ch === ")" && --depth === 0) {
        return { kind: "paren", value: expr.slice(1, i), end: i + 1 };
      }
    }
  }
  return undefined;
}

function unescapeEString(s: string): string {
  const map: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
  return s.replace(/\\(.)/gs, (_, c: string) => map[c] ?? c);
}

/** `::type` casts only: type names, quoted identifiers, typmods, arrays; no operators. */
const CAST_CHAIN = /^(?:\s*::\s*(?:"(?:[^"]|"")*"|[\w$ .,()[\]])+)*$/;

/**
 * The normalised default of a PostgreSQL column from `pg_get_expr(adbin, adrelid)`: casts are
 * stripped from literals (`'XX'::bpchar` → `'XX'`, `'a'::lab.enum_x` → `'a'`), numbers are
 * unquoted on numeric columns (`'0'::bigint` → `0`), `NULL::…` → `null`,
 * `CURRENT_TIMESTAMP[(n)]` and `now()` → `CURRENT_TIMESTAMP[(n)]`; any other expression is kept
 * as PostgreSQL prints it.
 *
 * @example
 * ```ts
 * import { normalisePgDefault } from "./postgres_catalog.ts";
 * normalisePgDefault("'XX'::bpchar", "char(4)"); // "'XX'"
 * normalisePgDefault("'0'::bigint", "bigint"); // "0"
 * normalisePgDefault("NULL::timestamp without time zone", "timestamp(3)"); // null
 * normalisePgDefault("CURRENT_TIMESTAMP(3)", "timestamp(3)"); // "CURRENT_TIMESTAMP(3)"
 * ```
 */
export function normalisePgDefault(expr: string | null, sqlType: string): string | null {
  if (expr === null) return null;
  let e = expr.trim();
  for (let depth = 0; depth < 16; depth++) {
    const p = readPrimary(e);
    if (!p || !CAST_CHAIN.test(e.slice(p.end))) break;
    switch (p.kind) {
      case "paren":
        e = p.value.trim();
        continue;
      case "null":
        return null;
      case "bool":
        return p.value;
      case "number":
        return p.value;
      case "string":
        return literalDefault(p.value, sqlType);
    }
  }
  return normaliseCurrentTimestamp(e);
}

/**
 * A PostgreSQL identifier in double quotes (quotes doubled). Used only for the `~lineage`
 * table, whose name cannot be a bound parameter.
 *
 * @example
 * ```ts
 * import { quotePgIdentifier } from "./postgres_catalog.ts";
 * quotePgIdentifier("~lineage"); // "\"~lineage\""
 * ```
 */
export function quotePgIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

const text = textOrEmpty;

function bool(row: Row, key: string): boolean {
  const v = row[key];
  return v === true || v === "t" || v === "true" || v === 1;
}

/** Tables DataJoint can use: ordinary and partitioned tables, not partitions of them. */
const BASE_TABLES = "c.relkind IN ('r', 'p') AND NOT c.relispartition";

function tableFilter(db: Driver, column: string, names: readonly string[] | undefined): string {
  return names === undefined ? "" : ` AND ${column} IN (${placeholders(db, 2, names.length)})`;
}

async function loadSchema(
  db: Driver,
  schema: string,
  restrict?: readonly string[],
): Promise<SchemaCatalog> {
  const p1 = db.placeholder(1);
  const tableRows = await db.query(
    `SELECT c.relname AS table_name, obj_description(c.oid, 'pg_class') AS table_comment ` +
      `FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ` +
      `WHERE n.nspname = ${p1} AND ${BASE_TABLES}`,
    [schema],
  );
  const { tables, wanted, names, hasLineage } = selectTables(tableRows, restrict);
  if (tables.length === 0) {
    return emptySchemaCatalog(schema, hasLineage);
  }
  const params = [schema, ...(names ?? [])];
  const keep = (r: Row): boolean => wanted === undefined || wanted.has(text(r, "table_name"));
  // The live columns of the selected tables; the enum query reuses it as a subquery.
  const attributes = `FROM pg_catalog.pg_attribute a ` +
    `JOIN pg_catalog.pg_class c ON c.oid = a.attrelid ` +
    `JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace`;
  const liveColumns = `n.nspname = ${p1} AND ${BASE_TABLES} AND a.attnum > 0 ` +
    `AND NOT a.attisdropped` + tableFilter(db, "c.relname", names);

  const columnRows = (await db.query(
    `SELECT c.relname AS table_name, a.attname AS column_name, a.attnum::int AS attnum, ` +
      `format_type(a.atttypid, a.atttypmod) AS formatted_type, t.typname AS type_name, ` +
      `t.typtype::text AS type_kind, tn.nspname AS type_schema, a.attnotnull AS not_null, ` +
      `pg_get_expr(d.adbin, d.adrelid) AS default_expr, ` +
      `col_description(c.oid, a.attnum) AS column_comment, ` +
      `a.attidentity::text AS identity, a.attgenerated::text AS generated ` +
      `${attributes} ` +
      `JOIN pg_catalog.pg_type t ON t.oid = a.atttypid ` +
      `JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace ` +
      `LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum ` +
      `WHERE ${liveColumns}`,
    params,
  )).filter(keep);

  const enumRows = await db.query(
    `SELECT tn.nspname AS type_schema, t.typname AS type_name, e.enumlabel AS label ` +
      `FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid ` +
      `JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace ` +
      `WHERE e.enumtypid IN (SELECT a.atttypid ${attributes} WHERE ${liveColumns}) ` +
      `ORDER BY e.enumtypid, e.enumsortorder`,
    params,
  );

  const keyRows = (await db.query(
    `SELECT c.relname AS table_name, co.conname AS constraint_name, ` +
      `co.contype::text AS kind, a.attname AS column_name, ` +
      `fn.nspname AS ref_schema, fc.relname AS ref_table, fa.attname AS ref_column ` +
      `FROM pg_catalog.pg_constraint co ` +
      `JOIN pg_catalog.pg_class c ON c.oid = co.conrelid ` +
      `JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ` +
      `CROSS JOIN LATERAL unnest(co.conkey, co.confkey) WITH ORDINALITY AS k(attnum, fattnum, ord) ` +
      `JOIN pg_catalog.pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.attnum ` +
      `LEFT JOIN pg_catalog.pg_class fc ON fc.oid = co.confrelid ` +
      `LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace ` +
      `LEFT JOIN pg_catalog.pg_attribute fa ` +
      `ON fa.attrelid = co.confrelid AND fa.attnum = k.fattnum ` +
      `WHERE n.nspname = ${p1} AND ${BASE_TABLES} AND co.contype IN ('p', 'f')` +
      tableFilter(db, "c.relname", names) +
      // Constraint oids grow with creation, so this is declaration order.
      ` ORDER BY c.relname, co.contype DESC, co.oid, k.ord`,
    params,
  )).filter(keep);

  const indexRows = (await db.query(
    `SELECT c.relname AS table_name, ic.relname AS index_name, i.indisunique AS is_unique, ` +
      `coalesce(a.attname, pg_get_indexdef(i.indexrelid, k.ord::int, true)) AS column_name ` +
      `FROM pg_catalog.pg_index i ` +
      `JOIN pg_catalog.pg_class c ON c.oid = i.indrelid ` +
      `JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ` +
      `JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid ` +
      `CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) ` +
      `LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ` +
      `WHERE n.nspname = ${p1} AND ${BASE_TABLES} AND NOT i.indisprimary ` +
      // INCLUDE columns are payload, not part of the key.
      `AND k.ord <= i.indnkeyatts` +
      tableFilter(db, "c.relname", names) +
      ` ORDER BY c.relname, i.indexrelid, k.ord`,
    params,
  )).filter(keep);

  const lineage = hasLineage ? await readLineage(db, schema, names, quotePgIdentifier, keep) : null;

  const enums = new Map<string, EnumTypeInfo>();
  for (const r of enumRows) {
    const id = `${text(r, "type_schema")}\u0000${text(r, "type_name")}`;
    let e = enums.get(id);
    if (!e) {
      e = { schema: text(r, "type_schema"), name: text(r, "type_name"), labels: [] };
      enums.set(id, e);
    }
    e.labels.push(text(r, "label"));
  }

  const columns: CatalogColumnRow[] = columnRows.map((r) => {
    const isEnum = text(r, "type_kind") === "e";
    const typeName = text(r, "type_name");
    const sqlType = normalisePgType(text(r, "formatted_type"), isEnum ? typeName : undefined);
    const expr = textOf(r, "default_expr");
    const autoIncrement = text(r, "identity") !== "" || /^nextval\(/i.test(expr ?? "");
    const generated = text(r, "generated") !== "";
    const col: CatalogColumnRow = {
      table: text(r, "table_name"),
      name: text(r, "column_name"),
      ordinal: numberOf(r, "attnum"),
      sqlType,
      nullable: !bool(r, "not_null"),
      // A sequence default is the auto-increment itself; a generation expression is not a default.
      defaultText: autoIncrement || generated ? null : normalisePgDefault(expr, sqlType),
      comment: text(r, "column_comment"),
      autoIncrement,
    };
    if (isEnum) {
      const e = enums.get(`${text(r, "type_schema")}\u0000${typeName}`);
      col.enumType = e
        ? { schema: e.schema, name: e.name, labels: [...e.labels] }
        : { schema: text(r, "type_schema"), name: typeName, labels: [] };
    }
    if (sqlType === "json" || sqlType === "jsonb") col.jsonText = true;
    return col;
  });

  const keys: CatalogKeyRow[] = keyRows.map((r) =>
    text(r, "kind") === "p"
      ? {
        table: text(r, "table_name"),
        constraint: text(r, "constraint_name"),
        kind: "primary" as const,
        column: text(r, "column_name"),
      }
      : {
        table: text(r, "table_name"),
        constraint: text(r, "constraint_name"),
        kind: "foreign" as const,
        column: text(r, "column_name"),
        refSchema: text(r, "ref_schema"),
        refTable: text(r, "ref_table"),
        refColumn: text(r, "ref_column"),
      }
  );

  const indexes: CatalogIndexRow[] = indexRows.map((r) => ({
    table: text(r, "table_name"),
    index: text(r, "index_name"),
    unique: bool(r, "is_unique"),
    column: text(r, "column_name"),
  }));

  return assembleSchemaCatalog({ schema, tables, columns, keys, indexes, lineage });
}

/**
 * The PostgreSQL/PGlite catalog reader (see the module documentation for the queries).
 *
 * @example
 * ```ts
 * import { postgresCatalog } from "./postgres_catalog.ts";
 * import type { Driver } from "./driver.ts";
 *
 * async function show(db: Driver): Promise<void> {
 *   const cat = await postgresCatalog.loadSchema(db, "lab");
 *   for (const [name, t] of cat.tables) console.log(name, t.columns.map((c) => c.sqlType));
 * }
 * ```
 */
export const postgresCatalog: Catalog = {
  async listSchemas(db: Driver): Promise<string[]> {
    const rows = await db.query(
      `SELECT nspname AS schema_name FROM pg_catalog.pg_namespace ` +
        `WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ` +
        `AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'`,
    );
    return rows.map((r) => text(r, "schema_name")).sort(codePointCompare);
  },

  async schemaExists(db: Driver, schema: string): Promise<boolean> {
    const rows = await db.query(
      `SELECT 1 AS found FROM pg_catalog.pg_namespace WHERE nspname = ${db.placeholder(1)}`,
      [schema],
    );
    return rows.length > 0;
  },

  async listTables(db: Driver, schema: string): Promise<string[]> {
    const rows = await db.query(
      `SELECT c.relname AS table_name ` +
        `FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ` +
        `WHERE n.nspname = ${db.placeholder(1)} AND ${BASE_TABLES}`,
      [schema],
    );
    return rows.map((r) => text(r, "table_name")).sort(codePointCompare);
  },

  loadSchema,

  async referencingTables(db: Driver, schema: string): Promise<ReferencingTable[]> {
    const rows = await db.query(
      `SELECT DISTINCT n.nspname AS table_schema, c.relname AS table_name, ` +
        `fc.relname AS ref_table ` +
        `FROM pg_catalog.pg_constraint co ` +
        `JOIN pg_catalog.pg_class c ON c.oid = co.conrelid ` +
        `JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ` +
        `JOIN pg_catalog.pg_class fc ON fc.oid = co.confrelid ` +
        `JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace ` +
        `WHERE co.contype = 'f' AND fn.nspname = ${db.placeholder(1)}`,
      [schema],
    );
    return rows.map((r) => ({
      schema: text(r, "table_schema"),
      table: text(r, "table_name"),
      refTable: text(r, "ref_table"),
    })).sort(compareReferencing);
  },
};
