/**
 * How `dj` subcommands reach the database: the connection of the {@link CliContext}, or one
 * opened from `DJ_*` variables and `datajoint.json` exactly as the library opens it (and closed
 * afterwards); and how they find a schema and a table class in it, for schemas declared here or by
 * DataJoint Python alike.
 *
 * @example
 * ```ts
 * import { withConnection } from "./connect.ts";
 * const names = await withConnection({}, (conn) => conn.listSchemas());
 * ```
 *
 * @module
 */

import { Connection } from "../connection.ts";
import { DataJointError } from "../errors.ts";
import { type VirtualSchema, virtualSchema } from "../schema.ts";
import type { Table } from "../table.ts";
import type { CliContext } from "./command.ts";

/**
 * Runs `fn` with the context's connection, or with a connection opened from the configuration
 * and closed when `fn` settles.
 *
 * @example
 * ```ts
 * import { withConnection } from "./connect.ts";
 * const backend = await withConnection({}, (conn) => Promise.resolve(conn.backend));
 * ```
 */
export async function withConnection<T>(
  context: CliContext,
  fn: (conn: Connection) => Promise<T>,
): Promise<T> {
  if (context.connection !== undefined) return fn(context.connection);
  const conn = await Connection.open(context.config);
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/**
 * Opens an existing schema as a {@link VirtualSchema}; a missing schema is a
 * {@link DataJointError} that points at `dj schemas`, and names the schema meant when only case
 * or `_` differ (`Lab` for `lab`).
 *
 * @example
 * ```ts
 * import { openSchema } from "./connect.ts";
 * import type { Connection } from "../connection.ts";
 * declare const conn: Connection;
 * const lab = await openSchema(conn, "lab");
 * console.log(Object.keys(lab.tables));
 * ```
 */
export async function openSchema(conn: Connection, name: string): Promise<VirtualSchema> {
  if (!(await conn.schemaExists(name))) {
    // Schema names are case-sensitive on PostgreSQL (and on MySQL under Linux): `Lab` is not `lab`.
    const close = (await conn.listSchemas()).filter((s) => loose(s) === loose(name));
    const hint = close.length === 1 ? `; did you mean ${close[0]}?` : "";
    throw new DataJointError(
      `schema ${
        JSON.stringify(name)
      } does not exist on this ${conn.backend} server${hint} (see 'dj schemas')`,
    );
  }
  return virtualSchema(name, { connection: conn });
}

/** A table of a virtual schema: its class name (`Session.Trial`) and its class. */
export interface NamedTable {
  /** The class name, parts as `Master.Part`. */
  className: string;
  /** The table class. */
  cls: typeof Table;
}

/**
 * The tables of a virtual schema in dependency order (parents first), with their class names.
 *
 * @example
 * ```ts
 * import { openSchema, schemaTables } from "./connect.ts";
 * import type { Connection } from "../connection.ts";
 * declare const conn: Connection;
 * for (const t of schemaTables(await openSchema(conn, "lab"))) console.log(t.className);
 * ```
 */
export function schemaTables(vs: VirtualSchema): NamedTable[] {
  const byTable = new Map<string, NamedTable>();
  for (const [className, cls] of Object.entries(vs.tables)) {
    const table = cls as unknown as typeof Table;
    byTable.set(table.tableName, { className, cls: table });
  }
  return vs.order.flatMap((t) => byTable.get(t) ?? []);
}

/**
 * The table class of `name` in a schema: a class name (`Subject`, `Session.Trial`) or an SQL
 * table name (`#species`, `session__trial`). An unknown name is a {@link DataJointError} that
 * lists the schema's tables, and suggests the one meant when the name differs from it only in
 * case, `_`/`#` or a missing master (`subject`, `h_t_t_p_lookup`, `Trial` for `Session.Trial`).
 *
 * @example
 * ```ts
 * import { findTable, openSchema } from "./connect.ts";
 * import type { Connection } from "../connection.ts";
 * declare const conn: Connection;
 * const Subject = findTable(await openSchema(conn, "lab"), "Subject");
 * console.log(await Subject.count());
 * ```
 */
export function findTable(vs: VirtualSchema, name: string): typeof Table {
  const tables = schemaTables(vs);
  const found = tables.find((t) => t.className === name) ??
    tables.find((t) => t.cls.tableName === name);
  if (found !== undefined) return found.cls;
  if (vs.order.includes(name)) {
    // `dj tables` lists such a table with '-' for its class: say why it cannot be read here.
    throw new DataJointError(
      `${vs.schema.name}.${name} is not a DataJoint table: its name follows no tier's naming (lowercase snake_case, with #, _ or __ in front for Lookup, Imported or Computed), so it has no class; read it with SQL`,
    );
  }
  const known = tables.map((t) => t.className);
  const guesses = similarTables(tables, name);
  const hint = guesses.length === 1 ? `did you mean ${guesses[0]}? ` : "";
  throw new DataJointError(
    `schema ${JSON.stringify(vs.schema.name)} has no table ${JSON.stringify(name)}; ${hint}${
      known.length === 0 ? "it has no tables" : `its tables are ${known.join(", ")}`
    } (see 'dj tables ${vs.schema.name}')`,
  );
}

/** A name without case, tier prefixes and separators: `HTTPLookup`, `#h_t_t_p_lookup` → `httplookup`. */
function loose(name: string): string {
  return name.toLowerCase().replace(/[#~_.]/g, "");
}

/**
 * Class names of the tables `name` probably means: the same letters in other case or spelling
 * (`mymaster`, `h_t_t_p_lookup` for `#h_t_t_p_lookup`), or a part named without its master.
 */
function similarTables(tables: readonly NamedTable[], name: string): string[] {
  const wanted = loose(name);
  if (wanted === "") return [];
  const same = tables.filter((t) =>
    loose(t.className) === wanted || loose(t.cls.tableName) === wanted
  );
  if (same.length > 0) return same.map((t) => t.className);
  return tables.filter((t) => {
    const dot = t.className.lastIndexOf(".");
    return dot > 0 && loose(t.className.slice(dot + 1)) === wanted;
  }).map((t) => t.className);
}

/**
 * The paragraph every database command's `--help` ends with.
 *
 * @example
 * ```ts
 * import { CONNECTION_HELP } from "./connect.ts";
 * console.log(CONNECTION_HELP.includes("DJ_BACKEND")); // true
 * ```
 */
export const CONNECTION_HELP =
  `Connection: from DJ_* variables (DJ_BACKEND, DJ_HOST, DJ_PORT, DJ_USER, DJ_PASS,
DJ_DATABASE_NAME, DJ_PGLITE_PATH, DJ_STORES) and datajoint.json, exactly as the library reads
them; with neither, the embedded PGlite database in .dj/pglite of the project.`;
