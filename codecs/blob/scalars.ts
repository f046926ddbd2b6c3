/**
 * Scalar value types that JavaScript lacks and DataJoint blobs carry: complex numbers, exact
 * decimals and UUIDs. Each carries a brand under {@link BLOB_KIND} so that two copies of this
 * library recognise each other's values.
 *
 * @module
 */

import { DataJointError } from "../../lib/errors.ts";

/**
 * The brand key under which every blob value class names its kind. It is a registered symbol,
 * so values made by another copy of the library are recognised too.
 */
export const BLOB_KIND: unique symbol = Symbol.for("datajoint.blob.kind") as never;

/**
 * A complex number (Python `complex`, blob item `0x0C`). Both parts are IEEE doubles; `-0` and
 * non-finite parts are kept exactly.
 *
 * @example
 * ```ts
 * import { Complex } from "./scalars.ts";
 * const z = new Complex(1.5, -2);
 * z.toString(); // "(1.5-2j)"
 * ```
 */
export class Complex {
  /** Real part. */
  readonly re: number;
  /** Imaginary part. */
  readonly im: number;

  /** A complex number from its two parts. */
  constructor(re: number, im: number) {
    if (typeof re !== "number" || typeof im !== "number") {
      throw new DataJointError(`Complex parts must be numbers, got ${typeof re} and ${typeof im}`);
    }
    this.re = re;
    this.im = im;
    Object.freeze(this);
  }

  /** Brand that identifies complex values across copies of this library. */
  get [BLOB_KIND](): "complex" {
    return "complex";
  }

  /** Python's notation, e.g. `(1+2j)`. */
  toString(): string {
    const neg = this.im < 0 || Object.is(this.im, -0);
    const im = Math.abs(this.im);
    return `(${pyFloat(this.re)}${neg ? "-" : "+"}${pyFloat(im)}j)`;
  }
}

function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  return Object.is(x, -0) ? "-0" : String(x);
}

interface DecimalParts {
  negative: boolean;
  form: "finite" | "infinity" | "nan" | "snan";
  digits: string;
  exponent: bigint;
}

/** Digits from `start`, allowing single underscores between digits (Python's literal rules). */
function readDigits(s: string, start: number): { digits: string; end: number } {
  let i = start;
  let digits = "";
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits += s[i++];
    } else if (c === 95 && digits.length > 0 && i + 1 < s.length && isDigit(s.charCodeAt(i + 1))) {
      i++;
    } else {
      break;
    }
  }
  return { digits, end: i };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function stripLeadingZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  return digits.slice(i);
}

/** A linear-time parser for the strings Python's `Decimal(str)` accepts (no regex backtracking). */
function parseDecimal(text: string): DecimalParts | undefined {
  const s = text.trim();
  let i = 0;
  let negative = false;
  if (s[0] === "+" || s[0] === "-") {
    negative = s[0] === "-";
    i = 1;
  }
  const lower = s.slice(i).toLowerCase();
  if (lower === "inf" || lower === "infinity") {
    return { negative, form: "infinity", digits: "", exponent: 0n };
  }
  if (lower.startsWith("nan") || lower.startsWith("snan")) {
    const at = i + (lower.startsWith("snan") ? 4 : 3);
    const { digits, end } = readDigits(s, at);
    if (end !== s.length) return undefined;
    const payload = digits === "" ? "" : stripLeadingZeros(digits);
    return {
      negative,
      form: lower.startsWith("snan") ? "snan" : "nan",
      digits: payload === "0" ? "" : payload,
      exponent: 0n,
    };
  }
  const int = readDigits(s, i);
  i = int.end;
  let frac = "";
  if (s[i] === ".") {
    const f = readDigits(s, i + 1);
    frac = f.digits;
    i = f.end;
  }
  if (int.digits === "" && frac === "") return undefined;
  let exponent = 0n;
  if (s[i] === "e" || s[i] === "E") {
    let j = i + 1;
    const minus = s[j] === "-";
    if (s[j] === "+" || s[j] === "-") j++;
    const e = readDigits(s, j);
    if (e.digits === "") return undefined;
    exponent = BigInt(e.digits) * (minus ? -1n : 1n);
    i = e.end;
  }
  if (i !== s.length) return undefined;
  return {
    negative,
    form: "finite",
    digits: stripLeadingZeros(int.digits + frac) || "0",
    exponent: exponent - BigInt(frac.length),
  };
}

/**
 * Python's `Decimal(str)` refuses a number whose adjusted exponent (that of its first digit) is
 * above this (libmpdec's MAX_EMAX on 64-bit builds), so a blob holding one cannot be read there.
 */
const MAX_ADJUSTED_EXPONENT = 999999999999999999n;
/** ... and one whose exponent is below this (libmpdec's MIN_ETINY). */
const MIN_EXPONENT = -1999999999999999997n;

/**
 * An exact decimal number (Python `decimal.Decimal`, blob item `d`), kept as sign, coefficient
 * digits and exponent so that trailing zeros and special values survive: `"1.50"` stays `1.50`,
 * `"1E+2"`, `"NaN"`, `"-Infinity"` and `"sNaN"` are all representable.
 *
 * `toString()` is Python's `str(Decimal)`, which is also what the blob stores.
 *
 * @example
 * ```ts
 * import { Decimal } from "./scalars.ts";
 * new Decimal("-1.50").toString(); // "-1.50"
 * new Decimal("100e0").toString(); // "100"
 * new Decimal("1e2").toString();   // "1E+2"
 * ```
 */
export class Decimal {
  /** `true` for a negative sign (also on `-0`, `-Infinity` and `-NaN`). */
  readonly negative: boolean;
  /** `"finite"`, `"infinity"`, `"nan"` (quiet) or `"snan"` (signaling). */
  readonly form: "finite" | "infinity" | "nan" | "snan";
  /** Coefficient digits without leading zeros (`"0"` for zero); the NaN payload for NaNs. */
  readonly digits: string;
  /** Exponent: the value is `coefficient × 10^exponent` (0 for special values). */
  readonly exponent: bigint;

  /** Parse a decimal string the way Python's `Decimal(str)` does; a bigint is exact too. */
  constructor(value: string | bigint | number) {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new DataJointError(`Decimal from a number needs a finite number, got ${value}`);
    }
    const parts =
      typeof value === "string" || typeof value === "number" || typeof value === "bigint"
        ? parseDecimal(String(value))
        : undefined;
    const shown = String(value).length > 60 ? `${String(value).slice(0, 60)}…` : String(value);
    if (parts === undefined) {
      throw new DataJointError(`Invalid decimal string "${shown}": use e.g. "-1.50" or "1E+2"`);
    }
    if (
      parts.form === "finite" &&
      (parts.exponent < MIN_EXPONENT ||
        parts.exponent + BigInt(parts.digits.length - 1) > MAX_ADJUSTED_EXPONENT)
    ) {
      throw new DataJointError(
        `Invalid decimal string "${shown}": its exponent is beyond what Python's Decimal holds ` +
          `(from 1E${MIN_EXPONENT} to 9.99…E+${MAX_ADJUSTED_EXPONENT})`,
      );
    }
    this.negative = parts.negative;
    this.form = parts.form;
    this.digits = parts.digits;
    this.exponent = parts.exponent;
    Object.freeze(this);
  }

  /** Brand that identifies decimals across copies of this library. */
  get [BLOB_KIND](): "decimal" {
    return "decimal";
  }

  /** Python's `str(Decimal)` (scientific notation exactly where Python uses it). */
  toString(): string {
    const sign = this.negative ? "-" : "";
    if (this.form === "infinity") return `${sign}Infinity`;
    if (this.form === "nan") return `${sign}NaN${this.digits}`;
    if (this.form === "snan") return `${sign}sNaN${this.digits}`;
    const coef = this.digits;
    const leftDigits = this.exponent + BigInt(coef.length);
    const dotPlace = this.exponent <= 0n && leftDigits > -6n ? leftDigits : 1n;
    let intPart: string;
    let fracPart: string;
    if (dotPlace <= 0n) {
      intPart = "0";
      fracPart = "." + "0".repeat(Number(-dotPlace)) + coef;
    } else if (dotPlace >= BigInt(coef.length)) {
      intPart = coef + "0".repeat(Number(dotPlace - BigInt(coef.length)));
      fracPart = "";
    } else {
      intPart = coef.slice(0, Number(dotPlace));
      fracPart = "." + coef.slice(Number(dotPlace));
    }
    const adjusted = leftDigits - dotPlace;
    const exp = adjusted === 0n ? "" : `E${adjusted > 0n ? "+" : ""}${adjusted}`;
    return sign + intPart + fracPart + exp;
  }

  /** The nearest double (NaN for NaNs). */
  toNumber(): number {
    if (this.form === "nan" || this.form === "snan") return NaN;
    if (this.form === "infinity") return this.negative ? -Infinity : Infinity;
    return Number(`${this.negative ? "-" : ""}${this.digits}e${this.exponent}`);
  }

  /** Same sign, digits, exponent and form (so `1.0` and `1.00` differ, as in the blob). */
  equals(other: Decimal): boolean {
    return this.negative === other.negative && this.form === other.form &&
      this.digits === other.digits && this.exponent === other.exponent;
  }

  /** JSON form: the decimal string. */
  toJSON(): string {
    return this.toString();
  }

  /** How Deno's `console.log` shows it. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Decimal("${this.toString()}")`;
  }
}

const UUID_RE =
  /^(?:urn:uuid:)?\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;

/**
 * A UUID (Python `uuid.UUID`, blob item `u`): 16 bytes in RFC 4122 order. `toString()` gives the
 * canonical lowercase hyphenated form.
 *
 * @example
 * ```ts
 * import { UUID } from "./scalars.ts";
 * const u = new UUID("12345678-1234-5678-1234-567812345678");
 * u.bytes[0]; // 0x12
 * ```
 */
export class UUID {
  readonly #hex: string;

  /** From a UUID string (hyphens, braces and a `urn:uuid:` prefix optional) or 16 bytes. */
  constructor(value: string | Uint8Array) {
    if (value instanceof Uint8Array) {
      if (value.length !== 16) {
        throw new DataJointError(`A UUID has 16 bytes, got ${value.length}`);
      }
      this.#hex = Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("");
    } else {
      const m = typeof value === "string" ? UUID_RE.exec(value.trim()) : null;
      if (!m) {
        throw new DataJointError(
          `Invalid UUID "${String(value)}": use the form 12345678-1234-5678-1234-567812345678`,
        );
      }
      this.#hex = (m[1] + m[2] + m[3] + m[4] + m[5]).toLowerCase();
    }
    Object.freeze(this);
  }

  /** Brand that identifies UUIDs across copies of this library. */
  get [BLOB_KIND](): "uuid" {
    return "uuid";
  }

  /** A fresh copy of the 16 bytes, RFC 4122 order. */
  get bytes(): Uint8Array {
    const out = new Uint8Array(16);
    for (let i = 0; i < 16; i++) out[i] = parseInt(this.#hex.slice(2 * i, 2 * i + 2), 16);
    return out;
  }

  /** Canonical lowercase hyphenated form. */
  toString(): string {
    const h = this.#hex;
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${
      h.slice(20)
    }`;
  }

  /** Whether two UUIDs are the same value. */
  equals(other: UUID): boolean {
    return this.toString() === other.toString();
  }

  /** JSON form: the canonical string. */
  toJSON(): string {
    return this.toString();
  }

  /** How Deno's `console.log` shows it. */
  [Symbol.for("Deno.customInspect")](): string {
    return `UUID("${this.toString()}")`;
  }
}
