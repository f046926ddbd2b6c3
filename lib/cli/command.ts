/**
 * The contract between the `dj` entry point and its subcommands: a subcommand takes its
 * arguments and standard input and returns what to write and the exit code, so it can be run
 * and tested in-process without spawning a process.
 *
 * @module
 */

import type { LoadConfigOptions } from "../config.ts";
import type { Connection } from "../connection.ts";
import { DataJointError } from "../errors.ts";

/** Exit code of a successful run. */
export const EXIT_OK = 0;
/** Exit code of a runtime failure (bad input data, a failed operation). */
export const EXIT_FAILURE = 1;
/** Exit code of a usage error (unknown subcommand or option, missing argument). */
export const EXIT_USAGE = 2;

/** What a command run produced. */
export interface CliResult {
  /** Bytes for standard output (binary for `blob encode`). */
  stdout: Uint8Array;
  /** Text for standard error: empty, or one line ending in a newline. */
  stderr: string;
  /** Process exit code: {@link EXIT_OK}, {@link EXIT_FAILURE} or {@link EXIT_USAGE}. */
  code: number;
}

/**
 * Standard input: the bytes themselves, or a function that reads them on demand (so that
 * `--help` and usage errors never wait for input).
 */
export type StdinSource = Uint8Array | (() => Promise<Uint8Array>);

/**
 * Where commands that need the database get it. The `dj` process passes nothing: the connection
 * is opened from `DJ_*` variables and `datajoint.json`, exactly as the library opens it, and
 * closed when the command ends. In-process callers (tests, other tools) may hand in a connection.
 */
export interface CliContext {
  /** An open connection to use (left open), instead of opening one from the configuration. */
  connection?: Connection;
  /** How to load the configuration when no connection is given (default: `loadConfig()`). */
  config?: LoadConfigOptions;
}

/** One `dj` subcommand. */
export interface Command {
  /** The word that selects it, e.g. `blob`. */
  readonly name: string;
  /** One line for the `dj --help` command list. */
  readonly summary: string;
  /** Run with the arguments after the command name. */
  run(args: readonly string[], stdin: StdinSource, context?: CliContext): Promise<CliResult>;
}

/**
 * Wrong command-line usage: an unknown subcommand or option, or a missing argument. The entry
 * point reports it with exit code {@link EXIT_USAGE}.
 *
 * @example
 * ```ts
 * import { UsageError } from "./command.ts";
 * throw new UsageError("unknown option --fast (see 'dj blob decode --help')");
 * ```
 */
export class UsageError extends DataJointError {}

const encoder = new TextEncoder();

/**
 * A successful result with the given standard output (text is UTF-8 encoded).
 *
 * @example
 * ```ts
 * import { success } from "./command.ts";
 * success("done\n").code; // 0
 * ```
 */
export function success(stdout: Uint8Array | string): CliResult {
  return {
    stdout: typeof stdout === "string" ? encoder.encode(stdout) : stdout,
    stderr: "",
    code: EXIT_OK,
  };
}

/**
 * A failed result for an error thrown by a command: a {@link UsageError} exits with
 * {@link EXIT_USAGE}, anything else with {@link EXIT_FAILURE}. The message becomes one line
 * prefixed with `prog` (no stack trace); errors that are not {@link DataJointError}s are marked as
 * internal, since they point at a bug rather than at bad input.
 *
 * @example
 * ```ts
 * import { failure, UsageError } from "./command.ts";
 * failure("dj blob", new UsageError("missing subcommand")).stderr; // "dj blob: missing subcommand\n"
 * ```
 */
export function failure(prog: string, error: unknown): CliResult {
  const usage = error instanceof UsageError;
  const message = error instanceof DataJointError
    ? error.message
    : `internal error: ${error instanceof Error ? `${error.name}: ${error.message}` : error}`;
  return {
    stdout: new Uint8Array(0),
    stderr: `${prog}: ${oneLine(message)}\n`,
    code: usage ? EXIT_USAGE : EXIT_FAILURE,
  };
}

/**
 * Collapse a message onto one line, as the CLI contract requires of stderr.
 *
 * @example
 * ```ts
 * import { oneLine } from "./command.ts";
 * oneLine("bad\n  input"); // "bad input"
 * ```
 */
export function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/**
 * The bytes of a {@link StdinSource}, reading them if needed.
 *
 * @example
 * ```ts
 * import { readStdinSource } from "./command.ts";
 * const bytes = await readStdinSource(new Uint8Array([1, 2]));
 * ```
 */
export function readStdinSource(stdin: StdinSource): Promise<Uint8Array> {
  return stdin instanceof Uint8Array ? Promise.resolve(stdin) : stdin();
}
