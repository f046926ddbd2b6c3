/**
 * Distributed populate: several worker processes fill one Computed table together.
 *
 * `populate({ reserveJobs: true })` makes a worker take its keys from the table's jobs table
 * (`~~summary` here, the same queue DataJoint Python workers use): before computing a key, the
 * worker reserves it with one atomic update, so two workers never compute the same key, however
 * many run and on whichever machines. A key whose `make` fails is marked `error` in the jobs
 * table, with the message, and the others go on.
 *
 * This script plays both roles. Run as `deno run --allow-all examples/distributed_populate.ts`,
 * it sets up the pipeline, starts two copies of itself with `--worker A` and `--worker B`, waits
 * for them, and prints which worker computed which key and what the jobs table holds. Workers need
 * a database server they all reach: set `DJ_BACKEND=mysql` or `postgresql` with `DJ_HOST`,
 * `DJ_USER`, `DJ_PASS`. On the embedded default (PGlite, which lives inside one process) it says
 * so and runs a single worker in this process. `DJ_EXAMPLE_SCHEMA` names the schema (default
 * `example_workers`); it is dropped and rebuilt at the start.
 *
 * @module
 */
import * as dj from "../mod.ts";

const workerFlag = Deno.args.indexOf("--worker");
/** This process's worker name; the coordinator calls itself "main" when it computes. */
let worker = workerFlag === -1 ? undefined : Deno.args[workerFlag + 1];

const lab = dj.schema(Deno.env.get("DJ_EXAMPLE_SCHEMA") ?? "example_workers");

@lab
class Recording extends dj.Manual {
  static override definition = `
    recording_id : int16
    ---
    n_samples : int32
  `;
}

@lab
class Summary extends dj.Computed {
  static override definition = `
    # statistics of one recording
    -> Recording
    ---
    mean : float64
    spread : float64
    worker : varchar(16)     # which worker computed this row
  `;

  async make(key: Record<string, unknown>): Promise<void> {
    const n = Number(await Recording.restrict(key).fetch1("n_samples"));
    if (n === 0) throw new RangeError(`recording ${key.recording_id} has no samples`);
    // Stands for a long computation, long enough for both workers to get a share of the keys.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const samples = Array.from({ length: n }, (_, i) => Math.sin(i * Number(key.recording_id)));
    const mean = samples.reduce((a, b) => a + b) / n;
    const spread = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    await this.insert1({ ...key, mean, spread, worker });
  }
}

if (worker !== undefined) {
  // ── A worker ───────────────────────────────────────────────────────────────────────────────
  await Summary.progress(); // connect and read the table before saying "ready"
  console.log("ready");
  // Start together: the coordinator closes our stdin once every worker is ready.
  for await (const _ of Deno.stdin.readable) { /* wait for end of input */ }
  const { successCount, errorList } = await Summary.populate({
    reserveJobs: true,
    suppressErrors: true, // record a failing key in the jobs table and go on
  });
  console.log(`computed ${successCount} key(s), ${errorList.length} failed`);
  await dj.closeConnection();
} else {
  // ── The coordinator ────────────────────────────────────────────────────────────────────────
  await lab.drop(); // start from nothing
  await Recording.insert(
    Array.from({ length: 12 }, (_, i) => ({
      recording_id: i + 1,
      n_samples: i + 1 === 7 ? 0 : 1000 * (i + 1), // recording 7 is empty: its make fails
    })),
  );
  // Fill the queue: one pending job per key of Summary's key source (workers would do it too).
  await Summary.jobs.refresh();
  console.log(`jobs before: ${format(await Summary.jobs.progress())}`);

  const conn = await dj.conn();
  const pids = new Map<number, string>([[Deno.pid, "main"]]);
  if (conn.backend === "pglite") {
    console.log(
      [
        "",
        "The embedded PGlite database lives inside this process: no other process can open it",
        "while it is open here, so workers in other processes or on other machines need a server",
        "(DJ_BACKEND=mysql or postgresql, with DJ_HOST, DJ_USER and DJ_PASS).",
        "Running one worker in this process instead.",
      ].join("\n"),
    );
    worker = "main";
    const { successCount, errorList } = await Summary.populate({
      reserveJobs: true,
      suppressErrors: true,
    });
    console.log(`[main] computed ${successCount} key(s), ${errorList.length} failed`);
  } else {
    console.log(`\nstarting workers A and B on ${conn.backend}`);
    const workers = ["A", "B"].map((name) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", import.meta.filename!, "--worker", name],
        stdin: "piped",
        stdout: "piped",
      }).spawn();
      pids.set(child.pid, name);
      return { name, child, lines: lines(child.stdout) };
    });
    for (const w of workers) {
      const first = await w.lines.next();
      if (first.value !== "ready") throw new Error(`worker ${w.name} did not start`);
    }
    for (const w of workers) await w.child.stdin.close(); // go
    await Promise.all(workers.map(async (w) => {
      for await (const line of w.lines) console.log(`[${w.name}] ${line}`);
      const { code } = await w.child.status;
      if (code !== 0) {
        console.log(`[${w.name}] exited with code ${code}`);
        Deno.exitCode = 1;
      }
    }));
  }

  console.log("\nwho computed what:");
  const rows = await Summary.proj("worker").toDicts({ orderBy: "KEY" });
  for (const row of rows) console.log(`  recording ${row.recording_id}: worker ${row.worker}`);
  const tally = new Map<string, number>();
  for (const row of rows) tally.set(String(row.worker), (tally.get(String(row.worker)) ?? 0) + 1);
  console.log(`  ${[...tally].sort().map(([w, n]) => `${w}: ${n} keys`).join(", ")}`);

  // Done jobs are deleted (unless jobs.keepCompleted); failed ones stay, with who and why.
  console.log(`\njobs after: ${format(await Summary.jobs.progress())}`);
  for (const job of await Summary.jobs.errors.toDicts()) {
    const by = pids.get(Number(job.pid)) ?? `pid ${job.pid}`;
    console.log(`  recording ${job.recording_id}: ${job.error_message} (worker ${by})`);
  }
  await dj.closeConnection();
}

/** `{ pending: 12, error: 0, … }` as one line, zero counts left out. */
function format(counts: object): string {
  const parts = (Object.entries(counts) as [string, number][])
    .filter(([status, n]) => n > 0 && status !== "total");
  return parts.length === 0 ? "empty" : parts.map(([status, n]) => `${n} ${status}`).join(", ");
}

/** The lines of a child's output stream. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    yield* parts;
  }
  if (buffered !== "") yield buffered;
}
