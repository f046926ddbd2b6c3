/**
 * The DataJoint type system: which attribute types a definition may use and what each one is.
 *
 * - **Core types** (portable, recorded in the column comment as `:type:`): `int8` … `int64`,
 *   `float32`, `float64`, `bool`, `uuid`, `json`, `bytes`, `date`, `datetime[(n)]`, `char(n)`,
 *   `varchar(n)`, `enum(...)`, `decimal(p,s)`. Lowercase only.
 * - **Native types** (passed to the database verbatim, with a portability warning): `int`,
 *   `int unsigned`, `double`, `timestamp`, `time`, `year`, `longblob`, `text`, …
 * - **Codec types** `<name>`, `<name@>`, `<name@store>`, resolved through the codec chain to a core
 *   type (`<blob@main>` → `<hash@main>` → `json`).
 *
 * Everything here is pure: no database, no I/O. Native types are matched with fully anchored
 * patterns and tight argument grammars, so nothing from a definition can smuggle SQL into DDL.
 *
 * @example
 * ```ts
 * import { parseType } from "./types.ts";
 * const t = parseType("decimal(6,2)");
 * console.log(t.kind, t.kind === "core" && t.name); // core decimal
 * ```
 *
 * @module
 */
import { DeclarationError } from "./errors.ts";

/** Names of the core types. */
export type CoreTypeName =
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "float32"
  | "float64"
  | "bool"
  | "uuid"
  | "json"
  | "bytes"
  | "date"
  | "datetime"
  | "char"
  | "varchar"
  | "enum"
  | "decimal";

/** A core type with its parameters. `text` is the type as written (outer whitespace stripped). */
export interface CoreType {
  /** Discriminant. */
  kind: "core";
  /** Which core type. */
  name: CoreTypeName;
  /** The type exactly as written; becomes the comment marker `:text:`. */
  text: string;
  /** `char(n)` / `varchar(n)` length. */
  length?: number;
  /** `datetime(n)` fractional-second digits, when given. */
  fsp?: number;
  /** `decimal(p,s)` precision. */
  precision?: number;
  /** `decimal(p,s)` scale. */
  scale?: number;
  /** `enum(...)` labels in declared order. */
  labels?: string[];
}

/** Categories of native (non-portable) types, as DataJoint Python names them. */
export type NativeCategory =
  | "INTEGER"
  | "NUMERIC"
  | "FLOAT"
  | "STRING"
  | "TEMPORAL"
  | "NATIVE_BLOB"
  | "NATIVE_TEXT";

/** A native SQL type, passed through verbatim. */
export interface NativeType {
  /** Discriminant. */
  kind: "native";
  /** Category (decides numeric/string/blob handling). */
  category: NativeCategory;
  /** The type exactly as written. */
  text: string;
}

/** A codec reference `<name>`, `<name@>` or `<name@store>`. */
export interface CodecRef {
  /** Discriminant. */
  kind: "codec";
  /** Codec name. */
  name: string;
  /** `null` without `@`; `""` for a bare `@` (the default store); else the store name. */
  store: string | null;
  /** The type exactly as written. */
  text: string;
}

/** Any declared attribute type. */
export type DeclaredType = CoreType | NativeType | CodecRef;

const INT_CORE: Record<string, CoreTypeName> = {
  int8: "int8",
  int16: "int16",
  int32: "int32",
  int64: "int64",
  float32: "float32",
  float64: "float64",
  bool: "bool",
  uuid: "uuid",
  json: "json",
  bytes: "bytes",
  date: "date",
};

// Native patterns: anchored at both ends (reference bug #18) and with argument lists limited to
// numbers, so a definition cannot carry SQL into the DDL through a type.
const ARGS = String.raw`(\s*\(\s*\d+\s*(,\s*\d+\s*)?\))?`;
const NATIVE: [NativeCategory, RegExp][] = [
  [
    "INTEGER",
    new RegExp(
      String
        .raw`^(((tiny|small|medium|big|)int|integer)${ARGS}(\s+unsigned)?(\s+zerofill)?(\s+auto_increment)?|serial)$`,
      "i",
    ),
  ],
  ["NUMERIC", new RegExp(String.raw`^numeric${ARGS}(\s+unsigned)?$`, "i")],
  ["FLOAT", new RegExp(String.raw`^(double|float|real)${ARGS}(\s+unsigned)?$`, "i")],
  ["STRING", new RegExp(String.raw`^(var)?char\s*\(\s*\d+\s*\)$`, "i")],
  ["TEMPORAL", /^(time|timestamp)(\s*\(\s*\d\s*\))?$|^year(\s*\(\s*4\s*\))?$/i],
  ["NATIVE_BLOB", /^(tiny|small|medium|long)blob$/i],
  ["NATIVE_TEXT", /^(tiny|small|medium|long)?text$/i],
];

function unsupported(text: string, hint?: string): DeclarationError {
  return new DeclarationError(
    `Unsupported attribute type ${text}${hint ? `: ${hint}` : ""}`,
  );
}

/**
 * Parses the SQL single-quoted labels of an `enum(...)` argument list: `'a', 'it''s'`. Labels may
 * not contain a backslash (MySQL and PostgreSQL read it differently) or a colon (it would break
 * the `:type:` comment marker).
 */
function parseEnumLabels(body: string, text: string): string[] {
  const labels: string[] = [];
  let i = 0;
  const skipWs = () => {
    while (i < body.length && /\s/.test(body[i])) i++;
  };
  skipWs();
  while (i < body.length) {
    if (body[i] !== "'") {
      throw unsupported(text, "enum labels must be single-quoted strings, e.g. enum('a', 'b')");
    }
    i++;
    let label = "";
    for (;;) {
      if (i >= body.length) throw unsupported(text, "an enum label is not closed with '");
      if (body[i] === "'") {
        if (body[i + 1] === "'") {
          label += "'";
          i += 2;
          continue;
        }
        i++;
        break;
      }
      label += body[i++];
    }
    if (label.includes("\\")) throw unsupported(text, "enum labels must not contain a backslash");
    if (label.includes(":")) {
      throw unsupported(text, "enum labels must not contain ':' (it breaks the type marker)");
    }
    labels.push(label);
    skipWs();
    if (i < body.length) {
      if (body[i] !== ",") throw unsupported(text, "separate enum labels with commas");
      i++;
      skipWs();
      if (i >= body.length) throw unsupported(text, "an enum label list must not end in a comma");
    }
  }
  if (labels.length === 0) throw unsupported(text, "an enum needs at least one label");
  if (new Set(labels).size !== labels.length) throw unsupported(text, "enum labels must differ");
  return labels;
}

const CODEC_RE = /^<\s*([A-Za-z_][A-Za-z0-9_]*)\s*(@\s*([A-Za-z0-9_-]*)\s*)?>$/;

/**
 * Parses an attribute type as written in a definition. Throws a `DeclarationError`
 * (`Unsupported attribute type …`) for anything that is neither a core, a native nor a codec type.
 *
 * @example
 * ```ts
 * import { parseType } from "./types.ts";
 * console.log(parseType("<blob@main>")); // { kind: "codec", name: "blob", store: "main", text: "<blob@main>" }
 * console.log(parseType("int unsigned").kind); // native
 * ```
 */
export function parseType(typeText: string): DeclaredType {
  const text = typeText.trim();
  if (text.startsWith("<")) {
    const m = CODEC_RE.exec(text);
    if (!m) {
      throw unsupported(
        text,
        "a codec type is <name>, <name@> or <name@store> (name: letters, digits, _)",
      );
    }
    return { kind: "codec", name: m[1], store: m[2] === undefined ? null : m[3], text };
  }
  const core = parseCore(text);
  if (core) return core;
  for (const [category, re] of NATIVE) {
    if (re.test(text)) return { kind: "native", category, text };
  }
  throw unsupported(text, suggestion(text));
}

function suggestion(text: string): string | undefined {
  const lower = text.toLowerCase();
  if (/^u?int\d+$/.test(lower) && lower.startsWith("u")) {
    return "there are no unsigned core types; use a wider signed type or the native `int unsigned`";
  }
  if (lower === "boolean") return "use bool";
  if (lower === "blob") return "use <blob> (serialized) or bytes (raw)";
  if (lower === "jsonb") return "use json";
  if (lower === "double precision") return "use float64";
  if (lower === "bytea") return "use bytes";
  if (/^(var)?char$/.test(lower)) return `give a length, e.g. ${lower}(255)`;
  if (lower === "decimal") return "give precision and scale, e.g. decimal(10,2)";
  if (lower === "datetime") return undefined;
  return "see the README's types table for the core types (int32, float64, varchar(n), …)";
}

/** Core-type recognition; an uppercase core keyword is rejected (reference bug #17). */
function parseCore(text: string): CoreType | undefined {
  const head = /^[A-Za-z]+[0-9]*/.exec(text)?.[0] ?? "";
  const lowerHead = head.toLowerCase();
  const lower = lowerHead + text.slice(head.length);
  let core: CoreType | undefined;
  if (INT_CORE[lower] !== undefined) {
    core = { kind: "core", name: INT_CORE[lower], text };
  } else if (lower === "jsonb") {
    return undefined;
  } else if (lowerHead === "datetime") {
    const m = /^datetime(\s*\(\s*(\d+)\s*\))?$/.exec(lower);
    if (!m) return undefined;
    core = { kind: "core", name: "datetime", text };
    if (m[2] !== undefined) {
      const fsp = Number(m[2]);
      if (fsp > 6) throw unsupported(text, "datetime precision is 0 to 6");
      core.fsp = fsp;
    }
  } else if (lowerHead === "char" || lowerHead === "varchar") {
    const m = /^(var)?char\s*\(\s*(\d+)\s*\)$/.exec(lower);
    if (!m) return undefined;
    const length = Number(m[2]);
    if (length < 1 || length > 65535) throw unsupported(text, "the length must be 1 to 65535");
    core = { kind: "core", name: m[1] ? "varchar" : "char", text, length };
  } else if (lowerHead === "enum") {
    const m = /^enum\s*\(([\s\S]*)\)$/.exec(lower);
    if (!m) return undefined;
    core = {
      kind: "core",
      name: "enum",
      text,
      labels: parseEnumLabels(text.slice(text.indexOf("(") + 1, -1), text),
    };
  } else if (lowerHead === "decimal") {
    const m = /^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(lower);
    if (!m) return undefined;
    const precision = Number(m[1]);
    const scale = Number(m[2]);
    if (precision < 1 || precision > 65 || scale > precision) {
      throw unsupported(text, "decimal(p,s) needs 1 ≤ p ≤ 65 and s ≤ p");
    }
    core = { kind: "core", name: "decimal", text, precision, scale };
  }
  if (core && head !== lowerHead) {
    throw unsupported(text, `core types are lowercase: write ${lower}`);
  }
  return core;
}

/** What type resolution needs from a codec. */
export interface CodecTypeInfo {
  /** Codec name. */
  readonly name: string;
  /** Storage type one level down (see the codec contract). */
  getDtype(isStore: boolean): string;
}

/** Finds a codec by name; `undefined` when unknown. */
export type CodecLookup = (name: string) => CodecTypeInfo | undefined;

/** A declared type resolved down to what the column holds. */
export interface ResolvedType {
  /** The type as declared. */
  declared: DeclaredType;
  /** The storage type: a core type, or the native type itself. */
  storage: CoreType | NativeType;
  /** The codec chain, outermost first (empty for core and native types). */
  chain: { name: string; store: string | null }[];
  /** The effective store: `null` in-table, `""` for the default store, else its name. */
  store: string | null;
}

/**
 * Resolves a type through its codec chain. A store given at an outer level propagates to inner
 * codecs written without one (`<blob@main>` → `<hash@main>`).
 *
 * @example
 * ```ts
 * import { resolveType } from "./types.ts";
 * import { getCodec } from "../codecs/registry.ts";
 * import "../codecs/builtins.ts";
 * const r = resolveType("<blob@main>", getCodec);
 * console.log(r.storage.text, r.chain.map((c) => c.name), r.store); // json [blob, hash] main
 * ```
 */
export function resolveType(typeText: string, lookup: CodecLookup): ResolvedType {
  const declared = parseType(typeText);
  const chain: { name: string; store: string | null }[] = [];
  let current: DeclaredType = declared;
  let store: string | null = null;
  const seen = new Set<string>();
  while (current.kind === "codec") {
    const ref: CodecRef = current;
    store = ref.store ?? store;
    if (seen.has(ref.name)) {
      throw new DeclarationError(
        `Circular codec reference in ${declared.text}: <${ref.name}> appears twice in its chain`,
      );
    }
    seen.add(ref.name);
    const codec = lookup(ref.name);
    if (codec === undefined) {
      throw new DeclarationError(
        `Unknown codec <${ref.name}> in type ${declared.text}: define it with codec({ name: "${ref.name}", … }) ` +
          `before declaring, or map it in deno.json under "datajoint" → "codecs"`,
      );
    }
    chain.push({ name: ref.name, store });
    let inner: string;
    try {
      inner = codec.getDtype(store !== null);
    } catch (e) {
      throw new DeclarationError(
        `Type ${declared.text}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    if (typeof inner !== "string") {
      throw new DeclarationError(
        `Codec <${ref.name}>.getDtype() returned ${typeof inner}; it must return a type string`,
      );
    }
    try {
      current = parseType(inner);
    } catch (e) {
      throw new DeclarationError(
        `Codec <${ref.name}> names an invalid storage type ${
          JSON.stringify(inner)
        } (in ${declared.text})`,
        { cause: e },
      );
    }
  }
  if (chain.length > 0 && current.kind === "native") {
    throw new DeclarationError(
      `Codec <${chain.at(-1)!.name}> must store a core type, not the native type ${current.text}`,
    );
  }
  return { declared, storage: current, chain, store };
}

/**
 * Whether a storage type holds blobs or JSON (`bytes`, `json`, native blobs): such attributes may
 * not be in a primary key.
 *
 * @example
 * ```ts
 * import { isBlobLike, parseType } from "./types.ts";
 * console.log(isBlobLike(parseType("bytes") as never)); // true
 * ```
 */
export function isBlobLike(storage: CoreType | NativeType): boolean {
  return storage.kind === "core"
    ? storage.name === "bytes" || storage.name === "json"
    : storage.category === "NATIVE_BLOB";
}
