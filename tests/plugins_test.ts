/**
 * Codec plugins loaded on first use from a deno.json: by an http URL (served on loopback by the
 * test, so the plugin and the core it imports are a second copy), by a file URL, through an
 * import-map key and the `dj-codec-` convention; chained plugin codecs; the errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import "../codecs/builtins.ts";
import {
  ensureCodecs,
  findDenoConfig,
  listPluginCodecs,
  loadCodec,
  pluginSpecifiers,
} from "../codecs/plugins.ts";
import { getCodec, isCodec, unregisterCodec } from "../codecs/registry.ts";
import { NDArray } from "../codecs/blob/mod.ts";
import { CodecError, ConfigError, DeclarationError } from "../lib/errors.ts";
import { resolveType } from "../lib/types.ts";
import { Graph } from "../examples/plugins/graph_codec.ts";
import { adjacencyMatrix } from "../examples/plugins/cgraph_codec.ts";
import { sampleGraph } from "./_graphs.ts";

const REPO_DIR = fileURLToPath(new URL("../", import.meta.url));
const FIXTURE = join(REPO_DIR, "tests/fixtures/plugin_project/deno.json");
const GRAPH_URL = pathToFileURL(join(REPO_DIR, "examples/plugins/graph_codec.ts")).href;
const CGRAPH_URL = pathToFileURL(join(REPO_DIR, "examples/plugins/cgraph_codec.ts")).href;

/** Every test loads `<graph>`/`<cgraph>` itself: start from a registry without them. */
function reset(): void {
  for (const name of ["graph", "cgraph"]) if (getCodec(name)) unregisterCodec(name);
}

async function withProject(
  config: unknown,
  run: (configPath: string, dir: string) => Promise<void>,
  name = "deno.json",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dj_plugins_" });
  try {
    const configPath = join(dir, name);
    await Deno.writeTextFile(
      configPath,
      typeof config === "string" ? config : JSON.stringify(config),
    );
    await run(configPath, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Value → stored bytes → value through a resolved chain, as insert and fetch do. */
async function roundTrip(type: string, value: unknown): Promise<unknown> {
  const chain = resolveType(type, getCodec).chain.map((c) => getCodec(c.name)!);
  chain[0].validate?.(value);
  let stored = value;
  for (const c of chain) stored = await c.encode(stored, { key: {} });
  assert.ok(stored instanceof Uint8Array, "the innermost codec stores bytes");
  let back: unknown = stored;
  for (const c of [...chain].reverse()) back = await c.decode(back, { key: {} });
  return back;
}

/** Serves the repository's .ts files over loopback HTTP, recording the paths requested. */
function serveRepo(): { base: string; requests: string[]; close: () => Promise<void> } {
  const requests: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      requests.push(path);
      if (path.split(/[\\/]/).includes("..") || path.includes("\0") || !path.endsWith(".ts")) {
        return new Response("forbidden", { status: 403 });
      }
      try {
        const text = await Deno.readTextFile(join(REPO_DIR, path));
        // Deno needs a TypeScript media type: it refuses a served .ts labelled e.g. video/mp2t.
        return new Response(text, {
          headers: { "content-type": "application/typescript; charset=utf-8" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}

/** Runs the probe in a child process (see its header for why) and parses its JSON report. */
async function probe(
  configPath: string,
  base: string,
  permissions: string[],
): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-lock",
      "--quiet",
      `--config=${join(REPO_DIR, "deno.json")}`,
      ...permissions,
      join(REPO_DIR, "tests/fixtures/plugin_project/http_probe.ts"),
      configPath,
      base,
    ],
    cwd: REPO_DIR,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success && stdout !== "", `probe failed:\n${stdout}\n${stderr}`);
  return JSON.parse(stdout.split("\n").at(-1)!);
}

Deno.test("plugins (a): an http URL loads a second copy of the plugin and the core, sharing the registry", async () => {
  const server = serveRepo();
  try {
    const config = {
      imports: { "dj-codec-cgraph": `${server.base}/examples/plugins/cgraph_codec.ts` },
      datajoint: {
        codecs: {
          graph: `${server.base}/examples/plugins/graph_codec.ts`,
          nowhere: `${server.base}/examples/plugins/nowhere.ts`,
        },
      },
    };
    await withProject(config, async (configPath) => {
      const r = await probe(configPath, server.base, ["--allow-all"]);
      assert.equal(r.error, undefined);
      assert.equal(r.branded, true);
      assert.equal(r.sharedRegistry, true, "the probe's own getCodec sees the http copy's codec");
      assert.equal(r.exportIsRegistered, true);
      assert.equal(r.secondCopy, true, "the http module is not the local file module");
      assert.equal(r.localReusesRegistration, true, "evaluating a second copy does not throw");
      assert.equal(r.bytes, true);
      assert.deepEqual(r.roundTrip, r.stored);
      assert.equal((r.stored as { edges: unknown[] }).edges.length, 2);
      assert.equal(r.decodedByRemoteCopy, true);
      assert.deepEqual(r.validateError, {
        name: "CodecError",
        message: "Expected Graph for <graph>, got Object",
      });
      // Errors of the other copy's classes are instances of this copy's, and keep their class
      // through withContext (plugin errors used to come back as plain DataJointErrors).
      assert.equal(r.foreignErrorClass, true, "the error is of the http copy's CodecError");
      assert.deepEqual(r.localInstanceof, {
        DataJointError: true,
        CodecError: true,
        QueryError: false,
      });
      assert.deepEqual(r.wrapped, {
        name: "CodecError",
        message: "`lab`.`net` key {} attribute g: Expected Graph for <graph>, got Object",
        codecError: true,
      });
      assert.deepEqual(r.cgraphChain, ["cgraph", "graph", "blob", "hash"]);
      assert.equal(r.cgraphStorage, "json");
      const notFound = r.notFoundError as { name: string; message: string };
      assert.equal(notFound.name, "CodecError");
      assert.match(notFound.message, /nowhere\.ts/);
      assert.ok(notFound.message.includes(configPath));
      assert.match(notFound.message, /Module not found/);
      // The core itself came over HTTP: a genuinely second copy.
      for (const path of ["/codecs/registry.ts", "/lib/errors.ts", "/codecs/blob/scalars.ts"]) {
        assert.ok(server.requests.includes(path), `${path} was served`);
      }

      // Without --allow-import the import is refused, and the error says so.
      const denied = await probe(configPath, server.base, ["--allow-read", "--allow-env"]);
      const error = denied.error as { name: string; message: string };
      assert.equal(error.name, "CodecError");
      assert.match(error.message, /graph_codec\.ts/);
      assert.match(error.message, /Requires import access to "127\.0\.0\.1:\d+"/);
    });

    // The server refuses what is not a .ts file of the repository.
    for (const path of ["/examples/..%2f..%2fetc/passwd.ts", "/deno.json", "/nope.ts"]) {
      const response = await fetch(server.base + path);
      await response.body?.cancel();
      assert.equal(response.status, path === "/nope.ts" ? 404 : 403, path);
    }
  } finally {
    await server.close();
  }
});

Deno.test("plugins (b): a file URL; a fresh copy of the module registers itself", async () => {
  reset();
  // The query makes a module instance this process has not evaluated yet (the test imports the
  // plain URL statically), so the plugin's own registration is what is exercised here.
  const url = `${GRAPH_URL}?copy=b`;
  await withProject({ datajoint: { codecs: { graph: url } } }, async (configPath) => {
    assert.deepEqual(pluginSpecifiers(configPath), new Map([["graph", url]]));
    const graph = await loadCodec("<graph@cold>", { configPath });
    assert.ok(isCodec(graph));
    assert.equal(getCodec("graph"), graph);
    const mod = await import(url);
    assert.equal(mod.graph, graph, "registered by the module itself, not adopted from exports");
    assert.notEqual(mod.Graph, Graph);

    const g = sampleGraph();
    const back = (await roundTrip("<graph>", g)) as Graph;
    assert.ok(Graph.isGraph(back));
    assert.deepEqual(back.toStored(), g.toStored());
    assert.equal(back.weight("bouton", "soma"), 0.5);
    assert.deepEqual(back.neighbors("soma"), ["axon"]);
    assert.equal(back.degree("soma"), 2);
    assert.throws(() => graph!.validate!([1, 2]), (e) => e instanceof CodecError);

    // A third evaluation while registered reuses the registration instead of throwing.
    const again = await import(`${GRAPH_URL}?copy=b2`);
    assert.equal(again.graph, graph);
  });
  reset();
});

Deno.test("plugins (c): an import-map key and the dj-codec- convention; the <cgraph> chain", async () => {
  reset();
  assert.deepEqual(
    pluginSpecifiers(FIXTURE),
    new Map([
      ["graph", GRAPH_URL],
      [
        "nocodec",
        pathToFileURL(join(REPO_DIR, "tests/fixtures/plugin_project/not_a_codec.ts")).href,
      ],
      [
        "missing",
        pathToFileURL(join(REPO_DIR, "tests/fixtures/plugin_project/missing_codec.ts")).href,
      ],
      ["cgraph", CGRAPH_URL],
    ]),
  );
  assert.throws(() => resolveType("<cgraph>", getCodec), DeclarationError);

  // Both modules were evaluated by this file's static imports: loading adopts their exports.
  await ensureCodecs(["<cgraph>", "<cgraph@s>", "int32", "<blob>"], { configPath: FIXTURE });
  assert.ok(isCodec(getCodec("cgraph")) && isCodec(getCodec("graph")));
  const r = resolveType("<cgraph>", getCodec);
  assert.deepEqual(r.chain.map((c) => c.name), ["cgraph", "graph", "blob"]);
  assert.equal(r.storage.text, "bytes");
  const s = resolveType("<cgraph@s>", getCodec);
  assert.deepEqual(s.chain, [
    { name: "cgraph", store: "s" },
    { name: "graph", store: "s" },
    { name: "blob", store: "s" },
    { name: "hash", store: "s" },
  ]);
  assert.equal(s.storage.text, "json");

  const matrix = NDArray.from(new Float64Array([0, 2, 0, 0, 0, 1.5, 3, 0, 0]), [3, 3]);
  const g = (await roundTrip("<cgraph>", matrix)) as Graph;
  assert.ok(g.directed);
  assert.deepEqual(g.nodes(), [0, 1, 2]);
  assert.equal(g.weight(2, 0), 3);
  assert.deepEqual(adjacencyMatrix(g).data, matrix.data);

  const symmetric = [[0, 1, 0], [1, 0, 4], [0, 4, 0]];
  const u = (await roundTrip("<cgraph>", symmetric)) as Graph;
  assert.equal(u.directed, false);
  assert.equal(u.numberOfEdges, 2);
  assert.deepEqual([...adjacencyMatrix(u).data], symmetric.flat());
  assert.throws(() => getCodec("cgraph")!.validate!([[1, 2]]), CodecError);
  assert.throws(() => getCodec("cgraph")!.validate!("matrix"), CodecError);

  // Loaded once: the registry answers now, whatever the map says.
  assert.equal(
    await loadCodec("cgraph", { configPath: "/nonexistent/deno.json" }),
    getCodec("cgraph"),
  );
  reset();
});

Deno.test("plugins: a mapped module that defines no such codec is a clear CodecError", async () => {
  await assert.rejects(loadCodec("nocodec", { configPath: FIXTURE }), (e: unknown) => {
    assert.ok(e instanceof CodecError);
    assert.ok(e.message.includes("not_a_codec.ts"), e.message);
    assert.ok(e.message.includes(FIXTURE), e.message);
    assert.match(e.message, /loaded but defines no codec named "nocodec"/);
    assert.match(e.message, /codec\(\{ name: "nocodec"/);
    return true;
  });
  // A module that registers or exports a codec under another name says which.
  await withProject({ datajoint: { codecs: { graph2: GRAPH_URL } } }, async (configPath) => {
    await assert.rejects(loadCodec("graph2", { configPath }), /it defines <graph>/);
  });
});

Deno.test("plugins: a map entry pointing at a missing file is a clear CodecError, and may be retried", async () => {
  await assert.rejects(loadCodec("missing", { configPath: FIXTURE }), (e: unknown) => {
    assert.ok(e instanceof CodecError);
    assert.ok(e.message.includes("missing_codec.ts"), e.message);
    assert.ok(e.message.includes('"./missing_codec.ts"'), e.message);
    assert.ok(e.message.includes(FIXTURE), e.message);
    assert.match(e.message, /Module not found/);
    assert.ok(e.cause instanceof Error);
    return true;
  });
  // Deno remembers a failed module URL for the life of the process, so the retry is shown with
  // an importer that fails once (a server that was not up yet).
  let calls = 0;
  const importer = (specifier: string) => {
    calls++;
    return calls === 1 ? Promise.reject(new TypeError("connection refused")) : import(specifier);
  };
  reset();
  await assert.rejects(loadCodec("graph", { configPath: FIXTURE, importer }), /connection refused/);
  assert.ok(isCodec(await loadCodec("graph", { configPath: FIXTURE, importer })));
  assert.equal(calls, 2);
  reset();
});

Deno.test("plugins: concurrent loads of one codec share one import", async () => {
  reset();
  const imported: string[] = [];
  const importer = async (specifier: string) => {
    imported.push(specifier);
    await new Promise((resolve) => setTimeout(resolve, 20));
    return import(specifier);
  };
  const results = await Promise.all(
    Array.from({ length: 5 }, () => loadCodec("graph", { configPath: FIXTURE, importer })),
  );
  assert.deepEqual(imported, [GRAPH_URL]);
  assert.ok(results.every((c) => c === getCodec("graph") && isCodec(c)));
  // ensureCodecs over many mentions of one chain imports each plugin once as well.
  reset();
  imported.length = 0;
  await ensureCodecs(["<cgraph>", "<cgraph@>", "<graph>", "<graph@x>"], {
    configPath: FIXTURE,
    importer,
  });
  assert.deepEqual(imported.sort(), [CGRAPH_URL, GRAPH_URL]);
  reset();
});

Deno.test("plugins: a name in no map is undefined and left for resolveType to report", async () => {
  assert.equal(await loadCodec("unmapped", { configPath: FIXTURE }), undefined);
  await ensureCodecs(["<unmapped@s>"], { configPath: FIXTURE });
  assert.throws(() => resolveType("<unmapped>", getCodec), /Unknown codec <unmapped>/);
  // No deno.json at all: nothing to load.
  const dir = await Deno.makeTempDir();
  try {
    if (findDenoConfig(dir) === undefined) {
      assert.equal(await loadCodec("unmapped", { projectRoot: dir }), undefined);
      assert.deepEqual(await listPluginCodecs({ projectRoot: dir }), []);
    }
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("plugins: exported specs and codecs are registered when the module does not register", async () => {
  const registry = pathToFileURL(join(REPO_DIR, "codecs/registry.ts")).href;
  const dir = await Deno.makeTempDir({ prefix: "dj_plugins_" });
  try {
    const spec = (name: string) =>
      `{ name: "${name}", getDtype: () => "json", encode: (v) => v, decode: (s) => s }`;
    await Deno.writeTextFile(join(dir, "default.js"), `export default ${spec("exp_default")};`);
    await Deno.writeTextFile(join(dir, "named.js"), `export const codec = ${spec("exp_named")};`);
    await Deno.writeTextFile(
      join(dir, "any.js"),
      `export const other = 1;\nexport const mine = ${spec("exp_any")};`,
    );
    // A branded codec that was registered, then unregistered (plugin reloading).
    await Deno.writeTextFile(
      join(dir, "branded.js"),
      `import { codec, unregisterCodec } from "${registry}";\n` +
        `export const c = codec(${spec("exp_branded")});\nunregisterCodec("exp_branded");`,
    );
    const codecs = {
      exp_default: "./default.js",
      exp_named: "./named.js",
      exp_any: "./any.js",
      exp_branded: "./branded.js",
    };
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ datajoint: { codecs } }));
    for (const name of Object.keys(codecs)) {
      const c = await loadCodec(name, { projectRoot: dir });
      assert.ok(isCodec(c), name);
      assert.equal(getCodec(name), c);
      assert.equal(c.name, name);
      unregisterCodec(name);
    }
    assert.deepEqual(
      (await listPluginCodecs({ projectRoot: dir })).map((r) => [r.name, r.loaded]),
      [["exp_any", false], ["exp_branded", false], ["exp_default", false], ["exp_named", false]],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("plugins: deno.jsonc with comments and trailing commas; prefix keys; the nearest file wins", async () => {
  const jsonc = `// project config
{
  /* import map */
  "imports": {
    "plugins/": "./vendor/plugins/", // a prefix key
    "https-like": "https://example.org/a//b.ts", // "//" inside a string is no comment
    "dj-codec-viaconvention": "./conv.ts",
    "dj-codec-explicit": "./loses.ts",
    "dj-codec-bad-name": "./ignored.ts",
  },
  "datajoint": {
    "codecs": {
      "graph": "plugins/graph_codec.ts",
      "remote": "https-like",
      "rel": "../up/rel.ts",
      "url": "https://example.org/x/*not a comment*/.ts",
      "explicit": "./wins.ts",
      "bare": "@unmapped/pkg",
      "jsr": "jsr:@lab/codec@1",
    },
  },
}
`;
  await withProject(jsonc, async (configPath, dir) => {
    const nested = join(dir, "a/b");
    await Deno.mkdir(nested, { recursive: true });
    assert.equal(findDenoConfig(nested), configPath);
    assert.equal(findDenoConfig(pathToFileURL(nested).href), configPath);
    const base = pathToFileURL(dir).href;
    assert.deepEqual(
      pluginSpecifiers(configPath),
      new Map([
        ["graph", `${base}/vendor/plugins/graph_codec.ts`],
        ["remote", "https://example.org/a//b.ts"],
        ["rel", new URL("../up/rel.ts", `${base}/`).href],
        ["url", "https://example.org/x/*not a comment*/.ts"],
        ["explicit", `${base}/wins.ts`],
        ["bare", "@unmapped/pkg"],
        ["jsr", "jsr:@lab/codec@1"],
        ["viaconvention", `${base}/conv.ts`],
      ]),
    );
    // deno.json wins over deno.jsonc in the same folder.
    await Deno.writeTextFile(join(dir, "deno.json"), "{}");
    assert.equal(findDenoConfig(nested), join(dir, "deno.json"));
    assert.deepEqual(pluginSpecifiers(join(dir, "deno.json")), new Map());
  }, "deno.jsonc");
});

Deno.test("plugins: an importMap file is read; malformed sections are ConfigErrors", async () => {
  await withProject({ importMap: "./maps/import_map.json" }, async (configPath, dir) => {
    await Deno.mkdir(join(dir, "maps"));
    await Deno.writeTextFile(
      join(dir, "maps/import_map.json"),
      JSON.stringify({ imports: { "dj-codec-mapped": "./codec.ts" } }),
    );
    assert.deepEqual(
      pluginSpecifiers(configPath),
      new Map([["mapped", `${pathToFileURL(dir).href}/maps/codec.ts`]]),
    );
  });
  for (
    const bad of [
      { datajoint: { codecs: ["./a.ts"] } },
      { datajoint: { codecs: { "not-a-name": "./a.ts" } } },
      { datajoint: { codecs: { ok: 3 } } },
      { datajoint: "codecs" },
      "{ not json",
    ]
  ) {
    await withProject(bad, async (configPath) => {
      assert.throws(() => pluginSpecifiers(configPath), ConfigError);
      await assert.rejects(loadCodec("ok", { configPath }), ConfigError);
    });
  }
});

Deno.test("plugins: listPluginCodecs reports the fixture's codecs and whether they are loaded", async () => {
  reset();
  const rows = await listPluginCodecs({
    projectRoot: join(REPO_DIR, "tests/fixtures/plugin_project"),
  });
  assert.deepEqual(rows.map((r) => [r.name, r.loaded]), [
    ["cgraph", false],
    ["graph", false],
    ["missing", false],
    ["nocodec", false],
  ]);
  assert.equal(rows[1].specifier, GRAPH_URL);
  await loadCodec("graph", { configPath: FIXTURE });
  assert.equal((await listPluginCodecs({ configPath: FIXTURE }))[1].loaded, true);
  reset();
});
