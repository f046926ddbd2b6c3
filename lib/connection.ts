/**
 * A connection to one database server (or the embedded PGlite): the driver, the backend's dialect
 * and catalog, transactions as DataJoint Python runs them (one connection, explicit
 * `START TRANSACTION`/`BEGIN`), and a cache of loaded schema catalogs from which headings are
 * derived.
 *
 * @example
 * ```ts
 * import { Connection } from "./connection.ts";
 *
 * const conn = await Connection.open({ overrides: { database: { backend: "pglite", path: "memory://" } } });
 * console.log(conn.backend, await conn.listSchemas());
 * await conn.close();
 * ```
 *
 * @module
 */
import { type BackendKit, backendKit } from "./adapters/backend.ts";
import type { SchemaCatalog, TableInfo } from "./adapters/catalog.ts";
import type { Backend, Driver, ExecResult, Row } from "./adapters/driver.ts";
import { openDriver } from "./adapters/open.ts";
import { type Config, loadConfig, type LoadConfigOptions } from "./config.ts";
import { DataJointError } from "./errors.ts";
import { deriveHeading, type Heading, TYPE_MARKER } from "./heading.ts";
import { ensureCodecs } from "../codecs/plugins.ts";
import { getCodec } from "../codecs/registry.ts";
import { Stores } from "../stores/open.ts";
import "../codecs/builtins.ts";

/**
 * One open connection with its backend kit and catalog cache.
 *
 * @example
 * ```ts
 * import { Connection } from "./connection.ts";
 * const conn = await Connection.open();   // datajoint.json / DJ_* / embedded default
 * await conn.transaction(async () => {
 *   await conn.execute("SELECT 1");
 * });
 * await conn.close();
 * ```
 */
export class Connection {
  /** The configuration this connection was opened with. */
  readonly config: Config;
  /** The driver (one physical connection). */
  readonly driver: Driver;
  /** Dialect, catalog and conventions of the backend. */
  readonly kit: BackendKit;
  #inTransaction = false;
  #catalogs = new Map<string, SchemaCatalog>();
  // A heading reads the catalogs of its parents' schemas too, so any invalidation drops them all.
  #headings = new Map<string, Heading>();
  #closed = false;
  #stores?: Stores;

  private constructor(config: Config, driver: Driver) {
    this.config = config;
    this.driver = driver;
    this.kit = backendKit(driver.backend);
  }

  /**
   * Opens a connection from a configuration, or from `loadConfig(options)`.
   *
   * @example
   * ```ts
   * import { Connection } from "./connection.ts";
   * const conn = await Connection.open({ overrides: { database: { backend: "pglite", path: "memory://" } } });
   * await conn.close();
   * ```
   */
  static async open(config?: Config | LoadConfigOptions): Promise<Connection> {
    const cfg = config !== undefined && "database" in config && "projectRoot" in config
      ? config as Config
      : loadConfig(config as LoadConfigOptions | undefined);
    try {
      return new Connection(cfg, await openDriver(cfg.database));
    } catch (e) {
      throw withBackendHint(e, cfg);
    }
  }

  /** The backend. */
  get backend(): Backend {
    return this.driver.backend;
  }

  /**
   * The object stores of this connection's configuration (`stores` in datajoint.json /
   * `DJ_STORES`), opened on first use.
   */
  get stores(): Stores {
    // The embedded default's store folder is made when the store is first opened, not here:
    // reading a table without store-backed values (dj fetch, say) leaves no empty folder behind.
    return (this.#stores ??= new Stores(this.config.stores, {
      projectRoot: this.config.projectRoot,
      createFolders: this.config.sources.stores?.kind === "derived" ? ["local"] : [],
    }));
  }

  /**
   * Replaces the store configuration at run time (reference: assigning `dj.config.stores`), e.g.
   * `{ default: "main", main: { protocol: "file", location: "/data/store" } }`. Backends opened
   * for the previous configuration are closed.
   *
   * @example
   * ```ts
   * import { Connection } from "./connection.ts";
   * declare const conn: Connection;
   * await conn.configureStores({ default: "main", main: { protocol: "file", location: "/tmp/store" } });
   * ```
   */
  async configureStores(stores: Record<string, unknown>): Promise<void> {
    const previous = this.#stores;
    this.#stores = new Stores(stores, { projectRoot: this.config.projectRoot });
    (this.config as { stores: Record<string, unknown> }).stores = stores;
    this.config.sources.stores = { kind: "override" };
    await previous?.close();
  }

  /** Whether a transaction is open. */
  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** Runs a statement that returns rows. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.driver.query<T>(sql, params);
  }

  /** Runs a statement for its effect. */
  execute(sql: string, params?: readonly unknown[]): Promise<ExecResult> {
    return this.driver.execute(sql, params);
  }

  /** Placeholder `n` (1-based) of this backend. */
  placeholder(n: number): string {
    return this.driver.placeholder(n);
  }

  /** Opens a transaction; nested transactions are refused, as in DataJoint Python. */
  async startTransaction(): Promise<void> {
    if (this.#inTransaction) throw new DataJointError("Nested connections are not supported.");
    await this.driver.execute(this.kit.dialect.beginTransaction);
    this.#inTransaction = true;
  }

  /** Commits the open transaction. */
  async commitTransaction(): Promise<void> {
    this.#inTransaction = false;
    await this.driver.execute("COMMIT");
  }

  /** Rolls the open transaction back. */
  async cancelTransaction(): Promise<void> {
    this.#inTransaction = false;
    await this.driver.execute("ROLLBACK");
  }

  /**
   * Runs `fn` inside a transaction: committed when it returns, rolled back when it throws.
   *
   * @example
   * ```ts
   * import { Connection } from "./connection.ts";
   * declare const conn: Connection;
   * await conn.transaction(() => conn.execute("DELETE FROM t"));
   * ```
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.startTransaction();
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      await this.cancelTransaction().catch(() => {});
      throw e;
    }
    await this.commitTransaction();
    return result;
  }

  /** All schemas on the server (system schemas excluded). */
  listSchemas(): Promise<string[]> {
    return this.kit.catalog.listSchemas(this.driver);
  }

  /** Whether a schema exists. */
  schemaExists(schema: string): Promise<boolean> {
    return this.kit.catalog.schemaExists(this.driver, schema);
  }

  /**
   * The catalog of a schema, loaded once and cached until {@link Connection.invalidate}.
   *
   * @example
   * ```ts
   * import { Connection } from "./connection.ts";
   * declare const conn: Connection;
   * const cat = await conn.catalog("lab");
   * console.log([...cat.tables.keys()]);
   * ```
   */
  async catalog(schema: string): Promise<SchemaCatalog> {
    let c = this.#catalogs.get(schema);
    if (c === undefined) {
      c = await this.kit.catalog.loadSchema(this.driver, schema);
      this.#catalogs.set(schema, c);
    }
    return c;
  }

  /** Forgets the cached catalog of a schema (after DDL), or of all schemas. */
  invalidate(schema?: string): void {
    this.#headings.clear();
    if (schema === undefined) this.#catalogs.clear();
    else this.#catalogs.delete(schema);
  }

  /**
   * The heading of a table, loading the catalogs of every schema its foreign keys reach (a
   * constant number of queries per schema).
   *
   * @example
   * ```ts
   * import { Connection } from "./connection.ts";
   * declare const conn: Connection;
   * const h = await conn.heading("lab", "subject");
   * console.log(h.primaryKey);
   * ```
   */
  async heading(schema: string, table: string): Promise<Heading> {
    const cacheKey = `${schema}\0${table}`;
    const cached = this.#headings.get(cacheKey);
    if (cached !== undefined && this.#catalogs.has(schema)) return cached;
    const info = await this.#tableInfo(schema, table);
    // Load parent schemas first so inherited attributes find their types.
    const pending = [info];
    const seen = new Set<string>();
    while (pending.length > 0) {
      const t = pending.pop()!;
      for (const fk of t.foreignKeys) {
        const k = `${fk.refSchema}\0${fk.refTable}`;
        if (seen.has(k)) continue;
        seen.add(k);
        const parent = (await this.catalog(fk.refSchema)).tables.get(fk.refTable);
        if (parent) pending.push(parent);
      }
    }
    // Codecs named in column comments may be plugins not imported yet: load them first.
    const markers: string[] = [];
    for (const col of info.columns) {
      const type = TYPE_MARKER.exec(this.kit.readComment(col.comment ?? ""))?.[1];
      if (type?.startsWith("<")) markers.push(type);
    }
    if (markers.length > 0) await ensureCodecs(markers, { projectRoot: this.config.projectRoot });
    const heading = deriveHeading(schema, info, {
      table: (s, t) => this.#catalogs.get(s)?.tables.get(t),
      lineage: (s, t) => {
        const l = this.#catalogs.get(s)?.lineage;
        return l === null || l === undefined ? null : l.get(t) ?? new Map();
      },
      codec: getCodec,
      readComment: this.kit.readComment,
    });
    this.#headings.set(cacheKey, heading);
    return heading;
  }

  async #tableInfo(schema: string, table: string): Promise<TableInfo> {
    const info = (await this.catalog(schema)).tables.get(table);
    if (info === undefined) {
      throw new DataJointError(
        `Table ${this.kit.dialect.quote(schema)}.${
          this.kit.dialect.quote(table)
        } does not exist: declare it first`,
      );
    }
    return info;
  }

  /** Closes the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#stores?.close();
    } finally {
      await this.driver.close();
    }
  }
}

/**
 * A failed connection to MySQL that no setting asked for (a host without a backend means MySQL,
 * as in DataJoint Python) gets a hint, since the server there may well be PostgreSQL.
 */
function withBackendHint(e: unknown, cfg: Config): unknown {
  if (
    !(e instanceof DataJointError) || cfg.database.backend !== "mysql" ||
    cfg.sources["database.backend"]?.kind !== "derived"
  ) return e;
  const Cls = e.constructor as new (message: string, options: object) => DataJointError;
  return new Cls(
    `${e.message} (No backend is set, and a host alone means MySQL, as in DataJoint Python: ` +
      "for PostgreSQL set DJ_BACKEND=postgresql, or database.backend in datajoint.json.)",
    {
      cause: e,
      ...((e as { code?: unknown }).code === undefined
        ? {}
        : { code: (e as { code?: unknown }).code }),
    },
  );
}
