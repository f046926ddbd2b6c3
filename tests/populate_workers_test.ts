/**
 * Many workers: separate `deno run` processes (tests/fixtures/populate_worker.ts) populate one
 * table with `reserveJobs` on PostgreSQL and on MariaDB, coordinated only by the jobs table.
 *
 * - 4 workers at once: every key is made exactly once, nobody deadlocks or fails except on the
 *   key whose make throws, which is recorded in the jobs table with its message; each worker's
 *   stderr (a pipe) shows plain progress lines.
 * - A worker killed with SIGKILL in the middle of a make leaves no partial rows (its transaction
 *   dies with its connection); its job stays reserved, other workers skip it, and once older than
 *   the orphan timeout it is pending again and made by the next worker.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Connection } from "../lib/connection.ts";
import { openTestConnection } from "./_connections.ts";
import { scratchName, serverTest } from "./_servers.ts";
import { type WorkerOptions, workPipeline } from "./fixtures/populate_worker.ts";

const WORKER = new URL("./fixtures/populate_worker.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const decoder = new TextDecoder();

interface WorkerRun {
  code: number;
  calls: number[];
  result?: { successCount: number; errors: [Record<string, unknown>, string][] };
  stderr: string;
}

function spawn(backend: "mysql" | "postgres", name: string, options: WorkerOptions) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, WORKER, backend, name, JSON.stringify(options)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

function parse(code: number, stdout: string, stderr: string): WorkerRun {
  const run: WorkerRun = { code, calls: [], stderr };
  for (const line of stdout.split("\n")) {
    if (line.startsWith("CALL ")) run.calls.push(Number(line.split(" ")[1]));
    if (line.startsWith("RESULT ")) run.result = JSON.parse(line.slice(7));
  }
  return run;
}

/** Runs a worker to its end (killed after `timeoutMs`: a hang fails the test). */
async function runWorker(
  backend: "mysql" | "postgres",
  name: string,
  options: WorkerOptions,
  timeoutMs = 120_000,
): Promise<WorkerRun> {
  const child = spawn(backend, name, options);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const out = await child.output();
    return parse(out.code, decoder.decode(out.stdout), decoder.decode(out.stderr));
  } finally {
    clearTimeout(timer);
  }
}

async function setUp(backend: "mysql" | "postgres", subjects: number) {
  const conn = await openTestConnection(backend);
  const name = scratchName("dj_workers_");
  const { lab, Subject, Work } = workPipeline(name, conn);
  await lab.declare();
  await Subject.insert(
    Array.from({ length: subjects }, (_, i) => ({ subject_id: i + 1, weight: i + 1 })),
  );
  return { conn, name, lab, Work };
}

async function sessionAlive(conn: Connection, id: number): Promise<boolean> {
  const [row] = await conn.query<{ n: number | bigint | string }>(
    conn.kit.dialect.name === "mysql"
      ? "SELECT count(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?"
      : "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1",
    [id],
  );
  return Number(row.n) > 0;
}

for (const backend of ["postgres", "mysql"] as const) {
  await serverTest(
    backend,
    `${backend}: 4 worker processes populate one table, each key once`,
    async () => {
      const n = 60;
      const { conn, name, lab, Work } = await setUp(backend, n);
      try {
        const started = performance.now();
        const runs = await Promise.all(
          [1, 2, 3, 4].map(() => runWorker(backend, name, { failOn: 13, maxDelayMs: 30 })),
        );
        const seconds = (performance.now() - started) / 1000;
        for (const r of runs) assert.equal(r.code, 0, `a worker failed:\n${r.stderr}`);
        const calls = runs.flatMap((r) => r.calls).sort((a, b) => a - b);
        assert.deepEqual(calls, Array.from({ length: n }, (_, i) => i + 1), "each key made once");
        assert.ok(runs.filter((r) => r.calls.length > 0).length >= 2, "the work was shared");
        assert.equal(runs.reduce((s, r) => s + r.result!.successCount, 0), n - 1);
        assert.deepEqual(runs.flatMap((r) => r.result!.errors), [
          [{ subject_id: 13 }, "Error: cannot compute 13"],
        ]);
        // The table: every key but the failed one, with all its parts, from the worker that made it.
        const rows = await Work.toDicts({ orderBy: "subject_id" });
        assert.deepEqual(
          rows.map((r) => r.subject_id),
          calls.filter((k) => k !== 13),
        );
        for (const r of rows) {
          const maker = runs.find((w) => w.calls.includes(r.subject_id as number))!;
          assert.ok(maker.calls.includes(r.subject_id as number));
          assert.equal(r.total, 3 * (r.subject_id as number));
        }
        assert.equal(await Work.Piece.count(), 3 * (n - 1));
        assert.equal(await Work.Piece.restrict({ subject_id: 13 }).count(), 0);
        // The queue: only the error is left, with its message and stack.
        assert.deepEqual(await Work.jobs.progress(), {
          pending: 0,
          reserved: 0,
          success: 0,
          error: 1,
          ignore: 0,
          total: 1,
        });
        const [err] = await Work.jobs.errors.toDicts();
        assert.equal(err.subject_id, 13);
        assert.equal(err.error_message, "Error: cannot compute 13");
        assert.match(String(err.error_stack), /^Error: cannot compute 13\n\s+at /);
        assert.ok(runs.some((r) => r.calls.includes(13) && err.pid !== 0));
        // Progress on a pipe: plain lines, no terminal control characters.
        const busy = runs.find((r) => r.calls.length > 0)!;
        assert.match(busy.stderr, /^Work 0\/\d+ 0% \[/m);
        assert.ok(!busy.stderr.includes("\r"));
        console.log(`  ${backend}: ${n} keys by 4 workers in ${seconds.toFixed(1)} s`);
      } finally {
        await lab.drop({ cascade: true });
        await conn.close();
      }
    },
  );

  await serverTest(
    backend,
    `${backend}: a worker killed mid-make leaves no rows; its job returns after the orphan timeout`,
    async () => {
      const { conn, name, lab, Work } = await setUp(backend, 5);
      try {
        const child = spawn(backend, name, { hangOn: 3, maxDelayMs: 0 });
        const reader = child.stdout.getReader();
        let stdout = "";
        const deadline = Date.now() + 60_000;
        while (!stdout.includes("HANGING 3")) {
          if (Date.now() > deadline) throw new Error(`the worker never reached key 3:\n${stdout}`);
          const { value, done } = await reader.read();
          if (done) throw new Error(`the worker ended early:\n${stdout}`);
          stdout += decoder.decode(value);
        }
        // Its rows for key 3 are written (uncommitted) when it dies.
        child.kill("SIGKILL");
        const status = await child.status;
        assert.equal(status.signal, "SIGKILL");
        reader.releaseLock();
        await child.stdout.cancel().catch(() => {});
        await child.stderr.cancel().catch(() => {});
        const [job] = await Work.jobs.reserved.toDicts();
        assert.deepEqual([job.subject_id, job.pid], [3, child.pid]);
        for (let i = 0; await sessionAlive(conn, Number(job.connection_id)); i++) {
          assert.ok(i < 100, "the server ends the dead worker's session");
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(await Work.keys({ orderBy: "KEY" }), [{ subject_id: 1 }, {
          subject_id: 2,
        }]);
        assert.equal(await Work.Piece.restrict({ subject_id: 3 }).count(), 0, "no partial rows");

        // Another worker leaves the reserved job alone...
        const b = await runWorker(backend, name, {});
        assert.equal(b.code, 0, b.stderr);
        assert.deepEqual(b.calls, [4, 5]);
        assert.equal(await Work.jobs.reserved.count(), 1);
        // ...until it is older than the orphan timeout.
        await new Promise((r) => setTimeout(r, 1200));
        const c = await runWorker(backend, name, { orphanTimeout: 1 });
        assert.equal(c.code, 0, c.stderr);
        assert.deepEqual(c.calls, [3]);
        assert.deepEqual(c.result, { successCount: 1, errors: [] });
        assert.deepEqual(
          (await Work.keys({ orderBy: "KEY" })).map((k) => k.subject_id),
          [1, 2, 3, 4, 5],
        );
        assert.equal(await Work.Piece.count(), 15);
        assert.equal((await Work.jobs.progress()).total, 0, "done jobs are deleted");
      } finally {
        await lab.drop({ cascade: true });
        await conn.close();
      }
    },
  );
}
