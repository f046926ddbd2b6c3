/**
 * Garbage collection of object stores: find (and, when asked, delete) the objects in a store's
 * hash- and schema-addressed sections of some schemas that no row of those schemas references
 * (reference §4.6). A dry run is the default.
 *
 * Differences from the reference, on purpose:
 * - hash-addressed columns are recognised by their codec chain (any chain through `<hash>`), not
 *   by codec name, so a custom codec chained to `<hash>` keeps its objects (reference bug #6);
 * - a reference whose metadata store is `null` or `""` counts for the configured default store,
 *   and a named one for that name, so rows written with either form are protected;
 * - a table that cannot be read stops deletion (as a listing error does): never delete on
 *   partial knowledge;
 * - the store is listed before the rows are read, so an object written and committed while the
 *   collector runs is never taken for an orphan;
 * - with empty `hash_prefix` and `schema_prefix` (the sections overlap) hash-addressed objects are
 *   not also counted as unreferenced schema-addressed files;
 * - objects under partition folders (`partition_pattern`) are collected too, which the
 *   reference never lists;
 * - objects written (or reused, which renews their time: see `ifAbsent` in stores/backend.ts)
 *   less than `minAge` before the collection are spared, and each object is checked again just
 *   before it is deleted: an insert that wrote or found its objects but had not committed its row
 *   when the rows were read does not lose them.
 *
 * @example
 * ```ts
 * import { collectGarbage } from "./gc.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const report = await collectGarbage(conn, { schemas: ["lab"] });        // dry run
 * console.log(report.orphanedHashPaths, report.orphanedSchemaPaths);
 * ```
 *
 * @module
 */
import { getCodec, type ObjectReference } from "../codecs/registry.ts";
import type { StoreBackend, StoreEntry } from "../stores/backend.ts";
import type { Connection } from "./connection.ts";
import { DataJointError } from "./errors.ts";
import type { Heading } from "./heading.ts";

/** Options of {@link collectGarbage}. */
export interface GcOptions {
  /** Schemas whose sections are collected (default: every schema on the server). */
  schemas?: string[];
  /** Store name (default: the configured default store). */
  store?: string;
  /** Only report (default `true`); `false` deletes the orphans. */
  dryRun?: boolean;
  /**
   * Seconds: unreferenced objects written or reused more recently than this before the
   * collection started are kept, as an insert may still be about to commit the row that uses
   * them (default 86,400, a day; 0 collects everything unreferenced, for a store no one writes
   * to meanwhile). Other values should exceed a minute: S3 stores renew a reused object's time
   * at most once a minute (`renewAfter` in stores/s3_store.ts).
   */
  minAge?: number;
}

/**
 * {@link GcOptions.minAge}'s default: a day, in seconds.
 *
 * @example
 * ```ts
 * import { GC_MIN_AGE_DEFAULT } from "./gc.ts";
 * console.log(GC_MIN_AGE_DEFAULT / 3600); // 24
 * ```
 */
export const GC_MIN_AGE_DEFAULT = 86_400;

/** What {@link collectGarbage} found and did. */
export interface GcReport {
  /** The store collected. */
  store: string;
  /** The schemas scanned. */
  schemas: string[];
  /** Whether nothing was deleted on purpose. */
  dryRun: boolean;
  /** Hash-addressed paths referenced by rows. */
  hashPathsReferenced: number;
  /** Hash-addressed objects found in the store. */
  hashPathsStored: number;
  /** Hash-addressed objects no row references. */
  orphanedHashPaths: string[];
  /** Their total size. */
  hashPathsOrphanedBytes: number;
  /** Schema-addressed paths referenced by rows. */
  schemaPathsReferenced: number;
  /** Files found in the schema-addressed sections (manifests included). */
  schemaPathsStored: number;
  /** Schema-addressed files no row references. */
  orphanedSchemaPaths: string[];
  /** Their total size. */
  schemaPathsOrphanedBytes: number;
  /** The grace period applied, in seconds ({@link GcOptions.minAge}). */
  minAge: number;
  /** Unreferenced objects kept because they were written or reused within `minAge`. */
  recentUnreferenced: string[];
  /** Paths deleted. */
  deleted: string[];
  /** Bytes freed. */
  bytesFreed: number;
  /** Problems met (tables or listings that could not be read; failed deletions). */
  errors: string[];
}

const HASH_NAME = /^[a-z2-7]{26}$/;

/** The default `referencedPaths`: `path` and `store` of JSON metadata. */
function defaultReferences(stored: unknown): ObjectReference[] {
  let v = stored;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      return [];
    }
  }
  if (typeof v !== "object" || v === null) return [];
  const m = v as { path?: unknown; store?: unknown };
  if (typeof m.path !== "string") return [];
  return [{ path: m.path, store: typeof m.store === "string" ? m.store : null }];
}

function section(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, "");
}

interface Referenced {
  hash: Set<string>;
  schema: Set<string>;
}

async function collectReferences(
  conn: Connection,
  heading: Heading,
  storeName: string,
  refs: Referenced,
): Promise<void> {
  const q = conn.kit.dialect.quote;
  const cols: {
    name: string;
    family: "hash" | "schema";
    read: (v: unknown) => ObjectReference[];
  }[] = [];
  for (const a of heading.attributes) {
    if (a.kind !== "codec") continue;
    if (a.missingCodec !== undefined) {
      throw new DataJointError(
        `${heading.schema}.${heading.table}.${a.name} uses the unknown codec <${a.missingCodec}>: load it before collecting garbage, so its objects are recognised`,
      );
    }
    const chain = (a.resolved?.chain ?? []).map((c) => getCodec(c.name)!);
    if (a.resolved?.store === null || chain.length === 0) continue;
    const family = chain.some((c) => c.name === "hash")
      ? "hash"
      : chain.some((c) => c.addressing === "schema")
      ? "schema"
      : undefined;
    if (family === undefined) continue;
    const inner = chain[chain.length - 1];
    cols.push({
      name: a.name,
      family,
      read: (v) => inner.referencedPaths?.(v) ?? defaultReferences(v),
    });
  }
  if (cols.length === 0) return;
  const rows = await conn.query(
    `SELECT ${cols.map((c) => q(c.name)).join(", ")} FROM ${q(heading.schema)}.${q(heading.table)}`,
  );
  for (const row of rows) {
    for (const c of cols) {
      const v = row[c.name];
      if (v === null || v === undefined) continue;
      for (const r of c.read(v)) {
        const name = r.store === null || r.store === "" ? conn.stores.resolveName(null) : r.store;
        if (name !== storeName) continue;
        (c.family === "hash" ? refs.hash : refs.schema).add(r.path.replace(/^\/+/, ""));
      }
    }
  }
}

async function listAll(store: StoreBackend, prefix: string): Promise<Map<string, StoreEntry>> {
  const out = new Map<string, StoreEntry>();
  for await (const e of store.list(prefix)) out.set(e.path, e);
  return out;
}

/**
 * Finds (and, with `dryRun: false`, deletes) unreferenced objects of a store.
 *
 * @example
 * ```ts
 * import { collectGarbage } from "./gc.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const report = await collectGarbage(conn, { store: "main", dryRun: false });
 * console.log(`${report.deleted.length} objects, ${report.bytesFreed} bytes freed`);
 * ```
 */
export async function collectGarbage(conn: Connection, options: GcOptions = {}): Promise<GcReport> {
  const dryRun = options.dryRun ?? true;
  const minAge = options.minAge ?? GC_MIN_AGE_DEFAULT;
  if (!(Number.isFinite(minAge) && minAge >= 0)) {
    throw new DataJointError(
      `gc: minAge must be a number of seconds, 0 or more (got ${String(minAge)})`,
    );
  }
  // Objects written after this instant are spared; with minAge 0 none is (store times may be
  // whole seconds, rounded up: an object just written could otherwise look newer than this).
  const cutoff = minAge === 0 ? Infinity : Date.now() - minAge * 1000;
  const storeName = conn.stores.resolveName(options.store ?? null);
  const store = await conn.stores.backend(storeName);
  const schemas = options.schemas ?? await conn.listSchemas();
  const errors: string[] = [];

  // The store is listed before the rows are read: an object written and committed while the
  // collector runs is then either not listed or seen referenced, never deleted as an orphan.
  // (The reference reads the rows first, so such an object could be listed unreferenced.)
  const hashPrefix = section(store.spec.hash_prefix);
  const schemaPrefix = section(store.spec.schema_prefix);
  const partitioned = (store.spec.partition_pattern ?? "") !== "";
  const hashStored = new Map<string, StoreEntry>();
  const schemaStored = new Map<string, StoreEntry>();
  for (const schema of schemas) {
    try {
      const found = await listAll(store, hashPrefix ? `${hashPrefix}/${schema}/` : `${schema}/`);
      for (const [p, entry] of found) {
        const base = p.split("/").pop()!;
        if (HASH_NAME.test(base)) hashStored.set(p, entry);
      }
      if (partitioned) continue; // the schema section is listed whole, below
      const files = await listAll(
        store,
        schemaPrefix ? `${schemaPrefix}/${schema}/` : `${schema}/`,
      );
      // With both prefixes empty the sections overlap: hash-addressed objects (a 26-letter name,
      // which no `{field}_{token}` file has) are judged by hash references only.
      for (const [p, entry] of files) if (!hashStored.has(p)) schemaStored.set(p, entry);
    } catch (e) {
      errors.push(`listing ${schema} in store ${storeName}: ${(e as Error).message}`);
    }
  }
  // With a partition pattern, schema-addressed objects may sit under partition folders first
  // (`{prefix}/{attr=value…}/{schema}/…`): the whole section is listed once, and a file belongs
  // to the schema named right after its leading `=` folders (a schema name never holds `=`).
  if (partitioned) {
    try {
      const wanted = new Set(schemas);
      const all = await listAll(store, schemaPrefix ? `${schemaPrefix}/` : "");
      for (const [p, entry] of all) {
        const segments = (schemaPrefix ? p.slice(schemaPrefix.length + 1) : p).split("/");
        let i = 0;
        while (i < segments.length - 1 && segments[i].includes("=")) i++;
        if (wanted.has(segments[i]) && !hashStored.has(p)) schemaStored.set(p, entry);
      }
    } catch (e) {
      errors.push(`listing the schema section of store ${storeName}: ${(e as Error).message}`);
    }
  }

  const refs: Referenced = { hash: new Set(), schema: new Set() };
  for (const schema of schemas) {
    conn.invalidate(schema);
    const catalog = await conn.catalog(schema);
    for (const table of catalog.tables.keys()) {
      if (table.startsWith("~")) continue;
      try {
        await collectReferences(conn, await conn.heading(schema, table), storeName, refs);
      } catch (e) {
        errors.push(`${schema}.${table}: ${(e as Error).message}`);
      }
    }
  }

  const recent: string[] = [];
  const old = (entry: StoreEntry): boolean => {
    if (entry.modified.getTime() <= cutoff) return true;
    recent.push(entry.path);
    return false;
  };
  const orphanedHash = [...hashStored.values()]
    .filter((e) => !refs.hash.has(e.path) && old(e))
    .map((e) => e.path)
    .sort();
  const covered = (file: string): boolean => {
    const f = file.endsWith(".manifest.json") ? file.slice(0, -".manifest.json".length) : file;
    if (refs.schema.has(f)) return true;
    // A referenced folder covers everything under it.
    for (let i = f.lastIndexOf("/"); i > 0; i = f.lastIndexOf("/", i - 1)) {
      if (refs.schema.has(f.slice(0, i))) return true;
    }
    return false;
  };
  const orphanedSchema = [...schemaStored.values()]
    .filter((e) => !covered(e.path) && old(e))
    .map((e) => e.path)
    .sort();
  const bytes = (paths: string[], from: Map<string, StoreEntry>) =>
    paths.reduce((sum, p) => sum + from.get(p)!.size, 0);

  const report: GcReport = {
    store: storeName,
    schemas,
    dryRun,
    hashPathsReferenced: refs.hash.size,
    hashPathsStored: hashStored.size,
    orphanedHashPaths: orphanedHash,
    hashPathsOrphanedBytes: bytes(orphanedHash, hashStored),
    schemaPathsReferenced: refs.schema.size,
    schemaPathsStored: schemaStored.size,
    orphanedSchemaPaths: orphanedSchema,
    schemaPathsOrphanedBytes: bytes(orphanedSchema, schemaStored),
    minAge,
    recentUnreferenced: recent.sort(),
    deleted: [],
    bytesFreed: 0,
    errors,
  };
  if (dryRun) return report;
  if (errors.length > 0) {
    throw new DataJointError(
      `Refusing to delete: ${errors.length} scan error(s) mean some references may be unknown:\n${
        errors.join("\n")
      }`,
    );
  }
  for (const p of [...orphanedHash, ...orphanedSchema]) {
    try {
      // Looked at again: an insert may have reused the object since the listing.
      const now = await store.stat(p);
      if (now === null) continue;
      if (now.modified !== null && now.modified.getTime() > cutoff) {
        report.recentUnreferenced.push(p);
        continue;
      }
      await store.remove(p);
      report.deleted.push(p);
      report.bytesFreed += now.size;
    } catch (e) {
      report.errors.push(`deleting ${p}: ${(e as Error).message}`);
    }
  }
  return report;
}
