/**
 * The per-table jobs table `~~<name>` of an auto-populated table, compatible with DataJoint
 * Python's (`datajoint/jobs.py`), so that Python and Deno workers can share one pipeline's queue:
 * the same table name (`~~` + the target's name without leading underscores), columns, types,
 * comment markers, status values, defaults and index, and the same protocol — an atomic `UPDATE`
 * reserves a pending job, `complete` deletes it (or keeps it as `success`), `error` records the
 * message (at most 2047 characters, `...truncated`) and the stack (a `<blob>`), and every worker
 * writes its user, host, pid and connection id.
 *
 * One departure, reference bug #22: Python copies the SQL types of inherited primary-key columns
 * into the definition, which PostgreSQL cannot declare for `double precision`, `timestamp` or enum
 * columns; here they are declared with their core types (recovered from the parent's marker), so
 * the columns have the same SQL types and carry a type marker.
 *
 * @example
 * ```ts
 * import { Jobs } from "./jobs.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const jobs = new Jobs({
 *   schema: "lab",
 *   table: "__analysis",
 *   connection: () => Promise.resolve(conn),
 *   heading: () => conn.heading("lab", "__analysis"),
 * });
 * await jobs.add([{ session_id: 1 }], { priority: 3 });
 * if (await jobs.reserve({ session_id: 1 })) await jobs.complete({ session_id: 1 }, { duration: 0.5 });
 * ```
 *
 * @module
 */
import type { Dialect } from "./adapters/dialect.ts";
import { decodeAttribute, encodeAttribute } from "./attribute_codec.ts";
import { AndList, type Condition } from "./condition.ts";
import type { Connection } from "./connection.ts";
import { DataJointError, DuplicateError, type QueryError } from "./errors.ts";
import type { Attribute, Heading } from "./heading.ts";
import { Query } from "./query.ts";
import { Schema } from "./schema.ts";
import { fromSqlValue, toSqlValue } from "./values.ts";

/** Longest stored error message; longer ones end in {@link TRUNCATION_APPENDIX}. */
export const ERROR_MESSAGE_LENGTH = 2047;
/** What ends a truncated error message. */
export const TRUNCATION_APPENDIX = "...truncated";

/** The five job states. */
export type JobStatus = "pending" | "reserved" | "success" | "error" | "ignore";

/** A primary-key value of the target (and of its jobs table). */
export type JobKey = Record<string, unknown>;

/** The table a jobs table serves. */
export interface JobsTarget {
  /** Schema (database) of the target. */
  readonly schema: string;
  /** The target's table name (`__analysis`, `_ingest`). */
  readonly table: string;
  /** The connection to use. */
  connection(): Promise<Connection>;
  /** The target's heading (declaring the target first when needed). */
  heading(): Promise<Heading>;
  /** The target as a query (needed by {@link Jobs.refresh}). */
  query?(): Query;
  /** The target's key source (needed by {@link Jobs.refresh}). */
  keySource?(): Promise<Query>;
}

/** Options of {@link Jobs.refresh}. */
export interface RefreshOptions {
  /** Seconds from now until new jobs may run (default 0; populate uses -1). */
  delay?: number;
  /** Priority of new and re-pended jobs (default `jobs.defaultPriority`). */
  priority?: number;
  /**
   * Jobs older than this many seconds whose key left the key source are deleted (default
   * `jobs.staleTimeout`, 3600; 0 skips).
   */
  staleTimeout?: number;
  /** Reserved jobs older than this many seconds go back to pending (default: never). */
  orphanTimeout?: number;
}

/** What {@link Jobs.refresh} did. */
export interface RefreshResult {
  /** New pending jobs. */
  added: number;
  /** Stale jobs deleted. */
  removed: number;
  /** Orphaned reservations made pending again. */
  orphaned: number;
  /** Kept `success` jobs whose row left the target, made pending again. */
  rePended: number;
}

/** Options of {@link Jobs.add}. */
export interface AddJobsOptions {
  /** Priority of the new jobs; lower runs first (default `jobs.defaultPriority`, 5). */
  priority?: number;
  /** Seconds from now (server time) until the jobs may run; negative is allowed (default 0). */
  delay?: number;
}

/** Options of {@link Jobs.pendingKeys}. */
export interface PendingKeysOptions {
  /** Only jobs with this priority or a more urgent (lower) one. */
  priority?: number;
  /** At most this many keys. */
  limit?: number;
  /** Only jobs whose key is among this query's rows (on the attributes they share). */
  within?: Query;
}

/** Job counts by status, from {@link Jobs.progress}. */
export interface JobCounts {
  /** Waiting to be reserved. */
  pending: number;
  /** Being computed. */
  reserved: number;
  /** Done and kept (`jobs.keepCompleted`). */
  success: number;
  /** Failed. */
  error: number;
  /** Skipped on purpose. */
  ignore: number;
  /** All jobs. */
  total: number;
}

/** Who is working: written into every job a worker reserves or fails. */
export interface WorkerIdentity {
  /** The database user (`user()` on MySQL, `current_user` on PostgreSQL). */
  user: string;
  /** This machine's host name. */
  host: string;
  /** This process's id. */
  pid: number;
  /** The server's id of this connection (`connection_id()`, `pg_backend_pid()`). */
  connectionId: number;
  /** The code version (`jobs.versionMethod`), `""` when not recorded. */
  version: string;
}

/**
 * The jobs table name of a target table: `~~` + its name without leading underscores (so an
 * Imported `_x` and a Computed `__x` share `~~x`, as in DataJoint Python).
 *
 * @example
 * ```ts
 * import { jobsTableName } from "./jobs.ts";
 * console.log(jobsTableName("__spike_sorting"), jobsTableName("_ingest")); // ~~spike_sorting ~~ingest
 * ```
 */
export function jobsTableName(target: string): string {
  return `~~${target.replace(/^_+/, "")}`;
}

/**
 * The definition of the jobs table of a target, DataJoint Python's text with one change (bug
 * #22): each primary-key attribute the target inherits through a foreign key is declared with its
 * DataJoint type (the core type recovered from the parent's marker, or the native SQL type when
 * the parent declared one), not the raw SQL type. Key attributes not inherited are left out, as
 * Python does (with a warning there); `skipped` lists them.
 *
 * @example
 * ```ts
 * import { jobsDefinition } from "./jobs.ts";
 * import type { Heading } from "./heading.ts";
 * import { mysqlDialect } from "./adapters/mysql_dialect.ts";
 * declare const heading: Heading;
 * const { definition, skipped } = jobsDefinition(heading, mysqlDialect);
 * ```
 */
export function jobsDefinition(
  target: Heading,
  dialect: Dialect,
): { definition: string; skipped: string[] } {
  const byName = new Map(target.attributes.map((a) => [a.name, a]));
  const lines: string[] = [];
  const skipped: string[] = [];
  for (const name of target.primaryKey) {
    const a = byName.get(name)!;
    if (a.parent === undefined) {
      skipped.push(name);
      continue;
    }
    lines.push(`${name} : ${a.type}`);
  }
  const full = `${dialect.quote(target.schema)}.${dialect.quote(target.table)}`;
  if (lines.length === 0) {
    throw new DataJointError(
      `Cannot create jobs table for ${full}: no FK-derived primary key attributes found. ` +
        "Jobs are kept per key inherited from the parents; populate without { reserveJobs: true }",
    );
  }
  const definition = [
    `# Job queue for ${full}`,
    ...lines,
    "---",
    "status          : enum('pending', 'reserved', 'success', 'error', 'ignore')",
    "priority        : int8",
    "created_time=CURRENT_TIMESTAMP(3) : datetime(3)",
    "scheduled_time=CURRENT_TIMESTAMP(3) : datetime(3)",
    "reserved_time=null  : datetime(3)",
    "completed_time=null : datetime(3)",
    "duration=null   : float64",
    `error_message="" : varchar(${ERROR_MESSAGE_LENGTH})`,
    "error_stack=null : <blob>",
    'user=""         : varchar(255)',
    'host=""         : varchar(255)',
    "pid=0           : int32",
    "connection_id=0 : int64",
    'version=""      : varchar(64)',
    "INDEX (status, priority, scheduled_time)",
  ].join("\n");
  return { definition, skipped };
}

/**
 * An error message as the jobs table keeps it: at most 2047 characters (code points, as the
 * column counts them), a longer one cut to end in `...truncated`.
 *
 * @example
 * ```ts
 * import { truncateErrorMessage } from "./jobs.ts";
 * console.log(truncateErrorMessage("x".repeat(3000)).length); // 2047
 * ```
 */
export function truncateErrorMessage(message: string): string {
  const chars = Array.from(message);
  if (chars.length <= ERROR_MESSAGE_LENGTH) return message;
  return chars.slice(0, ERROR_MESSAGE_LENGTH - TRUNCATION_APPENDIX.length).join("") +
    TRUNCATION_APPENDIX;
}

/** Server-side time arithmetic, the one place this module differs per dialect. */
interface TimeSql {
  /** `CURRENT_TIMESTAMP(3)` moved by `seconds` (a bound parameter, `ph`). */
  shifted(ph: string): string;
  /** The parameter for `seconds`. */
  param(seconds: number): unknown;
  /** The current database user. */
  user: string;
  /** The connection's id on the server. */
  connectionId: string;
}

const TIME_SQL: Record<Dialect["name"], TimeSql> = {
  // Microseconds keep fractional delays exact; MySQL accepts a parameter as the INTERVAL amount.
  mysql: {
    shifted: (ph) => `CURRENT_TIMESTAMP(3) + INTERVAL ${ph} MICROSECOND`,
    param: (s) => Math.round(s * 1e6),
    user: "SELECT user() AS u",
    connectionId: "SELECT connection_id() AS id",
  },
  postgresql: {
    shifted: (ph) => `CAST(CURRENT_TIMESTAMP(3) + make_interval(secs => ${ph}) AS timestamp(3))`,
    param: (s) => s,
    user: "SELECT current_user AS u",
    connectionId: "SELECT pg_backend_pid() AS id",
  },
};

const IDENTITIES = new WeakMap<Connection, Promise<Omit<WorkerIdentity, "version">>>();
let gitVersion: Promise<string> | undefined;

/**
 * This worker's identity on a connection (queried once per connection).
 *
 * @example
 * ```ts
 * import { workerIdentity } from "./jobs.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const { user, host, pid, connectionId } = await workerIdentity(conn);
 * ```
 */
export async function workerIdentity(conn: Connection): Promise<WorkerIdentity> {
  let base = IDENTITIES.get(conn);
  if (base === undefined) {
    const t = TIME_SQL[conn.kit.dialect.name];
    base = (async () => {
      const [{ u }] = await conn.query<{ u: string }>(t.user);
      const [{ id }] = await conn.query<{ id: number | bigint | string }>(t.connectionId);
      return { user: String(u), host: Deno.hostname(), pid: Deno.pid, connectionId: Number(id) };
    })();
    IDENTITIES.set(conn, base);
    base.catch(() => IDENTITIES.delete(conn));
  }
  return { ...(await base), version: await jobVersion(conn) };
}

/**
 * The code version recorded with jobs: `git rev-parse --short HEAD` when `jobs.versionMethod` is
 * `"git"` (empty when git is not available or this is no repository), else `""`.
 *
 * @example
 * ```ts
 * import { jobVersion } from "./jobs.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * console.log(await jobVersion(conn));
 * ```
 */
export function jobVersion(conn: Connection): Promise<string> {
  if (conn.config.jobs.versionMethod !== "git") return Promise.resolve("");
  gitVersion ??= (async () => {
    try {
      const out = await new Deno.Command("git", {
        args: ["rev-parse", "--short", "HEAD"],
        stdout: "piped",
        stderr: "null",
      }).output();
      return out.success ? new TextDecoder().decode(out.stdout).trim().slice(0, 64) : "";
    } catch {
      return "";
    }
  })();
  return gitVersion;
}

const DEADLOCK = new Set(["1213", "1205", "40P01", "40001"]);

/** Runs `fn` again when the server aborted it to break a deadlock between workers. */
async function retryOnDeadlock<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const code = (e as QueryError).code;
      if (attempt >= 8 || code === undefined || !DEADLOCK.has(code)) throw e;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20 * attempt));
    }
  }
}

/**
 * The jobs table of one auto-populated table. Declared lazily, on the first operation.
 *
 * @example
 * ```ts
 * import { Jobs } from "./jobs.ts";
 * declare const jobs: Jobs;
 * console.log(jobs.tableName, await jobs.progress());
 * ```
 */
export class Jobs {
  /** The table this queue serves. */
  readonly target: JobsTarget;
  #declared?: Promise<Heading>;

  /** A handle; nothing happens on the server until it is used. */
  constructor(target: JobsTarget) {
    this.target = target;
  }

  /** The jobs table's name, `~~<target without leading underscores>`. */
  get tableName(): string {
    return jobsTableName(this.target.table);
  }

  /** The quoted `schema.table` of the jobs table. */
  async fullName(): Promise<string> {
    const { dialect } = (await this.target.connection()).kit;
    return `${dialect.quote(this.target.schema)}.${dialect.quote(this.tableName)}`;
  }

  /**
   * Declares the jobs table unless it exists (declared here or by DataJoint Python) and returns
   * its heading.
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * console.log((await jobs.declare()).primaryKey);
   * ```
   */
  declare(): Promise<Heading> {
    this.#declared ??= this.#declare().catch((e) => {
      this.#declared = undefined;
      throw e;
    });
    return this.#declared;
  }

  async #declare(): Promise<Heading> {
    const conn = await this.target.connection();
    const table = this.tableName;
    if (!(await this.#tableExists(conn))) {
      const heading = await this.target.heading();
      const { definition, skipped } = jobsDefinition(heading, conn.kit.dialect);
      if (skipped.length > 0 && conn.config.loglevel !== "ERROR") {
        console.warn(
          `Ignoring non-FK primary key attribute(s) ${skipped.join(", ")} in the jobs table of ` +
            `${this.target.schema}.${this.target.table}: one job covers all their values`,
        );
      }
      await new Schema(this.target.schema, { connection: conn, create: false })
        .declareNamed(table, definition);
    }
    return conn.heading(this.target.schema, table);
  }

  /**
   * Whether the jobs table exists. Another worker (or DataJoint Python) may have declared it
   * since this connection loaded the schema's catalog: a miss reloads the catalog once.
   */
  async #tableExists(conn: Connection): Promise<boolean> {
    if ((await conn.catalog(this.target.schema)).tables.has(this.tableName)) return true;
    conn.invalidate(this.target.schema);
    return (await conn.catalog(this.target.schema)).tables.has(this.tableName);
  }

  /** The jobs table's heading (declaring it when needed). */
  heading(): Promise<Heading> {
    return this.declare();
  }

  /** `WHERE` terms matching one job's key, with their parameters from `first`. */
  async #keyCondition(
    key: JobKey,
    first: number,
  ): Promise<{ conn: Connection; heading: Heading; sql: string; params: unknown[] }> {
    const heading = await this.declare();
    const conn = await this.target.connection();
    if (typeof key !== "object" || key === null || Array.isArray(key)) {
      throw new DataJointError(`A job key is an object of primary-key values, got ${typeof key}`);
    }
    const d = conn.kit.dialect;
    const byName = new Map(heading.attributes.map((a) => [a.name, a]));
    const terms: string[] = [];
    const params: unknown[] = [];
    for (const name of heading.primaryKey) {
      if (!(name in key) || key[name] === undefined || key[name] === null) {
        throw new DataJointError(
          `The job key ${describe(key)} lacks ${name}: give every primary-key attribute of ` +
            `${this.tableName} (${heading.primaryKey.join(", ")})`,
        );
      }
      params.push(toSqlValue(byName.get(name)!, key[name], d));
      terms.push(`${d.quote(name)} = ${conn.placeholder(first + params.length - 1)}`);
    }
    return { conn, heading, sql: terms.join(" AND "), params };
  }

  /**
   * Reserves a pending job whose scheduled time has come: one atomic `UPDATE … WHERE status =
   * 'pending' AND scheduled_time <= CURRENT_TIMESTAMP(3)`. True when this worker got it (exactly
   * one row changed); false when another worker was first, or the job is not pending.
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * if (await jobs.reserve({ session_id: 1 })) console.log("mine");
   * ```
   */
  async reserve(key: JobKey): Promise<boolean> {
    const conn = await this.target.connection();
    const me = await workerIdentity(conn);
    const d = conn.kit.dialect;
    const q = d.quote;
    const set = ["status", "host", "pid", "connection_id", "user", "version"];
    const ph = (n: number) => conn.placeholder(n);
    const where = await this.#keyCondition(key, set.length + 2);
    const sql = `UPDATE ${await this.fullName()} SET ${
      set.map((c, i) => `${q(c)} = ${ph(i + 1)}`).join(", ")
    }, ${q("reserved_time")} = CURRENT_TIMESTAMP(3) WHERE ${q("status")} = ${
      ph(set.length + 1)
    } AND ${where.sql} AND ${q("scheduled_time")} <= CURRENT_TIMESTAMP(3)`;
    const params = [
      "reserved",
      me.host,
      me.pid,
      me.connectionId,
      me.user,
      me.version,
      "pending",
      ...where.params,
    ];
    const { affectedRows } = await retryOnDeadlock(() => conn.execute(sql, params));
    return affectedRows === 1;
  }

  /**
   * Marks a job done: deletes its row, or with `jobs.keepCompleted` keeps it as `success` with
   * its completion time (server clock) and `duration` in seconds.
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * await jobs.complete({ session_id: 1 }, { duration: 12.5 });
   * ```
   */
  async complete(key: JobKey, options: { duration?: number } = {}): Promise<void> {
    const conn = await this.target.connection();
    const q = conn.kit.dialect.quote;
    const full = await this.fullName();
    if (!conn.config.jobs.keepCompleted) {
      const where = await this.#keyCondition(key, 1);
      await retryOnDeadlock(() =>
        conn.execute(`DELETE FROM ${full} WHERE ${where.sql}`, where.params)
      );
      return;
    }
    const where = await this.#keyCondition(key, 3);
    await retryOnDeadlock(() =>
      conn.execute(
        `UPDATE ${full} SET ${q("status")} = ${conn.placeholder(1)}, ${
          q("completed_time")
        } = CURRENT_TIMESTAMP(3), ${q("duration")} = ${conn.placeholder(2)} WHERE ${where.sql}`,
        ["success", options.duration ?? null, ...where.params],
      )
    );
  }

  /**
   * Marks a job failed, with its error message (cut to 2047 characters, ending in
   * `...truncated`) and stack (stored as a `<blob>` holding the text). A job that has no row yet
   * gets one.
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * await jobs.error({ session_id: 1 }, "Error: no spikes", new Error("no spikes").stack);
   * ```
   */
  async error(key: JobKey, message: string, stack?: string | null): Promise<void> {
    const conn = await this.target.connection();
    const d = conn.kit.dialect;
    const q = d.quote;
    const me = await workerIdentity(conn);
    const heading = await this.declare();
    const stackAttr = heading.attributes.find((a) => a.name === "error_stack")!;
    const stackParam = stack === undefined || stack === null
      ? null
      : await encodeAttribute(stackAttr, String(stack), { dialect: d, key: {} });
    const set = ["status", "error_message", "error_stack", "host", "pid", "connection_id", "user"];
    const text = truncateErrorMessage(String(message));
    const values = ["error", text, stackParam, me.host, me.pid, me.connectionId, me.user];
    const where = await this.#keyCondition(key, set.length + 1);
    const full = await this.fullName();
    const { affectedRows } = await retryOnDeadlock(() =>
      conn.execute(
        `UPDATE ${full} SET ${
          set.map((c, i) => `${q(c)} = ${conn.placeholder(i + 1)}`).join(", ")
        }, ${q("completed_time")} = CURRENT_TIMESTAMP(3) WHERE ${where.sql}`,
        [...values, ...where.params],
      )
    );
    if (affectedRows > 0 || (await this.#exists(key))) return;
    // No job row yet (the key was never added): one is made, with the values unencoded.
    const raw = ["error", text, stack ?? null, me.host, me.pid, me.connectionId, me.user];
    await this.#insertRows([key], [
      ...set.map((c, i) => [c, raw[i]] as [string, unknown]),
      ["priority", conn.config.jobs.defaultPriority],
    ], "skip");
  }

  /**
   * Marks a job to be skipped by populate: updates its status, or adds it as `ignore` when it is
   * not in the table.
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * await jobs.ignore({ session_id: 7 });
   * ```
   */
  async ignore(key: JobKey): Promise<void> {
    const conn = await this.target.connection();
    const q = conn.kit.dialect.quote;
    const where = await this.#keyCondition(key, 2);
    const full = await this.fullName();
    const { affectedRows } = await retryOnDeadlock(() =>
      conn.execute(
        `UPDATE ${full} SET ${q("status")} = ${conn.placeholder(1)} WHERE ${where.sql}`,
        ["ignore", ...where.params],
      )
    );
    if (affectedRows > 0 || (await this.#exists(key))) return;
    await this.#insertRows([key], [
      ["status", "ignore"],
      ["priority", conn.config.jobs.defaultPriority],
    ], "skip");
  }

  async #exists(key: JobKey): Promise<boolean> {
    const where = await this.#keyCondition(key, 1);
    const rows = await where.conn.query(
      `SELECT 1 AS one FROM ${await this.fullName()} WHERE ${where.sql}`,
      where.params,
    );
    return rows.length > 0;
  }

  /**
   * Adds keys as pending jobs with a priority and a delay (scheduled at the server's
   * `CURRENT_TIMESTAMP(3)` + `delay` seconds). Keys that have a job already are left alone, so
   * workers may add the same keys at once. Returns how many were added.
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * await jobs.add([{ session_id: 1 }, { session_id: 2 }], { priority: 1, delay: 60 });
   * ```
   */
  async add(keys: Iterable<JobKey>, options: AddJobsOptions = {}): Promise<number> {
    const list = [...keys];
    if (list.length === 0) return 0;
    const conn = await this.target.connection();
    const priority = options.priority ?? conn.config.jobs.defaultPriority;
    const delay = options.delay ?? 0;
    if (!Number.isFinite(delay)) throw new DataJointError(`delay must be seconds, got ${delay}`);
    await this.declare();
    const t = TIME_SQL[conn.kit.dialect.name];
    const [{ at }] = await conn.query<{ at: string }>(
      `SELECT ${t.shifted(conn.placeholder(1))} AS at`,
      [t.param(delay)],
    );
    return this.#insertRows(list, [
      ["status", "pending"],
      ["priority", priority],
      ["scheduled_time", at],
    ], "skip");
  }

  /**
   * Inserts one row per key with the given extra columns; duplicates skipped. Returns how many
   * rows went in: keys the server finds equal to a stored job, or to another key of the call,
   * count no matter how they are spelled (`1.5` for a stored `1.500`). Rows go in sorted by key,
   * so that workers adding overlapping keys lock them in the same order.
   */
  async #insertRows(
    keys: JobKey[],
    extra: [string, unknown][],
    onDuplicate: "skip",
  ): Promise<number> {
    const heading = await this.declare();
    const conn = await this.target.connection();
    const d = conn.kit.dialect;
    const byName = new Map(heading.attributes.map((a) => [a.name, a]));
    const pk = heading.primaryKey;
    const extraParams = await Promise.all(
      extra.map(async ([c, v]) =>
        await encodeAttribute(byName.get(c)!, v, { dialect: d, key: {} })
      ),
    );
    const rows = keys.map((key) => {
      if (typeof key !== "object" || key === null) {
        throw new DataJointError(`A job key is an object of primary-key values, got ${key}`);
      }
      return pk.map((name) => {
        if (key[name] === undefined || key[name] === null) {
          throw new DataJointError(
            `The job key ${
              describe(key)
            } lacks ${name}: give every primary-key attribute of ${this.tableName}`,
          );
        }
        return toSqlValue(byName.get(name)!, key[name], d);
      });
    });
    rows.sort(compareRows);
    const columns = [...pk, ...extra.map(([c]) => c)];
    const target = { schema: this.target.schema, table: this.tableName, primaryKey: pk };
    const insert = (batch: unknown[][], how: "error" | "skip") =>
      retryOnDeadlock(() =>
        conn.execute(
          d.insert(target, columns, batch.length, (n) => conn.placeholder(n), how),
          batch.flatMap((r) => [...r, ...extraParams]),
        )
      );
    // A plain INSERT adds every row or fails on a duplicate, so its count is exact where the
    // skipping one counts the duplicates it met too (MySQL): a batch that meets one (a key
    // spelled unlike its stored form, a row given twice, another worker's insert just now) is
    // halved until each part goes in or is a single duplicate.
    const plain = async (batch: unknown[][]): Promise<number> => {
      try {
        await insert(batch, "error");
        return batch.length;
      } catch (e) {
        if (!(e instanceof DuplicateError)) throw e;
        if (batch.length === 1) return 0;
        const half = Math.ceil(batch.length / 2);
        return await plain(batch.slice(0, half)) + await plain(batch.slice(half));
      }
    };
    const perBatch = Math.max(1, Math.floor(10000 / columns.length));
    let added = 0;
    for (let i = 0; i < rows.length; i += perBatch) {
      // Keys that have a job (spelled as stored) are filtered out first: no lock is taken on
      // existing rows, and the halving above stays rare.
      const existing = await this.#existingKeys(conn, pk, rows.slice(i, i + perBatch));
      const batch = rows.slice(i, i + perBatch).filter((r, j, all) =>
        !existing.has(paramKey(r)) && (j === 0 || paramKey(all[j - 1]) !== paramKey(r))
      );
      if (batch.length === 0) continue;
      added += d.upsertCountsFoundRows
        ? await plain(batch)
        : (await insert(batch, onDuplicate)).affectedRows;
    }
    return added;
  }

  /** The keys among `rows` (parameter forms) that have a job, as {@link paramKey} strings. */
  async #existingKeys(conn: Connection, pk: string[], rows: unknown[][]): Promise<Set<string>> {
    const heading = await this.declare();
    const d = conn.kit.dialect;
    const byName = new Map(heading.attributes.map((a) => [a.name, a]));
    let n = 0;
    const tuple = () => `(${pk.map(() => conn.placeholder(++n)).join(", ")})`;
    const list = rows.map(tuple).join(", ");
    const found = await conn.query(
      `SELECT ${pk.map(d.quote).join(", ")} FROM ${await this.fullName()} WHERE (${
        pk.map(d.quote).join(", ")
      }) IN (${list})`,
      rows.flat(),
    );
    return new Set(found.map((r) =>
      paramKey(pk.map((name) => {
        const a = byName.get(name)!;
        return toSqlValue(a, fromSqlValue(a, r[name], d), d);
      }))
    ));
  }

  /**
   * Puts reserved jobs whose reservation is older than `timeout` seconds (their worker died)
   * back to pending, as fresh jobs with `priority`. Returns how many.
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * await jobs.releaseOrphans(600);
   * ```
   */
  async releaseOrphans(timeout: number, priority?: number): Promise<number> {
    if (!(timeout > 0)) throw new DataJointError(`orphan timeout must be > 0 s, got ${timeout}`);
    const conn = await this.target.connection();
    const q = conn.kit.dialect.quote;
    const t = TIME_SQL[conn.kit.dialect.name];
    return this.#resetToPending(
      priority ?? conn.config.jobs.defaultPriority,
      (first) =>
        Promise.resolve({
          sql: `${q("status")} = ${conn.placeholder(first)} AND ${q("reserved_time")} < ${
            t.shifted(conn.placeholder(first + 1))
          }`,
          params: ["reserved", t.param(-timeout)],
        }),
    );
  }

  /**
   * Turns the jobs matching `where` (its placeholders numbered from the given one) into fresh
   * pending jobs, as if deleted and added again (DataJoint Python deletes and inserts). One
   * statement, so no worker sees the job missing in between.
   */
  async #resetToPending(
    priority: number,
    where: (first: number) => Promise<{ sql: string; params: unknown[] }>,
  ): Promise<number> {
    await this.declare();
    const conn = await this.target.connection();
    const q = conn.kit.dialect.quote;
    const ph = (n: number) => conn.placeholder(n);
    const w = await where(7);
    const sql = `UPDATE ${await this.fullName()} SET ${q("status")} = ${ph(1)}, ${
      q("priority")
    } = ${ph(2)}, ${q("created_time")} = CURRENT_TIMESTAMP(3), ${
      q("scheduled_time")
    } = CURRENT_TIMESTAMP(3), ${q("reserved_time")} = NULL, ${q("completed_time")} = NULL, ${
      q("duration")
    } = NULL, ${q("error_message")} = ${ph(3)}, ${q("error_stack")} = NULL, ${q("user")} = ${
      ph(4)
    }, ${q("host")} = ${ph(5)}, ${q("pid")} = 0, ${q("connection_id")} = 0, ${q("version")} = ${
      ph(6)
    } WHERE ${w.sql}`;
    const params = ["pending", priority, "", "", "", "", ...w.params];
    return (await retryOnDeadlock(() => conn.execute(sql, params))).affectedRows;
  }

  /** Deletes jobs (not ignored ones) older than `timeout` s whose key left the key source. */
  async #removeStale(source: Query, timeout: number): Promise<number> {
    const heading = await this.declare();
    const conn = await this.target.connection();
    const q = conn.kit.dialect.quote;
    const t = TIME_SQL[conn.kit.dialect.name];
    const full = await this.fullName();
    const old = await this.#decode(
      heading,
      await conn.query(
        `SELECT ${heading.primaryKey.map(q).join(", ")} FROM ${full} WHERE ${q("created_time")} < ${
          t.shifted(conn.placeholder(1))
        } AND ${q("status")} <> ${conn.placeholder(2)}`,
        [t.param(-timeout), "ignore"],
      ),
      heading.primaryKey,
    );
    let removed = 0;
    for (let i = 0; i < old.length; i += 500) {
      const batch = old.slice(i, i + 500);
      const kept = new Set(
        (await source.restrict(batch).proj().toDicts()).map((k) =>
          paramKey(heading.primaryKey.map((n) => k[n]))
        ),
      );
      for (const key of batch) {
        if (kept.has(paramKey(heading.primaryKey.map((n) => key[n])))) continue;
        const where = await this.#keyCondition(key, 1);
        removed += (await retryOnDeadlock(() =>
          conn.execute(`DELETE FROM ${full} WHERE ${where.sql}`, where.params)
        )).affectedRows;
      }
    }
    return removed;
  }

  /**
   * Keys of the jobs ready to run — pending, scheduled time reached — most urgent first
   * (`priority`, then `scheduled_time`).
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * const next = await jobs.pendingKeys({ limit: 10 });
   * ```
   */
  async pendingKeys(options: PendingKeysOptions = {}): Promise<JobKey[]> {
    const heading = await this.declare();
    const conn = await this.target.connection();
    const q = conn.kit.dialect.quote;
    const pk = heading.primaryKey.map(q).join(", ");
    const params: unknown[] = [];
    let sql = `SELECT ${pk} FROM ${await this.fullName()} WHERE `;
    if (options.within !== undefined) {
      // The subquery's placeholders come first, in text order and numbering alike.
      const names = new Set((await options.within.heading()).names);
      const shared = heading.primaryKey.filter((n) => names.has(n)).map(q).join(", ");
      if (shared === "") return [];
      const sub = await options.within.proj().compile();
      params.push(...sub.params);
      sql += `(${shared}) IN (SELECT ${shared} FROM (${sub.sql}) AS ${q("$todo")}) AND `;
    }
    params.push("pending");
    sql += `${q("status")} = ${conn.placeholder(params.length)} AND ${
      q("scheduled_time")
    } <= CURRENT_TIMESTAMP(3)`;
    if (options.priority !== undefined) {
      params.push(options.priority);
      sql += ` AND ${q("priority")} <= ${conn.placeholder(params.length)}`;
    }
    sql += ` ORDER BY ${q("priority")} ASC, ${q("scheduled_time")} ASC, ${pk}`;
    if (options.limit !== undefined) {
      if (!Number.isInteger(options.limit) || options.limit < 0) {
        throw new DataJointError(`limit must be a non-negative integer, got ${options.limit}`);
      }
      sql += ` LIMIT ${options.limit}`;
    }
    return this.#decode(heading, await conn.query(sql, params), heading.primaryKey);
  }

  async #decode(heading: Heading, raw: Record<string, unknown>[], names: string[]) {
    const conn = await this.target.connection();
    const byName = new Map(heading.attributes.map((a) => [a.name, a]));
    const ctx = { dialect: conn.kit.dialect };
    return Promise.all(raw.map(async (r) => {
      const out: Record<string, unknown> = {};
      for (const n of names) out[n] = await decodeAttribute(byName.get(n) as Attribute, r[n], ctx);
      return out;
    }));
  }

  /**
   * Job counts by status (all zero when the jobs table was never declared).
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * const { pending, error, total } = await jobs.progress();
   * ```
   */
  async progress(): Promise<JobCounts> {
    const counts: JobCounts = {
      pending: 0,
      reserved: 0,
      success: 0,
      error: 0,
      ignore: 0,
      total: 0,
    };
    const conn = await this.target.connection();
    if (!(await this.#tableExists(conn))) return counts;
    const q = conn.kit.dialect.quote;
    const rows = await conn.query<{ status: JobStatus; n: number | bigint | string }>(
      `SELECT ${q("status")} AS status, count(*) AS n FROM ${await this.fullName()} GROUP BY ${
        q("status")
      }`,
    );
    for (const r of rows) {
      counts[r.status] = Number(r.n);
      counts.total += Number(r.n);
    }
    return counts;
  }

  /**
   * The jobs table as a query (restrict it, count it, fetch from it; `error_stack` comes back as
   * text).
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * console.log(await jobs.query().restrict("priority < 3").count());
   * ```
   */
  query(): Query {
    return Query.table(this.target.schema, this.tableName, this.target.connection, async () => {
      await this.declare();
    });
  }

  /** Jobs waiting to be reserved (a query). */
  get pending(): Query {
    return this.query().restrict({ status: "pending" });
  }

  /** Jobs being computed (a query). */
  get reserved(): Query {
    return this.query().restrict({ status: "reserved" });
  }

  /**
   * Failed jobs (a query).
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * for (const j of await jobs.errors.toDicts()) console.log(j.error_message);
   * ```
   */
  get errors(): Query {
    return this.query().restrict({ status: "error" });
  }

  /** Jobs populate skips on purpose (a query). */
  get ignored(): Query {
    return this.query().restrict({ status: "ignore" });
  }

  /** Completed jobs kept with `jobs.keepCompleted` (a query). */
  get completed(): Query {
    return this.query().restrict({ status: "success" });
  }

  /**
   * Brings the queue up to date with the key source: adds the keys of
   * `(keySource & restrictions) - target - jobs` as pending jobs; with `jobs.keepCompleted`,
   * re-pends `success` jobs whose row left the target; deletes jobs (except ignored ones) older
   * than the stale timeout whose key left the key source; re-pends reservations older than the
   * orphan timeout (their worker died). Needs a target that knows its key source (as
   * `Table.jobs` does).
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * const { added, orphaned } = await jobs.refresh([{ subject_id: 1 }], { orphanTimeout: 600 });
   * ```
   */
  async refresh(
    restrictions: readonly Condition[] = [],
    options: RefreshOptions = {},
  ): Promise<RefreshResult> {
    const { query, keySource } = this.target;
    if (query === undefined || keySource === undefined) {
      throw new DataJointError(
        `refresh needs the key source of ${this.target.schema}.${this.target.table}: use the table class's jobs (Table.jobs)`,
      );
    }
    await this.declare();
    const conn = await this.target.connection();
    const cfg = conn.config.jobs;
    const priority = options.priority ?? cfg.defaultPriority;
    const staleTimeout = options.staleTimeout ?? cfg.staleTimeout;
    const result: RefreshResult = { added: 0, removed: 0, orphaned: 0, rePended: 0 };
    const source = await keySource.call(this.target);
    const target = query.call(this.target);
    const restricted = restrictions.length > 0
      ? source.restrict(new AndList(restrictions))
      : source;
    // The jobs table's key attributes have their own lineage: no semantic check against it.
    const fresh = await restricted.proj().minus(target.proj())
      .minus(this.query(), { semanticCheck: false }).keys();
    result.added = await this.add(fresh, { priority, delay: options.delay ?? 0 });
    if (cfg.keepCompleted) {
      const gone = await this.completed.restrict(restricted, { semanticCheck: false })
        .minus(target, { semanticCheck: false }).keys();
      const q = conn.kit.dialect.quote;
      for (const key of gone) {
        result.rePended += await this.#resetToPending(priority, async (first) => {
          const k = await this.#keyCondition(key, first);
          return {
            sql: `${k.sql} AND ${q("status")} = ${conn.placeholder(first + k.params.length)}`,
            params: [...k.params, "success"],
          };
        });
      }
    }
    if (staleTimeout > 0) result.removed = await this.#removeStale(source, staleTimeout);
    if (options.orphanTimeout !== undefined && options.orphanTimeout > 0) {
      result.orphaned = await this.releaseOrphans(options.orphanTimeout, priority);
    }
    return result;
  }

  /**
   * Deletes jobs: all of them, or those of one status.
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * await jobs.delete("error");   // retry failed keys on the next populate
   * ```
   */
  async delete(status?: JobStatus): Promise<number> {
    await this.declare();
    const conn = await this.target.connection();
    const q = conn.kit.dialect.quote;
    const full = await this.fullName();
    const { affectedRows } = status === undefined
      ? await conn.execute(`DELETE FROM ${full}`)
      : await conn.execute(`DELETE FROM ${full} WHERE ${q("status")} = ${conn.placeholder(1)}`, [
        status,
      ]);
    return affectedRows;
  }

  /**
   * Drops the jobs table (and its `~lineage` rows); it is declared again when next used.
   *
   * @example
   * ```ts
   * import type { Jobs } from "./jobs.ts";
   * declare const jobs: Jobs;
   * await jobs.drop();
   * ```
   */
  async drop(): Promise<void> {
    const conn = await this.target.connection();
    const d = conn.kit.dialect;
    const catalog = await conn.catalog(this.target.schema);
    this.#declared = undefined;
    if (!catalog.tables.has(this.tableName)) return;
    if (catalog.lineage !== null) {
      await conn.execute(
        `DELETE FROM ${d.quote(this.target.schema)}.${d.quote("~lineage")} WHERE table_name = ${
          conn.placeholder(1)
        }`,
        [this.tableName],
      );
    }
    await conn.execute(`DROP TABLE ${await this.fullName()}`);
    conn.invalidate(this.target.schema);
  }
}

/** A string identifying a row of parameters (numbers and bigints alike, bytes as hex). */
function paramKey(row: unknown[]): string {
  return row.map((v) =>
    v instanceof Uint8Array
      ? `x${Array.from(v, (b) => b.toString(16).padStart(2, "0")).join("")}`
      : typeof v === "number" || typeof v === "bigint"
      ? `n${v}`
      : `s${JSON.stringify(v)}`
  ).join("\0");
}

function describe(key: unknown): string {
  return JSON.stringify(key, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

/** A total order of parameter rows (numbers, bigints, strings, bytes). */
function compareRows(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x instanceof Uint8Array && y instanceof Uint8Array) {
      for (let j = 0; j < Math.min(x.length, y.length); j++) {
        if (x[j] !== y[j]) return x[j] - y[j];
      }
      if (x.length !== y.length) return x.length - y.length;
      continue;
    }
    if (
      (typeof x === "number" || typeof x === "bigint") &&
      (typeof y === "number" || typeof y === "bigint")
    ) {
      if (x < y) return -1;
      if (x > y) return 1;
      continue;
    }
    const sx = String(x);
    const sy = String(y);
    if (sx !== sy) return sx < sy ? -1 : 1;
  }
  return 0;
}
