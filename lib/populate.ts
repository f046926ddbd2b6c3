/**
 * Populate: filling an auto-populated (`Computed`/`Imported`) table by calling its `make(key)`
 * once per key of its key source that has no row yet, each key in its own transaction, as
 * DataJoint Python does (`autopopulate.py`) — so Python and Deno workers can share one pipeline.
 *
 * - **Key source**: by default the join of the parents the primary key references, each
 *   projected to its primary key (renamed foreign keys with their renames); a class overrides it
 *   with a `static get keySource()` returning a query (or a table class).
 * - **Per key**: `START TRANSACTION`; if the key is in the table already (another worker was
 *   first), roll back and skip; call `make(key, makeKwargs)` with inserts into the table allowed;
 *   `COMMIT`, or `ROLLBACK` when it throws (then the error is raised, or collected with
 *   `suppressErrors`).
 * - **Tripartite make** (`makeFetch`, `makeCompute`, `makeInsert`): fetch and compute outside
 *   any transaction (long computations hold no locks), then in the transaction fetch again and
 *   compare a deep hash — `Referential integrity failed! The make_fetch data has changed` rolls
 *   back — and insert.
 * - **Jobs** (`reserveJobs: true`): the queue `~~<name>` (see `jobs.ts`) is refreshed from the
 *   key source, pending keys are taken most urgent first, each reserved atomically before its
 *   transaction, then deleted when done (or kept as `success`), or marked `error` with the
 *   message and stack.
 * - **Job metadata**: a table declared with `jobs.addJobMetadata` gets `_job_start_time`,
 *   `_job_duration`, `_job_version` set after each commit.
 *
 * @example
 * ```ts
 * import { populate } from "./populate.ts";
 * import type { Computed } from "./table.ts";
 * declare const Analysis: typeof Computed;
 * const { successCount, errorList } = await populate(Analysis, { subject_id: 1 }, {
 *   reserveJobs: true,
 *   suppressErrors: true,
 * });
 * ```
 *
 * @module
 */
import { bindingOf } from "./binding.ts";
import { AndList, type Condition, isQueryLike } from "./condition.ts";
import type { Connection } from "./connection.ts";
import { deepHash } from "./deep_hash.ts";
import { DataJointError } from "./errors.ts";
import type { Heading } from "./heading.ts";
import { allowInsertsDuring } from "./insert.ts";
import { Jobs, jobVersion } from "./jobs.ts";
import { ProgressBar } from "./progress_bar.ts";
import { Query, type Row } from "./query.ts";
import type { Table } from "./table.ts";
import { toSqlValue } from "./values.ts";

/** Options of {@link populate}. */
export interface PopulateOptions {
  /** Collect errors in `errorList` and go on, instead of stopping at the first (default false). */
  suppressErrors?: boolean;
  /** Call `make` at most this many times. */
  maxCalls?: number;
  /** Coordinate with other workers through the jobs table `~~<name>` (default false). */
  reserveJobs?: boolean;
  /**
   * With `reserveJobs`: only jobs of this priority or a more urgent (lower) one, and new jobs
   * get it (default `jobs.defaultPriority`).
   */
  priority?: number;
  /** Show progress on stderr: a bar on a terminal, plain lines otherwise (default false). */
  displayProgress?: boolean;
  /** Passed to every `make(key, makeKwargs)` (and `makeFetch(key, makeKwargs)`). */
  makeKwargs?: Record<string, unknown>;
  /** With `reserveJobs`: refresh the job queue first (default `jobs.autoRefresh`, true). */
  refresh?: boolean;
  /**
   * With `reserveJobs` and refresh: reservations older than this many seconds (their worker
   * died) become pending again first. Not in DataJoint Python's populate, where only
   * `jobs.refresh(orphan_timeout=…)` does it. Default: never.
   */
  orphanTimeout?: number;
}

/** One failed key (with `suppressErrors`). */
export interface PopulateError {
  /** The key whose `make` failed. */
  key: Row;
  /** `ErrorClass: message`, as the jobs table records it. */
  message: string;
  /** What was thrown. */
  error: unknown;
}

/** What {@link populate} did. */
export interface PopulateResult {
  /** Keys made and committed by this call. */
  successCount: number;
  /** Keys whose `make` failed (only with `suppressErrors`; otherwise the first error is raised). */
  errorList: PopulateError[];
}

/** A restriction or, last, the options. */
export type PopulateArg = Condition | PopulateOptions;

/** How much of the key source is populated, from {@link progress}. */
export interface PopulateProgress {
  /** Keys without a row in the table. */
  remaining: number;
  /** Keys of the key source (restricted). */
  total: number;
}

/** An auto-populated table class, as populate sees it. */
type AutoTable = typeof Table & { keySource?: unknown };

/** What `make` and the tripartite methods look like on an instance. */
interface Maker {
  make?: (key: Row, kwargs: Record<string, unknown>) => unknown;
  makeFetch?: (key: Row, kwargs: Record<string, unknown>) => unknown;
  makeCompute?: (key: Row, ...fetched: unknown[]) => unknown;
  makeInsert?: (key: Row, ...computed: unknown[]) => unknown;
}

const OPTION_NAMES: ReadonlySet<string> = new Set([
  "suppressErrors",
  "maxCalls",
  "reserveJobs",
  "priority",
  "displayProgress",
  "makeKwargs",
  "refresh",
  "orphanTimeout",
]);

/**
 * Splits populate's arguments into restrictions and options. The last argument is the options
 * when it is a plain object whose keys are all option names (`{}` included); anything else is a
 * restriction. To restrict by an attribute that happens to be named like an option (a column
 * `priority`), pass options after it, even empty ones: `populate({ priority: 1 }, {})`.
 *
 * @example
 * ```ts
 * import { splitPopulateArgs } from "./populate.ts";
 * const { restrictions, options } = splitPopulateArgs([{ subject_id: 1 }, { maxCalls: 5 }]);
 * console.log(restrictions.length, options.maxCalls); // 1 5
 * ```
 */
export function splitPopulateArgs(
  args: readonly PopulateArg[],
): { restrictions: Condition[]; options: PopulateOptions } {
  const last = args.at(-1);
  if (last !== undefined && isOptions(last)) {
    return { restrictions: args.slice(0, -1) as Condition[], options: last as PopulateOptions };
  }
  return { restrictions: [...args] as Condition[], options: {} };
}

function isOptions(x: unknown): boolean {
  if (typeof x !== "object" || x === null || Array.isArray(x) || isQueryLike(x)) return false;
  const proto = Object.getPrototypeOf(x);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.keys(x).every((k) => OPTION_NAMES.has(k));
}

/** The table class behind `cls`, checked to be a declared auto-populated table. */
function autoTable(cls: unknown, what: string): AutoTable {
  if (isQueryLike(cls) && typeof cls !== "function") {
    throw new DataJointError(
      `Cannot call ${what} on a restricted table (a query). Instead, pass the conditions to ${what}() as arguments: Table.${what}({ subject_id: 1 })`,
    );
  }
  if (typeof cls !== "function" || bindingOf(cls) === undefined) {
    throw new DataJointError(
      `${what}() needs a table class decorated with a schema, got ${
        (cls as { name?: string })?.name ?? typeof cls
      }`,
    );
  }
  const t = cls as AutoTable;
  if (t.tier !== "Computed" && t.tier !== "Imported") {
    throw new DataJointError(
      `${t.name} is a ${t.tier} table: only Computed and Imported tables are populated (by their make())`,
    );
  }
  return t;
}

/**
 * The key source of an auto-populated table: its `static keySource` (a query or a table class)
 * when the class defines one, else the join of its primary foreign-key parents, each projected
 * to its primary key (with the renames of renamed foreign keys).
 *
 * @example
 * ```ts
 * import { keySource } from "./populate.ts";
 * import type { Computed } from "./table.ts";
 * declare const Analysis: typeof Computed;
 * console.log(await (await keySource(Analysis)).count());
 * ```
 */
export async function keySource(cls: typeof Table): Promise<Query> {
  const t = cls as AutoTable;
  const custom = await t.keySource;
  if (custom !== undefined && custom !== null) {
    if (custom instanceof Query) return custom;
    if (isQueryLike(custom) && typeof (custom as typeof Table).query === "function") {
      return (custom as typeof Table).query();
    }
    throw new DataJointError(
      `${t.name}.keySource must be a query or a table class, got ${typeof custom}`,
    );
  }
  const heading = await t.heading();
  const key = new Set(heading.primaryKey);
  const binding = bindingOf(t)!;
  const connection = () => binding.connection();
  const parents = heading.foreignKeys
    .filter((fk) => fk.columns.every((c) => key.has(c)))
    .map((fk) => {
      const q = Query.table(fk.refSchema, fk.refTable, connection);
      const renames = Object.fromEntries(
        fk.columns.map((c, i) => [c, fk.refColumns[i]]).filter(([c, r]) => c !== r),
      );
      return Object.keys(renames).length > 0 ? q.proj(renames) : q.proj();
    });
  if (parents.length === 0) {
    throw new DataJointError(
      `A table must have dependencies from its primary key for auto-populate to work: ${t.name} references no parent in its primary key; define a static keySource`,
    );
  }
  return parents.reduce((a, b) => a.join(b));
}

/** `(keySource & restrictions).proj()`, after checking the target holds the source's key. */
async function keysToDo(t: AutoTable, restrictions: readonly Condition[]): Promise<Query> {
  const source = await keySource(t);
  const names = new Set((await t.heading()).attributes.map((a) => a.name));
  const missing = (await source.heading()).primaryKey.find((n) => !names.has(n));
  if (missing !== undefined) {
    throw new DataJointError(
      `The populate target ${t.name} lacks attribute ${missing} from the primary key of key_source`,
    );
  }
  return (restrictions.length > 0 ? source.restrict(new AndList(restrictions)) : source).proj();
}

const JOBS = new WeakMap<object, Jobs>();

/**
 * The jobs table of an auto-populated table class (one handle per class; the table itself is
 * declared on first use).
 *
 * @example
 * ```ts
 * import { jobsOf } from "./populate.ts";
 * import type { Computed } from "./table.ts";
 * declare const Analysis: typeof Computed;
 * console.log(await jobsOf(Analysis).progress());
 * ```
 */
export function jobsOf(cls: typeof Table): Jobs {
  const t = autoTable(cls, "jobs");
  let jobs = JOBS.get(t);
  if (jobs === undefined) {
    const binding = bindingOf(t)!;
    jobs = new Jobs({
      schema: binding.schemaName,
      table: binding.tableName,
      connection: () => binding.connection(),
      heading: () => t.heading(),
      query: () => t.query(),
      keySource: () => keySource(t),
    });
    JOBS.set(t, jobs);
  }
  return jobs;
}

/**
 * Counts the keys of the key source (restricted) and those without a row yet.
 *
 * @example
 * ```ts
 * import { progress } from "./populate.ts";
 * import type { Computed } from "./table.ts";
 * declare const Analysis: typeof Computed;
 * const { remaining, total } = await progress(Analysis);
 * ```
 */
export async function progress(
  cls: typeof Table,
  ...restrictions: Condition[]
): Promise<PopulateProgress> {
  const t = autoTable(cls, "progress");
  const todo = await keysToDo(t, restrictions);
  const [total, remaining] = await Promise.all([
    todo.count(),
    todo.minus(t.query().proj()).count(),
  ]);
  return { remaining, total };
}

function checkOptions(o: PopulateOptions): void {
  const int = (name: string, v: unknown, min: number) => {
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < min)) {
      throw new DataJointError(`populate: ${name} must be an integer ≥ ${min}, got ${String(v)}`);
    }
  };
  int("maxCalls", o.maxCalls, 0);
  int("priority", o.priority, -128);
  if (o.priority !== undefined && o.priority > 127) {
    throw new DataJointError(`populate: priority must be in -128..127, got ${o.priority}`);
  }
  if (
    o.makeKwargs !== undefined &&
    (typeof o.makeKwargs !== "object" || o.makeKwargs === null || Array.isArray(o.makeKwargs))
  ) {
    throw new DataJointError("populate: makeKwargs must be an object of named arguments");
  }
  if (o.orphanTimeout !== undefined && !(o.orphanTimeout > 0)) {
    throw new DataJointError(`populate: orphanTimeout must be > 0 seconds, got ${o.orphanTimeout}`);
  }
}

/**
 * Populates an auto-populated table: calls `make(key)` for every key of its key source (narrowed
 * by the restrictions) that has no row yet. The trailing argument is the options when it is a
 * plain object of option names only (see {@link splitPopulateArgs}).
 *
 * Errors: inside an open transaction, on a query instead of a table class, or on a table that
 * is not Computed/Imported, populate refuses with a `DataJointError`.
 *
 * @example
 * ```ts
 * import { populate } from "./populate.ts";
 * import type { Computed } from "./table.ts";
 * declare const Analysis: typeof Computed;
 * await populate(Analysis, { displayProgress: true });
 * ```
 */
export async function populate(
  cls: typeof Table,
  ...args: PopulateArg[]
): Promise<PopulateResult> {
  const t = autoTable(cls, "populate");
  const { restrictions, options } = splitPopulateArgs(args);
  checkOptions(options);
  const binding = bindingOf(t)!;
  const conn = await binding.connection();
  if (conn.inTransaction) {
    throw new DataJointError(
      "Populate cannot be called during a transaction: commit or cancel the transaction first",
    );
  }
  await t.declare();
  const heading = await t.heading();
  const instance = new (t as unknown as new () => Table)() as unknown as Maker;
  const tripartite = typeof instance.make !== "function";
  if (
    tripartite &&
    !(["makeFetch", "makeCompute", "makeInsert"] as const).every((m) =>
      typeof instance[m] === "function"
    )
  ) {
    throw new DataJointError(
      `${t.name} must implement make(key) or (makeFetch + makeCompute + makeInsert) to be populated`,
    );
  }
  const todo = await keysToDo(t, restrictions);
  let jobs: Jobs | undefined;
  let keys: Row[];
  if (options.reserveJobs) {
    jobs = jobsOf(t);
    if (options.refresh ?? conn.config.jobs.autoRefresh) {
      // delay -1: the new jobs are due at once even where the clock ticks in coarse steps.
      await jobs.refresh(restrictions, {
        priority: options.priority,
        delay: -1,
        orphanTimeout: options.orphanTimeout,
      });
    }
    keys = await jobs.pendingKeys({
      priority: options.priority,
      limit: options.maxCalls,
      within: restrictions.length > 0 ? todo : undefined,
    });
  } else {
    keys = await todo.minus(t.query().proj()).keys(
      options.maxCalls === undefined ? {} : { limit: options.maxCalls },
    );
  }
  const run: Run = {
    t,
    conn,
    heading,
    instance,
    tripartite,
    jobs,
    kwargs: options.makeKwargs ?? {},
    suppressErrors: options.suppressErrors === true,
  };
  const result: PopulateResult = { successCount: 0, errorList: [] };
  const bar = options.displayProgress ? new ProgressBar(keys.length, { label: t.name }) : undefined;
  try {
    for (const key of keys) {
      const outcome = await populateOne(run, key);
      if (outcome === "done") result.successCount++;
      else if (outcome !== "skipped") result.errorList.push(outcome);
      bar?.tick();
    }
  } finally {
    bar?.finish();
  }
  return result;
}

interface Run {
  t: AutoTable;
  conn: Connection;
  heading: Heading;
  instance: Maker;
  tripartite: boolean;
  jobs?: Jobs;
  kwargs: Record<string, unknown>;
  suppressErrors: boolean;
}

/** `ErrorClass: message`, as DataJoint Python writes `error_message`. */
function errorMessage(e: unknown): string {
  if (!(e instanceof Error)) return `Error: ${String(e)}`;
  const cls = e.name !== "Error" ? e.name : e.constructor?.name || "Error";
  return e.message ? `${cls}: ${e.message}` : cls;
}

function asArgs(value: unknown, method: string, t: AutoTable): unknown[] {
  if (!Array.isArray(value)) {
    throw new DataJointError(
      `${t.name}.${method} must return an array (the values passed on as arguments), got ${typeof value}`,
    );
  }
  return value;
}

/** One key: reserve (jobs), transaction, `key in table` check, make, commit; the outcome. */
async function populateOne(run: Run, key: Row): Promise<"done" | "skipped" | PopulateError> {
  const { t, conn, instance, jobs } = run;
  if (jobs !== undefined && !(await jobs.reserve(key))) return "skipped";
  const started = new Date();
  const binding = bindingOf(t)!;
  const allowed = [[binding.schemaName, binding.tableName] as const];
  const present = () => t.restrict(key).exists();
  try {
    const skip = await allowInsertsDuring(allowed, async () => {
      if (!run.tripartite) {
        await conn.startTransaction();
        if (await present()) return true;
        await instance.make!.call(instance, { ...key }, run.kwargs);
        return false;
      }
      if (await present()) return true;
      // Fetch and compute outside any transaction; then fetch again inside it and compare.
      const fetched = asArgs(
        await instance.makeFetch!.call(instance, { ...key }, run.kwargs),
        "makeFetch",
        t,
      );
      const hash = deepHash(fetched);
      const computed = asArgs(
        await instance.makeCompute!.call(instance, { ...key }, ...fetched),
        "makeCompute",
        t,
      );
      await conn.startTransaction();
      if (await present()) return true;
      const again = asArgs(
        await instance.makeFetch!.call(instance, { ...key }, run.kwargs),
        "makeFetch",
        t,
      );
      if (deepHash(again) !== hash) {
        throw new DataJointError("Referential integrity failed! The `make_fetch` data has changed");
      }
      await instance.makeInsert!.call(instance, { ...key }, ...computed);
      return false;
    });
    if (skip) {
      if (conn.inTransaction) await conn.cancelTransaction();
      if (jobs !== undefined) await jobs.complete(key);
      return "skipped";
    }
  } catch (e) {
    if (conn.inTransaction) await conn.cancelTransaction().catch(() => {});
    const message = errorMessage(e);
    if (jobs !== undefined) {
      await jobs.error(key, message, e instanceof Error ? e.stack ?? null : null);
    }
    if (!run.suppressErrors) throw e;
    return { key, message, error: e };
  }
  await conn.commitTransaction();
  const duration = (Date.now() - started.getTime()) / 1000;
  if (run.heading.attributes.some((a) => a.name === "_job_start_time")) {
    await updateJobMetadata(run, key, started, duration);
  }
  if (jobs !== undefined) await jobs.complete(key, { duration });
  return "done";
}

/** The local time as `YYYY-MM-DD HH:MM:SS.mmm` (DataJoint Python records local time). */
function localTime(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** After a commit: `_job_start_time`, `_job_duration`, `_job_version` of the key's rows. */
async function updateJobMetadata(run: Run, key: Row, started: Date, duration: number) {
  const { conn, heading } = run;
  const d = conn.kit.dialect;
  const byName = new Map(heading.attributes.map((a) => [a.name, a]));
  const names = Object.keys(key).filter((n) => byName.get(n)?.inKey);
  const params: unknown[] = [localTime(started), duration, (await jobVersion(conn)).slice(0, 64)];
  const where = names.map((n) => {
    params.push(toSqlValue(byName.get(n)!, key[n], d));
    return `${d.quote(n)} = ${conn.placeholder(params.length)}`;
  });
  await conn.execute(
    `UPDATE ${d.quote(heading.schema)}.${d.quote(heading.table)} SET ${
      d.quote("_job_start_time")
    } = ${conn.placeholder(1)}, ${d.quote("_job_duration")} = ${conn.placeholder(2)}, ${
      d.quote("_job_version")
    } = ${conn.placeholder(3)} WHERE ${where.join(" AND ")}`,
    params,
  );
}
