/**
 * `dj` writing its output where the shell sends it: a pipe whose reader leaves early
 * (`dj fetch … | head -1`) ends the command quietly with its own exit code; a device that
 * refuses the bytes (`> /dev/full`) is one line on stderr and exit 1, never a stack trace.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { pack } from "../codecs/blob/mod.ts";
import { NDArray } from "../codecs/blob/ndarray.ts";
import { assertFails, REPO } from "./_cli.ts";

const decoder = new TextDecoder();

/** A blob whose `dj blob decode` output (~1 MB of JSON) is far more than a pipe holds. */
const BIG_BLOB = pack(NDArray.from(new Float64Array(200_000).map((_, i) => i + 0.5), [200_000]));

const DJ = ["run", "--allow-all", "--config", `${REPO}deno.json`, `${REPO}lib/cli/main.ts`];

Deno.test("dj (subprocess): a reader that closes the pipe early ends the command quietly", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...DJ, "blob", "decode"],
    cwd: REPO,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  await writer.write(BIG_BLOB);
  await writer.close();
  // Read the first piece, then go away like `head -1` does.
  const reader = child.stdout.getReader();
  const first = await reader.read();
  assert.ok(first.value !== undefined && first.value.length > 0, "some output arrived");
  assert.equal(decoder.decode(first.value.subarray(0, 10)), '{"array":{');
  await reader.cancel();
  const status = await child.status;
  assert.equal(await stderr, "", "nothing on stderr");
  assert.equal(status.code, 0, "the command's own exit code");
});

Deno.test({
  name: "dj (subprocess): output to a full device is one line on stderr and exit 1",
  ignore: !existsSync("/dev/full"),
  fn: async () => {
    const child = new Deno.Command("sh", {
      args: ["-c", 'exec "$0" "$@" > /dev/full', Deno.execPath(), ...DJ, "blob", "decode"],
      cwd: REPO,
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(BIG_BLOB);
    await writer.close();
    const out = await child.output();
    assertFails(
      { code: out.code, stdout: "", stderr: decoder.decode(out.stderr) },
      1,
      "dj",
      /^dj: cannot write standard output \(No space left on device.*\): free space or redirect/,
    );
  },
});
