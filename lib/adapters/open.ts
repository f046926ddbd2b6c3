/**
 * Opens the {@link Driver} for a configured backend. This is the one place that switches on the
 * backend's name; each driver module (and its npm package) is loaded only when it is used, so a
 * PGlite-only project never loads `mysql2` or `postgres`, and the other way round.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDriver } from "./open.ts";
 *
 * const config = loadConfig();
 * const db = await openDriver(config.database);
 * console.log(db.backend);
 * await db.close();
 * ```
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Backend, Driver } from "./driver.ts";
import { ConfigError } from "../errors.ts";

export type { Backend, Driver, ExecResult, Row } from "./driver.ts";

/**
 * Opens one connection to the configured database: `mysql` (mysql2), `postgresql` (postgres.js)
 * or `pglite` (embedded, at `database.path`).
 *
 * @example
 * ```ts
 * import { openDriver } from "./open.ts";
 *
 * const db = await openDriver({
 *   backend: "pglite",
 *   path: "memory://",
 *   host: "localhost",
 *   port: 5432,
 *   user: "",
 *   password: "",
 *   name: "postgres",
 *   useTls: null,
 *   createTables: true,
 *   reconnect: true,
 * });
 * await db.close();
 * ```
 */
export async function openDriver(database: Config["database"]): Promise<Driver> {
  switch (database.backend) {
    case "mysql": {
      const { openMysql } = await import("./mysql_driver.ts");
      return await openMysql({
        host: database.host,
        port: database.port,
        user: database.user,
        password: database.password,
        useTls: database.useTls,
      });
    }
    case "postgresql": {
      const { openPostgres } = await import("./postgres_driver.ts");
      return await openPostgres({
        host: database.host,
        port: database.port,
        user: database.user,
        password: database.password,
        database: database.name,
        useTls: database.useTls,
      });
    }
    case "pglite": {
      const { openPglite } = await import("./pglite_driver.ts");
      return await openPglite({ path: database.path });
    }
    default:
      throw new ConfigError(
        `Unknown database backend ${JSON.stringify(database.backend)}: use "mysql", ` +
          `"postgresql" or "pglite".`,
      );
  }
}

/**
 * The placeholder for the `n`-th (1-based) parameter of a backend: `?` for MySQL, `$n` for
 * PostgreSQL and PGlite. Drivers expose the same as `Driver.placeholder`; this form serves code
 * that builds SQL before a connection exists (tests, SQL previews).
 *
 * @example
 * ```ts
 * import { placeholder } from "./open.ts";
 * console.log(placeholder("mysql", 2), placeholder("postgresql", 2)); // ? $2
 * ```
 */
export function placeholder(backend: Backend, n: number): string {
  return backend === "mysql" ? "?" : `$${n}`;
}

/**
 * Placeholders `1..count` joined by `", "`, e.g. for a `VALUES (…)` list.
 *
 * @example
 * ```ts
 * import { placeholders } from "./open.ts";
 * console.log(placeholders("postgresql", 3)); // $1, $2, $3
 * console.log(placeholders("mysql", 3, 4)); // ?, ?, ?
 * ```
 */
export function placeholders(backend: Backend, count: number, start = 1): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(placeholder(backend, start + i));
  return out.join(", ");
}
