/**
 * Test helpers for the `dj` command: run it as a real process (with only the `DJ_*` variables a
 * test gives) or in-process through `runCli` (with an open connection, which is how PGlite in
 * memory is reached), check the one-line error contract, and load the golden schema written by
 * DataJoint Python (rows and store files) under a scratch name.
 *
 * @module
 */
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import type { CliContext } from "../lib/cli/command.ts";
import { runCli } from "../lib/cli/main.ts";
import type { Connection } from "../lib/connection.ts";
import { schema } from "../lib/schema.ts";
import { Computed, Imported, Lookup, Manual, Part } from "../lib/table.ts";
import { serverDatabase, type TestBackend } from "./_connections.ts";
import { GOLDEN_ROOT } from "./_golden.ts";
import { GOLDEN_DDL, GOLDEN_SCHEMA, loadGoldenSql } from "./_golden_sql.ts";
import { scratchName } from "./_servers.ts";

/** The repository root (where `deno.json` is). */
export const REPO: string = new URL("../", import.meta.url).pathname;

/** Whether the golden rows are missing outside CI (tests that need them are then ignored). */
export const GOLDEN_IGNORED: boolean = GOLDEN_DDL.mysqlData.ignore ||
  GOLDEN_DDL.postgresqlData.ignore;

/** What one `dj` run produced, stdout as text. */
export interface Run {
  /** Exit code. */
  code: number;
  /** Standard output (UTF-8). */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

const decoder = new TextDecoder();

/** Standard input that fails the test when a command reads it. */
export const NO_STDIN = (): Promise<Uint8Array> =>
  Promise.reject(new Error("stdin must not be read"));

/**
 * Runs `dj <args>` in-process. With a connection, database commands use it (and leave it open).
 *
 * @example
 * ```ts
 * import { djIn } from "./_cli.ts";
 * const r = await djIn(["--help"]);
 * ```
 */
export async function djIn(args: string[], context: CliContext = {}): Promise<Run> {
  const r = await runCli(args, NO_STDIN, context);
  return { code: r.code, stdout: decoder.decode(r.stdout), stderr: r.stderr };
}

/**
 * Runs `dj <args>` as a real process with the repository's `deno.json`, in `cwd` (default the
 * repository), with the test's environment minus every inherited `DJ_*` variable and `INIT_CWD`,
 * plus `env`.
 *
 * @example
 * ```ts
 * import { djProcess } from "./_cli.ts";
 * const r = await djProcess(["schemas"], { env: { DJ_BACKEND: "pglite", DJ_PGLITE_PATH: "/tmp/db" } });
 * ```
 */
export function djProcess(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Run> {
  return denoProcess(
    ["run", "--allow-all", "--config", `${REPO}deno.json`, `${REPO}lib/cli/main.ts`, ...args],
    options,
  );
}

/**
 * Runs `deno <args>` as a real process in `cwd` (default the repository), with the test's
 * environment minus every inherited `DJ_*` variable and `INIT_CWD`, plus `env`: as a user types
 * it in a shell with nothing configured.
 *
 * @example
 * ```ts
 * import { denoProcess } from "./_cli.ts";
 * const r = await denoProcess(["run", "--allow-all", "pipeline.ts"], { cwd: "/tmp/project" });
 * ```
 */
export async function denoProcess(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Run> {
  const env: Record<string, string> = {};
  // INIT_CWD too: set by `deno task test`, it would move the command to where the tests started.
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!k.startsWith("DJ_") && k !== "INIT_CWD") env[k] = v;
  }
  Object.assign(env, options.env ?? {});
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd ?? REPO,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * Asserts a failed run: the exit code, nothing on stdout, exactly one line on stderr that starts
 * with the command name, matches `pattern` and carries no stack trace.
 *
 * @example
 * ```ts
 * import { assertFails, djIn } from "./_cli.ts";
 * assertFails(await djIn(["tables"]), 2, "dj tables", /missing <schema>/);
 * ```
 */
export function assertFails(r: Run, code: 1 | 2, prog: string, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code ${r.code} (stderr: ${r.stderr})`);
  assert.equal(r.stdout, "", "nothing on stdout");
  assert.match(r.stderr, /^[^\n]+\n$/, "exactly one line on stderr");
  assert.ok(r.stderr.startsWith(`${prog}: `), `stderr starts with "${prog}: ": ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\bat .*:\d+:\d+/, "no stack trace");
  assert.doesNotMatch(r.stderr, /internal error/, "a DataJointError, not a bug");
  assert.match(r.stderr, pattern);
}

/**
 * Asserts a successful run and returns its stdout.
 *
 * @example
 * ```ts
 * import { djIn, succeeded } from "./_cli.ts";
 * const text = succeeded(await djIn(["--help"]));
 * ```
 */
export function succeeded(r: Run): string {
  assert.equal(r.code, 0, `exit code ${r.code}, stderr: ${r.stderr}`);
  assert.equal(r.stderr, "", "nothing on stderr");
  return r.stdout;
}

/** The golden schema loaded under a scratch name, with a renamed copy of its store files. */
export interface GoldenCopy {
  /** The scratch schema name. */
  schema: string;
  /** Folder holding the store copies (`main/`, `raw/`). */
  dir: string;
  /** The `stores` configuration pointing at the copies. */
  stores: Record<string, unknown>;
  /** Drops the schema and removes the folder. */
  dispose(): Promise<void>;
}

/**
 * Loads the golden DDL and rows (`golden/ddl`) into a new scratch schema on `c`, copies the store
 * files DataJoint Python wrote with the schema renamed, and configures `c`'s stores to use them.
 *
 * @example
 * ```ts
 * import { loadGoldenCopy } from "./_cli.ts";
 * import type { Connection } from "../lib/connection.ts";
import { schema } from "../lib/schema.ts";
import { Computed, Imported, Lookup, Manual, Part } from "../lib/table.ts";
 * declare const c: Connection;
 * const g = await loadGoldenCopy(c);
 * await g.dispose();
 * ```
 */
export async function loadGoldenCopy(c: Connection): Promise<GoldenCopy> {
  const schema = scratchName("dj_cli_");
  await loadGoldenSql(c.driver, schema, { data: true });
  const family = c.backend === "mysql" ? "mysql" : "postgresql";
  const dir = await Deno.makeTempDir({ prefix: "dj-cli-store-" });
  await cp(new URL(`ddl/store/${family}/`, GOLDEN_ROOT).pathname, dir, { recursive: true });
  for (const section of ["_hash", "_schema"]) {
    await Deno.rename(
      `${dir}/main/${section}/${GOLDEN_SCHEMA}`,
      `${dir}/main/${section}/${schema}`,
    );
  }
  const stores = {
    default: "main",
    filepath_default: "raw",
    main: { protocol: "file", location: `${dir}/main` },
    raw: { protocol: "file", location: `${dir}/raw` },
  };
  await c.configureStores(stores);
  return {
    schema,
    dir,
    stores,
    async dispose() {
      await c.execute(c.kit.dialect.dropSchema(schema));
      c.invalidate();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * The `DJ_*` variables that point a `dj` process at a test backend (PGlite: the data folder).
 *
 * @example
 * ```ts
 * import { backendEnv } from "./_cli.ts";
 * const env = backendEnv("pglite", "/tmp/dj-pglite");
 * ```
 */
export function backendEnv(backend: TestBackend, pglitePath?: string): Record<string, string> {
  if (backend === "pglite") {
    return { DJ_BACKEND: "pglite", DJ_PGLITE_PATH: pglitePath ?? "memory://" };
  }
  const d = serverDatabase(backend);
  return {
    DJ_BACKEND: d.backend,
    DJ_HOST: d.host,
    DJ_PORT: String(d.port),
    DJ_USER: d.user,
    DJ_PASS: d.password,
    DJ_DATABASE_NAME: d.name,
  };
}

/** A scratch schema with parts, every tier, renamed foreign keys and a parent in another schema. */
export interface PartsSchema {
  /** The schema with the parts. */
  name: string;
  /** The other schema (holding `Subject`). */
  external: string;
  /** Drops both schemas. */
  dispose(): Promise<void>;
}

/**
 * Declares two scratch schemas: `external` with `Subject`, and one with `Rig` (Lookup), `Probe`
 * (Manual, `-> external.Subject`, `-> Rig`) and its part `Channel`, `Ingest` (Imported),
 * `Sorting` (Computed) with parts `Unit` and `Pair` (`-> Probe.Channel.proj(other='channel')`),
 * and `Mentor` (`-> Probe.proj(mentor_probe='probe')`, `-> [nullable] Rig.proj(spare='rig')`);
 * one row in each of `Subject`, `Rig`, `Probe` and `Probe.Channel`.
 *
 * @example
 * ```ts
 * import { declarePartsSchema } from "./_cli.ts";
 * import type { Connection } from "../lib/connection.ts";
import { schema } from "../lib/schema.ts";
import { Computed, Imported, Lookup, Manual, Part } from "../lib/table.ts";
 * declare const c: Connection;
 * const s = await declarePartsSchema(c);
 * await s.dispose();
 * ```
 */
export async function declarePartsSchema(c: Connection): Promise<PartsSchema> {
  const external = scratchName("dj_cli_ext_");
  const name = scratchName("dj_cli_parts_");
  const ext = schema(external, { connection: c });
  @ext
  class Subject extends Manual {
    static override definition = "subject_id : int32\n---\nname = '' : varchar(16)";
  }
  const s = schema(name, { connection: c, context: { ext } });
  @s
  class Rig extends Lookup {
    static override definition = "rig : varchar(16)";
  }
  class Channel extends Part {
    static override definition = "-> master\nchannel : int16\n---\ngain : float64";
  }
  @s
  class Probe extends Manual {
    static override definition = "-> ext.Subject\nprobe : int16\n---\n-> Rig";
    static Channel = Channel;
  }
  @s
  class Ingest extends Imported {
    static override definition = "-> Probe\n---\nn : int32";
  }
  class Unit extends Part {
    static override definition = "-> master\nunit : int32";
  }
  class Pair extends Part {
    static override definition = "-> master\n-> Probe.Channel.proj(other='channel')";
  }
  @s
  class Sorting extends Computed {
    static override definition = "-> Ingest\n---\nq : float64";
    static Unit = Unit;
    static Pair = Pair;
  }
  @s
  class Mentor extends Manual {
    static override definition =
      "-> Probe.proj(mentor_probe='probe')\n---\n-> [nullable] Rig.proj(spare='rig')";
  }
  // Declared by their decorators; named here only so that no class looks unused.
  void [Ingest, Sorting, Mentor];
  await ext.declare();
  await s.declare();
  await Subject.insert1({ subject_id: 1, name: "M1" });
  await Rig.insert1({ rig: "A" });
  await Probe.insert1({ subject_id: 1, probe: 1, rig: "A" });
  await Channel.insert([{ subject_id: 1, probe: 1, channel: 0, gain: 1.5 }]);
  return {
    name,
    external,
    async dispose() {
      await c.execute(c.kit.dialect.dropSchema(name));
      await c.execute(c.kit.dialect.dropSchema(external));
      c.invalidate();
    },
  };
}
