/**
 * Edge cases of declaration found by an adversarial review, on every backend: `describe()` of
 * foreign keys that share key columns, of auto-increment keys and of references to tables
 * without primary key must declare the same table again; such references must accept inserts.
 * Without a database: index lines before their attributes, attribute name lengths, defaults
 * checked against their core type.
 *
 * @module
 */
import "../codecs/builtins.ts";
import { getCodec } from "../codecs/registry.ts";
import type { Dialect } from "../lib/adapters/dialect.ts";
import { mysqlDialect } from "../lib/adapters/mysql_dialect.ts";
import { postgresDialect } from "../lib/adapters/postgres_dialect.ts";
import { compileTable } from "../lib/declare.ts";
import { DeclarationError } from "../lib/errors.ts";
import type { Heading } from "../lib/heading.ts";
import { schema as makeSchema, type SchemaDecorator } from "../lib/schema.ts";
import { Lookup, Manual, type TableClass } from "../lib/table.ts";
import { onEveryBackend, type TestBackend } from "./_connections.ts";
import { declarationError } from "./_declaration_error.ts";
import { scratchName } from "./_servers.ts";

function assertEq(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** A table class of `base` named `name` with a `static definition`, bound to `schema`. */
function table(
  schema: SchemaDecorator,
  base: typeof Manual | typeof Lookup,
  name: string,
  definition: string,
): typeof Manual {
  const cls = class extends (base as typeof Manual) {
    static override definition = definition;
  };
  Object.defineProperty(cls, "name", { value: name });
  schema(cls as unknown as TableClass);
  return cls;
}

/** What a heading says about the table, without its name. */
function shape(h: Heading) {
  return {
    attributes: h.attributes.map((a) => [
      a.name,
      a.type,
      a.sqlType,
      a.inKey,
      a.nullable,
      a.default,
      a.autoIncrement,
      a.comment,
    ]),
    primaryKey: h.primaryKey,
    foreignKeys: h.foreignKeys.map((f) => [f.columns, f.refTable, f.refColumns, f.nullable]),
    indexes: h.indexes,
  };
}

/** Declares `copyName` from what `cls.describe()` prints and checks both tables are alike. */
async function roundTrip(schema: SchemaDecorator, cls: typeof Manual, copyName: string) {
  const text = await cls.describe();
  const copy = table(schema, Manual, copyName, text);
  assertEq(shape(await copy.heading()), shape(await cls.heading()), `describe round trip\n${text}`);
  return text;
}

await onEveryBackend(
  "describe(): a foreign key sharing key columns is written where its last column is",
  async (c) => {
    const s = makeSchema(scratchName("djedge"), { connection: c });
    try {
      table(s, Manual, "Subject", "subject_id : int32\n---\nname = '' : varchar(20)");
      table(s, Manual, "Rig", "-> Subject\nrig_id : int16");
      // Rig's key (subject_id, rig_id) shares subject_id with Session's key: the reference
      // adds only rig_id, a secondary (nullable) attribute.
      const Session = table(
        s,
        Manual,
        "Session",
        "-> Subject\nsession : int16\n---\n-> [nullable] Rig\nnote = '' : varchar(20)",
      );
      await s.declare();
      const h = await Session.heading();
      assertEq(
        h.attributes.map((a) => [a.name, a.inKey, a.nullable]),
        [["subject_id", true, false], ["session", true, false], ["rig_id", false, true], [
          "note",
          false,
          false,
        ]],
        "session attributes",
      );
      assertEq(h.foreignKeys.map((f) => f.nullable), [false, true], "nullable foreign keys");
      const text = await roundTrip(s, Session, "SessionCopy");
      assertEq(
        text.split("\n").slice(0, 4),
        ["-> Subject", "session              : int16", "---", "-> [nullable] Rig"],
        "describe",
      );
    } finally {
      await s.drop({ cascade: true });
    }
  },
);

await onEveryBackend(
  "a reference to a table without primary key: inserts work, describe writes it",
  async (c) => {
    const s = makeSchema(scratchName("djedge"), { connection: c });
    try {
      const Config = table(s, Manual, "Config", "---\nvalue = 1 : int32");
      const Uses = table(s, Manual, "UsesConfig", "-> Config\nk : int16\n---\nv = 0 : int32");
      await s.declare();
      await Config.insert1({ value: 3 });
      await Uses.insert1({ k: 1 });
      assertEq(await Uses.toDicts(), [{ k: 1, v: 0 }], "rows");
      const text = await roundTrip(s, Uses, "UsesConfigCopy");
      assertEq(text.split("\n")[0], "-> Config", "describe");
    } finally {
      await s.drop({ cascade: true });
    }
  },
);

await onEveryBackend(
  "describe(): an auto-increment key stays auto-increment",
  async (c, backend: TestBackend) => {
    const s = makeSchema(scratchName("djedge"), { connection: c });
    try {
      const type = backend === "mysql" ? "int auto_increment" : "serial";
      const Counter = table(s, Manual, "Counter", `id : ${type}\n---\nv = 0 : int32`);
      await s.declare();
      const text = await roundTrip(s, Counter, "CounterCopy");
      assertEq(text.split("\n")[0].replace(/\s+/g, " "), `id : ${type}`, "describe");
      const copy = s.classes.find((k) => k.name === "CounterCopy") as typeof Manual;
      await copy.insert1({ v: 5 });
      await copy.insert1({ v: 6 });
      assertEq((await copy.toDicts()).map((r) => r.id), [1, 2], "ids from the sequence");
    } finally {
      await s.drop({ cascade: true });
    }
  },
  { last: true },
);

await onEveryBackend(
  "index names of two tables that Python would name alike are both declared",
  async (c) => {
    const s = makeSchema(scratchName("djedge"), { connection: c });
    try {
      // DataJoint Python names both PostgreSQL indexes idx_session_trial_x.
      const A = table(s, Manual, "SessionTrial", "id : int32\n---\nx : int32\nindex(x)");
      const B = table(s, Manual, "Session", "id : int32\n---\ntrial_x : int32\nindex(trial_x)");
      await s.declare();
      assertEq((await A.heading()).indexes, [{ unique: false, columns: ["x"] }], "first");
      assertEq((await B.heading()).indexes, [{ unique: false, columns: ["trial_x"] }], "second");
    } finally {
      await s.drop({ cascade: true });
    }
  },
);

await onEveryBackend(
  "a definition the server refuses is a DeclarationError naming the line; nothing is left",
  async (c, backend) => {
    const s = makeSchema(scratchName("djedge"), { connection: c });
    try {
      table(s, Manual, "Keep", "k : int32");
      // MySQL cannot key a text column; PostgreSQL has no unsigned integers.
      const [definition, line] = backend === "mysql"
        ? ["name : longtext\n---\nv : int32", 'line 1 "name : longtext"']
        : ["id : int32\n---\nv : int unsigned", 'line 3 "v : int unsigned"'];
      table(s, Manual, "Refused", definition);
      await s.declare().then(
        () => {
          throw new Error("declared");
        },
        (e) => {
          if (!(e instanceof DeclarationError)) throw e;
          for (const part of ["refused to declare", "(class Refused)", line, "nothing was"]) {
            if (!e.message.includes(part)) throw new Error(`${e.message} lacks ${part}`);
          }
        },
      );
      assertEq(await s.listTables(), ["keep"], "tables");
      const d = c.kit.dialect;
      const rows = await c.query(
        `SELECT table_name FROM ${d.quote(s.name)}.${d.quote("~lineage")} ORDER BY table_name`,
      );
      assertEq(rows.map((r) => r.table_name), ["keep"], "lineage");
    } finally {
      await s.drop({ cascade: true });
    }
  },
);

// ── Pure compiler checks ────────────────────────────────────────────────────────────────────────

function compile(definition: string, dialect: Dialect) {
  return compileTable(definition, {
    schema: "lab",
    className: "Thing",
    tier: "Manual",
    dialect,
    lookupCodec: getCodec,
    resolveParent: () => {
      throw new Error("no parents here");
    },
  });
}

Deno.test("an index line may come before the attributes it names, as in DataJoint Python", () => {
  for (const d of [mysqlDialect, postgresDialect]) {
    const t = compile("id : int32\n---\nindex(a, b)\na : int32\nunique index(b)\nb : int32", d);
    assertEq(t.plan.indexes.map((i) => [i.unique, i.columns]), [
      [false, ["a", "b"]],
      [true, ["b"]],
    ], `${d.name} indexes`);
    declarationError(
      () => compile("id : int32\n---\nindex(a, zz)\na : int32", d),
      "Index on unknown attribute zz",
      'line 3 "index(a, zz)"',
    );
  }
});

Deno.test("attribute names longer than the server allows are declaration errors", () => {
  const long = "a".repeat(64);
  compile(`${long} : int32`, mysqlDialect);
  declarationError(
    () => compile(`${long} : int32`, postgresDialect),
    `Attribute name ${long} is 64 characters long`,
    "line 1",
    "at most 63",
  );
  declarationError(
    () => compile(`${long}b : int32`, mysqlDialect),
    "is 65 characters long",
    "at most 64",
  );
});

Deno.test("defaults are checked against the core type, alike on every backend", () => {
  const good = [
    "-128 : int8",
    "'127' : int8",
    "32767 : int16",
    "-2147483648 : int32",
    "9223372036854775807 : int64",
    "1.5e-5 : float32",
    "-25000000000 : float64",
    "3.250 : decimal(10, 3)",
    "-9999999.5 : decimal(10, 3)",
    "true : bool",
    "'FALSE' : bool",
    "1 : bool",
    "'2020-02-29' : date",
    "'2020-01-01 00:00:00' : datetime",
    "'2020-01-01 23:59:59.123' : datetime(3)",
    "CURRENT_TIMESTAMP : datetime",
    "CURRENT_TIMESTAMP(3) : datetime(3)",
    "'abc' : char(3)",
    "'ünï' : varchar(3)",
    "'it''s' : enum('it''s', 'b')",
    "'{\"a\": [1]}' : json",
    "'abc' : int unsigned", // native: the server's to judge
  ];
  const bad: [string, string][] = [
    ["300 : int8", "out of the range of int8 (-128 to 127)"],
    ["1.5 : int32", '"1.5" is not an integer'],
    ["'abc' : int32", '"abc" is not an integer'],
    ["9223372036854775808 : int64", "out of the range of int64"],
    ["NaN : float64", "is not a number"],
    ["12345678 : decimal(10, 3)", "more than 7 digits before the point"],
    ["yes : bool", "is not a bool"],
    ["'2023-02-29' : date", "names no real day"],
    ["'2020-01-01 24:00:00' : datetime", "names no real time of day"],
    ["'01/02/2020' : date", "is not a date written YYYY-MM-DD"],
    ["CURRENT_TIMESTAMP : int32", "CURRENT_TIMESTAMP is a default of datetime attributes"],
    ["CURRENT_TIMESTAMP(3) : datetime", "differs from datetime"],
    ["'toolong' : varchar(3)", "7 characters, longer than varchar(3)"],
    ["'zz' : enum('a', 'b')", "is not one of the labels"],
    ["'6ccd780c-baba-1026-9564-5b8c656024db' : uuid", "can only default to null"],
    ["'{oops' : json", "is not JSON text"],
  ];
  for (const d of [mysqlDialect, postgresDialect]) {
    for (const g of good) compile(`id : int32\n---\nx = ${g}`, d);
    for (const [b, why] of bad) {
      declarationError(
        () => compile(`id : int32\n---\nx = ${b}`, d),
        "Invalid default",
        `line 3 "x = ${b}"`,
        why,
      );
    }
  }
  // Quoted bool defaults are written as MySQL takes them.
  assertEq(
    compile("id : int32\n---\nx = 'true' : bool", mysqlDialect).plan.columns[1].default,
    "'1'",
    "quoted true",
  );
});
