/**
 * `dj init <dir>`: starts a project of one's own that uses this library. It writes `deno.json`
 * (the library under the import name `datajoint`, the npm packages the library imports at the
 * versions it pins, a `dj` task, and an empty `datajoint.codecs` map for the project's codecs)
 * and a first `pipeline.ts`. A project folder needs the library's packages in its own import map:
 * Deno reads only the project's `deno.json`, not the one beside an imported module.
 *
 * @module
 */

import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DataJointError } from "../errors.ts";
import type { Command } from "./command.ts";
import { defineCommand } from "./define.ts";

const HELP = `Usage: dj init <dir> [--print]

Start a project that uses this library in <dir> (made when missing; '.' for the working
directory). Writes:
  deno.json    "imports": "datajoint" -> this library's mod.ts, and the npm packages it needs;
               "tasks": "dj" -> this command, so 'deno task dj ...' works in the project;
               "datajoint": {"codecs": {}} -> map your codec modules here, by name, so that every
               script of the project and the dj command find them
  pipeline.ts  a first table, an insert and a query on the embedded default database
  .gitignore   .dj/ (the embedded database and local store), unless one exists
Nothing is overwritten: a <dir> that has a deno.json (or deno.jsonc) is refused.
Then: cd <dir> && deno run --allow-all pipeline.ts

Options:
  --print     print the deno.json to stdout instead of writing files (to merge into your own)
  -h, --help  show this help
`;

/** Imports of the library's own deno.json that only its tests and benches use. */
const DEV_ONLY = new Set(["fast-check"]);

const PIPELINE = `// A first pipeline: run it with  deno run --allow-all pipeline.ts
// With nothing configured it uses the embedded database in .dj/ of this project.
import * as dj from "datajoint";

const lab = dj.schema("my_lab");

@lab
class Mouse extends dj.Manual {
  static override definition = \`
    mouse_id : int32
    ---
    dob : date
    sex : enum('M', 'F', 'U')
  \`;
}

await Mouse.insert([
  { mouse_id: 1, dob: "2024-01-03", sex: "F" },
  { mouse_id: 2, dob: "2024-02-11", sex: "M" },
], { skipDuplicates: true });
console.log(await Mouse.restrict({ sex: "F" }).toDicts());
await dj.closeConnection();
`;

/** Where this library is, as an import specifier seen from `dir`. */
function librarySpecifier(dir: string, path: string): string {
  const url = new URL(`../../${path}`, import.meta.url);
  if (url.protocol !== "file:") return url.href;
  const rel = relative(dir, fileURLToPath(url)).split("\\").join("/");
  return rel.startsWith(".") || isAbsolute(rel) ? rel : `./${rel}`;
}

/**
 * The `deno.json` of a new project in `dir` (absolute).
 *
 * @example
 * ```ts
 * import { projectConfig } from "./init.ts";
 * const config = await projectConfig("/tmp/my-project");
 * console.log((config.imports as Record<string, string>).datajoint); // e.g. ../../work/main/mod.ts
 * ```
 */
export async function projectConfig(dir: string): Promise<Record<string, unknown>> {
  const own = new URL("../../deno.json", import.meta.url);
  let text: string;
  try {
    text = own.protocol === "file:"
      ? await Deno.readTextFile(fileURLToPath(own))
      : await (await fetch(own)).text();
  } catch (e) {
    throw new DataJointError(
      `Cannot read the library's deno.json at ${own.href}: ${(e as Error).message}`,
    );
  }
  const imports: Record<string, string> = { datajoint: librarySpecifier(dir, "mod.ts") };
  for (const [k, v] of Object.entries(JSON.parse(text).imports ?? {})) {
    if (!DEV_ONLY.has(k)) imports[k] = String(v);
  }
  return {
    imports,
    // --config: Deno would otherwise take the library's deno.json, beside the command's module,
    // and the project's codec modules would not resolve "datajoint".
    tasks: {
      dj: `deno run --allow-all --config deno.json ${librarySpecifier(dir, "lib/cli/main.ts")}`,
    },
    datajoint: { codecs: {} },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * The `init` entry of the `dj` command table.
 *
 * @example
 * ```ts
 * import { initCommand } from "./init.ts";
 * const { stdout } = await initCommand.run(["/tmp/my-project", "--print"], new Uint8Array());
 * ```
 */
export const initCommand: Command = defineCommand({
  name: "init",
  summary: "start a project of your own that uses this library (deno.json, pipeline.ts)",
  help: HELP,
  args: { options: { "--print": "flag" }, positionals: ["dir"] },
  run: async (parsed) => {
    const dir = resolve(parsed.positionals[0]);
    const config = `${JSON.stringify(await projectConfig(dir), null, 2)}\n`;
    if (parsed.flags.has("--print")) return config;
    try {
      return await writeProject(dir, parsed.positionals[0], config);
    } catch (e) {
      if (e instanceof DataJointError) throw e;
      throw new DataJointError(
        `Cannot make a project in ${dir}: ${(e as Error).message}. Give a folder that is new or ` +
          "empty, and that you may write to",
        { cause: e },
      );
    }
  },
});

/** Writes deno.json and pipeline.ts into `dir`, refusing to overwrite a Deno configuration. */
async function writeProject(dir: string, given: string, config: string): Promise<string> {
  for (const name of ["deno.json", "deno.jsonc"]) {
    if (await exists(join(dir, name))) {
      throw new DataJointError(
        `${
          join(dir, name)
        } exists and is left as it is: add the entries of 'dj init ${given} --print' to it yourself, or init a new folder`,
      );
    }
  }
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "deno.json"), config, { createNew: true });
  const wrote = [join(dir, "deno.json")];
  const pipeline = join(dir, "pipeline.ts");
  if (!(await exists(pipeline))) {
    await Deno.writeTextFile(pipeline, PIPELINE, { createNew: true });
    wrote.push(pipeline);
  }
  // The embedded database and local store live in .dj/: data, not source.
  const ignore = join(dir, ".gitignore");
  if (!(await exists(ignore))) {
    await Deno.writeTextFile(ignore, ".dj/\n", { createNew: true });
    wrote.push(ignore);
  }
  return `wrote ${wrote.join(", ")}\nnext: cd ${given} && deno run --allow-all pipeline.ts\n`;
}
