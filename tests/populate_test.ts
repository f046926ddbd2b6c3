/**
 * Populate on MariaDB, PostgreSQL and PGlite: Computed and Imported tables whose make() inserts
 * their rows and their parts; the default key source (two parents, a renamed foreign key) and an
 * overriding one; restrictions and the options argument; errors (raised with a rollback that
 * leaves no partial rows, or collected with suppressErrors); maxCalls; the `key in table` check;
 * progress; makeKwargs; the tripartite make and its referential-integrity check; reserveJobs with
 * errors recorded in the jobs table, priorities, keepCompleted, stale jobs; job metadata; and the
 * refusals (inside a transaction, on a query, on a Manual table, without make).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Connection } from "../lib/connection.ts";
import { DataJointError } from "../lib/errors.ts";
import { splitPopulateArgs } from "../lib/populate.ts";
import type { Row } from "../lib/query.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Computed, Imported, Manual, Part } from "../lib/table.ts";
import { onEveryBackend } from "./_connections.ts";
import { scratchName } from "./_servers.ts";

/** Calls each make saw, by table. */
type Calls = Row[];

async function pipeline(c: Connection) {
  const name = scratchName("dj_pop_");
  const lab = makeSchema(name, { connection: c });
  const calls: Calls = [];
  const files = new Map<number, number[]>();
  @lab
  class Subject extends Manual {
    static override definition = "subject_id : int32\n---\nweight : float64";
  }
  @lab
  class Rig extends Manual {
    static override definition = "rig : varchar(8)";
  }
  // Parts are declared before their masters (a class expression in a static field of a
  // decorated class would be decorated too by Deno's transform).
  class Item extends Part {
    static override definition = "-> master\nk : int16\n---\nv : float64";
  }
  @lab
  class Stat extends Computed {
    static override definition = "-> Subject\n---\ndouble_weight : float64";
    static Item = Item;
    async make(key: Row, kwargs: Record<string, unknown>) {
      calls.push({ ...key, ...kwargs });
      const w = await Subject.restrict(key).fetch1("weight") as number;
      await this.insert1({ ...key, double_weight: w * 2 });
      await Stat.Item.insert([{ ...key, k: 1, v: w }, { ...key, k: 2, v: -w }]);
      if (w < 0) throw new RangeError(`negative weight ${w}`);
      if (kwargs.alsoInsert !== undefined) {
        await this.insert1({ subject_id: kwargs.alsoInsert, double_weight: 0 });
      }
    }
  }
  class Chunk extends Part {
    static override definition = "-> master\nchunk : int16\n---\nsamples : int32";
  }
  @lab
  class Recording extends Imported {
    static override definition = "-> Subject\n-> Rig.proj(setup='rig')\n---\nn_chunks : int16";
    static Chunk = Chunk;
    async make(key: Row) {
      const chunks = files.get(key.subject_id as number);
      if (chunks === undefined) throw new Error(`no file for subject ${key.subject_id}`);
      await this.insert1({ ...key, n_chunks: chunks.length });
      await Recording.Chunk.insert(chunks.map((n, i) => ({ ...key, chunk: i, samples: n })));
    }
  }
  await lab.declare();
  await Subject.insert([
    { subject_id: 1, weight: 20 },
    { subject_id: 2, weight: 25 },
    { subject_id: 3, weight: -1 },
    { subject_id: 4, weight: 30 },
  ]);
  await Rig.insert([{ rig: "A" }, { rig: "B" }]);
  return {
    name,
    lab,
    calls,
    files,
    Subject,
    Rig,
    Stat,
    Recording,
    drop: () => lab.drop({ cascade: true }),
  };
}

async function rows(c: Connection, schema: string, table: string, order: string): Promise<Row[]> {
  const d = c.kit.dialect;
  return await c.query(`SELECT * FROM ${d.quote(schema)}.${d.quote(table)} ORDER BY ${order}`);
}

Deno.test("populate: trailing options are told from restrictions", () => {
  const a = splitPopulateArgs([{ subject_id: 1 }, { maxCalls: 2, reserveJobs: true }]);
  assert.deepEqual(a.restrictions, [{ subject_id: 1 }]);
  assert.deepEqual(a.options, { maxCalls: 2, reserveJobs: true });
  const b = splitPopulateArgs([{ subject_id: 1 }]);
  assert.deepEqual([b.restrictions, b.options], [[{ subject_id: 1 }], {}]);
  const c = splitPopulateArgs([{ priority: 1 }, {}]);
  assert.deepEqual([c.restrictions, c.options], [[{ priority: 1 }], {}], "explicit empty options");
  const d = splitPopulateArgs([{ priority: 1 }]);
  assert.deepEqual([d.restrictions, d.options], [[], { priority: 1 }]);
  const e = splitPopulateArgs(["weight > 3", [{ subject_id: 1 }]]);
  assert.deepEqual(e.restrictions, ["weight > 3", [{ subject_id: 1 }]]);
  assert.deepEqual(splitPopulateArgs([]), { restrictions: [], options: {} });
});

await onEveryBackend(
  "populate: make inserts rows and parts; errors roll back or are collected",
  async (c) => {
    const f = await pipeline(c);
    const { Stat } = f;
    try {
      assert.deepEqual(await Stat.progress(), { remaining: 4, total: 4 });
      await assert.rejects(
        () => Stat.insert1({ subject_id: 1, double_weight: 0 }),
        /auto-populated/,
        "no inserts outside make",
      );
      // The first error stops populate; its key's master and part rows are rolled back.
      await assert.rejects(() => Stat.populate(), (e: Error) => e instanceof RangeError);
      assert.deepEqual((await rows(c, f.name, "__stat", "subject_id")).map((r) => r.subject_id), [
        1,
        2,
      ]);
      assert.deepEqual(
        (await rows(c, f.name, "__stat__item", "subject_id, k")).map((r) => [r.subject_id, r.k]),
        [[1, 1], [1, 2], [2, 1], [2, 2]],
      );
      assert.equal(c.inTransaction, false);
      const result = await Stat.populate({ suppressErrors: true });
      assert.equal(result.successCount, 1);
      assert.equal(result.errorList.length, 1);
      assert.deepEqual(result.errorList[0].key, { subject_id: 3 });
      assert.equal(result.errorList[0].message, "RangeError: negative weight -1");
      assert.ok(result.errorList[0].error instanceof RangeError);
      assert.deepEqual(await Stat.toDicts({ orderBy: "subject_id" }), [
        { subject_id: 1, double_weight: 40 },
        { subject_id: 2, double_weight: 50 },
        { subject_id: 4, double_weight: 60 },
      ]);
      assert.equal(await Stat.Item.restrict({ subject_id: 3 }).count(), 0);
      assert.deepEqual(await Stat.progress(), { remaining: 1, total: 4 });
      assert.deepEqual(await Stat.progress({ subject_id: 1 }), { remaining: 0, total: 1 });
      assert.deepEqual(await Stat.populate({ suppressErrors: true, maxCalls: 0 }), {
        successCount: 0,
        errorList: [],
      });
      await assert.rejects(() => Stat.populate({ maxCalls: -1 }), /maxCalls must be an integer/);
      assert.equal(await Stat.jobs.errors.count(), 0, "direct mode writes no jobs");
    } finally {
      await f.drop();
    }
  },
);

await onEveryBackend(
  "populate: restrictions, maxCalls, makeKwargs and the key-in-table check",
  async (c) => {
    const f = await pipeline(c);
    const { Stat, calls } = f;
    try {
      assert.deepEqual(await Stat.populate({ subject_id: 2 }, {}), {
        successCount: 1,
        errorList: [],
      });
      assert.deepEqual(await Stat.populate("weight >= 25", { maxCalls: 5 }), {
        successCount: 1,
        errorList: [],
      });
      assert.deepEqual(calls.map((k) => k.subject_id), [2, 4]);
      // An array is OR; a query restricts by its keys.
      await Stat.populate([{ subject_id: 1 }, { subject_id: 3 }], {
        suppressErrors: true,
        maxCalls: 1,
        makeKwargs: { alsoInsert: 3 },
      });
      assert.deepEqual(calls.at(-1), { subject_id: 1, alsoInsert: 3 }, "makeKwargs reach make");
      assert.deepEqual(
        await Stat.toDicts({ orderBy: "subject_id" }).then((r) => r.map((x) => x.subject_id)),
        [1, 2, 3, 4],
        "make of 1 inserted 3 as well",
      );
      // 3 is in the table now: populate finds nothing more to do, and never calls make for it.
      const n = calls.length;
      assert.deepEqual(await Stat.populate(f.Subject.restrict({ subject_id: 3 })), {
        successCount: 0,
        errorList: [],
      });
      assert.equal(calls.length, n);
      assert.deepEqual(await Stat.progress(), { remaining: 0, total: 4 });
    } finally {
      await f.drop();
    }
  },
);

await onEveryBackend("populate: Imported table with a renamed parent and parts", async (c) => {
  const f = await pipeline(c);
  const { Recording } = f;
  try {
    // Default key source: Subject × Rig.proj(setup='rig').
    assert.deepEqual(await Recording.progress(), { remaining: 8, total: 8 });
    f.files.set(1, [100, 200, 300]);
    f.files.set(2, [50]);
    const r = await Recording.populate({ setup: "A" }, { suppressErrors: true });
    assert.equal(r.successCount, 2);
    assert.deepEqual(r.errorList.map((e) => [e.key, e.message]), [
      [{ subject_id: 3, setup: "A" }, "Error: no file for subject 3"],
      [{ subject_id: 4, setup: "A" }, "Error: no file for subject 4"],
    ]);
    assert.deepEqual(await Recording.toDicts({ orderBy: "subject_id" }), [
      { subject_id: 1, setup: "A", n_chunks: 3 },
      { subject_id: 2, setup: "A", n_chunks: 1 },
    ]);
    assert.deepEqual(
      (await Recording.Chunk.toDicts({ orderBy: ["subject_id", "chunk"] })).map((x) => x.samples),
      [100, 200, 300, 50],
    );
    assert.deepEqual(await Recording.progress(), { remaining: 6, total: 8 });
  } finally {
    await f.drop();
  }
});

await onEveryBackend("populate: keySource override, and refusals", async (c) => {
  const name = scratchName("dj_popks_");
  const lab = makeSchema(name, { connection: c });
  @lab
  class Animal extends Manual {
    static override definition = "animal : int32\n---\nalive : bool";
  }
  @lab
  class Living extends Computed {
    static override definition = "-> Animal";
    static get keySource() {
      return Animal.restrict({ alive: true });
    }
    async make(key: Row) {
      await this.insert1(key);
    }
  }
  @lab
  class NoMake extends Computed {
    static override definition = "-> Animal";
  }
  try {
    await lab.declare();
    await Animal.insert([{ animal: 1, alive: true }, { animal: 2, alive: false }]);
    assert.deepEqual(await Living.progress(), { remaining: 1, total: 1 });
    assert.equal((await Living.populate()).successCount, 1);
    assert.deepEqual(await Living.keys(), [{ animal: 1 }]);

    await assert.rejects(() => NoMake.populate(), /must implement make\(key\)/);
    await assert.rejects(
      () => Animal.populate(),
      (e: Error) => e instanceof DataJointError && /only Computed and Imported/.test(e.message),
    );
    await assert.rejects(
      () => Living.populate.call(Living.restrict({ animal: 1 }) as never),
      (e: Error) => e instanceof DataJointError && /restricted table/.test(e.message),
    );
    await c.startTransaction();
    try {
      await assert.rejects(
        () => Living.populate(),
        (e: Error) => e instanceof DataJointError && /during a transaction/.test(e.message),
      );
    } finally {
      await c.cancelTransaction();
    }
  } finally {
    await lab.drop({ cascade: true });
  }
});

await onEveryBackend("populate: tripartite make and its referential-integrity check", async (c) => {
  const name = scratchName("dj_pop3_");
  const lab = makeSchema(name, { connection: c });
  const seen: string[] = [];
  let changed = false;
  @lab
  class Signal extends Manual {
    static override definition = "signal_id : int32\n---\nsamples : <blob>";
  }
  @lab
  class Mean extends Computed {
    static override definition = "-> Signal\n---\nmean : float64\nn : int32";
    async makeFetch(key: Row, kwargs: Record<string, unknown>) {
      seen.push(`fetch${c.inTransaction ? " (in transaction)" : ""}`);
      return [await Signal.restrict(key).fetch1("samples"), kwargs.scale ?? 1];
    }
    async makeCompute(key: Row, samples: number[], scale: number) {
      seen.push(`compute${c.inTransaction ? " (in transaction)" : ""}`);
      if (key.signal_id === 2 && !changed) {
        changed = true;
        // The input changes while the computation runs: the result must not be committed.
        const q = `${c.kit.dialect.quote(name)}.${c.kit.dialect.quote("signal")}`;
        await c.execute(`DELETE FROM ${q} WHERE signal_id = 2`);
        await Signal.insert1({ signal_id: 2, samples: [1000] });
      }
      return [scale * samples.reduce((a, b) => a + b, 0) / samples.length, samples.length];
    }
    async makeInsert(key: Row, mean: number, n: number) {
      seen.push(`insert${c.inTransaction ? " (in transaction)" : ""}`);
      await this.insert1({ ...key, mean, n });
    }
  }
  try {
    await lab.declare();
    await Signal.insert([{ signal_id: 1, samples: [1, 2, 3] }, { signal_id: 2, samples: [4, 6] }]);
    const r = await Mean.populate({ signal_id: 1 }, { makeKwargs: { scale: 10 } });
    assert.deepEqual(r, { successCount: 1, errorList: [] });
    assert.deepEqual(seen, [
      "fetch",
      "compute",
      "fetch (in transaction)",
      "insert (in transaction)",
    ]);
    assert.deepEqual(await Mean.toDicts(), [{ signal_id: 1, mean: 20, n: 3 }]);
    const bad = await Mean.populate({ signal_id: 2 }, { suppressErrors: true });
    assert.equal(bad.successCount, 0);
    assert.equal(
      bad.errorList[0].message,
      "DataJointError: Referential integrity failed! The `make_fetch` data has changed",
    );
    assert.equal(await Mean.restrict({ signal_id: 2 }).count(), 0, "nothing committed");
    // Unchanged input on the next run: committed.
    assert.equal((await Mean.populate({ signal_id: 2 })).successCount, 1);
    assert.deepEqual(await Mean.restrict({ signal_id: 2 }).fetch1("mean"), 1000);
  } finally {
    await lab.drop({ cascade: true });
  }
});

await onEveryBackend(
  "populate: reserveJobs records errors, honours priorities, keeps completed jobs",
  async (c) => {
    const f = await pipeline(c);
    const { Stat, calls } = f;
    try {
      const r = await Stat.populate({ reserveJobs: true, suppressErrors: true });
      assert.deepEqual([r.successCount, r.errorList.map((e) => e.key)], [3, [{ subject_id: 3 }]]);
      assert.deepEqual(await Stat.jobs.progress(), {
        pending: 0,
        reserved: 0,
        success: 0,
        error: 1,
        ignore: 0,
        total: 1,
      });
      const [err] = await Stat.jobs.errors.toDicts();
      assert.equal(err.subject_id, 3);
      assert.equal(err.error_message, "RangeError: negative weight -1");
      assert.match(err.error_stack as string, /^RangeError: negative weight -1\n\s+at /);
      assert.ok(err.reserved_time !== null && err.completed_time !== null);
      // A failed job is not retried until its error is cleared.
      const n = calls.length;
      assert.deepEqual(await Stat.populate({ reserveJobs: true, suppressErrors: true }), {
        successCount: 0,
        errorList: [],
      });
      assert.equal(calls.length, n);
      await Stat.jobs.delete("error");
      await f.Subject.insert([{ subject_id: 5, weight: 1 }, { subject_id: 6, weight: 2 }]);
      await c.execute(
        `UPDATE ${c.kit.dialect.quote(f.name)}.${
          c.kit.dialect.quote("subject")
        } SET weight = 3 WHERE subject_id = 3`,
      );
      // Priorities: refresh 5 as urgent, 6 and 3 as routine; the urgent one runs first.
      assert.equal((await Stat.jobs.refresh([{ subject_id: 5 }], { priority: 1 })).added, 1);
      assert.equal((await Stat.jobs.refresh([], { priority: 8 })).added, 2);
      const first = calls.length;
      assert.equal(
        (await Stat.populate({ reserveJobs: true, refresh: false, maxCalls: 1 })).successCount,
        1,
      );
      assert.deepEqual(calls.slice(first).map((k) => k.subject_id), [5]);
      assert.equal((await Stat.populate({ reserveJobs: true, priority: 5 })).successCount, 0);
      const saved = c.config.jobs.keepCompleted;
      c.config.jobs.keepCompleted = true;
      try {
        assert.equal((await Stat.populate({ reserveJobs: true, priority: 8 })).successCount, 2);
        assert.deepEqual(
          (await Stat.jobs.completed.toDicts({ orderBy: "subject_id" })).map((j) => j.subject_id),
          [3, 6],
        );
        const [done] = await Stat.jobs.completed.toDicts({ orderBy: "subject_id" });
        assert.ok(typeof done.duration === "number" && done.duration >= 0);
        // A kept job whose row is deleted from the table is pending again after a refresh.
        const d = c.kit.dialect;
        for (const t of ["__stat__item", "__stat"]) {
          await c.execute(`DELETE FROM ${d.quote(f.name)}.${d.quote(t)} WHERE subject_id = 6`);
        }
        const refreshed = await Stat.jobs.refresh();
        assert.deepEqual([refreshed.added, refreshed.rePended], [0, 1]);
        assert.deepEqual(await Stat.jobs.pending.keys(), [{ subject_id: 6 }]);
      } finally {
        c.config.jobs.keepCompleted = saved;
      }
      // Stale jobs: older than the timeout and no longer in the key source.
      await Stat.jobs.add([{ subject_id: 77 }]);
      await new Promise((res) => setTimeout(res, 1100));
      const stale = await Stat.jobs.refresh([], { staleTimeout: 1 });
      assert.equal(stale.removed, 1);
      assert.deepEqual(await Stat.jobs.query().restrict({ subject_id: 77 }).count(), 0);
      assert.equal(await Stat.jobs.pending.count(), 1, "6 is still wanted");
    } finally {
      await f.drop();
    }
  },
);

await onEveryBackend("populate: job metadata columns are set after each commit", async (c) => {
  const name = scratchName("dj_popmeta_");
  const saved = c.config.jobs.addJobMetadata;
  c.config.jobs.addJobMetadata = true;
  const lab = makeSchema(name, { connection: c });
  @lab
  class Source extends Manual {
    static override definition = "source_id : int32";
  }
  @lab
  class Derived extends Computed {
    static override definition = "-> Source\n---\nx : int32";
    async make(key: Row) {
      await this.insert1({ ...key, x: 1 });
    }
  }
  try {
    await lab.declare();
    c.config.jobs.addJobMetadata = saved;
    await Source.insert([{ source_id: 1 }, { source_id: 2 }]);
    const before = Date.now();
    await Derived.populate({ reserveJobs: true });
    const meta = await rows(c, name, "__derived", "source_id");
    assert.equal(meta.length, 2);
    for (const m of meta) {
      assert.ok(m._job_start_time !== null, "start time set");
      const t = new Date(String(m._job_start_time).replace(" ", "T")).getTime();
      assert.ok(Math.abs(t - before) < 60_000, `local start time ${m._job_start_time}`);
      assert.ok(typeof m._job_duration === "number" && m._job_duration >= 0);
      assert.equal(m._job_version, "");
    }
    assert.deepEqual(await Derived.toDicts({ orderBy: "source_id" }), [
      { source_id: 1, x: 1 },
      { source_id: 2, x: 1 },
    ], "hidden columns stay hidden");
  } finally {
    c.config.jobs.addJobMetadata = saved;
    await lab.drop({ cascade: true });
  }
}, { last: true });
