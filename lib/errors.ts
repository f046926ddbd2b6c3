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
}

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
