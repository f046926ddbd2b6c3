/**
 * Error messages shared by every driver adapter: the server's message plus a short hint of what to
 * do, and (for syntax errors) the start of the offending SQL; the network failures both server
 * drivers see, undefined parameters, and failed connects.
 *
 * @module
 */
import { QueryError } from "../errors.ts";

/** The error situations that get a hint. */
export type ErrorKind =
  | "duplicate"
  | "foreignKey"
  | "notNull"
  | "missingAttribute"
  | "syntax"
  | "missingTable"
  | "unknownAttribute"
  | "access"
  | "lostConnection"
  | "packetTooLarge"
  | "other";

const HINTS: Record<ErrorKind, string> = {
  duplicate:
    "A row with this key already exists: pass skipDuplicates: true to skip existing rows, " +
    "or replace: true to overwrite them.",
  foreignKey:
    "A referenced parent row is missing, or children still reference this row: insert the " +
    "parent first, or delete the children first.",
  notNull: "A required attribute got no value (NULL): provide one, or declare a default.",
  missingAttribute: "A required attribute got no value: provide one, or declare a default.",
  syntax: "",
  missingTable: "Check the name, or declare the table (and create the schema) first.",
  unknownAttribute: "Check the attribute names.",
  access: "Ask the database administrator for the privilege.",
  lostConnection: "Check that the database server is running and reachable, then reconnect.",
  packetTooLarge: "",
  other: "",
};

/** The hint for an error kind (may be empty). */
export function hintFor(kind: ErrorKind): string {
  return HINTS[kind];
}

const SQL_EXCERPT = 300;

/** `message` + hint; syntax errors also quote the start of the SQL. */
export function errorMessage(message: string, kind: ErrorKind, sql: string): string {
  let out = message.trim();
  const hint = HINTS[kind];
  if (hint) out += `. ${hint}`;
  if (kind === "unknownAttribute" && /^\s*INSERT\b/i.test(sql)) {
    out += " Pass ignoreExtraFields: true to insert to drop fields the table does not have.";
  }
  if (kind === "syntax" && sql) {
    const text = sql.length > SQL_EXCERPT ? `${sql.slice(0, SQL_EXCERPT)}…` : sql;
    out += `\nSQL: ${text}`;
  }
  return out;
}

/** Byte size of a parameter as sent (for packet-size checks). */
export function paramSize(p: unknown): number {
  if (p instanceof Uint8Array) return p.byteLength;
  if (typeof p === "string") return p.length * 3; // upper bound of UTF-8 bytes per UTF-16 unit
  return 8;
}

/** Error codes of Node's sockets that mean the server cannot be reached or went away. */
export const NETWORK_ERROR_CODES: readonly string[] = [
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
];

/**
 * Refuses an `undefined` parameter before anything is sent (`name` spells the parameter's number
 * as the backend's placeholders do).
 *
 * @example
 * ```ts
 * import { checkParams } from "./_sql_errors.ts";
 * checkParams([1, null], (n) => `$${n}`); // fine; [1, undefined] throws "Parameter $2 is undefined…"
 * ```
 */
export function checkParams(params: readonly unknown[], name: (n: number) => string): void {
  for (let i = 0; i < params.length; i++) {
    if (params[i] === undefined) {
      throw new QueryError(
        `Parameter ${name(i + 1)} is undefined: pass null for SQL NULL (or omit the attribute).`,
      );
    }
  }
}

/**
 * A failed connect as an error of the translated error's class, saying where it went.
 *
 * @example
 * ```ts
 * import { connectFailure } from "./_sql_errors.ts";
 * import { LostConnectionError } from "../errors.ts";
 * const e = connectFailure(new LostConnectionError("refused"), "MySQL", { host: "db", user: "u" }, 3306, null);
 * console.log(e.message); // Cannot connect to MySQL at db:3306 as "u": refused
 * ```
 */
export function connectFailure(
  err: QueryError,
  server: string,
  options: { host: string; port?: number; user: string },
  defaultPort: number,
  cause: unknown,
): QueryError {
  const where = `${options.host}:${options.port ?? defaultPort}`;
  return new (err.constructor as typeof QueryError)(
    `Cannot connect to ${server} at ${where} as ${JSON.stringify(options.user)}: ${err.message}`,
    { code: err.code, cause },
  );
}
