/**
 * The embedded {@link Driver}: PostgreSQL compiled to WebAssembly, on `npm:@electric-sql/pglite`.
 * This is the only module that imports PGlite. It speaks the PostgreSQL dialect and normalises
 * values exactly like the PostgreSQL driver.
 *
 * Every statement goes through PGlite's `query()` (one statement, `$n` parameters, the extended
 * protocol), also when there are no parameters: `exec()` would accept several statements but its
 * per-statement row counts are not reliable, and the other drivers run one statement per call too.
 * PGlite is one in-process session, so `BEGIN`/`COMMIT` as statements work as on a server.
 *
 * Values: `int8` → `bigint` (PGlite itself gives numbers when they fit), `numeric`, `date`, `timestamp`, `time` → text (PGlite
 * would make `Date`s of dates), `bytea` → `Uint8Array`, `json`/`jsonb` → parsed.
 *
 * @example
 * ```ts
 * import { openPglite } from "./pglite_driver.ts";
 *
 * const db = await openPglite({ path: "memory://" });
 * try {
 *   await db.execute("CREATE TABLE t (id int PRIMARY KEY, born date)");
 *   await db.execute("INSERT INTO t VALUES ($1, $2)", [1, "2024-02-29"]);
 *   console.log(await db.query("SELECT * FROM t")); // [{ id: 1, born: "2024-02-29" }]
 * } finally {
 *   await db.close();
 * }
 * ```
 *
 * @module
 */

import { type FolderLock, lockFolder } from "./folder_lock.ts";
import { PGlite } from "@electric-sql/pglite";
import type { Driver, ExecResult, Row } from "./driver.ts";
import { LostConnectionError } from "../errors.ts";
import { keepText, OID, TEXT_OIDS, translatePgError } from "./_pg_common.ts";
import { checkParams } from "./_sql_errors.ts";
import { housekeeping } from "./pglite_timers.ts";

export type { Backend, Driver, ExecResult, Row } from "./driver.ts";

/** Settings for {@link openPglite}. */
export interface PgliteOptions {
  /** A data directory (created when missing), or `"memory://"` for an in-memory database. */
  path: string;
  /**
   * How long to wait for another process that has the directory open (default 10 seconds):
   * one process at a time may open it (see folder_lock.ts).
   */
  lockWaitSeconds?: number;
}

/** A Uint8Array whose buffer is not exactly its own (a Buffer, a subarray) → a plain copy-free view. */
function plainBytes(v: unknown): unknown {
  if (v instanceof Uint8Array && v.constructor !== Uint8Array) {
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  return v;
}

class PgliteDriver implements Driver {
  readonly backend = "pglite" as const;
  #db: PGlite;
  #closing: Promise<void> | undefined;
  #lock: FolderLock | undefined;

  constructor(db: PGlite, lock: FolderLock | undefined) {
    this.#db = db;
    this.#lock = lock;
  }

  placeholder(n: number): string {
    return `$${n}`;
  }

  async #run(sql: string, params: readonly unknown[] = []) {
    if (this.#closing) {
      throw new LostConnectionError(
        "The PGlite database is closed. Open it again.",
        { code: "CLOSED" },
      );
    }
    checkParams(params, (n) => `$${n}`);
    try {
      return await housekeeping(() =>
        this.#db.query<Row>(sql, params.map(plainBytes) as unknown[])
      );
    } catch (e) {
      if (this.#db.closed) {
        throw new LostConnectionError("The PGlite database is closed. Open it again.", {
          code: "CLOSED",
          cause: e,
        });
      }
      throw translatePgError(e, sql);
    }
  }

  async query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return (await this.#run(sql, params)).rows as T[];
  }

  async execute(sql: string, params?: readonly unknown[]): Promise<ExecResult> {
    const result = await this.#run(sql, params);
    return { affectedRows: result.affectedRows ?? 0 };
  }

  close(): Promise<void> {
    this.#closing ??= (this.#db.closed ? Promise.resolve() : this.#db.close()).finally(() =>
      this.#lock?.release()
    );
    return this.#closing;
  }
}

/**
 * Opens (and creates, when missing) an embedded PGlite database. The first open in a process
 * compiles the WebAssembly module and takes a few seconds; a directory database then persists
 * across runs. Needs `--allow-read` (the package's files) and `--allow-write` for a directory.
 *
 * @example
 * ```ts
 * import { openPglite } from "./pglite_driver.ts";
 *
 * const db = await openPglite({ path: "memory://" });
 * const [{ v }] = await db.query<{ v: string }>("SELECT version() AS v");
 * console.log(v.startsWith("PostgreSQL")); // true
 * await db.close();
 * ```
 */
export async function openPglite(options: PgliteOptions): Promise<Driver> {
  const memory = options.path === "" || options.path.startsWith("memory://");
  if (!memory) {
    try {
      await Deno.mkdir(options.path, { recursive: true });
    } catch (e) {
      throw new LostConnectionError(
        `Cannot create the PGlite data directory ${options.path}: ${(e as Error).message}. ` +
          "Check the path and its permissions (and --allow-write), or use memory://.",
        { code: "PGLITE_DIR", cause: e },
      );
    }
  }
  // Before PGlite touches the folder: another process may be writing it.
  const lock = memory
    ? undefined
    : await lockFolder(options.path, { waitSeconds: options.lockWaitSeconds });
  const parsers: Record<number, (x: string) => unknown> = {};
  for (const oid of TEXT_OIDS) parsers[oid] = keepText;
  // PGlite gives a number for int8 values that fit; the contract says bigint, always.
  parsers[OID.INT8] = (x: string) => BigInt(x);
  let db: PGlite;
  try {
    db = await housekeeping(() =>
      PGlite.create(
        {
          dataDir: memory ? undefined : options.path,
          parsers,
          // Notices such as "relation already exists, skipping" are expected and not news.
          onNotice: () => {},
        } as ConstructorParameters<typeof PGlite>[0] & object,
      )
    );
  } catch (e) {
    lock?.release();
    throw new LostConnectionError(
      `Cannot open the PGlite database at ${options.path}: ${(e as Error).message}. ` +
        "No other process has it open, so its files may be damaged (by two processes writing " +
        "it at once before this version locked it, or a full disk): restore them from a copy, " +
        "or move the folder away to start afresh.",
      { code: "PGLITE_OPEN", cause: e },
    );
  }
  try {
    await housekeeping(() => db.query("SET DateStyle = 'ISO'"));
  } catch (e) {
    await db.close();
    lock?.release();
    throw translatePgError(e, "SET DateStyle = 'ISO'");
  }
  return new PgliteDriver(db, lock);
}
