/**
 * Edge cases of declaration found by an adversarial review, on every backend: `describe()` of
 * foreign keys that share key columns, of auto-increment keys and of references to tables
 * without primary key must declare the same table again; such references must accept inserts.
 *
 * @module
 */
import type { Heading } from "../lib/heading.ts";
import { schema as makeSchema, type SchemaDecorator } from "../lib/schema.ts";
import { Lookup, Manual, type TableClass } from "../lib/table.ts";
import { onEveryBackend, type TestBackend } from "./_connections.ts";
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
