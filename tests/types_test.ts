/**
 * The type system without a database: core types and their SQL per backend (reference
 * types-and-tables.md §1.1), native types (§1.3), codec chains (§1.2), enum labels and PostgreSQL
 * enum type names (§1.7), and the reference bugs #17 (uppercase core types) and #18 (loose native
 * integer pattern).
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import "../codecs/builtins.ts";
import { codec, getCodec, unregisterCodec } from "../codecs/registry.ts";
import { mysqlDialect } from "../lib/adapters/mysql_dialect.ts";
import { enumTypeName, postgresDialect } from "../lib/adapters/postgres_dialect.ts";
import { DeclarationError } from "../lib/errors.ts";
import { type CoreType, isBlobLike, parseType, resolveType } from "../lib/types.ts";

function core(text: string): CoreType {
  const t = parseType(text);
  assert.equal(t.kind, "core", `${text} should be a core type`);
  return t as CoreType;
}

function rejects(text: string, ...parts: string[]): DeclarationError {
  let caught: unknown;
  try {
    parseType(text);
  } catch (e) {
    caught = e;
  }
  assert.ok(
    caught instanceof DeclarationError,
    `${text}: expected a DeclarationError, got ${caught}`,
  );
  assert.ok(
    caught.message.startsWith(`Unsupported attribute type ${text.trim()}`),
    `${text}: message ${JSON.stringify(caught.message)}`,
  );
  for (const p of parts) {
    assert.ok(caught.message.includes(p), `${text}: ${JSON.stringify(caught.message)} lacks ${p}`);
  }
  return caught;
}

Deno.test("core types: SQL type per backend is the reference table §1.1", () => {
  // [declared, MySQL, PostgreSQL]
  const table: [string, string, string][] = [
    ["int8", "tinyint", "smallint"],
    ["int16", "smallint", "smallint"],
    ["int32", "int", "integer"],
    ["int64", "bigint", "bigint"],
    ["float32", "float", "real"],
    ["float64", "double", "double precision"],
    ["bool", "tinyint", "boolean"],
    ["uuid", "binary(16)", "uuid"],
    ["json", "json", "jsonb"],
    ["bytes", "longblob", "bytea"],
    ["date", "date", "date"],
    ["datetime", "datetime", "timestamp"],
    ["datetime(3)", "datetime(3)", "timestamp(3)"],
    ["datetime(6)", "datetime(6)", "timestamp(6)"],
    ["char(4)", "char(4)", "char(4)"],
    ["varchar(255)", "varchar(255)", "varchar(255)"],
    ["decimal(6,2)", "decimal(6,2)", "numeric(6,2)"],
    ["decimal(10, 3)", "decimal(10, 3)", "numeric(10, 3)"],
    ["enum('a','b')", "enum('a','b')", '"lab"."enum_dbf08e00"'],
    ["enum('M', 'F', 'U')", "enum('M', 'F', 'U')", '"lab"."enum_e54fc739"'],
  ];
  for (const [declared, mysql, pg] of table) {
    const t = core(declared);
    assert.equal(t.text, declared);
    assert.equal(mysqlDialect.coreType(t, "lab").sql, mysql, `MySQL ${declared}`);
    assert.equal(postgresDialect.coreType(t, "lab").sql, pg, `PostgreSQL ${declared}`);
  }
});

Deno.test("core types: parameters are parsed", () => {
  assert.equal(core("char(4)").length, 4);
  assert.equal(core("char(4)").name, "char");
  assert.equal(core("varchar (255)").length, 255);
  assert.equal(core("varchar (255)").name, "varchar");
  assert.equal(core("datetime").fsp, undefined);
  assert.equal(core("datetime(3)").fsp, 3);
  const d = core("decimal(10, 3)");
  assert.deepEqual([d.name, d.precision, d.scale], ["decimal", 10, 3]);
  // The marker is the text as written with outer whitespace stripped.
  assert.equal(core("  decimal(10, 3)  ").text, "decimal(10, 3)");
});

Deno.test("core types: a PostgreSQL enum needs its CREATE TYPE in the table's schema", () => {
  const r = postgresDialect.coreType(core("enum('a','b','c')"), "myschema");
  assert.equal(r.sql, '"myschema"."enum_8d28cddc"');
  assert.deepEqual(r.enumType, {
    schema: "myschema",
    name: "enum_8d28cddc",
    labels: ["a", "b", "c"],
  });
  assert.equal(
    postgresDialect.createEnumType(r.enumType!),
    `CREATE TYPE "myschema"."enum_8d28cddc" AS ENUM ('a', 'b', 'c')`,
  );
  // MySQL keeps the enum inline and needs no type object.
  assert.equal(mysqlDialect.coreType(core("enum('a','b','c')"), "myschema").enumType, undefined);
});

Deno.test("native types are accepted verbatim (with their category), anchored at both ends", () => {
  const natives: [string, string][] = [
    ["int", "INTEGER"],
    ["int unsigned", "INTEGER"],
    ["int(11)", "INTEGER"],
    ["tinyint", "INTEGER"],
    ["smallint unsigned", "INTEGER"],
    ["mediumint", "INTEGER"],
    ["bigint unsigned auto_increment", "INTEGER"],
    ["int auto_increment", "INTEGER"],
    ["integer", "INTEGER"],
    ["serial", "INTEGER"],
    ["numeric(10,2)", "NUMERIC"],
    ["numeric", "NUMERIC"],
    ["double", "FLOAT"],
    ["float", "FLOAT"],
    ["real", "FLOAT"],
    ["float(7,3) unsigned", "FLOAT"],
    ["time", "TEMPORAL"],
    ["timestamp", "TEMPORAL"],
    ["timestamp(3)", "TEMPORAL"],
    ["year", "TEMPORAL"],
    ["tinyblob", "NATIVE_BLOB"],
    ["mediumblob", "NATIVE_BLOB"],
    ["longblob", "NATIVE_BLOB"],
    ["text", "NATIVE_TEXT"],
    ["longtext", "NATIVE_TEXT"],
    ["INT UNSIGNED", "INTEGER"],
  ];
  for (const [text, category] of natives) {
    const t = parseType(text);
    assert.deepEqual(t, { kind: "native", category, text }, text);
  }
});

Deno.test("bug #18: the native integer pattern is anchored (intfoo is not a type)", () => {
  for (
    const text of [
      "intfoo",
      "int24",
      "integerx",
      "int unsignedx",
      "int unsigned; DROP TABLE t",
      "int(11) -- x",
      "serialx",
      "doublex",
      "timestampz",
      "longblobx",
      "texts",
      "int32x",
      "int 32",
    ]
  ) {
    rejects(text);
  }
});

Deno.test("bug #17: uppercase core types are rejected cleanly, not normalised", () => {
  for (
    const text of [
      "INT32",
      "Int8",
      "UUID",
      "VARCHAR(10)",
      "ENUM('a')",
      "DATETIME(3)",
      "DECIMAL(5,2)",
      "Bool",
      "DATE",
      "Json",
      "JSONB",
    ]
  ) {
    rejects(text);
  }
  rejects("INT32", "lowercase", "int32");
  rejects("VARCHAR(10)", "varchar(10)");
  rejects("jsonb", "use json");
});

Deno.test("unsupported types of §1.1 are rejected with a hint", () => {
  rejects("decimal", "precision and scale");
  rejects("varchar", "length");
  rejects("char", "length");
  rejects("blob", "<blob>", "bytes");
  rejects("boolean", "bool");
  rejects("binary(16)");
  rejects("varbinary(16)");
  rejects("set('a','b')");
  rejects("double precision", "float64");
  rejects("bytea", "bytes");
  rejects("uint8", "unsigned");
  rejects("uint64", "unsigned");
  rejects("int128");
  rejects("string");
  rejects("datetime(7)", "0 to 6");
  rejects("varchar(0)");
  rejects("decimal(3,4)");
  rejects("decimal(66,2)");
});

Deno.test("enum labels: SQL single-quoted strings with '' escapes, commas and # inside", () => {
  assert.deepEqual(core("enum('a','b')").labels, ["a", "b"]);
  assert.deepEqual(core("enum( 'a' ,  'b' )").labels, ["a", "b"]);
  assert.deepEqual(core("enum('it''s', 'x')").labels, ["it's", "x"]);
  assert.deepEqual(core("enum('a,b','c')").labels, ["a,b", "c"]);
  assert.deepEqual(core("enum('a#b', ')')").labels, ["a#b", ")"]);
  assert.deepEqual(core("enum('', ' ')").labels, ["", " "]);
  assert.deepEqual(core(`enum('say "hi"')`).labels, ['say "hi"']);
  assert.deepEqual(core("enum('pending', 'reserved', 'success', 'error', 'ignore')").labels, [
    "pending",
    "reserved",
    "success",
    "error",
    "ignore",
  ]);
});

Deno.test("enum labels: malformed lists, backslashes and colons are rejected", () => {
  rejects("enum('a\\b')", "backslash");
  rejects("enum('a:b')", "':'");
  rejects("enum(a,b)", "single-quoted");
  rejects(`enum("a")`, "single-quoted");
  rejects("enum('a',)", "comma");
  rejects("enum('a' 'b')", "comma");
  rejects("enum()", "at least one");
  rejects("enum('a)", "not closed");
  rejects("enum('a','a')", "differ");
  rejects("enum('a'); DROP TABLE t; --')");
  rejects("enum('a'), b int, c enum('x')");
});

Deno.test("PostgreSQL enum type names are Python's (md5 of the sorted labels)", () => {
  assert.equal(enumTypeName(["a", "b", "c"]), "enum_8d28cddc");
  assert.equal(enumTypeName(["M", "F", "U"]), "enum_e54fc739");
  assert.equal(enumTypeName(["a", "b"]), "enum_dbf08e00");
  assert.equal(
    enumTypeName(["pending", "reserved", "success", "error", "ignore"]),
    "enum_609a743e",
  );
  // Label order does not change the name.
  assert.equal(enumTypeName(["c", "a", "b"]), "enum_8d28cddc");
  assert.equal(enumTypeName(["U", "M", "F"]), "enum_e54fc739");
  assert.equal(enumTypeName(["b", "a"]), "enum_dbf08e00");
  assert.equal(
    enumTypeName(["ignore", "error", "success", "reserved", "pending"]),
    "enum_609a743e",
  );
  // Through the dialect, from the declared text.
  assert.equal(
    postgresDialect.coreType(core("enum('b', 'a')"), "s").sql,
    postgresDialect.coreType(core("enum('a','b')"), "s").sql,
  );
  assert.equal(
    postgresDialect.coreType(
      core("enum('pending', 'reserved', 'success', 'error', 'ignore')"),
      "s",
    ).sql,
    '"s"."enum_609a743e"',
  );
  // Python sorts by code point, not by UTF-16 unit: U+FFFF sorts before U+1F600.
  const md5 = (s: string) => createHash("md5").update(s, "utf8").digest("hex").slice(0, 8);
  assert.equal(enumTypeName(["\u{1F600}", "\uFFFF"]), "enum_" + md5("\uFFFF_\u{1F600}"));
});

Deno.test("codec types: the chain resolves to a core storage type; stores propagate", () => {
  const blob = resolveType("<blob>", getCodec);
  assert.equal(blob.storage.kind, "core");
  assert.equal(blob.storage.text, "bytes");
  assert.deepEqual(blob.chain, [{ name: "blob", store: null }]);
  assert.equal(blob.store, null);
  assert.deepEqual(blob.declared, { kind: "codec", name: "blob", store: null, text: "<blob>" });

  const ext = resolveType("<blob@s>", getCodec);
  assert.equal(ext.storage.text, "json");
  assert.deepEqual(ext.chain, [{ name: "blob", store: "s" }, { name: "hash", store: "s" }]);
  assert.equal(ext.store, "s");

  const dflt = resolveType("<blob@>", getCodec);
  assert.equal(dflt.storage.text, "json");
  assert.deepEqual(dflt.chain, [{ name: "blob", store: "" }, { name: "hash", store: "" }]);
  assert.equal(dflt.store, "");

  for (
    const [text, storage] of [
      ["<attach>", "bytes"],
      ["<attach@main>", "json"],
      ["<hash@main>", "json"],
      ["<hash@>", "json"],
      ["<npy@main>", "json"],
      ["<object@>", "json"],
      ["<filepath@raw>", "json"],
    ]
  ) {
    assert.equal(resolveType(text, getCodec).storage.text, storage, text);
  }
  assert.equal(mysqlDialect.coreType(ext.storage as CoreType, "s").sql, "json");
  assert.equal(postgresDialect.coreType(ext.storage as CoreType, "s").sql, "jsonb");
  assert.equal(mysqlDialect.coreType(blob.storage as CoreType, "s").sql, "longblob");
  assert.equal(postgresDialect.coreType(blob.storage as CoreType, "s").sql, "bytea");
});

Deno.test("codec types: store-only codecs without @, unknown codecs, malformed references", () => {
  for (const name of ["hash", "npy", "object", "filepath"]) {
    assert.throws(
      () => resolveType(`<${name}>`, getCodec),
      (e) => e instanceof DeclarationError && e.message.includes(`<${name}@`),
      name,
    );
  }
  assert.throws(
    () => resolveType("<nosuch>", getCodec),
    (e) =>
      e instanceof DeclarationError && e.message.includes("Unknown codec <nosuch>") &&
      e.message.includes("codec("),
  );
  for (
    const text of [
      "<blob",
      "<>",
      "<bl ob>",
      "<blob@s;drop>",
      "<blob@s>x",
      "<blob@s@t>",
      "<blob>)",
      "<blob@'x'>",
    ]
  ) {
    rejects(text);
  }
});

Deno.test("codec types: a circular chain is an error; custom chains propagate stores", () => {
  const a = codec({
    name: "test_cycle_a",
    getDtype: () => "<test_cycle_b>",
    encode: (v) => v,
    decode: (s) => s,
  });
  const b = codec({
    name: "test_cycle_b",
    getDtype: () => "<test_cycle_a>",
    encode: (v) => v,
    decode: (s) => s,
  });
  const c = codec({
    name: "test_outer",
    getDtype: (isStore) => (isStore ? "<blob>" : "<test_cycle_a>"),
    encode: (v) => v,
    decode: (s) => s,
  });
  const native = codec({
    name: "test_native",
    getDtype: () => "longtext",
    encode: (v) => v,
    decode: (s) => s,
  });
  const bad = codec({
    name: "test_bad",
    getDtype: () => "int); DROP TABLE t; --",
    encode: (v) => v,
    decode: (s) => s,
  });
  try {
    assert.ok(a && b && c && native && bad);
    assert.throws(
      () => resolveType("<test_cycle_a>", getCodec),
      (e) => e instanceof DeclarationError && /Circular codec reference/.test(e.message),
    );
    assert.throws(
      () => resolveType("<test_outer>", getCodec),
      (e) => e instanceof DeclarationError && /Circular/.test(e.message),
    );
    // <test_outer@x> → <blob> (store x propagates) → <hash> (still x) → json.
    const r = resolveType("<test_outer@x>", getCodec);
    assert.deepEqual(r.chain, [
      { name: "test_outer", store: "x" },
      { name: "blob", store: "x" },
      { name: "hash", store: "x" },
    ]);
    assert.equal(r.storage.text, "json");
    assert.equal(r.store, "x");
    assert.throws(
      () => resolveType("<test_native>", getCodec),
      (e) => e instanceof DeclarationError && e.message.includes("core type"),
    );
    assert.throws(
      () => resolveType("<test_bad>", getCodec),
      (e) => e instanceof DeclarationError && e.message.includes("invalid storage type"),
    );
  } finally {
    for (const n of ["test_cycle_a", "test_cycle_b", "test_outer", "test_native", "test_bad"]) {
      unregisterCodec(n);
    }
  }
  assert.equal(getCodec("test_cycle_a"), undefined);
});

Deno.test("isBlobLike: bytes, json and native blobs", () => {
  assert.equal(isBlobLike(core("bytes")), true);
  assert.equal(isBlobLike(core("json")), true);
  assert.equal(isBlobLike(core("int32")), false);
  assert.equal(isBlobLike(core("varchar(8)")), false);
  assert.equal(isBlobLike(core("uuid")), false);
  assert.equal(isBlobLike(parseType("longblob") as never), true);
  assert.equal(isBlobLike(parseType("int") as never), false);
  assert.equal(isBlobLike(resolveType("<blob>", getCodec).storage), true);
  assert.equal(isBlobLike(resolveType("<blob@s>", getCodec).storage), true);
});
