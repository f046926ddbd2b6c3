/**
 * A script on PostgreSQL or MariaDB that never closes its connection still exits once it is
 * done (the socket is unreferenced between statements), and not before: a statement in flight
 * keeps it alive.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { schema as makeSchema } from "../lib/schema.ts";
import { runToEnd } from "./_child.ts";
import { openTestConnection } from "./_connections.ts";
import { mysqlSettings, pgSettings, scratchName, serverTest } from "./_servers.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));

for (const backend of ["mysql", "postgres"] as const) {
  await serverTest(
    backend,
    `${backend}: a script that does not close its connection exits by itself, when done`,
    async () => {
      const s = backend === "mysql" ? mysqlSettings() : pgSettings();
      const name = scratchName("dj_exit_");
      const env: Record<string, string> = {
        DJ_IGNORE_CONFIG_FILE: "true",
        DJ_BACKEND: backend === "mysql" ? "mysql" : "postgresql",
        DJ_HOST: s.host,
        DJ_PORT: String(s.port),
        DJ_USER: s.user,
        DJ_PASS: s.password,
        EXIT_PROBE_SCHEMA: name,
      };
      // A hang is the failure: killed after a limit no healthy run nears.
      const run = await runToEnd(
        join(REPO, "deno.json"),
        join(REPO, "tests/fixtures/server_no_close.ts"),
        { env },
      );
      const { stdout, stderr } = run;
      try {
        assert.equal(run.killed, false, `the script did not exit by itself:\n${stdout}\n${stderr}`);
        // An early exit (the socket unreferenced during a statement) fails the script.
        assert.ok(run.success, `the script failed:\n${stdout}\n${stderr}`);
        assert.deepEqual(JSON.parse(stdout.split("\n").at(-1)!), { count: 1 });
      } finally {
        const c = await openTestConnection(backend);
        try {
          await makeSchema(name, { connection: c }).drop({ cascade: true });
        } finally {
          await c.close();
        }
      }
    },
  );
}
