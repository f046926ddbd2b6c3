/**
 * The error hierarchy of DataJoint for Deno. Every failure the library reports on purpose is a
 * {@link DataJointError}; subclasses narrow down where it came from so callers can branch on it.
 *
 * This module imports nothing: every layer (codecs, stores, the relational core) may use it.
 *
 * @module
 */

/**
 * The root of every error this library throws on purpose.
 *
 * @example
 * ```ts
 * import { DataJointError } from "./errors.ts";
 * try {
 *   throw new DataJointError("Table `lab`.`subject` does not exist: declare it first");
 * } catch (e) {
 *   if (e instanceof DataJointError) console.error(e.message);
 * }
 * ```
 */
export class DataJointError extends Error {
  /** Create an error; `options.cause` keeps the underlying error, if any. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }

  /**
   * `instanceof` that also recognises errors made by another copy of this module (a plugin
   * loaded by URL brings its own): such an error carries the shared brand, and it is an instance
   * of a class here when a class of that name is in its own prototype chain.
   */
  static override [Symbol.hasInstance](x: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, x)) return true;
    if (typeof x !== "object" || x === null || !(ERROR_BRAND in x)) return false;
    for (let p = Object.getPrototypeOf(x); p !== null; p = Object.getPrototypeOf(p)) {
      if ((p as { constructor?: { name?: string } }).constructor?.name === this.name) return true;
    }
    return false;
  }
}

// Shared by every copy of this module through the global symbol registry.
const ERROR_BRAND = Symbol.for("datajoint.DataJointError");
Object.defineProperty(DataJointError.prototype, ERROR_BRAND, { value: true });

/**
 * Bytes that are not a valid DataJoint blob: a wrong header, a truncated or overlong item, a length
 * that does not fit the data, a corrupt compressed stream, an unknown type code.
 *
 * @example
 * ```ts
 * import { BlobDecodeError } from "./errors.ts";
 * const err = new BlobDecodeError("Unknown blob header: expected mYm or dj0");
 * console.log(err instanceof Error, err.name); // true BlobDecodeError
 * ```
 */
export class BlobDecodeError extends DataJointError {}

/**
 * A value that cannot be written as a DataJoint blob, or that DataJoint Python could not read back
 * (an unsupported type, an unhashable dict key, an integer wider than 65535 bytes, a cycle).
 *
 * @example
 * ```ts
 * import { BlobEncodeError } from "./errors.ts";
 * const err = new BlobEncodeError("Cannot pack a function");
 * console.log(err.name); // BlobEncodeError
 * ```
 */
export class BlobEncodeError extends DataJointError {}

/**
 * A table definition that cannot be declared: a syntax error, an unsupported type, a bad default,
 * a foreign key that cannot be resolved. The message names the line and says what to do.
 *
 * @example
 * ```ts
 * import { DeclarationError } from "./errors.ts";
 * const err = new DeclarationError('Unsupported attribute type int33 in line "x : int33"');
 * console.log(err instanceof Error, err.name); // true DeclarationError
 * ```
 */
export class DeclarationError extends DataJointError {}

/**
 * A configuration that cannot be used: a malformed `datajoint.json`, an unknown backend, a bad
 * `DJ_*` variable.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./errors.ts";
 * const err = new ConfigError("DJ_PORT=abc is not a TCP port");
 * console.log(err.name); // ConfigError
 * ```
 */
export class ConfigError extends DataJointError {}

/**
 * Any error the database server reported, translated by the backend's adapter. Subclasses name the
 * common cases; `code` keeps the server's own error code (MySQL errno or PostgreSQL SQLSTATE).
 *
 * @example
 * ```ts
 * import { QueryError } from "./errors.ts";
 * const err = new QueryError("Table `lab`.`x` does not exist", { code: "1146" });
 * console.log(err.code); // 1146
 * ```
 */
export class QueryError extends DataJointError {
  /** The server's error code (MySQL errno as text, or PostgreSQL SQLSTATE), when known. */
  readonly code?: string;
  /** Create an error with the server's code and the driver error as `cause`. */
  constructor(message: string, options?: ErrorOptions & { code?: string }) {
    super(message, options);
    this.code = options?.code;
  }
}

/**
 * A row whose primary key (or another unique key) already exists.
 *
 * @example
 * ```ts
 * import { DuplicateError, QueryError } from "./errors.ts";
 * console.log(new DuplicateError("Duplicate entry") instanceof QueryError); // true
 * ```
 */
export class DuplicateError extends QueryError {}

/**
 * A foreign-key or NOT NULL violation: a missing parent row, a row still referenced by children.
 *
 * @example
 * ```ts
 * import { IntegrityError } from "./errors.ts";
 * console.log(new IntegrityError("Cannot delete a parent row").name); // IntegrityError
 * ```
 */
export class IntegrityError extends QueryError {}

/**
 * A table (or schema) the statement names does not exist.
 *
 * @example
 * ```ts
 * import { MissingTableError } from "./errors.ts";
 * console.log(new MissingTableError("no such table").name); // MissingTableError
 * ```
 */
export class MissingTableError extends QueryError {}

/**
 * A column the statement names does not exist.
 *
 * @example
 * ```ts
 * import { UnknownAttributeError } from "./errors.ts";
 * console.log(new UnknownAttributeError("no such column").name); // UnknownAttributeError
 * ```
 */
export class UnknownAttributeError extends QueryError {}

/**
 * A required column (NOT NULL, no default) was given no value.
 *
 * @example
 * ```ts
 * import { MissingAttributeError } from "./errors.ts";
 * console.log(new MissingAttributeError("field has no default").name); // MissingAttributeError
 * ```
 */
export class MissingAttributeError extends QueryError {}

/**
 * The server rejected the SQL text itself.
 *
 * @example
 * ```ts
 * import { QuerySyntaxError } from "./errors.ts";
 * console.log(new QuerySyntaxError("syntax error").name); // QuerySyntaxError
 * ```
 */
export class QuerySyntaxError extends QueryError {}

/**
 * The user lacks a privilege the statement needs.
 *
 * @example
 * ```ts
 * import { AccessError } from "./errors.ts";
 * console.log(new AccessError("permission denied").name); // AccessError
 * ```
 */
export class AccessError extends QueryError {}

/**
 * The connection to the server failed or was lost.
 *
 * @example
 * ```ts
 * import { LostConnectionError } from "./errors.ts";
 * console.log(new LostConnectionError("connection refused").name); // LostConnectionError
 * ```
 */
export class LostConnectionError extends QueryError {}

/**
 * An object store that cannot be used: a bad store specification, an unreachable endpoint, wrong
 * credentials, a missing bucket, a failed write. The message names the store and what to check.
 *
 * @example
 * ```ts
 * import { StoreError } from "./errors.ts";
 * const err = new StoreError('Store "main": bucket "data" does not exist; create it first');
 * console.log(err instanceof Error, err.name); // true StoreError
 * ```
 */
export class StoreError extends DataJointError {}

/**
 * A stored object that a row refers to is not in its store (reference `MissingExternalFile`).
 *
 * @example
 * ```ts
 * import { MissingExternalFile } from "./errors.ts";
 * const err = new MissingExternalFile("Missing external file /data/_hash/lab/abc");
 * console.log(err.name); // MissingExternalFile
 * ```
 */
export class MissingExternalFile extends StoreError {}

/**
 * A stored object whose content does not match its metadata: a hash mismatch, a wrong size, a file
 * missing from a folder's manifest. Never returned as data.
 *
 * @example
 * ```ts
 * import { CorruptObjectError } from "./errors.ts";
 * const err = new CorruptObjectError("Hash mismatch: expected abc…, got def…");
 * console.log(err.name); // CorruptObjectError
 * ```
 */
export class CorruptObjectError extends StoreError {}

/**
 * A value a codec refuses (its `validate`, or an input the codec cannot encode), or a stored value
 * a codec cannot decode. Messages name the codec, and where known the table, key and attribute.
 *
 * @example
 * ```ts
 * import { CodecError } from "./errors.ts";
 * const err = new CodecError("<npy@> needs an NDArray, got string");
 * console.log(err.name); // CodecError
 * ```
 */
export class CodecError extends DataJointError {}

/**
 * The same error with `prefix` in front of its message (where it happened), keeping its class and
 * server `code`, with the original as `cause`. A non-`DataJointError` becomes a `DataJointError`.
 *
 * @example
 * ```ts
 * import { DuplicateError, withContext } from "./errors.ts";
 * const e = withContext(new DuplicateError("Duplicate entry '1'", { code: "1062" }), "`lab`.`subject`");
 * console.log(e instanceof DuplicateError, e.message); // true `lab`.`subject`: Duplicate entry '1'
 * ```
 */
export function withContext(e: unknown, prefix: string): DataJointError {
  const err = e instanceof Error ? e : new Error(String(e));
  const message = `${prefix}: ${err.message}`;
  if (err instanceof DataJointError) {
    const Cls = err.constructor as new (m: string, o?: ErrorOptions & { code?: string }) => Error;
    const code = (err as { code?: string }).code;
    try {
      const made = new Cls(message, { cause: err, ...(code === undefined ? {} : { code }) });
      if (made instanceof DataJointError) return made;
    } catch {
      // A subclass with another constructor signature: fall back to the base class.
    }
  }
  return new DataJointError(message, { cause: err });
}
