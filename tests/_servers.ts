/**
 * Shared test helper for tests that need a real database or object-store server.
 *
 * Connection settings come from the `DJ_*` environment variables exported by `.ci/services.sh`.
 * Locally, without those variables, PostgreSQL defaults to `127.0.0.1:5432` (user `postgres`,
 * database `test`) and MariaDB to `127.0.0.1:3306` (user `root`, empty password); S3 has no default.
 *
 * {@linkcode serverTest} registers a test that is skipped (shown as `ignored`, with a printed
 * reason) when its server cannot be reached, except under CI (`CI=true`), where an unreachable
 * server is a test failure.
 *
 * @example
 * ```ts
 * import { pgSettings, serverTest } from "./_servers.ts";
 *
 * await serverTest("postgres", "postgres: select 1", async () => {
 *   const { host, port } = pgSettings();
 *   // ... connect to host:port and run a query ...
 * });
 * ```
 *
 * @module
 */

/** Servers that {@linkcode serverTest} knows how to reach. */
export type ServerKind = "postgres" | "mysql" | "s3";

/** Connection settings for PostgreSQL. */
export interface PgSettings {
  /** Host name or IP address. */
  host: string;
  /** TCP port. */
  port: number;
  /** User name. */
  user: string;
  /** Password (empty for trust authentication). */
  password: string;
  /** Database to connect to. */
  database: string;
}

/** Connection settings for MySQL / MariaDB. */
export interface MysqlSettings {
  /** Host name or IP address. */
  host: string;
  /** TCP port. */
  port: number;
  /** User name. */
  user: string;
  /** Password (may be empty). */
  password: string;
  /** Default database (schema) to use. */
  database: string;
}

/** Connection settings for an S3-compatible object store. */
export interface S3Settings {
  /** Endpoint URL, e.g. `http://127.0.0.1:8080`. */
  endpoint: string;
  /** Access key id. */
  accessKey: string;
  /** Secret access key. */
  secretKey: string;
  /** Region name used for request signing. */
  region: string;
}

/** Result of checking whether a server can be reached. */
export interface ServerStatus {
  /** Which server was checked. */
  kind: ServerKind;
  /** Human-readable server name, e.g. `PostgreSQL`. */
  label: string;
  /** `host:port` (or endpoint URL) that was probed, or `""` when not configured. */
  address: string;
  /** `true` when a TCP connection succeeded. */
  reachable: boolean;
  /** Why the server is considered unreachable (only when `reachable` is `false`). */
  reason?: string;
}

function env(name: string): string | undefined {
  const v = Deno.env.get(name);
  return v === undefined || v === "" ? undefined : v;
}

function envPort(name: string, fallback: number): number {
  const raw = env(name);
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`${name}=${raw} is not a valid TCP port`);
  }
  return port;
}

/**
 * Whether the tests run under CI (environment variable `CI` is exactly `"true"`).
 *
 * @example
 * ```ts
 * import { inCI } from "./_servers.ts";
 * const timeoutMs = inCI() ? 30_000 : 5_000;
 * ```
 */
export function inCI(): boolean {
  return Deno.env.get("CI") === "true";
}

/**
 * PostgreSQL settings from `DJ_PG_HOST`, `DJ_PG_PORT`, `DJ_PG_USER`, `DJ_PG_PASS` and
 * `DJ_PG_DATABASE`; defaults `127.0.0.1`, `5432`, `postgres`, `""`, `test`.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { pgSettings } from "./_servers.ts";
 *
 * const s = pgSettings();
 * const sql = postgres({ host: s.host, port: s.port, user: s.user, pass: s.password, database: s.database });
 * ```
 */
export function pgSettings(): PgSettings {
  return {
    host: env("DJ_PG_HOST") ?? "127.0.0.1",
    port: envPort("DJ_PG_PORT", 5432),
    user: env("DJ_PG_USER") ?? "postgres",
    password: Deno.env.get("DJ_PG_PASS") ?? "",
    database: env("DJ_PG_DATABASE") ?? "test",
  };
}

/**
 * MySQL / MariaDB settings from `DJ_MYSQL_HOST`, `DJ_MYSQL_PORT`, `DJ_MYSQL_USER`,
 * `DJ_MYSQL_PASS` and `DJ_MYSQL_DATABASE`; defaults `127.0.0.1`, `3306`, `root`, `""`, `test`.
 *
 * @example
 * ```ts
 * import mysql from "mysql2/promise";
 * import { mysqlSettings } from "./_servers.ts";
 *
 * const s = mysqlSettings();
 * const conn = await mysql.createConnection({ ...s, supportBigNumbers: true });
 * await conn.end();
 * ```
 */
export function mysqlSettings(): MysqlSettings {
  return {
    host: env("DJ_MYSQL_HOST") ?? "127.0.0.1",
    port: envPort("DJ_MYSQL_PORT", 3306),
    user: env("DJ_MYSQL_USER") ?? "root",
    password: Deno.env.get("DJ_MYSQL_PASS") ?? "",
    database: env("DJ_MYSQL_DATABASE") ?? "test",
  };
}

/**
 * S3 settings from `DJ_S3_ENDPOINT`, `DJ_S3_ACCESS_KEY`, `DJ_S3_SECRET_KEY` and `DJ_S3_REGION`
 * (default `us-east-1`). Returns `undefined` when `DJ_S3_ENDPOINT` is not set: there is no
 * local default S3 server.
 *
 * @example
 * ```ts
 * import { s3Settings } from "./_servers.ts";
 *
 * const s = s3Settings();
 * if (s) console.log(`S3 at ${s.endpoint} as ${s.accessKey}`);
 * ```
 */
export function s3Settings(): S3Settings | undefined {
  const endpoint = env("DJ_S3_ENDPOINT");
  if (endpoint === undefined) return undefined;
  return {
    endpoint,
    accessKey: env("DJ_S3_ACCESS_KEY") ?? "",
    secretKey: Deno.env.get("DJ_S3_SECRET_KEY") ?? "",
    region: env("DJ_S3_REGION") ?? "us-east-1",
  };
}

/**
 * Tries a TCP connection to `host:port`. Resolves to `undefined` when it succeeds (the connection
 * is closed at once), otherwise to a short description of the failure.
 *
 * @example
 * ```ts
 * import { probeTcp } from "./_servers.ts";
 *
 * const err = await probeTcp("127.0.0.1", 5432);
 * console.log(err === undefined ? "up" : `down: ${err}`);
 * ```
 */
export async function probeTcp(
  host: string,
  port: number,
  timeoutMs = 2000,
): Promise<string | undefined> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const conn = await Deno.connect({ hostname: host, port, signal: ac.signal });
    conn.close();
    return undefined;
  } catch (e) {
    if (ac.signal.aborted) return `no answer within ${timeoutMs} ms`;
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } finally {
    clearTimeout(timer);
  }
}

const LABELS: Record<ServerKind, string> = {
  postgres: "PostgreSQL",
  mysql: "MySQL/MariaDB",
  s3: "S3",
};

const statusCache = new Map<ServerKind, Promise<ServerStatus>>();

async function checkServer(kind: ServerKind): Promise<ServerStatus> {
  const label = LABELS[kind];
  let host: string;
  let port: number;
  let address: string;
  if (kind === "s3") {
    const s = s3Settings();
    if (s === undefined) {
      return { kind, label, address: "", reachable: false, reason: "DJ_S3_ENDPOINT is not set" };
    }
    let url: URL;
    try {
      url = new URL(s.endpoint);
    } catch {
      return {
        kind,
        label,
        address: s.endpoint,
        reachable: false,
        reason: `DJ_S3_ENDPOINT=${s.endpoint} is not a URL`,
      };
    }
    host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
    address = s.endpoint;
  } else {
    const s = kind === "postgres" ? pgSettings() : mysqlSettings();
    host = s.host;
    port = s.port;
    address = `${host}:${port}`;
  }
  const err = await probeTcp(host, port);
  return err === undefined
    ? { kind, label, address, reachable: true }
    : { kind, label, address, reachable: false, reason: err };
}

/**
 * Checks (once per process, then cached) whether the given server accepts TCP connections.
 *
 * @example
 * ```ts
 * import { serverStatus } from "./_servers.ts";
 *
 * const st = await serverStatus("mysql");
 * if (!st.reachable) console.log(`no MySQL: ${st.reason}`);
 * ```
 */
export function serverStatus(kind: ServerKind): Promise<ServerStatus> {
  let p = statusCache.get(kind);
  if (p === undefined) {
    p = checkServer(kind);
    statusCache.set(kind, p);
  }
  return p;
}

/** Options for {@linkcode serverTest}: any `Deno.test` option except `name`, `fn` and `ignore`. */
export type ServerTestOptions = Omit<Deno.TestDefinition, "name" | "fn" | "ignore">;

/**
 * Registers a `Deno.test` that needs the given server. Await it at the top level of the test
 * module, so the reachability probe runs before the test is registered.
 *
 * - Server reachable: the test runs normally.
 * - Unreachable, not in CI: prints `skip: <server> not reachable at <address> (<reason>)` and
 *   registers the test with `ignore: true`.
 * - Unreachable, in CI (`CI=true`): registers a test that fails with that message.
 *
 * @example
 * ```ts
 * import { mysqlSettings, serverTest } from "./_servers.ts";
 *
 * await serverTest("mysql", "mysql: connect", async () => {
 *   const s = mysqlSettings();
 *   // ... connect with s and run queries ...
 * }, { sanitizeOps: true });
 * ```
 */
export async function serverTest(
  kind: ServerKind,
  name: string,
  fn: (t: Deno.TestContext) => void | Promise<void>,
  options: ServerTestOptions = {},
): Promise<void> {
  const st = await serverStatus(kind);
  if (st.reachable) {
    Deno.test({ ...options, name, fn });
    return;
  }
  const where = st.address ? ` at ${st.address}` : "";
  const message = `${st.label} not reachable${where} (${st.reason})`;
  if (inCI()) {
    Deno.test({
      ...options,
      name,
      fn() {
        throw new Error(`${message}; CI=true requires this server (see .ci/services.sh)`);
      },
    });
    return;
  }
  console.log(`skip: ${name}: ${message}`);
  Deno.test({ ...options, name, ignore: true, fn });
}

/**
 * Returns `n` cryptographically random bytes (filled in chunks of 65536, the
 * `crypto.getRandomValues` limit).
 *
 * @example
 * ```ts
 * import { randomBytes } from "./_servers.ts";
 * const blob = randomBytes(10 * 1024 * 1024);
 * ```
 */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
}

/**
 * Throws unless `actual` has exactly the bytes of `expected`; the message names the length or the
 * first differing offset. Accepts any `Uint8Array` (including Node `Buffer`).
 *
 * @example
 * ```ts
 * import { assertBytesEqual } from "./_servers.ts";
 * assertBytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]));
 * ```
 */
export function assertBytesEqual(actual: Uint8Array, expected: Uint8Array, what = "bytes"): void {
  if (!(actual instanceof Uint8Array)) {
    throw new Error(
      `${what}: expected a Uint8Array, got ${Object.prototype.toString.call(actual)}`,
    );
  }
  if (actual.byteLength !== expected.byteLength) {
    throw new Error(`${what}: length ${actual.byteLength} != expected ${expected.byteLength}`);
  }
  for (let i = 0; i < expected.byteLength; i++) {
    if (actual[i] !== expected[i]) {
      throw new Error(`${what}: first difference at offset ${i}: ${actual[i]} != ${expected[i]}`);
    }
  }
}

/**
 * A unique, lowercase scratch name (`prefix` + 10 random hex digits), valid as an SQL table
 * name and as an S3 bucket name.
 *
 * @example
 * ```ts
 * import { scratchName } from "./_servers.ts";
 * const table = scratchName("dj_ci_pg_"); // e.g. "dj_ci_pg_3f9a0c1b2d"
 * ```
 */
export function scratchName(prefix: string): string {
  const hex = Array.from(randomBytes(5), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${prefix}${hex}`;
}
