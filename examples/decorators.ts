/**
 * Tables declared with decorators instead of definition strings.
 *
 * Each decorated field becomes one line of a DataJoint definition: `@dj.key` above the `---`
 * divider (the primary key), `@dj.attr` below it, `@dj.ref` a foreign key (`-> Parent`). Class
 * decorators add the table comment and indexes. The library compiles the decorators into the
 * same definition text you would have written by hand, and `describe()` prints it back.
 *
 * Run it with `deno run --allow-all examples/decorators.ts`. The connection comes from the DJ_*
 * variables or `datajoint.json` like any DataJoint script; with neither, it is the embedded
 * default (PGlite in `.dj/` of the current project, nothing to install). `DJ_EXAMPLE_SCHEMA`
 * names the schema (default `example_decorators`). The schema is dropped and rebuilt at the start,
 * so every run prints the same thing.
 *
 * @module
 */
import * as dj from "../mod.ts";

const lab = dj.schema(Deno.env.get("DJ_EXAMPLE_SCHEMA") ?? "example_decorators");
await lab.drop(); // start from nothing (drop does nothing when the schema does not exist)

// ── A Lookup: a small reference table whose rows come with the class ─────────────────────────
@lab
@dj.comment("species we work with")
class Species extends dj.Lookup {
  @dj.key("varchar(32)", { comment: "common name" })
  species!: string;
  @dj.attr("varchar(64)", { default: "", comment: "latin name" })
  latin!: string;

  // Inserted when the table is declared (rows already there are skipped).
  static contents = [
    { species: "mouse", latin: "Mus musculus" },
    { species: "rat", latin: "Rattus norvegicus" },
  ];
}

// ── A Manual table with a secondary foreign key and an index ─────────────────────────────────
@lab
@dj.comment("experimental animals")
@dj.index("sex") // a plain index, for restrictions by sex
class Subject extends dj.Manual {
  @dj.key("varchar(16)")
  subject_id!: string;
  // A foreign key below the divider: every subject names a species. The field itself is only a
  // handle; the columns are the parent's primary key (`species`).
  @dj.ref(() => Species)
  kind!: unknown;
  @dj.attr("enum('M', 'F', 'U')", { default: "U" })
  sex!: string;
  @dj.attr("date", { default: null, comment: "date of birth, if known" }) // null: nullable
  dob!: string | null;
}

// ── A foreign key inside the primary key, a unique index and an SQL default ──────────────────
@lab
@dj.comment("recording session")
@dj.uniqueIndex("session_date", "rig") // one session per rig and day
class Session extends dj.Manual {
  @dj.ref(() => Subject, { primary: true })
  subject!: unknown;
  @dj.key("int16")
  session_idx!: number;
  @dj.attr("date")
  session_date!: string;
  @dj.attr("varchar(16)")
  rig!: string;
  @dj.attr("datetime", { default: dj.sql("CURRENT_TIMESTAMP") }) // raw SQL, not a string
  entered!: string;
}

// ── A master table with a part ───────────────────────────────────────────────────────────────
// The part is a class of its own, declared first and then held by its master as a static
// property (see "Parts" in the README for why it is not written inline).
class Electrode extends dj.Part {
  @dj.ref(() => Probe, { primary: true }) // the master: written `-> Probe`
  master!: unknown;
  @dj.key("int16")
  electrode!: number;
  @dj.attr("float32", { comment: "kOhm" })
  impedance!: number;
}

@lab
@dj.comment("a probe inserted in one session, with its electrodes as parts")
class Probe extends dj.Manual {
  @dj.ref(() => Session, { primary: true })
  session!: unknown;
  @dj.key("int8")
  probe!: number;
  @dj.attr("varchar(32)")
  model!: string;

  static Electrode = Electrode;
}

// Declaring is optional (each table is declared on first use), but doing it at once shows the
// decorators compile, and lists the table names DataJoint chose from the class names.
await lab.declare();
console.log("tables:", (await lab.listTables()).join(", "));

// ── Insert ───────────────────────────────────────────────────────────────────────────────────
await Subject.insert([
  { subject_id: "m001", species: "mouse", sex: "M", dob: "2026-03-02" },
  { subject_id: "m002", species: "mouse", sex: "F" }, // dob omitted: NULL
  { subject_id: "r001", species: "rat", sex: "F", dob: "2026-01-20" },
]);
await Session.insert([
  { subject_id: "m001", session_idx: 1, session_date: "2026-11-02", rig: "A" },
  { subject_id: "m001", session_idx: 2, session_date: "2026-11-03", rig: "A" },
  { subject_id: "m002", session_idx: 1, session_date: "2026-11-02", rig: "B" },
  { subject_id: "r001", session_idx: 1, session_date: "2026-11-03", rig: "B" },
]);
// A master and its parts go in together: one transaction, so no probe is left without electrodes.
const conn = await dj.conn();
await conn.transaction(async () => {
  await Probe.insert1({ subject_id: "m001", session_idx: 1, probe: 0, model: "neuropixels" });
  await Probe.Electrode.insert(
    [0, 1, 2, 3].map((e) => ({
      subject_id: "m001",
      session_idx: 1,
      probe: 0,
      electrode: e,
      impedance: 150 + 10 * e,
    })),
  );
});

// The unique index at work: a second session on rig A on 2026-11-02 is refused.
try {
  await Session.insert1({
    subject_id: "m002",
    session_idx: 2,
    session_date: "2026-11-02",
    rig: "A",
  });
} catch (e) {
  console.log(`\nrefused by the unique index: ${(e as Error).name}: ${(e as Error).message}`);
}

// ── Queries ──────────────────────────────────────────────────────────────────────────────────
console.log("\nfemale subjects with their latin species name (a join):");
for (const row of await Subject.restrict({ sex: "F" }).join(Species).toDicts({ orderBy: "KEY" })) {
  console.log(`  ${row.subject_id}: ${row.latin}, born ${row.dob ?? "unknown"}`);
}

console.log("\nsessions per subject (aggr keeps subjects with none):");
for (
  const row of await Subject.aggr(Session, { n: "count(session_idx)" }).toDicts({ orderBy: "KEY" })
) {
  console.log(`  ${row.subject_id}: ${row.n}`);
}

console.log("\nelectrodes of probe m001/1/0 below 170 kOhm:");
const good = Probe.Electrode.restrict({ subject_id: "m001", probe: 0 }).restrict("impedance < 170");
console.log(`  ${(await good.toArrays("electrode"))[0].join(", ")}`);

// ── What the decorators compiled to ──────────────────────────────────────────────────────────
for (const table of [Species, Subject, Session, Probe, Probe.Electrode]) {
  console.log(`\n${table.name} (table ${table.tableName}):`);
  console.log((await table.describe()).trimEnd().replace(/^/gm, "  "));
}

await dj.closeConnection();
