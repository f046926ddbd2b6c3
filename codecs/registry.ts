/**
 * The codec contract and the process-wide codec registry.
 *
 * A codec turns a domain value into something one level closer to the database (`getDtype` names
 * that level: a core type such as `bytes` or `json`, or another codec such as `<hash>`). Defining a
 * codec registers it; the registry lives on `globalThis` under a `Symbol.for` key so that two copies
 * of this module (a plugin importing the core by another URL) share one registry, and codecs are
 * recognised by a brand rather than `instanceof`.
 *
 * @example
 * ```ts
 * import { codec, getCodec } from "./registry.ts";
 *
 * codec({
 *   name: "upper",
 *   getDtype: () => "varchar(255)",
 *   encode: (v) => String(v).toUpperCase(),
 *   decode: (s) => s,
 * });
 * console.log(getCodec("upper")?.getDtype(false)); // varchar(255)
 * ```
 *
 * @module
 */
import { DataJointError } from "../lib/errors.ts";
import type { StoreBackend } from "../stores/backend.ts";

/**
 * How codecs reach object stores: resolve a store name (a name, or `null`/`""` for the default
 * store) and get its backend. The insert and fetch paths provide it; codecs that keep data
 * in-table never need it.
 *
 * @example
 * ```ts
 * import type { StoreAccess } from "./registry.ts";
 * declare const stores: StoreAccess;
 * const main = await stores.backend("");        // the default store
 * console.log(main.name, stores.resolveName(null));
 * ```
 */
export interface StoreAccess {
  /**
   * The concrete store name: `name` itself, or for `null`/`""` the configured `stores.default`
   * (`stores.filepath_default` when `filepath` is set). Throws a `StoreError` when unconfigured.
   */
  resolveName(name: string | null | undefined, options?: { filepath?: boolean }): string;
  /** The backend of a store (resolved as {@link StoreAccess.resolveName}); cached. */
  backend(
    name: string | null | undefined,
    options?: { filepath?: boolean },
  ): Promise<StoreBackend>;
}

/**
 * What `encode` is told about where the value goes.
 *
 * `key` is the reference's insert context: `_schema` (database name), `_table` (SQL table name
 * with its tier prefix), `_field` (attribute name), then every primary-key attribute present in
 * the row, in primary-key order, with the value as inserted.
 */
export interface EncodeContext {
  /** `_schema`, `_table`, `_field` and the primary-key values of the row being inserted. */
  key: Record<string, unknown>;
  /** The resolved (concrete) store name for store-backed codecs; `undefined` in-table. */
  storeName?: string;
  /** Store access (present whenever the insert path calls the codec). */
  stores?: StoreAccess;
  /** The primary-key attribute types (core type names), for codecs that build paths from keys. */
  keyTypes?: Record<string, string>;
  /** Object writes made by this encode, so a failed insert can undo them. */
  written?: WrittenObject[];
}

/** An object a codec wrote while encoding (undone when the row insert fails). */
export interface WrittenObject {
  /** Store name. */
  store: string;
  /** Store-relative path of a file, or of a folder when `folder` is set. */
  path: string;
  /** Whether the path is a folder (removed recursively, with its manifest). */
  folder?: boolean;
  /**
   * Content-addressed (deduplicated) objects may be shared with a concurrent writer's row, so a
   * failed insert leaves them to garbage collection instead of removing them.
   */
  shared?: boolean;
}

/** What `decode` is told. DataJoint passes no primary-key values to decoders. */
export interface DecodeContext {
  /** Configuration details (never the row's key values); `{}` when there are none. */
  key: Record<string, unknown>;
  /** Store access (present whenever the fetch path calls the codec). */
  stores?: StoreAccess;
  /** Folder where decoded attachments are written (config `download_path`). */
  downloadPath?: string;
}

/** Where a stored value keeps its data, for garbage collection. */
export interface ObjectReference {
  /** Store-relative path. */
  path: string;
  /** Store name as written in the metadata (`null` = the default store). */
  store: string | null;
}

/**
 * A codec as users define it.
 *
 * @example
 * ```ts
 * import type { CodecSpec } from "./registry.ts";
 * const spec: CodecSpec<string, string> = {
 *   name: "trimmed",
 *   getDtype: () => "varchar(64)",
 *   encode: (v) => v.trim(),
 *   decode: (s) => s,
 * };
 * ```
 */
export interface CodecSpec<V = unknown, S = unknown> {
  /** Registry key, used as `<name>` in definitions. Case-sensitive. */
  name: string;
  /**
   * The storage type one level down for in-table (`false`) or in-store (`true`) use: a core type
   * or another codec written without a store (`<hash>`); throw a `DataJointError` for a mode the
   * codec does not support.
   */
  getDtype(isStore: boolean): string;
  /** Value → stored form (of the type `getDtype` names). */
  encode(value: V, context: EncodeContext): S | Promise<S>;
  /** Stored form → value. */
  decode(stored: S, context: DecodeContext): V | Promise<V>;
  /** Optional check called on the outermost codec before `encode`, never for `null`. */
  validate?(value: unknown): void;
  /**
   * `"schema"` marks a schema-addressed codec (objects under `{schema_prefix}/{schema}/…`, as the
   * reference's `SchemaCodec` family): garbage collection keeps what its rows reference.
   * Hash-addressed storage needs no mark: any chain through `<hash>` is recognised.
   */
  addressing?: "schema";
  /**
   * The store paths a stored (not yet decoded) value references, for garbage collection. The
   * default reads `path` and `store` from JSON metadata.
   */
  referencedPaths?(stored: unknown): ObjectReference[];
}

/** The brand every registered codec carries (shared across module copies via `Symbol.for`). */
export const CODEC_BRAND: unique symbol = Symbol.for("datajoint.codec.v1") as never;
const BRAND: typeof CODEC_BRAND = CODEC_BRAND;

/**
 * A registered codec: the spec plus a brand that identifies codecs across module copies.
 *
 * @example
 * ```ts
 * import { type Codec, getCodec } from "./registry.ts";
 * const blob: Codec | undefined = getCodec("blob");
 * ```
 */
export type Codec<V = unknown, S = unknown> = Readonly<CodecSpec<V, S>> & {
  readonly [CODEC_BRAND]: true;
};

const REGISTRY_KEY = Symbol.for("datajoint.codecs.v1");

function registry(): Map<string, Codec> {
  const g = globalThis as unknown as Record<symbol, Map<string, Codec> | undefined>;
  return (g[REGISTRY_KEY] ??= new Map());
}

/**
 * Whether `x` is a codec (by brand, so a codec made by another copy of this module counts).
 *
 * @example
 * ```ts
 * import { getCodec, isCodec } from "./registry.ts";
 * console.log(isCodec(getCodec("blob")), isCodec({ name: "x" })); // true false
 * ```
 */
export function isCodec(x: unknown): x is Codec {
  return typeof x === "object" && x !== null && (x as Record<symbol, unknown>)[BRAND] === true;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// The user's spec object, kept so that defining the very same spec twice is recognised.
const SPEC = Symbol("spec");

/**
 * Defines and registers a codec. Defining the same spec object twice is a no-op; another codec
 * under a taken name is an error.
 *
 * @example
 * ```ts
 * import { codec } from "./registry.ts";
 * export const point = codec<{ x: number; y: number }, unknown>({
 *   name: "point2d",
 *   getDtype: () => "json",
 *   encode: (p) => [p.x, p.y],
 *   decode: (s) => {
 *     const [x, y] = s as number[];
 *     return { x, y };
 *   },
 * });
 * ```
 */
export function codec<V = unknown, S = unknown>(spec: CodecSpec<V, S>): Codec<V, S> {
  if (typeof spec?.name !== "string" || !NAME.test(spec.name)) {
    throw new DataJointError(
      `Codec name must be a non-empty identifier (letters, digits, underscore), got ${
        JSON.stringify(spec?.name)
      }`,
    );
  }
  for (const m of ["getDtype", "encode", "decode"] as const) {
    if (typeof spec[m] !== "function") {
      throw new DataJointError(`Codec <${spec.name}> needs a ${m}() function`);
    }
  }
  const reg = registry();
  const existing = reg.get(spec.name);
  if (existing !== undefined) {
    if ((existing as unknown as Record<symbol, unknown>)[SPEC] === spec) {
      return existing as unknown as Codec<V, S>;
    }
    throw new DataJointError(
      `Codec <${spec.name}> is already registered; choose another name or reuse the existing codec`,
    );
  }
  const made = Object.freeze({ ...spec, [BRAND]: true as const, [SPEC]: spec }) as unknown as Codec<
    V,
    S
  >;
  reg.set(spec.name, made as unknown as Codec);
  return made;
}

/**
 * The registered codec of that name (`"blob"`, `"<blob>"` and `"<blob@store>"` all work), or
 * `undefined`.
 *
 * @example
 * ```ts
 * import { getCodec } from "./registry.ts";
 * console.log(getCodec("<blob@main>")?.name); // blob
 * ```
 */
export function getCodec(name: string): Codec | undefined {
  const bare = name.trim().replace(/^<+|>+$/g, "").split("@")[0].trim();
  return registry().get(bare);
}

/**
 * The sorted names of all registered codecs.
 *
 * @example
 * ```ts
 * import { listCodecs } from "./registry.ts";
 * console.log(listCodecs().includes("blob")); // true
 * ```
 */
export function listCodecs(): string[] {
  return [...registry().keys()].sort();
}

/**
 * Removes a codec from the registry (for tests and plugin reloading).
 *
 * @example
 * ```ts
 * import { codec, unregisterCodec } from "./registry.ts";
 * codec({ name: "tmp_codec", getDtype: () => "json", encode: (v) => v, decode: (s) => s });
 * unregisterCodec("tmp_codec");
 * ```
 */
export function unregisterCodec(name: string): void {
  if (!registry().delete(name)) {
    throw new DataJointError(`Codec <${name}> is not registered`);
  }
}
