/**
 * `dj fetch <schema>.<Table>`: the rows of a table (optionally restricted and limited), ordered
 * by primary key, as JSON, CSV or an aligned table. How each type prints is in `render.ts`.
 *
 * @module
 */

import type { Heading } from "../heading.ts";
import { parseCount, splitQualifiedName } from "./args.ts";
import { type Command, UsageError } from "./command.ts";
import { CONNECTION_HELP, findTable, openSchema, withConnection } from "./connect.ts";
import { defineCommand } from "./define.ts";
import { type Format, formatRows, FORMATS } from "./formats.ts";
import { type JsonValue, renderValue } from "./render.ts";

const HELP = `Usage: dj fetch <schema>.<Table> [--where JSON] [--limit N] [--format json|csv|table]
                [--download-path DIR]

Print the rows of a table, ordered by primary key, every attribute decoded through its codec.
Works on tables declared by DataJoint Python too. <Table> is a class name as 'dj tables' lists it
(Subject, Session.Trial) or an SQL table name.

Options:
  --where JSON          only rows whose attributes equal these values, e.g. '{"subject_id": 1}'
                        (null matches NULL), each written as the json format prints it
  --limit N             at most N rows
  --format F            json (default): a JSON array, one row per line;
                        csv: a header line, then one line per row;
                        table: aligned columns for reading (* marks the primary key)
  --download-path DIR   where <attach> files are written (default: download_path of the
                        configuration, DJ_DOWNLOAD_PATH, else the working directory)
  -h, --help            show this help

JSON values: numbers and strings for numbers and text; int64 with every digit; decimal as an
exact string; date "YYYY-MM-DD"; datetime "YYYY-MM-DD HH:MM:SS[.ffffff]"; uuid as text; json as
itself; bytes and <hash@> as {"bytes": "<hex>"}; <blob> values in tagged JSON (as 'dj blob
decode' prints them); <attach> as the path of the downloaded file; <npy@>, <object@> and
<filepath@> as the metadata their column holds (path, store, ...). In csv, strings are written
as they are and other values as their JSON text; NULL is an empty field.

Examples:
  dj fetch lab.Subject --format table
  dj fetch lab.Session --where '{"subject_id": 1}' --limit 10

${CONNECTION_HELP}
`;

const PROG = "dj fetch";

/**
 * Parses `--where`: a JSON object of attribute values. Integers beyond 2^53 become `bigint`
 * (read from their digits, not rounded), so `int64` keys restrict exactly.
 *
 * @example
 * ```ts
 * import { parseWhere } from "./fetch.ts";
 * parseWhere('{"id": 12345678901234567890}'); // { id: 12345678901234567890n }
 * ```
 */
export function parseWhere(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(
      text,
      (_key, v, context?: { source?: string }) =>
        typeof v === "number" && !Number.isSafeInteger(v) && context?.source !== undefined &&
          /^-?\d+$/.test(context.source)
          ? BigInt(context.source)
          : v,
    );
  } catch (e) {
    throw new UsageError(
      `--where is not valid JSON (${
        (e as Error).message
      }): give an object such as '{"subject_id": 1}' (see '${PROG} --help')`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(
      `--where must be a JSON object of attribute values such as '{"subject_id": 1}', got ${text} (see '${PROG} --help')`,
    );
  }
  return value as Record<string, unknown>;
}

function parseFormat(text: string | undefined): Format {
  if (text === undefined) return "json";
  if ((FORMATS as readonly string[]).includes(text)) return text as Format;
  throw new UsageError(
    `--format must be one of ${FORMATS.join(", ")}, got ${
      JSON.stringify(text)
    } (see '${PROG} --help')`,
  );
}

/** The attributes `toDicts` returns, in heading order. */
function visible(heading: Heading) {
  return heading.attributes.filter((a) => !a.hidden);
}

/**
 * The `fetch` entry of the `dj` command table.
 *
 * @example
 * ```ts
 * import { fetchCommand } from "./fetch.ts";
 * const { stdout } = await fetchCommand.run(["lab.Subject", "--limit", "5"], new Uint8Array());
 * ```
 */
export const fetchCommand: Command = defineCommand({
  name: "fetch",
  summary: "print the rows of a table as JSON, CSV or a table",
  help: HELP,
  args: {
    positionals: ["schema>.<Table"],
    options: {
      "--where": "value",
      "--limit": "value",
      "--format": "value",
      "--download-path": "value",
    },
  },
  run: (parsed, context) => {
    const { schema, table } = splitQualifiedName(PROG, parsed.positionals[0]);
    const whereText = parsed.values.get("--where");
    const where = whereText === undefined ? {} : parseWhere(whereText);
    const limitText = parsed.values.get("--limit");
    const limit = limitText === undefined ? undefined : parseCount(PROG, "--limit", limitText);
    const format = parseFormat(parsed.values.get("--format"));
    const downloadPath = parsed.values.get("--download-path");
    if (downloadPath === "") {
      throw new UsageError(`--download-path needs a folder (see '${PROG} --help')`);
    }
    return withConnection(context, async (conn) => {
      const cls = findTable(await openSchema(conn, schema), table);
      const heading = await cls.heading();
      // The connection's configuration decides where attachments go; a caller's connection gets
      // its own setting back afterwards.
      const config = conn.config as { downloadPath: string };
      const previous = config.downloadPath;
      if (downloadPath !== undefined) config.downloadPath = downloadPath;
      let rows: Record<string, unknown>[];
      try {
        rows = await cls.restrict(where).toDicts({ orderBy: heading.primaryKey, limit });
      } finally {
        config.downloadPath = previous;
      }
      const attributes = visible(heading);
      const origin = { schema: heading.schema, table: heading.table };
      const rendered: Record<string, JsonValue>[] = [];
      for (const row of rows) {
        const out: Record<string, JsonValue> = {};
        for (const a of attributes) {
          Object.defineProperty(out, a.name, {
            value: await renderValue(a, row[a.name], origin),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        rendered.push(out);
      }
      return formatRows(format, attributes.map((a) => a.name), rendered, heading.primaryKey);
    });
  },
});
