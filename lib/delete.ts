/**
 * Deleting and dropping: `delete()` removes the rows of a restricted table together with every row
 * that depends on them, in any schema, leaves first, in one transaction; `deleteQuick()` runs one
 * `DELETE` without cascading; `drop()` drops a table and (with `cascade`) its dependants.
 *
 * How the cascade is computed. The tables that depend on the deleted one are found through the
 * catalog (foreign keys from any schema, followed recursively). Each descendant is restricted by a
 * semijoin with each of its parents' restricted queries, one per foreign key, mapped through the
 * key's column pairs (`-> Subject.proj(donor='subject_id')` restricts by
 * `Subject.proj({ donor: "subject_id" })`), OR-ed when a table is reached by several paths. Rows
 * are then deleted leaves first, so that every statement only removes rows nothing references any
 * more, and a table's restriction only names its ancestors, which are still intact when it runs.
 *
 * Two things would still change under a running cascade, so their keys are read first
 * ("frozen"): a root restriction that names a table the cascade deletes from (`Subject &
 * Session`: the sessions go first), and, with `partIntegrity: "cascade"`, the masters of the
 * affected part rows. Frozen keys are applied a chunk at a time, each chunk running the whole
 * cascade below it (restrictions distribute over unions, so the chunks add up to the whole).
 *
 * MySQL refuses a `DELETE` whose subquery names the table being deleted from (error 1093). Every
 * statement whose condition has a subquery therefore selects its keys through a derived table
 * that MySQL/MariaDB materialise rather than merge (`SELECT DISTINCT` or a `LIMIT`):
 * `DELETE FROM t WHERE (k) IN (SELECT k FROM (SELECT DISTINCT k FROM t WHERE …) AS _q1)`.
 *
 * Objects that store-backed codecs wrote for the deleted rows stay in their stores;
 * `collectGarbage` (gc.ts) finds and removes the ones no row references any more.
 *
 * @example
 * ```ts
 * import { deleteCascade } from "./delete.ts";
 * import type { Query } from "./query.ts";
 * declare const sessions: Query;
 * const n = await deleteCascade(sessions.restrict({ subject_id: 1 }), {
 *   prompt: (counts) => counts.every((c) => c.count < 1000),
 * });
 * ```
 *
 * @module
 */
import type { TableInfo } from "./adapters/catalog.ts";
import { hintFor } from "./adapters/_sql_errors.ts";
import type { Connection } from "./connection.ts";
import { DataJointError, IntegrityError, QueryError, withContext } from "./errors.ts";
import {
  finish,
  isSimple,
  type QueryAttribute,
  type Select,
  type SqlContext,
} from "./expression.ts";
import { masterOfTableName } from "./naming.ts";
import { Query, type Row } from "./query.ts";

/**
 * What happens to master/part pairs: `"enforce"` refuses to delete part rows whose master row
 * stays, `"ignore"` allows it, `"cascade"` deletes the masters of the affected part rows too
 * (with all their parts).
 */
export type PartIntegrity = "enforce" | "ignore" | "cascade";

/** One table of a delete or drop and its number of rows (deleted, or to be dropped). */
export interface TableCount {
  /** Schema name. */
  schema: string;
  /** Table name. */
  table: string;
  /** Rows deleted (delete) or held (drop). */
  count: number;
}

/**
 * A confirmation callback: gets the per-table counts (parents first) and answers whether to go
 * on. Declining a delete rolls it back; declining a drop drops nothing.
 */
export type ConfirmCallback = (counts: TableCount[]) => boolean | Promise<boolean>;

/** Options of `delete()`. */
export interface DeleteOptions {
  /**
   * Run the whole cascade in one transaction (default `true`). Inside a transaction that is
   * already open, the cascade joins it (a `prompt` then is an error: the decision to commit is
   * the outer code's). `false` runs each statement on its own: a failure midway leaves what was
   * deleted before it deleted.
   */
  transaction?: boolean;
  /**
   * Called after the rows are deleted and before the transaction commits, with the per-table
   * counts; returning `false` rolls the delete back (the result is then 0). Not called when
   * nothing matched. There is no interactive prompt in the library: pass your own.
   */
  prompt?: ConfirmCallback;
  /** Master/part rule (default `"enforce"`). */
  partIntegrity?: PartIntegrity;
}

/** Options of `drop()`. */
export interface DropTableOptions {
  /** Also drop every table that depends on this one (in any schema), leaves first. */
  cascade?: boolean;
  /**
   * `"enforce"` (default): a part table is dropped only together with its master (drop the
   * master); `"ignore"`: parts may be dropped on their own.
   */
  partIntegrity?: "enforce" | "ignore";
  /** Called with the tables to drop and their row counts; returning `false` drops nothing. */
  prompt?: ConfirmCallback;
}

// ── the dependency graph, read from the catalog ─────────────────────────────────────────────

interface Node {
  readonly schema: string;
  readonly table: string;
  /** Quoted `schema`.`table` of this backend. */
  readonly full: string;
  /** Foreign keys into this table (filled while the graph is explored). */
  readonly parents: Edge[];
  children?: Edge[];
  info?: TableInfo;
}

interface Edge {
  readonly parent: Node;
  readonly child: Node;
  /** Child columns, paired with `refColumns`. */
  readonly columns: readonly string[];
  /** Parent columns. */
  readonly refColumns: readonly string[];
}

/** Foreign keys between tables, loaded on demand (one catalog query per schema). */
class Dependencies {
  readonly #conn: Connection;
  readonly #nodes = new Map<string, Node>();
  readonly #referencing = new Map<
    string,
    Promise<{ schema: string; table: string; refTable: string }[]>
  >();

  constructor(conn: Connection) {
    this.#conn = conn;
  }

  node(schema: string, table: string): Node {
    const id = `${schema}\0${table}`;
    let n = this.#nodes.get(id);
    if (n === undefined) {
      const d = this.#conn.kit.dialect;
      n = { schema, table, full: `${d.quote(schema)}.${d.quote(table)}`, parents: [] };
      this.#nodes.set(id, n);
    }
    return n;
  }

  /** The catalog entry of a table; a cached catalog is reloaded once when it lacks the table. */
  async info(n: Node): Promise<TableInfo> {
    if (n.info) return n.info;
    let info = (await this.#conn.catalog(n.schema)).tables.get(n.table);
    if (info === undefined) {
      this.#conn.invalidate(n.schema);
      info = (await this.#conn.catalog(n.schema)).tables.get(n.table);
    }
    if (info === undefined) {
      throw new DataJointError(
        `Cannot read table ${n.full}: it does not exist, or this connection may not read it (grant access to its schema)`,
      );
    }
    return (n.info = info);
  }

  async exists(n: Node): Promise<boolean> {
    this.#conn.invalidate(n.schema);
    return (await this.#conn.catalog(n.schema)).tables.has(n.table);
  }

  async children(n: Node): Promise<Edge[]> {
    if (n.children) return n.children;
    let refs = this.#referencing.get(n.schema);
    if (refs === undefined) {
      refs = this.#conn.kit.catalog.referencingTables(this.#conn.driver, n.schema);
      this.#referencing.set(n.schema, refs);
    }
    const out: Edge[] = [];
    const seen = new Set<string>();
    for (const r of await refs) {
      if (r.refTable !== n.table || (r.schema === n.schema && r.table === n.table)) continue;
      const id = `${r.schema}\0${r.table}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const child = this.node(r.schema, r.table);
      for (const fk of (await this.info(child)).foreignKeys) {
        if (fk.refSchema !== n.schema || fk.refTable !== n.table) continue;
        const e: Edge = { parent: n, child, columns: fk.columns, refColumns: fk.refColumns };
        out.push(e);
        child.parents.push(e);
      }
    }
    return (n.children = out);
  }

  /**
   * The table and everything that depends on it, leaves first (every table after all tables that
   * reference it). `done` shares the visited set between calls, to order a union of such sets.
   */
  async descendants(origin: Node, done = new Set<Node>(), order: Node[] = []): Promise<Node[]> {
    const onPath = new Set<Node>();
    const visit = async (n: Node): Promise<void> => {
      if (done.has(n)) return;
      if (onPath.has(n)) {
        throw new DataJointError(
          `Foreign keys form a cycle through ${n.full}; DataJoint schemas cannot have one, so this cascade cannot be ordered`,
        );
      }
      onPath.add(n);
      for (const e of await this.children(n)) await visit(e.child);
      onPath.delete(n);
      done.add(n);
      order.push(n);
    };
    await visit(origin);
    return order;
  }

  /** The master of a part table: named by the part's name and referenced by it; else undefined. */
  async masterOf(n: Node): Promise<Node | undefined> {
    const name = masterOfTableName(n.table);
    if (name === undefined) return undefined;
    const refs = (await this.info(n)).foreignKeys.some((fk) =>
      fk.refSchema === n.schema && fk.refTable === name
    );
    return refs ? this.node(n.schema, name) : undefined;
  }
}

// ── SQL ─────────────────────────────────────────────────────────────────────────────────────

/** Keys whose SQL holds one chunk of frozen keys (kept far below every backend's limit). */
const FROZEN_CHUNK_PARAMS = 2000;

function requireBase(select: Select, what: string): { schema: string; table: string } {
  if (select.base === undefined) {
    throw new DataJointError(
      `${what} works on a restriction of one table; this query is a projection, join, aggregation or union. Restrict the table itself by it instead, e.g. Table.restrict(query).${what}()`,
    );
  }
  return select.base;
}

/**
 * Whether SQL text may name the table: quoted as the library writes it, or as a word (raw SQL may
 * name it unquoted). A false positive only costs a derived table or a read of the root's keys.
 */
function mentions(text: string, n: Node): boolean {
  if (text.includes(n.full)) return true;
  const word = n.table.replace(/[^A-Za-z0-9_]/g, (c) => `\\${c}`);
  return new RegExp(`(^|[^A-Za-z0-9_$])${word}($|[^A-Za-z0-9_$])`, "i").test(text);
}

/**
 * The `DELETE` of the rows of `select` (a restriction of `full`). A condition that names `full`
 * itself (and a `Top`) goes through a derived table MySQL materialises, which keeps error 1093
 * away (see the module).
 */
function deleteSql(ctx: SqlContext, n: Node, select: Select, primaryKey: string[]): string {
  const full = n.full;
  const where = select.where.map((w) => `(${w})`).join(" AND ");
  const simple = isSimple(select);
  // Only a condition that names the target itself can trip MySQL's error 1093.
  if (simple && !select.where.some((w) => mentions(w, n))) {
    return `DELETE FROM ${full}${where ? ` WHERE ${where}` : ""}`;
  }
  if (primaryKey.length === 0) {
    throw new DataJointError(
      `${full} has no primary key, so its rows cannot be selected by a subquery: restrict it by attribute values instead`,
    );
  }
  const cols = primaryKey.map((k) => ctx.q(k)).join(", ");
  const keyAttrs: QueryAttribute[] = primaryKey.map((k) => ({
    name: k,
    inKey: true,
    nullable: false,
    lineage: null,
    sql: ctx.q(k),
  }));
  // A DISTINCT (or the Top's LIMIT) keeps MySQL from merging the derived table into the DELETE.
  const inner = simple
    ? `SELECT DISTINCT ${cols} FROM ${full}${where ? ` WHERE ${where}` : ""}`
    : ctx.render(select, keyAttrs);
  return `DELETE FROM ${full} WHERE (${cols}) IN (SELECT ${cols} FROM (${inner}) AS ${
    ctx.q(ctx.alias())
  })`;
}

/** Runs the `DELETE` of `q`'s rows of `n`; foreign-key refusals get an explanation. */
async function runDelete(
  conn: Connection,
  n: Node,
  primaryKey: string[],
  q: Query,
  blocked: (e: QueryError) => string,
): Promise<number> {
  const { ctx, select } = await q.compileSelect();
  const { sql, params } = finish(
    ctx,
    deleteSql(ctx, n, select, primaryKey),
    (i) => conn.placeholder(i),
  );
  try {
    return (await conn.execute(sql, params)).affectedRows;
  } catch (e) {
    // PostgreSQL 16+ reports ON DELETE RESTRICT as its own SQLSTATE (23001, restrict_violation).
    if (e instanceof IntegrityError || (e instanceof QueryError && e.code === "23001")) {
      throw new IntegrityError(blocked(e), { cause: e, code: e.code });
    }
    throw withContext(e, `delete from ${n.full}`);
  }
}

/** The server's message without the driver's advice (which speaks of inserts). */
function serverMessage(e: Error): string {
  return e.message.replace(hintFor("foreignKey"), "").trim().replace(/\.$/, "");
}

/** The referencing table a foreign-key error names, when the server's message says. */
function referencingTableOf(e: Error): string | undefined {
  return /\((`[^`]+`\.`[^`]+`), CONSTRAINT/.exec(e.message)?.[1] ??
    /foreign key constraint "[^"]*" on table "([^"]+)"/.exec(e.message)?.[1];
}

/**
 * Deletes the rows of `q` (a restriction of one table) with one `DELETE`, without cascading;
 * fails when other rows still reference them. Returns the number of rows deleted.
 *
 * @example
 * ```ts
 * import { deleteQuick } from "./delete.ts";
 * import type { Query } from "./query.ts";
 * declare const trials: Query;
 * await deleteQuick(trials.restrict({ outcome: "aborted" }));
 * ```
 */
export async function deleteQuick(q: Query): Promise<number> {
  const { conn, select } = await q.compileSelect();
  const base = requireBase(select, "deleteQuick");
  const deps = new Dependencies(conn);
  const n = deps.node(base.schema, base.table);
  return runDelete(conn, n, (await deps.info(n)).primaryKey, q, (e) => {
    const child = referencingTableOf(e);
    return `deleteQuick on ${n.full}: rows are still referenced${child ? ` by ${child}` : ""} (${
      serverMessage(e)
    }). deleteQuick does not cascade: use delete() to delete the dependent rows too`;
  });
}

// ── the cascade ─────────────────────────────────────────────────────────────────────────────

/** Where a cascade starts: the user's query, or keys read beforehand. */
interface Origin {
  readonly node: Node;
  /** The restriction as given (only the root, while it needs no freezing). */
  live?: Query;
  /** Frozen keys (primary-key values). */
  readonly keys: Row[];
  readonly seen: Set<string>;
  /** Keys (or the live query, as 1) already searched for masters to cascade to. */
  searched: number;
}

/** One run of the cascade below one origin (or one chunk of its keys). */
interface Pass {
  readonly origin: Node;
  /** The origin and its descendants, leaves first. */
  readonly order: Node[];
  /** The restricted query of every table in `order`. */
  readonly queries: Map<Node, Query>;
}

function keyText(row: Row, key: readonly string[]): string {
  return JSON.stringify(key.map((k) => row[k]), (_, v) => (typeof v === "bigint" ? `${v}n` : v));
}

class Cascade {
  readonly #conn: Connection;
  readonly #deps: Dependencies;
  readonly #origins: Origin[] = [];
  readonly #order = new Map<Node, Node[]>();

  constructor(conn: Connection, deps: Dependencies) {
    this.#conn = conn;
    this.#deps = deps;
  }

  get origins(): readonly Origin[] {
    return this.#origins;
  }

  table(n: Node): Query {
    return Query.table(n.schema, n.table, () => Promise.resolve(this.#conn));
  }

  addOrigin(node: Node, live?: Query): Origin {
    let o = this.#origins.find((x) => x.node === node && x.live === undefined);
    if (o === undefined || live !== undefined) {
      o = { node, live, keys: [], seen: new Set(), searched: 0 };
      this.#origins.push(o);
    }
    return o;
  }

  async addKeys(o: Origin, rows: Row[]): Promise<number> {
    const key = (await this.#deps.info(o.node)).primaryKey;
    let added = 0;
    for (const r of rows) {
      const k = keyText(r, key);
      if (o.seen.has(k)) continue;
      o.seen.add(k);
      o.keys.push(r);
      added++;
    }
    return added;
  }

  async order(n: Node): Promise<Node[]> {
    let order = this.#order.get(n);
    if (order === undefined) {
      order = await this.#deps.descendants(n);
      this.#order.set(n, order);
    }
    return order;
  }

  /** Every table any origin reaches, parents first. */
  async allTables(): Promise<Node[]> {
    const done = new Set<Node>();
    const order: Node[] = [];
    for (const o of this.#origins) await this.#deps.descendants(o.node, done, order);
    return order.reverse();
  }

  /** The chunks of an origin's keys from `start` (the live query is one chunk). */
  async chunks(o: Origin, start = 0): Promise<Query[]> {
    if (o.live) return start === 0 ? [o.live] : [];
    const width = Math.max(1, (await this.#deps.info(o.node)).primaryKey.length);
    const size = Math.max(1, Math.floor(FROZEN_CHUNK_PARAMS / width));
    const out: Query[] = [];
    for (let i = start; i < o.keys.length; i += size) {
      out.push(this.table(o.node).restrict(o.keys.slice(i, i + size), { semanticCheck: false }));
    }
    return out;
  }

  /** The restricted queries of a pass: each table by its parents' queries, per foreign key. */
  async pass(origin: Node, originQuery: Query): Promise<Pass> {
    const order = await this.order(origin);
    const inPass = new Set(order);
    const queries = new Map<Node, Query>();
    for (const n of [...order].reverse()) {
      if (n === origin) {
        queries.set(n, originQuery);
        continue;
      }
      const sources = n.parents.filter((e) => inPass.has(e.parent)).map((e) =>
        queries.get(e.parent)!.proj(
          ...e.columns.map((c, i) => (c === e.refColumns[i] ? c : { [c]: e.refColumns[i] })),
        )
      );
      // Several paths (foreign keys) into one table: a row goes if any of them reaches it.
      queries.set(n, this.table(n).restrict(sources, { semanticCheck: false }));
    }
    return { origin, order, queries };
  }

  async *passes(): AsyncGenerator<Pass> {
    for (const o of this.#origins) {
      for (const q of await this.chunks(o)) yield await this.pass(o.node, q);
    }
  }

  /**
   * `partIntegrity: "cascade"`: the masters of the part rows the cascade reaches become origins
   * themselves (with their keys read now, before any part row goes), until no new master key
   * turns up.
   */
  async addMasters(): Promise<void> {
    for (let changed = true; changed;) {
      changed = false;
      for (let i = 0; i < this.#origins.length; i++) {
        const o = this.#origins[i];
        const chunks = await this.chunks(o, o.searched);
        o.searched = o.live ? 1 : o.keys.length;
        for (const chunk of chunks) {
          const pass = await this.pass(o.node, chunk);
          const inPass = new Set(pass.order);
          for (const p of pass.order) {
            const master = await this.#deps.masterOf(p);
            if (master === undefined) continue;
            // Part rows reached through their master only have their master in this pass.
            const parents = p.parents.filter((e) => inPass.has(e.parent));
            if (p !== o.node && parents.every((e) => e.parent === master)) continue;
            let masters = this.table(master).proj().restrict(pass.queries.get(p)!.proj(), {
              semanticCheck: false,
            });
            if (inPass.has(master)) {
              masters = masters.minus(pass.queries.get(master)!.proj(), { semanticCheck: false });
            }
            const rows = await masters.keys();
            if (rows.length === 0) continue;
            if (await this.addKeys(this.addOrigin(master), rows) > 0) changed = true;
          }
        }
      }
    }
  }
}

/** The advice when a delete would remove part rows on their own. */
function partMessage(part: Node, master: Node | undefined): string {
  return `Cannot delete from part table ${part.full} without deleting from its master${
    master ? ` ${master.full}` : ""
  }: delete from the master instead, or pass { partIntegrity: "ignore" } to delete the part rows alone (the master rows lose parts), or { partIntegrity: "cascade" } to delete their masters too`;
}

function checkOptions(o: DeleteOptions): Required<Omit<DeleteOptions, "prompt">> {
  if (typeof o !== "object" || o === null) {
    throw new DataJointError(
      "delete() takes an options object: { transaction, prompt, partIntegrity }",
    );
  }
  const known = new Set(["transaction", "prompt", "partIntegrity"]);
  for (const k of Object.keys(o)) {
    if (!known.has(k)) {
      throw new DataJointError(
        `delete(): unknown option ${
          JSON.stringify(k)
        } (options: transaction, prompt, partIntegrity)`,
      );
    }
  }
  const partIntegrity = o.partIntegrity ?? "enforce";
  if (!["enforce", "ignore", "cascade"].includes(partIntegrity)) {
    throw new DataJointError(
      `partIntegrity must be "enforce", "ignore" or "cascade", got ${
        JSON.stringify(partIntegrity)
      }`,
    );
  }
  const transaction = o.transaction ?? true;
  if (typeof transaction !== "boolean") {
    throw new DataJointError(`transaction must be true or false, got ${typeof transaction}`);
  }
  if (o.prompt !== undefined && typeof o.prompt !== "function") {
    throw new DataJointError("prompt must be a function (counts) => boolean | Promise<boolean>");
  }
  return { transaction, partIntegrity };
}

/**
 * Deletes the rows of `root` (a restriction of one table) and every row that depends on them, in
 * any schema, leaves first; see the module documentation. Returns the number of rows deleted from
 * the root table (0 when the prompt declined).
 *
 * @example
 * ```ts
 * import { deleteCascade } from "./delete.ts";
 * import type { Query } from "./query.ts";
 * declare const subjects: Query;
 * await deleteCascade(subjects.restrict({ subject_id: 7 }));
 * ```
 */
export async function deleteCascade(root: Query, options: DeleteOptions = {}): Promise<number> {
  const { transaction, partIntegrity } = checkOptions(options);
  const prompt = options.prompt;
  // Compiled once up front: it declares a class's table, which cannot happen in a transaction.
  const { conn, select } = await root.compileSelect();
  const base = requireBase(select, "delete");
  const deps = new Dependencies(conn);
  const rootNode = deps.node(base.schema, base.table);
  if (partIntegrity === "enforce") {
    const master = await deps.masterOf(rootNode);
    if (master) throw new DataJointError(partMessage(rootNode, master));
  }
  let own = false;
  if (transaction) {
    if (!conn.inTransaction) own = true;
    else if (prompt) {
      throw new DataJointError(
        "delete() with a prompt cannot run inside an open transaction (committing is the outer code's decision): drop the prompt, or delete outside the transaction",
      );
    }
  } else if (prompt) {
    throw new DataJointError(
      "delete() with a prompt needs its own transaction to roll back when declined: do not pass { transaction: false }",
    );
  }
  if (own) await conn.startTransaction();
  try {
    const { counts, rootCount } = await runCascade(conn, deps, rootNode, root, partIntegrity, own);
    if (!own) return rootCount;
    const total = counts.reduce((s, c) => s + c.count, 0);
    if (total > 0 && prompt && !(await prompt(counts))) {
      await conn.cancelTransaction();
      return 0;
    }
    await conn.commitTransaction();
    return rootCount;
  } catch (e) {
    if (own && conn.inTransaction) await conn.cancelTransaction().catch(() => {});
    throw e;
  }
}

async function runCascade(
  conn: Connection,
  deps: Dependencies,
  rootNode: Node,
  root: Query,
  partIntegrity: PartIntegrity,
  canRollBack: boolean,
): Promise<{ counts: TableCount[]; rootCount: number }> {
  const cascade = new Cascade(conn, deps);
  const rootOrigin = cascade.addOrigin(rootNode, root);
  if (partIntegrity === "cascade") await cascade.addMasters();
  const tables = await cascade.allTables();

  // A root restriction naming a table deleted before the root would change under the cascade.
  const { select } = await root.compileSelect();
  const where = select.where.join(" ");
  if (tables.some((n) => n !== rootNode && mentions(where, n))) {
    const rows = await root.keys();
    rootOrigin.live = undefined;
    await cascade.addKeys(rootOrigin, rows);
  }

  const masters = new Map<Node, Node | undefined>();
  for (const n of tables) masters.set(n, await deps.masterOf(n));
  if (partIntegrity === "enforce" && !canRollBack) {
    // No rollback possible: check before deleting anything.
    const hit = new Set<Node>();
    for await (const pass of cascade.passes()) {
      for (const n of pass.order) {
        if (!hit.has(n) && await pass.queries.get(n)!.exists()) hit.add(n);
      }
    }
    for (const n of tables) {
      const m = masters.get(n);
      if (m && hit.has(n) && !hit.has(m)) throw new DataJointError(partMessage(n, m));
    }
  }

  const deleted = new Map<Node, number>();
  for await (const pass of cascade.passes()) {
    for (const n of pass.order) {
      const key = (await deps.info(n)).primaryKey;
      const count = await runDelete(conn, n, key, pass.queries.get(n)!, (e) => {
        const child = referencingTableOf(e);
        return `Delete from ${n.full} blocked by a foreign key from ${
          child ?? "a table"
        } that the cascade could not see (${
          serverMessage(e)
        }). Its schema may not be readable by this connection (grant access to it), or it was created during the delete; ${
          canRollBack ? "nothing was deleted" : "rows deleted before this statement stay deleted"
        }`;
      });
      deleted.set(n, (deleted.get(n) ?? 0) + count);
    }
  }
  if (partIntegrity === "enforce") {
    for (const n of tables) {
      const m = masters.get(n);
      if (m && (deleted.get(n) ?? 0) > 0 && (deleted.get(m) ?? 0) === 0) {
        throw new DataJointError(`${partMessage(n, m)} (nothing was deleted)`);
      }
    }
  }
  return {
    counts: tables.map((n) => ({ schema: n.schema, table: n.table, count: deleted.get(n) ?? 0 })),
    rootCount: deleted.get(rootNode) ?? 0,
  };
}

// ── drop ────────────────────────────────────────────────────────────────────────────────────

/**
 * Checks a drop and asks the prompt, then hands the tables (leaves first) to `execute`: refuses
 * when other tables depend on the table unless `cascade`, and a part table without its master
 * unless `partIntegrity: "ignore"`. Returns whether the tables were dropped. A table that does not
 * exist is nothing to drop.
 *
 * @example
 * ```ts
 * import { dropTable } from "./delete.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * await dropTable(conn, "lab", "session", { cascade: true }, async (tables) => {
 *   console.log(tables.map((t) => t.table));
 * });
 * ```
 */
export async function dropTable(
  conn: Connection,
  schema: string,
  table: string,
  options: DropTableOptions,
  execute: (tables: { schema: string; table: string }[]) => Promise<void>,
): Promise<boolean> {
  if (typeof options !== "object" || options === null) {
    throw new DataJointError("drop() takes an options object: { cascade, partIntegrity, prompt }");
  }
  for (const k of Object.keys(options)) {
    if (!["cascade", "partIntegrity", "prompt"].includes(k)) {
      throw new DataJointError(
        `drop(): unknown option ${JSON.stringify(k)} (options: cascade, partIntegrity, prompt)`,
      );
    }
  }
  const partIntegrity = options.partIntegrity ?? "enforce";
  if (partIntegrity !== "enforce" && partIntegrity !== "ignore") {
    throw new DataJointError(
      `drop(): partIntegrity must be "enforce" or "ignore", got ${JSON.stringify(partIntegrity)}`,
    );
  }
  if (options.prompt !== undefined && typeof options.prompt !== "function") {
    throw new DataJointError("prompt must be a function (counts) => boolean | Promise<boolean>");
  }
  const deps = new Dependencies(conn);
  const root = deps.node(schema, table);
  if (!(await deps.exists(root))) {
    // Nothing to drop; the executor still runs, so a class forgets it was declared.
    await execute([]);
    return false;
  }
  const order = await deps.descendants(root);
  const dependants = order.filter((n) => n !== root);
  if (dependants.length > 0 && !options.cascade) {
    throw new DataJointError(
      `Cannot drop ${root.full}: ${
        dependants.map((n) => n.full).join(", ")
      } depend on it. Drop them first, or pass { cascade: true } to drop them too`,
    );
  }
  if (partIntegrity === "enforce") {
    const dropped = new Set(order);
    for (const n of order) {
      const master = await deps.masterOf(n);
      if (master && !dropped.has(master)) {
        throw new DataJointError(
          `Cannot drop part table ${n.full} without its master ${master.full}: drop the master (its parts go with it), or pass { partIntegrity: "ignore" }`,
        );
      }
    }
  }
  if (options.prompt) {
    const counts: TableCount[] = [];
    for (const n of [...order].reverse()) {
      const [row] = await conn.query<{ n: number | bigint | string }>(
        `SELECT count(*) AS n FROM ${n.full}`,
      );
      counts.push({ schema: n.schema, table: n.table, count: Number(row.n) });
    }
    if (!(await options.prompt(counts))) return false;
  }
  await execute(order.map((n) => ({ schema: n.schema, table: n.table })));
  return true;
}

/**
 * The given tables and every table that depends on any of them (in any schema), leaves first:
 * the order in which they can be dropped.
 *
 * @example
 * ```ts
 * import { dropOrder } from "./delete.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * console.log(await dropOrder(conn, [{ schema: "lab", table: "subject" }]));
 * ```
 */
export async function dropOrder(
  conn: Connection,
  roots: { schema: string; table: string }[],
): Promise<{ schema: string; table: string }[]> {
  const deps = new Dependencies(conn);
  const done = new Set<Node>();
  const order: Node[] = [];
  for (const r of roots) await deps.descendants(deps.node(r.schema, r.table), done, order);
  return order.map((n) => ({ schema: n.schema, table: n.table }));
}

/**
 * Drops one table the way the schema layer does: its `~lineage` rows, the table, then the
 * PostgreSQL enum types it used when nothing else uses them (never `CASCADE`, reference bug #12).
 *
 * @example
 * ```ts
 * import { dropTableQuick } from "./delete.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * await dropTableQuick(conn, "lab", "scratch");
 * ```
 */
export async function dropTableQuick(
  conn: Connection,
  schema: string,
  table: string,
): Promise<void> {
  const d = conn.kit.dialect;
  conn.invalidate(schema);
  const catalog = await conn.catalog(schema);
  const info = catalog.tables.get(table);
  if (info === undefined) return;
  if (catalog.lineage !== null) {
    await conn.execute(
      `DELETE FROM ${d.quote(schema)}.${d.quote("~lineage")} WHERE table_name = ${
        conn.placeholder(1)
      }`,
      [table],
    );
  }
  await conn.execute(`DROP TABLE ${d.quote(schema)}.${d.quote(table)}`);
  conn.invalidate(schema);
  const enums = new Map(
    info.columns.filter((c) => c.enumType).map((c) => [
      `${c.enumType!.schema}.${c.enumType!.name}`,
      c.enumType!,
    ]),
  );
  for (const e of enums.values()) {
    // Shared per schema: still in use by another table means it stays (that error is expected).
    await conn.execute(`DROP TYPE ${d.quote(e.schema)}.${d.quote(e.name)}`).catch(() => {});
  }
}

/**
 * Drops the table of `q`, which must be a whole table (not restricted), with the rules of
 * {@link dropTable}. For table classes prefer `Table.drop()`, which also lets the class declare
 * its table again afterwards.
 *
 * @example
 * ```ts
 * import { dropQuery } from "./delete.ts";
 * import type { Query } from "./query.ts";
 * declare const scratch: Query;
 * await dropQuery(scratch, { cascade: true });
 * ```
 */
export async function dropQuery(q: Query, options: DropTableOptions = {}): Promise<void> {
  const { conn, select } = await q.compileSelect();
  if (select.base === undefined || select.where.length > 0 || !isSimple(select)) {
    throw new DataJointError(
      "drop() drops whole tables, but this query is restricted (or not a table): drop the table itself, or delete() the rows",
    );
  }
  await dropTable(conn, select.base.schema, select.base.table, options, async (tables) => {
    for (const t of tables) await dropTableQuick(conn, t.schema, t.table);
  });
}
