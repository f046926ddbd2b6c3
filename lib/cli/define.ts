/**
 * The frame every argument-parsing `dj` subcommand shares: parse the arguments, answer `--help`,
 * run, and turn a thrown error into the one-line message and exit code of `command.ts`.
 *
 * @example
 * ```ts
 * import { defineCommand } from "./define.ts";
 * const hello = defineCommand({
 *   name: "hello",
 *   summary: "say hello",
 *   help: "Usage: dj hello <name>\n",
 *   args: { positionals: ["name"] },
 *   run: (parsed) => Promise.resolve(`hello ${parsed.positionals[0]}\n`),
 * });
 * ```
 *
 * @module
 */

import { type ArgSpec, parseArgs, type ParsedArgs } from "./args.ts";
import {
  type CliContext,
  type CliResult,
  type Command,
  failure,
  type StdinSource,
  success,
} from "./command.ts";

/** What {@link defineCommand} needs. */
export interface CommandDefinition {
  /** The word that selects the command. */
  name: string;
  /** One line for `dj --help`. */
  summary: string;
  /** The full `--help` text. */
  help: string;
  /** Options and positional arguments. */
  args: ArgSpec;
  /**
   * Runs the command; returns standard output (text or bytes), or a whole {@link CliResult}
   * when the command reports a failure together with output.
   */
  run(
    parsed: ParsedArgs,
    context: CliContext,
    stdin: StdinSource,
  ): Promise<string | Uint8Array | CliResult>;
}

/**
 * A {@link Command} from a definition: `--help` prints `help`; usage errors exit 2, other errors
 * 1, each as one line on stderr prefixed with `dj <name>`.
 *
 * @example
 * ```ts
 * import { defineCommand } from "./define.ts";
 * const cmd = defineCommand({
 *   name: "noop", summary: "do nothing", help: "Usage: dj noop\n", args: {},
 *   run: () => Promise.resolve(""),
 * });
 * (await cmd.run(["--help"], new Uint8Array())).code; // 0
 * ```
 */
export function defineCommand(def: CommandDefinition): Command {
  const prog = `dj ${def.name}`;
  return {
    name: def.name,
    summary: def.summary,
    async run(
      args: readonly string[],
      stdin: StdinSource,
      context: CliContext = {},
    ): Promise<CliResult> {
      try {
        const parsed = parseArgs(prog, args, def.args);
        if (parsed.help) return success(def.help);
        const out = await def.run(parsed, context, stdin);
        return typeof out === "string" || out instanceof Uint8Array ? success(out) : out;
      } catch (e) {
        return failure(prog, e);
      }
    },
  };
}
