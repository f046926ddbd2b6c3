/**
 * `dj tables <schema>`: the tables of a schema, parents before children, with their class names,
 * tiers, SQL names and comments.
 *
 * @module
 */

import { checkSchemaName } from "./args.ts";
import { alignColumns } from "./columns.ts";
import type { Command } from "./command.ts";
import { CONNECTION_HELP, openSchema, schemaTables, withConnection } from "./connect.ts";
import { defineCommand } from "./define.ts";

const HELP = `Usage: dj tables <schema>

List the tables of a schema, parents before children, one per line with four columns: the class
name (parts as Master.Part, as 'dj describe' and 'dj fetch' accept it), the tier (Manual, Lookup,
Imported, Computed, Part), the SQL table name and the table comment. Works on schemas declared
by DataJoint Python too. Hidden tables (~lineage, ~jobs) are left out; tables whose names follow
no DataJoint tier come last, with '-' for class and tier.

Example:
  dj tables lab

Options:
  -h, --help  show this help

${CONNECTION_HELP}
`;

/**
 * The `tables` entry of the `dj` command table.
 *
 * @example
 * ```ts
 * import { tablesCommand } from "./tables.ts";
 * const { stdout } = await tablesCommand.run(["lab"], new Uint8Array());
 * ```
 */
export const tablesCommand: Command = defineCommand({
  name: "tables",
  summary: "list the tables of a schema",
  help: HELP,
  args: { positionals: ["schema"] },
  run: (parsed, context) => {
    const name = checkSchemaName("dj tables", parsed.positionals[0]);
    return withConnection(context, async (conn) => {
      const vs = await openSchema(conn, name);
      const catalog = await conn.catalog(name);
      const named = schemaTables(vs);
      const rows = named.map((t) => [
        t.className,
        t.cls.tier,
        t.cls.tableName,
        catalog.tables.get(t.cls.tableName)?.comment ?? "",
      ]);
      // Tables whose names follow no DataJoint tier have no class: listed last, marked "-".
      const known = new Set(named.map((t) => t.cls.tableName));
      for (const [name, info] of catalog.tables) {
        if (!name.startsWith("~") && !known.has(name)) rows.push(["-", "-", name, info.comment]);
      }
      return alignColumns(rows);
    });
  },
});
