/**
 * Where DataJoint puts objects inside a store, exactly as DataJoint Python 2.3 does (reference
 * §3.1, §3.2): content hashes, hash-addressed paths, schema-addressed paths with primary-key
 * folders and random tokens. Pure: no I/O.
 *
 * Paths must match Python's byte for byte where Python can recompute them: its garbage collector
 * compares stored paths as exact strings, so a path spelled differently is either invisible to it
 * or deleted as an orphan.
 *
 * @example
 * ```ts
 * import { computeHash, hashPath, objectPath } from "./paths.ts";
 * const spec = { subfolding: [2, 2], hash_prefix: "_hash" };
 * const h = computeHash(new TextEncoder().encode("hello"));
 * console.log(hashPath(h, "lab", spec)); // _hash/lab/lv/au/lvauakv4jmvhnolrtwiraf6fsi
 * const { path } = objectPath({
 *   schema: "lab", table: "__analysis", field: "result", ext: ".npy",
 *   key: [["subject", "s1"], ["session", 3]],
 *   spec: { partition_pattern: null, token_length: 8, schema_prefix: "_schema" },
 * });
 * console.log(path); // e.g. _schema/lab/__analysis/subject=s1/session=3/result_m-B3P0Q4.npy
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import { DataJointError } from "../lib/errors.ts";
import type { StoreSpec } from "./backend.ts";

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** Lowercase RFC 4648 base32 without padding. */
function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * The content hash DataJoint uses for hash-addressed objects: lowercase base32 of the MD5 digest,
 * padding stripped (always 26 characters from `[a-z2-7]`). Reference `compute_hash`; the docs'
 * BLAKE2b is wrong.
 *
 * @example
 * ```ts
 * import { computeHash } from "./paths.ts";
 * computeHash(new TextEncoder().encode("hello")); // "lvauakv4jmvhnolrtwiraf6fsi"
 * ```
 */
export function computeHash(bytes: Uint8Array): string {
  return base32(createHash("md5").update(bytes).digest());
}

/** An incremental content hasher, for data that arrives in pieces. */
export interface ContentHasher {
  /** Feeds more bytes. */
  update(bytes: Uint8Array): ContentHasher;
  /** The {@link computeHash} of everything fed so far (the hasher cannot be used afterwards). */
  digest(): string;
}

/**
 * An incremental {@link computeHash}: feed chunks, then read the hash.
 *
 * @example
 * ```ts
 * import { createContentHasher } from "./paths.ts";
 * const h = createContentHasher();
 * h.update(new TextEncoder().encode("hel")).update(new TextEncoder().encode("lo"));
 * h.digest(); // "lvauakv4jmvhnolrtwiraf6fsi"
 * ```
 */
export function createContentHasher(): ContentHasher {
  const md5 = createHash("md5");
  const hasher: ContentHasher = {
    update(bytes: Uint8Array): ContentHasher {
      md5.update(bytes);
      return hasher;
    },
    digest(): string {
      return base32(md5.digest());
    },
  };
  return hasher;
}

/**
 * The {@link computeHash} of a stream, read to its end without holding it in memory.
 *
 * @example
 * ```ts
 * import { hashStream } from "./paths.ts";
 * const file = await Deno.open("big.bin");
 * console.log(await hashStream(file.readable)); // the file is closed at the end of the stream
 * ```
 */
export async function hashStream(stream: ReadableStream<Uint8Array>): Promise<string> {
  const hasher = createContentHasher();
  for await (const chunk of stream) hasher.update(chunk);
  return hasher.digest();
}

/**
 * Throws unless `hash` looks like a {@link computeHash} result: 26 characters of lowercase
 * base32. (Python accepts any 26 lowercase alphanumerics; `0`, `1`, `8` and `9` can never come
 * out of base32, so rejecting them changes nothing for real hashes.)
 *
 * @throws {DataJointError} `Invalid content hash (expected 26-char lowercase base32): …`
 *
 * @example
 * ```ts
 * import { assertContentHash } from "./paths.ts";
 * assertContentHash("lvauakv4jmvhnolrtwiraf6fsi"); // ok
 * ```
 */
export function assertContentHash(hash: string): void {
  if (typeof hash !== "string" || !/^[a-z2-7]{26}$/.test(hash)) {
    throw new DataJointError(
      `Invalid content hash (expected 26-char lowercase base32): ${String(hash)}`,
    );
  }
}

/** A store's section prefix as Python uses it: slashes stripped at both ends. */
function section(prefix: string): string {
  return prefix.replace(/^\/+/, "").replace(/\/+$/, "");
}

function checkSegment(what: string, value: string): void {
  if (typeof value !== "string" || value === "" || value.includes("/")) {
    throw new DataJointError(
      `Invalid ${what} ${JSON.stringify(value)} for a store path: it must be non-empty and ` +
        `contain no "/"`,
    );
  }
}

/**
 * The store-relative path of a hash-addressed object (reference `build_hash_path`):
 * `{hash_prefix}/{schema}/{hash}`, or with subfolding `(a, b, …)`
 * `{hash_prefix}/{schema}/{hash[0:a]}/{hash[a:a+b]}/…/{hash}`. No file extension. An empty
 * `hash_prefix` leaves the section out.
 *
 * @throws {DataJointError} for an invalid hash or schema name.
 *
 * @example
 * ```ts
 * import { hashPath } from "./paths.ts";
 * const h = "lvauakv4jmvhnolrtwiraf6fsi";
 * hashPath(h, "my_schema", { subfolding: null, hash_prefix: "_hash" }); // _hash/my_schema/lvauakv4jmvhnolrtwiraf6fsi
 * hashPath(h, "s", { subfolding: [1, 3, 5], hash_prefix: "/blobs/" }); // blobs/s/l/vau/akv4j/lvauakv4jmvhnolrtwiraf6fsi
 * ```
 */
export function hashPath(
  hash: string,
  schema: string,
  spec: Pick<StoreSpec, "subfolding" | "hash_prefix">,
): string {
  assertContentHash(hash);
  checkSegment("schema name", schema);
  const parts: string[] = [];
  const prefix = section(spec.hash_prefix ?? "_hash");
  if (prefix) parts.push(prefix);
  parts.push(schema);
  let at = 0;
  for (const fold of spec.subfolding ?? []) {
    if (!Number.isInteger(fold) || fold <= 0 || at + fold >= hash.length) {
      throw new DataJointError(
        `Invalid subfolding ${JSON.stringify(spec.subfolding)}: positive integers that leave ` +
          `part of the hash unfolded, such as [2, 2]`,
      );
    }
    parts.push(hash.slice(at, at + fold));
    at += fold;
  }
  parts.push(hash);
  return parts.join("/");
}

const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * A random token for schema-addressed file names (reference `generate_token`): `length` clamped
 * to 4..16, each character drawn uniformly (cryptographic randomness) from `A-Z a-z 0-9 - _`.
 *
 * @example
 * ```ts
 * import { generateToken } from "./paths.ts";
 * generateToken(8); // e.g. "xE4ERAQx"
 * ```
 */
export function generateToken(length = 8): string {
  const n = Math.max(4, Math.min(16, Math.trunc(Number.isFinite(length) ? length : 8)));
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  // 64 characters: the low 6 bits of a uniform byte are uniform.
  return Array.from(bytes, (b) => TOKEN_ALPHABET[b & 63]).join("");
}

/**
 * Python's `repr(float)`: shortest round-trip digits, fixed notation for decimal exponents in
 * -4 < e <= 16 with a `.0` for whole numbers, else `1e-05` / `1.5e+20` style.
 *
 * @example
 * ```ts
 * import { pythonFloatRepr } from "./paths.ts";
 * [1, 1e-5, 1e20, NaN, 0.1].map(pythonFloatRepr); // ["1.0", "1e-05", "1e+20", "nan", "0.1"]
 * ```
 */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // toExponential() without an argument gives the shortest round-trip digits, as Python does.
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential());
  if (!m) throw new Error(`unexpected float format ${x.toExponential()}`);
  const [, sign, first, rest = "", expText] = m;
  const digits = first + rest;
  const exp = Number(expText);
  const decpt = exp + 1;
  if (decpt <= -4 || decpt > 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${mantissa}e${exp < 0 ? "-" : "+"}${e}`;
  }
  if (decpt <= 0) return `${sign}0.${"0".repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${"0".repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/** Python's `repr(bytes)`, which is what `str(b'..')` gives. */
function pythonBytesRepr(bytes: Uint8Array): string {
  const hasSingle = bytes.includes(0x27);
  const hasDouble = bytes.includes(0x22);
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let out = "b" + quote;
  for (const b of bytes) {
    if (b === 0x5c) out += "\\\\";
    else if (String.fromCharCode(b) === quote) out += "\\" + quote;
    else if (b === 0x09) out += "\\t";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b < 0x20 || b >= 0x7f) out += "\\x" + b.toString(16).padStart(2, "0");
    else out += String.fromCharCode(b);
  }
  return out + quote;
}

/** `urllib.parse.quote(s, safe="")`: UTF-8, every byte outside `A-Za-z0-9_.-~` as `%XX`. */
function pythonQuote(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

type TypeClass = "int" | "float" | "bool" | "datetime" | "date" | "time" | "uuid" | "other";

function classify(type: string | undefined): TypeClass {
  if (!type) return "other";
  const t = type.trim().toLowerCase();
  if (/^(float32|float64|float|double|real)\b/.test(t)) return "float";
  if (/^(int8|int16|int32|int64|u?int|tinyint|smallint|mediumint|bigint|integer|year)\b/.test(t)) {
    return "int";
  }
  if (/^(bool|boolean)$/.test(t)) return "bool";
  if (/^(datetime|timestamp)\b/.test(t)) return "datetime";
  if (t === "date") return "date";
  if (/^time\b/.test(t)) return "time";
  if (t === "uuid") return "uuid";
  return "other";
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

const DATETIME_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

/** `datetime.strftime("%Y-%m-%dT%H-%M-%S")` of a datetime given as text; null if not one. */
function datetimeText(s: string): string | null {
  const m = DATETIME_TEXT.exec(s.trim());
  if (!m) return null;
  const [, y, mo, d, h = "00", mi = "00", se = "00"] = m;
  return `${y}-${mo}-${d}T${h}-${mi}-${se}`;
}

/** Python's `time.isoformat()` of a time given as text (colons kept); null if not one. */
function timeText(s: string): string | null {
  const m = /^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(s.trim());
  if (!m) return null;
  const [, h, mi, se, frac] = m;
  const base = `${h.padStart(2, "0")}:${mi}:${se}`;
  // isoformat() prints microseconds as six digits, and nothing when they are zero.
  return frac && Number(frac) !== 0 ? `${base}.${frac.padEnd(6, "0")}` : base;
}

/** The generic `str(v)` branch: raw, or escaped when unsafe or longer than 100 characters. */
function escapeText(s: string): string {
  const codePoints = Array.from(s);
  if (!/[/\\:*?"<>|]/.test(s) && codePoints.length <= 100) return s;
  let t = s;
  if (codePoints.length > 100) {
    const suffix = createHash("md5").update(new TextEncoder().encode(s)).digest("hex").slice(0, 8);
    t = codePoints.slice(0, 50).join("") + "_" + suffix;
  }
  return pythonQuote(t);
}

/**
 * One primary-key value as a path segment, as DataJoint Python's `encode_pk_value` spells the
 * Python value a TypeScript value stands for. `type` is the attribute's type (core names such as
 * `int32`, `float64`, `datetime`, `date`, `varchar(16)`, `uuid`, `bool`; native `double`, `time`
 * … work too) and decides what Python would have held:
 *
 * - numbers: Python `repr(float)` for float columns (`1` → `1.0`, `1e-5` → `1e-05`, `NaN` →
 *   `nan`), integer text for integer columns; untyped, whole numbers print as integers.
 * - `bigint` → integer text; `boolean` (or a number in a `bool` column) → `True` / `False`.
 * - `datetime`/`timestamp` columns, given as `YYYY-MM-DD[ HH:MM[:SS[.f]]]` text or a `Date`:
 *   `strftime("%Y-%m-%dT%H-%M-%S")`. A `Date` is read in UTC. Untyped `Date`s count as datetimes.
 * - `date` columns: `YYYY-MM-DD`; `time` columns: `HH:MM:SS[.ffffff]` with colons kept (Python's
 *   `time.isoformat()`, which is not escaped); `uuid` columns: canonical lowercase form.
 * - everything else (`str`): raw unless it holds one of `/ \ : * ? " < > |` or is longer than 100
 *   characters; then the first 50 characters + `_` + 8 hex digits of the MD5 of the whole string
 *   (when too long), percent-encoded like `urllib.parse.quote(s, safe="")`.
 * - `Uint8Array`: Python's `str(bytes)` (`b'ab'`), escaped by the rule above.
 *
 * @throws {DataJointError} for `null`/`undefined` (primary keys are never null) and other values
 * that have no Python counterpart (objects, functions).
 *
 * @example
 * ```ts
 * import { encodePkValue } from "./paths.ts";
 * encodePkValue(1, "float64");                      // "1.0"
 * encodePkValue("2024-01-05 06:07:08", "datetime"); // "2024-01-05T06-07-08"
 * encodePkValue("a/b");                             // "a%2Fb"
 * ```
 */
export function encodePkValue(value: unknown, type?: string): string {
  const kind = classify(type);
  if (value === null || value === undefined) {
    throw new DataJointError(
      `A primary-key value for a store path cannot be ${value}: primary keys are never null`,
    );
  }
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "bigint") {
    return kind === "float" ? pythonFloatRepr(Number(value)) : value.toString();
  }
  if (typeof value === "number") {
    if (kind === "bool" && (value === 0 || value === 1)) return value ? "True" : "False";
    if (kind === "float") return pythonFloatRepr(value);
    if (Number.isInteger(value)) return BigInt(value).toString();
    return pythonFloatRepr(value);
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new DataJointError("An invalid Date cannot be a primary-key value");
    }
    const date = `${pad(value.getUTCFullYear(), 4)}-${pad(value.getUTCMonth() + 1)}-${
      pad(value.getUTCDate())
    }`;
    if (kind === "date") return date;
    return `${date}T${pad(value.getUTCHours())}-${pad(value.getUTCMinutes())}-${
      pad(value.getUTCSeconds())
    }`;
  }
  if (value instanceof Uint8Array) return escapeText(pythonBytesRepr(value));
  if (typeof value === "string") {
    if (kind === "datetime") {
      const dt = datetimeText(value);
      if (dt !== null) return dt;
    } else if (kind === "date") {
      const m = DATETIME_TEXT.exec(value.trim());
      if (m) return `${m[1]}-${m[2]}-${m[3]}`;
    } else if (kind === "time") {
      const t = timeText(value);
      if (t !== null) return t;
    } else if (kind === "uuid") {
      const hex = value.trim().replace(/^urn:uuid:/i, "").replace(/[{}-]/g, "").toLowerCase();
      if (/^[0-9a-f]{32}$/.test(hex)) {
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
          hex.slice(20)
        }`;
      }
    }
    return escapeText(value);
  }
  throw new DataJointError(
    `Cannot use ${Object.prototype.toString.call(value)} as a primary-key value in a store path`,
  );
}

/** Input of {@link objectPath}. */
export interface ObjectPathInput {
  /** Schema (database) name. */
  schema: string;
  /** SQL table name with its tier prefix (`__analysis`, `#lookup`). */
  table: string;
  /** Attribute name. */
  field: string;
  /** Primary-key attributes of the row as `[name, value]`, in primary-key order. */
  key: readonly (readonly [string, unknown])[];
  /** Attribute types by name, for {@link encodePkValue}. */
  keyTypes?: Record<string, string>;
  /** Extension; a missing leading `.` is added; `""`/`null`/`undefined` gives none. */
  ext?: string | null;
  /** The store's layout settings. */
  spec: Pick<StoreSpec, "partition_pattern" | "token_length" | "schema_prefix">;
  /** Use this token instead of a random one (tests, retries). */
  token?: string;
}

/** Result of {@link objectPath}. */
export interface ObjectPath {
  /** Store-relative path. */
  path: string;
  /** The token in the file name. */
  token: string;
}

/**
 * The store-relative path of a schema-addressed object (reference `build_object_path`):
 * `[schema_prefix]/[partition k=v…]/{schema}/{table}/[pk k=v…]/{field}_{token}{ext}`.
 *
 * `partition_pattern` is parsed as Python does, with `\{(\w+)\}`: braces are required
 * (`"{subject_id}/{session_date}"`), and each pattern attribute that is in the key becomes
 * `attr=value` right after the prefix, in pattern order; attributes not in the key are skipped
 * (partial partitioning, no fallback). Partition attributes are left out of the key folders.
 *
 * @throws {DataJointError} for an empty or `/`-containing schema, table or field, or an
 * extension with a `/`.
 *
 * @example
 * ```ts
 * import { objectPath } from "./paths.ts";
 * const { path } = objectPath({
 *   schema: "sch", table: "__my_table", field: "field", ext: ".npy", token: "NmPKTdcP",
 *   key: [["a", 1], ["b", "x"], ["c", "2024-01-02"]], keyTypes: { c: "date" },
 *   spec: { partition_pattern: "{c}/{zz}/{a}", token_length: 8, schema_prefix: "_schema" },
 * });
 * console.log(path); // _schema/c=2024-01-02/a=1/sch/__my_table/b=x/field_NmPKTdcP.npy
 * ```
 */
export function objectPath(input: ObjectPathInput): ObjectPath {
  const { schema, table, field, key, keyTypes = {}, spec } = input;
  checkSegment("schema name", schema);
  checkSegment("table name", table);
  checkSegment("attribute name", field);
  let ext = input.ext ?? "";
  if (ext.includes("/")) {
    throw new DataJointError(`Invalid extension ${JSON.stringify(ext)}: it cannot contain "/"`);
  }
  if (ext && !ext.startsWith(".")) ext = "." + ext;
  const token = input.token ?? generateToken(spec.token_length ?? 8);

  const pattern: string[] = [];
  for (const m of (spec.partition_pattern ?? "").matchAll(/\{([\p{L}\p{N}_]+)\}/gu)) {
    if (!pattern.includes(m[1])) pattern.push(m[1]);
  }
  const values = new Map(key.map(([k, v]) => [k, v] as const));
  const segment = (name: string, value: unknown) =>
    `${name}=${encodePkValue(value, keyTypes[name])}`;

  const parts: string[] = [];
  const prefix = section(spec.schema_prefix ?? "_schema");
  if (prefix) parts.push(prefix);
  for (const name of pattern) {
    if (values.has(name)) parts.push(segment(name, values.get(name)));
  }
  parts.push(schema, table);
  for (const [name, value] of key) {
    if (!pattern.includes(name)) parts.push(segment(name, value));
  }
  parts.push(`${field}_${token}${ext}`);
  return { path: parts.join("/"), token };
}

/**
 * Throws unless `path` is a clean store-relative path: `/`-separated, no leading `/`, no empty,
 * `.` or `..` segments, no backslash or NUL. With `allowRoot`, `""` (the store root) and a
 * trailing `/` are accepted too (for listings). Backends check every path they are given, so a
 * path from metadata can never reach outside the store.
 *
 * @throws {DataJointError} naming the path and the rule it breaks.
 *
 * @example
 * ```ts
 * import { assertStorePath } from "./paths.ts";
 * assertStorePath("_hash/lab/lvauakv4jmvhnolrtwiraf6fsi"); // ok
 * assertStorePath("_schema/lab/", { allowRoot: true });    // ok
 * ```
 */
export function assertStorePath(path: string, options: { allowRoot?: boolean } = {}): void {
  const bad = (why: string): never => {
    throw new DataJointError(`Invalid store path ${JSON.stringify(path)}: ${why}`);
  };
  if (typeof path !== "string") bad("it must be a string");
  let p = path;
  if (options.allowRoot) {
    if (p === "") return;
    if (p.endsWith("/")) p = p.slice(0, -1);
  }
  if (p === "") bad("it is empty");
  if (p.startsWith("/")) bad("it must be relative to the store (no leading /)");
  if (p.includes("\\") || p.includes("\0")) bad("it cannot contain a backslash or NUL");
  for (const seg of p.split("/")) {
    if (seg === "") bad("it has an empty segment (// or a trailing /)");
    if (seg === "." || seg === "..") bad(`it cannot contain "${seg}" segments`);
  }
}
