/**
 * DataJoint configuration, read the way DataJoint Python 2.x reads it, with TypeScript's camelCase
 * names.
 *
 * Sources, from strongest to weakest:
 *
 * 1. `overrides` passed to {@link loadConfig} (the equivalent of assigning `dj.config[...]`);
 * 2. `DJ_*` environment variables;
 * 3. `datajoint.json`, found by searching from the working directory upward, stopping at a folder
 *    that contains `.git` or `.hg`, or at `/`;
 * 4. secrets: `.secrets/` next to `datajoint.json`, else `/run/secrets/datajoint/`, one file per
 *    value named by its dotted key (`database.user`, `database.password`,
 *    `stores.<name>.<attr>`);
 * 5. defaults.
 *
 * `DJ_IGNORE_CONFIG_FILE=true` (or `ignoreFile: true`) skips the file and the secrets.
 *
 * Environment variables: `DJ_HOST` (may be `host:port` or `[v6]:port`), `DJ_USER`, `DJ_PASS`,
 * `DJ_BACKEND` (`mysql`, `postgresql`, alias `postgres`, `pglite`), `DJ_PORT`, `DJ_DATABASE_NAME`,
 * `DJ_CREATE_TABLES`, `DJ_USE_TLS`, `DJ_LOG_LEVEL`, `DJ_SAFEMODE`, `DJ_DOWNLOAD_PATH`,
 * `DJ_STORES` (a JSON object that replaces `stores` from the file and secrets; overrides still
 * merge into it), `DJ_JOBS_<FIELD>` (e.g. `DJ_JOBS_KEEP_COMPLETED`), `DJ_IGNORE_CONFIG_FILE`, and
 * this library's own `DJ_PGLITE_PATH`. An empty variable counts as unset, except `DJ_PASS` (an
 * empty password). Booleans accept `true/false`, `1/0`, `yes/no`, `on/off`, as pydantic does; the
 * file accepts the same text forms besides JSON booleans and numbers.
 *
 * File keys are DataJoint Python's snake_case names, nested (`{"database": {"use_tls": true}}`)
 * or dotted (`"database.use_tls"`); camelCase spellings are accepted too. `stores` keeps Python's
 * spelling inside (store specs belong to the stores module). A `null` text value (as Python writes
 * `"user": null`) means "not set". A relative `database.path` in the file is relative to the file's
 * folder; from the environment or overrides, relative to the working directory.
 *
 * Where this differs from the reference on purpose:
 *
 * - With neither a backend nor a host configured anywhere, the backend is the embedded `"pglite"`
 *   (data in `<projectRoot>/.dj/pglite`), so a fresh project runs with zero setup. A configured
 *   host without a backend still means `"mysql"`, like the reference.
 * - The default port follows the *effective* backend (3306 for MySQL, 5432 for PostgreSQL), wherever
 *   the backend was set (reference bug #31 leaves 3306 when the backend comes from the file).
 * - Malformed input is a {@link ConfigError} that names the source and says what to do. Unknown keys
 *   in `datajoint.json` are *warnings* (through `onWarning`, default `console.warn`), not errors:
 *   a file written for a newer DataJoint Python must still load. Keys that DataJoint Python knows
 *   but this library does not use (`connection.charset`, `database.database_prefix`,
 *   `display.diagram_direction`, `display.diagram_theme`, `query_cache`) are accepted silently.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 *
 * const config = loadConfig({ env: { DJ_HOST: "db.example.org:3307", DJ_USER: "alice" } });
 * console.log(config.database.backend, config.database.port); // mysql 3307
 * console.log(config.sources["database.host"]); // { kind: "env", detail: "DJ_HOST" }
 * ```
 *
 * @module
 */

import type { Backend } from "./adapters/driver.ts";
import { ConfigError } from "./errors.ts";

export type { Backend };

/** Connection settings (`database.*` in `datajoint.json`). */
export interface DatabaseConfig {
  /** `"mysql"`, `"postgresql"` or the embedded `"pglite"`. */
  backend: Backend;
  /** Server host name (default `"localhost"`); a `host:port` value sets the port too. */
  host: string;
  /** Server port; when not configured, 3306 for MySQL and 5432 for PostgreSQL/PGlite. */
  port: number;
  /** User name (default `""`: the driver's default). */
  user: string;
  /** Password (default `""`). */
  password: string;
  /** PostgreSQL database to connect to (default `"postgres"`). */
  name: string;
  /** PGlite data directory, or `"memory://"` for an in-memory database. */
  path: string;
  /** TLS: `true` require, `false` disable, `null` try TLS and fall back to plain. */
  useTls: boolean | null;
  /** Whether schemas may create missing tables (default `true`). */
  createTables: boolean;
  /** Whether a lost connection is re-opened automatically (default `true`). */
  reconnect: boolean;
}

/** Job-queue settings (`jobs.*`). */
export interface JobsConfig {
  /** Refresh the job queue from the key source before populating (default `true`). */
  autoRefresh: boolean;
  /** Keep `success` rows in the jobs table (default `false`). */
  keepCompleted: boolean;
  /** Seconds after which a reserved job counts as stale (default `3600`). */
  staleTimeout: number;
  /** Priority of newly added jobs; lower runs first (default `5`). */
  defaultPriority: number;
  /** How the code version of a job is recorded: `"git"`, `"none"` or `null` (default). */
  versionMethod: "git" | "none" | null;
  /** Allow primary-key fields in Computed tables beyond the key source's (default `false`). */
  allowNewPkFieldsInComputedTables: boolean;
  /** Add hidden `_job_*` columns to Computed/Imported tables (default `false`). */
  addJobMetadata: boolean;
}

/** Display settings (`display.*`). */
export interface DisplayConfig {
  /** Rows shown when a query is printed (default `12`). */
  limit: number;
  /** Column width when a query is printed (default `14`). */
  width: number;
  /** Print the number of rows under a preview (default `true`). */
  showTupleCount: boolean;
}

/** The log levels DataJoint Python accepts. */
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";

/** Where a configuration value came from. */
export interface ConfigSource {
  /** The kind of source. `"derived"` means computed from other values (backend, port, path). */
  kind: "default" | "derived" | "secrets" | "file" | "env" | "override";
  /** The file path or environment variable name, when there is one. */
  detail?: string;
}

/** The complete configuration. */
export interface Config {
  /** Connection settings. */
  database: DatabaseConfig;
  /**
   * Object stores, exactly as DataJoint Python spells them: `default` and `filepath_default` name
   * stores; every other key is a store spec `{ protocol, location, ... }` with snake_case fields.
   */
  stores: Record<string, unknown>;
  /** Ask before deleting or dropping (default `true`). */
  safemode: boolean;
  /** Log level (default `"INFO"`). */
  loglevel: LogLevel;
  /** Where fetched attachments and files go (default `"."`). */
  downloadPath: string;
  /** Job-queue settings. */
  jobs: JobsConfig;
  /** Display settings. */
  display: DisplayConfig;
  /**
   * The folder of `datajoint.json`, else of the nearest `deno.json`/`deno.jsonc` (searched upward
   * from the working directory up to a `.git`/`.hg` boundary), else the working directory.
   */
  projectRoot: string;
  /** The `datajoint.json` that was read, or `null`. */
  configFile: string | null;
  /** The secrets folder that was read, or `null`. */
  secretsDir: string | null;
  /**
   * Where each value came from, keyed by dotted camelCase path (`"database.host"`,
   * `"jobs.keepCompleted"`, `"stores"`).
   */
  sources: Record<string, ConfigSource>;
  /** Warnings raised while loading (unknown keys), also passed to `onWarning`. */
  warnings: string[];
}

/** A recursive `Partial`, for {@link LoadConfigOptions.overrides}. */
export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K]
    : T[K] extends object ? DeepPartial<T[K]>
    : T[K];
};

/** Options for {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Where the search for `datajoint.json` starts (default `Deno.cwd()`). */
  cwd?: string;
  /** Environment variables (default `Deno.env.toObject()`). */
  env?: Record<string, string | undefined>;
  /** Values that win over every other source. */
  overrides?: DeepPartial<Omit<Config, "sources" | "warnings" | "configFile" | "secretsDir">>;
  /** Skip `datajoint.json` and secrets (like `DJ_IGNORE_CONFIG_FILE=true`). */
  ignoreFile?: boolean;
  /** The system secrets folder used when there is no `.secrets/` (default `/run/secrets/datajoint`). */
  systemSecretsDir?: string;
  /** Receives warnings (unknown keys); default `console.warn`. */
  onWarning?: (message: string) => void;
}

// ---------------------------------------------------------------------------------------------
// Key table
// ---------------------------------------------------------------------------------------------

type Kind =
  | "string"
  | "bool"
  | "int"
  | "port"
  | "backend"
  | "tls"
  | "loglevel"
  | "versionMethod";

/** Python dotted name (snake_case) → value kind. The TS path is the camelCase of the same name. */
const KEYS: Record<string, Kind> = {
  "database.backend": "backend",
  "database.host": "string",
  "database.port": "port",
  "database.user": "string",
  "database.password": "string",
  "database.name": "string",
  "database.path": "string",
  "database.use_tls": "tls",
  "database.create_tables": "bool",
  "database.reconnect": "bool",
  "safemode": "bool",
  "loglevel": "loglevel",
  "download_path": "string",
  "jobs.auto_refresh": "bool",
  "jobs.keep_completed": "bool",
  "jobs.stale_timeout": "int",
  "jobs.default_priority": "int",
  "jobs.version_method": "versionMethod",
  "jobs.allow_new_pk_fields_in_computed_tables": "bool",
  "jobs.add_job_metadata": "bool",
  "display.limit": "int",
  "display.width": "int",
  "display.show_tuple_count": "bool",
};

/** Keys DataJoint Python knows that this library does not use: accepted without a warning. */
const IGNORED_KEYS = new Set([
  "connection.charset",
  "database.database_prefix",
  "display.diagram_direction",
  "display.diagram_theme",
  "query_cache",
]);

const SECTIONS = new Set(["database", "jobs", "display", "connection"]);

/** Secrets files that are read (besides `stores.<name>.<attr>`). */
const SECRET_KEYS = new Set(["database.user", "database.password"]);

/** Environment variables with one key each. */
const ENV_KEYS: Record<string, string> = {
  DJ_HOST: "database.host",
  DJ_USER: "database.user",
  DJ_PASS: "database.password",
  DJ_BACKEND: "database.backend",
  DJ_PORT: "database.port",
  DJ_DATABASE_NAME: "database.name",
  DJ_CREATE_TABLES: "database.create_tables",
  DJ_USE_TLS: "database.use_tls",
  DJ_LOG_LEVEL: "loglevel",
  DJ_SAFEMODE: "safemode",
  DJ_DOWNLOAD_PATH: "download_path",
  DJ_PGLITE_PATH: "database.path",
};

const LOG_LEVELS: readonly LogLevel[] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

function snakeToCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function camelToSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** TS path (`database.createTables`) for a Python dotted name (`database.create_tables`). */
function tsPath(pyKey: string): string {
  return pyKey.split(".").map(snakeToCamel).join(".");
}

// ---------------------------------------------------------------------------------------------
// Value parsing
// ---------------------------------------------------------------------------------------------

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(JSON.stringify(value));
}

/**
 * Converts one raw value to its kind. `raw` may be a JSON value (file, overrides) or text (env,
 * secrets); text is accepted everywhere because pydantic accepts `"true"` and `"5"` in files too.
 * `where` names the source for the error message.
 */
function parseValue(pyKey: string, kind: Kind, raw: unknown, where: string): unknown {
  const fail = (expected: string, hint: string): never => {
    throw new ConfigError(
      `${where}: ${pyKey} must be ${expected}, got ${describe(raw)}. ${hint}`,
    );
  };
  switch (kind) {
    case "string":
      if (typeof raw === "string") return raw;
      if (typeof raw === "number") return String(raw);
      return fail("a string", "Quote the value.");
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (typeof raw === "string") {
        const b = parseBool(raw);
        if (b !== undefined) return b;
      }
      return fail("true or false", "Use true/false (or 1/0, yes/no, on/off).");
    case "int": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" ? parseNumber(raw) : NaN;
      if (!Number.isSafeInteger(n)) return fail("an integer", "Write a whole number.");
      return n;
    }
    case "port": {
      if (raw === null) return null;
      const n = typeof raw === "number" ? raw : typeof raw === "string" ? parseNumber(raw) : NaN;
      if (!Number.isInteger(n) || n < 1 || n > 65535) {
        return fail("a TCP port (1-65535)", "Write a number such as 3306 or 5432.");
      }
      return n;
    }
    case "backend": {
      const s = typeof raw === "string" ? raw.trim().toLowerCase() : undefined;
      if (s === "mysql" || s === "postgresql" || s === "pglite") return s;
      if (s === "postgres") return "postgresql";
      return fail(
        'one of "mysql", "postgresql" (alias "postgres") or "pglite"',
        "Fix the backend name.",
      );
    }
    case "tls": {
      if (raw === null || typeof raw === "boolean") return raw;
      if (typeof raw === "string") {
        const s = raw.trim().toLowerCase();
        if (s === "none" || s === "null") return null;
        const b = parseBool(s);
        if (b !== undefined) return b;
      }
      return fail("true, false or null", "Use true to require TLS, false to disable it.");
    }
    case "loglevel": {
      const s = typeof raw === "string" ? raw.trim().toUpperCase() : undefined;
      if (s === "WARN") return "WARNING";
      if (s !== undefined && (LOG_LEVELS as readonly string[]).includes(s)) return s;
      return fail(`one of ${LOG_LEVELS.join(", ")}`, "Fix the log level.");
    }
    case "versionMethod": {
      if (raw === null) return null;
      const s = typeof raw === "string" ? raw.trim().toLowerCase() : undefined;
      if (s === "git" || s === "none") return s;
      if (s === "null" || s === "") return null;
      return fail('"git", "none" or null', "Fix jobs.version_method.");
    }
  }
}

function parseBool(s: string): boolean | undefined {
  switch (s.trim().toLowerCase()) {
    case "true":
    case "1":
    case "yes":
    case "on":
    case "y":
    case "t":
      return true;
    case "false":
    case "0":
    case "no":
    case "off":
    case "n":
    case "f":
      return false;
  }
  return undefined;
}

function parseNumber(s: string): number {
  const t = s.trim();
  return /^[+-]?\d+$/.test(t) ? Number(t) : NaN;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Deep merge of plain objects; `src` wins; arrays and other values replace. Never mutates. */
function deepMerge(
  base: Record<string, unknown>,
  src: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(src)) {
    // A `__proto__` key from JSON must become data, never a prototype.
    const prev = Object.hasOwn(out, k) ? out[k] : undefined;
    const next = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
    Object.defineProperty(out, k, {
      value: next,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Sets `obj[path...] = value`, creating plain objects on the way. */
function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const part of path.slice(0, -1)) {
    const next = Object.hasOwn(cur, part) ? cur[part] : undefined;
    if (isPlainObject(next)) {
      cur = next;
    } else {
      const fresh: Record<string, unknown> = {};
      Object.defineProperty(cur, part, {
        value: fresh,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      cur = fresh;
    }
  }
  Object.defineProperty(cur, path[path.length - 1], {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

// ---------------------------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------------------------

/** One source's contribution: parsed values by Python key, plus stores. */
interface Layer {
  source: ConfigSource;
  values: Map<string, unknown>;
  /** Store entries to deep-merge into `stores`. */
  stores?: Record<string, unknown>;
  /** When set, `stores` replaces everything weaker instead of merging (DJ_STORES). */
  replaceStores?: boolean;
  /** Per-key source detail (the environment variable's name), overriding `source.detail`. */
  details?: Map<string, string>;
}

function newLayer(source: ConfigSource): Layer {
  return { source, values: new Map() };
}

/** Normalises a key from a file or overrides (snake or camel) to the Python dotted name. */
function pyName(dotted: string): string {
  return dotted.split(".").map(camelToSnake).join(".");
}

/**
 * Adds one leaf (`pyKey` dotted, value raw) from a file or overrides to `layer`. Store keys go to
 * `layer.stores`; unknown keys produce a warning.
 */
function addLeaf(
  layer: Layer,
  parts: string[],
  raw: unknown,
  where: string,
  warn: (m: string) => void,
): void {
  if (raw === undefined) return; // an override spelled `{ host: undefined }` sets nothing
  if (parts[0] === "stores") {
    if (parts.length === 1) {
      if (!isPlainObject(raw)) {
        throw new ConfigError(
          `${where}: stores must be an object mapping store names to specs, got ${describe(raw)}.`,
        );
      }
      layer.stores = deepMerge(layer.stores ?? {}, raw);
    } else {
      const obj: Record<string, unknown> = {};
      setPath(obj, parts.slice(1), raw);
      layer.stores = deepMerge(layer.stores ?? {}, obj);
    }
    return;
  }
  const key = pyName(parts.join("."));
  if (parts.length === 1 && SECTIONS.has(key)) {
    if (!isPlainObject(raw)) {
      throw new ConfigError(`${where}: ${key} must be an object, got ${describe(raw)}.`);
    }
    for (const [k, v] of Object.entries(raw)) {
      addLeaf(layer, [key, ...k.split(".")], v, where, warn);
    }
    return;
  }
  if (parts.length > 1 && SECTIONS.has(parts[0]) && parts.length > 2) {
    // e.g. "database.host.x": not a key of ours.
    warn(`${where}: unknown configuration key ${JSON.stringify(parts.join("."))} ignored.`);
    return;
  }
  const kind = KEYS[key];
  if (kind === undefined) {
    if (IGNORED_KEYS.has(key)) return;
    if (isPlainObject(raw) && parts.length === 1) {
      // An unknown section: report its leaves by name.
      warn(`${where}: unknown configuration section ${JSON.stringify(parts[0])} ignored.`);
      return;
    }
    warn(`${where}: unknown configuration key ${JSON.stringify(parts.join("."))} ignored.`);
    return;
  }
  // `null` for a text setting (DataJoint Python writes `"user": null`) means "not set here".
  if (raw === null && kind === "string") return;
  layer.values.set(key, parseValue(key, kind, raw, where));
}

/** Parses the object of a `datajoint.json` (or the overrides) into a layer. */
function objectLayer(
  obj: Record<string, unknown>,
  source: ConfigSource,
  where: string,
  warn: (m: string) => void,
): Layer {
  const layer = newLayer(source);
  for (const [k, v] of Object.entries(obj)) addLeaf(layer, k.split("."), v, where, warn);
  return layer;
}

function readFileLayer(path: string, warn: (m: string) => void): Layer {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new ConfigError(
      `Cannot read ${path}: ${(e as Error).message}. Check its permissions (and --allow-read).`,
      { cause: e },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(
      `${path} is not valid JSON: ${(e as Error).message}. Fix the file or set ` +
        `DJ_IGNORE_CONFIG_FILE=true to skip it.`,
      { cause: e },
    );
  }
  if (!isPlainObject(data)) {
    throw new ConfigError(
      `${path} must contain a JSON object such as {"database": {"host": "..."}}, got ${
        Array.isArray(data) ? "an array" : describe(data)
      }.`,
    );
  }
  return objectLayer(data, { kind: "file", detail: path }, path, warn);
}

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

function parentDir(dir: string): string {
  if (dir === "/") return "/";
  const trimmed = dir.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  return i <= 0 ? "/" : trimmed.slice(0, i);
}

function absolute(path: string, base: string): string {
  if (path.startsWith("/")) return normalise(path);
  return normalise(joinPath(base, path));
}

/** Collapses `.`, `..` and repeated slashes in an absolute POSIX path. */
function normalise(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

/**
 * Searches for `datajoint.json` from `cwd` upward. The search stops after a folder that contains
 * `.git` or `.hg` (a project boundary), or at `/`.
 *
 * @example
 * ```ts
 * import { findConfigFile } from "./config.ts";
 * const file = findConfigFile(Deno.cwd());
 * console.log(file ?? "no datajoint.json");
 * ```
 */
export function findConfigFile(cwd: string): string | undefined {
  return findUpward(cwd, ["datajoint.json"]);
}

/**
 * The folder of the nearest `deno.json` or `deno.jsonc` from `cwd` upward, with the same project
 * boundary as {@link findConfigFile}: the project root when there is no `datajoint.json`, so a
 * script run from a subfolder uses the project's embedded database, not a new one of its own.
 *
 * @example
 * ```ts
 * import { findDenoProject } from "./config.ts";
 * console.log(findDenoProject(Deno.cwd()) ?? "not in a Deno project");
 * ```
 */
export function findDenoProject(cwd: string): string | undefined {
  const file = findUpward(cwd, ["deno.json", "deno.jsonc"]);
  return file === undefined ? undefined : parentDir(file);
}

function findUpward(cwd: string, names: string[]): string | undefined {
  let dir = absolute(cwd, Deno.cwd());
  for (;;) {
    for (const name of names) {
      const candidate = joinPath(dir, name);
      if (exists(candidate)) return candidate;
    }
    if (exists(joinPath(dir, ".git")) || exists(joinPath(dir, ".hg")) || dir === "/") {
      return undefined;
    }
    dir = parentDir(dir);
  }
}

function readSecretsLayer(dir: string): Layer {
  const layer = newLayer({ kind: "secrets", detail: dir });
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    throw new ConfigError(
      `Cannot list the secrets folder ${dir}: ${(e as Error).message}. Check its permissions.`,
      { cause: e },
    );
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.isDirectory) continue;
    const name = entry.name;
    const isStore = /^stores\.[^.]+\.[^.]+$/.test(name);
    if (!SECRET_KEYS.has(name) && !isStore) continue; // other tools' secrets may live here too
    const file = joinPath(dir, name);
    let value: string;
    try {
      value = Deno.readTextFileSync(file).trim();
    } catch (e) {
      throw new ConfigError(
        `Cannot read the secret ${file}: ${(e as Error).message}. Check its permissions.`,
        { cause: e },
      );
    }
    if (isStore) {
      const [, store, attr] = name.split(".");
      layer.stores = deepMerge(layer.stores ?? {}, { [store]: { [attr]: value } });
    } else {
      layer.values.set(name, parseValue(name, KEYS[name], value, `secret ${file}`));
    }
  }
  return layer;
}

function readEnvLayer(env: Record<string, string | undefined>, warn: (m: string) => void): Layer {
  const layer = newLayer({ kind: "env" });
  const sources = new Map<string, string>();
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    // An empty variable counts as unset, except DJ_PASS where "" is a real (empty) password.
    if (raw === undefined || (raw === "" && name !== "DJ_PASS")) continue;
    layer.values.set(key, parseValue(key, KEYS[key], raw, `environment variable ${name}`));
    sources.set(key, name);
  }
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("DJ_JOBS_") || raw === undefined || raw === "") continue;
    const key = `jobs.${name.slice("DJ_JOBS_".length).toLowerCase()}`;
    const kind = KEYS[key];
    if (kind === undefined) {
      warn(`environment variable ${name} is not a jobs setting; ignored.`);
      continue;
    }
    layer.values.set(key, parseValue(key, kind, raw, `environment variable ${name}`));
    sources.set(key, name);
  }
  const stores = env.DJ_STORES;
  if (stores !== undefined && stores !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(stores);
    } catch (e) {
      throw new ConfigError(
        `environment variable DJ_STORES is not valid JSON: ${(e as Error).message}. ` +
          `Set it to a JSON object such as {"main": {"protocol": "file", "location": "/data"}}.`,
        { cause: e },
      );
    }
    if (!isPlainObject(parsed)) {
      throw new ConfigError(
        `environment variable DJ_STORES must be a JSON object mapping store names to specs, got ${
          Array.isArray(parsed) ? "an array" : describe(parsed)
        }.`,
      );
    }
    layer.stores = deepMerge({}, parsed);
    layer.replaceStores = true;
    sources.set("stores", "DJ_STORES");
  }
  layer.details = sources;
  return layer;
}

/** Flattens the overrides object into Python dotted names (camelCase keys are accepted). */
function overridesLayer(
  overrides: Record<string, unknown>,
  warn: (m: string) => void,
): Layer {
  return objectLayer(overrides, { kind: "override" }, "overrides", warn);
}

/** Splits `host:port` / `[v6]:port`; a bare IPv6 address (several colons) has no port. */
function splitHostPort(host: string): { host: string; port?: string } {
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(host);
  if (v6) return { host: v6[1], port: v6[2] };
  const colons = host.split(":").length - 1;
  if (colons !== 1) return { host };
  const i = host.indexOf(":");
  return { host: host.slice(0, i), port: host.slice(i + 1) };
}

// ---------------------------------------------------------------------------------------------
// loadConfig
// ---------------------------------------------------------------------------------------------

const DEFAULTS: Record<string, unknown> = {
  "database.host": "localhost",
  "database.user": "",
  "database.password": "",
  "database.name": "postgres",
  "database.use_tls": null,
  "database.create_tables": true,
  "database.reconnect": true,
  "safemode": true,
  "loglevel": "INFO",
  "download_path": ".",
  "jobs.auto_refresh": true,
  "jobs.keep_completed": false,
  "jobs.stale_timeout": 3600,
  "jobs.default_priority": 5,
  "jobs.version_method": null,
  "jobs.allow_new_pk_fields_in_computed_tables": false,
  "jobs.add_job_metadata": false,
  "display.limit": 12,
  "display.width": 14,
  "display.show_tuple_count": true,
};

/**
 * Reads the configuration from overrides, `DJ_*` environment variables, `datajoint.json`, secrets
 * and defaults (in that order of precedence). Synchronous. Throws {@link ConfigError} for any
 * malformed input, naming the source.
 *
 * Needs `--allow-read` (for the file and secrets) and `--allow-env` unless `env` is given.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 *
 * // No datajoint.json, no DJ_* variables: the embedded PGlite database of the project.
 * const config = loadConfig({ env: {}, ignoreFile: true, cwd: "/tmp/project" });
 * console.log(config.database.backend, config.database.path); // pglite /tmp/project/.dj/pglite
 *
 * // Runtime overrides win over everything.
 * const pg = loadConfig({
 *   env: {},
 *   ignoreFile: true,
 *   overrides: { database: { backend: "postgresql", host: "127.0.0.1" } },
 * });
 * console.log(pg.database.port); // 5432
 * ```
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const warnings: string[] = [];
  const onWarning = options.onWarning ?? ((m: string) => console.warn(`datajoint: ${m}`));
  const warn = (m: string): void => {
    warnings.push(m);
    onWarning(m);
  };
  let env: Record<string, string | undefined>;
  try {
    env = options.env ?? Deno.env.toObject();
  } catch (e) {
    throw new ConfigError(
      `Cannot read environment variables: ${(e as Error).message}. Run with --allow-env ` +
        `or pass options.env.`,
      { cause: e },
    );
  }
  const cwd = absolute(options.cwd ?? Deno.cwd(), Deno.cwd());

  const ignoreRaw = env.DJ_IGNORE_CONFIG_FILE;
  let ignore = options.ignoreFile ?? false;
  if (ignoreRaw !== undefined && ignoreRaw !== "") {
    const b = parseBool(ignoreRaw);
    if (b === undefined) {
      throw new ConfigError(
        `environment variable DJ_IGNORE_CONFIG_FILE must be true or false, got ${
          JSON.stringify(ignoreRaw)
        }.`,
      );
    }
    ignore ||= b;
  }

  // Weakest first.
  const layers: Layer[] = [];
  let configFile: string | null = null;
  let secretsDir: string | null = null;
  if (!ignore) {
    configFile = findConfigFile(cwd) ?? null;
    const local = configFile ? joinPath(parentDir(configFile), ".secrets") : undefined;
    const system = options.systemSecretsDir ?? "/run/secrets/datajoint";
    if (local !== undefined && isDir(local)) secretsDir = local;
    else if (isDir(system)) secretsDir = system;
    if (secretsDir) layers.push(readSecretsLayer(secretsDir));
    if (configFile) layers.push(readFileLayer(configFile, warn));
  }
  const envLayer = readEnvLayer(env, warn);
  layers.push(envLayer);
  if (options.overrides) {
    layers.push(overridesLayer(options.overrides as Record<string, unknown>, warn));
  }
  const projectRoot = configFile ? parentDir(configFile) : findDenoProject(cwd) ?? cwd;

  // Resolve every key: strongest layer that has it, else the default.
  const values = new Map<string, unknown>(Object.entries(DEFAULTS));
  const sources: Record<string, ConfigSource> = {};
  for (const key of Object.keys(KEYS)) {
    sources[tsPath(key)] = { kind: "default" };
  }
  for (const layer of layers) {
    for (const [key, value] of layer.values) {
      values.set(key, value);
      const detail = layer.details?.get(key) ?? layer.source.detail;
      sources[tsPath(key)] = detail === undefined
        ? { kind: layer.source.kind }
        : { kind: layer.source.kind, detail };
    }
  }

  // Stores: deep-merged, DJ_STORES replaces what is weaker.
  let stores: Record<string, unknown> = {};
  sources.stores = { kind: "default" };
  for (const layer of layers) {
    if (layer.stores === undefined) continue;
    stores = layer.replaceStores ? layer.stores : deepMerge(stores, layer.stores);
    const detail = layer.details?.get("stores") ?? layer.source.detail;
    sources.stores = detail === undefined
      ? { kind: layer.source.kind }
      : { kind: layer.source.kind, detail };
  }

  // host:port, from any source, sets the port too (as dj.Connection does).
  let host = values.get("database.host") as string;
  const split = splitHostPort(host);
  if (split.port !== undefined) {
    host = split.host;
    const hostSource = sources["database.host"];
    const where = hostSource.detail ?? hostSource.kind;
    values.set(
      "database.port",
      parseValue("database.port", "port", split.port, `database.host (${where})`),
    );
    sources["database.port"] = { ...hostSource };
  }

  // Backend: configured, else mysql when a host is configured, else the embedded default.
  let backend = values.get("database.backend") as Backend | undefined;
  if (backend === undefined) {
    const hostConfigured = sources["database.host"].kind !== "default";
    backend = hostConfigured ? "mysql" : "pglite";
    sources["database.backend"] = { kind: "derived" };
  }

  // Port: from the effective backend when not configured (reference bug #31).
  let port = values.get("database.port") as number | null | undefined;
  if (port === undefined || port === null) {
    port = backend === "mysql" ? 3306 : 5432;
    sources["database.port"] = { kind: "derived" };
  }

  // PGlite path: relative paths from the file are relative to its folder, others to cwd.
  let path = values.get("database.path") as string | undefined;
  const pathSource = sources["database.path"];
  if (path === undefined) {
    path = joinPath(projectRoot, ".dj/pglite");
    sources["database.path"] = { kind: "derived" };
  } else if (path === "" || path.startsWith("memory://")) {
    path = "memory://";
  } else {
    path = absolute(path, pathSource.kind === "file" ? projectRoot : cwd);
  }

  // The embedded default comes with a local file store, so store-backed codecs work with zero
  // setup too; any configured stores replace it.
  if (Object.keys(stores).length === 0 && backend === "pglite") {
    stores = {
      default: "local",
      local: { protocol: "file", location: joinPath(projectRoot, ".dj/store") },
    };
    sources.stores = { kind: "derived" };
  }

  return {
    database: {
      backend,
      host,
      port,
      user: values.get("database.user") as string,
      password: values.get("database.password") as string,
      name: values.get("database.name") as string,
      path,
      useTls: values.get("database.use_tls") as boolean | null,
      createTables: values.get("database.create_tables") as boolean,
      reconnect: values.get("database.reconnect") as boolean,
    },
    stores,
    safemode: values.get("safemode") as boolean,
    loglevel: values.get("loglevel") as LogLevel,
    downloadPath: values.get("download_path") as string,
    jobs: {
      autoRefresh: values.get("jobs.auto_refresh") as boolean,
      keepCompleted: values.get("jobs.keep_completed") as boolean,
      staleTimeout: values.get("jobs.stale_timeout") as number,
      defaultPriority: values.get("jobs.default_priority") as number,
      versionMethod: values.get("jobs.version_method") as JobsConfig["versionMethod"],
      allowNewPkFieldsInComputedTables: values.get(
        "jobs.allow_new_pk_fields_in_computed_tables",
      ) as boolean,
      addJobMetadata: values.get("jobs.add_job_metadata") as boolean,
    },
    display: {
      limit: values.get("display.limit") as number,
      width: values.get("display.width") as number,
      showTupleCount: values.get("display.show_tuple_count") as boolean,
    },
    projectRoot,
    configFile,
    secretsDir,
    sources,
    warnings,
  };
}
