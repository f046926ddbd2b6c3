/**
 * `dj codecs`: the codecs a project can use: the built-in ones, and the plugin codecs its
 * `deno.json` maps (`datajoint.codecs` entries and `dj-codec-<name>` imports), with the storage
 * type each names in a table and in a store. `--load` imports the plugins to check them.
 *
 * @module
 */

import { findDenoConfig, listPluginCodecs, loadCodec } from "../../codecs/plugins.ts";
import { getCodec, listCodecs } from "../../codecs/registry.ts";
import "../../codecs/builtins.ts";
import { loadConfig } from "../config.ts";
import { oneLine } from "./command.ts";
import { alignColumns } from "./columns.ts";
import type { Command } from "./command.ts";
import { defineCommand } from "./define.ts";
import { BUILTIN_CODECS } from "./render.ts";

const HELP = `Usage: dj codecs [--load]

List the codecs this project can use, one per line: the name, its kind (built-in, plugin, or
registered by a plugin module), the storage type it names in a table (<name>) and in a store
(<name@store>) ('-' where the codec does not support that use), and for plugins where they come
from. Plugins are the codecs that the project's deno.json maps, under "datajoint" -> "codecs" or as
"dj-codec-<name>" imports; the project is the folder of datajoint.json, else of the nearest
deno.json, else the working directory.

Options:
  --load      import every plugin (as a definition naming it would), so that its storage types
              show; a plugin that fails to load is reported and the exit code is 1
  -h, --help  show this help
`;

function dtype(name: string, isStore: boolean): string {
  const codec = getCodec(name);
  if (codec === undefined) return "?";
  try {
    return codec.getDtype(isStore);
  } catch {
    return "-";
  }
}

/**
 * The `codecs` entry of the `dj` command table.
 *
 * @example
 * ```ts
 * import { codecsCommand } from "./codecs.ts";
 * const { stdout } = await codecsCommand.run([], new Uint8Array());
 * ```
 */
export const codecsCommand: Command = defineCommand({
  name: "codecs",
  summary: "list built-in codecs and the plugin codecs named in deno.json",
  help: HELP,
  args: { options: { "--load": "flag" } },
  run: async (parsed, context) => {
    const projectRoot = context.connection?.config.projectRoot ??
      loadConfig(context.config).projectRoot;
    const plugins = await listPluginCodecs({ projectRoot });
    const failures: string[] = [];
    if (parsed.flags.has("--load")) {
      for (const p of plugins) {
        try {
          await loadCodec(p.name, { projectRoot });
        } catch (e) {
          failures.push(`<${p.name}>: ${oneLine((e as Error).message)}`);
        }
      }
    }
    const pluginNames = new Set(plugins.map((p) => p.name));
    const rows = [["codec", "kind", "in table", "in a store", "source"]];
    for (const name of listCodecs()) {
      if (pluginNames.has(name)) continue;
      const kind = BUILTIN_CODECS.has(name) ? "built-in" : "registered";
      rows.push([`<${name}>`, kind, dtype(name, false), dtype(name, true), ""]);
    }
    for (const p of plugins) {
      const loaded = getCodec(p.name) !== undefined;
      rows.push([
        `<${p.name}>`,
        "plugin",
        loaded ? dtype(p.name, false) : "?",
        loaded ? dtype(p.name, true) : "?",
        `${p.specifier}${loaded ? "" : " (not loaded)"}`,
      ]);
    }
    let text = alignColumns(rows);
    const config = findDenoConfig(projectRoot);
    if (plugins.length > 0 && config !== undefined) text += `\nplugins mapped in ${config}\n`;
    if (failures.length === 0) return text;
    text += `\n${failures.map((f) => `failed: ${f}\n`).join("")}`;
    return {
      stdout: new TextEncoder().encode(text),
      stderr: `dj codecs: ${failures.length} plugin codec(s) failed to load: ${failures[0]}\n`,
      code: 1,
    };
  },
});
