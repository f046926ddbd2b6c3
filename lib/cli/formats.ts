/**
 * The output formats of `dj fetch`, from rows already rendered to JSON values (`render.ts`):
 *
 * - `json`: a JSON array of row objects, one row per line;
 * - `csv`: RFC 4180 fields (quoted when they hold `,`, `"`, a line break or edge spaces), a header
 *   line of attribute names, lines ending in `\n`; a string is written as itself, `NULL` as an
 *   empty field, an empty string as `""`, anything else as its compact JSON text;
 * - `table`: aligned columns for reading, primary-key attributes marked `*`, cells cut at 40
 *   terminal columns with `…` (wide East Asian characters count two), control characters shown
 *   as escapes (`\n`, `\t`, `\u001b`), `NULL` for NULL, and a row count.
 *
 * @example
 * ```ts
 * import { formatRows } from "./formats.ts";
 * const text = formatRows("csv", ["id", "name"], [{ id: 1, name: "a, b" }], ["id"]);
 * // 'id,name\n1,"a, b"\n'
 * ```
 *
 * @module
 */

import { alignColumns, cutToWidth, textWidth } from "./columns.ts";
import { jsonText, type JsonValue } from "./render.ts";

/** The formats of `dj fetch --format`. */
export const FORMATS = ["json", "csv", "table"] as const;

/** One of {@link FORMATS}. */
export type Format = typeof FORMATS[number];

/** Widest cell of the `table` format, in terminal columns. */
const TABLE_CELL_WIDTH = 40;

/**
 * Rows in a format. `names` gives the columns in order, `key` the primary-key attributes.
 *
 * @example
 * ```ts
 * import { formatRows } from "./formats.ts";
 * formatRows("json", ["id"], [{ id: 1 }, { id: 2 }], ["id"]); // '[\n{"id":1},\n{"id":2}\n]\n'
 * ```
 */
export function formatRows(
  format: Format,
  names: readonly string[],
  rows: readonly Record<string, JsonValue>[],
  key: readonly string[],
): string {
  switch (format) {
    case "json":
      return rows.length === 0 ? "[]\n" : `[\n${rows.map((r) => jsonText(r)).join(",\n")}\n]\n`;
    case "csv":
      return [names, ...rows.map((r) => names.map((n) => csvCell(r[n])))]
        .map((cells) => cells.map(csvQuote).join(",") + "\n")
        .join("");
    case "table": {
      const header = names.map((n) => (key.includes(n) ? `*${n}` : n));
      const body = rows.map((r) => names.map((n) => tableCell(r[n])));
      const rule = header.map((h, i) =>
        "-".repeat(Math.max(textWidth(h), ...body.map((b) => textWidth(b[i]))))
      );
      const count = `(${rows.length} ${rows.length === 1 ? "row" : "rows"})\n`;
      return alignColumns([header, rule, ...body]) + count;
    }
  }
}

/** The text of a value in a CSV field (before quoting); `undefined` marks NULL. */
function csvCell(v: JsonValue | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === "string" ? v : jsonText(v);
}

function csvQuote(cell: string | undefined): string {
  if (cell === undefined) return "";
  // An empty string is quoted so that it differs from NULL (an empty field).
  if (cell === "" || /[",\r\n]|^\s|\s$/.test(cell)) return `"${cell.replaceAll('"', '""')}"`;
  return cell;
}

/** How `table` cells show control characters: the usual escapes, else `\uXXXX` as in JSON. */
const CONTROL_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function tableCell(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return "NULL";
  // Control characters would break the layout or drive the terminal (an escape sequence turning
  // the screen red); JSON text has none, strings may.
  const text = (typeof v === "string" ? v : jsonText(v)).replace(
    /\p{Cc}/gu,
    (c) => CONTROL_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return cutToWidth(text, TABLE_CELL_WIDTH);
}
