/**
 * SQL expressions in projections and aggregations (`proj({ n: "count(*)" })`) are written once
 * and run on either backend: this module rewrites the MySQL spellings DataJoint users know into
 * PostgreSQL's (and `STRING_AGG` back into `GROUP_CONCAT` for MySQL), as DataJoint Python's
 * `translate_expression` does.
 *
 * | written | PostgreSQL | MySQL |
 * |---|---|---|
 * | `` `col` `` | `"col"` | unchanged |
 * | `GROUP_CONCAT([DISTINCT] x [ORDER BY y] [SEPARATOR 's'])` | `STRING_AGG([DISTINCT] (x)::text, 's' [ORDER BY y])` (default `','`) | unchanged |
 * | `STRING_AGG(x, 's')` | unchanged | `GROUP_CONCAT(x SEPARATOR 's')` |
 * | `CURDATE()` | `CURRENT_DATE` | unchanged |
 * | `NOW()` | `CURRENT_TIMESTAMP` | unchanged |
 * | `YEAR(x)`, `MONTH(x)`, `DAY(x)` | `EXTRACT(YEAR FROM x)`, … | unchanged |
 * | `TIMESTAMPDIFF(unit, a, b)` | `FLOOR(EXTRACT(EPOCH FROM ((b) - (a))) / seconds-per-unit)` | unchanged |
 * | `SUM(a = b)` (a comparison) | `SUM((a = b)::int)` | unchanged |
 *
 * @example
 * ```ts
 * import { translateExpression } from "./sql_expression.ts";
 * console.log(translateExpression("GROUP_CONCAT(name SEPARATOR '; ')", "postgresql"));
 * // STRING_AGG((name)::text, '; ')
 * ```
 *
 * @module
 */
import type { Backend } from "./adapters/driver.ts";
import { DataJointError } from "./errors.ts";

const SECONDS: Record<string, number> = {
  MICROSECOND: 1e-6,
  SECOND: 1,
  MINUTE: 60,
  HOUR: 3600,
  DAY: 86400,
  WEEK: 604800,
};

/** A function call found in an expression: where it starts and ends, and its top-level arguments. */
interface Call {
  start: number;
  end: number; // index after the closing parenthesis
  args: string[];
}

/** Skips a quoted literal or identifier starting at `i`; returns the index after it. */
function skipQuoted(s: string, i: number): number {
  const q = s[i];
  let j = i + 1;
  while (j < s.length) {
    if (s[j] === "\\" && q !== "`") {
      j += 2;
      continue;
    }
    if (s[j] === q) {
      if (s[j + 1] === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  throw new DataJointError(`Unterminated ${q} in SQL expression: ${s}`);
}

/** The first call of function `name` (case-insensitive) outside quotes, at or after `from`. */
function findCall(s: string, name: string, from = 0): Call | undefined {
  const upper = name.toUpperCase();
  let i = from;
  while (i < s.length) {
    const c = s[i];
    if (c === "'" || c === '"' || c === "`") {
      i = skipQuoted(s, i);
      continue;
    }
    if (
      s.slice(i, i + upper.length).toUpperCase() === upper &&
      (i === 0 || !/[\w$.]/.test(s[i - 1]))
    ) {
      let j = i + upper.length;
      while (s[j] === " ") j++;
      if (s[j] === "(") {
        const args: string[] = [];
        let depth = 0;
        let argStart = j + 1;
        let k = j;
        for (; k < s.length; k++) {
          const d = s[k];
          if (d === "'" || d === '"' || d === "`") {
            k = skipQuoted(s, k) - 1;
          } else if (d === "(") {
            depth++;
          } else if (d === ")") {
            depth--;
            if (depth === 0) break;
          } else if (d === "," && depth === 1) {
            args.push(s.slice(argStart, k).trim());
            argStart = k + 1;
          }
        }
        if (depth !== 0) throw new DataJointError(`Unbalanced parentheses in SQL expression: ${s}`);
        const last = s.slice(argStart, k).trim();
        if (last !== "" || args.length > 0) args.push(last);
        return { start: i, end: k + 1, args };
      }
    }
    i++;
  }
  return undefined;
}

/** Rewrites every call of `name` with `rewrite` (innermost arguments are rewritten first). */
function rewriteCalls(
  s: string,
  name: string,
  rewrite: (args: string[]) => string | undefined,
): string {
  let from = 0;
  for (;;) {
    const call = findCall(s, name, from);
    if (call === undefined) return s;
    const args = call.args.map((a) => rewriteCalls(a, name, rewrite));
    const replacement = rewrite(args);
    if (replacement === undefined) {
      from = call.start + name.length;
      continue;
    }
    s = s.slice(0, call.start) + replacement + s.slice(call.end);
    from = call.start + replacement.length;
  }
}

/** Whether `s` has a comparison operator outside quotes and parentheses. */
function isComparison(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'" || c === '"' || c === "`") {
      i = skipQuoted(s, i) - 1;
    } else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (depth === 0 && (c === "=" || c === "<" || c === ">")) return true;
  }
  return /\b(IS|LIKE|IN|BETWEEN)\b/i.test(s.replace(/'[^']*'/g, ""));
}

/** Replaces backtick-quoted identifiers by double-quoted ones (outside string literals). */
function backticksToDoubleQuotes(s: string): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === "'" || c === '"') {
      const j = skipQuoted(s, i);
      out += s.slice(i, j);
      i = j;
    } else if (c === "`") {
      const j = skipQuoted(s, i);
      out += `"${s.slice(i + 1, j - 1).replaceAll("``", "`").replaceAll('"', '""')}"`;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * `GROUP_CONCAT([DISTINCT] x [ORDER BY …] [SEPARATOR 's'])` as PostgreSQL's `STRING_AGG`, or
 * `undefined` to leave it (several values to concatenate have no direct translation).
 */
function groupConcatToStringAgg(args: string[]): string | undefined {
  // An ORDER BY list has top-level commas, which split it into several arguments.
  const text = args.join(", ");
  const m =
    /^(DISTINCT\s+)?(.*?)(?:\s+ORDER\s+BY\s+(.*?))?(?:\s+SEPARATOR\s+('(?:[^']|'')*'))?\s*$/is
      .exec(text)!;
  const [, distinct, value, order, sep = "','"] = m;
  if (args.length > 1 && !/\sORDER\s+BY\s/i.test(args[0])) return undefined;
  if (distinct && order !== undefined) {
    // PostgreSQL would order the distinct values as text, not as MySQL orders them.
    throw new DataJointError(
      `GROUP_CONCAT with both DISTINCT and ORDER BY has no PostgreSQL translation: ${text}; drop one of them`,
    );
  }
  return `STRING_AGG(${distinct ? "DISTINCT " : ""}(${value})::text, ${sep}${
    order === undefined ? "" : ` ORDER BY ${order}`
  })`;
}

/**
 * Translates a SQL expression written in DataJoint's (MySQL) dialect for `backend`.
 *
 * @example
 * ```ts
 * import { translateExpression } from "./sql_expression.ts";
 * console.log(translateExpression("SUM(sex = 'F')", "postgresql")); // SUM((sex = 'F')::int)
 * console.log(translateExpression("STRING_AGG(name, ',')", "mysql")); // GROUP_CONCAT(name SEPARATOR ',')
 * ```
 */
export function translateExpression(expr: string, backend: Backend): string {
  if (backend === "mysql") {
    return rewriteCalls(
      expr,
      "STRING_AGG",
      (args) => args.length === 2 ? `GROUP_CONCAT(${args[0]} SEPARATOR ${args[1]})` : undefined,
    );
  }
  let s = backticksToDoubleQuotes(expr);
  s = rewriteCalls(s, "GROUP_CONCAT", groupConcatToStringAgg);
  s = rewriteCalls(s, "CURDATE", (args) => (args.length === 0 ? "CURRENT_DATE" : undefined));
  s = rewriteCalls(s, "NOW", (args) => (args.length === 0 ? "CURRENT_TIMESTAMP" : undefined));
  for (const part of ["YEAR", "MONTH", "DAY"]) {
    s = rewriteCalls(
      s,
      part,
      (args) => args.length === 1 ? `EXTRACT(${part} FROM ${args[0]})` : undefined,
    );
  }
  s = rewriteCalls(s, "TIMESTAMPDIFF", (args) => {
    const per = args.length === 3 ? SECONDS[args[0].toUpperCase()] : undefined;
    if (per === undefined) return undefined;
    return `FLOOR(EXTRACT(EPOCH FROM ((${args[2]}) - (${args[1]}))) / ${per})`;
  });
  s = rewriteCalls(
    s,
    "SUM",
    (args) => args.length === 1 && isComparison(args[0]) ? `SUM((${args[0]})::int)` : undefined,
  );
  return s;
}
