/**
 * Headings: what a table's attributes are, derived from the database catalog. Types come from the
 * comment markers (`:int32:`, `:<blob@main>:`); columns inherited through a foreign key carry no
 * marker, so their type is taken from the parent (recursively, across schemas). JSON-ness and
 * blob-ness come from the resolved codec chain, never from the SQL type the server reports
 * (MariaDB reports `json` as `longtext`, reference bug #10).
 *
 * Pure: the caller supplies the catalogs (see `catalog.ts`) of every schema a foreign key reaches.
 *
 * @example
 * ```ts
 * import { deriveHeading, type TableLookup } from "./heading.ts";
 * import type { EnumTypeInfo, TableInfo } from "./adapters/catalog.ts";
 * import "../codecs/builtins.ts";
 * import { getCodec } from "../codecs/registry.ts";
 *
 * const info: TableInfo = {
 *   name: "rig", comment: "rigs", primaryKey: ["rig"], foreignKeys: [], indexes: [],
 *   columns: [{ name: "rig", ordinal: 1, sqlType: "varchar(16)", nullable: false,
 *     defaultText: null, comment: ":varchar(16):rig name", autoIncrement: false }],
 * };
 * const lookup: TableLookup = { table: () => undefined, lineage: () => null, codec: getCodec };
 * const h = deriveHeading("lab", info, lookup);
 * console.log(h.attributes[0].type, h.attributes[0].comment); // varchar(16) rig name
 * ```
 *
 * @module
 */
import type { EnumTypeInfo, TableInfo } from "./adapters/catalog.ts";
import { DataJointError } from "./errors.ts";
import {
  type CodecLookup,
  type CoreType,
  isBlobLike,
  type NativeType,
  parseType,
  type ResolvedType,
  resolveType,
} from "./types.ts";

/** One attribute of a heading. */
export interface Attribute {
  /** Attribute (column) name. */
  name: string;
  /** Part of the primary key. */
  inKey: boolean;
  /** NULL allowed. */
  nullable: boolean;
  /** Hidden (leading `_`): invisible to fetch, joins, restrictions and `describe()`. */
  hidden: boolean;
  /** The DataJoint type: the declared type text (`int32`, `<blob@main>`) or the native SQL type. */
  type: string;
  /** The column's SQL type as the server reports it (normalised). */
  sqlType: string;
  /** Whether `type` is a core type, a codec type or a native type. */
  kind: "core" | "codec" | "native";
  /** The resolved type (storage type and codec chain), when the codec is known. */
  resolved?: ResolvedType;
  /** A codec named in the marker that is not registered (the heading still loads). */
  missingCodec?: string;
  /** The storage type: a core type, or the native type. */
  storage: CoreType | NativeType;
  /** PostgreSQL: the enum type the column uses (its schema may be a grandparent's). */
  enumType?: EnumTypeInfo;
  /** The user comment (marker removed). */
  comment: string;
  /** Default as a SQL literal or expression, `null` for none/NULL. */
  default: string | null;
  /** MySQL auto_increment. */
  autoIncrement: boolean;
  /** Stored as JSON (decided from the type, not the server's report). */
  json: boolean;
  /** Stored as raw bytes. */
  blob: boolean;
  /** A uuid. */
  uuid: boolean;
  /** `schema.table.attribute` of origin, `null` when unknown. */
  lineage: string | null;
  /** Where the attribute comes from, for columns of a foreign key. */
  parent?: { schema: string; table: string; attribute: string };
}

/** A foreign key with what `describe()` needs. */
export interface HeadingForeignKey {
  /** Child columns. */
  columns: string[];
  /** Parent schema. */
  refSchema: string;
  /** Parent table. */
  refTable: string;
  /** Parent columns (paired with `columns`). */
  refColumns: string[];
  /** Some of its columns are nullable (it was declared `[nullable]`). */
  nullable: boolean;
  /** A unique index covers exactly its columns. */
  unique: boolean;
}

/** A table's heading. */
export interface Heading {
  /** Schema. */
  schema: string;
  /** Table name. */
  table: string;
  /** Table comment. */
  comment: string;
  /** All attributes in column order, hidden ones included. */
  attributes: Attribute[];
  /** Primary-key attribute names. */
  primaryKey: string[];
  /** Foreign keys. */
  foreignKeys: HeadingForeignKey[];
  /** Indexes a definition declares (not the implicit/support indexes of foreign keys). */
  indexes: { unique: boolean; columns: string[] }[];
  /** Whether the schema has a `~lineage` table (semantic matching possible). */
  lineageAvailable: boolean;
}

/** What {@link deriveHeading} needs from outside. */
export interface TableLookup {
  /** Catalog info of any loaded table (for foreign-key parents), or `undefined`. */
  table(schema: string, table: string): TableInfo | undefined;
  /** Lineage of a table's attributes; `null` when its schema has no `~lineage` table. */
  lineage(schema: string, table: string): Map<string, string> | null;
  /** Finds codecs. */
  codec: CodecLookup;
  /** Turns a stored comment into the text DataJoint meant (PostgreSQL stores `\"` for `"`). */
  readComment?: (stored: string) => string;
}

/**
 * The type marker of a column comment: `:<type>:<user comment>` (group 1 the type, 2 the comment).
 *
 * @example
 * ```ts
 * import { TYPE_MARKER } from "./heading.ts";
 * console.log(TYPE_MARKER.exec(":<blob@main>:raw trace")?.[1]); // <blob@main>
 * ```
 */
export const TYPE_MARKER: RegExp = /^:([^:]+):(.*)$/s;
const MARKER = TYPE_MARKER;

interface TypeFacts {
  type: string;
  kind: Attribute["kind"];
  resolved?: ResolvedType;
  missingCodec?: string;
  storage: CoreType | NativeType;
}

function nativeFacts(sqlType: string): TypeFacts {
  let storage: CoreType | NativeType;
  try {
    const t = parseType(sqlType);
    storage = t.kind === "codec" ? { kind: "native", category: "STRING", text: sqlType } : t;
  } catch {
    // A server type DataJoint cannot declare (e.g. `longtext` on MariaDB json): keep it as is.
    storage = { kind: "native", category: "STRING", text: sqlType };
  }
  // Reported core-looking names (int, double, …) are native here: only markers make core types.
  if (storage.kind === "core") storage = { kind: "native", category: "STRING", text: sqlType };
  return { type: sqlType, kind: "native", storage };
}

function markerFacts(marker: string, sqlType: string, codec: CodecLookup): TypeFacts {
  if (marker.startsWith("<")) {
    let declared;
    try {
      declared = parseType(marker);
    } catch {
      return { ...nativeFacts(sqlType), type: marker, kind: "codec", missingCodec: marker };
    }
    if (declared.kind !== "codec") return nativeFacts(sqlType);
    try {
      const resolved = resolveType(marker, codec);
      return { type: marker, kind: "codec", resolved, storage: resolved.storage };
    } catch {
      return { ...nativeFacts(sqlType), type: marker, kind: "codec", missingCodec: declared.name };
    }
  }
  if (marker.startsWith("external")) {
    throw new DataJointError(
      `Legacy datatype ${marker}: this table was declared by DataJoint 0.14; migrate it with DataJoint Python's dj.migrate first`,
    );
  }
  try {
    const t = parseType(marker);
    if (t.kind === "core") {
      return { type: marker, kind: "core", storage: t, resolved: resolveType(marker, codec) };
    }
  } catch {
    // Legacy labels (`:uint8:` written by dj.migrate) are not core types: fall through.
  }
  return { ...nativeFacts(sqlType), type: marker };
}

/**
 * Derives the heading of one table from its catalog info. Columns inherited through a foreign key
 * without a marker take their type (and, on PostgreSQL, their comment) from the parent.
 *
 * @example
 * ```ts
 * import { deriveHeading } from "./heading.ts";
 * // see the module example
 * ```
 */
export function deriveHeading(schema: string, info: TableInfo, lookup: TableLookup): Heading {
  const lineage = lookup.lineage(schema, info.name);
  const key = new Set(info.primaryKey);
  const readComment = lookup.readComment ?? ((s: string) => s);
  const attributes = info.columns.map((col): Attribute => {
    const comment = readComment(col.comment);
    const m = MARKER.exec(comment);
    let facts: TypeFacts;
    let userComment = comment;
    let parent: Attribute["parent"];
    const fk = info.foreignKeys.find((f) => f.columns.includes(col.name));
    if (fk) {
      const i = fk.columns.indexOf(col.name);
      parent = { schema: fk.refSchema, table: fk.refTable, attribute: fk.refColumns[i] };
    }
    if (m) {
      facts = markerFacts(m[1], col.sqlType, lookup.codec);
      userComment = m[2];
    } else if (parent) {
      const p = parentAttribute(parent, lookup);
      facts = p
        ? { type: p.type, kind: p.kind, resolved: p.resolved, storage: p.storage }
        : nativeFacts(col.sqlType);
      // PostgreSQL stores no comment on inherited columns; MySQL stores the parent's.
      if (comment === "" && p) userComment = p.comment;
    } else {
      facts = nativeFacts(col.sqlType);
    }
    const storage = facts.storage;
    const coreName = storage.kind === "core" ? storage.name : undefined;
    return {
      name: col.name,
      inKey: key.has(col.name),
      nullable: col.nullable,
      hidden: col.name.startsWith("_"),
      type: facts.type,
      sqlType: col.sqlType,
      kind: facts.kind,
      resolved: facts.resolved,
      missingCodec: facts.missingCodec,
      storage,
      enumType: col.enumType,
      comment: userComment,
      default: col.defaultText,
      autoIncrement: col.autoIncrement,
      json: coreName === "json" || (facts.missingCodec !== undefined && col.jsonText === true),
      blob: coreName === "bytes" || storage.kind === "native" && isBlobLike(storage),
      uuid: coreName === "uuid",
      lineage: lineage?.get(col.name) ?? null,
      parent,
    };
  });
  const byName = new Map(attributes.map((a) => [a.name, a]));
  const foreignKeys = info.foreignKeys.map((fk): HeadingForeignKey => ({
    columns: fk.columns,
    refSchema: fk.refSchema,
    refTable: fk.refTable,
    refColumns: fk.refColumns,
    // Any nullable column (DataJoint Python's rule): a `[nullable]` foreign key that shares
    // key columns with another one has non-nullable columns too.
    nullable: fk.columns.some((c) => byName.get(c)?.nullable),
    unique: info.indexes.some((ix) => ix.unique && sameColumns(ix.columns, fk.columns)),
  }));
  const indexes = info.indexes
    .filter((ix) => !ix.implicit)
    .filter((ix) => !info.foreignKeys.some((fk) => sameColumns(ix.columns, fk.columns)))
    .map((ix) => ({ unique: ix.unique, columns: ix.columns }));
  return {
    schema,
    table: info.name,
    comment: info.comment,
    attributes,
    primaryKey: info.primaryKey,
    foreignKeys,
    indexes,
    lineageAvailable: lineage !== null,
  };
}

function sameColumns(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((c, i) => b[i] === c);
}

/** The parent's attribute, derived recursively; `undefined` when the parent is not loaded. */
function parentAttribute(
  ref: { schema: string; table: string; attribute: string },
  lookup: TableLookup,
  depth = 0,
): Attribute | undefined {
  if (depth > 64) return undefined; // a foreign-key cycle; cannot happen in DataJoint schemas
  const info = lookup.table(ref.schema, ref.table);
  if (!info) return undefined;
  const col = info.columns.find((c) => c.name === ref.attribute);
  if (!col) return undefined;
  const sub: TableInfo = { ...info, columns: [col] };
  return deriveHeading(ref.schema, sub, lookup).attributes[0];
}
