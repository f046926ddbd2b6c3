/**
 * `dj`: the DataJoint command line. `deno task dj <command> [options]`.
 *
 * Subcommands live in {@link COMMANDS}; adding one is adding an entry there. Exit codes: 0 on
 * success, 1 on a runtime error, 2 on a usage error, each error reported as one line on stderr.
 *
 * @module
 */

import { DataJointError } from "../errors.ts";
import { blobCommand } from "./blob.ts";
import { codecsCommand } from "./codecs.ts";
import {
  type CliContext,
  type CliResult,
  type Command,
  failure,
  type StdinSource,
  success,
  UsageError,
} from "./command.ts";
import { CONNECTION_HELP } from "./connect.ts";
import { describeCommand } from "./describe.ts";
import { diagramCommand } from "./diagram.ts";
import { fetchCommand } from "./fetch.ts";
import { gcCommand } from "./gc.ts";
import { initCommand } from "./init.ts";
import { schemasCommand } from "./schemas.ts";
import { tablesCommand } from "./tables.ts";

/**
 * The command table, in the order `dj --help` lists them.
 *
 * @example
 * ```ts
 * import { COMMANDS } from "./main.ts";
 * COMMANDS.map((c) => c.name); // ["schemas", "tables", "describe", "fetch", ...]
 * ```
 */
export const COMMANDS: readonly Command[] = [
  schemasCommand,
  tablesCommand,
  describeCommand,
  fetchCommand,
  diagramCommand,
  codecsCommand,
  gcCommand,
  blobCommand,
  initCommand,
];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: dj <command> [options]

DataJoint for Deno, command line.

Commands:
${lines.join("\n")}

Run 'dj <command> --help' for a command's usage. Exit codes: 0 on success, 1 when the command
fails (the database, a store or the data said no), 2 for wrong usage; errors are one line on
standard error.

${CONNECTION_HELP}
`;
}

/**
 * Run `dj` with its arguments (without the program name). `stdin` is read only by commands that
 * need it. `context` may hand database commands an open connection (otherwise each opens one from
 * the configuration and closes it).
 *
 * @example
 * ```ts
 * import { runCli } from "./main.ts";
 * const { code, stdout } = await runCli(["--help"], new Uint8Array());
 * code; // 0
 * ```
 */
export function runCli(
  args: readonly string[],
  stdin: StdinSource,
  context: CliContext = {},
): Promise<CliResult> {
  const [name, ...rest] = args;
  if (name === "--help" || name === "-h" || name === "help") {
    return Promise.resolve(success(mainHelp()));
  }
  if (name === undefined) {
    return Promise.resolve(failure("dj", new UsageError("missing command (see 'dj --help')")));
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    return Promise.resolve(
      failure("dj", new UsageError(`unknown command '${name}' (see 'dj --help')`)),
    );
  }
  return command.run(rest, stdin, context);
}

async function readAllStdin(): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of Deno.stdin.readable) {
    chunks.push(chunk);
    total += chunk.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function writeAll(w: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array) {
  for (let at = 0; at < bytes.length;) at += await w.write(bytes.subarray(at));
}

/**
 * Writes a result to standard output and error and returns the exit code. A reader that went
 * away (`dj fetch … | head -1`) had all it wanted: no message, the command's own exit code. Any
 * other write failure (a full disk) is reported on one line and exits 1.
 */
async function emit(result: CliResult): Promise<number> {
  let code = result.code;
  let stderr = result.stderr;
  try {
    await writeAll(Deno.stdout, result.stdout);
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) {
      const failed = failure(
        "dj",
        new DataJointError(
          `cannot write standard output (${
            (e as Error).message
          }): free space or redirect the output elsewhere`,
        ),
      );
      code = failed.code;
      stderr = failed.stderr + stderr;
    }
  }
  if (stderr !== "") {
    try {
      await writeAll(Deno.stderr, new TextEncoder().encode(stderr));
    } catch {
      // Standard error is closed too: the exit code is all that is left to tell.
    }
  }
  return code;
}

if (import.meta.main) {
  // `deno task dj` runs in the folder of deno.json; relative paths (`--svg FILE`, the search for
  // datajoint.json and plugins) should mean the folder where the command was typed.
  const initCwd = Deno.env.get("INIT_CWD");
  if (initCwd) {
    try {
      Deno.chdir(initCwd);
    } catch {
      // A folder that vanished since: stay in the task's folder.
    }
  }
  let result: CliResult;
  try {
    result = await runCli(Deno.args, readAllStdin);
  } catch (e) {
    result = failure("dj", e);
  }
  Deno.exit(await emit(result));
}
