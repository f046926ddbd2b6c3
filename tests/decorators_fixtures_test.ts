/**
 * The decorators in both compile modes, end to end: two tiny user projects with the same source,
 * one compiled with standard (TC39) decorators and one with `"experimentalDecorators": true`,
 * each importing the library by relative path. Each must type-check with its own deno.json and
 * print the same, correct definitions.
 */
import nodeAssert from "node:assert/strict";

const FIXTURES = new URL("./fixtures/", import.meta.url);

/** What both projects must print (besides the mode they detected). */
const EXPECTED = {
  Species: {
    definition: [
      "# species lookup",
      "species : varchar(32)  # species name",
      "---",
      "latin = '' : varchar(64)  # latin name",
      "unique index(latin)",
    ].join("\n"),
    context: [],
  },
  Subject: {
    definition: [
      "# experimental subject",
      "subject_id : int32  # subject number",
      "---",
      "-> Species",
      "-> [nullable] Species.proj(foster_species='species')",
      "sex = 'U' : enum('M','F','U')  # it's the sex",
      "dob = null : date",
      "entered = CURRENT_TIMESTAMP : datetime",
      "index(sex, dob)",
    ].join("\n"),
    context: ["Species"],
  },
  Session: {
    definition: [
      "# recording session",
      "-> Subject",
      "session_idx : int16",
      "---",
      "note = '' : varchar(255)",
    ].join("\n"),
    context: ["Subject"],
  },
  "Session.Detail": {
    definition: [
      "-> Session",
      "detail_idx : int16",
      "---",
      "value : float64  # measured value",
      "unique index(value)",
    ].join("\n"),
    context: ["Session"],
  },
};

/** Run `deno <args>` with a fixture's own config; returns exit code, stdout and stderr. */
async function deno(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

const outputs = new Map<string, Record<string, unknown>>();

for (const [fixture, mode] of [["decorators_std", "standard"], ["decorators_legacy", "legacy"]]) {
  const dir = new URL(`${fixture}/`, FIXTURES);
  const config = new URL("deno.json", dir).pathname;
  const main = new URL("main.ts", dir).pathname;

  Deno.test(`${fixture}: deno check passes with its own deno.json`, async () => {
    const { code, stdout, stderr } = await deno("check", "--config", config, main);
    nodeAssert.equal(code, 0, `deno check failed:\n${stdout}\n${stderr}`);
  });

  Deno.test(`${fixture}: compiles as ${mode} decorators and prints the expected definitions`, async () => {
    const { code, stdout, stderr } = await deno("run", "--allow-all", "--config", config, main);
    nodeAssert.equal(code, 0, `deno run failed:\n${stdout}\n${stderr}`);
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    nodeAssert.equal(printed.mode, mode, "the fixture did not compile in the intended mode");
    const { mode: _, ...tables } = printed;
    nodeAssert.deepStrictEqual(tables, EXPECTED);
    outputs.set(fixture, tables);
  });
}

Deno.test("both fixtures have the same source and printed the same definitions", async () => {
  // Same source modulo the leading doc comment, so only the compile mode differs.
  const body = async (fixture: string) => {
    const text = await Deno.readTextFile(new URL(`${fixture}/main.ts`, FIXTURES));
    return text.slice(text.indexOf(" * Prints JSON"));
  };
  nodeAssert.equal(await body("decorators_std"), await body("decorators_legacy"));
  const config = async (fixture: string) =>
    JSON.parse(await Deno.readTextFile(new URL(`${fixture}/deno.json`, FIXTURES)));
  const std = await config("decorators_std");
  const legacy = await config("decorators_legacy");
  nodeAssert.equal(std.compilerOptions.experimentalDecorators, undefined);
  nodeAssert.equal(legacy.compilerOptions.experimentalDecorators, true);
  if (outputs.size === 2) {
    nodeAssert.deepStrictEqual(outputs.get("decorators_std"), outputs.get("decorators_legacy"));
  }
});
