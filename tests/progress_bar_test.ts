/**
 * The progress display: a bar redrawn in place on a terminal, plain lines (start, each tenth, end)
 * otherwise, throttled redraws, and stderr of a real child process (a pipe, so plain lines).
 *
 * @module
 */
import assert from "node:assert/strict";
import { formatDuration, ProgressBar, type ProgressOutput } from "../lib/progress_bar.ts";

class Sink implements ProgressOutput {
  text = "";
  constructor(readonly terminal: boolean) {}
  writeSync(bytes: Uint8Array): number {
    this.text += new TextDecoder().decode(bytes);
    return bytes.length;
  }
  isTerminal(): boolean {
    return this.terminal;
  }
}

function clock(stepMs: number): () => number {
  let t = 0;
  return () => (t += stepMs);
}

Deno.test("progress: plain lines when not a terminal, one per tenth and the end", () => {
  const out = new Sink(false);
  const bar = new ProgressBar(20, { label: "Analysis", output: out, now: clock(100) });
  assert.equal(bar.tty, false);
  for (let i = 0; i < 20; i++) bar.tick();
  bar.finish();
  bar.finish();
  const lines = out.text.trimEnd().split("\n");
  assert.equal(lines.length, 11);
  assert.match(lines[0], /^Analysis 0\/20 0% \[/);
  assert.match(lines[1], /^Analysis 2\/20 10% /);
  assert.match(lines[10], /^Analysis 20\/20 100% \[\d\d:\d\d<00:00, [\d.]+\/s\]$/);
  assert.ok(!out.text.includes("\r") && !out.text.includes("\x1b"), "no control characters");
});

Deno.test("progress: an interrupted run ends with its real state", () => {
  const out = new Sink(false);
  const bar = new ProgressBar(10, { output: out, now: clock(10) });
  bar.tick(3);
  bar.finish();
  bar.tick();
  const lines = out.text.trimEnd().split("\n");
  assert.deepEqual(lines.map((l) => l.split(" [")[0]), ["0/10 0%", "3/10 30%"]);
  assert.equal(bar.done, 3, "ticks after finish are ignored");
});

Deno.test("progress: a bar redrawn in place on a terminal, throttled", () => {
  const out = new Sink(true);
  let t = 0;
  const bar = new ProgressBar(10, { label: "A", output: out, width: 10, now: () => t });
  assert.equal(bar.tty, true);
  const first = out.text;
  assert.equal(first, `\r\x1b[2KA |${"░".repeat(10)}| 0/10 0% [00:00<?, 0.0/s]`);
  bar.tick(4); // same instant: no redraw
  assert.equal(out.text, first);
  t = 2000;
  bar.tick();
  assert.ok(out.text.endsWith(`A |█████░░░░░| 5/10 50% [00:02<00:02, 2.5/s]`), out.text);
  bar.tick(5); // the last step is always drawn
  assert.ok(out.text.endsWith("10/10 100% [00:02<00:00, 5.0/s]"), out.text);
  bar.finish();
  assert.ok(out.text.endsWith("\n") && !out.text.slice(0, -1).includes("\n"));
  assert.equal(out.text.split("\r").length - 1, 4);
});

Deno.test("progress: zero steps and durations", () => {
  const out = new Sink(false);
  new ProgressBar(0, { output: out, now: clock(1) }).finish();
  assert.match(out.text, /^0\/0 100% /);
  assert.equal(formatDuration(0), "00:00");
  assert.equal(formatDuration(75), "01:15");
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(formatDuration(NaN), "?");
});

Deno.test("progress: stderr of a child process (a pipe) gets plain lines", async () => {
  const code = `
    import { ProgressBar } from ${
    JSON.stringify(new URL("../lib/progress_bar.ts", import.meta.url).href)
  };
    const bar = new ProgressBar(4, { label: "keys" });
    for (let i = 0; i < 4; i++) bar.tick();
    bar.finish();
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const lines = new TextDecoder().decode(out.stderr).trimEnd().split("\n");
  assert.deepEqual(lines.map((l) => l.split(" [")[0]), [
    "keys 0/4 0%",
    "keys 1/4 25%",
    "keys 2/4 50%",
    "keys 3/4 75%",
    "keys 4/4 100%",
  ]);
  assert.equal(new TextDecoder().decode(out.stdout), "");
});
