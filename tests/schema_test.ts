/**
 * Schema life cycle on every backend: the `@schema` decorator, part tables, references across
 * schemas, PostgreSQL enum types shared per schema (reference bugs #12–14), failed declarations
 * that leave nothing behind, drop refusing dependants, listing schemas and tables.
 *
 * @module
 */
import assert from "node:assert/strict";
import { attr, key, ref } from "../lib/decorators.ts";
import { DataJointError, DeclarationError } from "../lib/errors.ts";
import { Connection } from "../lib/connection.ts";
import { schema as makeSchema, virtualSchema } from "../lib/schema.ts";
import { Computed, Lookup, Manual, Part } from "../lib/table.ts";
import { onEveryBackend } from "./_connections.ts";
import { scratchName } from "./_servers.ts";

function assertEq(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(
      `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
    );
  }
}

async function rejects(fn: () => Promise<unknown>, pattern: RegExp, what: string) {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof DataJointError) || !pattern.test(e.message)) {
      throw new Error(`${what}: unexpected error ${e}`);
    }
    return;
  }
  throw new Error(`${what}: no error`);
}

await onEveryBackend(
  "decorated tables, parts and a master reference declare and describe",
  async (c) => {
    const name = scratchName("djlife");
    const lab = makeSchema(name, { connection: c });
    try {
      @lab
      class Rig extends Lookup {
        @key("varchar(16)", { comment: "rig name" })
        rig!: string;
      }

      // A part held by a static field of its (decorated) master. Deno 2.9 mis-compiles class
      // *expressions* in static fields of decorated classes, so the part is declared first.
      class Channel extends Part {
        static override definition = "-> master\nchannel : int16\n---\ngain = 1.0 : float32";
      }
      @lab
      class Probe extends Manual {
        static override definition = "probe : int32  # probe id\n---\n-> [nullable] Rig";
        static Channel = Channel;
      }

      @lab
      class Sorting extends Computed {
        @ref(() => Probe, { primary: true })
        probe!: unknown;
        @attr("int32", { comment: "units found" })
        n_units!: number;
      }

      await lab.declare();
      assertEq(
        [Rig.tableName, Probe.tableName, Channel.tableName, Sorting.tableName],
        ["#rig", "probe", "probe__channel", "__sorting"],
        "table names",
      );
      assertEq((await Channel.heading()).primaryKey, ["probe", "channel"], "part key");
      const described = await Channel.describe();
      if (!described.includes("-> Probe") || !/channel\s*: int16/.test(described)) {
        throw new Error(`part describe: ${described}`);
      }
      // Key attributes only: no divider, as Python prints it.
      const rigText = await Rig.describe();
      assertEq(/^rig +: varchar\(16\) +# rig name\n$/.test(rigText), true, `describe: ${rigText}`);
      const probe = await Probe.heading();
      assertEq(
        probe.attributes.map((a) => [a.name, a.type, a.nullable]),
        [["probe", "int32", false], ["rig", "varchar(16)", true]],
        "probe heading",
      );
      assertEq(probe.foreignKeys.map((f) => f.nullable), [true], "nullable FK");
      await rejects(() => Probe.drop(), /depend on it/, "drop master with part and child");
      await Probe.drop({ cascade: true });
      assertEq(await lab.listTables(), ["#rig"], "after cascade");
    } finally {
      await lab.drop({ cascade: true });
    }
  },
);

await onEveryBackend(
  "references across schemas; enum types live in the schema that made them",
  async (c, backend) => {
    const a = makeSchema(scratchName("dja"), { connection: c });
    const b = makeSchema(scratchName("djb"), { connection: c, context: { upstream: a } });
    try {
      @a
      class Animal extends Manual {
        static override definition =
          "animal : int32\nkind : enum('cat', 'dog')   # a key enum\n---\nsex = 'U' : enum('M', 'F', 'U')";
      }
      @b
      class Visit extends Manual {
        static override definition = "-> upstream.Animal\nvisit : int16";
      }
      @b
      class Note extends Manual {
        // Two hops: the enum column comes from Animal (schema a) through Visit (schema b).
        static override definition = "-> Visit\nnote : int16\n---\ntext = '' : varchar(255)";
      }
      await b.declare();
      const h = await Note.heading();
      assertEq(
        h.attributes.map((x) => [x.name, x.type]),
        [
          ["animal", "int32"],
          ["kind", "enum('cat', 'dog')"],
          ["visit", "int16"],
          ["note", "int16"],
          [
            "text",
            "varchar(255)",
          ],
        ],
        "types inherited across schemas",
      );
      assertEq(
        h.attributes.find((x) => x.name === "kind")!.lineage,
        `${a.name}.animal.kind`,
        "lineage across schemas",
      );
      if (backend !== "mysql") {
        assertEq(
          h.attributes.find((x) => x.name === "kind")!.enumType?.schema,
          a.name,
          "enum schema",
        );
      }
      assertEq([Animal.schemaName, Visit.schemaName], [a.name, b.name], "schema names");
      await rejects(() => a.drop(), /depend on it/, "schema with dependants elsewhere");
      await rejects(() => Animal.drop(), /depend on it/, "table with dependants elsewhere");
      if (backend !== "mysql") {
        // Another table sharing an enum type: dropping one keeps the type for the other.
        @a
        class Pet extends Manual {
          static override definition = "pet : int32\n---\nsex : enum('M', 'F', 'U')";
        }
        await Pet.declare();
        await Pet.drop();
        const [{ n }] = await c.query<{ n: number | bigint }>(
          `SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'animal' AND column_name = 'sex'`,
          [a.name],
        );
        assertEq(Number(n), 1, "animal.sex survives dropping another user of its enum type");
        // Same labels in another order: the shared type cannot serve both.
        @a
        class Owner extends Manual {
          static override definition = "owner : int32\n---\nsex : enum('F', 'M', 'U')";
        }
        await rejects(() => Owner.declare(), /differ in order/, "enum label order");
        assertEq((await a.listTables()).includes("owner"), false, "no half-declared table");
      }
      // Cascade across schemas: Visit references schema a, Note only references Visit.
      await a.drop({ cascade: true });
      assertEq((await c.listSchemas()).includes(a.name), false, "schema dropped");
      assertEq(await b.listTables(), [], "dependants in the other schema dropped, leaves first");
      await b.drop();
    } finally {
      await b.drop({ cascade: true });
      await a.drop({ cascade: true });
    }
  },
);

await onEveryBackend("failed declarations leave no table and no lineage rows", async (c) => {
  const s = makeSchema(scratchName("djfail"), { connection: c });
  try {
    class Good extends Manual {
      static override definition = "g : int32";
    }
    s(Good);
    // The server rejects this default only after the DDL is sent.
    class Bad extends Manual {
      static override definition = "b : int32\n---\nx = 'abc' : int32";
    }
    s(Bad);
    class Broken extends Manual {
      static override definition = "-> Missing\nb : int32";
    }
    s(Broken);
    await Good.declare();
    await rejects(() => Bad.declare(), /./, "server-rejected default");
    await rejects(() => Broken.declare(), /could not be resolved/, "unknown parent");
    await rejects(
      () => c.transaction(() => Broken.declare()),
      /inside a transaction|could not be resolved/,
      "declare inside a transaction",
    );
    assertEq(await s.listTables(), ["good"], "only the good table exists");
    const q = c.kit.dialect.quote;
    const rows = await c.query<{ table_name: string }>(
      `SELECT DISTINCT table_name FROM ${q(s.name)}.${q("~lineage")}`,
    );
    assertEq(rows.map((r) => r.table_name), ["good"], "lineage rows only for the good table");
    await rejects(
      () => Promise.resolve().then(() => s(class NotATable {} as never)),
      /table classes/,
      "decorating a plain class",
    );
    class Loose extends Part {
      static override definition = "x : int32";
    }
    await rejects(
      () => Promise.resolve().then(() => s(Loose)),
      /static property of its master/,
      "a part on its own",
    );
  } finally {
    await s.drop({ cascade: true });
  }
}, { last: true });

Deno.test("a table class without a schema says how to attach one", async () => {
  class Orphan extends Manual {
    static override definition = "x : int32";
  }
  try {
    await Orphan.declare();
  } catch (e) {
    if (e instanceof DataJointError && /decorate it with @schema/.test(e.message)) return;
    throw e;
  }
  throw new Error("no error");
});

Deno.test("schema names are validated before anything reaches SQL", () => {
  for (const bad of ["", "a b", "x`; DROP", 'q"uote']) {
    let threw = false;
    try {
      makeSchema(bad);
    } catch (e) {
      threw = e instanceof DataJointError;
    }
    if (!threw) throw new Error(`schema name ${JSON.stringify(bad)} accepted`);
  }
  void DeclarationError;
});

Deno.test({
  name: "embedded default: with nothing configured, PGlite persists tables in <project>/.dj/pglite",
  fn: async () => {
    const project = await Deno.makeTempDir({ prefix: "dj-embedded-" });
    await Deno.mkdir(`${project}/.git`); // the project root: the config search stops here
    try {
      const first = await Connection.open({ cwd: project, env: {} });
      assertEq(
        [first.backend, first.config.database.path],
        ["pglite", `${project}/.dj/pglite`],
        "embedded default",
      );
      const s = makeSchema("lab", { connection: first });
      class Mouse extends Manual {
        static override definition = "# mice\nmouse : int32\n---\nname = '' : varchar(32)";
      }
      s(Mouse);
      await s.declare();
      await first.close();

      const again = await Connection.open({ cwd: project, env: {} });
      try {
        const vs = await virtualSchema("lab", { connection: again });
        assertEq(vs.order, ["mouse"], "table persisted");
        const text = await (vs.tables.Mouse as unknown as typeof Manual).describe();
        if (!text.startsWith("# mice\nmouse")) throw new Error(`describe: ${text}`);
      } finally {
        await again.close();
      }
    } finally {
      await Deno.remove(project, { recursive: true });
    }
  },
});

await onEveryBackend(
  "an edited definition of an existing table is used as before, with a warning",
  async (c) => {
    const name = scratchName("djedit");
    const before = makeSchema(name, { connection: c });
    try {
      @before
      class Sample extends Manual {
        static override definition = "sample_id : int32\n---\nlabel : varchar(16)";
      }
      await before.declare();
      await Sample.insert1({ sample_id: 1, label: "a" });

      // The next run of the script: the same class, one attribute added.
      const after = makeSchema(name, { connection: c });
      const Edited = class Sample extends Manual {
        static override definition =
          "sample_id : int32\n---\nlabel : varchar(16)\nweight = null : float32";
      };
      after(Edited);
      const warned: string[] = [];
      const warn = console.warn;
      console.warn = (...args: unknown[]) => void warned.push(args.join(" "));
      try {
        await after.declare();
      } finally {
        console.warn = warn;
      }
      assertEq(warned.length, 1, "one warning");
      assertEq(
        /exists and is used as declared before: the definition of Sample now names weight, which the table lacks\. To declare it anew, drop it first \(Sample\.drop\(\); its rows are lost\)/
          .test(warned[0]),
        true,
        warned[0],
      );
      assertEq(await Edited.count(), 1, "the table and its rows are untouched");
    } finally {
      await before.drop({ cascade: true });
    }
  },
);

await onEveryBackend(
  "a missing schema with create: false is an error that says where it looked",
  async (c) => {
    const name = scratchName("djnone");
    await assert.rejects(
      makeSchema(name, { connection: c, create: false }).activate(),
      (e: Error) =>
        e instanceof DataJointError && e.message.includes(`Schema \`${name}\` does not exist`) &&
        (c.config.database.backend === "pglite") ===
          e.message.includes(`in the embedded database at ${c.config.database.path}`),
    );
    assertEq(await c.schemaExists(name), false, "nothing created");
  },
);
