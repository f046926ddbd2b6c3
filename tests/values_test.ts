/**
 * Core-type values between TypeScript and the drivers (`lib/values.ts`), pure: what each core type
 * accepts, the parameter each dialect gets, what a fetch returns, the errors for wrong values, and
 * JSON text written as Python's `json.dumps` writes it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mysqlDialect } from "../lib/adapters/mysql_dialect.ts";
import { postgresDialect } from "../lib/adapters/postgres_dialect.ts";
import { DataJointError } from "../lib/errors.ts";
import { parseType } from "../lib/types.ts";
import { fromSqlValue, pythonJson, toSqlValue, type ValueTarget } from "../lib/values.ts";
import { UUID } from "../codecs/blob/scalars.ts";

function target(type: string, name = "x"): ValueTarget {
  return { name, storage: parseType(type) as ValueTarget["storage"] };
}

function refuses(type: string, value: unknown, pattern: RegExp): void {
  assert.throws(
    () => toSqlValue(target(type, "attr_name"), value, mysqlDialect),
    (e: unknown) =>
      e instanceof DataJointError && /attr_name/.test(e.message) && pattern.test(e.message),
    `${type} ${String(value)}`,
  );
}

Deno.test("values: integers are range-checked, int64 takes bigint and comes back as bigint", () => {
  assert.equal(toSqlValue(target("int8"), -128, mysqlDialect), -128);
  assert.equal(toSqlValue(target("int32"), 5n, mysqlDialect), 5);
  refuses("int8", 128, /-128\.\.127/);
  refuses("int16", 1.5, /integer/);
  refuses("int32", "7", /integer/);
  assert.equal(toSqlValue(target("int64"), 2n ** 62n, mysqlDialect), 2n ** 62n);
  refuses("int64", 2n ** 63n, /int64/);
  refuses("int64", 2 ** 60, /integer/); // not a safe integer: a bigint is needed
  assert.equal(fromSqlValue(target("int64"), 42, mysqlDialect), 42n);
});

Deno.test("values: floats must be finite numbers", () => {
  assert.equal(toSqlValue(target("float64"), 0.5, postgresDialect), 0.5);
  refuses("float32", Number.NaN, /finite/);
  refuses("float64", "1.5", /number/);
});

Deno.test("values: bool is 1/0 on MySQL, true/false on PostgreSQL, boolean on fetch", () => {
  assert.equal(toSqlValue(target("bool"), true, mysqlDialect), 1);
  assert.equal(toSqlValue(target("bool"), 0, postgresDialect), false);
  refuses("bool", "yes", /boolean/);
  assert.equal(fromSqlValue(target("bool"), 1, mysqlDialect), true);
  assert.equal(fromSqlValue(target("bool"), 0, mysqlDialect), false);
  assert.equal(fromSqlValue(target("bool"), false, postgresDialect), false);
});

Deno.test("values: uuid is 16 RFC-order bytes on MySQL, text on PostgreSQL, canonical on fetch", () => {
  const text = "12345678-1234-5678-1234-567812345678";
  const bytes = toSqlValue(target("uuid"), text.toUpperCase(), mysqlDialect) as Uint8Array;
  assert.deepEqual([...bytes.slice(0, 4)], [0x12, 0x34, 0x56, 0x78]);
  assert.equal(bytes.length, 16);
  assert.equal(fromSqlValue(target("uuid"), bytes, mysqlDialect), text);
  assert.equal(toSqlValue(target("uuid"), new UUID(text), postgresDialect), text);
  assert.equal(toSqlValue(target("uuid"), text.replaceAll("-", ""), postgresDialect), text);
  refuses("uuid", "not-a-uuid", /UUID/);
});

Deno.test("values: decimals stay exact text, enums are checked against their labels", () => {
  assert.equal(toSqlValue(target("decimal(6,2)"), "23.45", mysqlDialect), "23.45");
  assert.equal(toSqlValue(target("decimal(6,2)"), 1.5, mysqlDialect), "1.5");
  refuses("decimal(6,2)", "12abc", /decimal/);
  assert.equal(toSqlValue(target("enum('M','F')"), "F", mysqlDialect), "F");
  refuses("enum('M','F')", "X", /'M', 'F'/);
});

Deno.test("values: dates and datetimes from text, Temporal and Date (UTC)", () => {
  assert.equal(toSqlValue(target("date"), "2024-01-02", mysqlDialect), "2024-01-02");
  assert.equal(
    toSqlValue(target("date"), Temporal.PlainDate.from("2024-02-29"), mysqlDialect),
    "2024-02-29",
  );
  refuses("date", "02/01/2024", /YYYY-MM-DD/);
  assert.equal(
    toSqlValue(target("datetime"), "2024-01-02T03:04:05", mysqlDialect),
    "2024-01-02 03:04:05",
  );
  assert.equal(
    toSqlValue(
      target("datetime(6)"),
      Temporal.PlainDateTime.from("2024-01-02T03:04:05.123456789"),
      mysqlDialect,
    ),
    "2024-01-02 03:04:05.123456",
  );
  assert.equal(
    toSqlValue(target("datetime(3)"), new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)), mysqlDialect),
    "2024-01-02 03:04:05.006",
  );
  refuses("datetime", "CURRENT_TIMESTAMP", /date and time/);
});

Deno.test("values: bytes and strings are type-checked; NULL never reaches a check", () => {
  assert.deepEqual(
    toSqlValue(target("bytes"), new Uint8Array([1]), mysqlDialect),
    new Uint8Array([1]),
  );
  refuses("bytes", "abc", /Uint8Array/);
  refuses("varchar(8)", 12, /string/);
  assert.equal(toSqlValue(target("int8"), null, mysqlDialect), null);
  assert.equal(toSqlValue(target("uuid"), undefined, mysqlDialect), null);
  assert.equal(fromSqlValue(target("json"), null, mysqlDialect), null);
});

Deno.test("values: JSON text is Python's json.dumps text", () => {
  // Expected strings written out by hand from Python 3: json.dumps(value).
  assert.equal(pythonJson({ a: [1, 2.5, null], b: true }), '{"a": [1, 2.5, null], "b": true}');
  assert.equal(pythonJson("é ☃ 😀"), '"\\u00e9 \\u2603 \\ud83d\\ude00"');
  assert.equal(pythonJson([]), "[]");
  assert.equal(pythonJson({}), "{}");
  assert.equal(pythonJson({ n: 12345678901234567890n }), '{"n": 12345678901234567890}');
  assert.throws(() => pythonJson(Number.POSITIVE_INFINITY), DataJointError);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => pythonJson(cyclic), /cyclic/);
  assert.equal(toSqlValue(target("json"), { k: "v" }, postgresDialect), '{"k": "v"}');
});

Deno.test("values: strings longer than char(n)/varchar(n) and decimals past decimal(p,s) name the attribute", () => {
  const ok = (type: string, v: unknown) => toSqlValue(target(type), v, postgresDialect);
  refuses("varchar(4)", "abcde", /at most 4 characters/);
  refuses("char(2)", "abc", /at most 2 characters/);
  // Characters are code points, as both servers count them; trailing spaces are cut there.
  assert.equal(ok("varchar(4)", "ßßßß"), "ßßßß");
  assert.equal(ok("varchar(4)", "😀😀😀😀"), "😀😀😀😀");
  refuses("varchar(4)", "😀😀😀😀😀", /at most 4/);
  assert.equal(ok("varchar(4)", "abcd   "), "abcd   ");
  refuses("varchar(4)", "abc   d", /at most 4/);
  // decimal(5,3): two digits before the point; more after it are the server's to round.
  for (const v of ["12.345", "-99.9999", "0.0001", "00012.5", ".5", "1.2e1", "-1e-9", 99]) {
    assert.equal(ok("decimal(5,3)", v), String(v));
  }
  for (const v of ["123.4", "-100", "1e2", "0.01e4", 100.5]) {
    refuses("decimal(5,3)", v, /below 10\^2 in magnitude \(2 digits before the point\)/);
  }
  refuses("decimal(3,3)", "1.5", /below 10\^0/);
  assert.equal(ok("decimal(3,3)", "0.999"), "0.999");
});
