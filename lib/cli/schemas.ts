/**
 * `dj schemas`: the schemas (databases) on the server, one name per line.
 *
 * @module
 */

import type { Command } from "./command.ts";
import { CONNECTION_HELP, withConnection } from "./connect.ts";
import { defineCommand } from "./define.ts";

const HELP = `Usage: dj schemas

List the schemas (MySQL databases, PostgreSQL schemas) on the server, one name per line, sorted.
System schemas are left out.

Options:
  -h, --help  show this help

${CONNECTION_HELP}
`;

/**
 * The `schemas` entry of the `dj` command table.
 *
 * @example
 * ```ts
 * import { schemasCommand } from "./schemas.ts";
 * const { stdout } = await schemasCommand.run([], new Uint8Array());
 * ```
 */
export const schemasCommand: Command = defineCommand({
  name: "schemas",
  summary: "list the schemas on the server",
  help: HELP,
  args: {},
  run: (_parsed, context) =>
    withConnection(context, async (conn) => {
      const names = await conn.listSchemas();
      return names.map((n) => `${n}\n`).join("");
    }),
});
