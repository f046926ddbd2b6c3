/**
 * Codec plugins: a codec named in a definition but not yet registered is looked up in the user's
 * `deno.json` and loaded with a dynamic `import()` on first use, so an installed plugin behaves
 * exactly like a built-in codec.
 *
 * Two ways to name a plugin in `deno.json` (or `deno.jsonc`):
 *
 * 1. A `datajoint.codecs` section mapping codec names to specifiers. A specifier is a URL
 *    (`https:`, `file:`, `jsr:`, `npm:` …), a path relative to the `deno.json` folder (`./…`,
 *    `../…`, `/…`), or a key of the same file's `imports` (exact, or under a prefix key ending
 *    in `/`):
 *
 *    ```jsonc
 *    {
 *      "imports": { "@lab/graph-codec": "https://example.org/codecs/graph.ts" },
 *      "datajoint": {
 *        "codecs": {
 *          "graph": "@lab/graph-codec",
 *          "mesh": "./codecs/mesh.ts"
 *        }
 *      }
 *    }
 *    ```
 *
 * 2. The naming convention: every `imports` key `dj-codec-<name>` maps codec `<name>` to that
 *    import's target (`"dj-codec-cgraph": "jsr:@lab/cgraph-codec@1"`). An explicit
 *    `datajoint.codecs` entry wins over a convention key for the same name.
 *
 * Import-map keys are resolved here, from that very `deno.json` (and the file its `importMap`
 * field names), not by Deno: the file describing the project need not be the configuration Deno
 * is running with. Relative targets become `file:` URLs against the `deno.json` folder; a bare
 * specifier that the file does not map is passed to `import()` unchanged.
 *
 * Type resolution (`resolveType`) is synchronous, so plugins are loaded beforehand with
 * {@link ensureCodecs}. A plugin module registers its codec when imported (`codec({...})`), or
 * exports it (see {@link loadCodec}). Dynamic imports need permissions: `--allow-read` for local
 * files, `--allow-import=<host:port>` for remote modules outside Deno's default allow-list.
 *
 * @example
 * ```ts
 * import { ensureCodecs } from "./plugins.ts";
 * import { getCodec } from "./registry.ts";
 * import { resolveType } from "../lib/types.ts";
 * await ensureCodecs(["<graph>", "int32"], { projectRoot: "/path/to/project" });
 * console.log(resolveType("<graph>", getCodec).chain.map((c) => c.name)); // [graph, blob]
 * ```
 *
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CodecError, ConfigError } from "../lib/errors.ts";
import { type Codec, codec, type CodecSpec, getCodec, isCodec, listCodecs } from "./registry.ts";

/**
 * Where to look for plugin mappings, and how to import them.
 *
 * @example
 * ```ts
 * import type { PluginOptions } from "./plugins.ts";
 * const options: PluginOptions = {
 *   projectRoot: "/path/to/project",
 *   importer: (specifier) => import(specifier),
 * };
 * ```
 */
export interface PluginOptions {
  /** Folder to search upwards from for `deno.json`/`deno.jsonc`. Default `Deno.cwd()`. */
  projectRoot?: string;
  /** The `deno.json` to read, instead of searching from `projectRoot`. */
  configPath?: string;
  /**
   * Performs the dynamic import. Default `(s) => import(s)`. A copy of this library packaged for
   * npm resolves `import()` with Node's rules rather than the user's import map, so the
   * application passes its own `(s) => import(s)`.
   */
  importer?: (specifier: string) => Promise<unknown>;
}

/**
 * One plugin codec named in a `deno.json`.
 *
 * @example
 * ```ts
 * import { listPluginCodecs, type PluginCodecInfo } from "./plugins.ts";
 * const rows: PluginCodecInfo[] = await listPluginCodecs();
 * for (const r of rows) console.log(r.name, r.loaded ? "loaded" : "not loaded", r.specifier);
 * ```
 */
export interface PluginCodecInfo {
  /** Codec name, as used in `<name>`. */
  name: string;
  /** The resolved specifier that is imported. */
  specifier: string;
  /** Whether a codec of that name is registered now. */
  loaded: boolean;
}

interface PluginEntry {
  specifier: string;
  /** The specifier as written in the file, for messages. */
  written: string;
}

const CONFIG_NAMES = ["deno.json", "deno.jsonc"];
const CODEC_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CONVENTION = /^dj-codec-([A-Za-z_][A-Za-z0-9_]*)$/;
// Two or more letters, so that a Windows drive (`C:`) is not taken for a URL scheme.
const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]+:/;
const CODEC_TYPE = /^<\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:@[^<>]*)?>$/;

/**
 * The nearest `deno.json` or `deno.jsonc` in `startDir` or a folder above it, or `undefined`.
 * `startDir` may be a path or a `file:` URL. Within one folder `deno.json` wins, as with Deno.
 *
 * @example
 * ```ts
 * import { findDenoConfig } from "./plugins.ts";
 * console.log(findDenoConfig(Deno.cwd())); // e.g. /home/me/project/deno.json
 * ```
 */
export function findDenoConfig(startDir: string): string | undefined {
  let dir = resolve(startDir.startsWith("file:") ? fileURLToPath(startDir) : startDir);
  for (;;) {
    for (const name of CONFIG_NAMES) {
      const candidate = join(dir, name);
      try {
        if (Deno.statSync(candidate).isFile) return candidate;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) continue;
        throw new ConfigError(
          `Cannot look for ${candidate} (searching for the deno.json that maps codec plugins): ${
            errorText(e)
          }; run with --allow-read`,
          { cause: e },
        );
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Codec name → specifier to import, from a `deno.json`: its `datajoint.codecs` section, then every
 * `imports` key `dj-codec-<name>` not already named there. Specifiers come back resolved:
 * import-map keys replaced by their targets, relative paths turned into `file:` URLs. Throws a
 * `ConfigError` for a file that cannot be read or parsed, or a malformed `datajoint.codecs`.
 *
 * @example
 * ```ts
 * import { findDenoConfig, pluginSpecifiers } from "./plugins.ts";
 * const config = findDenoConfig(Deno.cwd());
 * if (config) {
 *   for (const [name, specifier] of pluginSpecifiers(config)) console.log(`<${name}>`, specifier);
 * }
 * ```
 */
export function pluginSpecifiers(configPath: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, entry] of pluginEntries(configPath)) out.set(name, entry.specifier);
  return out;
}

function pluginEntries(configPath: string): Map<string, PluginEntry> {
  const config = readJsonc(configPath);
  const imports = importMap(config, configPath);
  const entries = new Map<string, PluginEntry>();
  const section = config.datajoint;
  if (section !== undefined && !isPlainObject(section)) {
    throw new ConfigError(`"datajoint" in ${configPath} must be an object`);
  }
  const codecs = section?.codecs;
  if (codecs !== undefined) {
    if (!isPlainObject(codecs)) {
      throw new ConfigError(
        `"datajoint.codecs" in ${configPath} must be an object mapping codec names to module ` +
          `specifiers, e.g. { "graph": "./codecs/graph.ts" }`,
      );
    }
    for (const [name, written] of Object.entries(codecs)) {
      if (!CODEC_NAME.test(name)) {
        throw new ConfigError(
          `"datajoint.codecs" in ${configPath} names ${
            JSON.stringify(name)
          }: a codec name is letters, digits and underscores, not starting with a digit`,
        );
      }
      if (typeof written !== "string" || written.trim() === "") {
        throw new ConfigError(
          `"datajoint.codecs.${name}" in ${configPath} must be a module specifier (a URL, a ` +
            `relative path or a key of "imports"), got ${JSON.stringify(written)}`,
        );
      }
      entries.set(name, {
        specifier: resolveSpecifier(written.trim(), configPath, imports),
        written,
      });
    }
  }
  for (const [key, target] of imports) {
    const m = CONVENTION.exec(key);
    if (m && !entries.has(m[1])) entries.set(m[1], { specifier: target, written: key });
  }
  return entries;
}

/** The `imports` of a deno.json (and of the file its `importMap` names), targets resolved. */
function importMap(config: Record<string, unknown>, configPath: string): Map<string, string> {
  const out = new Map<string, string>();
  const add = (imports: unknown, file: string) => {
    if (imports === undefined) return;
    if (!isPlainObject(imports)) throw new ConfigError(`"imports" in ${file} must be an object`);
    for (const [key, target] of Object.entries(imports)) {
      if (typeof target === "string") out.set(key, resolveTarget(target, file));
    }
  };
  // Deno reads `importMap` only when the file has no `imports`; either way the file's own
  // entries are the more specific, so they are applied last.
  if (typeof config.importMap === "string") {
    const mapUrl = new URL(config.importMap, pathToFileURL(configPath));
    if (mapUrl.protocol === "file:") {
      const mapPath = fileURLToPath(mapUrl);
      add(readJsonc(mapPath).imports, mapPath);
    }
  }
  add(config.imports, configPath);
  return out;
}

/** An import-map target: URLs as they are, relative paths against the map file. */
function resolveTarget(target: string, file: string): string {
  if (URL_SCHEME.test(target)) return target;
  // A Windows path (`C:\…`) is no URL; POSIX and relative paths resolve as URLs, which (unlike
  // path.resolve) keeps the trailing slash of a prefix target.
  if (isAbsolute(target) && !target.startsWith("/")) return pathToFileURL(target).href;
  if (isRelative(target) || target.startsWith("/")) {
    return new URL(target, pathToFileURL(file)).href;
  }
  return target;
}

function resolveSpecifier(spec: string, configPath: string, imports: Map<string, string>): string {
  if (isRelative(spec) || (isAbsolute(spec) && !URL_SCHEME.test(spec))) {
    return resolveTarget(spec, configPath);
  }
  const exact = imports.get(spec);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  for (const key of imports.keys()) {
    if (key.endsWith("/") && spec.startsWith(key) && key.length > (best?.length ?? 0)) best = key;
  }
  if (best !== undefined) return imports.get(best)! + spec.slice(best.length);
  return spec;
}

function isRelative(spec: string): boolean {
  return spec.startsWith("./") || spec.startsWith("../");
}

function readJsonc(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new ConfigError(`Cannot read ${path}: ${errorText(e)}`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(stripJsonc(text));
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON(C): ${errorText(e)}`, { cause: e });
  }
  if (!isPlainObject(value)) throw new ConfigError(`${path} must contain a JSON object`);
  return value;
}

/**
 * JSONC → JSON: drops comments and trailing commas, never touching string contents (URLs hold
 * `//`, and a `/*` may be part of a glob).
 */
function stripJsonc(text: string): string {
  const noComments = scan(text.replace(/^\uFEFF/, ""), (c, next, i, src) => {
    if (c === "/" && next === "/") {
      const end = src.indexOf("\n", i);
      return { skipTo: end < 0 ? src.length : end, emit: "" };
    }
    if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      return { skipTo: end < 0 ? src.length : end + 2, emit: " " };
    }
    return undefined;
  });
  return scan(noComments, (c, _next, i, src) => {
    if (c !== ",") return undefined;
    let j = i + 1;
    while (j < src.length && /\s/.test(src[j])) j++;
    return src[j] === "}" || src[j] === "]" ? { skipTo: i + 1, emit: "" } : undefined;
  });
}

/** Copies `src`, letting `edit` replace spans that start outside string literals. */
function scan(
  src: string,
  edit: (
    c: string,
    next: string | undefined,
    i: number,
    src: string,
  ) => { skipTo: number; emit: string } | undefined,
): string {
  let out = "";
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === "\\" ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const change = edit(c, src[i + 1], i, src);
    if (change) {
      out += change.emit;
      i = change.skipTo;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

// In-flight loads only: once a load settles the registry answers (success) or a later call
// retries (failure), so nothing is memoised beyond the import itself.
const inflight = new Map<string, Promise<Codec | undefined>>();

/**
 * The codec `name` (`"graph"`, `"<graph>"` or `"<graph@store>"`): the registered one, else loaded
 * from the plugin the project's `deno.json` maps it to; `undefined` when no `deno.json` names it.
 *
 * After the import, the codec counts as defined when the module registered it, or when the
 * module exports a codec spec or a registered codec named `name` (as its default export, as an
 * export named `codec`, or as any export), which is then registered. A module that defines no
 * such codec, or that fails to import (missing file, HTTP 404, syntax error, missing
 * permission), raises a {@link CodecError} naming the specifier and the `deno.json`. Concurrent
 * calls for one name share a single import; a failed load is retried by the next call (Deno
 * itself remembers a module URL that failed to load for the life of the process, so a retry
 * succeeds only through an `importer` that can, e.g. one whose server was not up yet).
 *
 * @example
 * ```ts
 * import { loadCodec } from "./plugins.ts";
 * const graph = await loadCodec("graph", { projectRoot: "/path/to/project" });
 * console.log(graph?.getDtype(false)); // <blob>
 * ```
 */
export function loadCodec(name: string, options: PluginOptions = {}): Promise<Codec | undefined> {
  const bare = bareName(name);
  const existing = getCodec(bare);
  if (existing !== undefined) return Promise.resolve(existing);
  const pending = inflight.get(bare);
  if (pending !== undefined) return pending;
  const load = importCodec(bare, options).finally(() => inflight.delete(bare));
  inflight.set(bare, load);
  return load;
}

async function importCodec(name: string, options: PluginOptions): Promise<Codec | undefined> {
  const configPath = options.configPath ?? findDenoConfig(options.projectRoot ?? Deno.cwd());
  if (configPath === undefined) return undefined;
  const entry = pluginEntries(configPath).get(name);
  if (entry === undefined) return undefined;
  const { specifier, written } = entry;
  const origin = `${specifier} (${
    written === specifier ? "" : `"${written}", `
  }mapped for <${name}> in ${configPath})`;
  const before = new Set(listCodecs());
  let mod: unknown;
  try {
    mod = await (options.importer ?? defaultImporter)(specifier);
  } catch (e) {
    throw new CodecError(
      `Cannot load codec <${name}>: importing ${origin} failed: ${
        errorText(e).replace(/\.$/, "")
      }. Fix the entry in that deno.json or the module it names`,
      { cause: e },
    );
  }
  const registered = getCodec(name);
  if (registered !== undefined) return registered;
  const exported = exportedCodec(mod, name);
  if (exported !== undefined) return codec(exported as CodecSpec);
  const others = [
    ...listCodecs().filter((n) => !before.has(n)),
    ...exportedNames(mod).filter((n) => n !== name),
  ];
  throw new CodecError(
    `The module ${origin} loaded but defines no codec named "${name}"` +
      (others.length > 0
        ? ` (it defines ${[...new Set(others)].map((n) => `<${n}>`).join(", ")})`
        : "") +
      `. A codec plugin must register the codec when imported — codec({ name: "${name}", ` +
      `getDtype, encode, decode }) — or export it (as the default export, as "codec", or under ` +
      `any export name), with name "${name}"`,
  );
}

function defaultImporter(specifier: string): Promise<unknown> {
  return import(specifier);
}

/** The first export (default, `codec`, then any) that is a codec or a spec named `name`. */
function exportedCodec(mod: unknown, name: string): Codec | CodecSpec | undefined {
  for (const value of exportValues(mod)) {
    if ((isCodec(value) || isSpec(value)) && value.name === name) return value;
  }
  return undefined;
}

function exportedNames(mod: unknown): string[] {
  return exportValues(mod).filter((v) => isCodec(v) || isSpec(v)).map((v) => (v as CodecSpec).name);
}

function exportValues(mod: unknown): unknown[] {
  if (typeof mod !== "object" || mod === null) return [];
  const exports = mod as Record<string, unknown>;
  const rest = Object.keys(exports).filter((k) => k !== "default" && k !== "codec");
  return ["default", "codec", ...rest].filter((k) => k in exports).map((k) => exports[k]);
}

function isSpec(x: unknown): x is CodecSpec {
  if (typeof x !== "object" || x === null) return false;
  const s = x as Record<string, unknown>;
  return typeof s.name === "string" && typeof s.getDtype === "function" &&
    typeof s.encode === "function" && typeof s.decode === "function";
}

/**
 * Loads every plugin codec the type texts need: each `<name>`, `<name@>`, `<name@store>`, then
 * the codecs their chains name (`getDtype(true)` and `getDtype(false)`, recursively). Names that
 * no `deno.json` maps are left for `resolveType` to report; other texts (`int32`) are
 * ignored. Call it before declaring, since type resolution itself is synchronous.
 *
 * @example
 * ```ts
 * import { ensureCodecs } from "./plugins.ts";
 * import { getCodec } from "./registry.ts";
 * import { resolveType } from "../lib/types.ts";
 * await ensureCodecs(["<cgraph@cold>"]);
 * console.log(resolveType("<cgraph@cold>", getCodec).storage.text); // json
 * ```
 */
export async function ensureCodecs(
  typeTexts: Iterable<string>,
  options: PluginOptions = {},
): Promise<void> {
  const seen = new Set<string>();
  let wave = [...typeTexts].flatMap(codecNameOf);
  while (wave.length > 0) {
    const fresh = [...new Set(wave)].filter((n) => !seen.has(n));
    fresh.forEach((n) => seen.add(n));
    const loaded = await Promise.all(fresh.map((n) => loadCodec(n, options)));
    wave = loaded.flatMap((c) => (c === undefined ? [] : innerCodecNames(c)));
  }
}

function innerCodecNames(c: Codec): string[] {
  const names: string[] = [];
  for (const isStore of [true, false]) {
    try {
      const inner = c.getDtype(isStore);
      if (typeof inner === "string") names.push(...codecNameOf(inner));
    } catch {
      // A mode the codec refuses: resolveType reports it if a definition uses that mode.
    }
  }
  return names;
}

function codecNameOf(typeText: string): string[] {
  const m = CODEC_TYPE.exec(typeText.trim());
  return m ? [m[1]] : [];
}

function bareName(name: string): string {
  return name.trim().replace(/^<+|>+$/g, "").split("@")[0].trim();
}

/**
 * The plugin codecs the project's `deno.json` names, sorted by name, with whether each is loaded
 * (registered) now; `[]` without a `deno.json`. For a `dj codecs` listing.
 *
 * @example
 * ```ts
 * import { listPluginCodecs } from "./plugins.ts";
 * console.table(await listPluginCodecs({ projectRoot: "/path/to/project" }));
 * ```
 */
export function listPluginCodecs(options: PluginOptions = {}): Promise<PluginCodecInfo[]> {
  try {
    const configPath = options.configPath ?? findDenoConfig(options.projectRoot ?? Deno.cwd());
    if (configPath === undefined) return Promise.resolve([]);
    const rows = [...pluginSpecifiers(configPath)]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, specifier]) => ({ name, specifier, loaded: getCodec(name) !== undefined }));
    return Promise.resolve(rows);
  } catch (e) {
    return Promise.reject(e);
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
