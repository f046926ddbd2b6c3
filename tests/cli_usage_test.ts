/**
 * `dj`: `--help` of every command, and every kind of wrong usage (exit 2, one line naming the
 * argument and the help to read) caught before any connection is opened; the argument parser
 * itself.
 */
import assert from "node:assert/strict";
import { checkSchemaName, parseArgs, parseCount, splitQualifiedName } from "../lib/cli/args.ts";
import { UsageError } from "../lib/cli/command.ts";
import { parseWhere } from "../lib/cli/fetch.ts";
import { COMMANDS } from "../lib/cli/main.ts";
import { assertFails, djIn, djProcess, succeeded } from "./_cli.ts";

/** A configuration that fails to load: a command that connected would exit 1, not 2. */
const UNUSABLE = { config: { env: { DJ_BACKEND: "bogus" }, ignoreFile: true } };

Deno.test("dj --help lists every command, and each command has --help and -h", async () => {
  const main = succeeded(await djIn(["--help"]));
  for (const c of COMMANDS) assert.match(main, new RegExp(`^  ${c.name} +\\S`, "m"));
  assert.match(main, /Exit codes: 0 on success, 1 .*, 2 for wrong usage/s);
  assert.deepEqual(
    COMMANDS.map((c) => c.name),
    ["schemas", "tables", "describe", "fetch", "diagram", "codecs", "gc", "blob", "init"],
  );
  for (const c of COMMANDS) {
    for (const flag of ["--help", "-h"]) {
      const text = succeeded(await djIn([c.name, flag], UNUSABLE));
      assert.match(text, new RegExp(`^Usage: dj ${c.name}\\b`), `${c.name} ${flag}`);
    }
  }
  // Help wins over other mistakes on the same line.
  assert.match(succeeded(await djIn(["fetch", "--bogus", "--help"], UNUSABLE)), /^Usage: dj fetch/);
});

Deno.test("dj: usage errors exit 2 with one line, before connecting", async () => {
  const cases: [string[], string, RegExp][] = [
    [["schemas", "extra"], "dj schemas", /unexpected argument 'extra'.*dj schemas --help/],
    [["schemas", "--all"], "dj schemas", /unknown option --all/],
    [["tables"], "dj tables", /missing <schema>/],
    [["tables", "a", "b"], "dj tables", /unexpected argument 'b'/],
    [["tables", "no spaces"], "dj tables", /"no spaces" is not a schema name/],
    [["describe"], "dj describe", /missing <schema>\.<Table>/],
    [["describe", "lab"], "dj describe", /expected <schema>\.<Table>, e\.g\. lab\.Subject/],
    [["describe", "lab."], "dj describe", /expected <schema>\.<Table>/],
    [["describe", ".Subject"], "dj describe", /expected <schema>\.<Table>/],
    [["describe", "a;b.Subject"], "dj describe", /"a;b" is not a schema name/],
    [["fetch"], "dj fetch", /missing <schema>\.<Table>/],
    [["fetch", "lab.Subject", "--limit"], "dj fetch", /option --limit needs a value/],
    [["fetch", "lab.Subject", "--limit", "ten"], "dj fetch", /--limit must be a non-negative/],
    [["fetch", "lab.Subject", "--limit=-1"], "dj fetch", /--limit must be a non-negative/],
    [["fetch", "lab.Subject", "--limit", "1.5"], "dj fetch", /--limit must be a non-negative/],
    [["fetch", "lab.Subject", "--limit", "1", "--limit", "2"], "dj fetch", /given twice/],
    [["fetch", "lab.Subject", "--format", "xml"], "dj fetch", /one of json, csv, table/],
    [["fetch", "lab.Subject", "--where", "{"], "dj fetch", /--where is not valid JSON/],
    [["fetch", "lab.Subject", "--where", "[1]"], "dj fetch", /--where must be a JSON object/],
    [["fetch", "lab.Subject", "--where", "null"], "dj fetch", /--where must be a JSON object/],
    [["fetch", "lab.Subject", "--download-path="], "dj fetch", /--download-path needs a folder/],
    [["fetch", "lab.Subject", "--order", "x"], "dj fetch", /unknown option --order/],
    [["diagram"], "dj diagram", /missing <schema>/],
    [["diagram", "lab", "--svg"], "dj diagram", /option --svg needs a value/],
    [["diagram", "lab", "--svg="], "dj diagram", /--svg needs a file name/],
    [["diagram", "lab", "--png", "x"], "dj diagram", /unknown option --png/],
    [["codecs", "blob"], "dj codecs", /unexpected argument 'blob'/],
    [["codecs", "--load=yes"], "dj codecs", /option --load takes no value/],
    [["gc"], "dj gc", /missing <store>/],
    [["gc", "main", "--schema"], "dj gc", /option --schema needs a value/],
    [["gc", "main", "--schema", "a b"], "dj gc", /"a b" is not a schema name/],
    [["gc", "main", "--force"], "dj gc", /unknown option --force/],
    [["gc", ""], "dj gc", /<store> may not be empty/],
  ];
  for (const [args, prog, pattern] of cases) {
    const r = await djIn(args, UNUSABLE);
    assertFails(r, 2, prog, pattern);
    assert.match(r.stderr, /\(see 'dj \w+ --help'\)/, `${args.join(" ")}: points at the help`);
  }
});

Deno.test("dj: an unusable configuration is a runtime error (exit 1) naming the variable", async () => {
  for (const command of [["schemas"], ["tables", "lab"], ["fetch", "lab.Subject"]]) {
    assertFails(await djIn(command, UNUSABLE), 1, `dj ${command[0]}`, /DJ_BACKEND.*"bogus"/);
  }
});

Deno.test("dj (subprocess): usage and configuration errors keep the exit-code contract", async () => {
  const env = { DJ_IGNORE_CONFIG_FILE: "true", DJ_BACKEND: "pglite", DJ_PGLITE_PATH: "memory://" };
  const [usage, config, missing] = await Promise.all([
    djProcess(["fetch", "lab.Subject", "--format", "yaml"], { env }),
    djProcess(["schemas"], { env: { ...env, DJ_PORT: "http" } }),
    djProcess(["tables", "no_such_schema"], { env }),
  ]);
  assertFails(usage, 2, "dj fetch", /--format must be one of json, csv, table, got "yaml"/);
  assertFails(config, 1, "dj schemas", /DJ_PORT/);
  assertFails(missing, 1, "dj tables", /schema "no_such_schema" does not exist.*dj schemas/);
});

Deno.test("parseArgs: options with and without =, repeats, --, flags and positionals", () => {
  const spec = {
    options: { "--limit": "value", "--schema": "repeat", "--dry-run": "flag" },
    positionals: ["store"],
  } as const;
  const p = parseArgs(
    "dj x",
    ["--schema", "a", "main", "--schema=b", "--limit=3", "--dry-run"],
    spec,
  );
  assert.deepEqual(p.positionals, ["main"]);
  assert.deepEqual(p.lists.get("--schema"), ["a", "b"]);
  assert.equal(p.values.get("--limit"), "3");
  assert.ok(p.flags.has("--dry-run"));
  assert.equal(p.help, false);
  // A value may itself start with "-", and "--" ends the options.
  assert.equal(parseArgs("dj x", ["m", "--limit", "-5"], spec).values.get("--limit"), "-5");
  assert.deepEqual(parseArgs("dj x", ["--", "--dry-run"], spec).positionals, ["--dry-run"]);
  assert.deepEqual(parseArgs("dj x", ["-"], spec).positionals, ["-"]);
  assert.equal(parseArgs("dj x", ["-h", "--nope", "a", "b"], spec).help, true);
  assert.throws(() => parseArgs("dj x", [], spec), UsageError);
  assert.throws(
    () => parseArgs("dj x", ["-x", "m"], spec),
    /unknown option -x \(see 'dj x --help'\)/,
  );
});

Deno.test("parseCount, splitQualifiedName, checkSchemaName, parseWhere", () => {
  assert.equal(parseCount("dj x", "--limit", "0"), 0);
  assert.equal(parseCount("dj x", "--limit", "007"), 7);
  assert.throws(() => parseCount("dj x", "--limit", "1e3"), UsageError);
  assert.throws(() => parseCount("dj x", "--limit", "99999999999999999999"), UsageError);
  assert.deepEqual(splitQualifiedName("dj x", "lab.Session.Trial"), {
    schema: "lab",
    table: "Session.Trial",
  });
  assert.deepEqual(splitQualifiedName("dj x", "my-lab$1.#species"), {
    schema: "my-lab$1",
    table: "#species",
  });
  assert.equal(checkSchemaName("dj x", "dj_golden"), "dj_golden");
  assert.throws(() => checkSchemaName("dj x", "a`b"), UsageError);
  assert.throws(() => checkSchemaName("dj x", ""), UsageError);
  // Integers JSON would round come back exact, as bigint; the rest as JSON gives them.
  assert.deepEqual(parseWhere('{"a": 1, "b": 12345678901234567890, "c": -9007199254740993}'), {
    a: 1,
    b: 12345678901234567890n,
    c: -9007199254740993n,
  });
  assert.deepEqual(parseWhere('{"d": 1.5e300, "e": "x", "f": null}'), {
    d: 1.5e300,
    e: "x",
    f: null,
  });
});
