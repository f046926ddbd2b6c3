/**
 * Table naming (reference types-and-tables.md §3.1–3.2): CamelCase → snake_case, the inverse, tier
 * prefixes, part tables, and reading the tier and master back from a table name.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DeclarationError } from "../lib/errors.ts";
import {
  fromCamelCase,
  masterOfTableName,
  tableName,
  tierOfTableName,
  toCamelCase,
} from "../lib/naming.ts";

Deno.test("fromCamelCase: the observed conversions", () => {
  const cases: [string, string][] = [
    ["TableName", "table_name"],
    ["MyABCTable", "my_a_b_c_table"],
    ["HTTPServer", "h_t_t_p_server"],
    ["Table2D", "table2_d"],
    ["Ephys2PData", "ephys2_p_data"],
    ["Table_Name", "table_name"],
    ["Session", "session"],
    ["A", "a"],
    ["AB", "a_b"],
    ["Rig2", "rig2"],
    ["_Leading_", "leading"],
  ];
  for (const [cls, table] of cases) assert.equal(fromCamelCase(cls), table, cls);
});

Deno.test("fromCamelCase: class names that are not CamelCase are declaration errors", () => {
  for (
    const cls of ["table", "1Table", "My-Table", "My Table", "", "_", "Ünïcode", "Tab$le", "aB"]
  ) {
    assert.throws(
      () => fromCamelCase(cls),
      (e) =>
        e instanceof DeclarationError &&
        e.message.includes(`Table class name \`${cls}\` is invalid`) &&
        e.message.includes("Class names must be in CamelCase, starting with a capital letter."),
      JSON.stringify(cls),
    );
  }
});

Deno.test("toCamelCase: inverse of fromCamelCase, tier prefixes dropped", () => {
  const cases: [string, string][] = [
    ["__computed_thing", "ComputedThing"],
    ["#lookup", "Lookup"],
    ["table2_d", "Table2D"],
    ["my_a_b_c_table", "MyABCTable"],
    ["h_t_t_p_server", "HTTPServer"],
    ["ephys2_p_data", "Ephys2PData"],
    ["_ingest", "Ingest"],
    ["session", "Session"],
  ];
  for (const [snake, cls] of cases) assert.equal(toCamelCase(snake), cls, snake);
  for (const cls of ["TableName", "MyABCTable", "HTTPServer", "Table2D", "Ephys2PData", "Rig2"]) {
    assert.equal(toCamelCase(fromCamelCase(cls)), cls, cls);
  }
});

Deno.test("tableName: tier prefixes and part tables", () => {
  assert.equal(tableName("Manual", "Session"), "session");
  assert.equal(tableName("Lookup", "Rig"), "#rig");
  assert.equal(tableName("Imported", "Ingest"), "_ingest");
  assert.equal(tableName("Computed", "Analysis"), "__analysis");
  assert.equal(tableName("Computed", "SpikeSorting"), "__spike_sorting");
  assert.equal(tableName("Part", "Part", "session"), "session__part");
  assert.equal(tableName("Part", "Detail", "#rig"), "#rig__detail");
  assert.equal(tableName("Part", "Unit", "__spike_sorting"), "__spike_sorting__unit");
  assert.equal(tableName("Part", "Detail", "_imp"), "_imp__detail");
  assert.throws(
    () => tableName("Part", "Detail"),
    (e) => e instanceof DeclarationError && e.message.includes("master"),
  );
  assert.throws(() => tableName("Lookup", "rig"), DeclarationError);
});

Deno.test("tierOfTableName and masterOfTableName", () => {
  const tiers: [string, string | undefined][] = [
    ["session", "Manual"],
    ["table2_d", "Manual"],
    ["#rig", "Lookup"],
    ["_ingest", "Imported"],
    ["__analysis", "Computed"],
    ["session__part", "Part"],
    ["#rig__detail", "Part"],
    ["_imp__detail", "Part"],
    ["__analysis__detail", "Part"],
    ["__spike_sorting__unit", "Part"],
    ["~lineage", undefined],
    ["~~analysis", undefined],
    ["Session", undefined],
    ["___x", undefined],
    ["session__", undefined],
    ["#", undefined],
    ["2d", undefined],
    ["a__b__c", undefined],
    ["a-b", undefined],
  ];
  for (const [name, tier] of tiers) assert.equal(tierOfTableName(name), tier, name);
  const masters: [string, string | undefined][] = [
    ["session__part", "session"],
    ["#rig__detail", "#rig"],
    ["__analysis__detail", "__analysis"],
    ["_imp__detail", "_imp"],
    ["__spike_sorting__unit", "__spike_sorting"],
    ["session", undefined],
    ["__analysis", undefined],
    ["#rig", undefined],
    ["~lineage", undefined],
  ];
  for (const [name, master] of masters) assert.equal(masterOfTableName(name), master, name);
});
