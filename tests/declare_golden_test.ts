/**
 * The declaration compiler against the golden DDL written by DataJoint Python: every golden
 * definition, compiled for MySQL and for PostgreSQL without a database, must produce exactly the
 * statements Python sent (`mysql_ddl_sent`, `postgresql_ddl_sent`) and the same `~lineage` rows.
 *
 * @module
 */
import "../codecs/builtins.ts";
import { getCodec } from "../codecs/registry.ts";
import type { Dialect } from "../lib/adapters/dialect.ts";
import { mysqlDialect } from "../lib/adapters/mysql_dialect.ts";
import { postgresDialect } from "../lib/adapters/postgres_dialect.ts";
import { type CompiledTable, compileTable, type ParentTable } from "../lib/declare.ts";
import type { Tier } from "../lib/table.ts";
import { goldenFile, readGoldenJson } from "./_golden.ts";

/** The fields of golden/ddl/tables.json this test reads. */
export interface GoldenTable {
  table: string;
  class_name: string | null;
  tier: string;
  definition: string | null;
  table_comment: string;
  mysql_ddl_sent: string;
  postgresql_ddl_sent: string[];
  lineage: { attribute_name: string; lineage: string }[];
}

const TABLES = goldenFile("ddl/tables.json");
const SCHEMA = "dj_golden";

/** Parent info from a table this test compiled before (as the heading would report it). */
function parentOf(t: CompiledTable): ParentTable {
  return {
    schema: t.plan.schema,
    table: t.plan.table,
    primaryKey: t.plan.primaryKey.map((name) => {
      const col = t.plan.columns.find((c) => c.name === name)!;
      const comment = col.comment ?? "";
      const marker = /^:([^:]+):(.*)$/s.exec(comment);
      const lineage = t.lineage.find(([a]) => a === name)?.[1] ?? null;
      return {
        name,
        sqlType: col.sqlType,
        userComment: marker ? marker[2] : comment,
        uuid: marker?.[1] === "uuid",
        lineage,
      };
    }),
  };
}

function compileAll(tables: GoldenTable[], dialect: Dialect): Map<string, CompiledTable> {
  const byClass = new Map<string, CompiledTable>();
  for (const t of tables) {
    if (t.definition === null) continue;
    const compiled = compileTable(t.definition, {
      schema: SCHEMA,
      className: t.class_name!,
      tier: t.tier as Tier,
      dialect,
      lookupCodec: getCodec,
      resolveParent: (ref) => {
        const parent = byClass.get(ref);
        if (!parent) throw new Error(`unknown parent ${ref}`);
        return parentOf(parent);
      },
    });
    byClass.set(t.class_name!, compiled);
  }
  return byClass;
}

async function goldenTables(): Promise<GoldenTable[]> {
  const doc = await readGoldenJson(TABLES) as { tables: GoldenTable[] };
  return doc.tables;
}

function assertEqualText(actual: string, expected: string, what: string): void {
  if (actual !== expected) {
    throw new Error(`${what} differs\n--- expected\n${expected}\n--- actual\n${actual}`);
  }
}

Deno.test({
  name: "golden DDL: MySQL statements equal what DataJoint Python sent",
  ignore: TABLES.ignore,
  fn: async () => {
    const tables = await goldenTables();
    const compiled = compileAll(tables, mysqlDialect);
    let n = 0;
    for (const t of tables) {
      if (t.definition === null) continue;
      const c = compiled.get(t.class_name!)!;
      assertEqualText(c.plan.table, t.table, `${t.class_name} table name`);
      assertEqualText(c.statements.create, t.mysql_ddl_sent, `${t.table} CREATE TABLE`);
      if (c.statements.post.length !== 0) throw new Error(`${t.table}: MySQL has post statements`);
      n++;
    }
    if (n !== 7) throw new Error(`expected 7 golden tables, compared ${n}`);
  },
});

Deno.test({
  name: "golden DDL: PostgreSQL statements equal what DataJoint Python sent, in order",
  ignore: TABLES.ignore,
  fn: async () => {
    const tables = await goldenTables();
    const compiled = compileAll(tables, postgresDialect);
    for (const t of tables) {
      if (t.definition === null) continue;
      const c = compiled.get(t.class_name!)!;
      const sent = [
        ...c.enumTypes.map((e) => postgresDialect.createEnumType(e)),
        c.statements.create,
        ...c.statements.post,
      ];
      assertEqualText(sent.join(";\n"), t.postgresql_ddl_sent.join(";\n"), `${t.table} statements`);
    }
  },
});

Deno.test({
  name: "golden DDL: ~lineage rows equal DataJoint Python's, on both dialects",
  ignore: TABLES.ignore,
  fn: async () => {
    const tables = await goldenTables();
    for (const dialect of [mysqlDialect, postgresDialect]) {
      const compiled = compileAll(tables, dialect);
      for (const t of tables) {
        if (t.definition === null) continue;
        const actual = compiled.get(t.class_name!)!.lineage.map(([a, l]) => `${a}=${l}`).sort();
        const expected = t.lineage.map((r) => `${r.attribute_name}=${r.lineage}`).sort();
        assertEqualText(
          actual.join("\n"),
          expected.join("\n"),
          `${dialect.name} ${t.table} lineage`,
        );
      }
    }
  },
});
