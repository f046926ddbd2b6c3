/**
 * The PostgreSQL {@link Driver}, on `npm:postgres` (postgres.js). This is the only module that
 * imports `postgres`.
 *
 * One physical connection: the pool is limited to one connection (`max: 1`) and that connection is
 * reserved (`sql.reserve()`) for the driver's lifetime, with no idle timeout or maximum lifetime, so
 * `BEGIN` … `COMMIT` sent as plain statements stay on the same session. Statements go through
 * `sql.unsafe(text, params)` with `$n` placeholders, unprepared (DataJoint's SQL text varies too much
 * for a statement cache to pay). Server notices (`CREATE … IF NOT EXISTS` "already exists, skipping")
 * are dropped.
 *
 * Values (see the table in `driver.ts`): `int8` → `bigint`, `numeric` → exact text, `date`,
 * `timestamp`, `time` → PostgreSQL's ISO text (`DateStyle` is set to `ISO` for the session), `bytea`
 * → `Uint8Array`, `json`/`jsonb` → parsed, `uuid` → text, `boolean` → boolean. Arrays → nested
 * arrays of those, `NULL` elements → `null` (our own array parser, see `useOwnArrayParsers`).
 *
 * @example
 * ```ts
 * import { openPostgres } from "./postgres_driver.ts";
 *
 * const db = await openPostgres({ host: "127.0.0.1", user: "postgres", password: "", database: "test" });
 * try {
 *   const [row] = await db.query<{ n: bigint }>("SELECT count(*) AS n FROM pg_class WHERE relname = $1", ["pg_type"]);
 *   console.log(row.n); // 1n
 * } finally {
 *   await db.close();
 * }
 * ```
 *
 * @module
 */

import net from "node:net";
import postgres from "postgres";
import type { Driver, ExecResult, Row, ServerOptions } from "./driver.ts";
import { LostConnectionError, QueryError } from "../errors.ts";
import {
  byteaFromText,
  byteaToText,
  keepText,
  OID,
  parsePgArray,
  TEXT_OIDS,
  translatePgError,
} from "./_pg_common.ts";
import { checkParams, connectFailure, errorMessage, NETWORK_ERROR_CODES } from "./_sql_errors.ts";
import { IdleSocket } from "./idle_socket.ts";

export type { Backend, Driver, ExecResult, Row, ServerOptions } from "./driver.ts";

/** Settings for {@link openPostgres}. */
export interface PostgresOptions extends ServerOptions {
  /** Database to connect to (default `"postgres"`, as DataJoint Python). */
  database?: string;
}

/** postgres.js custom types: our parsers and serializers by OID. */
function customTypes(): Record<string, postgres.PostgresType> {
  const text: Record<string, postgres.PostgresType> = {};
  for (const oid of TEXT_OIDS) {
    text[`text${oid}`] = { to: oid, from: [oid], serialize: String, parse: keepText };
  }
  return {
    ...text,
    bigint: {
      to: OID.INT8,
      from: [OID.INT8],
      serialize: (x: unknown) => String(x),
      parse: (x: string) => BigInt(x),
    },
    bytea: {
      to: OID.BYTEA,
      from: [OID.BYTEA],
      serialize: (x: Uint8Array) => byteaToText(x),
      parse: (x: string) => byteaFromText(x),
    },
    // JSON parameters are JSON text already (the driver contract); postgres.js would
    // JSON.stringify them again once the server reports the parameter as json/jsonb.
    json: {
      to: OID.JSON,
      from: [OID.JSON, OID.JSONB],
      serialize: (x: unknown) => (typeof x === "string" ? x : JSON.stringify(x)),
      parse: (x: string) => JSON.parse(x),
    },
    // postgres.js sends anything but `true` as false; pass other values through as text so the
    // server parses them (1/0, "t"/"f") or rejects them.
    boolean: {
      to: OID.BOOL,
      from: [OID.BOOL],
      serialize: (x: unknown) => (typeof x === "boolean" ? (x ? "t" : "f") : String(x)),
      parse: (x: string) => x === "t",
    },
  };
}

/**
 * Replaces the array parsers postgres.js installs when it connects: those read an unquoted `NULL`
 * element as the text "NULL" (so `NaN`, `"NULL"`, `false`, or a failed `BigInt` after our element
 * parsers) and keep non-default bounds (`[0:1]={1,2}`) as an extra level. Ours give `null` and the
 * values PGlite gives, with the same element parsers, for every array type the catalog has now (as
 * postgres.js's own lookup, and PGlite's, which run when connecting too).
 */
async function useOwnArrayParsers(sql: postgres.Sql, conn: Reserved): Promise<void> {
  const types = await conn.unsafe<{ element: number; array: number; delimiter: string }[]>(
    "SELECT oid AS element, typarray AS array, typdelim AS delimiter " +
      "FROM pg_catalog.pg_type WHERE typarray <> 0",
  );
  const parsers = sql.options.parsers;
  for (const { element, array, delimiter } of types) {
    const parseElement = parsers[element];
    // Without postgres.js's `array` flag the parser gets the whole text, bounds and braces.
    parsers[array] = (text: string) => parsePgArray(text, parseElement, delimiter);
  }
}

const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  ...NETWORK_ERROR_CODES,
]);

function translate(e: unknown, sql: string): QueryError {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && CONNECTION_CODES.has(code)) {
    const message = e instanceof Error ? e.message : String(e);
    return new LostConnectionError(errorMessage(message, "lostConnection", sql), {
      code,
      cause: e,
    });
  }
  return translatePgError(e, sql);
}

type Reserved = Awaited<ReturnType<postgres.Sql["reserve"]>>;

class PostgresDriver implements Driver {
  readonly backend = "postgresql" as const;
  #sql: postgres.Sql;
  #conn: Reserved;
  #closed = false;
  #lost = false;
  #closing: Promise<void> | undefined;
  readonly #idle: IdleSocket;

  constructor(sql: postgres.Sql, conn: Reserved, idle: IdleSocket) {
    this.#sql = sql;
    this.#conn = conn;
    this.#idle = idle;
  }

  placeholder(n: number): string {
    return `$${n}`;
  }

  /**
   * The server closed the socket (postgres.js `onclose`). A statement written to a reserved
   * connection after that makes postgres.js throw an uncaught TypeError, so stop before it.
   */
  markLost(): void {
    this.#lost = true;
  }

  async #run(sql: string, params: readonly unknown[] = []): Promise<postgres.RowList<Row[]>> {
    if (this.#closed) {
      throw new LostConnectionError(
        "The PostgreSQL connection is closed. Open a new connection.",
        { code: "CLOSED" },
      );
    }
    if (this.#lost) {
      this.#closed = true;
      throw new LostConnectionError(
        "The PostgreSQL server closed the connection. Open a new connection.",
        { code: "LOST" },
      );
    }
    checkParams(params, (n) => `$${n}`);
    try {
      // The extended protocol always: postgres.js would send a statement without parameters
      // through the simple protocol, which runs several `;`-separated statements, so a raw SQL
      // restriction could chain one (MariaDB and PGlite refuse that already).
      return await this.#idle.around(() =>
        this.#conn.unsafe<Row[]>(
          sql,
          params as postgres.ParameterOrJSON<never>[],
          { simple: false } as postgres.UnsafeQueryOptions, // `simple` is not in the typings
        )
      );
    } catch (e) {
      const err = translate(e, sql);
      if (err instanceof LostConnectionError) this.#closed = true;
      throw err;
    }
  }

  async query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    // A RowList is an Array with extra fields; copy to a plain array so callers get exactly T[].
    return Array.from(await this.#run(sql, params)) as T[];
  }

  async execute(sql: string, params?: readonly unknown[]): Promise<ExecResult> {
    const result = await this.#run(sql, params);
    return { affectedRows: typeof result.count === "number" ? result.count : 0 };
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    // A connection already lost would make end() wait its whole timeout: destroy it at once.
    const lost = this.#closed || this.#lost;
    this.#closed = true;
    this.#closing = (async () => {
      try {
        this.#conn.release();
      } catch {
        // already released
      }
      await this.#sql.end({ timeout: lost ? 0 : 5 });
    })();
    return this.#closing;
  }
}

/**
 * Opens one PostgreSQL connection (eagerly, so a wrong host or password fails here). Connection
 * failures are thrown as `LostConnectionError`, refused logins as the translated server error.
 *
 * @example
 * ```ts
 * import { openPostgres } from "./postgres_driver.ts";
 *
 * const db = await openPostgres({ host: "127.0.0.1", user: "postgres", password: "", useTls: false });
 * await db.execute('CREATE SCHEMA IF NOT EXISTS "lab"');
 * await db.close();
 * ```
 */
export async function openPostgres(options: PostgresOptions): Promise<Driver> {
  let driver: PostgresDriver | undefined;
  const idle = new IdleSocket();
  let socket: net.Socket | undefined;
  const port = options.port ?? 5432;
  const connectTimeout = options.connectTimeout ?? 10;
  const sql = postgres({
    host: options.host,
    port,
    // Our own socket, connected here, so that it can be unreferenced between statements (see
    // idle_socket.ts); postgres.js negotiates TLS over it as over its own (an option its typings
    // lack, hence the cast below).
    socket: () => {
      const made = connectSocket(options.host, port, connectTimeout);
      socket = made.socket;
      return made.connected;
    },
    user: options.user,
    pass: options.password,
    database: options.database || "postgres",
    ssl: options.useTls === true ? "require" : options.useTls === false ? false : "prefer",
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    connect_timeout: connectTimeout,
    prepare: false,
    onnotice: () => {},
    onclose: () => driver?.markLost(),
    connection: { DateStyle: "ISO", application_name: "datajoint-deno" },
    types: customTypes(),
  } as postgres.Options<Record<string, postgres.PostgresType>>);
  try {
    const conn = await sql.reserve();
    await useOwnArrayParsers(sql, conn);
    driver = new PostgresDriver(sql, conn, idle);
    idle.attach(socket);
    return driver;
  } catch (e) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw connectFailure(translate(e, ""), "PostgreSQL", options, 5432, e);
  }
}

/**
 * A TCP connection to the server, as postgres.js would make it: its `connected` promise resolves
 * with the socket once connected, and rejects on an error or after `timeout` seconds.
 */
function connectSocket(
  host: string,
  port: number,
  timeout: number,
): { socket: net.Socket; connected: Promise<net.Socket> } {
  const socket = net.connect({ host, port });
  const connected = new Promise<net.Socket>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`connect ETIMEDOUT ${host}:${port}`), { code: "ETIMEDOUT" }));
    }, timeout * 1000);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  return { socket, connected };
}
