/**
 * Checks a declared default against its core type before any DDL is sent. The servers disagree
 * about bad defaults: MySQL refuses `= 'abc' : int32` but rounds `= 1.5 : int32` to 2 and takes
 * `CURRENT_TIMESTAMP` for an `int`; PostgreSQL takes `= 300 : int8` (a `smallint`) and a default
 * longer than its `varchar(n)`, so the table is declared and every insert that relies on the
 * default fails later. A definition therefore means the same table on every backend only if its
 * defaults are checked here, by the DataJoint type.
 *
 * @example
 * ```ts
 * import { defaultProblem } from "./defaults.ts";
 * import { parseType, type CoreType } from "./types.ts";
 * console.log(defaultProblem(parseType("int8") as CoreType, "300"));
 * // 300 is out of the range of int8 (-128 to 127)
 * ```
 *
 * @module
 */
import type { CoreType } from "./types.ts";

const RANGES: Record<string, [bigint, bigint]> = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  int64: [-9223372036854775808n, 9223372036854775807n],
};

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function validDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return y >= 1 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

function dateProblem(value: string, withTime: boolean): string | undefined {
  const m = withTime
    ? /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?)?$/.exec(value)
    : /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const form = withTime ? "YYYY-MM-DD HH:MM:SS" : "YYYY-MM-DD";
  if (!m) return `${JSON.stringify(value)} is not a date written ${form}`;
  if (!validDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    return `${JSON.stringify(value)} names no real day`;
  }
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59)) {
    return `${JSON.stringify(value)} names no real time of day`;
  }
  return undefined;
}

/**
 * What is wrong with `value` (the default as written, quotes removed) as a default of `core`, or
 * `undefined` when it is fine. `CURRENT_TIMESTAMP[(n)]` is passed as written.
 *
 * @example
 * ```ts
 * import { defaultProblem } from "./defaults.ts";
 * import { parseType, type CoreType } from "./types.ts";
 * console.log(defaultProblem(parseType("varchar(3)") as CoreType, "abcd")); // … longer than 3 …
 * console.log(defaultProblem(parseType("bool") as CoreType, "true")); // undefined
 * ```
 */
export function defaultProblem(core: CoreType, value: string): string | undefined {
  const ts = /^CURRENT_TIMESTAMP(?:\s*\(\s*(\d)\s*\))?$/i.exec(value);
  if (ts) {
    if (core.name !== "datetime") return "CURRENT_TIMESTAMP is a default of datetime attributes";
    if (Number(ts[1] ?? 0) !== (core.fsp ?? 0)) {
      // MySQL refuses a precision that differs from the column's.
      return `the precision of ${value} differs from ${core.text}: write CURRENT_TIMESTAMP${
        core.fsp ? `(${core.fsp})` : ""
      }`;
    }
    return undefined;
  }
  switch (core.name) {
    case "int8":
    case "int16":
    case "int32":
    case "int64": {
      if (!/^[+-]?\d+$/.test(value)) return `${JSON.stringify(value)} is not an integer`;
      const [lo, hi] = RANGES[core.name];
      const n = BigInt(value);
      if (n < lo || n > hi) return `${value} is out of the range of ${core.name} (${lo} to ${hi})`;
      return undefined;
    }
    case "float32":
    case "float64":
      return NUMBER.test(value) ? undefined : `${JSON.stringify(value)} is not a number`;
    case "decimal": {
      if (!NUMBER.test(value)) return `${JSON.stringify(value)} is not a number`;
      const digits = /^[+-]?0*(\d*)/.exec(value)![1].length;
      if (!/[eE]/.test(value) && digits > core.precision! - core.scale!) {
        return `${value} has more than ${core.precision! - core.scale!} digits before the point`;
      }
      return undefined;
    }
    case "bool":
      return /^(0|1|true|false)$/i.test(value)
        ? undefined
        : `${JSON.stringify(value)} is not a bool: write true, false, 1 or 0`;
    case "date":
      return dateProblem(value, false);
    case "datetime":
      return dateProblem(value, true);
    case "char":
    case "varchar": {
      const n = [...value].length;
      return n > core.length!
        ? `the default is ${n} characters, longer than ${core.text}`
        : undefined;
    }
    case "enum":
      return core.labels!.includes(value)
        ? undefined
        : `${JSON.stringify(value)} is not one of the labels of ${core.text}`;
    case "uuid":
      // A uuid is stored as binary(16) on MySQL, where no text default fits.
      return "a uuid attribute can only default to null";
    case "json":
      try {
        JSON.parse(value);
        return undefined;
      } catch {
        return `${JSON.stringify(value)} is not JSON text`;
      }
    default:
      return undefined;
  }
}
