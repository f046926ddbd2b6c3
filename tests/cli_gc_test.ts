/**
 * `dj gc` on the store objects DataJoint Python wrote (`golden/ddl`), on MariaDB, PostgreSQL and
 * PGlite: nothing referenced is ever reported, planted strays are reported by `--dry-run` and
 * deleted without it, the JSON report, and runtime errors for unknown stores and schemas.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { assertFails, djIn, GOLDEN_IGNORED, loadGoldenCopy, succeeded } from "./_cli.ts";
import { onEveryBackend } from "./_connections.ts";

await onEveryBackend("dj gc: reports and deletes only unreferenced objects", async (c) => {
  if (GOLDEN_IGNORED) return;
  const g = await loadGoldenCopy(c);
  const context = { connection: c };
  const gc = (...args: string[]) => djIn(["gc", ...args], context);
  try {
    const clean = succeeded(await gc("main", "--dry-run", "--schema", g.schema));
    assert.equal(
      clean,
      `store main, 1 schema(s) scanned: ${g.schema}\n` +
        "hash-addressed:   7 stored, 7 referenced, 0 unreferenced (0 bytes)\n" +
        "schema-addressed: 6 files stored, 4 objects referenced, 0 files unreferenced (0 bytes)\n" +
        "dry run: nothing deleted\n",
    );

    const strayHash = `_hash/${g.schema}/aaaaaaaaaaaaaaaaaaaaaaaaaa`;
    const strayFile = `_schema/${g.schema}/recording/subject_id=9/session_idx=9/x_AAAAAAAA.bin`;
    await Deno.writeFile(`${g.dir}/main/${strayHash}`, new Uint8Array([1]));
    await Deno.mkdir(`${g.dir}/main/${strayFile.slice(0, strayFile.lastIndexOf("/"))}`, {
      recursive: true,
    });
    await Deno.writeFile(`${g.dir}/main/${strayFile}`, new Uint8Array(1500));

    // Just written: within the default grace period of a day, so kept.
    const young = succeeded(await gc("main", "--schema", g.schema));
    assert.match(young, /hash-addressed: +8 stored, 7 referenced, 0 unreferenced \(0 bytes\)/);
    assert.match(young, /kept 2 unreferenced object\(s\) written or reused within 86400 s/);
    assert.match(young, /deleted 0 object\(s\), 0 bytes freed/);
    assert.ok(existsSync(`${g.dir}/main/${strayHash}`), "young objects are kept");
    assertFails(await gc("main", "--min-age", "-1"), 2, "dj gc", /--min-age takes a number/);
    assertFails(await gc("main", "--min-age", "soon"), 2, "dj gc", /--min-age takes a number/);

    const dry = succeeded(
      await gc("main", "--dry-run", `--schema=${g.schema}`, "--min-age", "0"),
    );
    assert.match(dry, /hash-addressed: +8 stored, 7 referenced, 1 unreferenced \(1 byte\)/);
    assert.match(
      dry,
      /schema-addressed: 7 files stored, 4 objects referenced, 1 files unreferenced \(1,500 bytes\)/,
    );
    assert.ok(dry.includes(`unreferenced:\n  ${strayHash}\n  ${strayFile}\n`), dry);
    assert.ok(existsSync(`${g.dir}/main/${strayHash}`), "a dry run deletes nothing");

    const wet = JSON.parse(
      succeeded(await gc("main", "--schema", g.schema, "--json", "--min-age=0")),
    );
    assert.equal(wet.dryRun, false);
    assert.deepEqual(wet.deleted.sort(), [strayHash, strayFile].sort());
    assert.equal(wet.bytesFreed, 1501);
    assert.deepEqual(wet.errors, []);
    assert.equal(existsSync(`${g.dir}/main/${strayHash}`), false);
    assert.equal(existsSync(`${g.dir}/main/${strayFile}`), false);
    // Python's objects are all still there: the rows still fetch, and a second run finds nothing.
    const fetched = await djIn(
      ["fetch", `${g.schema}.Recording`, "--download-path", g.dir],
      context,
    );
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.match(
      succeeded(await gc("main", "--schema", g.schema)),
      /deleted 0 object\(s\), 0 bytes freed/,
    );

    // The filepath store has no hash or schema sections of its own here.
    assert.match(succeeded(await gc("raw", "--dry-run", "--schema", g.schema)), /^store raw, /);

    assertFails(
      await gc("nowhere", "--dry-run"),
      1,
      "dj gc",
      /no store named "nowhere" is configured; configured: main, raw/,
    );
    assertFails(
      await gc("main", "--schema", g.schema, "--schema", "dj_cli_no_such_schema"),
      1,
      "dj gc",
      /schema "dj_cli_no_such_schema" does not exist/,
    );
  } finally {
    await g.dispose();
  }
}, { last: true });
