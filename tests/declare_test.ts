/**
 * The declaration compiler without a database (reference types-and-tables.md §2.2–2.6, §3.4): the
 * `_trial` example and the other observed column renderings on MySQL and PostgreSQL, foreign keys
 * (diamonds, renames, lineage), singletons, job metadata, PostgreSQL support indexes and index
 * names, escaping, the declaration-time errors, and definitions that try to smuggle SQL into DDL.
 *
 * Expected statements are the reference's observed DataJoint Python output.
 *
 * @module
 */
import assert from "node:assert/strict";
import "../codecs/builtins.ts";
import { getCodec } from "../codecs/registry.ts";
import type { Dialect } from "../lib/adapters/dialect.ts";
import { mysqlDialect } from "../lib/adapters/mysql_dialect.ts";
import { postgresDialect } from "../lib/adapters/postgres_dialect.ts";
import {
  type CompiledTable,
  compileTable,
  type ParentAttribute,
  type ParentTable,
} from "../lib/declare.ts";
import { DeclarationError } from "../lib/errors.ts";
import { declarationError } from "./_declaration_error.ts";
import type { Tier } from "../lib/table.ts";

const MY = mysqlDialect;
const PG = postgresDialect;
const BOTH = [MY, PG];

function pa(
  name: string,
  sqlType: string,
  userComment = "",
  uuid = false,
  lineage: string | null = null,
): ParentAttribute {
  return { name, sqlType, userComment, uuid, lineage };
}

/** Parent tables as the heading of each backend would describe them (built by hand). */
function parents(d: Dialect): Record<string, ParentTable> {
  const my = d.name === "mysql";
  const int = my ? "int" : "integer";
  return {
    Subject: {
      schema: "lab",
      table: "subject",
      primaryKey: [
        pa("subject_id", int, "subject id", false, "lab.subject.subject_id"),
        pa("sess_uuid", my ? "binary(16)" : "uuid", "uuid pk", true, "lab.subject.sess_uuid"),
        pa("kind", my ? "enum('a','b')" : '"lab"."enum_dbf08e00"', "", false, "lab.subject.kind"),
      ],
    },
    Rig: {
      schema: "myschema",
      table: "#rig",
      primaryKey: [pa("rig", "varchar(16)", "rig name", false, "myschema.#rig.rig")],
    },
    Session: {
      schema: "myschema",
      table: "session",
      primaryKey: [pa("session_id", int, "", false, "myschema.session.session_id")],
    },
    Mouse: {
      schema: "myschema",
      table: "mouse",
      primaryKey: [pa("subject_id", int, "", false, "myschema.mouse.subject_id")],
    },
    SessA: {
      schema: "myschema",
      table: "sess_a",
      primaryKey: [
        pa("subject_id", int, "", false, "myschema.mouse.subject_id"),
        pa("sa", "smallint", "", false, "myschema.sess_a.sa"),
      ],
    },
    SessB: {
      schema: "myschema",
      table: "sess_b",
      primaryKey: [
        pa("subject_id", int, "", false, "myschema.mouse.subject_id"),
        pa("sb", "smallint", "", false, "myschema.sess_b.sb"),
      ],
    },
    One: { schema: "myschema", table: "one", primaryKey: [pa("a", int, "", false, "x.one.a")] },
    Two: {
      schema: "myschema",
      table: "two",
      primaryKey: [pa("a", int, "", false, "x.one.a"), pa("b", int, "", false, "x.two.b")],
    },
    Cell: { schema: "lab", table: "cell", primaryKey: [pa("cell", int, "cell id")] },
    Pair: {
      schema: "lab",
      table: "pair",
      primaryKey: [
        pa("session", int, "", false, "lab.session.session"),
        pa("cell", int, "", false, "lab.cell.cell"),
      ],
    },
    Weird: {
      schema: 'we`ird"s',
      table: 't`"x',
      primaryKey: [pa("w", int, "", false, "w.w.w")],
    },
  };
}

interface Opts {
  className?: string;
  tier?: Tier;
  schema?: string;
  masterTable?: string;
  addJobMetadata?: boolean;
  allow?: boolean;
  refs?: string[];
}

function compile(definition: string, d: Dialect, o: Opts = {}): CompiledTable {
  const known = parents(d);
  return compileTable(definition, {
    schema: o.schema ?? "myschema",
    className: o.className ?? "Thing",
    tier: o.tier ?? "Manual",
    masterTable: o.masterTable,
    dialect: d,
    lookupCodec: getCodec,
    resolveParent: (ref) => {
      o.refs?.push(ref);
      const p = known[ref];
      if (!p) throw new DeclarationError(`Foreign key reference ${ref} could not be resolved`);
      return p;
    },
    addJobMetadata: o.addJobMetadata,
    allowNewPkFieldsInComputedTables: o.allow,
  });
}

/** The column lines of a CREATE TABLE (everything before PRIMARY KEY). */
function columnLines(create: string): string[] {
  const lines = create.split("\n");
  const end = lines.findIndex((l) => l.startsWith("PRIMARY KEY"));
  return lines.slice(1, end).map((l) => l.replace(/,$/, ""));
}

function allStatements(t: CompiledTable, d: Dialect): string[] {
  return [
    ...t.enumTypes.map((e) => d.createEnumType(e)),
    t.statements.create,
    ...t.statements.post,
  ];
}

// ---- the reference's _trial example (§2.5) ---------------------------------------------------

const TRIAL = `
# child
-> Subject
trial : int32
---
-> [nullable] Rig
-> [unique] Rig.proj(backup_rig='rig')
note = "" : varchar(100)
`;

const TRIAL_OPTIONS: Opts = { className: "Trial", tier: "Imported", allow: true };

Deno.test("_trial example: MySQL statement is exactly DataJoint Python's", () => {
  const t = compile(TRIAL, MY, TRIAL_OPTIONS);
  assert.equal(
    t.statements.create,
    [
      "CREATE TABLE IF NOT EXISTS `myschema`.`_trial` (",
      '`subject_id` int NOT NULL COMMENT "subject id",',
      '`sess_uuid` binary(16) NOT NULL COMMENT ":uuid:uuid pk",',
      "`kind` enum('a','b') NOT NULL,",
      '`trial` int NOT NULL COMMENT ":int32:",',
      '`rig` varchar(16) COMMENT "rig name",',
      '`backup_rig` varchar(16) NOT NULL COMMENT "rig name",',
      "`note` varchar(100) NOT NULL DEFAULT '' COMMENT \":varchar(100):\",",
      "PRIMARY KEY (`subject_id`, `sess_uuid`, `kind`, `trial`),",
      "FOREIGN KEY (`subject_id`, `sess_uuid`, `kind`) REFERENCES `lab`.`subject` (`subject_id`, `sess_uuid`, `kind`) ON UPDATE CASCADE ON DELETE RESTRICT,",
      "FOREIGN KEY (`rig`) REFERENCES `myschema`.`#rig` (`rig`) ON UPDATE CASCADE ON DELETE RESTRICT,",
      "FOREIGN KEY (`backup_rig`) REFERENCES `myschema`.`#rig` (`rig`) ON UPDATE CASCADE ON DELETE RESTRICT,",
      "UNIQUE INDEX (`backup_rig`)",
      ') ENGINE=InnoDB, COMMENT "child"',
    ].join("\n"),
  );
  assert.deepEqual(t.statements.post, []);
  assert.deepEqual(t.enumTypes, []);
  assert.deepEqual(t.plan.primaryKey, ["subject_id", "sess_uuid", "kind", "trial"]);
  assert.deepEqual(t.attributes.map((a) => [a.name, a.inKey]), [
    ["subject_id", true],
    ["sess_uuid", true],
    ["kind", true],
    ["trial", true],
    ["rig", false],
    ["backup_rig", false],
    ["note", false],
  ]);
  assert.deepEqual(t.attributes[5].parent, { schema: "myschema", table: "#rig", attribute: "rig" });
  assert.deepEqual(t.warnings, []);
});

Deno.test("_trial example: PostgreSQL statements are exactly DataJoint Python's", () => {
  const t = compile(TRIAL, PG, TRIAL_OPTIONS);
  // The reference prints the CREATE TABLE with Python's trailing space after ")"; the golden
  // statements (and this compiler) end in ")".
  assert.equal(
    t.statements.create,
    [
      'CREATE TABLE IF NOT EXISTS "myschema"."_trial" (',
      '"subject_id" integer NOT NULL,',
      '"sess_uuid" uuid NOT NULL,',
      '"kind" "lab"."enum_dbf08e00" NOT NULL,',
      '"trial" integer NOT NULL,',
      '"rig" varchar(16),',
      '"backup_rig" varchar(16) NOT NULL,',
      `"note" varchar(100) NOT NULL DEFAULT '',`,
      'PRIMARY KEY ("subject_id", "sess_uuid", "kind", "trial"),',
      'FOREIGN KEY ("subject_id", "sess_uuid", "kind") REFERENCES "lab"."subject" ("subject_id", "sess_uuid", "kind") ON UPDATE CASCADE ON DELETE RESTRICT,',
      'FOREIGN KEY ("rig") REFERENCES "myschema"."#rig" ("rig") ON UPDATE CASCADE ON DELETE RESTRICT,',
      'FOREIGN KEY ("backup_rig") REFERENCES "myschema"."#rig" ("rig") ON UPDATE CASCADE ON DELETE RESTRICT',
      ")",
    ].join("\n"),
  );
  assert.deepEqual(t.statements.post, [
    'CREATE UNIQUE INDEX "idx__trial_backup_rig" ON "myschema"."_trial" ("backup_rig")',
    'CREATE INDEX "idx__trial_rig" ON "myschema"."_trial" ("rig")',
    `COMMENT ON TABLE "myschema"."_trial" IS 'child'`,
    `COMMENT ON COLUMN "myschema"."_trial"."trial" IS ':int32:'`,
    `COMMENT ON COLUMN "myschema"."_trial"."note" IS ':varchar(100):'`,
  ]);
  // The inherited enum column uses the parent's type; this table creates none.
  assert.deepEqual(t.enumTypes, []);
});

Deno.test("_trial example: the parent's PostgreSQL enum type is the one the child copies", () => {
  const subject = compile(
    "subject_id : int32 # subject id\nsess_uuid : uuid # uuid pk\nkind : enum('a','b')",
    PG,
    { schema: "lab", className: "Subject" },
  );
  const kind = subject.plan.columns.find((c) => c.name === "kind")!;
  assert.equal(kind.sqlType, parents(PG).Subject.primaryKey[2].sqlType);
  assert.deepEqual(subject.enumTypes.map((e) => PG.createEnumType(e)), [
    `CREATE TYPE "lab"."enum_dbf08e00" AS ENUM ('a', 'b')`,
  ]);
  const my = compile(
    "subject_id : int32 # subject id\nsess_uuid : uuid # uuid pk\nkind : enum('a','b')",
    MY,
    { schema: "lab", className: "Subject" },
  );
  assert.deepEqual(
    my.plan.columns.map((c) => c.sqlType),
    parents(MY).Subject.primaryKey.map((a) => a.sqlType),
  );
});

Deno.test("_trial example: ~lineage rows (renamed FK keeps the parent's lineage)", () => {
  for (const d of BOTH) {
    const t = compile(TRIAL, d, TRIAL_OPTIONS);
    assert.deepEqual([...t.lineage].sort(), [
      ["backup_rig", "myschema.#rig.rig"],
      ["kind", "lab.subject.kind"],
      ["rig", "myschema.#rig.rig"],
      ["sess_uuid", "lab.subject.sess_uuid"],
      ["subject_id", "lab.subject.subject_id"],
      ["trial", "myschema._trial.trial"],
    ]);
  }
});

// ---- other observed renderings ---------------------------------------------------------------

const RENDER = `
id : int32
---
a16 = null : int16
a64 = 5 : int64 # with default
flag = 1 : bool
flag_true = true : bool
flag_false = FALSE : bool
flag_zero = 0 : bool
dt3 = CURRENT_TIMESTAMP(3) : datetime(3)
e = 'a' : enum('a','b','c')
e2 = "b" : enum('a','b','c')
blobby = null : <blob>
ext : <blob@store>
dec : decimal(10, 3)
`;

Deno.test("observed renderings: MySQL column lines", () => {
  const t = compile(RENDER, MY, { className: "Render" });
  assert.deepEqual(columnLines(t.statements.create), [
    '`id` int NOT NULL COMMENT ":int32:"',
    '`a16` smallint DEFAULT NULL COMMENT ":int16:"',
    "`a64` bigint NOT NULL DEFAULT '5' COMMENT \":int64:with default\"",
    "`flag` tinyint NOT NULL DEFAULT '1' COMMENT \":bool:\"",
    // bug #19: `true` / `false` render like 1 / 0
    "`flag_true` tinyint NOT NULL DEFAULT '1' COMMENT \":bool:\"",
    "`flag_false` tinyint NOT NULL DEFAULT '0' COMMENT \":bool:\"",
    "`flag_zero` tinyint NOT NULL DEFAULT '0' COMMENT \":bool:\"",
    '`dt3` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) COMMENT ":datetime(3):"',
    "`e` enum('a','b','c') NOT NULL DEFAULT 'a' COMMENT \":enum('a','b','c'):\"",
    "`e2` enum('a','b','c') NOT NULL DEFAULT 'b' COMMENT \":enum('a','b','c'):\"",
    '`blobby` longblob DEFAULT NULL COMMENT ":<blob>:"',
    '`ext` json NOT NULL COMMENT ":<blob@store>:"',
    '`dec` decimal(10, 3) NOT NULL COMMENT ":decimal(10, 3):"',
  ]);
  assert.deepEqual(t.enumTypes, []);
  const ext = t.attributes.find((a) => a.name === "ext")!;
  assert.equal(ext.type?.store, "store");
  assert.deepEqual(ext.type?.chain.map((c) => c.name), ["blob", "hash"]);
});

Deno.test("observed renderings: PostgreSQL column lines, enum type and comments", () => {
  const t = compile(RENDER, PG, { className: "Render" });
  assert.deepEqual(columnLines(t.statements.create), [
    '"id" integer NOT NULL',
    '"a16" smallint DEFAULT NULL',
    `"a64" bigint NOT NULL DEFAULT '5'`,
    `"flag" boolean NOT NULL DEFAULT '1'`,
    `"flag_true" boolean NOT NULL DEFAULT '1'`,
    `"flag_false" boolean NOT NULL DEFAULT '0'`,
    `"flag_zero" boolean NOT NULL DEFAULT '0'`,
    '"dt3" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)',
    `"e" "myschema"."enum_8d28cddc" NOT NULL DEFAULT 'a'`,
    `"e2" "myschema"."enum_8d28cddc" NOT NULL DEFAULT 'b'`,
    '"blobby" bytea DEFAULT NULL',
    '"ext" jsonb NOT NULL',
    '"dec" numeric(10, 3) NOT NULL',
  ]);
  // One type for both enum columns.
  assert.deepEqual(t.enumTypes.map((e) => PG.createEnumType(e)), [
    `CREATE TYPE "myschema"."enum_8d28cddc" AS ENUM ('a', 'b', 'c')`,
  ]);
  const full = '"myschema"."render"';
  assert.deepEqual(t.statements.post, [
    `COMMENT ON TABLE ${full} IS ''`,
    `COMMENT ON COLUMN ${full}."id" IS ':int32:'`,
    `COMMENT ON COLUMN ${full}."a16" IS ':int16:'`,
    `COMMENT ON COLUMN ${full}."a64" IS ':int64:with default'`,
    `COMMENT ON COLUMN ${full}."flag" IS ':bool:'`,
    `COMMENT ON COLUMN ${full}."flag_true" IS ':bool:'`,
    `COMMENT ON COLUMN ${full}."flag_false" IS ':bool:'`,
    `COMMENT ON COLUMN ${full}."flag_zero" IS ':bool:'`,
    `COMMENT ON COLUMN ${full}."dt3" IS ':datetime(3):'`,
    `COMMENT ON COLUMN ${full}."e" IS ':enum(''a'',''b'',''c''):'`,
    `COMMENT ON COLUMN ${full}."e2" IS ':enum(''a'',''b'',''c''):'`,
    `COMMENT ON COLUMN ${full}."blobby" IS ':<blob>:'`,
    `COMMENT ON COLUMN ${full}."ext" IS ':<blob@store>:'`,
    `COMMENT ON COLUMN ${full}."dec" IS ':decimal(10, 3):'`,
  ]);
});

Deno.test("native types: passed through verbatim with a warning, no type marker", () => {
  const def = "id : int unsigned # the id\n---\nt : longtext\nn = 0 : double # a number";
  const my = compile(def, MY, { className: "Native" });
  assert.deepEqual(columnLines(my.statements.create), [
    '`id` int unsigned NOT NULL COMMENT "the id"',
    "`t` longtext NOT NULL",
    "`n` double NOT NULL DEFAULT '0' COMMENT \"a number\"",
  ]);
  assert.deepEqual(my.warnings, [
    "Native type 'int unsigned' is used in attribute 'id'. Consider using a core DataJoint type for better portability.",
    "Native type 'longtext' is used in attribute 't'. Consider using a core DataJoint type for better portability.",
    "Native type 'double' is used in attribute 'n'. Consider using a core DataJoint type for better portability.",
  ]);
  const pg = compile(def, PG, { className: "Native" });
  assert.deepEqual(columnLines(pg.statements.create), [
    '"id" int unsigned NOT NULL',
    '"t" longtext NOT NULL',
    `"n" double NOT NULL DEFAULT '0'`,
  ]);
  assert.deepEqual(pg.statements.post.slice(1), [
    `COMMENT ON COLUMN "myschema"."native"."id" IS 'the id'`,
    `COMMENT ON COLUMN "myschema"."native"."n" IS 'a number'`,
  ]);
  assert.equal(pg.warnings.length, 3);
});

// ---- foreign keys ------------------------------------------------------------------------------

Deno.test("diamond foreign keys share a column (kept once, first lineage)", () => {
  const def = "-> SessA\n-> SessB\n---\nv : float64";
  const my = compile(def, MY, { className: "Diamond" });
  assert.deepEqual(columnLines(my.statements.create), [
    "`subject_id` int NOT NULL",
    "`sa` smallint NOT NULL",
    "`sb` smallint NOT NULL",
    '`v` double NOT NULL COMMENT ":float64:"',
  ]);
  assert.deepEqual(my.plan.primaryKey, ["subject_id", "sa", "sb"]);
  assert.ok(
    my.statements.create.includes(
      "FOREIGN KEY (`subject_id`, `sa`) REFERENCES `myschema`.`sess_a` (`subject_id`, `sa`) ON UPDATE CASCADE ON DELETE RESTRICT,\n" +
        "FOREIGN KEY (`subject_id`, `sb`) REFERENCES `myschema`.`sess_b` (`subject_id`, `sb`) ON UPDATE CASCADE ON DELETE RESTRICT\n",
    ),
    my.statements.create,
  );
  assert.deepEqual([...my.lineage].sort(), [
    ["sa", "myschema.sess_a.sa"],
    ["sb", "myschema.sess_b.sb"],
    ["subject_id", "myschema.mouse.subject_id"],
  ]);
  // PostgreSQL: (subject_id, sa) is a left prefix of the primary key, (subject_id, sb) is not.
  const pg = compile(def, PG, { className: "Diamond" });
  assert.deepEqual(pg.statements.post.filter((s) => s.includes("INDEX")), [
    'CREATE INDEX "idx_diamond_subject_id_sb" ON "myschema"."diamond" ("subject_id", "sb")',
  ]);
});

Deno.test("renamed foreign keys: several renames, either quote, lineage and fallback lineage", () => {
  const def =
    `-> Pair.proj(s2='session', c2="cell")\n---\n-> Cell.proj(pre='cell')\n-> [nullable] Cell.proj(post="cell")`;
  const t = compile(def, MY, { className: "Renamed" });
  assert.deepEqual(columnLines(t.statements.create), [
    "`s2` int NOT NULL",
    "`c2` int NOT NULL",
    '`pre` int NOT NULL COMMENT "cell id"',
    '`post` int COMMENT "cell id"',
  ]);
  assert.ok(
    t.statements.create.includes(
      "FOREIGN KEY (`s2`, `c2`) REFERENCES `lab`.`pair` (`session`, `cell`) ON UPDATE CASCADE ON DELETE RESTRICT,\n" +
        "FOREIGN KEY (`pre`) REFERENCES `lab`.`cell` (`cell`) ON UPDATE CASCADE ON DELETE RESTRICT,\n" +
        "FOREIGN KEY (`post`) REFERENCES `lab`.`cell` (`cell`) ON UPDATE CASCADE ON DELETE RESTRICT\n",
    ),
  );
  assert.deepEqual([...t.lineage].sort(), [
    ["c2", "lab.cell.cell"],
    ["post", "lab.cell.cell"], // parent without a recorded lineage: schema.table.attribute
    ["pre", "lab.cell.cell"],
    ["s2", "lab.session.session"],
  ]);
  assert.deepEqual(t.attributes.map((a) => a.parent?.attribute), [
    "session",
    "cell",
    "cell",
    "cell",
  ]);
  declarationError(
    () => compile("-> Cell.proj(x='nope')", MY),
    "Cannot rename nope",
    `line 1 "-> Cell.proj(x='nope')"`,
    "(cell)",
  );
});

Deno.test("foreign keys: the reference text reaches the resolver, unknown references fail", () => {
  const refs: string[] = [];
  compile("-> Subject   # a comment\n---\n-> [nullable] Rig.proj(r2='rig') # x", MY, { refs });
  assert.deepEqual(refs, ["Subject", "Rig"]);
  declarationError(
    () => compile("-> Nowhere", MY),
    "Foreign key reference Nowhere could not be resolved",
  );
  // Quoted identifiers in parent schema/table names stay identifiers.
  const w = compile("-> Weird", MY);
  assert.ok(
    w.statements.create.includes(
      'FOREIGN KEY (`w`) REFERENCES `we``ird"s`.`t``"x` (`w`) ON UPDATE CASCADE ON DELETE RESTRICT',
    ),
  );
  const wp = compile("-> Weird", PG);
  assert.ok(
    wp.statements.create.includes(
      'FOREIGN KEY ("w") REFERENCES "we`ird""s"."t`""x" ("w") ON UPDATE CASCADE ON DELETE RESTRICT',
    ),
  );
});

// ---- singleton, job metadata -------------------------------------------------------------------

Deno.test("singleton table: _singleton first, its PostgreSQL comment last", () => {
  const def = "# global settings\n---\nvalue = 0 : int32 # the value";
  const my = compile(def, MY, { className: "Settings", tier: "Lookup" });
  assert.equal(
    my.statements.create,
    [
      "CREATE TABLE IF NOT EXISTS `myschema`.`#settings` (",
      '`_singleton` tinyint NOT NULL DEFAULT TRUE COMMENT ":bool:singleton primary key",',
      "`value` int NOT NULL DEFAULT '0' COMMENT \":int32:the value\",",
      "PRIMARY KEY (`_singleton`)",
      ') ENGINE=InnoDB, COMMENT "global settings"',
    ].join("\n"),
  );
  assert.deepEqual(my.lineage, [["_singleton", "myschema.#settings._singleton"]]);
  assert.deepEqual(my.attributes.map((a) => [a.name, a.inKey]), [["_singleton", true], [
    "value",
    false,
  ]]);
  const pg = compile(def, PG, { className: "Settings", tier: "Lookup" });
  assert.equal(
    pg.statements.create,
    [
      'CREATE TABLE IF NOT EXISTS "myschema"."#settings" (',
      '"_singleton" boolean NOT NULL DEFAULT TRUE,',
      `"value" integer NOT NULL DEFAULT '0',`,
      'PRIMARY KEY ("_singleton")',
      ")",
    ].join("\n"),
  );
  assert.deepEqual(pg.statements.post, [
    `COMMENT ON TABLE "myschema"."#settings" IS 'global settings'`,
    `COMMENT ON COLUMN "myschema"."#settings"."value" IS ':int32:the value'`,
    `COMMENT ON COLUMN "myschema"."#settings"."_singleton" IS ':bool:singleton primary key'`,
  ]);
  // A definition with nothing above the divider but a secondary foreign key is a singleton too.
  const fk = compile("---\n-> Rig", PG, { className: "Current" });
  assert.deepEqual(fk.plan.primaryKey, ["_singleton"]);
  assert.ok(
    fk.statements.post.includes('CREATE INDEX "idx_current_rig" ON "myschema"."current" ("rig")'),
  );
});

const JOB_MY = [
  "`_job_start_time` datetime(3) DEFAULT NULL",
  "`_job_duration` float DEFAULT NULL",
  "`_job_version` varchar(64) DEFAULT ''",
];
const JOB_PG = [
  '"_job_start_time" timestamp DEFAULT NULL',
  '"_job_duration" real DEFAULT NULL',
  `"_job_version" varchar(64) DEFAULT ''`,
];

Deno.test("job metadata: only on Computed and Imported masters (bug #21: not on parts)", () => {
  const def = "-> Session\n---\nresult : float64";
  for (const [d, job] of [[MY, JOB_MY], [PG, JOB_PG]] as [Dialect, string[]][]) {
    for (
      const [tier, className, masterTable] of [["Computed", "Analysis"], ["Imported", "Ingest"]]
    ) {
      const t = compile(def, d, {
        tier: tier as Tier,
        className,
        masterTable,
        addJobMetadata: true,
      });
      assert.deepEqual(columnLines(t.statements.create).slice(-3), job, `${d.name} ${tier}`);
      // No comments for the hidden columns on PostgreSQL.
      assert.ok(!t.statements.post.some((s) => s.includes("_job_")), `${d.name} ${tier}`);
      assert.deepEqual(t.attributes.slice(-3).map((a) => a.name), [
        "_job_start_time",
        "_job_duration",
        "_job_version",
      ]);
      // No lineage rows for them.
      assert.ok(!t.lineage.some(([a]) => a.startsWith("_job")));
    }
    const none: [Tier, string, string?][] = [
      ["Manual", "Plain"],
      ["Lookup", "Look"],
      ["Part", "Detail", "_imp"],
      ["Part", "Detail", "__analysis"],
    ];
    for (const [tier, className, masterTable] of none) {
      const t = compile(def, d, { tier, className, masterTable, addJobMetadata: true });
      assert.ok(!t.statements.create.includes("_job_"), `${d.name} ${tier} ${t.plan.table}`);
    }
    const off = compile(def, d, { tier: "Computed", className: "Analysis" });
    assert.ok(!off.statements.create.includes("_job_"));
  }
});

Deno.test("Computed/Imported tables: non-FK primary-key attributes need the allow option", () => {
  const def = "-> Session\nidx : int32\n---\nv : float64";
  for (const d of BOTH) {
    for (const [tier, table] of [["Computed", "__analysis"], ["Imported", "_analysis"]]) {
      declarationError(
        () => compile(def, d, { tier: tier as Tier, className: "Analysis" }),
        `Auto-populated table ${d.quote("myschema")}.${
          d.quote(table)
        } has non-FK primary key attribute(s): idx.`,
        'line 2 "idx : int32"',
        "Computed and Imported tables must derive all primary key attributes from foreign key references",
        "allowNewPkFieldsInComputedTables",
      );
      const t = compile(def, d, { tier: tier as Tier, className: "Analysis", allow: true });
      assert.deepEqual(t.plan.primaryKey, ["session_id", "idx"]);
    }
    // Parts of auto-populated tables and the other tiers may have their own key attributes.
    compile(def, d, { tier: "Part", className: "Unit", masterTable: "__analysis" });
    compile(def, d, { tier: "Manual", className: "Analysis" });
    // Secondary own attributes are fine.
    compile("-> Session\n---\nidx : int32", d, { tier: "Computed", className: "Analysis" });
  }
});

// ---- PostgreSQL indexes -------------------------------------------------------------------------

function indexStatements(t: CompiledTable): string[] {
  return t.statements.post.filter((s) => / INDEX /.test(s));
}

Deno.test("PostgreSQL FK support indexes: left prefixes of the PK, of indexes, of longer FKs", () => {
  // The FK columns are a left prefix of the primary key: no index.
  assert.deepEqual(indexStatements(compile("-> Mouse\nt : int32", PG, { className: "A" })), []);
  // Not a left prefix of the primary key: an index.
  assert.deepEqual(indexStatements(compile("t : int32\n-> Mouse", PG, { className: "B" })), [
    'CREATE INDEX "idx_b_subject_id" ON "myschema"."b" ("subject_id")',
  ]);
  // A left prefix of a declared index: none; declared indexes come first.
  assert.deepEqual(
    indexStatements(
      compile("k : int32\n---\n-> Rig\nnote : int32\nindex(rig, note)", PG, { className: "C" }),
    ),
    ['CREATE INDEX "idx_c_rig_note" ON "myschema"."c" ("rig", "note")'],
  );
  // Not a left prefix of the declared index: both.
  assert.deepEqual(
    indexStatements(
      compile("k : int32\n---\n-> Rig\nnote : int32\nunique index(note, rig)", PG, {
        className: "D",
      }),
    ),
    [
      'CREATE UNIQUE INDEX "idx_d_note_rig" ON "myschema"."d" ("note", "rig")',
      'CREATE INDEX "idx_d_rig" ON "myschema"."d" ("rig")',
    ],
  );
  // A left prefix of a longer FK candidate: only the longer one (emitted first).
  assert.deepEqual(
    indexStatements(compile("k : int32\n---\n-> One\n-> Two", PG, { className: "E" })),
    [
      'CREATE INDEX "idx_e_a_b" ON "myschema"."e" ("a", "b")',
    ],
  );
  // A [unique] foreign key has its unique index and needs no other; it covers later candidates.
  assert.deepEqual(
    indexStatements(compile("k : int32\n---\n-> [unique] Two\n-> One", PG, { className: "F" })),
    ['CREATE UNIQUE INDEX "idx_f_a_b" ON "myschema"."f" ("a", "b")'],
  );
  // MySQL never emits support indexes (InnoDB makes them).
  const my = compile("t : int32\n-> Mouse\n---\n-> Rig", MY, { className: "B" });
  assert.deepEqual(my.statements.post, []);
  assert.ok(!/INDEX/.test(my.statements.create));
});

Deno.test("MySQL declared indexes: inline, lower-case keyword, definition order", () => {
  const t = compile(
    "a : int32\nb : int32\n---\n-> [unique] Rig\nc : int32\nindex(a,c)\nunique index(c, b)",
    MY,
    { className: "Ix" },
  );
  assert.ok(
    t.statements.create.endsWith(
      "UNIQUE INDEX (`rig`),\nindex (`a`,`c`),\nunique index (`c`,`b`)\n) ENGINE=InnoDB",
    ),
    t.statements.create,
  );
});

function indexNames(t: CompiledTable): string[] {
  return t.statements.post.flatMap((s) => /^CREATE (?:UNIQUE )?INDEX "([^"]+)"/.exec(s)?.[1] ?? []);
}

Deno.test("bug #30: PostgreSQL index names are unique and at most 63 characters", () => {
  const long1 = "a_very_long_column_name_number_one";
  const long2 = "a_very_long_column_name_number_two";
  const t = compile(
    `k : int32\n---\n${long1} : int32\n${long2} : int32\nindex(${long1})\nindex(${long2})\nindex(k, ${long1})`,
    PG,
    { className: "T" },
  );
  const names = indexNames(t);
  assert.equal(names.length, 3);
  assert.equal(names[0], "idx_t_a_very_long_column_name_number"); // Python's name when free
  assert.equal(new Set(names).size, 3, names.join(", "));
  // The same column list indexed several times still gets distinct names.
  const dup = compile(
    "k : int32\n---\na : int32\nindex(a)\nunique index(a)\nindex(a)\nindex(a)",
    PG,
    {
      className: "Dup",
    },
  );
  const dn = indexNames(dup);
  assert.equal(dn[0], "idx_dup_a");
  assert.equal(new Set(dn).size, 4, dn.join(", "));
  // A long table name.
  const cls = "Long" + "Name".repeat(11); // long_name_name… = 59 characters
  const lt = compile("k : int32\n---\n-> Rig\nnote : int32\nindex(note, k)", PG, {
    className: cls,
  });
  assert.equal(lt.plan.table.length, 59);
  const ln = indexNames(lt);
  assert.equal(ln.length, 2);
  assert.equal(new Set(ln).size, 2);
  for (const n of [...names, ...dn, ...ln]) assert.ok(n.length <= 63, n);
});

// ---- escaping ---------------------------------------------------------------------------------

Deno.test("bug #16: { and } in comments and defaults are kept", () => {
  const def = '# {table} of {things}\nk : int32\n---\nv = "{x}" : varchar(8) # {comment}';
  const my = compile(def, MY);
  assert.ok(
    my.statements.create.includes(
      "`v` varchar(8) NOT NULL DEFAULT '{x}' COMMENT \":varchar(8):{comment}\"",
    ),
  );
  assert.ok(my.statements.create.endsWith('ENGINE=InnoDB, COMMENT "{table} of {things}"'));
  const pg = compile(def, PG);
  assert.ok(pg.statements.create.includes(`"v" varchar(8) NOT NULL DEFAULT '{x}'`));
  assert.ok(
    pg.statements.post.includes(`COMMENT ON TABLE "myschema"."thing" IS '{table} of {things}'`),
  );
  assert.ok(
    pg.statements.post.includes(
      `COMMENT ON COLUMN "myschema"."thing"."v" IS ':varchar(8):{comment}'`,
    ),
  );
});

Deno.test("quotes: \" in comments (bug #15 for the MySQL table comment) and ' in defaults", () => {
  const def =
    `# say "hi" it's\nk : int32 # a "quoted" it's\n---\nv = "it's" : varchar(8)\nw = 'it''s' : varchar(8)`;
  const my = compile(def, MY);
  assert.ok(
    my.statements.create.endsWith(`ENGINE=InnoDB, COMMENT "say \\"hi\\" it's"`),
    my.statements.create,
  );
  assert.deepEqual(columnLines(my.statements.create), [
    `\`k\` int NOT NULL COMMENT ":int32:a \\"quoted\\" it's"`,
    `\`v\` varchar(8) NOT NULL DEFAULT 'it''s' COMMENT ":varchar(8):"`,
    `\`w\` varchar(8) NOT NULL DEFAULT 'it''s' COMMENT ":varchar(8):"`,
  ]);
  const pg = compile(def, PG);
  assert.deepEqual(columnLines(pg.statements.create), [
    '"k" integer NOT NULL',
    `"v" varchar(8) NOT NULL DEFAULT 'it''s'`,
    `"w" varchar(8) NOT NULL DEFAULT 'it''s'`,
  ]);
  assert.deepEqual(pg.statements.post.slice(0, 2), [
    `COMMENT ON TABLE "myschema"."thing" IS 'say "hi" it''s'`,
    // Python's column comment on PostgreSQL keeps the backslash it added for MySQL (observed).
    `COMMENT ON COLUMN "myschema"."thing"."k" IS ':int32:a \\"quoted\\" it''s'`,
  ]);
});

Deno.test("backslashes: escaped for MySQL, literal on PostgreSQL", () => {
  const def =
    `# back\\slash\\\nk : int32 # c:\\dir\\\n---\nv = "a\\b" : varchar(8)\nw = 'x\\' : varchar(8)\nz = y\\ : varchar(8)`;
  const my = compile(def, MY);
  assert.ok(
    my.statements.create.endsWith('ENGINE=InnoDB, COMMENT "back\\\\slash\\\\"'),
    my.statements.create,
  );
  assert.deepEqual(columnLines(my.statements.create), [
    '`k` int NOT NULL COMMENT ":int32:c:\\\\dir\\\\"',
    "`v` varchar(8) NOT NULL DEFAULT 'a\\\\b' COMMENT \":varchar(8):\"",
    "`w` varchar(8) NOT NULL DEFAULT 'x\\\\' COMMENT \":varchar(8):\"",
    "`z` varchar(8) NOT NULL DEFAULT 'y\\\\' COMMENT \":varchar(8):\"",
  ]);
  const pg = compile(def, PG);
  assert.deepEqual(columnLines(pg.statements.create), [
    '"k" integer NOT NULL',
    `"v" varchar(8) NOT NULL DEFAULT 'a\\b'`,
    `"w" varchar(8) NOT NULL DEFAULT 'x\\'`,
    `"z" varchar(8) NOT NULL DEFAULT 'y\\'`,
  ]);
  assert.deepEqual(pg.statements.post.slice(0, 2), [
    `COMMENT ON TABLE "myschema"."thing" IS 'back\\slash\\'`,
    `COMMENT ON COLUMN "myschema"."thing"."k" IS ':int32:c:\\dir\\'`,
  ]);
});

// ---- declaration errors (§2.6) ------------------------------------------------------------------

Deno.test("error: unsupported type names the line", () => {
  for (const d of BOTH) {
    declarationError(
      () => compile("k : int32\n---\nx : uint8 # bad", d),
      "Unsupported attribute type uint8",
      'line 3 "x : uint8 # bad"',
      "unsigned",
    );
    declarationError(
      () => compile("k : INT32", d),
      "Unsupported attribute type INT32",
      'line 1 "k : INT32"',
      "lowercase",
    );
    declarationError(
      () => compile("k : int32\n---\nh : <hash>", d),
      "<hash> requires @",
      'line 3 "h : <hash>"',
    );
    declarationError(
      () => compile("k : int32\n---\nh : <nope@s>", d),
      "Unknown codec <nope>",
      'line 3 "h : <nope@s>"',
    );
  }
});

Deno.test("error: blob defaults can only be NULL", () => {
  for (const d of BOTH) {
    for (
      const line of ["b = 'x' : <blob>", "b = '' : bytes", "b = 5 : longblob", `b = "" : <attach>`]
    ) {
      declarationError(
        () => compile(`k : int32\n---\n${line}`, d),
        "The default value for blob attributes can only be NULL",
        `line 3 "${line}"`,
        "= null",
      );
    }
    const ok = compile("k : int32\n---\nb = null : <blob>\nc : bytes\nj = null : json", d);
    assert.equal(ok.plan.columns.length, 4);
  }
});

Deno.test("bug #20: blob and json attributes are rejected in the primary key at declaration", () => {
  for (const d of BOTH) {
    for (
      const line of [
        "b : <blob>",
        "b : <blob@store>",
        "b : <attach>",
        "b : bytes",
        "b : json",
        "b : longblob",
        "b : <hash@s>",
      ]
    ) {
      declarationError(
        () => compile(`k : int32\n${line}\n---\nv : int32`, d),
        "Blob or JSON attributes are not allowed in the primary key",
        `line 2 "${line}"`,
        "below ---",
      );
    }
    // Secondary: fine.
    compile("k : int32\n---\nb : <blob>\nj : json", d);
  }
});

Deno.test("error: table name length (MySQL 64, PostgreSQL 63) and class names", () => {
  const fits64 = "A" + "a".repeat(63); // table name "a…" of 64 characters
  assert.equal(compile("k : int32", MY, { className: fits64 }).plan.table.length, 64);
  declarationError(
    () => compile("k : int32", MY, { className: fits64 + "a" }),
    `Table name \`${fits64.toLowerCase()}a\` exceeds the max length of 64`,
    "shorten",
  );
  declarationError(
    () => compile("k : int32", PG, { className: fits64 }),
    `Table name \`${fits64.toLowerCase()}\` exceeds the max length of 63`,
    "shorten",
  );
  assert.equal(compile("k : int32", PG, { className: fits64.slice(0, 63) }).plan.table.length, 63);
  // Tier prefixes and part names count.
  declarationError(
    () => compile("-> Session", PG, { className: fits64.slice(0, 62), tier: "Computed" }),
    "exceeds the max length of 63",
  );
  for (const cls of ["thing", "My-Thing", "2Thing", "My Thing", ""]) {
    declarationError(
      () => compile("k : int32", MY, { className: cls }),
      `Table class name \`${cls}\` is invalid. Class names must be in CamelCase, starting with a capital letter.`,
    );
  }
});

Deno.test("error: parse errors reach the caller of compileTable with the line", () => {
  const cases: [string, string, string][] = [
    ["#: bad\nk : int32", 'Table comment must not start with a colon ":"', 'line 1 "#: bad"'],
    ["k : int32\nb -> A", "Parsing error", 'line 2 "b -> A"'],
    ["---\n-> [nope] Rig", 'Invalid foreign key option "NOPE"', 'line 2 "-> [nope] Rig"'],
    ["-> [nullable] Rig", "Primary dependencies cannot be nullable", 'line 1 "-> [nullable] Rig"'],
    ["_k : int32", "starts with an underscore", 'line 1 "_k : int32"'],
    ["k int32", "Declaration error", 'line 1 "k int32"'],
    ["k = null : int32", "Primary key attributes cannot be nullable", 'line 1 "k = null : int32"'],
    ["k : int32 #:x", "must not start with a colon", 'line 1 "k : int32 #:x"'],
    ["k : int32\nindex(k k)", "Table definition syntax error", 'line 2 "index(k k)"'],
  ];
  for (const d of BOTH) {
    for (const [def, problem, where] of cases) {
      declarationError(() => compile(def, d), problem, where);
    }
  }
});

Deno.test("error: duplicate attributes, unknown index attributes, invalid defaults", () => {
  for (const d of BOTH) {
    declarationError(
      () => compile("k : int32\n---\nk : int32", d),
      "Attribute k is declared twice",
      'line 3 "k : int32"',
      "remove one",
    );
    declarationError(
      () => compile("-> Rig\n---\nrig : int32", d),
      "Attribute rig is declared twice",
      "foreign key",
    );
    declarationError(
      () => compile("k : int32\n---\nindex(nope)", d),
      "Index on unknown attribute nope",
      'line 3 "index(nope)"',
      "declare the attribute",
    );
    for (
      const line of [
        "t = CURRENT_TIMESTAMP(3)) x : datetime(3)",
        "t = CURRENT_TIMESTAMP(3)); DROP TABLE t; -- : datetime(3)",
        "v = 'a' 'b' : varchar(8)",
        "v = 'a' || 'b' : varchar(8)",
        `v = "a" "b" : varchar(8)`,
      ]
    ) {
      declarationError(
        () => compile(`k : int32\n---\n${line}`, d),
        "Invalid default",
        `line 3 "${line}"`,
      );
    }
  }
});

Deno.test("PostgreSQL enums: one type per label set; a mismatching reuse is reported", () => {
  const same = compile("k : int32\n---\na : enum('x','y')\nb = 'x' : enum('x','y')", PG);
  assert.equal(same.enumTypes.length, 1);
  // enum('y','x') would share enum('x','y')'s type, whose label order differs.
  declarationError(
    () => compile("k : int32\n---\na : enum('x','y')\nb : enum('y','x')", PG),
    "enum",
    `line 4 "b : enum('y','x')"`,
  );
  // Two label sets with the same sorted-and-joined text share a type name.
  declarationError(
    () => compile("k : int32\n---\na : enum('a_b','c')\nb : enum('a','b_c')", PG),
    "enum",
    "line 4",
  );
  // MySQL has inline enums: no conflict.
  compile("k : int32\n---\na : enum('x','y')\nb : enum('y','x')", MY);
  // Labels are escaped in CREATE TYPE.
  const q = compile("k : int32\n---\na : enum('it''s', 'x')", PG);
  assert.deepEqual(q.enumTypes.map((e) => PG.createEnumType(e)), [
    `CREATE TYPE "myschema"."${q.enumTypes[0].name}" AS ENUM ('it''s', 'x')`,
  ]);
});

// ---- injection ----------------------------------------------------------------------------------

interface Token {
  kind: "id" | "str" | "word" | "sym";
  value: string;
}

/**
 * A small SQL tokenizer: identifiers (backticks on MySQL, double quotes on PostgreSQL), string
 * literals (MySQL: '…' and "…" with backslash escapes and doubled quotes; PostgreSQL: '…' with
 * doubled quotes, backslash literal), words and single-character symbols.
 */
function tokens(sql: string, d: Dialect): Token[] {
  const out: Token[] = [];
  const idQuote = d.name === "mysql" ? "`" : '"';
  const strQuotes = d.name === "mysql" ? ["'", '"'] : ["'"];
  let i = 0;
  const readQuoted = (q: string, backslash: boolean): string => {
    let v = "";
    i++;
    for (;;) {
      if (i >= sql.length) throw new Error(`unterminated ${q} literal in ${sql}`);
      const c = sql[i];
      if (backslash && c === "\\") {
        const n = sql[i + 1];
        if (n === undefined) throw new Error("dangling backslash");
        v +=
          ({ n: "\n", t: "\t", r: "\r", "0": "\0", b: "\b", Z: "\x1a" } as Record<string, string>)[
            n
          ] ?? n;
        i += 2;
        continue;
      }
      if (c === q) {
        if (sql[i + 1] === q) {
          v += q;
          i += 2;
          continue;
        }
        i++;
        return v;
      }
      v += c;
      i++;
    }
  };
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) i++;
    else if (c === idQuote) out.push({ kind: "id", value: readQuoted(c, false) });
    else if (strQuotes.includes(c)) {
      out.push({ kind: "str", value: readQuoted(c, d.name === "mysql") });
    } else if (/\w/.test(c)) {
      const m = /^\w+/.exec(sql.slice(i))![0];
      out.push({ kind: "word", value: m });
      i += m.length;
    } else {
      out.push({ kind: "sym", value: c });
      i++;
    }
  }
  return out;
}

/** Tokenizes a statement and checks that nothing outside literals can end or comment it. */
function safeTokens(sql: string, d: Dialect): Token[] {
  const toks = tokens(sql, d);
  let depth = 0;
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (t.kind !== "sym") continue;
    assert.ok(![";", "#", "`", '"', "'", "\\"].includes(t.value), `stray ${t.value} in ${sql}`);
    if (t.value === "-") assert.notEqual(toks[k + 1]?.value, "-", `-- in ${sql}`);
    if (t.value === "/") assert.notEqual(toks[k + 1]?.value, "*", `/* in ${sql}`);
    if (t.value === "(") depth++;
    if (t.value === ")") depth--;
    assert.ok(depth >= 0, `unbalanced ) in ${sql}`);
  }
  assert.equal(depth, 0, `unbalanced ( in ${sql}`);
  return toks;
}

/** The tokens of one column definition in a CREATE TABLE (from its name to the next top-level comma). */
function columnTokens(toks: Token[], name: string): Token[] {
  let start = -1;
  for (let k = 1; k < toks.length; k++) {
    if (
      toks[k].kind === "id" && toks[k].value === name && toks[k - 1].kind === "sym" &&
      (toks[k - 1].value === "(" || toks[k - 1].value === ",")
    ) {
      start = k;
      break;
    }
  }
  assert.ok(start >= 0, `no column ${name}`);
  let depth = 0;
  let k = start;
  for (; k < toks.length; k++) {
    const t = toks[k];
    if (t.kind === "sym" && t.value === "(") depth++;
    if (t.kind === "sym" && t.value === ")") {
      if (depth === 0) break;
      depth--;
    }
    if (t.kind === "sym" && t.value === "," && depth === 0) break;
  }
  return toks.slice(start, k);
}

function after(col: Token[], word: string): Token | undefined {
  const k = col.findIndex((t) => t.kind === "word" && t.value === word);
  return k < 0 ? undefined : col[k + 1];
}

const HOSTILE_TEXT = [
  "x'); DROP TABLE t; --",
  `"); DROP TABLE t; -- `,
  `\\"); DROP TABLE t; --`,
  "trailing backslash \\",
  "\\' OR 1=1 --",
  "back`tick`); DROP TABLE t",
  "/* open comment",
  "*/ close comment",
  "a\rb; --",
  "a\u2028b",
  "it''s ''",
  "; ; ;",
  "{database}",
  ") ENGINE=MyISAM --",
];

Deno.test("injection: hostile comments, table comments and defaults stay literals", () => {
  for (const text of HOSTILE_TEXT) {
    const quotedDefault = '"' + text.replaceAll('"', "") + '"';
    const def =
      `# ${text}\nk : int32 # ${text}\n---\nv = ${quotedDefault} : varchar(100) # ${text}`;
    const expectDefault = quotedDefault.slice(1, -1);
    const comment = text.trim();
    for (const d of BOTH) {
      const t = compile(def, d);
      for (const s of allStatements(t, d)) safeTokens(s, d);
      const create = safeTokens(t.statements.create, d);
      const v = columnTokens(create, "v");
      assert.deepEqual(
        after(v, "DEFAULT"),
        { kind: "str", value: expectDefault },
        `${d.name} ${text}`,
      );
      if (d.name === "mysql") {
        assert.deepEqual(after(columnTokens(create, "k"), "COMMENT"), {
          kind: "str",
          value: ":int32:" + comment,
        });
        assert.deepEqual(after(v, "COMMENT"), { kind: "str", value: ":varchar(100):" + comment });
        assert.deepEqual(create.slice(-2), [{ kind: "word", value: "COMMENT" }, {
          kind: "str",
          value: comment,
        }]);
      } else {
        const pgComment = (s: string) => safeTokens(s, d).at(-1)!;
        const post = t.statements.post;
        assert.deepEqual(pgComment(post[0]), { kind: "str", value: comment });
        assert.deepEqual(pgComment(post[1]), {
          kind: "str",
          value: ":int32:" + comment.replaceAll('"', '\\"'),
        });
        assert.deepEqual(pgComment(post[2]), {
          kind: "str",
          value: ":varchar(100):" + comment.replaceAll('"', '\\"'),
        });
        assert.equal(post.length, 3);
      }
    }
  }
});

Deno.test("injection: unquoted and single-quoted defaults stay literals", () => {
  const cases: [string, string][] = [
    ["5); DROP TABLE t; --", "5); DROP TABLE t; --"],
    ["NULL) --", "NULL) --"],
    ["CURRENT_TIMESTAMP; DROP TABLE t", "CURRENT_TIMESTAMP; DROP TABLE t"],
    ["current_timestamp + 1", "current_timestamp + 1"],
    ["a\\", "a\\"],
    ["'x''); DROP TABLE t; --'", "x'); DROP TABLE t; --"],
    ["'\\'", "\\"],
    ["'\"'", '"'],
    ['"\\"', "\\"],
    ["`x`", "`x`"],
  ];
  for (const [written, value] of cases) {
    for (const d of BOTH) {
      const t = compile(`k : int32\n---\nv = ${written} : varchar(100)`, d);
      const create = safeTokens(t.statements.create, d);
      assert.deepEqual(
        after(columnTokens(create, "v"), "DEFAULT"),
        { kind: "str", value },
        `${d.name} ${written}`,
      );
    }
  }
});

Deno.test("injection: enum labels with SQL in them stay literals", () => {
  const labels = ["a", ") --", "x'); DROP TABLE t; --", '"', "`", "; #", "/*"];
  const text = "enum(" + labels.map((l) => `'${l.replaceAll("'", "''")}'`).join(", ") + ")";
  const def = `k : int32\n---\ne : ${text} # pick`;
  const my = compile(def, MY);
  const col = columnTokens(safeTokens(my.statements.create, MY), "e");
  assert.deepEqual(col.filter((t) => t.kind === "str").map((t) => t.value), [
    ...labels,
    `:${text}:pick`,
  ]);
  const pg = compile(def, PG);
  for (const s of allStatements(pg, PG)) safeTokens(s, PG);
  assert.deepEqual(pg.enumTypes[0].labels, labels);
  const createType = safeTokens(PG.createEnumType(pg.enumTypes[0]), PG);
  assert.deepEqual(createType.filter((t) => t.kind === "str").map((t) => t.value), labels);
  assert.deepEqual(safeTokens(pg.statements.post.at(-1)!, PG).at(-1), {
    kind: "str",
    value: `:${text}:pick`,
  });
});

Deno.test("injection: hostile names, types, index lines and references are rejected", () => {
  const lines = [
    // names
    "a`b : int32",
    "a;b : int32",
    'a"b : int32',
    "a'b : int32",
    "a) : int32",
    "a--b : int32",
    "a/*b : int32",
    // types
    "a : int); DROP TABLE t; --",
    "a : varchar(10)); --",
    "a : varchar(10) --",
    "a : enum('a'); DROP TABLE t; --')",
    "a : enum('a') , b int",
    "a : <blob@x;drop>",
    "a : <blob@x`>",
    "a : decimal(10,2) --",
    "a : int unsigned; DROP TABLE t",
    "a : datetime(3)) , x int",
    "a : timestamp(3) DEFAULT 1",
    "a : longblob, x int",
    "a : char(4) CHARACTER SET latin1",
    "a : int unsigned COMMENT 'x'",
    "a : double precision",
    // indexes
    "index(k); DROP TABLE t; --",
    "index(k`)",
    "index(k) --",
    "unique index(k)) , x int",
    // references
    "-> Rig; DROP TABLE t",
    "-> Rig.proj(x='rig'); --",
    "-> Rig.proj(x='rig`')",
    "-> Rig.proj(x='rig\"')",
    "-> Rig.proj(`x`='rig')",
    "-> `Rig`",
    // defaults
    "a = CURRENT_TIMESTAMP(3)); DROP TABLE t; -- : datetime(3)",
    "a = 'x'); DROP TABLE t; --' : varchar(64)",
    "a = \\'); DROP TABLE t; -- : varchar(64)",
  ];
  for (const line of lines) {
    for (const d of BOTH) {
      declarationError(() => compile(`k : int32\n---\n${line}`, d), `line 3 "${line}"`);
    }
  }
});
