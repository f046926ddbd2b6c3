/**
 * `dj init`: a project of one's own, outside this repository, set up the way the README tells a
 * newcomer: the generated pipeline runs on the embedded default, a codec module of the project
 * mapped in its deno.json is found by another script and by `deno task dj` there, and a second
 * init leaves the project alone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertFails, denoProcess, djProcess, REPO, succeeded } from "./_cli.ts";

/** Runs a command in the project like a user in a shell: no DJ_* variables, no repository config. */
async function inProject(dir: string, args: string[]): Promise<string> {
  const run = await denoProcess(args, { cwd: dir });
  assert.equal(run.code, 0, `${args.join(" ")} failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

const POINT_CODEC = `import * as dj from "datajoint";

/** A point on a plane. */
export class Point {
  constructor(readonly x: number, readonly y: number) {}
}

dj.codec<Point, unknown>({
  name: "point",
  getDtype: () => "json",
  encode: (p) => ({ x: p.x, y: p.y }),
  decode: (s) => new Point((s as Point).x, (s as Point).y),
  validate: (v) => {
    if (!(v instanceof Point)) throw new dj.CodecError("<point> takes a Point");
  },
});
`;

const PLACES = `import * as dj from "datajoint";
import { Point } from "./codecs/point.ts";

const geo = dj.schema("init_geo");

@geo
class Place extends dj.Manual {
  static override definition = "place : varchar(16)\\n---\\nwhere : <point>";
}

await Place.insert1({ place: "lab", where: new Point(3, 4) }, { skipDuplicates: true });
const row = await Place.restrict({ place: "lab" }).fetch1() as { where: Point };
console.log(JSON.stringify({ isPoint: row.where instanceof Point, x: row.where.x }));
`;

Deno.test("dj init: a project of one's own with a codec of its own", async () => {
  const root = await Deno.makeTempDir({ prefix: "dj_init_" });
  const dir = join(root, "my-project");
  try {
    const wrote = succeeded(await djProcess(["init", dir]));
    assert.match(wrote, /deno\.json.*pipeline\.ts.*\.gitignore/);
    assert.equal(await Deno.readTextFile(join(dir, ".gitignore")), ".dj/\n");
    const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
    const own = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json")));
    // The library under "datajoint", every package it imports at its pinned version, no dev ones.
    const { datajoint, ...packages } = config.imports;
    assert.equal(
      new URL(datajoint, `file://${dir}/`).pathname,
      join(REPO, "mod.ts"),
      "datajoint points at the library",
    );
    const { "fast-check": _dev, ...runtime } = own.imports;
    assert.deepEqual(packages, runtime);
    assert.match(config.tasks.dj, /^deno run --allow-all --config deno.json .*lib\/cli\/main\.ts$/);

    // The generated pipeline runs where it was written, on the project's embedded database.
    const out = await inProject(dir, ["run", "--allow-all", "pipeline.ts"]);
    assert.match(out, /mouse_id: 1/);
    assert.ok((await Deno.stat(join(dir, ".dj/pglite"))).isDirectory);

    // A codec module of the project, mapped by name: scripts and the dj task both find it.
    await Deno.mkdir(join(dir, "codecs"));
    await Deno.writeTextFile(join(dir, "codecs/point.ts"), POINT_CODEC);
    config.datajoint.codecs.point = "./codecs/point.ts";
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(config, null, 2));
    await Deno.writeTextFile(join(dir, "places.ts"), PLACES);
    assert.deepEqual(
      JSON.parse(await inProject(dir, ["run", "--allow-all", "places.ts"])),
      { isPoint: true, x: 3 },
    );
    const fetched = await inProject(dir, [
      "task",
      "-q",
      "dj",
      "fetch",
      "init_geo.Place",
      "--format",
      "json",
    ]);
    assert.deepEqual(JSON.parse(fetched), [{ place: "lab", where: { x: 3, y: 4 } }]);

    // Nothing is overwritten.
    assertFails(await djProcess(["init", dir]), 1, "dj init", /deno\.json exists/);
    const printed = succeeded(await djProcess(["init", dir, "--print"]));
    assert.equal(JSON.parse(printed).imports.datajoint, datajoint);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("dj init: usage errors", async () => {
  assertFails(await djProcess(["init"]), 2, "dj init", /dir/);
  assertFails(await djProcess(["init", "a", "b"]), 2, "dj init", /.+/);
  // A path that cannot be a project folder: a runtime error that says what to give instead.
  const file = await Deno.makeTempFile({ prefix: "dj_init_file_" });
  try {
    assertFails(
      await djProcess(["init", file]),
      1,
      "dj init",
      /Cannot make a project in .*: .*Give a folder that is new or empty/,
    );
    assertFails(
      await djProcess(["init", join(file, "inside")]),
      1,
      "dj init",
      /Cannot make a project/,
    );
  } finally {
    await Deno.remove(file);
  }
});
