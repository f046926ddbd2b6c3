/**
 * A codec plugin published at a URL, used like a built-in codec.
 *
 * This folder's `deno.json` maps the codec names `graph` and `cgraph` to module URLs in its
 * `datajoint.codecs` section. The table below declares a column `<cgraph>`, a codec this script
 * never imports: when the table is declared, DataJoint finds `<cgraph>` in the mapping, imports
 * the module from its URL, and the module registers the codec (and `<graph>`, which `<cgraph>`
 * stores through). Fetching decodes through the same codecs.
 *
 * Try it (from the repository root) with the plugins served on loopback:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read examples/plugin_url/serve.ts &
 * deno run --allow-all examples/plugin_url/main.ts
 * ```
 *
 * Deno runs this script with this folder's `deno.json` as its configuration (the nearest one):
 * it takes the repository's import map (`"importMap": "../../deno.json"`) and writes no lock file
 * (`"lock": false`: modules imported by URL are not pinned). Outside `--allow-all`, a remote
 * plugin needs `--allow-import=<host:port>`. `DJ_EXAMPLE_DIR` names the project folder whose
 * `deno.json` maps the plugins (default: this folder; its `.dj/` holds the embedded database),
 * `DJ_EXAMPLE_SCHEMA` the schema (default `example_plugin_url`), dropped and rebuilt at the
 * start. DJ_* variables select a server as usual.
 *
 * @module
 */
import * as dj from "../../mod.ts";

const projectDir = Deno.env.get("DJ_EXAMPLE_DIR") ?? import.meta.dirname!;
// The project folder is where DataJoint looks for datajoint.json and for the deno.json that maps
// plugin codecs (searching upwards).
const conn = await dj.Connection.open({ cwd: projectDir });
const lab = dj.schema(Deno.env.get("DJ_EXAMPLE_SCHEMA") ?? "example_plugin_url", {
  connection: conn,
});
await lab.drop(); // start from nothing

console.log("plugin codecs named in deno.json:");
for (const p of await dj.listPluginCodecs({ projectRoot: projectDir })) {
  console.log(`  <${p.name}> ${p.loaded ? "loaded" : "not loaded yet"} from ${p.specifier}`);
}

@lab
class Circuit extends dj.Manual {
  static override definition = `
    # a small neural circuit
    circuit : varchar(16)
    ---
    wiring : <cgraph>   # an adjacency matrix in, a graph out (<cgraph> -> <graph> -> <blob>)
  `;
}

// Declaring the table is what imports the plugin: the definition names <cgraph>.
await Circuit.declare();
const chain = (await Circuit.heading()).attributes.find((a) => a.name === "wiring")!.resolved!;
console.log(`\nafter declaring: wiring is ${chain.chain.map((c) => `<${c.name}>`).join(" → ")}`);
for (const p of await dj.listPluginCodecs({ projectRoot: projectDir })) {
  console.log(`  <${p.name}> ${p.loaded ? "loaded" : "not loaded yet"}`);
}

// A matrix goes in: entry [i][j] is the strength of the connection i → j (0: none).
await Circuit.insert([
  { circuit: "triangle", wiring: [[0, 1, 1], [1, 0, 1], [1, 1, 0]] },
  { circuit: "chain", wiring: [[0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 2], [0, 0, 0, 0]] },
]);

// A graph comes out: the plugin's Graph class, with the methods the plugin gives it.
interface Graph {
  directed: boolean;
  numberOfNodes: number;
  numberOfEdges: number;
  neighbors(id: number): number[];
}
console.log("\nfetched:");
for (const row of await Circuit.toDicts({ orderBy: "KEY" })) {
  const g = row.wiring as Graph;
  console.log(
    `  ${row.circuit}: ${g.directed ? "directed" : "undirected"}, ${g.numberOfNodes} nodes,`,
    `${g.numberOfEdges} edges, neighbours of node 1: ${g.neighbors(1).join(", ")}`,
  );
}

// The plugin validates what goes in, like any codec.
try {
  await Circuit.insert1({ circuit: "broken", wiring: [[0, 1], [1]] });
} catch (e) {
  console.log(`\nrejected: ${(e as Error).message}`);
}

await conn.close();
