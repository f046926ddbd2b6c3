/**
 * Test helper: a library {@link Connection} to each backend, from the same settings the server
 * tests use (`DJ_PG_*`, `DJ_MYSQL_*`; PGlite in memory), and a way to run one test body on all
 * three backends with the usual skip/fail rules of `serverTest`.
 *
 * @module
 */
import type { DatabaseConfig } from "../lib/config.ts";
import { Connection } from "../lib/connection.ts";
import { mysqlSettings, pgSettings, serverTest } from "./_servers.ts";

/** The three backends as tests name them. */
export type TestBackend = "mysql" | "postgres" | "pglite";

/** The `database` settings of a server backend, from `DJ_MYSQL_*` or `DJ_PG_*`. */
export function serverDatabase(
  backend: "mysql" | "postgres",
): Pick<DatabaseConfig, "backend" | "host" | "port" | "user" | "password" | "name"> {
  const s = backend === "mysql" ? mysqlSettings() : pgSettings();
  return {
    backend: backend === "mysql" ? "mysql" : "postgresql",
    host: s.host,
    port: s.port,
    user: s.user,
    password: s.password,
    name: s.database,
  };
}

/**
 * A connection to a test backend; PGlite is in memory (slow to start: share one per file).
 *
 * @example
 * ```ts
 * import { openTestConnection } from "./_connections.ts";
 * const c = await openTestConnection("pglite");
 * await c.close();
 * ```
 */
export function openTestConnection(backend: TestBackend): Promise<Connection> {
  const env = {};
  if (backend === "pglite") {
    return Connection.open({
      env,
      ignoreFile: true,
      overrides: { database: { backend: "pglite", path: "memory://" } },
    });
  }
  return Connection.open({
    env,
    ignoreFile: true,
    overrides: { database: serverDatabase(backend) },
  });
}

let pglite: Promise<Connection> | undefined;

/**
 * Registers `fn` as one test per backend. MySQL and PostgreSQL go through `serverTest` (skipped
 * locally when unreachable, failing under CI); PGlite always runs, on one in-memory instance per
 * test file that is closed by the last test.
 *
 * @example
 * ```ts
 * import { onEveryBackend } from "./_connections.ts";
 * await onEveryBackend("select 1", async (c) => {
 *   await c.query("SELECT 1");
 * });
 * ```
 */
export async function onEveryBackend(
  name: string,
  fn: (c: Connection, backend: TestBackend) => Promise<void>,
  options: { last?: boolean } = {},
): Promise<void> {
  for (const backend of ["mysql", "postgres"] as const) {
    await serverTest(
      backend === "mysql" ? "mysql" : "postgres",
      `${backend}: ${name}`,
      async () => {
        const c = await openTestConnection(backend);
        try {
          await fn(c, backend);
        } finally {
          await c.close();
        }
      },
    );
  }
  Deno.test(`pglite: ${name}`, async () => {
    pglite ??= openTestConnection("pglite");
    const c = await pglite;
    try {
      await fn(c, "pglite");
    } finally {
      if (options.last) {
        pglite = undefined;
        await c.close();
      }
    }
  });
}
