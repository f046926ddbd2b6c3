/**
 * The definition parser: DataJoint's table-definition text → a list of typed lines. Pure; types
 * and references are checked later by the compiler (`declare.ts`), which knows the codecs and the
 * parent tables.
 *
 * ```
 * # table comment
 * subject_id : int32            # primary key above the divider
 * -> [nullable, unique] Parent  # foreign keys, with options
 * ---
 * -> Rig.proj(backup_rig='rig') # projected (renamed) foreign key
 * weight = null : float32       # default, nullable
 * index(weight)
 * unique index(a, b)
 * ```
 *
 * @example
 * ```ts
 * import { parseDefinition } from "./definition.ts";
 * const d = parseDefinition("# subjects\nsubject_id : int32\n---\nname = '' : varchar(64)");
 * console.log(d.comment, d.lines.map((l) => l.kind)); // subjects [attribute, attribute]
 * ```
 *
 * @module
 */
import { DeclarationError } from "./errors.ts";

/** What every parsed line remembers for error messages. */
export interface LineSource {
  /** The line as written (trimmed). */
  line: string;
  /** 1-based line number within the definition text. */
  lineNumber: number;
  /**
   * Who wrote the line when it is not the user's own text: messages then quote the line and
   * name this, rather than cite a line number the user never saw.
   */
  origin?: string;
}

/**
 * How an error message cites a definition line: `line 3 "x : int32"` for written text, the
 * quoted line and its origin for a definition made from decorators or `defineTable()`.
 *
 * @example
 * ```ts
 * import { lineRef } from "./definition.ts";
 * lineRef({ line: "x : int32", lineNumber: 3 }); // 'line 3 "x : int32"'
 * lineRef({ line: "x : int32", lineNumber: 3, origin: "the decorators of Session" });
 * // 'the line "x : int32" made from the decorators of Session'
 * ```
 */
export function lineRef(src: LineSource): string {
  return src.origin === undefined
    ? `line ${src.lineNumber} "${src.line}"`
    : `the line "${src.line}" made from ${src.origin}`;
}

/** Options of {@link parseDefinition}. */
export interface ParseOptions {
  /** Who made the text when the user did not write it (see {@link LineSource.origin}). */
  origin?: string;
}

/** `name [= default] : type [# comment]`. */
export interface AttributeLine extends LineSource {
  /** Discriminant. */
  kind: "attribute";
  /** Attribute name. */
  name: string;
  /** Whether it is above the `---` divider. */
  inKey: boolean;
  /** The type as written (trimmed). */
  type: string;
  /** The default as written (trimmed), `null` when none; `null`-defaults set `nullable`. */
  default: string | null;
  /** `= null`: the attribute may be NULL. */
  nullable: boolean;
  /** User comment (trimmed, without `#`). */
  comment: string;
}

/** `-> [options] Ref[.proj(new='old', …)]`. */
export interface ForeignKeyLine extends LineSource {
  /** Discriminant. */
  kind: "foreignKey";
  /** Whether it is above the `---` divider. */
  inKey: boolean;
  /** The referenced table as written: `Parent`, `module.Parent`, `master`, `Master.Part`. */
  ref: string;
  /** Renames from `.proj(new='old')`, in written order: `[new, old]`. */
  rename: [string, string][];
  /** `[nullable]`: the FK columns may be NULL. */
  nullable: boolean;
  /** `[unique]`: a unique index on the FK columns. */
  unique: boolean;
}

/** `[unique] index(a, b)`. */
export interface IndexLine extends LineSource {
  /** Discriminant. */
  kind: "index";
  /** `unique index(...)`. */
  unique: boolean;
  /** Indexed attribute names in order. */
  columns: string[];
}

/** A parsed definition. */
export interface Definition {
  /** The table comment (first line `# …`), `""` when none. */
  comment: string;
  /** Attribute, foreign-key and index lines in written order. */
  lines: (AttributeLine | ForeignKeyLine | IndexLine)[];
}

const NAME = /^[a-z][a-z0-9_]*$/;

function fail(src: LineSource, problem: string, fix: string): DeclarationError {
  return new DeclarationError(`${problem} in ${lineRef(src)}: ${fix}`);
}

/** Index of the first `ch` outside '…' and "…" quotes at or after `from`, or -1. */
function findUnquoted(s: string, ch: string, from = 0): number {
  let quote = "";
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === ch) {
      return i;
    }
  }
  return -1;
}

/**
 * DataJoint Python's test for a foreign-key line: it contains `->` and no `"`, `#` or `'` comes
 * before the arrow.
 */
function isForeignKey(line: string): boolean {
  const arrow = line.indexOf("->");
  return arrow >= 0 && !/["#']/.test(line.slice(0, arrow));
}

/**
 * Parses definition text. Blank lines and `#` lines are skipped; the first line, when it starts
 * with `#`, is the table comment; lines before `---` are the primary key.
 *
 * @example
 * ```ts
 * import { parseDefinition } from "./definition.ts";
 * const d = parseDefinition("-> [nullable] Rig\n---\nnote = \"\" : varchar(100)");
 * console.log(d.lines[0]); // { kind: "foreignKey", ref: "Rig", nullable: true, … }
 * ```
 */
export function parseDefinition(text: string, options: ParseOptions = {}): Definition {
  const raw = text.split(/\r?\n/);
  let comment = "";
  let inKey = true;
  let first = true;
  const lines: Definition["lines"] = [];
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i].trim();
    if (line === "") continue;
    const src: LineSource = { line, lineNumber: i + 1 };
    if (options.origin !== undefined) src.origin = options.origin;
    if (first) {
      first = false;
      if (line.startsWith("#")) {
        comment = line.slice(1).trim();
        if (comment.startsWith(":")) {
          throw fail(src, 'Table comment must not start with a colon ":"', "remove the colon");
        }
        continue;
      }
    }
    if (line.startsWith("#")) continue;
    if (line.startsWith("---") || line.startsWith("___")) {
      inKey = false;
      continue;
    }
    if (isForeignKey(line)) {
      lines.push(parseForeignKey(src, inKey));
    } else if (/^(unique\s+)?index\s*\(/i.test(line)) {
      lines.push(parseIndex(src));
    } else {
      lines.push(parseAttribute(src, inKey));
    }
  }
  return { comment, lines };
}

function parseForeignKey(src: LineSource, inKey: boolean): ForeignKeyLine {
  const { line } = src;
  let rest = line.slice(line.indexOf("->") + 2).trim();
  if (line.slice(0, line.indexOf("->")).trim() !== "") {
    throw fail(
      src,
      "Parsing error",
      "a foreign key line starts with -> (write `-> Parent`; to name the columns use -> Parent.proj(new='old'))",
    );
  }
  let nullable = false;
  let unique = false;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0) throw fail(src, "Parsing error", "close the option list with ]");
    for (const raw of rest.slice(1, close).split(",")) {
      const opt = raw.trim().toLowerCase();
      if (opt === "nullable") nullable = true;
      else if (opt === "unique") unique = true;
      else {
        throw fail(
          src,
          `Invalid foreign key option "${raw.trim().toUpperCase()}"`,
          "the options are nullable and unique",
        );
      }
    }
    rest = rest.slice(close + 1).trim();
  }
  const hash = findUnquoted(rest, "#");
  if (hash >= 0) rest = rest.slice(0, hash).trim();
  const m = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*?)(?:\.proj\(([\s\S]*)\))?$/.exec(
    rest,
  );
  if (!m) {
    throw fail(
      src,
      "Parsing error",
      "expected `-> Parent`, `-> module.Parent` or `-> Parent.proj(new_name='old_name')`",
    );
  }
  const rename: [string, string][] = [];
  if (m[2] !== undefined && m[2].trim() !== "") {
    for (const part of m[2].split(",")) {
      const r = /^\s*([a-z][a-z0-9_]*)\s*=\s*(['"])([a-z][a-z0-9_]*)\2\s*$/.exec(part);
      if (!r) {
        throw fail(
          src,
          "Parsing error",
          `write renames as new_name='old_name' (got ${JSON.stringify(part.trim())})`,
        );
      }
      rename.push([r[1], r[3]]);
    }
  }
  if (nullable && inKey) {
    throw fail(
      src,
      "Primary dependencies cannot be nullable",
      "move the line below --- or drop the nullable option",
    );
  }
  return { kind: "foreignKey", ...src, inKey, ref: m[1], rename, nullable, unique };
}

function parseIndex(src: LineSource): IndexLine {
  const m = /^(unique\s+)?index\s*\(([^()]*)\)\s*(#.*)?$/i.exec(src.line);
  if (!m) {
    throw fail(
      src,
      "Table definition syntax error",
      "write index(a, b) or unique index(a, b) with attribute names",
    );
  }
  const columns = m[2].split(",").map((c) => c.trim());
  for (const c of columns) {
    if (!NAME.test(c)) {
      throw fail(
        src,
        "Table definition syntax error",
        `${JSON.stringify(c)} is not an attribute name; index attributes by name, e.g. index(a, b)`,
      );
    }
  }
  if (new Set(columns).size !== columns.length) {
    throw fail(src, "Table definition syntax error", "an index lists each attribute once");
  }
  return { kind: "index", ...src, unique: m[1] !== undefined, columns };
}

function parseAttribute(src: LineSource, inKey: boolean): AttributeLine {
  const { line } = src;
  if (line.startsWith("_")) {
    throw fail(
      src,
      "Attribute name starts with an underscore",
      "names with a leading underscore are reserved for platform-managed columns (e.g. _job_start_time, _singleton); rename it",
    );
  }
  const name = /^[A-Za-z0-9_]*/.exec(line)![0];
  if (!NAME.test(name)) {
    throw fail(
      src,
      "Declaration error",
      name === ""
        ? "expected `name [= default] : type [# comment]`"
        : `attribute names are lowercase letters, digits and _, starting with a letter (got ${name})`,
    );
  }
  let rest = line.slice(name.length).trimStart();
  let defaultText: string | null = null;
  if (rest.startsWith("=")) {
    const colon = findUnquoted(rest, ":", 1);
    if (colon < 0) throw fail(src, "Declaration error", "add `: type` after the default");
    defaultText = rest.slice(1, colon).trim();
    if (defaultText === "") throw fail(src, "Declaration error", "give a default after =");
    rest = rest.slice(colon);
  }
  if (!rest.startsWith(":")) {
    throw fail(src, "Declaration error", "expected `name [= default] : type [# comment]`");
  }
  rest = rest.slice(1);
  const hash = findUnquoted(rest, "#");
  const type = (hash < 0 ? rest : rest.slice(0, hash)).trim();
  const comment = hash < 0 ? "" : rest.slice(hash + 1).trim();
  if (type === "") throw fail(src, "Declaration error", "give a type after the colon");
  if (comment.startsWith(":")) {
    throw fail(
      src,
      `An attribute comment must not start with a colon in comment "${comment}"`,
      "remove the leading colon",
    );
  }
  const nullable = defaultText !== null && defaultText.toLowerCase() === "null";
  if (nullable && inKey) {
    throw fail(
      src,
      "Primary key attributes cannot be nullable",
      "remove `= null` or move the attribute below ---",
    );
  }
  return { kind: "attribute", ...src, name, inKey, type, default: defaultText, nullable, comment };
}
