/**
 * A server's refusal of a declaration as a {@link DeclarationError} that names the table and, when
 * the server's message names an attribute or a word of a type, the definition line to change.
 * Some definitions only the server can judge (native types PostgreSQL lacks, a text column in a
 * MySQL key, MySQL's comment and key lengths); without this, the user got the bare server error.
 *
 * @example
 * ```ts
 * import { declarationRefusal } from "./declare_errors.ts";
 * import { parseDefinition } from "./definition.ts";
 * import { QueryError } from "./errors.ts";
 * const e = declarationRefusal(
 *   new QueryError('type "longtext" does not exist'),
 *   { table: '"lab"."note"', className: "Note", backend: "PostgreSQL" },
 *   parseDefinition("id : int32\n---\ntext : longtext"),
 * );
 * console.log(e.message); // …line 3 "text : longtext"…
 * ```
 *
 * @module
 */
import { type Definition, lineRef } from "./definition.ts";
import { AccessError, DeclarationError, LostConnectionError, QueryError } from "./errors.ts";

/** Which table was being declared. */
export interface DeclarationTarget {
  /** The quoted full table name. */
  table: string;
  /** The class declaring it. */
  className: string;
  /** The backend's name for messages (`MySQL`, `PostgreSQL`). */
  backend: string;
}

/** The definition line the server's message points at, if any. */
function lineOf(message: string, definition: Definition) {
  const tokens = [...message.matchAll(/['"`]([^'"`\s]+)['"`]/g)].map((m) => m[1].toLowerCase());
  for (const token of tokens) {
    for (const line of definition.lines) {
      if (line.kind !== "attribute") continue;
      const words: string[] = line.type.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? [];
      if (line.name === token || words.includes(token)) return line;
    }
  }
  return undefined;
}

/**
 * `error` as a DeclarationError when it is the server refusing the DDL; other errors (lost
 * connection, missing privileges, errors of this library) are returned as they are.
 *
 * @example
 * ```ts
 * import { declarationRefusal } from "./declare_errors.ts";
 * import { parseDefinition } from "./definition.ts";
 * const e = new Error("not from the server");
 * const same = declarationRefusal(e, { table: "`a`.`b`", className: "B", backend: "MySQL" },
 *   parseDefinition("id : int32"));
 * console.log(same === e); // true
 * ```
 */
export function declarationRefusal(
  error: unknown,
  target: DeclarationTarget,
  definition: Definition,
): unknown {
  if (
    !(error instanceof QueryError) || error instanceof AccessError ||
    error instanceof LostConnectionError
  ) {
    return error;
  }
  const reason = error.message.split("\n")[0].replace(/[.\s]+$/, "");
  const line = lineOf(reason, definition);
  const where = line ? ` The problem is in ${lineRef(line)}.` : "";
  return new DeclarationError(
    `${target.backend} refused to declare ${target.table} (class ${target.className}): ${reason}.${where} ` +
      `Change the definition so that ${target.backend} accepts it; nothing was declared.`,
    { cause: error },
  );
}
