/**
 * Inserting rows: check them against the heading, encode every attribute through its codec chain
 * (store objects are written here, several rows at a time), then insert the rows in one
 * transaction, in batches. A batch goes in whole or not at all; when the insert fails, the
 * schema-addressed objects written for it are removed again, and deduplicated (hash-addressed)
 * objects, which a concurrent writer's row may share, are left where garbage collection finds
 * them.
 *
 * @example
 * ```ts
 * import { insertRows } from "./insert.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const heading = await conn.heading("lab", "subject");
 * await insertRows(conn, heading, [{ subject_id: 1, name: "M1" }], { skipDuplicates: true });
 * ```
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { WrittenObject } from "../codecs/registry.ts";
import { mapPool } from "../stores/pool.ts";
import { encodeAttribute, located } from "./attribute_codec.ts";
import type { Connection } from "./connection.ts";
import {
  DataJointError,
  DuplicateError,
  MissingAttributeError,
  QueryError,
  UnknownAttributeError,
  withContext,
} from "./errors.ts";
import type { Attribute, Heading } from "./heading.ts";
import { tierOfTableName } from "./naming.ts";
import { countRows, keyParamSql, keysPresentSql, upsertCounting } from "./upsert_count.ts";
import { toSqlValue } from "./values.ts";

/** Options of `insert` / `insert1`. */
export interface InsertOptions {
  /** Rows whose primary key exists already are skipped instead of failing. */
  skipDuplicates?: boolean;
  /** Fields the table does not have are dropped instead of failing. */
  ignoreExtraFields?: boolean;
  /** Rows whose primary key exists replace the stored row. */
  replace?: boolean;
  /** Allow inserting into an auto-populated (`Imported`/`Computed`) table outside `populate`. */
  allowDirectInsert?: boolean;
  /** Rows encoded at once (store transfers run in parallel; default 8). */
  concurrency?: number;
}

const MAX_PARAMS = 30000;
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

function describeKey(heading: Heading, row: Record<string, unknown>): Record<string, unknown> {
  const key: Record<string, unknown> = {};
  for (const k of heading.primaryKey) if (k in row) key[k] = row[k];
  return key;
}

/** Rows with the same fields: their parameters, flat, and each row's size in bytes. */
interface RowGroup {
  columns: string[];
  params: unknown[];
  sizes: number[];
  /** With `replace`: where the primary-key attributes are in `columns` (null: not all are). */
  keyAt?: number[] | null;
  /** Rows given again later, in another group, with `replace`: their size is -1. */
  dropped: number;
}

/**
 * A text that is equal for two rows exactly when their primary-key values, as converted for the
 * driver, are: `undefined` when a key attribute is missing (auto-increment) or its value has no
 * plain form, in which case the row is not compared.
 */
function keyText(values: readonly unknown[]): string | undefined {
  const parts: string[] = [];
  for (const v of values) {
    if (typeof v === "string") parts.push(`s${v}`);
    else if (typeof v === "number" || typeof v === "bigint") parts.push(`n${v}`);
    else if (v instanceof Date) parts.push(`t${v.getTime()}`);
    else if (v instanceof Uint8Array) parts.push(`b${Array.from(v).join(",")}`);
    else return undefined;
  }
  // JSON keeps the parts apart whatever characters the strings hold.
  return JSON.stringify(parts);
}

/**
 * With `replace`, a key given again replaces its earlier row: in place when both give the same
 * attributes, otherwise the earlier row is dropped from its group. Returns the place in `g` of
 * an earlier row to overwrite with the row just added (its values from `start`), if any.
 */
function replaceEarlier(
  g: RowGroup,
  heading: Heading,
  start: number,
  seen: Map<string, { g: RowGroup; at: number }>,
): number | undefined {
  const keyAt = keyPositions(g, heading);
  if (keyAt === null) return undefined;
  const text = keyText(keyAt.map((i) => g.params[start + i]));
  if (text === undefined) return undefined;
  const earlier = seen.get(text);
  if (earlier?.g === g) return earlier.at;
  if (earlier !== undefined) {
    earlier.g.sizes[earlier.at] = -1;
    earlier.g.dropped++;
  }
  seen.set(text, { g, at: g.sizes.length });
  return undefined;
}

/** Where the primary-key attributes are in a group's columns (null: not all are there). */
function keyPositions(g: RowGroup, heading: Heading): number[] | null {
  if (g.keyAt === undefined) {
    const at = heading.primaryKey.map((k) => g.columns.indexOf(k));
    g.keyAt = at.includes(-1) ? null : at;
  }
  return g.keyAt;
}

/**
 * A primary key that two rows of the insert give (as JSON text), if any: asked only when the
 * server refused a duplicate, to tell a key given twice from one already stored.
 */
function repeatedKey(groups: Iterable<RowGroup>, heading: Heading): string | undefined {
  const seen = new Set<string>();
  for (const g of groups) {
    const at = keyPositions(g, heading);
    if (at === null) continue;
    const width = g.columns.length;
    for (let r = 0; r < g.sizes.length; r++) {
      if (g.sizes[r] < 0) continue;
      const values = at.map((i) => g.params[r * width + i]);
      const text = keyText(values);
      if (text === undefined) continue;
      if (seen.has(text)) {
        const key = Object.fromEntries(heading.primaryKey.map((k, i) => [k, values[i]]));
        return JSON.stringify(key, (_, x) => typeof x === "bigint" ? `${x}` : x);
      }
      seen.add(text);
    }
  }
  return undefined;
}

/** The parameters of the rows `start` to `end` of `g` that were not dropped. */
function liveParams(g: RowGroup, start: number, end: number): unknown[] {
  const width = g.columns.length;
  const out: unknown[] = [];
  for (let r = start; r < end; r++) {
    if (g.sizes[r] < 0) continue;
    for (let i = r * width; i < (r + 1) * width; i++) out.push(g.params[i]);
  }
  return out;
}

/** The driver values of the primary key of `row` (`undefined` when one is not given). */
function keyValues(
  heading: Heading,
  byName: Map<string, Attribute>,
  row: Record<string, unknown>,
  dialect: Connection["kit"]["dialect"],
): unknown[] | undefined {
  const out: unknown[] = [];
  for (const k of heading.primaryKey) {
    if (!(k in row)) return undefined;
    try {
      out.push(toSqlValue(byName.get(k)!, row[k], dialect));
    } catch {
      // The insert reports it, with the row's place.
      return undefined;
    }
  }
  return out;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function byteSize(v: unknown): number {
  return v instanceof Uint8Array ? v.length : typeof v === "string" ? v.length : 8;
}

/**
 * Whether a row's value is sent. `undefined` leaves the attribute out; so does `null` for an
 * attribute that cannot be NULL: like DataJoint's `None` (which inserts `DEFAULT`), it asks for
 * the declared default, and a required attribute without one is then reported missing.
 */
function given(a: Attribute, v: unknown): boolean {
  return v !== undefined && (v !== null || a.nullable);
}

function autoPopulated(table: string): boolean {
  const tier = tierOfTableName(table);
  return tier === "Imported" || tier === "Computed";
}

// ── populate's allow-insert hook (lib/populate.ts) ─────────────────────────────────────────────
// Code running inside a make() call (its async context, not other code of the process) may
// insert into the table being populated.
const MAKING = new AsyncLocalStorage<ReadonlySet<string>>();

/**
 * Runs `fn` with inserts into the given auto-populated tables (`schema`, `table` pairs) allowed
 * within its async context: what populate does around `make()`.
 *
 * @example
 * ```ts
 * import { allowInsertsDuring } from "./insert.ts";
 * await allowInsertsDuring([["lab", "__analysis"]], async () => {
 *   // Analysis.insert1(...) is allowed here
 * });
 * ```
 */
export function allowInsertsDuring<T>(
  tables: Iterable<readonly [string, string]>,
  fn: () => Promise<T>,
): Promise<T> {
  return MAKING.run(new Set([...tables].map(([s, t]) => `${s}\0${t}`)), fn);
}

/**
 * Whether the current async context is a `make()` call allowed to insert into the table.
 *
 * @example
 * ```ts
 * import { insertAllowedByMake } from "./insert.ts";
 * console.log(insertAllowedByMake("lab", "__analysis")); // false outside populate
 * ```
 */
export function insertAllowedByMake(schema: string, table: string): boolean {
  return MAKING.getStore()?.has(`${schema}\0${table}`) ?? false;
}
// ── end of populate's allow-insert hook ─────────────────────────────────────────────────────────

/**
 * Inserts rows into the table of `heading`. Returns the number of rows inserted, plus, with
 * `replace`, the stored rows overwritten (each once, changed or not; a row given only its key
 * attributes has nothing to overwrite); rows skipped with `skipDuplicates` do not count (a row
 * given twice goes in once and counts once; with `replace`, a key given twice goes in once, with
 * the values of its last row). The same count on every backend: PostgreSQL reports it;
 * on MySQL, whose count includes the duplicates met, the rows holding each batch's keys are
 * counted in the insert's transaction (see lib/upsert_count.ts). A plain insert adds every row or
 * fails, so its count is the number of rows, at no extra query.
 *
 * @example
 * ```ts
 * import { insertRows } from "./insert.ts";
 * // see the module example
 * ```
 */
export async function insertRows(
  conn: Connection,
  heading: Heading,
  rows: Iterable<Record<string, unknown>>,
  options: InsertOptions = {},
): Promise<number> {
  const { dialect } = conn.kit;
  const table = `${dialect.quote(heading.schema)}.${dialect.quote(heading.table)}`;
  if (
    autoPopulated(heading.table) && !options.allowDirectInsert &&
    !insertAllowedByMake(heading.schema, heading.table)
  ) {
    throw new DataJointError(
      `${table} is auto-populated: its rows come from make() during populate(). Insert with { allowDirectInsert: true } to do it anyway`,
    );
  }
  if (options.skipDuplicates && options.replace) {
    throw new DataJointError("insert: skipDuplicates and replace exclude each other; choose one");
  }
  const byName = new Map<string, Attribute>();
  for (const a of heading.attributes) if (!a.hidden) byName.set(a.name, a);
  const keyTypes: Record<string, string> = {};
  for (const k of heading.primaryKey) {
    const s = byName.get(k)?.storage;
    if (s) keyTypes[k] = s.kind === "core" ? s.name : s.text;
  }

  // Rows with the same fields go in one statement: their parameters are gathered per group, flat,
  // with each row's size (batches are bounded in parameters and bytes).
  const groups = new Map<string, RowGroup>();
  let last: RowGroup | undefined;
  const groupOf = (columns: string[]): RowGroup => {
    // Consecutive rows mostly have the same fields: look the group up only when they change.
    if (last === undefined || !sameNames(last.columns, columns)) {
      const sig = columns.join("\0");
      last = groups.get(sig);
      if (last === undefined) {
        groups.set(sig, last = { columns, params: [], sizes: [], dropped: 0 });
      }
    }
    return last;
  };
  // Core types convert synchronously, into their group as each row is checked. Rows of a table
  // with codecs are encoded once every row is checked, since encoding writes store objects.
  const withCodecs = [...byName.values()].some((a) => a.kind === "codec");
  const checked: Record<string, unknown>[] = [];
  // With replace, a key given again replaces the earlier row in place (its last values win, as
  // with MySQL's REPLACE): PostgreSQL refuses one upsert that touches a row twice.
  const replacing = options.replace === true;
  const checkedOfKey = new Map<string, number>();
  const rowOfKey = new Map<string, { g: RowGroup; at: number }>();
  let index = 0;
  for (const row of rows) {
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new DataJointError(
        `${table}: row ${index} is not an object of attribute values (got ${
          Array.isArray(row) ? "an array" : typeof row
        })`,
      );
    }
    const names = Object.keys(row);
    let kept = 0;
    for (const name of names) {
      const a = byName.get(name);
      if (a === undefined) {
        if (options.ignoreExtraFields) continue;
        throw new UnknownAttributeError(
          `${table} has no attribute ${
            JSON.stringify(name)
          } (row ${index}): remove it, or insert with { ignoreExtraFields: true }`,
        );
      }
      if (given(a, row[name])) kept++;
    }
    // The row itself when it holds nothing to leave out (it is only read from here on).
    let clean: Record<string, unknown> = row;
    if (kept !== names.length) {
      clean = {};
      for (const name of names) {
        const a = byName.get(name);
        if (a !== undefined && given(a, row[name])) clean[name] = row[name];
      }
    }
    // A row with every attribute needs no look for missing ones.
    for (const a of kept === byName.size ? [] : byName.values()) {
      if (a.name in clean) continue;
      if (a.inKey && !a.autoIncrement) {
        throw new MissingAttributeError(
          `${table}: row ${index} lacks primary-key attribute ${a.name}`,
        );
      }
      if (!a.nullable && a.default === null && !a.autoIncrement) {
        throw new MissingAttributeError(
          `${table}: row ${index} (key ${
            JSON.stringify(
              describeKey(heading, clean),
              (_, x) => typeof x === "bigint" ? `${x}` : x,
            )
          }) lacks required attribute ${a.name}, which has no default`,
        );
      }
    }
    if (withCodecs) {
      const values = replacing ? keyValues(heading, byName, clean, dialect) : undefined;
      const text = values && keyText(values);
      const at = text === undefined ? undefined : checkedOfKey.get(text);
      if (at !== undefined) checked[at] = clean;
      else {
        if (text !== undefined) checkedOfKey.set(text, checked.length);
        checked.push(clean);
      }
    } else {
      const columns = clean === row ? names : Object.keys(clean);
      const g = groupOf(columns);
      const start = g.params.length;
      let size = 0;
      for (const name of columns) {
        let v: unknown;
        try {
          v = toSqlValue(byName.get(name)!, clean[name], dialect);
        } catch (e) {
          throw located(e, table, describeKey(heading, clean), name);
        }
        g.params.push(v);
        size += byteSize(v);
      }
      const at = replacing ? replaceEarlier(g, heading, start, rowOfKey) : undefined;
      if (at === undefined) g.sizes.push(size);
      else {
        // The new values go over the earlier row's.
        const width = columns.length;
        for (let i = 0; i < width; i++) g.params[at * width + i] = g.params[start + i];
        g.params.length = start;
        g.sizes[at] = size;
      }
    }
    index++;
  }
  if (index === 0) return 0;

  // Encode codec attributes (store objects are written here), several rows at a time.
  const written: WrittenObject[] = [];
  if (withCodecs) {
    try {
      const out = await mapPool(
        checked,
        options.concurrency ?? 8,
        async (row) => {
          const key: Record<string, unknown> = { _schema: heading.schema, _table: heading.table };
          for (const k of heading.primaryKey) if (k in row) key[k] = row[k];
          const columns = Object.keys(row);
          const values: unknown[] = [];
          for (const name of columns) {
            const attr = byName.get(name)!;
            try {
              values.push(
                await encodeAttribute(attr, row[name], {
                  dialect,
                  key,
                  keyTypes,
                  stores: attr.kind === "codec" ? conn.stores : undefined,
                  written,
                }),
              );
            } catch (e) {
              throw located(e, table, describeKey(heading, row), name);
            }
          }
          return { columns, values };
        },
      );
      for (const { columns, values } of out) {
        const g = groupOf(columns);
        let size = 0;
        for (const v of values) {
          g.params.push(v);
          size += byteSize(v);
        }
        g.sizes.push(size);
      }
    } catch (e) {
      await undoWrites(conn, written);
      throw e;
    }
  }

  const onDuplicate = options.skipDuplicates ? "skip" : options.replace ? "replace" : "error";
  const target = { schema: heading.schema, table: heading.table, primaryKey: heading.primaryKey };
  const own = !conn.inTransaction;
  let counted = 0;
  try {
    if (own) await conn.startTransaction();
    for (const g of groups.values()) {
      const width = g.columns.length;
      const perStatement = Math.max(1, Math.floor(MAX_PARAMS / Math.max(1, width)));
      // Full batches share one statement text (tens of thousands of placeholders).
      const statements = new Map<number, string>();
      const counting = upsertCounting(dialect, heading, g.columns, onDuplicate);
      const count = g.sizes.length;
      let start = 0;
      while (start < count) {
        let end = start;
        let bytes = 0;
        let rows = 0;
        while (end < count && rows < perStatement) {
          const size = g.sizes[end];
          if (size < 0) {
            end++;
            continue;
          }
          if (rows > 0 && bytes + size > MAX_BATCH_BYTES) break;
          bytes += size;
          rows++;
          end++;
        }
        const params = g.dropped === 0
          ? g.params.slice(start * width, end * width)
          : liveParams(g, start, end);
        start = end;
        if (rows === 0) continue;
        let sql = statements.get(rows);
        if (sql === undefined) {
          sql = dialect.insert(target, g.columns, rows, (n) => conn.placeholder(n), onDuplicate);
          statements.set(rows, sql);
        }
        if (counting === "server") counted += (await conn.execute(sql, params)).affectedRows;
        else {
          const present = keysPresent(conn, heading, g.columns, params);
          if (counting === "keys") {
            // Every key of the batch is inserted or overwrites its row, so the count is the
            // distinct keys as the server compares them: the rows holding them afterwards. A
            // locking read (the batch has locked them all already) sees rows another worker
            // stored after this transaction's snapshot, which the snapshot would not show when
            // the batch overwrote them with the values they had.
            await conn.execute(sql, params);
            counted += await countRows(conn, `${present.sql} FOR UPDATE`, present.params);
          } else {
            // Skipping (or "replacing" with key attributes only, which overwrites nothing): the
            // rows holding the batch's keys before and after it, in the transaction's snapshot
            // (REPEATABLE READ, MySQL's default), which shows its own inserts but not rows other
            // workers add meanwhile: the difference is what the batch added.
            const before = await countRows(conn, present.sql, present.params);
            await conn.execute(sql, params);
            counted += await countRows(conn, present.sql, present.params) - before;
          }
        }
      }
    }
    if (own) await conn.commitTransaction();
  } catch (e) {
    if (own && conn.inTransaction) await conn.cancelTransaction().catch(() => {});
    await undoWrites(conn, written);
    const twice = e instanceof DuplicateError && onDuplicate === "error"
      ? repeatedKey(groups.values(), heading)
      : undefined;
    if (twice !== undefined) {
      throw new DuplicateError(
        `${table}: this insert gives the primary key ${twice} twice. ` +
          "Give each key once, or insert with { skipDuplicates: true } to keep the first row " +
          "of each key, or { replace: true } to keep the last",
        { cause: e, code: (e as DuplicateError).code },
      );
    }
    const failure = insertFailure(e, table, onDuplicate);
    if (failure !== e) throw failure;
    if (e instanceof DataJointError && !e.message.includes(table)) throw withContext(e, table);
    throw e;
  }
  // A plain insert adds every row or fails.
  return onDuplicate === "error" ? index : counted;
}

/**
 * The error an insert into `table` that failed with `e` throws: a duplicate key with advice on
 * the options that allow it, or a replace that met one key twice (PostgreSQL refuses one upsert
 * touching a row twice; rows given twice are merged before, unless spelled differently); `e`
 * itself otherwise.
 *
 * @example
 * ```ts
 * import { insertFailure } from "./insert.ts";
 * import { DuplicateError } from "./errors.ts";
 * const e = insertFailure(new DuplicateError("Duplicate entry '1'"), "`lab`.`animal`", "error");
 * console.log((e as Error).message.includes("skipDuplicates")); // true
 * ```
 */
export function insertFailure(e: unknown, table: string, onDuplicate: string): unknown {
  if (e instanceof QueryError && e.code === "21000" && onDuplicate === "replace") {
    return new DuplicateError(
      `${table}: this replace gives one primary key twice (rows spelling it two ways, such as 1.5 and "1.500", or a query whose rows repeat it): give each key once`,
      { cause: e, code: e.code },
    );
  }
  if (e instanceof DuplicateError) {
    // The driver's message carries the advice already, unless it came without it.
    const advice = e.message.includes("skipDuplicates")
      ? ""
      : ". Insert with { skipDuplicates: true } to skip rows whose key exists, or { replace: true } to overwrite them";
    return new DuplicateError(`${table}: ${e.message}${advice}`, { cause: e, code: e.code });
  }
  return e;
}

/**
 * The count of the target's rows holding the keys of a batch of rows (`columns` wide, flat
 * `params`), with the batch's own key parameters.
 */
function keysPresent(
  conn: Connection,
  heading: Heading,
  columns: string[],
  params: unknown[],
): { sql: string; params: unknown[] } {
  const keys = heading.primaryKey.filter((k) => columns.includes(k));
  const at = keys.map((k) => columns.indexOf(k));
  const attrs = keys.map((k) => heading.attributes.find((a) => a.name === k)!);
  const keyParams: unknown[] = [];
  const tuples: string[] = [];
  for (let row = 0; row < params.length; row += columns.length) {
    const values = at.map((i, j) => {
      keyParams.push(params[row + i]);
      return keyParamSql(attrs[j], conn.placeholder(keyParams.length));
    });
    tuples.push(values.length === 1 ? values[0] : `(${values.join(", ")})`);
  }
  return {
    sql: keysPresentSql(conn.kit.dialect, heading, keys, tuples.join(", ")),
    params: keyParams,
  };
}

/**
 * Removes what a failed insert (or update) wrote, except deduplicated objects (another row may
 * use them; garbage collection reclaims them when none does). Best effort: the original error
 * matters more.
 *
 * @example
 * ```ts
 * import { undoWrites } from "./insert.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * await undoWrites(conn, []);
 * ```
 */
export async function undoWrites(conn: Connection, written: WrittenObject[]): Promise<void> {
  const mine = written.filter((w) => !w.shared);
  await mapPool(mine, 8, async (w) => {
    try {
      const store = await conn.stores.backend(w.store);
      if (w.folder) {
        // The manifest first: without it the folder no longer claims to be complete.
        await store.remove(`${w.path}.manifest.json`);
        const files: string[] = [];
        for await (const e of store.list(`${w.path}/`)) files.push(e.path);
        for (const f of files) await store.remove(f);
      } else {
        await store.remove(w.path);
      }
    } catch {
      // Left for garbage collection, which finds every unreferenced object of the schema.
    }
  }).catch(() => {});
}
