/**
 * Plain-text columns for `dj` listings: every column as wide as its widest cell (in terminal
 * columns: wide East Asian characters and emoji count two), two spaces between columns, no
 * trailing spaces.
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

/** Characters that take no column: combining marks, zero-width spaces and joiners, selectors. */
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200B-\u200F\u2060-\u2064\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/u;

/** Characters a terminal draws two columns wide: East Asian Wide/Fullwidth, and emoji. */
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{20000}-\u{3FFFD}]|\p{Emoji_Presentation}/u;

/**
 * The columns one character (a code point) takes in a monospace terminal: 0 for combining marks
 * and zero-width characters, 2 for East Asian wide characters (漢, ｈ, 한) and emoji, else 1.
 *
 * @example
 * ```ts
 * import { charWidth } from "./columns.ts";
 * [charWidth("a"), charWidth("漢"), charWidth("\u0301")]; // [1, 2, 0]
 * ```
 */
export function charWidth(char: string): 0 | 1 | 2 {
  if (ZERO_WIDTH.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}

/**
 * The width of text in a monospace terminal, in columns (see {@link charWidth}), so that columns
 * of `é`, `→`, `漢字` or `🐭` line up.
 *
 * @example
 * ```ts
 * import { textWidth } from "./columns.ts";
 * textWidth("στρινγ"); // 6
 * textWidth("漢字"); // 4
 * ```
 */
export function textWidth(text: string): number {
  let n = 0;
  for (const char of text) n += charWidth(char);
  return n;
}

/**
 * `text` cut to at most `width` columns: unchanged when it fits, else as many whole characters
 * as fit before a closing `…` (a wide character is never split).
 *
 * @example
 * ```ts
 * import { cutToWidth } from "./columns.ts";
 * cutToWidth("abcdef", 4); // "abc…"
 * cutToWidth("漢字漢字", 6); // "漢字…"
 * ```
 */
export function cutToWidth(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const char of text) {
    const w = charWidth(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return `${out}…`;
}
