/**
 * The contract every database driver adapter fulfils. A {@link Driver} is **one physical
 * connection**: statements run one after another in call order, and a transaction is opened and
 * closed with plain `START TRANSACTION`/`BEGIN` and `COMMIT`/`ROLLBACK` statements on it, as
 * DataJoint Python does. The core never imports a driver package; it talks to this interface.
 *
 * Values the driver hands back are normalised the same way on every backend, so the core never
 * branches on the backend:
 *
 * | column type | value |
 * |---|---|
 * | smallint/int/tinyint | `number` |
 * | bigint (int64) | `bigint` |
 * | float/double/real | `number` |
 * | decimal/numeric | `string` (exact text, e.g. `"23.45"`) |
 * | boolean (PostgreSQL) | `boolean`; MySQL `tinyint` stays a `number` |
 * | date | `string` `YYYY-MM-DD` |
 * | datetime/timestamp | `string` `YYYY-MM-DD HH:MM:SS[.ffffff]` (no time zone, no `T`) |
 * | time | `string` `HH:MM:SS[.ffffff]` |
 * | json/jsonb | the parsed JSON value |
 * | binary/bytea/blob | `Uint8Array` (a driver `Buffer` is re-viewed, not copied) |
 * | uuid (PostgreSQL) | `string` canonical lowercase |
 * | char/varchar/text/enum | `string` |
 * | NULL | `null` |
 *
 * Parameters: `number`, `bigint`, `string`, `boolean`, `null`, `Uint8Array` (sent as binary) and
 * plain objects/arrays only where the SQL casts or the column expects JSON text (callers pass
 * `JSON.stringify`-ed text; drivers do not guess).
 *
 * Errors: every failure is thrown as a {@link QueryError} subclass from `../errors.ts`
 * (`DuplicateError`, `IntegrityError`, `MissingTableError`, `UnknownAttributeError`,
 * `MissingAttributeError`, `QuerySyntaxError`, `AccessError`, `LostConnectionError`), with the
 * server's code in `code` and the driver's error as `cause`.
 *
 * @example
 * ```ts
 * import type { Driver } from "./driver.ts";
 *
 * async function count(db: Driver, table: string): Promise<number> {
 *   const [row] = await db.query<{ n: number | bigint }>(`SELECT count(*) AS n FROM ${table}`);
 *   return Number(row.n);
 * }
 * ```
 *
 * @module
 */

/** The three backends. PGlite speaks the PostgreSQL dialect. */
export type Backend = "mysql" | "postgresql" | "pglite";

/** A result row: column name to normalised value (see the module table). */
export type Row = Record<string, unknown>;

/** What a statement that returns no rows reports. */
export interface ExecResult {
  /** Rows inserted, updated or deleted (as the server counts them). */
  affectedRows: number;
}

/**
 * One physical database connection.
 *
 * @example
 * ```ts
 * import type { Driver } from "./driver.ts";
 * async function ping(db: Driver): Promise<boolean> {
 *   return (await db.query("SELECT 1 AS one")).length === 1;
 * }
 * ```
 */
export interface Driver {
  /** Which backend this is. */
  readonly backend: Backend;
  /** Placeholder syntax: `?` (MySQL) or `$n` (PostgreSQL, PGlite), 1-based `n`. */
  placeholder(n: number): string;
  /** Run a statement that returns rows. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Run a statement for its effect. */
  execute(sql: string, params?: readonly unknown[]): Promise<ExecResult>;
  /** Close the connection; later calls throw a `LostConnectionError`. Idempotent. */
  close(): Promise<void>;
}

/**
 * How to reach a database server (MySQL/MariaDB or PostgreSQL).
 *
 * @example
 * ```ts
 * import type { ServerOptions } from "./driver.ts";
 * const local: ServerOptions = { host: "127.0.0.1", user: "root", password: "" };
 * ```
 */
export interface ServerOptions {
  /** Host name or IP address. */
  host: string;
  /** TCP port (default 3306 for MySQL, 5432 for PostgreSQL). */
  port?: number;
  /** User name. */
  user: string;
  /** Password (may be empty). */
  password: string;
  /**
   * TLS: `true` requires it, `false` disables it, `null`/absent tries TLS and falls back to a
   * plain connection when the server does not offer it (as DataJoint Python does).
   */
  useTls?: boolean | null;
  /** Seconds to wait for the connection (default 10, as DataJoint Python). */
  connectTimeout?: number;
}
