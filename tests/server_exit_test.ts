/**
 * A script on PostgreSQL or MariaDB that never closes its connection still exits once it is
 * done (the socket is unreferenced between statements), and not before: a statement in flight
 * keeps it alive.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { schema as makeSchema } from "../lib/schema.ts";
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
      for (const k of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
        const v = Deno.env.get(k);
        if (v !== undefined) env[k] = v;
      }
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          `--config=${join(REPO, "deno.json")}`,
          join(REPO, "tests/fixtures/server_no_close.ts"),
        ],
        env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // A hang is the failure: killed after a limit no healthy run nears.
      let killed = false;
      const limit = setTimeout(() => {
        killed = true;
        child.kill("SIGKILL");
      }, 60_000);
      const out = await child.output();
      clearTimeout(limit);
      const stdout = new TextDecoder().decode(out.stdout).trim();
      const stderr = new TextDecoder().decode(out.stderr);
      try {
        assert.equal(killed, false, `the script did not exit by itself:\n${stdout}\n${stderr}`);
        // An early exit (the socket unreferenced during a statement) fails the script.
        assert.ok(out.success, `the script failed:\n${stdout}\n${stderr}`);
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
