/**
 * Plain-text columns for `dj` listings: every column as wide as its widest cell (counted in
 * code points), two spaces between columns, no trailing spaces.
 *
 * @example
 * ```ts
 * import { alignColumns } from "./columns.ts";
 * alignColumns([["Subject", "Manual"], ["Species", "Lookup"]]);
 * // "Subject  Manual\nSpecies  Lookup\n"
 * ```
 *
 * @module
 */

/**
 * Aligns rows of cells into columns; one line per row, each ending in a newline.
 *
 * @example
 * ```ts
 * import { alignColumns } from "./columns.ts";
 * alignColumns([["a", "bb"], ["ccc", "d"]]); // "a    bb\nccc  d\n"
 * ```
 */
export function alignColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, textWidth(cell))));
  }
  return rows.map((row) =>
    row.map((cell, i) => cell + " ".repeat(widths[i] - textWidth(cell))).join("  ").trimEnd() +
    "\n"
  ).join("");
}

/**
 * The width of text in a monospace terminal, counted in code points (so that `é` or `→` count
 * once; wide CJK characters are not special-cased).
 *
 * @example
 * ```ts
 * import { textWidth } from "./columns.ts";
 * textWidth("στρινγ"); // 6
 * ```
 */
export function textWidth(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
