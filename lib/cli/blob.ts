/**
 * `dj blob`: convert between DataJoint blob bytes and tagged JSON, on standard input and output.
 *
 * - `dj blob decode [--32bit-dims]`: blob bytes (plain or `ZL123`-compressed) → one tagged-JSON
 *   document and a newline.
 * - `dj blob encode [--no-compress]`: one tagged-JSON document → blob bytes.
 *
 * Invalid input exits with code 1 and one line on stderr; usage errors exit with code 2.
 *
 * @module
 */

import { pack, unpack } from "../../codecs/blob/mod.ts";
import { parseTagged, stringifyTagged } from "../../codecs/blob/tagged_json.ts";
import { DataJointError } from "../errors.ts";
import {
  type CliResult,
  type Command,
  failure,
  readStdinSource,
  type StdinSource,
  success,
  UsageError,
} from "./command.ts";
import { parseArgs } from "./args.ts";

const BLOB_HELP = `Usage: dj blob <decode|encode> [options]

Convert between DataJoint blob bytes and tagged JSON on stdin/stdout.

Subcommands:
  decode [--32bit-dims]   blob bytes on stdin -> tagged JSON on stdout
  encode [--no-compress]  tagged JSON on stdin -> blob bytes on stdout

Run 'dj blob <subcommand> --help' for details.
`;

const DECODE_HELP = `Usage: dj blob decode [--32bit-dims]

Read one DataJoint blob (raw bytes, plain or ZL123-compressed) from stdin and write it as one
tagged-JSON document and a newline to stdout.

Options:
  --32bit-dims  read every length field as u32 (blobs written by 32-bit MATLAB mYm)
  -h, --help    show this help
`;

const ENCODE_HELP = `Usage: dj blob encode [--no-compress]

Read one tagged-JSON document (UTF-8) from stdin and write the DataJoint blob bytes to stdout.
Blobs over 1000 bytes are zlib-compressed (ZL123) when that makes them smaller, as in Python.

Options:
  --no-compress  never compress
  -h, --help     show this help
`;

interface Subcommand {
  readonly help: string;
  readonly flags: readonly string[];
  run(flags: ReadonlySet<string>, input: Uint8Array): Uint8Array;
}

const textEncoder = new TextEncoder();

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  decode: {
    help: DECODE_HELP,
    flags: ["--32bit-dims"],
    run(flags, input) {
      const value = unpack(input, { use32bitDims: flags.has("--32bit-dims") });
      return textEncoder.encode(stringifyTagged(value) + "\n");
    },
  },
  encode: {
    help: ENCODE_HELP,
    flags: ["--no-compress"],
    run(flags, input) {
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(input);
      } catch (e) {
        throw new DataJointError("invalid tagged JSON: stdin is not valid UTF-8", { cause: e });
      }
      return pack(parseTagged(text), { compress: !flags.has("--no-compress") });
    },
  },
};

/**
 * Run `dj blob` with the arguments after `blob`. `stdin` is read only when a conversion runs.
 *
 * @example
 * ```ts
 * import { runBlob } from "./blob.ts";
 * const json = new TextEncoder().encode('{"int": "42"}');
 * const { stdout, code } = await runBlob(["encode", "--no-compress"], json);
 * const back = await runBlob(["decode"], stdout);
 * new TextDecoder().decode(back.stdout); // '{"int":"42"}\n'
 * ```
 */
export async function runBlob(args: readonly string[], stdin: StdinSource): Promise<CliResult> {
  const [name, ...rest] = args;
  const prog = name !== undefined && Object.hasOwn(SUBCOMMANDS, name)
    ? `dj blob ${name}`
    : "dj blob";
  try {
    if (name === undefined) {
      throw new UsageError("missing subcommand: decode or encode (see 'dj blob --help')");
    }
    if (name === "--help" || name === "-h" || name === "help") return success(BLOB_HELP);
    if (!Object.hasOwn(SUBCOMMANDS, name)) {
      throw new UsageError(
        `unknown subcommand '${name}': use decode or encode (see 'dj blob --help')`,
      );
    }
    const sub = SUBCOMMANDS[name];
    const parsed = parseArgs(prog, rest, {
      options: Object.fromEntries(sub.flags.map((f) => [f, "flag"])),
    });
    if (parsed.help) return success(sub.help);
    return success(sub.run(parsed.flags, await readStdinSource(stdin)));
  } catch (e) {
    return failure(prog, e);
  }
}

/**
 * The `blob` entry of the `dj` command table.
 *
 * @example
 * ```ts
 * import { blobCommand } from "./blob.ts";
 * blobCommand.name; // "blob"
 * ```
 */
export const blobCommand: Command = {
  name: "blob",
  summary: "convert between DataJoint blob bytes and tagged JSON",
  run: runBlob,
};
