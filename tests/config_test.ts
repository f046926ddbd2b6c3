/**
 * Tests for `lib/config.ts`: file discovery with `.git`/`.hg` boundaries, nested and dotted keys,
 * secrets, precedence, environment variables, the embedded default, the port derived from the
 * effective backend, and every `ConfigError`.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";
import { type Config, findConfigFile, loadConfig, type LoadConfigOptions } from "../lib/config.ts";
import { Connection } from "../lib/connection.ts";
import { ConfigError, DataJointError } from "../lib/errors.ts";

function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

/** A temporary project tree; `files` maps relative paths to contents (`null`: a folder). */
function tree(files: Record<string, string | null>): string {
  const root = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "dj_config_" }));
  for (const [rel, content] of Object.entries(files)) {
    const path = `${root}/${rel}`;
    if (content === null) {
      Deno.mkdirSync(path, { recursive: true });
    } else {
      Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      Deno.writeTextFileSync(path, content);
    }
  }
  return root;
}

function withTree(
  files: Record<string, string | null>,
  fn: (root: string) => void,
): void {
  const root = tree(files);
  try {
    fn(root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

/** loadConfig with no ambient environment, no system secrets, warnings collected. */
function load(options: LoadConfigOptions & { warnings?: string[] } = {}): Config {
  const warnings = options.warnings ?? [];
  return loadConfig({
    env: {},
    systemSecretsDir: "/nonexistent/dj-secrets",
    onWarning: (m) => warnings.push(m),
    ...options,
  });
}

function throwsConfig(fn: () => unknown, ...includes: string[]): ConfigError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ConfigError)) {
      throw new Error(`expected a ConfigError, got ${e}`, { cause: e });
    }
    for (const part of includes) {
      nodeAssert.ok(e.message.includes(part), `${JSON.stringify(part)} not in: ${e.message}`);
    }
    return e;
  }
  throw new Error("expected a ConfigError, but nothing was thrown");
}

const json = (v: unknown): string => JSON.stringify(v);

Deno.test("config: defaults give the embedded PGlite database of the project", () => {
  withTree({ ".git": null }, (root) => {
    const c = load({ cwd: root });
    assertEquals(c.database, {
      backend: "pglite",
      host: "localhost",
      port: 5432,
      user: "",
      password: "",
      name: "postgres",
      path: `${root}/.dj/pglite`,
      useTls: null,
      createTables: true,
      reconnect: true,
    });
    // The embedded default brings its own file store inside the project.
    assertEquals(c.stores, {
      default: "local",
      local: { protocol: "file", location: `${root}/.dj/store` },
    });
    assertEquals(c.sources.stores, { kind: "derived" });
    assertEquals(c.safemode, true);
    assertEquals(c.loglevel, "INFO");
    assertEquals(c.downloadPath, ".");
    assertEquals(c.jobs, {
      autoRefresh: true,
      keepCompleted: false,
      staleTimeout: 3600,
      defaultPriority: 5,
      versionMethod: null,
      allowNewPkFieldsInComputedTables: false,
      addJobMetadata: false,
    });
    assertEquals(c.display, { limit: 12, width: 14, showTupleCount: true });
    assertEquals(c.projectRoot, root);
    assertEquals(c.configFile, null);
    assertEquals(c.secretsDir, null);
    assertEquals(c.sources["database.backend"], { kind: "derived" });
    assertEquals(c.sources["database.port"], { kind: "derived" });
    assertEquals(c.sources["jobs.keepCompleted"], { kind: "default" });
    assertEquals(c.warnings, []);
  });
});

Deno.test("config: datajoint.json is found upward and stops at .git / .hg", () => {
  withTree({
    "proj/.git": null,
    "proj/datajoint.json": json({ database: { host: "found" } }),
    "proj/a/b": null,
  }, (root) => {
    const c = load({ cwd: `${root}/proj/a/b` });
    assertEquals(c.configFile, `${root}/proj/datajoint.json`);
    assertEquals(c.projectRoot, `${root}/proj`);
    assertEquals(c.database.host, "found");
    assertEquals(findConfigFile(`${root}/proj/a`), `${root}/proj/datajoint.json`);
  });
  for (const marker of [".git", ".hg"]) {
    withTree({
      ".git": null,
      "outer/datajoint.json": json({ database: { host: "outside" } }),
      [`outer/inner/${marker}`]: null,
      "outer/inner/sub": null,
    }, (root) => {
      const c = load({ cwd: `${root}/outer/inner/sub` });
      assertEquals(c.configFile, null, `${marker} is a boundary`);
      assertEquals(c.database.host, "localhost");
      assertEquals(c.projectRoot, `${root}/outer/inner/sub`);
    });
  }
});

Deno.test("config: without datajoint.json the project root is the nearest deno.json's folder", () => {
  for (const name of ["deno.json", "deno.jsonc"]) {
    withTree({
      "proj/.git": null,
      [`proj/${name}`]: "{}",
      "proj/mywork/deeper": null,
      [`${name}`]: "{}", // beyond the .git boundary: never reached
    }, (root) => {
      const c = load({ cwd: `${root}/proj/mywork/deeper` });
      assertEquals(c.configFile, null);
      assertEquals(c.projectRoot, `${root}/proj`, `${name} marks the project`);
      assertEquals(c.database.path, `${root}/proj/.dj/pglite`, "one embedded database per project");
    });
  }
  withTree({
    "proj/.git": null,
    "proj/deno.json": "{}",
    "proj/sub/datajoint.json": json({}),
  }, (root) => {
    const c = load({ cwd: `${root}/proj/sub` });
    assertEquals(c.projectRoot, `${root}/proj/sub`, "datajoint.json wins over deno.json");
  });
});

Deno.test("config: nested and dotted keys, snake_case names mapped to camelCase", () => {
  const file = {
    database: { host: "db.lab", create_tables: false, use_tls: true, port: 3307 },
    "database.user": "alice",
    "database.reconnect": "false",
    "jobs.keep_completed": true,
    jobs: {
      stale_timeout: 60,
      version_method: "git",
      allow_new_pk_fields_in_computed_tables: true,
    },
    display: { show_tuple_count: false, limit: "7" },
    download_path: "/data/downloads",
    safemode: false,
    loglevel: "debug",
    stores: { default: "main", main: { protocol: "file", location: "/store" } },
    "stores.main.subfolding": [2, 2],
    "stores.filepath_default": "raw",
    connection: { charset: "utf8" },
    query_cache: null,
  };
  withTree({ ".git": null, "datajoint.json": json(file) }, (root) => {
    const warnings: string[] = [];
    const c = load({ cwd: root, warnings });
    assertEquals(warnings, [], "keys DataJoint Python knows are accepted silently");
    assertEquals(c.database.backend, "mysql", "a host without a backend means mysql");
    assertEquals(c.database.host, "db.lab");
    assertEquals(c.database.port, 3307);
    assertEquals(c.database.user, "alice");
    assertEquals(c.database.createTables, false);
    assertEquals(c.database.useTls, true);
    assertEquals(c.database.reconnect, false);
    assertEquals(c.jobs.keepCompleted, true);
    assertEquals(c.jobs.staleTimeout, 60);
    assertEquals(c.jobs.versionMethod, "git");
    assertEquals(c.jobs.allowNewPkFieldsInComputedTables, true);
    assertEquals(c.display, { limit: 7, width: 14, showTupleCount: false });
    assertEquals(c.downloadPath, "/data/downloads");
    assertEquals(c.safemode, false);
    assertEquals(c.loglevel, "DEBUG");
    assertEquals(c.stores, {
      default: "main",
      filepath_default: "raw",
      main: { protocol: "file", location: "/store", subfolding: [2, 2] },
    });
    const where = `${root}/datajoint.json`;
    assertEquals(c.sources["database.host"], { kind: "file", detail: where });
    assertEquals(c.sources.stores, { kind: "file", detail: where });
  });
});

Deno.test("config: unknown keys are warnings, not errors", () => {
  withTree({
    ".git": null,
    "datajoint.json": json({ databse: { host: "x" }, "database.hots": "y", colour: "blue" }),
  }, (root) => {
    const warnings: string[] = [];
    const c = load({ cwd: root, warnings });
    assertEquals(warnings.length, 3);
    nodeAssert.ok(warnings.some((w) => w.includes('"database.hots"')), warnings.join("\n"));
    nodeAssert.ok(warnings.every((w) => w.includes(`${root}/datajoint.json`)));
    assertEquals(c.warnings, warnings);
    assertEquals(c.database.host, "localhost");
  });
});

Deno.test("config: null text values in the file mean 'not set'", () => {
  withTree({
    ".git": null,
    "datajoint.json": json({ database: { user: null, password: null, port: null } }),
  }, (root) => {
    const c = load({ cwd: root });
    assertEquals(c.database.user, "");
    assertEquals(c.database.password, "");
    assertEquals(c.database.port, 5432);
  });
});

Deno.test("config: secrets next to datajoint.json, else the system secrets folder", () => {
  withTree({
    ".git": null,
    "datajoint.json": json({
      database: { host: "h", user: "from-file" },
      stores: { main: { protocol: "s3", access_key: "file-key" } },
    }),
    ".secrets/database.user": "from-secret\n",
    ".secrets/database.password": "  s3cret \n",
    ".secrets/stores.main.secret_key": "sk\n",
    ".secrets/stores.main.access_key": "secret-key",
    ".secrets/unrelated.token": "ignored",
    "sys/database.password": "system",
  }, (root) => {
    const c = load({ cwd: root, systemSecretsDir: `${root}/sys` });
    assertEquals(c.secretsDir, `${root}/.secrets`);
    assertEquals(c.database.user, "from-file", "the file wins over secrets");
    assertEquals(c.database.password, "s3cret", "secrets are trimmed");
    assertEquals(c.sources["database.password"], { kind: "secrets", detail: `${root}/.secrets` });
    assertEquals(c.stores, {
      main: { protocol: "s3", access_key: "file-key", secret_key: "sk" },
    });
  });
  withTree({
    ".git": null,
    "datajoint.json": json({ database: { host: "h" } }),
    "sys/database.password": "system\n",
  }, (root) => {
    const c = load({ cwd: root, systemSecretsDir: `${root}/sys` });
    assertEquals(c.secretsDir, `${root}/sys`);
    assertEquals(c.database.password, "system");
  });
});

Deno.test("config: precedence overrides > env > file > secrets > defaults", () => {
  withTree({
    ".git": null,
    "datajoint.json": json({ database: { host: "file", user: "file", password: "file" } }),
    ".secrets/database.user": "secret",
    ".secrets/database.password": "secret",
  }, (root) => {
    const env = { DJ_HOST: "env", DJ_USER: "env" };
    const c = load({ cwd: root, env, overrides: { database: { host: "override" } } });
    assertEquals(c.database.host, "override");
    assertEquals(c.database.user, "env");
    assertEquals(c.database.password, "file");
    assertEquals(c.database.name, "postgres");
    assertEquals(c.sources["database.host"], { kind: "override" });
    assertEquals(c.sources["database.user"], { kind: "env", detail: "DJ_USER" });
  });
});

Deno.test("config: DJ_IGNORE_CONFIG_FILE and ignoreFile skip the file and secrets", () => {
  withTree({
    ".git": null,
    "datajoint.json": "{ not json",
    ".secrets/database.password": "secret",
  }, (root) => {
    for (const opts of [{ env: { DJ_IGNORE_CONFIG_FILE: "true" } }, { ignoreFile: true }]) {
      const c = load({ cwd: root, ...opts });
      assertEquals(c.configFile, null);
      assertEquals(c.secretsDir, null);
      assertEquals(c.database.password, "");
      assertEquals(c.database.backend, "pglite");
    }
  });
});

Deno.test("config: environment variables", () => {
  const c = load({
    ignoreFile: true,
    env: {
      DJ_HOST: "db.example.org:3310",
      DJ_USER: "bob",
      DJ_PASS: "",
      DJ_BACKEND: "postgres",
      DJ_DATABASE_NAME: "lab",
      DJ_CREATE_TABLES: "FALSE",
      DJ_USE_TLS: "no",
      DJ_LOG_LEVEL: "warning",
      DJ_SAFEMODE: "0",
      DJ_DOWNLOAD_PATH: "/tmp/dl",
      DJ_JOBS_KEEP_COMPLETED: "true",
      DJ_JOBS_STALE_TIMEOUT: "120",
      DJ_JOBS_VERSION_METHOD: "none",
      DJ_STORES: json({ default: "s", s: { protocol: "file", location: "/s" } }),
      DJ_PG_HOST: "not ours, ignored",
    },
  });
  assertEquals(c.database.backend, "postgresql", "postgres is an alias");
  assertEquals(c.database.host, "db.example.org");
  assertEquals(c.database.port, 3310, "host:port sets the port");
  assertEquals(c.sources["database.port"], { kind: "env", detail: "DJ_HOST" });
  assertEquals(c.database.user, "bob");
  assertEquals(c.database.password, "");
  assertEquals(c.sources["database.password"], { kind: "env", detail: "DJ_PASS" });
  assertEquals(c.database.name, "lab");
  assertEquals(c.database.createTables, false);
  assertEquals(c.database.useTls, false);
  assertEquals(c.loglevel, "WARNING");
  assertEquals(c.safemode, false);
  assertEquals(c.downloadPath, "/tmp/dl");
  assertEquals(c.jobs.keepCompleted, true);
  assertEquals(c.jobs.staleTimeout, 120);
  assertEquals(c.jobs.versionMethod, "none");
  assertEquals(c.stores, { default: "s", s: { protocol: "file", location: "/s" } });
  assertEquals(c.sources.stores, { kind: "env", detail: "DJ_STORES" });

  const ipv6 = load({ ignoreFile: true, env: { DJ_HOST: "[::1]:3307" } });
  assertEquals([ipv6.database.host, ipv6.database.port], ["::1", 3307]);
  const bare6 = load({ ignoreFile: true, env: { DJ_HOST: "::1" } });
  assertEquals([bare6.database.host, bare6.database.port], ["::1", 3306]);

  const warnings: string[] = [];
  load({ ignoreFile: true, env: { DJ_JOBS_FROBNICATE: "1" }, warnings });
  assertEquals(warnings.length, 1);
  nodeAssert.ok(warnings[0].includes("DJ_JOBS_FROBNICATE"));
});

Deno.test("config: DJ_STORES replaces the stores of the file and secrets", () => {
  withTree({
    ".git": null,
    "datajoint.json": json({ stores: { default: "a", a: { protocol: "file", location: "/a" } } }),
    ".secrets/stores.a.secret_key": "k",
  }, (root) => {
    const c = load({ cwd: root, env: { DJ_STORES: json({ b: { protocol: "file" } }) } });
    assertEquals(c.stores, { b: { protocol: "file" } });
    const o = load({
      cwd: root,
      env: { DJ_STORES: json({ b: { protocol: "file" } }) },
      overrides: { stores: { b: { location: "/b" } } },
    });
    assertEquals(o.stores, { b: { protocol: "file", location: "/b" } }, "overrides merge");
  });
});

Deno.test("config: backend and port are derived from the effective backend", () => {
  const cases: Array<[LoadConfigOptions, string, number]> = [
    [{}, "pglite", 5432],
    [{ env: { DJ_HOST: "h" } }, "mysql", 3306],
    [{ env: { DJ_BACKEND: "mysql" } }, "mysql", 3306],
    [{ env: { DJ_BACKEND: "postgresql" } }, "postgresql", 5432],
    [{ env: { DJ_BACKEND: "postgresql", DJ_PORT: "6543" } }, "postgresql", 6543],
    [{ env: { DJ_HOST: "h:1234", DJ_PORT: "6543" } }, "mysql", 1234],
    [{ overrides: { database: { backend: "postgresql", host: "h" } } }, "postgresql", 5432],
  ];
  for (const [opts, backend, port] of cases) {
    const c = load({ ignoreFile: true, ...opts });
    assertEquals([c.database.backend, c.database.port], [backend, port], json(opts));
  }
  // Reference bug #31: a backend from the file must not leave port 3306.
  withTree({
    ".git": null,
    "datajoint.json": json({ database: { backend: "postgresql", host: "pg" } }),
  }, (root) => {
    const c = load({ cwd: root });
    assertEquals([c.database.backend, c.database.port], ["postgresql", 5432]);
  });
});

Deno.test("config: PGlite path", () => {
  withTree({
    ".git": null,
    "datajoint.json": json({ database: { backend: "pglite", path: "db/here" } }),
    "sub": null,
  }, (root) => {
    assertEquals(load({ cwd: `${root}/sub` }).database.path, `${root}/db/here`, "file: its folder");
    assertEquals(
      load({ cwd: `${root}/sub`, env: { DJ_PGLITE_PATH: "rel" } }).database.path,
      `${root}/sub/rel`,
      "env: relative to cwd",
    );
    assertEquals(
      load({ cwd: root, env: { DJ_PGLITE_PATH: "memory://" } }).database.path,
      "memory://",
    );
    assertEquals(
      load({ cwd: root, overrides: { database: { path: "/abs/../abs2" } } }).database.path,
      "/abs2",
    );
  });
});

Deno.test("config: a __proto__ key in stores stays data", () => {
  withTree({
    ".git": null,
    "datajoint.json": '{"stores": {"__proto__": {"polluted": true}, "a": {"protocol": "file"}}}',
  }, (root) => {
    const c = load({ cwd: root });
    assertEquals(({} as Record<string, unknown>).polluted, undefined);
    assertEquals(Object.getPrototypeOf(c.stores), Object.prototype);
    nodeAssert.ok(Object.hasOwn(c.stores, "__proto__"));
    assertEquals(c.stores.a, { protocol: "file" });
  });
});

Deno.test("config: malformed input is a ConfigError that says what to do", () => {
  withTree({ ".git": null, "datajoint.json": '{"database": {"host": "x",}}' }, (root) => {
    throwsConfig(() => load({ cwd: root }), `${root}/datajoint.json`, "not valid JSON");
  });
  withTree({ ".git": null, "datajoint.json": "[1, 2]" }, (root) => {
    throwsConfig(() => load({ cwd: root }), "must contain a JSON object", "an array");
  });
  withTree({ ".git": null, "datajoint.json": json({ database: 5 }) }, (root) => {
    throwsConfig(() => load({ cwd: root }), "database must be an object");
  });
  withTree({ ".git": null, "datajoint.json": json({ stores: "s3" }) }, (root) => {
    throwsConfig(() => load({ cwd: root }), "stores must be an object");
  });
  withTree({ ".git": null, "datajoint.json": json({ safemode: "sometimes" }) }, (root) => {
    throwsConfig(() => load({ cwd: root }), "safemode must be true or false", "datajoint.json");
  });
  withTree({ ".git": null, "datajoint.json": json({ database: { port: 70000 } }) }, (root) => {
    throwsConfig(() => load({ cwd: root }), "database.port must be a TCP port");
  });
  withTree({ ".git": null, "datajoint.json": json({ jobs: { stale_timeout: 1.5 } }) }, (root) => {
    throwsConfig(() => load({ cwd: root }), "jobs.stale_timeout must be an integer");
  });
  withTree({
    ".git": null,
    "datajoint.json": json({ database: { host: "h:notaport" } }),
  }, (root) => {
    throwsConfig(() => load({ cwd: root }), "database.port must be a TCP port", "database.host");
  });

  const envCases: Array<[Record<string, string>, string[]]> = [
    [{ DJ_PORT: "abc" }, ["DJ_PORT", "TCP port", '"abc"']],
    [{ DJ_BACKEND: "oracle" }, ["DJ_BACKEND", '"mysql"', '"oracle"']],
    [{ DJ_STORES: "[1]" }, ["DJ_STORES", "JSON object", "an array"]],
    [{ DJ_STORES: "{oops" }, ["DJ_STORES", "not valid JSON"]],
    [{ DJ_CREATE_TABLES: "perhaps" }, ["DJ_CREATE_TABLES", "true or false"]],
    [{ DJ_USE_TLS: "maybe" }, ["DJ_USE_TLS"]],
    [{ DJ_LOG_LEVEL: "LOUD" }, ["DJ_LOG_LEVEL", "INFO"]],
    [{ DJ_JOBS_DEFAULT_PRIORITY: "high" }, ["DJ_JOBS_DEFAULT_PRIORITY", "integer"]],
    [{ DJ_JOBS_VERSION_METHOD: "svn" }, ["DJ_JOBS_VERSION_METHOD", '"git"']],
    [{ DJ_IGNORE_CONFIG_FILE: "maybe" }, ["DJ_IGNORE_CONFIG_FILE"]],
  ];
  for (const [env, parts] of envCases) {
    throwsConfig(() => load({ ignoreFile: true, env }), ...parts);
  }
  throwsConfig(
    () => load({ ignoreFile: true, overrides: { database: { backend: "sqlite" as "mysql" } } }),
    "overrides",
    "database.backend",
  );
});

Deno.test("config: the embedded default's local store gives way to configured stores and servers", () => {
  withTree({ ".git": null }, (root) => {
    const stores = { default: "main", main: { protocol: "file", location: "/data" } };
    assertEquals(load({ cwd: root, overrides: { stores } }).stores, stores);
    assertEquals(load({ cwd: root, env: { DJ_HOST: "db.example.org" } }).stores, {});
    assertEquals(load({ cwd: root, env: { DJ_STORES: json(stores) } }).stores, stores);
  });
});

Deno.test("a host without a backend means MySQL; failing there, the error says so", async () => {
  const env = { DJ_HOST: "127.0.0.1", DJ_USER: "dj_no_such_user", DJ_PASS: "x" };
  await nodeAssert.rejects(
    Connection.open({ env, ignoreFile: true }),
    (e: Error) =>
      e instanceof DataJointError && /Cannot connect to MySQL/.test(e.message) &&
      /a host alone means MySQL.*DJ_BACKEND=postgresql/.test(e.message),
  );
  await nodeAssert.rejects(
    Connection.open({ env: { ...env, DJ_BACKEND: "mysql" }, ignoreFile: true }),
    (e: Error) =>
      e instanceof DataJointError && /Cannot connect to MySQL/.test(e.message) &&
      !/a host alone/.test(e.message),
  );
});
