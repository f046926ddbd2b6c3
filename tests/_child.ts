/**
 * Test helper: run a Deno script as a child process that must end by itself, with only the
 * environment Deno needs to find its module cache plus what the test gives.
 *
 * @module
 */

/** What Deno needs to find its module cache; no DJ_* variable of the test's environment. */
export function cacheEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** How a child run ended. */
export interface ChildRun {
  /** Whether it had to be killed at the limit (it did not end by itself). */
  killed: boolean;
  /** Whether it exited with status 0. */
  success: boolean;
  /** Its standard output, trimmed. */
  stdout: string;
  /** Its standard error. */
  stderr: string;
}

/**
 * Runs `deno run --allow-all --config=<config> <script> …args` and waits for it to end, killing it
 * after `limitMs`: a hang is what such tests look for, reported as `killed`.
 *
 * @example
 * ```ts
 * import { runToEnd } from "./_child.ts";
 * const run = await runToEnd("deno.json", "tests/fixtures/pglite_no_close.ts", { env: {} });
 * console.log(run.killed, run.success);
 * ```
 */
export async function runToEnd(
  config: string,
  script: string,
  options: { env: Record<string, string>; cwd?: string; limitMs?: number; args?: string[] },
): Promise<ChildRun> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `--config=${config}`, script, ...(options.args ?? [])],
    cwd: options.cwd,
    env: { ...cacheEnv(), ...options.env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const limit = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, options.limitMs ?? 60_000);
  const out = await child.output();
  clearTimeout(limit);
  return {
    killed,
    success: out.success,
    stdout: new TextDecoder().decode(out.stdout).trim(),
    stderr: new TextDecoder().decode(out.stderr),
  };
}
