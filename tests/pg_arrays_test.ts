/**
 * Native PostgreSQL array columns (tables not declared by DataJoint) read through both
 * PostgreSQL-dialect drivers: postgres.js and PGlite must give the same JavaScript values, with
 * `NULL` elements as `null` (postgres.js's own array parser read them as the text "NULL", so `NaN`,
 * `"NULL"`, `false`, or a failed `BigInt`), quoted elements unescaped, and nested and empty arrays
 * kept.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";
import fc from "fast-check";
import type { Driver } from "../lib/adapters/driver.ts";
import { openPostgres } from "../lib/adapters/postgres_driver.ts";
import { openPglite } from "../lib/adapters/pglite_driver.ts";
import { pgSettings, scratchName, serverTest } from "./_servers.ts";

const UUID = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
const BIG = 2n ** 62n + 1n; // beyond 2^53

/** Column type → SQL array value, and the JavaScript value every driver must return. */
const COLUMNS: [string, string, unknown][] = [
  ["int2[]", "ARRAY[1, NULL, -3]", [1, null, -3]],
  ["int4[]", "ARRAY[NULL, 2147483647]", [null, 2147483647]],
  ["int8[]", `ARRAY[1, NULL, ${BIG}]`, [1n, null, BIG]],
  ["float4[]", "ARRAY[1.5, NULL]", [1.5, null]],
  ["float8[]", "ARRAY[0.25, NULL, 'NaN', '-Infinity']", [0.25, null, NaN, -Infinity]],
  ["numeric[]", "ARRAY[1.50, NULL, 'NaN']", ["1.50", null, "NaN"]],
  ["bool[]", "ARRAY[true, NULL, false]", [true, null, false]],
  ["date[]", "ARRAY['2024-02-29', NULL]", ["2024-02-29", null]],
  ["timestamp[]", "ARRAY['2024-02-29 01:02:03.5', NULL]", ["2024-02-29 01:02:03.5", null]],
  ["time[]", "ARRAY['23:59:59.000001', NULL]", ["23:59:59.000001", null]],
  ["uuid[]", `ARRAY['${UUID}', NULL]`, [UUID, null]],
  ["json[]", `ARRAY['{"a": [1, "}"]}', NULL, '"s"']`, [{ a: [1, "}"] }, null, "s"]],
  ["jsonb[]", `ARRAY['[1]', NULL]`, [[1], null]],
  ["bytea[]", "ARRAY['\\x00ff'::bytea, NULL, '']", [
    new Uint8Array([0, 255]),
    null,
    new Uint8Array(),
  ]],
  ["varchar(8)[]", "ARRAY['a', NULL, 'NULL']", ["a", null, "NULL"]],
  [
    "text[]",
    `ARRAY['NULL', NULL, '', ' sp ', 'a,b', '{c}', 'q"t', E'back\\\\slash', E'new\\nline']`,
    ["NULL", null, "", " sp ", "a,b", "{c}", 'q"t', "back\\slash", "new\nline"],
  ],
  ["int4[][]", "ARRAY[[1, 2], [3, NULL]]", [[1, 2], [3, null]]],
  ["text[][]", "ARRAY[['a', NULL], ['{', '\"']]", [["a", null], ["{", '"']]],
  ["int8[]", "'{}'", []],
  ["text[]", "ARRAY[NULL]", [null]],
  ["int4[]", "'[0:1]={7,NULL}'", [7, null]], // bounds other than 1 are dropped
  ["int4[]", "NULL", null],
];

async function checkColumns(db: Driver, ns: string): Promise<void> {
  const table = `"${ns}"."arrays"`;
  const columns = COLUMNS.map(([type], i) => `c${i} ${type}`).join(", ");
  await db.execute(`CREATE TABLE ${table} (id int PRIMARY KEY, ${columns})`);
  const values = COLUMNS.map(([type, value]) => `${value}::${type}`).join(", ");
  await db.execute(`INSERT INTO ${table} VALUES (1, ${values})`);
  const [row] = await db.query(`SELECT * FROM ${table}`);
  COLUMNS.forEach(([type, value, expected], i) => {
    nodeAssert.deepStrictEqual(row[`c${i}`], expected, `${type} ${value}`);
  });
}

/** Generated text matrices: whatever the text, the driver returns it as it went in. */
async function checkGeneratedText(db: Driver): Promise<void> {
  const element = fc.oneof(
    fc.constantFrom(null, "NULL", "", " "),
    fc.string({ unit: fc.constantFrom('"', "\\", "{", "}", ",", ";", " ", "N", "x", "é", "\n") }),
    fc.string({ unit: "grapheme", maxLength: 6 }),
  );
  const matrix = fc.integer({ min: 1, max: 4 }).chain((width) =>
    fc.array(fc.array(element, { minLength: width, maxLength: width }), {
      minLength: 1,
      maxLength: 3,
    })
  );
  await fc.assert(
    fc.asyncProperty(matrix, async (rows) => {
      let n = 0;
      const sql = rows.map((r) => `ARRAY[${r.map(() => `$${++n}::text`).join(", ")}]`).join(", ");
      const [{ v }] = await db.query(`SELECT ARRAY[${sql}] AS v`, rows.flat());
      nodeAssert.deepStrictEqual(v, rows);
    }),
    { seed: 20240229, numRuns: 150 },
  );
}

async function suite(t: Deno.TestContext, db: Driver): Promise<void> {
  const ns = scratchName("dj_arr_");
  try {
    await db.execute(`CREATE SCHEMA "${ns}"`);
    await t.step(
      "every array type the adapters convert, NULL elements included",
      () => checkColumns(db, ns),
    );
    await t.step("generated text arrays come back as they went in", () => checkGeneratedText(db));
  } finally {
    await db.execute(`DROP SCHEMA IF EXISTS "${ns}" CASCADE`).catch(() => {});
    await db.close();
  }
}

await serverTest("postgres", "native arrays: PostgreSQL (postgres.js)", async (t) => {
  await suite(t, await openPostgres({ ...pgSettings(), useTls: false }));
});

Deno.test("native arrays: PGlite (in memory)", async (t) => {
  await suite(t, await openPglite({ path: "memory://" }));
});
