/**
 * `dj` as a real process, connected the way a user connects it: `DJ_*` variables for MariaDB,
 * PostgreSQL and a PGlite data folder, `datajoint.json` in the working directory, and the
 * embedded default with nothing configured. Every database command runs on the golden schema
 * DataJoint Python declared, with the store files it wrote.
 */
import assert from "node:assert/strict";
import { Connection } from "../lib/connection.ts";
import {
  assertFails,
  backendEnv,
  djProcess,
  GOLDEN_IGNORED,
  type GoldenCopy,
  loadGoldenCopy,
  REPO,
  type Run,
  succeeded,
} from "./_cli.ts";
import { openTestConnection, type TestBackend } from "./_connections.ts";
import { serverTest } from "./_servers.ts";

/** Runs every command against a loaded golden copy, one process after another. */
async function exerciseCommands(
  g: GoldenCopy,
  env: Record<string, string>,
  tmp: string,
): Promise<void> {
  const dj = (...args: string[]): Promise<Run> => djProcess(args, { env });

  assert.ok(succeeded(await dj("schemas")).split("\n").includes(g.schema));
  const tables = succeeded(await dj("tables", g.schema));
  assert.match(tables, /^Species +Lookup +#species +species lookup\n/);
  assert.equal(tables.split("\n").length, 8);
  assert.match(succeeded(await dj("describe", `${g.schema}.Subject`)), /^# experimental subject\n/);

  const [s1] = JSON.parse(succeeded(await dj("fetch", `${g.schema}.Subject`, "--limit", "1")));
  assert.equal(s1.weight, "23.45");
  assert.equal(s1.rank64, 1099511627777);
  const downloads = `${tmp}/downloads`;
  const rows = JSON.parse(
    succeeded(await dj("fetch", `${g.schema}.Recording`, "--download-path", downloads)),
  );
  assert.equal(rows.length, 2);
  assert.equal(await Deno.readTextFile(rows[0].inline_attach), "hello attachment\n");
  assert.deepEqual(rows[0].store_blob.array.shape, [3, 4]);
  assert.equal(rows[0].array.dtype, "float32");
  assert.match(
    succeeded(await dj("fetch", `${g.schema}.Subject`, "--format", "table")),
    /\(2 rows\)\n$/,
  );

  assert.match(succeeded(await dj("diagram", g.schema)), /^flowchart TB\n/);
  succeeded(await dj("diagram", g.schema, "--svg", `${tmp}/d.svg`));
  assert.match(await Deno.readTextFile(`${tmp}/d.svg`), /^<svg [^>]*>\n<title>DataJoint schema /);
  assert.match(
    succeeded(await dj("gc", "main", "--dry-run", "--schema", g.schema)),
    /7 stored, 7 referenced, 0 unreferenced/,
  );

  assertFails(await dj("fetch", `${g.schema}.Nope`), 1, "dj fetch", /has no table "Nope"/);
  assertFails(await dj("fetch", `${g.schema}.Subject`, "--limit", "x"), 2, "dj fetch", /--limit/);
}

for (const backend of ["mysql", "postgres"] as const) {
  await serverTest(backend, `${backend}: dj (subprocess) with DJ_* variables`, async () => {
    if (GOLDEN_IGNORED) return;
    const c = await openTestConnection(backend);
    const tmp = await Deno.makeTempDir({ prefix: "dj-cli-process-" });
    let g: GoldenCopy | undefined;
    try {
      g = await loadGoldenCopy(c);
      const env = {
        ...backendEnv(backend),
        DJ_IGNORE_CONFIG_FILE: "true",
        DJ_STORES: JSON.stringify(g.stores),
      };
      await exerciseCommands(g, env, tmp);

      // The same connection from datajoint.json in the working directory (and its folder).
      const d = backendEnv(backend);
      await Deno.writeTextFile(
        `${tmp}/datajoint.json`,
        JSON.stringify({
          database: {
            backend: d.DJ_BACKEND,
            host: d.DJ_HOST,
            port: Number(d.DJ_PORT),
            user: d.DJ_USER,
            password: d.DJ_PASS,
            name: d.DJ_DATABASE_NAME,
          },
          stores: g.stores,
        }),
      );
      const [row] = JSON.parse(
        succeeded(
          await djProcess(["fetch", `${g.schema}.Recording`, "--limit", "1"], { cwd: tmp }),
        ),
      );
      assert.equal(row.inline_attach, `${tmp}/notes.txt`, "download_path . is the project");
    } finally {
      await g?.dispose();
      await c.close();
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

Deno.test("pglite: dj (subprocess) on a PGlite data folder", async () => {
  if (GOLDEN_IGNORED) return;
  const tmp = await Deno.makeTempDir({ prefix: "dj-cli-process-" });
  const path = `${tmp}/pglite`;
  const open = () =>
    Connection.open({
      env: {},
      ignoreFile: true,
      overrides: { database: { backend: "pglite", path } },
    });
  // Loaded, then closed: a PGlite folder has one user at a time.
  const c = await open();
  let g: GoldenCopy;
  try {
    g = await loadGoldenCopy(c);
  } finally {
    await c.close();
  }
  try {
    const env = {
      ...backendEnv("pglite" as TestBackend, path),
      DJ_IGNORE_CONFIG_FILE: "true",
      DJ_STORES: JSON.stringify(g.stores),
    };
    await exerciseCommands(g, env, tmp);
  } finally {
    await Deno.remove(g.dir, { recursive: true });
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("dj (subprocess) with nothing configured uses the embedded PGlite of the project", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "dj-cli-embedded-" });
  try {
    const schemas = succeeded(await djProcess(["schemas"], { cwd: tmp }));
    assert.ok(schemas.split("\n").includes("public"), schemas);
    assert.ok((await Deno.stat(`${tmp}/.dj/pglite`)).isDirectory, "the project's .dj/pglite");
    // As `deno task dj` runs it: in the folder of deno.json, with INIT_CWD where it was typed.
    succeeded(
      await djProcess(["diagram", "public", "--svg", "public.svg"], {
        cwd: REPO,
        env: { INIT_CWD: tmp },
      }),
    );
    assert.match(await Deno.readTextFile(`${tmp}/public.svg`), /^<svg /);
    assertFails(
      await djProcess(["tables", "lab"], { cwd: tmp }),
      1,
      "dj tables",
      /schema "lab" does not exist on this pglite server/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
