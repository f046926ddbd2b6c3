/**
 * Command-line parsing shared by the `dj` subcommands: options (`--name`, `--name value`,
 * `--name=value`, repeatable ones), positional arguments and `--help`. Wrong usage is a
 * {@link UsageError} naming the argument and the help to read, so the entry point exits with
 * code 2.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * const parsed = parseArgs("dj fetch", ["lab.Subject", "--limit", "5"], {
 *   options: { "--limit": "value" },
 *   positionals: ["schema.Table"],
 * });
 * parsed.positionals; // ["lab.Subject"]
 * parsed.values.get("--limit"); // "5"
 * ```
 *
 * @module
 */

import { UsageError } from "./command.ts";

/** How an option is given: alone (`flag`), with one value, or with a value and repeatable. */
export type OptionKind = "flag" | "value" | "repeat";

/** What a command accepts. */
export interface ArgSpec {
  /** Options by name (`--limit`), each with its kind. `--help`/`-h` are always accepted. */
  options?: Readonly<Record<string, OptionKind>>;
  /** Names of the required positional arguments, in order (shown in messages). */
  positionals?: readonly string[];
}

/** The parsed command line. */
export interface ParsedArgs {
  /** Whether `--help` or `-h` was given (other errors are then not reported). */
  help: boolean;
  /** Positional arguments, in order. */
  positionals: string[];
  /** Flags that were given. */
  flags: Set<string>;
  /** Values of single-value options. */
  values: Map<string, string>;
  /** Values of repeatable options, in order. */
  lists: Map<string, string[]>;
}

/**
 * Parses `args` against `spec`. `prog` (`dj fetch`) names the command in messages.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * const p = parseArgs("dj gc", ["main", "--schema", "a", "--schema=b", "--dry-run"], {
 *   options: { "--schema": "repeat", "--dry-run": "flag" },
 *   positionals: ["store"],
 * });
 * p.lists.get("--schema"); // ["a", "b"]
 * p.flags.has("--dry-run"); // true
 * ```
 */
export function parseArgs(prog: string, args: readonly string[], spec: ArgSpec): ParsedArgs {
  const options = spec.options ?? {};
  const wanted = spec.positionals ?? [];
  const seeHelp = `(see '${prog} --help')`;
  const out: ParsedArgs = {
    help: false,
    positionals: [],
    flags: new Set(),
    values: new Map(),
    lists: new Map(),
  };
  // Help wins over every other problem, so `dj fetch --bogus --help` shows the help.
  let problem: UsageError | undefined;
  const fail = (message: string) => {
    problem ??= new UsageError(`${message} ${seeHelp}`);
  };
  let onlyPositionals = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (onlyPositionals || !arg.startsWith("-") || arg === "-") {
      out.positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    if (arg === "--help" || arg === "-h") {
      out.help = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 && arg.startsWith("--") ? arg.slice(0, eq) : arg;
    const kind = Object.hasOwn(options, name) ? options[name] : undefined;
    if (kind === undefined) {
      fail(`unknown option ${name}`);
      continue;
    }
    if (kind === "flag") {
      if (eq > 0) fail(`option ${name} takes no value`);
      out.flags.add(name);
      continue;
    }
    let value: string;
    if (eq > 0) {
      value = arg.slice(eq + 1);
    } else if (i + 1 < args.length) {
      value = args[++i];
    } else {
      fail(`option ${name} needs a value`);
      continue;
    }
    if (kind === "repeat") {
      const list = out.lists.get(name) ?? [];
      list.push(value);
      out.lists.set(name, list);
    } else if (out.values.has(name)) {
      fail(`option ${name} is given twice`);
    } else {
      out.values.set(name, value);
    }
  }
  if (out.help) return out;
  if (problem === undefined && out.positionals.length < wanted.length) {
    const missing = wanted.slice(out.positionals.length).map((n) => `<${n}>`).join(" ");
    fail(`missing ${missing}`);
  }
  if (problem === undefined && out.positionals.length > wanted.length) {
    fail(`unexpected argument '${out.positionals[wanted.length]}'`);
  }
  if (problem !== undefined) throw problem;
  return out;
}

/**
 * A non-negative integer option value (`--limit 10`), or a {@link UsageError}.
 *
 * @example
 * ```ts
 * import { parseCount } from "./args.ts";
 * parseCount("dj fetch", "--limit", "10"); // 10
 * ```
 */
export function parseCount(prog: string, option: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(
      `${option} must be a non-negative integer, got ${
        JSON.stringify(text)
      } (see '${prog} --help')`,
    );
  }
  return Number(text);
}

/**
 * Splits `schema.Table` (the table part may itself contain a dot: `lab.Session.Trial`).
 *
 * @example
 * ```ts
 * import { splitQualifiedName } from "./args.ts";
 * splitQualifiedName("dj describe", "lab.Session.Trial"); // { schema: "lab", table: "Session.Trial" }
 * ```
 */
export function splitQualifiedName(
  prog: string,
  text: string,
): { schema: string; table: string } {
  const dot = text.indexOf(".");
  if (dot <= 0 || dot === text.length - 1) {
    throw new UsageError(
      `expected <schema>.<Table>, e.g. lab.Subject, got ${
        JSON.stringify(text)
      } (see '${prog} --help')`,
    );
  }
  return { schema: checkSchemaName(prog, text.slice(0, dot)), table: text.slice(dot + 1) };
}

const SCHEMA_NAME = /^[A-Za-z0-9_$][A-Za-z0-9_$-]*$/;

/**
 * Returns `name` when it can be a schema name (letters, digits, `_`, `$`, `-`), else throws a
 * {@link UsageError}.
 *
 * @example
 * ```ts
 * import { checkSchemaName } from "./args.ts";
 * checkSchemaName("dj tables", "lab"); // "lab"
 * ```
 */
export function checkSchemaName(prog: string, name: string): string {
  if (!SCHEMA_NAME.test(name)) {
    throw new UsageError(
      `${
        JSON.stringify(name)
      } is not a schema name: use letters, digits, _ and $ (see '${prog} --help')`,
    );
  }
  return name;
}
