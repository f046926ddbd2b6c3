/**
 * Declaration against live servers: the seven golden tables, declared through `static definition`
 * strings, must leave the database exactly as DataJoint Python left it — MariaDB's
 * `SHOW CREATE TABLE` equal to golden `mysql_ddl`; on PostgreSQL and PGlite the column types,
 * defaults, comments, constraints, indexes and enum types equal to golden `postgresql_ddl` — and
 * the same `~lineage` rows. Then the headings read back, `describe()` re-declares identical
 * tables, and drop refuses/cascades as documented.
 *
 * @module
 */
import type { Connection } from "../lib/connection.ts";
import { DataJointError } from "../lib/errors.ts";
import { schema as makeSchema, type SchemaDecorator, virtualSchema } from "../lib/schema.ts";
import { Computed, Imported, Lookup, Manual, type TableClass } from "../lib/table.ts";
import { onEveryBackend } from "./_connections.ts";
import { decoratedTables, definedTables } from "./_golden_classes.ts";
import {
  GOLDEN_DDL,
  GOLDEN_SCHEMA,
  type GoldenTable,
  loadGoldenSql,
  readGoldenTables,
} from "./_golden_sql.ts";
import { scratchName } from "./_servers.ts";

interface GoldenDefinition extends GoldenTable {
  class_name: string | null;
  definition: string | null;
  mysql_ddl: string;
  postgresql_ddl: string;
}

const TIERS = { Manual, Lookup, Imported, Computed } as const;

/** One class per golden table, declared by its `static definition` string. */
function definitionClasses(tables: GoldenDefinition[], schema: SchemaDecorator): TableClass[] {
  const out: TableClass[] = [];
  for (const t of tables) {
    if (t.definition === null) continue;
    const base = TIERS[t.tier as keyof typeof TIERS] as unknown as new () => object;
    const cls = class extends base {
      static definition = t.definition!;
    };
    Object.defineProperty(cls, "name", { value: t.class_name });
    out.push(schema(cls as unknown as TableClass));
  }
  return out;
}

function fail(what: string, expected: unknown, actual: unknown): never {
  throw new Error(
    `${what}\n--- expected\n${JSON.stringify(expected, null, 1)}\n--- actual\n${
      JSON.stringify(actual, null, 1)
    }`,
  );
}

function assertEq(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) fail(what, expected, actual);
}

/** MariaDB's table options carry the server's default charset; DataJoint sets none. */
function withoutCharset(ddl: string): string {
  return ddl.replace(/ DEFAULT CHARSET=\S+( COLLATE=\S+)?/, "");
}

async function checkMysql(c: Connection, schema: string, tables: GoldenDefinition[]) {
  for (const t of tables) {
    if (t.definition === null) continue;
    const [row] = await c.query(`SHOW CREATE TABLE \`${schema}\`.\`${t.table}\``);
    const ddl = String(row["Create Table"]);
    assertEq(
      withoutCharset(ddl),
      withoutCharset(t.mysql_ddl.replaceAll(GOLDEN_SCHEMA, schema)),
      `SHOW CREATE TABLE ${t.table}`,
    );
  }
}

/** The statements of a pg_dump excerpt that describe constraints, indexes and enum labels. */
function pgDumpFacts(dump: string, schema: string) {
  const text = dump.replaceAll(GOLDEN_SCHEMA, schema);
  const constraints = [...text.matchAll(/ADD CONSTRAINT (\S+) ([^;]+);/g)]
    .map((m) => `${m[1].replaceAll('"', "")} ${m[2].replace(/\s+/g, " ").trim()}`).sort();
  const indexes = [...text.matchAll(/^(CREATE (UNIQUE )?INDEX [^;]+);/gm)].map((m) => m[1]).sort();
  const enums = [...text.matchAll(/CREATE TYPE \S+ AS ENUM \(([^)]*)\)/g)]
    .map((m) => m[1].split(",").map((s) => s.trim().slice(1, -1)));
  return { constraints, indexes, enums };
}

async function checkPostgres(c: Connection, schema: string, tables: GoldenDefinition[]) {
  for (const t of tables) {
    if (t.definition === null) continue;
    const cols = await c.query<
      { name: string; type: string; dflt: string | null; comment: string | null; notnull: boolean }
    >(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
              pg_get_expr(d.adbin, d.adrelid) AS dflt, col_description(a.attrelid, a.attnum) AS comment,
              a.attnotnull AS notnull
       FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid JOIN pg_namespace n ON n.oid = r.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE n.nspname = $1 AND r.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
       ORDER BY a.attnum`,
      [schema, t.table],
    );
    assertEq(
      cols.map((r) => [r.name, r.type, r.dflt, r.comment, !r.notnull]),
      t.columns.map((g) => [
        g.name,
        g.sql_type_postgresql_reported.replaceAll(GOLDEN_SCHEMA, schema),
        g.default_postgresql_reported,
        g.comment_postgresql,
        g.nullable,
      ]),
      `columns of ${t.table}`,
    );
    const [tc] = await c.query<{ comment: string | null }>(
      `SELECT obj_description(r.oid, 'pg_class') AS comment FROM pg_class r
       JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = $1 AND r.relname = $2`,
      [schema, t.table],
    );
    assertEq(tc.comment, t.table_comment, `table comment of ${t.table}`);
    const facts = pgDumpFacts(t.postgresql_ddl, schema);
    const cons = await c.query<{ name: string; def: string }>(
      `SELECT con.conname AS name, pg_get_constraintdef(con.oid) AS def FROM pg_constraint con
       JOIN pg_class r ON r.oid = con.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
       WHERE n.nspname = $1 AND r.relname = $2 AND con.contype IN ('p', 'f', 'u')`,
      [schema, t.table],
    );
    assertEq(
      cons.map((r) => `${r.name} ${r.def}`).sort(),
      facts.constraints,
      `constraints of ${t.table}`,
    );
    const idx = await c.query<{ def: string }>(
      `SELECT indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND tablename = $2
       AND indexname NOT LIKE '%\\_pkey'`,
      [schema, t.table],
    );
    assertEq(idx.map((r) => r.def).sort(), facts.indexes, `indexes of ${t.table}`);
    for (const labels of facts.enums) {
      const rows = await c.query<{ label: string }>(
        `SELECT e.enumlabel AS label FROM pg_enum e JOIN pg_type ty ON ty.oid = e.enumtypid
         JOIN pg_namespace n ON n.oid = ty.typnamespace WHERE n.nspname = $1 AND ty.typname = $2
         ORDER BY e.enumsortorder`,
        [schema, "enum_e54fc739"],
      );
      assertEq(rows.map((r) => r.label), labels, `enum labels in ${t.table}`);
    }
  }
}

async function checkLineage(c: Connection, schema: string, tables: GoldenDefinition[]) {
  const q = c.kit.dialect.quote;
  const rows = await c.query<{ table_name: string; attribute_name: string; lineage: string }>(
    `SELECT table_name, attribute_name, lineage FROM ${q(schema)}.${q("~lineage")}`,
  );
  const all = tables.find((t) => t.table === "~lineage")!.rows!;
  assertEq(
    rows.map((r) => `${r.table_name} ${r.attribute_name} ${r.lineage}`).sort(),
    all.map((r) =>
      `${r.table_name} ${r.attribute_name} ${r.lineage.replaceAll(GOLDEN_SCHEMA, schema)}`
    )
      .sort(),
    "~lineage rows",
  );
}

const ignore = GOLDEN_DDL.tables.ignore;

if (!ignore) {
  for (const how of ["definition strings", "decorators", "defineTable"] as const) {
    await onEveryBackend(
      `golden tables declared through ${how} equal DataJoint Python's`,
      async (c, backend) => {
        const tables = await readGoldenTables() as GoldenDefinition[];
        const name = scratchName("djdecl");
        const schema = makeSchema(name, { connection: c });
        try {
          const classes = how === "definition strings"
            ? definitionClasses(tables, schema)
            : Object.values(how === "decorators" ? decoratedTables() : definedTables()).map((k) =>
              schema(k)
            );
          await schema.declare();
          if (backend === "mysql") await checkMysql(c, name, tables);
          else await checkPostgres(c, name, tables);
          await checkLineage(c, name, tables);
          const listed = await schema.listTables();
          assertEq(
            [...listed].sort(),
            tables.filter((t) => t.definition).map((t) => t.table).sort(),
            "tables",
          );
          for (const t of tables) {
            for (const fk of t.foreign_keys ?? []) {
              const parent = fk.references.split(".").at(-1)!.replaceAll("`", "");
              if (listed.indexOf(parent) > listed.indexOf(t.table)) {
                throw new Error(
                  `listTables: ${parent} comes after its child ${t.table}: ${listed}`,
                );
              }
            }
          }

          // Headings: types from markers, inherited columns typed by their parents.
          const byName = new Map(classes.map((k) => [k.name, k as unknown as typeof Manual]));
          const analysis = await byName.get("Analysis")!.heading();
          assertEq(
            analysis.attributes.map((a) => [a.name, a.type, a.inKey, a.json, a.blob]),
            [
              ["subject_id", "int32", true, false, false],
              ["session_idx", "int32", true, false, false],
              ["mean_value", "float64", false, false, false],
              ["n_keys", "int32", false, false, false],
              ["summary", "<blob>", false, false, true],
              ["stored_summary", "<blob@main>", false, true, false],
            ],
            "Analysis heading",
          );
          const tag = await byName.get("Tag")!.heading();
          assertEq(tag.attributes.map((a) => [a.name, a.uuid, a.comment]), [
            ["tag_id", true, "uuid primary key"],
            ["subject_id", false, "subject number"],
            ["session_idx", false, "session within subject"],
            ["other_uuid", true, "nullable uuid"],
          ], "Tag heading");

          // Dropping a parent with children is refused; cascade drops them leaves first.
          let refused = false;
          try {
            await byName.get("Session")!.drop();
          } catch (e) {
            refused = e instanceof DataJointError && /depend on it/.test(e.message);
          }
          if (!refused) throw new Error("drop of a parent with dependants was not refused");
          await byName.get("Session")!.drop({ cascade: true });
          assertEq(
            await schema.listTables(),
            ["#species", "bare_at", "subject"],
            "after cascade drop",
          );
          if (backend !== "mysql") {
            // The enum type of subject.sex survives: subject still uses it.
            const [{ n }] = await c.query<{ n: number | bigint }>(
              `SELECT count(*) AS n FROM pg_type t JOIN pg_namespace s ON s.oid = t.typnamespace
           WHERE s.nspname = $1 AND t.typname = 'enum_e54fc739'`,
              [name],
            );
            assertEq(Number(n), 1, "enum type kept while in use");
            await byName.get("Subject")!.drop();
            const [{ m }] = await c.query<{ m: number | bigint }>(
              `SELECT count(*) AS m FROM pg_type t JOIN pg_namespace s ON s.oid = t.typnamespace
           WHERE s.nspname = $1 AND t.typname = 'enum_e54fc739'`,
              [name],
            );
            assertEq(Number(m), 0, "enum type dropped with its last table");
          }
        } finally {
          await schema.drop({ cascade: true });
        }
      },
    );
  }

  await onEveryBackend(
    "tables declared by DataJoint Python open virtually; describe() re-declares them identically",
    async (c, backend) => {
      const tables = await readGoldenTables() as GoldenDefinition[];
      const pyName = scratchName("djpy");
      const tsName = scratchName("djre");
      const again = makeSchema(tsName, { connection: c });
      try {
        await loadGoldenSql(c.driver, pyName);
        const vs = await virtualSchema(pyName, { connection: c });
        assertEq(
          Object.keys(vs.tables).sort(),
          ["Analysis", "BareAt", "Recording", "Session", "Species", "Subject", "Tag"],
          "virtual classes",
        );
        // Every attribute's type: the declared type, or for inherited columns the parent's.
        const declared = new Map<string, string>();
        for (const t of tables) {
          for (const line of (t.definition ?? "").split("\n")) {
            const m = /^([a-z][a-z0-9_]*)\s*(=[^:]*)?:\s*([^#]*?)\s*(#.*)?$/.exec(line.trim());
            if (m) declared.set(`${t.table}.${m[1]}`, m[3]);
          }
        }
        const typeOf = (table: string, attr: string): string => {
          const own = declared.get(`${table}.${attr}`);
          if (own !== undefined) return own;
          const t = tables.find((x) => x.table === table)!;
          const fk = t.foreign_keys.find((f) => f.columns.includes(attr))!;
          const parent = fk.references.split(".").at(-1)!.replaceAll("`", "");
          return typeOf(parent, fk.referenced_columns[fk.columns.indexOf(attr)]);
        };
        for (const t of tables) {
          if (t.definition === null) continue;
          const cls = vs.tables[t.class_name!] as unknown as typeof Manual;
          const h = await cls.heading();
          assertEq(
            h.attributes.map((a) => `${a.name}:${a.type}`),
            t.columns.map((col) => `${col.name}:${typeOf(t.table, col.name)}`),
            `heading types of Python's ${t.table}`,
          );
          assertEq(h.primaryKey, t.primary_key, `primary key of ${t.table}`);
        }
        // describe() → declare in another schema → the same server state as Python's.
        for (const name of vs.order) {
          const t = tables.find((x) => x.table === name)!;
          const text = await (vs.tables[t.class_name!] as unknown as typeof Manual).describe();
          const base = TIERS[t.tier as keyof typeof TIERS] as unknown as new () => object;
          const cls = class extends base {
            static definition = text;
          };
          Object.defineProperty(cls, "name", { value: t.class_name });
          again(cls as unknown as TableClass);
        }
        await again.declare();
        if (backend === "mysql") await checkMysql(c, tsName, tables);
        else await checkPostgres(c, tsName, tables);
        await checkLineage(c, tsName, tables);
      } finally {
        await again.drop({ cascade: true });
        await makeSchema(pyName, { connection: c }).drop({ cascade: true });
      }
    },
    { last: true },
  );
} else {
  console.log("skip: golden ddl/tables.json not found (declaration server tests ignored)");
}
