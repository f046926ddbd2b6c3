/**
 * `dj schemas`, `dj tables` and `dj describe` on the golden schema that DataJoint Python declared
 * (`golden/ddl`), loaded into MariaDB, PostgreSQL and PGlite, and on a schema with parts and a
 * foreign key into another schema; runtime errors (exit 1) for schemas and tables that do not
 * exist.
 */
import assert from "node:assert/strict";
import type { Connection } from "../lib/connection.ts";
import { virtualSchema } from "../lib/schema.ts";
import type { Table } from "../lib/table.ts";
import {
  assertFails,
  declarePartsSchema,
  djIn,
  GOLDEN_IGNORED,
  loadGoldenCopy,
  succeeded,
} from "./_cli.ts";
import { onEveryBackend } from "./_connections.ts";

await onEveryBackend("dj schemas, tables, describe on the golden schema", async (c) => {
  if (GOLDEN_IGNORED) return;
  const g = await loadGoldenCopy(c);
  const context = { connection: c };
  try {
    const schemas = succeeded(await djIn(["schemas"], context)).split("\n");
    assert.ok(schemas.includes(g.schema), `${g.schema} listed`);
    assert.equal(schemas.at(-1), "", "one name per line");
    assert.deepEqual([...schemas.slice(0, -1)].sort(), schemas.slice(0, -1), "sorted");

    const tables = succeeded(await djIn(["tables", g.schema], context));
    const rows = tables.trimEnd().split("\n").map((l) => l.split(/ {2,}/));
    assert.deepEqual(rows.map((r) => r.slice(0, 3)), [
      ["Species", "Lookup", "#species"],
      ["Subject", "Manual", "subject"],
      ["Session", "Manual", "session"],
      ["Recording", "Manual", "recording"],
      ["Analysis", "Computed", "__analysis"],
      ["BareAt", "Manual", "bare_at"],
      ["Tag", "Manual", "tag"],
    ]);
    assert.equal(rows[0][3], "species lookup");
    assert.equal(rows[3][3], "every codec");
    assert.doesNotMatch(tables, /lineage/, "hidden tables left out");

    // describe prints the library's describe() of the table Python declared.
    const vs = await virtualSchema(g.schema, { connection: c });
    for (const name of ["Species", "Subject", "Session", "Recording", "Analysis", "Tag"]) {
      const text = succeeded(await djIn(["describe", `${g.schema}.${name}`], context));
      assert.equal(
        text,
        (await (vs.tables[name] as unknown as typeof Table).describe()).trimEnd() + "\n",
        name,
      );
    }
    const session = succeeded(await djIn(["describe", `${g.schema}.Session`], context));
    assert.match(session, /^# recording session\n-> Subject\nsession_idx +: int32 /);
    assert.match(session, /params +: json/);
    assert.match(session, /index\(label\)/);
    const recording = succeeded(await djIn(["describe", `${g.schema}.recording`], context));
    for (const type of ["<blob>", "<blob@main>", "<attach@main>", "<npy@main>", "<filepath@raw>"]) {
      assert.ok(recording.includes(`: ${type}`), `${type} in ${recording}`);
    }
    // The SQL table name works too, Lookup prefix included.
    assert.equal(
      succeeded(await djIn(["describe", `${g.schema}.#species`], context)),
      succeeded(await djIn(["describe", `${g.schema}.Species`], context)),
    );

    assertFails(
      await djIn(["describe", `${g.schema}.Nope`], context),
      1,
      "dj describe",
      new RegExp(
        `schema "${g.schema}" has no table "Nope"; its tables are Species, Subject, .*Tag \\(see 'dj tables ${g.schema}'\\)`,
      ),
    );
    assertFails(
      await djIn(["describe", "dj_cli_no_such_schema.Subject"], context),
      1,
      "dj describe",
      /schema "dj_cli_no_such_schema" does not exist on this (mysql|postgresql|pglite) server/,
    );
    assertFails(
      await djIn(["tables", "dj_cli_no_such_schema"], context),
      1,
      "dj tables",
      /does not exist .*see 'dj schemas'/,
    );
  } finally {
    await g.dispose();
  }
});

await onEveryBackend("dj tables and describe: parts, renamed and cross-schema foreign keys", async (
  c: Connection,
) => {
  const s = await declarePartsSchema(c);
  const context = { connection: c };
  const q = c.kit.dialect.quote;
  try {
    await c.execute(`CREATE TABLE ${q(s.name)}.${q("LegacyThing")} (id int PRIMARY KEY)`);
    c.invalidate();
    const rows = succeeded(await djIn(["tables", s.name], context)).trimEnd().split("\n")
      .map((l) => l.split(/ {2,}/).slice(0, 3));
    assert.deepEqual(rows, [
      ["Rig", "Lookup", "#rig"],
      ["Probe", "Manual", "probe"],
      ["Ingest", "Imported", "_ingest"],
      ["Sorting", "Computed", "__sorting"],
      ["Probe.Channel", "Part", "probe__channel"],
      ["Sorting.Pair", "Part", "__sorting__pair"],
      ["Sorting.Unit", "Part", "__sorting__unit"],
      ["Mentor", "Manual", "mentor"],
      ["-", "-", "LegacyThing"],
    ]);
    const channel = succeeded(await djIn(["describe", `${s.name}.Probe.Channel`], context));
    assert.match(channel, /^-> Probe\nchannel +: int16/);
    const probe = succeeded(await djIn(["describe", `${s.name}.Probe`], context));
    assert.match(probe, new RegExp(`^-> ${s.external}\\.Subject\\n`), "other schema by name");
    const mentor = succeeded(await djIn(["describe", `${s.name}.mentor`], context));
    assert.match(mentor, /-> Probe\.proj\(mentor_probe='probe'\)/);
    assert.match(mentor, /-> \[nullable\] Rig\.proj\(spare='rig'\)/);

    // A name that differs only in case, `_`/`#` or a missing master gets the one meant suggested.
    for (
      const [typed, meant] of [
        ["probe_channel", "Probe.Channel"],
        ["PROBE", "Probe"],
        ["rig", "Rig"],
        ["Unit", "Sorting.Unit"],
        ["sorting.pair", "Sorting.Pair"],
      ]
    ) {
      for (const command of ["describe", "fetch"]) {
        assertFails(
          await djIn([command, `${s.name}.${typed}`], context),
          1,
          `dj ${command}`,
          new RegExp(
            `has no table "${typed}"; did you mean ${
              meant.replace(".", "\\.")
            }\\? its tables are Rig, `,
          ),
        );
      }
    }
    // No guess when nothing is close.
    assert.doesNotMatch((await djIn(["fetch", `${s.name}.Channelz`], context)).stderr, /did you/);
    // A schema name in the wrong case gets the right one suggested (unless the server folds case).
    const upper = s.name.toUpperCase();
    if (!(await c.schemaExists(upper))) {
      for (const command of [["tables", upper], ["fetch", `${upper}.Rig`]]) {
        assertFails(
          await djIn(command, context),
          1,
          `dj ${command[0]}`,
          new RegExp(
            `schema "${upper}" does not exist on this \\w+ server; did you mean ${s.name}\\? `,
          ),
        );
      }
    }
    // A table `dj tables` lists without a class: why it cannot be read.
    assertFails(
      await djIn(["fetch", `${s.name}.LegacyThing`], context),
      1,
      "dj fetch",
      new RegExp(`${s.name}\\.LegacyThing is not a DataJoint table: its name follows no tier`),
    );
  } finally {
    await s.dispose();
  }
}, { last: true });
