/**
 * `dj codecs`: the built-in codecs with their storage types, and the plugin codecs a project's
 * `deno.json` maps (both forms), listed without importing them, or imported with `--load`, where a
 * plugin that fails to load is reported with exit code 1.
 */
import assert from "node:assert/strict";
import { assertFails, djIn, djProcess, REPO, succeeded } from "./_cli.ts";

const BUILTINS = `codec       kind      in table  in a store  source
<attach>    built-in  bytes     <hash>
<blob>      built-in  bytes     <hash>
<filepath>  built-in  -         json
<hash>      built-in  -         json
<npy>       built-in  -         json
<object>    built-in  -         json
`;

const PLUGINS = `${REPO}examples/plugins/`;

/** A project folder whose deno.json maps `<graph>` by convention and `<cgraph>` explicitly. */
async function project(extra: Record<string, string> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dj-cli-codecs-" });
  await Deno.writeTextFile(
    `${dir}/deno.json`,
    JSON.stringify({
      imports: { "dj-codec-graph": `${PLUGINS}graph_codec.ts` },
      datajoint: { codecs: { cgraph: `${PLUGINS}cgraph_codec.ts`, ...extra } },
    }),
  );
  return dir;
}

Deno.test("dj codecs (subprocess): built-ins, and plugins listed without importing them", async () => {
  const empty = await Deno.makeTempDir({ prefix: "dj-cli-codecs-" });
  const dir = await project({ broken: "./missing.ts" });
  try {
    assert.equal(succeeded(await djProcess(["codecs"], { cwd: empty })), BUILTINS);
    assert.equal(
      succeeded(await djProcess(["codecs"], { cwd: dir })),
      BUILTINS +
        `<broken>    plugin    ?         ?           file://${dir}/missing.ts (not loaded)\n` +
        `<cgraph>    plugin    ?         ?           file://${PLUGINS}cgraph_codec.ts (not loaded)\n` +
        `<graph>     plugin    ?         ?           file://${PLUGINS}graph_codec.ts (not loaded)\n` +
        `\nplugins mapped in ${dir}/deno.json\n`,
    );

    // --load imports them: the storage types show, and the broken one fails the run.
    const loaded = await djProcess(["codecs", "--load"], { cwd: dir });
    assert.equal(loaded.code, 1, loaded.stderr);
    assert.match(loaded.stdout, /^<cgraph> +plugin +<graph> +<graph> +file:\S+cgraph_codec\.ts$/m);
    assert.match(loaded.stdout, /^<graph> +plugin +<blob> +<blob> +file:\S+graph_codec\.ts$/m);
    assert.match(loaded.stdout, /^<broken> +plugin +\? +\? +\S+missing\.ts \(not loaded\)$/m);
    assert.match(loaded.stdout, /^failed: <broken>: Cannot load codec <broken>/m);
    assert.match(
      loaded.stderr,
      /^dj codecs: 1 plugin codec\(s\) failed to load: <broken>: [^\n]*deno\.json[^\n]*\n$/,
    );
  } finally {
    await Deno.remove(empty, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dj codecs --load (in-process): the project is the folder of datajoint.json", async () => {
  const dir = await project();
  await Deno.writeTextFile(`${dir}/datajoint.json`, JSON.stringify({ loglevel: "ERROR" }));
  await Deno.mkdir(`${dir}/analysis`);
  try {
    const config = { cwd: `${dir}/analysis`, env: {} };
    const text = succeeded(await djIn(["codecs", "--load"], { config }));
    assert.ok(text.startsWith(BUILTINS), text);
    assert.match(text, /^<cgraph> +plugin +<graph> +<graph> +file:/m);
    assert.match(text, /^<graph> +plugin +<blob> +<blob> +file:/m);
    assert.ok(text.endsWith(`\nplugins mapped in ${dir}/deno.json\n`));
    // A broken datajoint.json is a runtime error naming the file.
    await Deno.writeTextFile(`${dir}/datajoint.json`, "{ not json");
    assertFails(
      await djIn(["codecs"], { config }),
      1,
      "dj codecs",
      /datajoint\.json is not valid JSON/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
