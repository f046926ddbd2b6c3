/**
 * `dj describe <schema>.<Table>`: the definition of a table, as text that declares an identical
 * table (DataJoint Python's `describe()`).
 *
 * @module
 */

import { splitQualifiedName } from "./args.ts";
import type { Command } from "./command.ts";
import { CONNECTION_HELP, findTable, openSchema, withConnection } from "./connect.ts";
import { defineCommand } from "./define.ts";

const HELP = `Usage: dj describe <schema>.<Table>

Print the definition of a table: text that declares an identical table, with parents named by
class (other schemas' tables as schema.Class). <Table> is a class name as 'dj tables' lists it
(Subject, Session.Trial) or an SQL table name (#species, session__trial). Works on tables
declared by DataJoint Python too.

Example:
  dj describe lab.Session

Options:
  -h, --help  show this help

${CONNECTION_HELP}
`;

/**
 * The `describe` entry of the `dj` command table.
 *
 * @example
 * ```ts
 * import { describeCommand } from "./describe.ts";
 * const { stdout } = await describeCommand.run(["lab.Subject"], new Uint8Array());
 * ```
 */
export const describeCommand: Command = defineCommand({
  name: "describe",
  summary: "print the definition of a table",
  help: HELP,
  args: { positionals: ["schema>.<Table"] },
  run: (parsed, context) => {
    const { schema, table } = splitQualifiedName("dj describe", parsed.positionals[0]);
    return withConnection(context, async (conn) => {
      const cls = findTable(await openSchema(conn, schema), table);
      const text = await cls.describe();
      return text.endsWith("\n") ? text : `${text}\n`;
    });
  },
});
