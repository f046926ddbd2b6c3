/**
 * A script on the embedded PGlite that never closes its connection still exits: PostgreSQL's
 * statistics-flush timer (armed for 10 s after each statement, and re-armed while statistics are
 * pending) used to keep Deno's event loop alive for 10 s or forever. And the embedded default
 * makes its store folder only when a store is used.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runToEnd } from "./_child.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));

Deno.test("pglite: a script that does not close its connection exits by itself", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dj_exit_" });
  try {
    // A hang is the failure: the process is killed after a generous limit that no healthy run
    // nears (it needs one PGlite start), and the assertion below then reports it.
    const run = await runToEnd(
      join(REPO, "deno.json"),
      join(REPO, "tests/fixtures/pglite_no_close.ts"),
      // A project folder with nothing configured: the embedded default, in its .dj/ folder.
      { cwd: dir, env: { DJ_IGNORE_CONFIG_FILE: "true" }, limitMs: 120_000 },
    );
    const { stdout, stderr } = run;
    assert.equal(run.killed, false, `the script did not exit by itself:\n${stdout}\n${stderr}`);
    assert.ok(run.success, `the script failed:\n${stdout}\n${stderr}`);
    const report = JSON.parse(stdout.split("\n").at(-1)!);
    assert.equal(report.count, 1);
    // The flush timer was recognised and unref'd (0 would mean PGlite's build changed).
    assert.ok(report.unrefed > 0, `no PGlite timer was unref'd: ${stdout}`);
    assert.ok((await Deno.stat(join(dir, ".dj/pglite"))).isDirectory, "the database folder");
    // No store-backed attribute was used, so the default store's folder was never made.
    await assert.rejects(Deno.stat(join(dir, ".dj/store")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
