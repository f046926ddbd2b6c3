/**
 * The equality rules of the golden blob vectors (README §4) between two tagged-JSON values:
 *
 * - (a) strict by default: tags, dtypes, shapes, field names, dict order, every element, `-0`;
 * - (b) a Python `int` of |v| ≤ 2^53 equals a finite integral `float` (not `-0`) of the same value,
 *   for Python-native numbers only (never array or scalar data);
 * - (c) a tuple equals a list with equal elements;
 * - (d) sets compare as multisets;
 * - (e) representation: scalar ≡ 0-d array, NaN = NaN, float32/complex64 data compared after
 *   rounding to float32, integer elements as numbers or strings, decimals by (sign, digits,
 *   exponent), dates and times by value, uuid/bytes hex case-insensitive.
 *
 * *Typed* mode turns off (b) and (c), for implementations that keep those distinctions.
 *
 * @module
 */

import { Decimal } from "../codecs/blob/scalars.ts";

/** Options of {@link taggedDiff}. */
export interface TaggedEqualOptions {
  /** Turn off rules (b) and (c): int ≠ float, tuple ≠ list. */
  typed?: boolean;
}

/**
 * The first difference between `actual` and `expected` under the equality rules, as
 * `"<path>: <reason>"`, or `undefined` when they are equal.
 *
 * @example
 * ```ts
 * import { taggedDiff } from "./_tagged_equal.ts";
 * taggedDiff({ int: "3" }, { float: 3 });                 // undefined
 * taggedDiff({ int: "3" }, { float: 3 }, { typed: true }); // "$: tag int ≠ float"
 * ```
 */
export function taggedDiff(
  actual: unknown,
  expected: unknown,
  options: TaggedEqualOptions = {},
): string | undefined {
  return new Checker(options.typed ?? false).value(actual, expected, "$");
}

/**
 * Whether two tagged values are equal under the rules (see {@link taggedDiff}).
 *
 * @example
 * ```ts
 * import { taggedEqual } from "./_tagged_equal.ts";
 * taggedEqual({ set: [{ int: "1" }, "a"] }, { set: ["a", { int: "1" }] }); // true
 * ```
 */
export function taggedEqual(
  actual: unknown,
  expected: unknown,
  options: TaggedEqualOptions = {},
): boolean {
  return taggedDiff(actual, expected, options) === undefined;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

function tagOf(v: Obj): string | undefined {
  const keys = Object.keys(v);
  return keys.length === 1 ? keys[0] : undefined;
}

/** A tagged float ("float encoding F") as a double, or undefined when malformed. */
function parseF(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  switch (v) {
    case "nan":
      return NaN;
    case "inf":
      return Infinity;
    case "-inf":
      return -Infinity;
    case "-0":
      return -0;
  }
  return undefined;
}

function sameFloat(a: number, b: number): boolean {
  return (Number.isNaN(a) && Number.isNaN(b)) || Object.is(a, b);
}

function toBig(v: unknown): bigint | undefined {
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (typeof v === "string" && /^[+-]?\d+$/.test(v)) return BigInt(v);
  return undefined;
}

const LIMIT = 2n ** 53n;

/** Rule (b): a Python int and a Python float that one-number languages cannot tell apart. */
function intMatchesFloat(int: unknown, float: unknown): boolean {
  const i = toBig(int);
  const f = parseF(float);
  if (i === undefined || f === undefined) return false;
  if (!Number.isFinite(f) || !Number.isInteger(f) || Object.is(f, -0)) return false;
  const abs = i < 0n ? -i : i;
  return abs <= LIMIT && BigInt(f) === i;
}

const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;

/** A date/time string in a canonical form, so that a missing fraction equals `.000000`. */
function normalTime(s: string): string | undefined {
  const m = TIME_RE.exec(s);
  if (!m) return undefined;
  return `${m[1]}:${m[2]}:${m[3] ?? "00"}.${(m[4] ?? "").padEnd(6, "0")}`;
}

function normalTemporal(tag: string, v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  if (tag === "date") return /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined;
  if (tag === "time") return normalTime(v);
  if (v.length < 11 || (v[10] !== "T" && v[10] !== " ")) return undefined;
  const t = normalTime(v.slice(11));
  return t === undefined ? undefined : `${v.slice(0, 10)}T${t}`;
}

function parseDecimal(v: unknown): Decimal | undefined {
  try {
    return typeof v === "string" ? new Decimal(v) : undefined;
  } catch {
    return undefined;
  }
}

const INT_DTYPE = /^(u?int(8|16|32|64)|datetime64\[\w+\])$/;

class Checker {
  constructor(readonly typed: boolean) {}

  value(a: unknown, b: unknown, path: string): string | undefined {
    if (b === null || typeof b === "boolean" || typeof b === "string") {
      return a === b ? undefined : `${path}: expected ${show(b)}, got ${show(a)}`;
    }
    if (!isObj(b)) return `${path}: the expected value ${show(b)} is not tagged JSON`;
    if (!isObj(a)) return `${path}: expected ${show(b)}, got ${show(a)}`;
    const ta = tagOf(a);
    const tb = tagOf(b);
    if (ta === undefined || tb === undefined) {
      return `${path}: tagged objects have exactly one key, got ${show(a)} vs ${show(b)}`;
    }
    const va = a[ta];
    const vb = b[tb];
    if (ta !== tb) {
      if (!this.typed) {
        if (ta === "int" && tb === "float" && intMatchesFloat(va, vb)) return undefined;
        if (ta === "float" && tb === "int" && intMatchesFloat(vb, va)) return undefined;
        if ((ta === "tuple" && tb === "list") || (ta === "list" && tb === "tuple")) {
          return this.sequence(va, vb, `${path}.${tb}`);
        }
      }
      if ((ta === "scalar" && tb === "array") || (ta === "array" && tb === "scalar")) {
        return this.scalarVsArray(ta === "scalar" ? va : vb, ta === "scalar" ? vb : va, path);
      }
      return `${path}: tag ${ta} ≠ ${tb} (got ${show(a)}, expected ${show(b)})`;
    }
    const at = `${path}.${tb}`;
    switch (tb) {
      case "int": {
        const x = toBig(va);
        const y = toBig(vb);
        return x !== undefined && x === y ? undefined : `${at}: ${show(va)} ≠ ${show(vb)}`;
      }
      case "float":
        return this.float(va, vb, false, at);
      case "complex":
        return this.complex(va, vb, false, at);
      case "bytes":
      case "uuid":
        return typeof va === "string" && typeof vb === "string" &&
            va.toLowerCase() === vb.toLowerCase()
          ? undefined
          : `${at}: ${show(va)} ≠ ${show(vb)}`;
      case "decimal": {
        const x = parseDecimal(va);
        const y = parseDecimal(vb);
        return x !== undefined && y !== undefined && x.equals(y)
          ? undefined
          : `${at}: ${show(va)} ≠ ${show(vb)}`;
      }
      case "date":
      case "time":
      case "datetime": {
        const x = normalTemporal(tb, va);
        return x !== undefined && x === normalTemporal(tb, vb)
          ? undefined
          : `${at}: ${show(va)} ≠ ${show(vb)}`;
      }
      case "list":
      case "tuple":
        return this.sequence(va, vb, at);
      case "set":
        return this.set(va, vb, at);
      case "dict":
        return this.dict(va, vb, at);
      case "array":
        return this.array(va, vb, at);
      case "scalar":
        return this.scalar(va, vb, at);
      case "recarray":
        return this.recarray(va, vb, at);
      case "struct":
        return this.struct(va, vb, at);
      case "cell":
        return this.cell(va, vb, at);
    }
    return `${path}: unknown tag ${show(tb)}`;
  }

  float(a: unknown, b: unknown, single: boolean, path: string): string | undefined {
    let x = parseF(a);
    let y = parseF(b);
    if (x === undefined || y === undefined) {
      return `${path}: malformed float ${show(a)} / ${show(b)}`;
    }
    if (single) {
      x = Math.fround(x);
      y = Math.fround(y);
    }
    return sameFloat(x, y) ? undefined : `${path}: ${show(a)} ≠ ${show(b)}`;
  }

  complex(a: unknown, b: unknown, single: boolean, path: string): string | undefined {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== 2 || b.length !== 2) {
      return `${path}: malformed complex ${show(a)} / ${show(b)}`;
    }
    return this.float(a[0], b[0], single, `${path}[0]`) ??
      this.float(a[1], b[1], single, `${path}[1]`);
  }

  sequence(a: unknown, b: unknown, path: string): string | undefined {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${path}: not a list: ${show(a)}`;
    if (a.length !== b.length) return `${path}: length ${a.length} ≠ ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = this.value(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }

  set(a: unknown, b: unknown, path: string): string | undefined {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${path}: not a list: ${show(a)}`;
    if (a.length !== b.length) return `${path}: set size ${a.length} ≠ ${b.length}`;
    const used = new Array<boolean>(b.length).fill(false);
    for (let i = 0; i < a.length; i++) {
      const j = b.findIndex((y, k) => !used[k] && this.value(a[i], y, path) === undefined);
      if (j < 0) return `${path}: element ${show(a[i])} has no match in ${show(b)}`;
      used[j] = true;
    }
    return undefined;
  }

  dict(a: unknown, b: unknown, path: string): string | undefined {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${path}: not a list of pairs: ${show(a)}`;
    if (a.length !== b.length) return `${path}: ${a.length} pairs ≠ ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = this.pair(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }

  /** A `[key, value]` pair: positionally, each by the value rules. */
  pair(a: unknown, b: unknown, path: string): string | undefined {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== 2 || b.length !== 2) {
      return `${path}: malformed pair ${show(a)} / ${show(b)}`;
    }
    return this.value(a[0], b[0], `${path}[0]`) ?? this.value(a[1], b[1], `${path}[1]`);
  }

  shape(a: unknown, b: unknown, path: string): string | undefined {
    return JSON.stringify(a) === JSON.stringify(b)
      ? undefined
      : `${path}: shape ${show(a)} ≠ ${show(b)}`;
  }

  array(a: unknown, b: unknown, path: string): string | undefined {
    if (!isObj(a) || !isObj(b)) return `${path}: malformed array ${show(a)}`;
    if (a.dtype !== b.dtype) return `${path}.dtype: ${show(a.dtype)} ≠ ${show(b.dtype)}`;
    const d = this.shape(a.shape, b.shape, `${path}.shape`);
    if (d !== undefined) return d;
    if (!Array.isArray(a.data) || !Array.isArray(b.data) || a.data.length !== b.data.length) {
      return `${path}.data: length differs (${show(a.data)} vs ${show(b.data)})`;
    }
    for (let i = 0; i < a.data.length; i++) {
      const e = this.element(String(b.dtype), a.data[i], b.data[i], `${path}.data[${i}]`);
      if (e !== undefined) return e;
    }
    return undefined;
  }

  scalar(a: unknown, b: unknown, path: string): string | undefined {
    if (!isObj(a) || !isObj(b)) return `${path}: malformed scalar ${show(a)}`;
    if (a.dtype !== b.dtype) return `${path}.dtype: ${show(a.dtype)} ≠ ${show(b.dtype)}`;
    return this.element(String(b.dtype), a.value, b.value, `${path}.value`);
  }

  /** Rule (e): a scalar equals a 0-d array of the same dtype and value. */
  scalarVsArray(s: unknown, arr: unknown, path: string): string | undefined {
    if (!isObj(s) || !isObj(arr)) return `${path}: malformed scalar/array`;
    if (!Array.isArray(arr.shape) || arr.shape.length !== 0 || !Array.isArray(arr.data)) {
      return `${path}: a scalar only equals a 0-d array, got shape ${show(arr.shape)}`;
    }
    return this.scalar(s, { dtype: arr.dtype, value: arr.data[0] }, path);
  }

  element(dtype: string, a: unknown, b: unknown, path: string): string | undefined {
    switch (dtype) {
      case "object":
        return this.value(a, b, path);
      case "float32":
      case "float64":
        return this.float(a, b, dtype === "float32", path);
      case "complex64":
      case "complex128":
        return this.complex(a, b, dtype === "complex64", path);
    }
    if (INT_DTYPE.test(dtype)) {
      const x = toBig(a);
      return x !== undefined && x === toBig(b) ? undefined : `${path}: ${show(a)} ≠ ${show(b)}`;
    }
    return a === b ? undefined : `${path}: ${show(a)} ≠ ${show(b)}`;
  }

  recarray(a: unknown, b: unknown, path: string): string | undefined {
    if (!isObj(a) || !isObj(b)) return `${path}: malformed recarray ${show(a)}`;
    const d = this.shape(a.shape, b.shape, `${path}.shape`);
    if (d !== undefined) return d;
    if (
      !Array.isArray(a.fields) || !Array.isArray(b.fields) || a.fields.length !== b.fields.length
    ) {
      return `${path}.fields: ${show(a.fields)} ≠ ${show(b.fields)}`;
    }
    for (let i = 0; i < a.fields.length; i++) {
      const fa = a.fields[i];
      const fb = b.fields[i];
      if (!Array.isArray(fa) || !Array.isArray(fb) || fa[0] !== fb[0]) {
        return `${path}.fields[${i}]: field ${show(fa?.[0])} ≠ ${show(fb?.[0])}`;
      }
      const e = this.value(fa[1], fb[1], `${path}.fields[${i}][1]`);
      if (e !== undefined) return e;
    }
    return undefined;
  }

  struct(a: unknown, b: unknown, path: string): string | undefined {
    if (!isObj(a) || !isObj(b)) return `${path}: malformed struct ${show(a)}`;
    const d = this.shape(a.shape, b.shape, `${path}.shape`) ??
      (JSON.stringify(a.fields) === JSON.stringify(b.fields)
        ? undefined
        : `${path}.fields: ${show(a.fields)} ≠ ${show(b.fields)}`);
    if (d !== undefined) return d;
    if (!Array.isArray(a.data) || !Array.isArray(b.data) || a.data.length !== b.data.length) {
      return `${path}.data: record count differs`;
    }
    for (let i = 0; i < a.data.length; i++) {
      const e = this.sequence(a.data[i], b.data[i], `${path}.data[${i}]`);
      if (e !== undefined) return e;
    }
    return undefined;
  }

  cell(a: unknown, b: unknown, path: string): string | undefined {
    if (!isObj(a) || !isObj(b)) return `${path}: malformed cell ${show(a)}`;
    return this.shape(a.shape, b.shape, `${path}.shape`) ??
      this.sequence(a.data, b.data, `${path}.data`);
  }
}
