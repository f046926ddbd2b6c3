/**
 * `dj diagram <schema>`: the schema's tables and foreign keys as Mermaid `flowchart` text on
 * standard output, or with `--svg FILE` as an SVG picture laid out here (no external tools).
 *
 * @module
 */

import { DataJointError } from "../errors.ts";
import { checkSchemaName } from "./args.ts";
import { type Command, UsageError } from "./command.ts";
import { CONNECTION_HELP, withConnection } from "./connect.ts";
import { defineCommand } from "./define.ts";
import { diagramModel } from "./diagram_model.ts";
import { toMermaid } from "./mermaid.ts";
import { toSvg } from "./svg.ts";

const HELP = `Usage: dj diagram <schema> [--svg FILE]

Draw the tables of a schema and their foreign keys, parents above children. Tables are styled by
tier as DataJoint draws them: Manual green boxes, Lookup grey boxes, Imported blue and Computed
red rounded shapes, parts small and attached to their master, tables of other schemas that a
foreign key points to with a dashed border. Arrows go from parent to child: solid for a primary
dependency (the foreign key is part of the child's primary key), dashed for a secondary one;
a foreign key that renames columns is labelled proj(new=old).

Without --svg, prints Mermaid flowchart text (paste it into Markdown as a mermaid code block).

Options:
  --svg FILE  write an SVG picture to FILE instead ('-' for standard output); tables are laid out
              in layers by dependency depth
  -h, --help  show this help

Examples:
  dj diagram lab > lab.mmd
  dj diagram lab --svg lab.svg

${CONNECTION_HELP}
`;

/**
 * The `diagram` entry of the `dj` command table.
 *
 * @example
 * ```ts
 * import { diagramCommand } from "./diagram.ts";
 * const { stdout } = await diagramCommand.run(["lab"], new Uint8Array());
 * ```
 */
export const diagramCommand: Command = defineCommand({
  name: "diagram",
  summary: "draw a schema's tables and foreign keys (Mermaid text, or --svg FILE)",
  help: HELP,
  args: { positionals: ["schema"], options: { "--svg": "value" } },
  run: (parsed, context) => {
    const schema = checkSchemaName("dj diagram", parsed.positionals[0]);
    const svgFile = parsed.values.get("--svg");
    if (svgFile === "") throw new UsageError("--svg needs a file name (see 'dj diagram --help')");
    return withConnection(context, async (conn) => {
      if (!(await conn.schemaExists(schema))) {
        throw new DataJointError(
          `schema ${
            JSON.stringify(schema)
          } does not exist on this ${conn.backend} server (see 'dj schemas')`,
        );
      }
      conn.invalidate(schema);
      const model = diagramModel(await conn.catalog(schema));
      if (svgFile === undefined) return toMermaid(model);
      const svg = toSvg(model);
      if (svgFile === "-") return svg;
      try {
        await Deno.writeTextFile(svgFile, svg);
      } catch (e) {
        throw new DataJointError(
          `cannot write ${svgFile}: ${
            (e as Error).message
          }; check that its folder exists and is writable`,
          { cause: e },
        );
      }
      return "";
    });
  },
});
