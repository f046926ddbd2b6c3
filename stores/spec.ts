/**
 * Store specifications: validating one entry of `stores` (reference `get_store_spec`) and resolving
 * which store a name (or no name) means. Pure apart from reading the current directory when a
 * relative file `location` has no project root to resolve against.
 *
 * Departures from DataJoint Python 2.3, all deliberate:
 *
 * - `<x@>`, `null`, `undefined` and `""` mean the default store (reference bug #1: Python raises
 *   `Storage '' is requested but not configured in stores`).
 * - Only `file` and `s3` are spoken; `gcs` and `azure` are recognised and refused with a clear
 *   message instead of being accepted and failing later.
 * - `s3` does not require `access_key`/`secret_key`: both or neither (neither = the ambient AWS
 *   credential chain); empty strings count as absent, as the reference's backend treats them.
 * - A relative file `location` is resolved against the project root (the folder of
 *   `datajoint.json`) when one is given, so the same config works from any working directory;
 *   without a project root it is relative to the current directory, as in Python.
 * - Types are checked (`token_length` an integer, `subfolding` positive integers, prefixes
 *   relative `/`-paths without `.`/`..`/empty segments) so a typo fails at configuration time
 *   rather than producing paths that Python's garbage collector would not recognise.
 *
 * @example
 * ```ts
 * import { resolveStoreName, storeSpec } from "./spec.ts";
 * const stores = { default: "main", main: { protocol: "file", location: "/data/store" } };
 * const spec = storeSpec(stores, resolveStoreName(stores, null));
 * console.log(spec.hash_prefix, spec.token_length); // _hash 8
 * ```
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { ConfigError, StoreError } from "../lib/errors.ts";
import type { StoreProtocol, StoreSpec } from "./backend.ts";

/** Keys of `stores` that name stores instead of holding a spec. */
export const DEFAULT_KEYS: readonly string[] = ["default", "filepath_default"];

/** Spec keys every protocol accepts. */
const COMMON_KEYS = [
  "protocol",
  "location",
  "subfolding",
  "partition_pattern",
  "token_length",
  "hash_prefix",
  "schema_prefix",
  "filepath_prefix",
  "stage",
];

const REQUIRED: Record<StoreProtocol, string[]> = {
  file: ["protocol", "location"],
  s3: ["protocol", "endpoint", "bucket", "location"],
};

const ALLOWED: Record<StoreProtocol, string[]> = {
  file: COMMON_KEYS,
  // `region` is ours (request signing); `proxy_server` is accepted and unused, as in Python.
  s3: [
    ...COMMON_KEYS,
    "endpoint",
    "bucket",
    "access_key",
    "secret_key",
    "secure",
    "proxy_server",
    "region",
  ],
};

const SUPPORTED: readonly StoreProtocol[] = ["file", "s3"];

/** Options of {@link storeSpec}. */
export interface StoreSpecOptions {
  /**
   * Folder a relative file `location` is resolved against: the folder of `datajoint.json`.
   * Without it, the current working directory.
   */
  projectRoot?: string;
}

/** Options of {@link resolveStoreName}. */
export interface ResolveOptions {
  /** Resolve for `<filepath@>`: the default is `stores.filepath_default`, then `stores.default`. */
  filepath?: boolean;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array (${JSON.stringify(v)})`;
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The configured store names (every key except `default` and `filepath_default`). */
function configuredNames(stores: Record<string, unknown>): string[] {
  return Object.keys(stores).filter((k) => !DEFAULT_KEYS.includes(k));
}

function checkStoreName(name: string): void {
  if (name.includes(":") || name.includes(".")) {
    throw new StoreError(
      `Invalid store name "${name}": store names cannot contain ":" or "." ` +
        `(they separate the parts of "stores.<name>.<attr>" keys and secrets file names)`,
    );
  }
}

/**
 * The concrete store name that `name` means (reference §4.3 with bug #1 fixed): `name` itself
 * when given; for `null`, `undefined` or `""` the configured `stores.default`, or for
 * `<filepath@>` `stores.filepath_default`, falling back to `stores.default`.
 *
 * @throws {StoreError} when the default is not configured, is not a string, or the store is not
 * configured; the message says what to add to `datajoint.json`.
 *
 * @example
 * ```ts
 * import { resolveStoreName } from "./spec.ts";
 * const stores = { default: "main", filepath_default: "raw", main: {}, raw: {} };
 * resolveStoreName(stores, "");                      // "main"
 * resolveStoreName(stores, null, { filepath: true }); // "raw"
 * resolveStoreName(stores, "raw");                   // "raw"
 * ```
 */
export function resolveStoreName(
  stores: Record<string, unknown>,
  name: string | null | undefined,
  options: ResolveOptions = {},
): string {
  let resolved: string;
  if (name === null || name === undefined || name === "") {
    const fp = options.filepath ? stores.filepath_default : undefined;
    const key = fp !== undefined && fp !== null && fp !== "" ? "filepath_default" : "default";
    const value = stores[key];
    if (value === undefined || value === null || value === "") {
      const which = options.filepath
        ? "stores.filepath_default is not configured and stores.default is not configured"
        : "stores.default is not configured";
      const example = options.filepath ? "<filepath@raw>" : "<blob@main>";
      throw new StoreError(
        `${which}: a column declared with a bare "@" (or no store) uses the default store. ` +
          `Set "stores": {"${key}": "<name>", "<name>": {"protocol": "file", "location": "..."}} ` +
          `in datajoint.json (or DJ_STORES), or name the store in the type, e.g. ${example}.`,
      );
    }
    if (typeof value !== "string") {
      throw new StoreError(
        `stores.${key} must be a string naming a store, got ${describe(value)}`,
      );
    }
    resolved = value;
  } else if (typeof name !== "string") {
    throw new StoreError(`A store name must be a string, got ${describe(name)}`);
  } else {
    resolved = name;
  }
  checkStoreName(resolved);
  if (DEFAULT_KEYS.includes(resolved) || !Object.hasOwn(stores, resolved)) {
    const names = configuredNames(stores);
    const known = names.length
      ? `configured stores: ${names.join(", ")}`
      : "no store is configured";
    throw new StoreError(
      `Storage '${resolved}' is requested but not configured in stores (${known}). ` +
        `Add "stores": {"${resolved}": {"protocol": "file", "location": "..."}} to datajoint.json ` +
        `(or DJ_STORES), or use a configured store.`,
    );
  }
  return resolved;
}

function strip(p: string): string {
  return p.replace(/^\/+/, "").replace(/\/+$/, "");
}

function checkPrefix(store: string, key: string, value: string): void {
  const inner = strip(value);
  if (inner === "") return;
  for (const seg of inner.split("/")) {
    if (seg === "" || seg === "." || seg === "..") {
      throw new ConfigError(
        `config.stores["${store}"].${key}="${value}" is not a clean relative path: ` +
          `no empty, "." or ".." segments`,
      );
    }
  }
}

/**
 * Validates `stores[name]` and applies the reference defaults (§4.2): `subfolding` null,
 * `partition_pattern` null, `token_length` 8 (clamped to 4..16), `hash_prefix` `"_hash"`,
 * `schema_prefix` `"_schema"`, `filepath_prefix` null, and for s3 `secure` true. The protocol is
 * lowercased. A relative file `location` is made absolute against `options.projectRoot` (the
 * folder of `datajoint.json`) or, without one, the current working directory.
 *
 * `name` is a concrete store name (`null`/`""` resolve to the default as in
 * {@link resolveStoreName}). It does not check that a file location exists: the backend does
 * that when it is first opened.
 *
 * @throws {ConfigError} for a missing or unknown key, a wrong value type, overlapping section
 * prefixes; {@link StoreError} for a store that is not configured.
 *
 * @example
 * ```ts
 * import { storeSpec } from "./spec.ts";
 * const spec = storeSpec(
 *   { main: { protocol: "file", location: "store", subfolding: [2, 2] } },
 *   "main",
 *   { projectRoot: "/home/me/project" },
 * );
 * console.log(spec.location); // /home/me/project/store
 * ```
 */
export function storeSpec(
  stores: Record<string, unknown>,
  name: string,
  options: StoreSpecOptions = {},
): StoreSpec {
  name = resolveStoreName(stores, name);
  const raw = stores[name];
  if (!isPlainObject(raw)) {
    throw new ConfigError(
      `config.stores["${name}"] must be an object (a store spec such as ` +
        `{"protocol": "file", "location": "..."}), got ${describe(raw)}`,
    );
  }
  const protocolRaw = raw.protocol;
  const lowered = typeof protocolRaw === "string" ? protocolRaw.toLowerCase() : "";
  if (lowered === "gcs" || lowered === "azure") {
    throw new ConfigError(
      `config.stores["${name}"]: protocol "${lowered}" is not supported by DataJoint for Deno ` +
        `(supported: ${SUPPORTED.join(", ")}); use an S3-compatible endpoint instead`,
    );
  }
  if (!(SUPPORTED as readonly string[]).includes(lowered)) {
    throw new ConfigError(
      `Missing or invalid protocol in config.stores["${name}"]. ` +
        `Supported protocols: ${SUPPORTED.join(", ")}`,
    );
  }
  const protocol = lowered as StoreProtocol;

  const missing = REQUIRED[protocol].filter((k) => !Object.hasOwn(raw, k));
  if (missing.length) {
    throw new ConfigError(`config.stores["${name}"] is missing: ${missing.join(", ")}`);
  }
  const invalid = Object.keys(raw).filter((k) => !ALLOWED[protocol].includes(k));
  if (invalid.length) {
    throw new ConfigError(
      `Invalid key(s) in config.stores["${name}"]: ${invalid.join(", ")} ` +
        `(allowed for protocol ${protocol}: ${ALLOWED[protocol].join(", ")})`,
    );
  }

  const where = (key: string) => `config.stores["${name}"].${key}`;
  const str = (key: string, optional: boolean): string | undefined => {
    const v = raw[key];
    if (v === undefined || (optional && v === null)) return undefined;
    if (typeof v !== "string") {
      throw new ConfigError(`${where(key)} must be a string, got ${describe(v)}`);
    }
    return v;
  };

  let location = str("location", false)!;
  if (protocol === "file") {
    // Python keeps a relative location relative to the CWD; anchoring it at the project root
    // makes the same datajoint.json work from any working directory (see module doc).
    if (!isAbsolute(location)) location = resolve(options.projectRoot ?? Deno.cwd(), location);
  }

  let subfolding: number[] | null = null;
  if (raw.subfolding !== undefined && raw.subfolding !== null) {
    const sf = raw.subfolding;
    if (
      !Array.isArray(sf) || !sf.every((n) => typeof n === "number" && Number.isInteger(n) && n > 0)
    ) {
      throw new ConfigError(
        `${where("subfolding")} must be a list of positive integers such as [2, 2], or null; ` +
          `got ${describe(sf)}`,
      );
    }
    if (sf.reduce((a: number, b: number) => a + b, 0) >= 26) {
      throw new ConfigError(
        `${where("subfolding")}=${JSON.stringify(sf)} folds away the whole 26-character hash; ` +
          `use a few short folds such as [2, 2]`,
      );
    }
    // An empty list is falsy in Python: flat.
    subfolding = sf.length ? [...sf] : null;
  }

  const partition = str("partition_pattern", true) ?? null;

  let tokenLength = 8;
  if (raw.token_length !== undefined && raw.token_length !== null) {
    const t = raw.token_length;
    if (typeof t !== "number" || !Number.isInteger(t)) {
      throw new ConfigError(`${where("token_length")} must be an integer, got ${describe(t)}`);
    }
    tokenLength = Math.max(4, Math.min(16, t));
  }

  const hashPrefix = str("hash_prefix", false) ?? "_hash";
  const schemaPrefix = str("schema_prefix", false) ?? "_schema";
  const filepathPrefix = str("filepath_prefix", true) ?? null;
  checkPrefix(name, "hash_prefix", hashPrefix);
  checkPrefix(name, "schema_prefix", schemaPrefix);
  if (filepathPrefix !== null) checkPrefix(name, "filepath_prefix", filepathPrefix);

  // Reference `_validate_prefix_separation`, message and all.
  const prefixes: [string, string][] = [];
  if (hashPrefix) prefixes.push(["hash_prefix", hashPrefix]);
  if (schemaPrefix) prefixes.push(["schema_prefix", schemaPrefix]);
  if (filepathPrefix) prefixes.push(["filepath_prefix", filepathPrefix]);
  const normalized = prefixes.map(([, p]) => strip(p) + "/");
  for (let i = 0; i < prefixes.length; i++) {
    for (let j = i + 1; j < prefixes.length; j++) {
      if (normalized[i].startsWith(normalized[j]) || normalized[j].startsWith(normalized[i])) {
        throw new ConfigError(
          `config.stores["${name}"]: ${prefixes[i][0]}="${prefixes[i][1]}" and ` +
            `${prefixes[j][0]}="${prefixes[j][1]}" overlap. ` +
            `Storage section prefixes must be mutually exclusive.`,
        );
      }
    }
  }

  const spec: StoreSpec = {
    protocol,
    location,
    subfolding,
    partition_pattern: partition,
    token_length: tokenLength,
    hash_prefix: hashPrefix,
    schema_prefix: schemaPrefix,
    filepath_prefix: filepathPrefix,
  };
  const stage = str("stage", true);
  if (stage !== undefined) spec.stage = stage;

  if (protocol === "s3") {
    const endpoint = str("endpoint", false)!;
    const bucket = str("bucket", false)!;
    if (endpoint === "") throw new ConfigError(`${where("endpoint")} must not be empty`);
    if (bucket === "") throw new ConfigError(`${where("bucket")} must not be empty`);
    spec.endpoint = endpoint;
    spec.bucket = bucket;
    // Empty credentials count as absent, as the reference's backend turns them into None.
    const accessKey = str("access_key", true) || undefined;
    const secretKey = str("secret_key", true) || undefined;
    if ((accessKey === undefined) !== (secretKey === undefined)) {
      const has = accessKey !== undefined ? "access_key" : "secret_key";
      const lacks = accessKey !== undefined ? "secret_key" : "access_key";
      throw new ConfigError(
        `config.stores["${name}"] has ${has} but no ${lacks}: give both (in datajoint.json or ` +
          `.secrets/stores.${name}.${lacks}) or neither (to use the ambient AWS credentials)`,
      );
    }
    if (accessKey !== undefined) {
      spec.access_key = accessKey;
      spec.secret_key = secretKey;
    }
    const secure = raw.secure ?? true;
    if (typeof secure !== "boolean") {
      throw new ConfigError(`${where("secure")} must be true or false, got ${describe(secure)}`);
    }
    spec.secure = secure;
    const region = str("region", true);
    if (region !== undefined) spec.region = region;
  }
  return spec;
}
