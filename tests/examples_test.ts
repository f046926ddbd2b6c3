/**
 * The runnable examples of `examples/`: each runs as a subprocess, as a reader would run it, with
 * only the DJ_* variables given here (CI exports server addresses an embedded run must not see),
 * on the embedded PGlite and on MariaDB and PostgreSQL (skipped locally when a server is
 * unreachable, failing under CI), and its output and exit code are checked.
 *
 * @module
 */
import assert from "node:assert/strict";
import { pluginSpecifiers } from "../codecs/plugins.ts";
import { Connection } from "../lib/connection.ts";
import { serverDatabase } from "./_connections.ts";
import { GOLDEN_ROOT } from "./_golden.ts";
import { GOLDEN_DDL, GOLDEN_SCHEMA, loadGoldenSql } from "./_golden_sql.ts";
import { scratchName, serverTest } from "./_servers.ts";

const root = new URL("../", import.meta.url);
const example = (path: string): string => new URL(`examples/${path}`, root).pathname;

type Backend = "pglite" | "mysql" | "postgres";
const BACKENDS: readonly Backend[] = ["pglite", "mysql", "postgres"];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs an example with `deno run --allow-all`, only the given DJ_* variables, in `cwd`. */
async function runExample(
  script: string,
  env: Record<string, string>,
  options: { args?: string[]; cwd?: string } = {},
): Promise<Run> {
  const inherited = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("DJ_")),
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, ...(options.args ?? [])],
    cwd: options.cwd,
    clearEnv: true,
    env: { ...inherited, ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Runs an example that must succeed; returns its stdout. */
async function succeed(
  script: string,
  env: Record<string, string>,
  options: { args?: string[]; cwd?: string } = {},
): Promise<string> {
  const r = await runExample(script, env, options);
  assert.equal(r.code, 0, `${script} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The DJ_* variables that select a backend (PGlite: a data folder inside `dir`). */
function backendEnv(backend: Backend, dir: string): Record<string, string> {
  if (backend === "pglite") return { DJ_BACKEND: "pglite", DJ_PGLITE_PATH: `${dir}/pglite` };
  const db = serverDatabase(backend);
  return {
    DJ_BACKEND: db.backend!,
    DJ_HOST: db.host!,
    DJ_PORT: String(db.port),
    DJ_USER: db.user!,
    DJ_PASS: db.password ?? "",
    ...(db.name ? { DJ_DATABASE_NAME: db.name } : {}),
  };
}

/** A library connection to the backend an example ran on (PGlite: its data folder). */
function openBackend(backend: Backend, dir: string): Promise<Connection> {
  const database = backend === "pglite"
    ? { backend: "pglite" as const, path: `${dir}/pglite` }
    : serverDatabase(backend);
  return Connection.open({ env: {}, ignoreFile: true, overrides: { database } });
}

/** What one example test gets: a scratch folder, a schema name and the DJ_* variables. */
interface Scratch {
  backend: Backend;
  dir: string;
  schema: string;
  /** Backend, `DJ_EXAMPLE_SCHEMA` and `DJ_STORES` (a file store `files` in `dir/store`). */
  env: Record<string, string>;
}

/**
 * Registers `fn` once per backend: PGlite always runs; the servers go through `serverTest`. The
 * scratch folder is removed and, on a server, the schema dropped afterwards.
 */
async function onBackends(
  name: string,
  fn: (s: Scratch) => Promise<void>,
  backends: readonly Backend[] = BACKENDS,
): Promise<void> {
  for (const backend of backends) {
    const body = async () => {
      const dir = await Deno.makeTempDir({ prefix: "dj-example-test-" });
      const schema = scratchName("dj_example_");
      await Deno.mkdir(`${dir}/store`);
      const env = {
        ...backendEnv(backend, dir),
        DJ_EXAMPLE_SCHEMA: schema,
        DJ_STORES: JSON.stringify({
          default: "files",
          files: { protocol: "file", location: `${dir}/store` },
        }),
      };
      try {
        await fn({ backend, dir, schema, env });
      } finally {
        if (backend !== "pglite") {
          const c = await openBackend(backend, dir);
          try {
            await c.execute(c.kit.dialect.dropSchema(schema));
          } finally {
            await c.close();
          }
        }
        await Deno.remove(dir, { recursive: true });
      }
    };
    if (backend === "pglite") Deno.test(`pglite: ${name}`, body);
    else await serverTest(backend, `${backend}: ${name}`, body);
  }
}

/** Files below `dir` (recursively), or 0 when it does not exist. */
async function countFiles(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      n += entry.isDirectory ? await countFiles(`${dir}/${entry.name}`) : 1;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return n;
}

// ── examples/decorators.ts ───────────────────────────────────────────────────────────────────

await onBackends("examples/decorators.ts declares, inserts, queries and describes", async (s) => {
  const out = await succeed(example("decorators.ts"), s.env, { cwd: s.dir });
  assert.match(out, /^tables: #species, subject, session, probe, probe__electrode$/m);
  assert.match(out, /refused by the unique index: DuplicateError/);
  // Lookup contents were inserted on declaration and join with the subjects.
  assert.match(
    out,
    /m002: Mus musculus, born unknown\n\s+r001: Rattus norvegicus, born 2026-01-20/,
  );
  assert.match(out, /m001: 2\n\s+m002: 1\n\s+r001: 1/);
  assert.match(out, /below 170 kOhm:\n\s+0, 1\n/);
  // describe() gives the definition the decorators compiled to.
  for (
    const line of [
      "# species we work with",
      "latin = ''           : varchar(64)           # latin name",
      "-> Species",
      "sex = 'U'            : enum('M', 'F', 'U')",
      "dob = null           : date                  # date of birth, if known",
      "index(sex)",
      "-> Subject",
      "entered = CURRENT_TIMESTAMP : datetime",
      "unique index(session_date, rig)",
      "-> Session",
      "Electrode (table probe__electrode):",
      "-> Probe",
      "impedance            : float32               # kOhm",
    ]
  ) {
    assert.ok(out.includes(line), `missing ${JSON.stringify(line)} in:\n${out}`);
  }
  if (s.backend === "pglite") {
    // It starts from a dropped schema, so a second run prints the same.
    assert.equal(await succeed(example("decorators.ts"), s.env, { cwd: s.dir }), out);
  }
});

// ── examples/custom_codec.ts ─────────────────────────────────────────────────────────────────

await onBackends(
  "examples/custom_codec.ts: internal, store, chained and validated codecs",
  async (s) => {
    const out = await succeed(example("custom_codec.ts"), s.env, { cwd: s.dir });
    assert.match(out, /entrance\s+<point> → json\n/);
    assert.match(out, /outline\s+<polygon> → <blob> → bytes\n/);
    assert.match(out, /floor_plan <polygon@> → <blob@> → <hash@> → json\n/);
    assert.match(out, /report\s+<report@> → <hash@> → json\n/);
    assert.match(
      out,
      /arena 1: entrance \(1, 0\) \(a Point\), outline \(0, 0\) \(2, 0\) \(2, 2\) \(0, 2\), floor plan 4 vertices, report 1240 characters/,
    );
    assert.match(
      out,
      /arena 2: entrance \(0, 1\) \(a Point\), outline \(0, 0\) \(2, 0\) \(2, 2\), floor plan none/,
    );
    assert.match(out, /store "files": 2 objects/);
    // The report is stored once for both rows, next to the floor plan: two files in the store.
    assert.equal(await countFiles(`${s.dir}/store/_hash/${s.schema}`), 2);
    for (
      const message of [
        /CodecError: .*attribute entrance: <point> takes a Point, got \{"x":1,"y":2\}/,
        /CodecError: .*attribute entrance: <point> needs finite coordinates, got \(NaN, 0\)/,
        /CodecError: .*attribute outline: <polygon> takes an array of at least 3 Points/,
        /CodecError: .*attribute report: <report> takes a string/,
      ]
    ) {
      assert.match(out, message);
    }
    assert.match(out, /rows in arena: 2\n/);
    assert.match(out, /declaring <point@>: DeclarationError: .*<point> is stored in the table/);
  },
);

// ── examples/plugin_url/ ─────────────────────────────────────────────────────────────────────

/** Starts examples/plugin_url/serve.ts on a free port; resolves to its base URL and a stop. */
async function startServer(): Promise<{ base: string; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      example("plugin_url/serve.ts"),
      "--port",
      "0",
    ],
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/^plugins: /m.test(text)) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`serve.ts ended before listening:\n${text}`);
    text += value;
  }
  const base = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(text)![1];
  return {
    base,
    async stop() {
      child.kill();
      await lines.cancel();
      await child.status;
    },
  };
}

Deno.test("examples/plugin_url: the checked-in deno.json maps both plugins to serve.ts URLs", () => {
  const specifiers = pluginSpecifiers(example("plugin_url/deno.json"));
  assert.deepEqual([...specifiers.keys()].sort(), ["cgraph", "graph"]);
  for (const [name, url] of specifiers) {
    const { pathname, host } = new URL(url);
    assert.equal(host, "127.0.0.1:8765");
    assert.ok(Deno.statSync(new URL(`.${pathname}`, root)).isFile, `${name}: ${url}`);
  }
});

Deno.test("examples/plugin_url/serve.ts serves only .ts files of the repository", async () => {
  const server = await startServer();
  try {
    const ok = await fetch(`${server.base}/examples/plugins/graph_codec.ts`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-type")!, /typescript/);
    assert.match(await ok.text(), /registerGraph|name: "graph"/);
    for (const path of ["/deno.json", "/examples/plugins/README.md", "/.git/HEAD"]) {
      const r = await fetch(`${server.base}${path}`);
      await r.body?.cancel();
      assert.equal(r.status, 403, path);
    }
    // The URL parser resolves `..` (also `%2e%2e`) before the server sees the path.
    const outside = await fetch(`${server.base}/%2e%2e/%2e%2e/etc/hostname.ts`);
    await outside.body?.cancel();
    assert.equal(outside.status, 404);
    const missing = await fetch(`${server.base}/examples/plugins/nowhere.ts`);
    await missing.body?.cancel();
    assert.equal(missing.status, 404);
  } finally {
    await server.stop();
  }
});

await onBackends("examples/plugin_url/main.ts imports <cgraph> from a URL", async (s) => {
  const server = await startServer();
  try {
    // A project folder like examples/plugin_url, its mapping pointing at the test's server.
    await Deno.writeTextFile(
      `${s.dir}/deno.json`,
      JSON.stringify({
        datajoint: {
          codecs: {
            graph: `${server.base}/examples/plugins/graph_codec.ts`,
            cgraph: `${server.base}/examples/plugins/cgraph_codec.ts`,
          },
        },
      }),
    );
    const out = await succeed(example("plugin_url/main.ts"), {
      ...s.env,
      DJ_EXAMPLE_DIR: s.dir,
    }, { cwd: s.dir });
    assert.ok(
      out.includes(`<cgraph> not loaded yet from ${server.base}/examples/plugins/cgraph_codec.ts`),
      out,
    );
    assert.match(
      out,
      /after declaring: wiring is <cgraph> → <graph> → <blob>\n\s+<cgraph> loaded\n\s+<graph> loaded/,
    );
    assert.match(out, /chain: directed, 4 nodes, 3 edges, neighbours of node 1: 2\n/);
    assert.match(out, /triangle: undirected, 3 nodes, 3 edges, neighbours of node 1: 0, 2\n/);
    assert.match(
      out,
      /rejected: .*attribute wiring: .*<cgraph>: each of the 2 rows needs 2 entries/,
    );
    // `"lock": false` in examples/plugin_url/deno.json: no lock file pins the served URLs.
    assert.throws(() => Deno.statSync(example("plugin_url/deno.lock")), Deno.errors.NotFound);
  } finally {
    await server.stop();
  }
});

// ── examples/distributed_populate.ts ─────────────────────────────────────────────────────────

await onBackends(
  "examples/distributed_populate.ts: workers share the keys through the jobs table",
  async (s) => {
    const out = await succeed(example("distributed_populate.ts"), s.env, { cwd: s.dir });
    assert.match(out, /^jobs before: 12 pending$/m);
    const made = [...out.matchAll(/^ {2}recording (\d+): worker (\w+)$/gm)];
    // Every key but the failing one, each exactly once.
    assert.deepEqual(made.map((m) => Number(m[1])), [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]);
    const workers = new Set(made.map((m) => m[2]));
    if (s.backend === "pglite") {
      assert.match(out, /workers in other processes or on other machines need a server/);
      assert.match(out, /^\[main\] computed 11 key\(s\), 1 failed$/m);
      assert.deepEqual([...workers], ["main"]);
      assert.match(out, /recording 7: RangeError: recording 7 has no samples \(worker main\)/);
    } else {
      assert.match(out, /^starting workers A and B on (mysql|postgresql)$/m);
      // The worker processes started together, so each got a share of the 12 keys.
      assert.deepEqual([...workers].sort(), ["A", "B"], out);
      const reports = [...out.matchAll(/^\[(A|B)\] computed (\d+) key\(s\), (\d) failed$/gm)];
      assert.equal(reports.length, 2, out);
      assert.equal(reports.reduce((n, m) => n + Number(m[2]), 0), 11);
      assert.equal(reports.reduce((n, m) => n + Number(m[3]), 0), 1);
      for (const [, name, count] of reports) {
        assert.equal(made.filter((m) => m[2] === name).length, Number(count), out);
      }
      assert.match(out, /recording 7: RangeError: recording 7 has no samples \(worker [AB]\)/);
    }
    // Done jobs are deleted; the failed one stays.
    assert.match(out, /^jobs after: 1 error$/m);
  },
);

// ── examples/read_python_pipeline.ts ─────────────────────────────────────────────────────────

/**
 * The golden store folders of `backend` as a store configuration for `schema`: `raw` is the golden
 * folder itself; `main` a folder of links named after `schema` to the golden `dj_golden` sections
 * (the metadata paths name the schema). Nothing is copied; fetching only reads.
 */
async function goldenStores(backend: Backend, dir: string, schema: string): Promise<string> {
  const family = backend === "mysql" ? "mysql" : "postgresql";
  const golden = new URL(`ddl/store/${family}/`, GOLDEN_ROOT).pathname;
  for (const section of ["_hash", "_schema"]) {
    await Deno.mkdir(`${dir}/main/${section}`, { recursive: true });
    await Deno.symlink(
      `${golden}main/${section}/${GOLDEN_SCHEMA}`,
      `${dir}/main/${section}/${schema}`,
    );
  }
  return JSON.stringify({
    default: "main",
    filepath_default: "raw",
    main: { protocol: "file", location: `${dir}/main` },
    raw: { protocol: "file", location: `${golden}raw` },
  });
}

const goldenIgnore = GOLDEN_DDL.mysqlData.ignore || GOLDEN_DDL.postgresqlData.ignore;

await onBackends(
  "examples/read_python_pipeline.ts reads the golden schema Python wrote",
  async (s) => {
    if (goldenIgnore) return;
    const c = await openBackend(s.backend, s.dir);
    try {
      await loadGoldenSql(c.driver, s.schema, { data: true });
    } finally {
      await c.close(); // PGlite: one process at a time
    }
    const env = { ...s.env, DJ_STORES: await goldenStores(s.backend, s.dir, s.schema) };
    const out = await succeed(example("read_python_pipeline.ts"), env, { cwd: s.dir });
    const backendName = s.backend === "postgres" ? "postgresql" : s.backend;
    assert.match(out, new RegExp(`^schema ${s.schema} on ${backendName}: 7 tables$`, "m"));
    const tagRows = s.backend === "mysql" ? 2 : 0; // Python could not insert uuids on PostgreSQL
    for (
      const [cls, tier, table, rows] of [
        ["Species", "Lookup", "#species", 2],
        ["Subject", "Manual", "subject", 2],
        ["Session", "Manual", "session", 2],
        ["Tag", "Manual", "tag", tagRows],
        ["Recording", "Manual", "recording", 2],
        ["BareAt", "Manual", "bare_at", 0],
        ["Analysis", "Computed", "__analysis", 2],
      ]
    ) {
      assert.match(out, new RegExp(`^  ${cls}\\s+${tier}\\s+${table}\\s+${rows} rows$`, "m"));
    }
    // Rows decoded through Python's codecs: core types, in-table and store-backed values.
    assert.match(out, /species="mouse" {2}latin="Mus musculus"/);
    assert.match(out, /subject_id=1 .*weight="23.45"/);
    assert.match(out, /inline_attach=file notes\.txt \(17 bytes\)/);
    assert.match(out, /store_attach=file big\.bin \(1024 bytes\)/);
    assert.match(out, /store_blob=float64 array \[3,4\]/);
    assert.match(out, /array=npy float32 \[4,3\] in the store/);
    assert.match(out, /folder=folder folder_\w+ in the store/);
    assert.match(out, /raw_hash=21 bytes/);
    assert.match(out, /summary=\{ mean: 0\.022070780396461487/);
    // The join: each subject with its species' latin name.
    assert.match(
      out,
      /Subject joined with Species \(on species\):\n\s+subject_id=1 {2}latin="Mus musculus"\n\s+subject_id=2 {2}latin="Rattus norvegicus"\n/,
    );
    // The attachments were saved to a temporary folder, not the working folder.
    assert.throws(() => Deno.statSync(`${s.dir}/notes.txt`), Deno.errors.NotFound);
  },
);

Deno.test("examples/read_python_pipeline.ts: a missing schema is a clear error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dj-example-test-" });
  try {
    const r = await runExample(example("read_python_pipeline.ts"), backendEnv("pglite", dir), {
      args: ["no_such_schema"],
      cwd: dir,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /DataJointError: There is no schema no_such_schema on pglite/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
