/**
 * The README's first command: the demo pipeline runs on the embedded default (in a scratch
 * project folder whose `deno.json` maps the plugin codecs), and a second run changes nothing. It
 * also runs against the servers when DJ_* variables point at them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Connection } from "../lib/connection.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { serverDatabase } from "./_connections.ts";
import { scratchName, serverTest } from "./_servers.ts";

const root = new URL("../", import.meta.url);
const main = new URL("examples/demo/main.ts", root).pathname;
const plugins = new URL("examples/plugins/", root);

async function runDemo(env: Record<string, string>): Promise<string> {
  // Only the DJ_* variables given here: CI exports server addresses the embedded run must not see.
  const inherited = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("DJ_")),
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", main],
    clearEnv: true,
    env: { ...inherited, ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `demo failed:\n${stdout}\n${stderr}`);
  return stdout;
}

/** A project folder like examples/demo, its plugin map pointing back at examples/plugins. */
async function projectFolder(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dj-demo-test-" });
  await Deno.writeTextFile(
    `${dir}/deno.json`,
    JSON.stringify({
      datajoint: {
        codecs: {
          graph: new URL("graph_codec.ts", plugins).href,
          cgraph: new URL("cgraph_codec.ts", plugins).href,
        },
      },
    }),
  );
  return dir;
}

function checkFirstRun(out: string): void {
  assert.match(out, /Recording: 5 new row\(s\)/);
  assert.match(out, /Connectivity: 5 new row\(s\)/);
  assert.match(out, /r001: 1 sessions, 4 s recorded/);
  assert.match(out, /m001: 2 sessions, 8 s recorded/);
  assert.match(out, /m002\/1 on 2026-11-03/);
  assert.doesNotMatch(out, /r001\/1 on/, "the rat is not a female mouse");
  assert.match(out, /m001\/1: 8 channels, \d+ edges/);
  assert.match(out, /float32 \[8,4000\] \(read from the row; nothing downloaded\)/);
  assert.match(out, /__connectivity\s+5 rows/);
  // 5 traces and 5 attachments in the store.
  assert.match(out, /store "local" schema-addressed: 5 objects/);
  assert.match(out, /store "local" hash-addressed: 5 objects/);
}

Deno.test("demo: runs on the embedded default, and again without changes", async () => {
  const dir = await projectFolder();
  try {
    const env = { DJ_DEMO_DIR: dir };
    checkFirstRun(await runDemo(env));
    const again = await runDemo(env);
    assert.match(again, /Recording: 0 new row\(s\)/);
    assert.match(again, /Connectivity: 0 new row\(s\)/);
    assert.match(again, /store "local" schema-addressed: 5 objects/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const backend of ["mysql", "postgres"] as const) {
  await serverTest(backend, `demo: runs on ${backend}`, async () => {
    const dir = await projectFolder();
    const db = serverDatabase(backend);
    const name = scratchName("dj_demo_");
    const store = `${dir}/store`;
    await Deno.mkdir(store);
    try {
      const out = await runDemo({
        DJ_DEMO_DIR: dir,
        DJ_DEMO_SCHEMA: name,
        DJ_BACKEND: db.backend!,
        DJ_HOST: db.host!,
        DJ_PORT: String(db.port),
        DJ_USER: db.user!,
        DJ_PASS: db.password ?? "",
        ...(db.name ? { DJ_DATABASE_NAME: db.name } : {}),
        DJ_STORES: JSON.stringify({
          default: "local",
          local: { protocol: "file", location: store },
        }),
      });
      checkFirstRun(out);
    } finally {
      const c = await Connection.open({
        env: {},
        ignoreFile: true,
        overrides: { database: db },
      });
      await makeSchema(name, { connection: c }).drop({ cascade: true }).catch(() => {});
      await c.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
