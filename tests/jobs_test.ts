/**
 * The jobs table `~~<name>` on MariaDB, PostgreSQL and PGlite, checked against DataJoint Python's
 * (reference types-and-tables.md §3.3, §5.9): its name, the exact columns, types, comment
 * markers, defaults, index, table comment and `~lineage` rows read back from the catalog; the
 * atomic reservation; complete (delete, or keep as `success`); error with a truncated message, a
 * `<blob>` stack and the worker's user/host/pid/connection id; ignore; priorities and delays on
 * the server clock; orphaned reservations; inherited float64/datetime/enum keys (undeclarable by
 * Python on PostgreSQL, reference bug #22); exact counts of added jobs, however a key is spelled
 * and however many workers add it; and a jobs table declared the way Python declares it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { unpack } from "../codecs/blob/mod.ts";
import type { Connection } from "../lib/connection.ts";
import { DataJointError } from "../lib/errors.ts";
import type { Heading } from "../lib/heading.ts";
import {
  ERROR_MESSAGE_LENGTH,
  Jobs,
  jobsDefinition,
  jobsTableName,
  truncateErrorMessage,
} from "../lib/jobs.ts";
import { Schema, schema as makeSchema } from "../lib/schema.ts";
import { Computed, Manual } from "../lib/table.ts";
import { onEveryBackend, openTestConnection, type TestBackend } from "./_connections.ts";
import { scratchName, serverTest } from "./_servers.ts";

async function fixture(c: Connection) {
  const name = scratchName("dj_jobs_");
  const lab = makeSchema(name, { connection: c });
  @lab
  class Subject extends Manual {
    static override definition = "subject_id : int32";
  }
  @lab
  class Session extends Manual {
    static override definition = "-> Subject\nsession_idx : int16";
  }
  @lab
  class Analysis extends Computed {
    static override definition = "-> Session\n---\nv : float64";
  }
  @lab
  class Probe extends Manual {
    static override definition = "depth : float64\nt : datetime(3)\nkind : enum('a', 'b')";
  }
  @lab
  class ProbeStat extends Computed {
    static override definition = "-> Probe\n---\nn : int32";
  }
  await lab.declare();
  const jobsOf = (table: string, conn: Connection = c) =>
    new Jobs({
      schema: name,
      table,
      connection: () => Promise.resolve(conn),
      heading: () => conn.heading(name, table),
    });
  return {
    name,
    Subject,
    Session,
    Analysis,
    Probe,
    ProbeStat,
    jobs: jobsOf("__analysis"),
    probeJobs: jobsOf("__probe_stat"),
    jobsOf,
    drop: () => lab.drop({ cascade: true }),
  };
}

const STATUS_ENUM = "enum('pending', 'reserved', 'success', 'error', 'ignore')";

/** [name, sqlType, nullable, default, comment] as the catalog reports them, per dialect. */
function expectedColumns(backend: TestBackend, key: [string, string, string][]) {
  const my = backend === "mysql";
  const dt = my ? "datetime(3)" : "timestamp(3)";
  return [
    ...key.map(([n, mysql, pg]) => [n, my ? mysql : pg, false, null, null]),
    [
      "status",
      my ? "enum('pending','reserved','success','error','ignore')" : "enum_609a743e",
      false,
      null,
      `:${STATUS_ENUM}:`,
    ],
    ["priority", my ? "tinyint" : "smallint", false, null, ":int8:"],
    ["created_time", dt, false, "CURRENT_TIMESTAMP(3)", ":datetime(3):"],
    ["scheduled_time", dt, false, "CURRENT_TIMESTAMP(3)", ":datetime(3):"],
    ["reserved_time", dt, true, null, ":datetime(3):"],
    ["completed_time", dt, true, null, ":datetime(3):"],
    ["duration", my ? "double" : "double precision", true, null, ":float64:"],
    ["error_message", "varchar(2047)", false, "''", ":varchar(2047):"],
    ["error_stack", my ? "longblob" : "bytea", true, null, ":<blob>:"],
    ["user", "varchar(255)", false, "''", ":varchar(255):"],
    ["host", "varchar(255)", false, "''", ":varchar(255):"],
    ["pid", my ? "int" : "integer", false, "0", ":int32:"],
    ["connection_id", "bigint", false, "0", ":int64:"],
    ["version", "varchar(64)", false, "''", ":varchar(64):"],
  ];
}

async function catalogColumns(c: Connection, schema: string, table: string) {
  c.invalidate(schema);
  const info = (await c.catalog(schema)).tables.get(table);
  assert.ok(info, `${table} is declared`);
  return {
    info,
    columns: info.columns.map((
      col,
    ) => [col.name, col.sqlType, col.nullable, col.defaultText, col.comment]),
  };
}

/** The jobs of one status in key order, through the listing queries. */
function list(jobs: Jobs, status: "pending" | "reserved" | "success" | "error" | "ignore") {
  const q = {
    pending: jobs.pending,
    reserved: jobs.reserved,
    success: jobs.completed,
    error: jobs.errors,
    ignore: jobs.ignored,
  }[status];
  return q.toDicts({ orderBy: "KEY" });
}

async function raw(c: Connection, schema: string, table: string, where = "") {
  const d = c.kit.dialect;
  return await c.query(`SELECT * FROM ${d.quote(schema)}.${d.quote(table)}${where}`);
}

Deno.test("jobs: table names and definition text", () => {
  assert.equal(jobsTableName("__analysis"), "~~analysis");
  assert.equal(jobsTableName("_ingest"), "~~ingest");
  assert.equal(jobsTableName("__spike_sorting"), "~~spike_sorting");
  assert.equal(truncateErrorMessage("short"), "short");
  const long = "é".repeat(3000);
  const cut = truncateErrorMessage(long);
  assert.equal(Array.from(cut).length, ERROR_MESSAGE_LENGTH);
  assert.ok(cut.endsWith("...truncated"));
  // A surrogate pair is one character to the database: it is never split.
  const emoji = truncateErrorMessage("😀".repeat(2100));
  assert.equal(Array.from(emoji).length, 2047);
  assert.equal(emoji, "😀".repeat(2035) + "...truncated");
  const noFk = {
    schema: "s",
    table: "__t",
    attributes: [{ name: "id", parent: undefined }],
    primaryKey: ["id"],
  } as unknown as Heading;
  assert.throws(
    () => jobsDefinition(noFk, { quote: (s: string) => `"${s}"` } as never),
    (e: Error) =>
      e instanceof DataJointError && /no FK-derived primary key attributes/.test(e.message),
  );
});

await onEveryBackend(
  "jobs: declared lazily with DataJoint Python's name, columns and index",
  async (c, backend) => {
    const f = await fixture(c);
    try {
      assert.ok(!(await c.catalog(f.name)).tables.has("~~analysis"), "not declared before use");
      assert.deepEqual(await f.jobs.progress(), {
        pending: 0,
        reserved: 0,
        success: 0,
        error: 0,
        ignore: 0,
        total: 0,
      });
      assert.ok(!(await c.catalog(f.name)).tables.has("~~analysis"), "progress does not declare");
      const heading = await f.jobs.declare();
      assert.equal(f.jobs.tableName, "~~analysis");
      const { info, columns } = await catalogColumns(c, f.name, "~~analysis");
      const expected = expectedColumns(backend, [
        ["subject_id", "int", "integer"],
        ["session_idx", "smallint", "smallint"],
      ]).map((col, i) => i < 2 ? [...col.slice(0, 4), i === 0 ? ":int32:" : ":int16:"] : col);
      assert.deepEqual(columns, expected);
      assert.deepEqual(info.primaryKey, ["subject_id", "session_idx"]);
      assert.deepEqual(info.foreignKeys, [], "no foreign keys: jobs outlive their keys");
      assert.deepEqual(
        info.indexes.map((ix) => [ix.unique, ix.columns]),
        [[false, ["status", "priority", "scheduled_time"]]],
      );
      if (backend !== "mysql") {
        assert.equal(info.indexes[0].name, "idx_~~analysis_status_priority_scheduled_time");
      }
      const q = c.kit.dialect.quote;
      assert.equal(info.comment, `Job queue for ${q(f.name)}.${q("__analysis")}`);
      assert.deepEqual(
        [...((await c.catalog(f.name)).lineage?.get("~~analysis") ?? new Map()).entries()].sort(),
        [
          ["session_idx", `${f.name}.~~analysis.session_idx`],
          ["subject_id", `${f.name}.~~analysis.subject_id`],
        ],
      );
      assert.deepEqual(heading.primaryKey, ["subject_id", "session_idx"]);
      assert.equal(heading.attributes.find((a) => a.name === "error_stack")?.type, "<blob>");
      // The definition it was declared from, line by line as DataJoint Python writes it.
      const target = await c.heading(f.name, "__analysis");
      const text = jobsDefinition(target, c.kit.dialect).definition.split("\n");
      assert.deepEqual(text.slice(0, 5), [
        `# Job queue for ${q(f.name)}.${q("__analysis")}`,
        "subject_id : int32",
        "session_idx : int16",
        "---",
        `status          : ${STATUS_ENUM}`,
      ]);
      assert.equal(text.at(-1), "INDEX (status, priority, scheduled_time)");
      // Declaring again (another handle, another process) leaves the table as it is.
      await f.jobsOf("__analysis").declare();
      assert.deepEqual((await catalogColumns(c, f.name, "~~analysis")).columns, expected);
    } finally {
      await f.drop();
    }
  },
);

await onEveryBackend(
  "jobs: inherited float64, datetime and enum keys (undeclarable by Python on PostgreSQL)",
  async (c, backend) => {
    const f = await fixture(c);
    try {
      await f.probeJobs.declare();
      const { columns } = await catalogColumns(c, f.name, "~~probe_stat");
      const my = backend === "mysql";
      assert.deepEqual(columns.slice(0, 3), [
        ["depth", my ? "double" : "double precision", false, null, ":float64:"],
        ["t", my ? "datetime(3)" : "timestamp(3)", false, null, ":datetime(3):"],
        ["kind", my ? "enum('a','b')" : "enum_dbf08e00", false, null, ":enum('a', 'b'):"],
      ]);
      const key = { depth: 12.5, t: "2024-02-29 10:11:12.345", kind: "b" };
      assert.equal(await f.probeJobs.add([key, { ...key, kind: "a" }]), 2);
      assert.equal(await f.probeJobs.reserve(key), true);
      assert.equal(await f.probeJobs.reserve(key), false);
      await f.probeJobs.error(key, "boom");
      const [err] = await list(f.probeJobs, "error");
      assert.deepEqual([err.depth, err.t, err.kind, err.error_message], [
        12.5,
        "2024-02-29 10:11:12.345",
        "b",
        "boom",
      ]);
      assert.deepEqual(await f.probeJobs.pendingKeys(), [{ ...key, kind: "a" }]);
    } finally {
      await f.drop();
    }
  },
);

await onEveryBackend(
  "jobs: add with priority and delay, pending order, atomic reserve, complete",
  async (c) => {
    const f = await fixture(c);
    const jobs = f.jobs;
    try {
      const k = (s: number, i: number) => ({ subject_id: s, session_idx: i });
      assert.equal(await jobs.add([k(1, 1), k(1, 2)]), 2);
      assert.equal(await jobs.add([k(2, 1)], { priority: 1 }), 1);
      assert.equal(await jobs.add([k(3, 1)], { priority: 0, delay: 3600 }), 1);
      assert.equal(await jobs.add([k(4, 1)], { priority: 9, delay: -5 }), 1);
      assert.equal(
        await jobs.add([k(1, 1), k(2, 1), k(5, 1)], { priority: 2 }),
        1,
        "existing keys are left alone",
      );
      const rows = await raw(c, f.name, "~~analysis", " WHERE subject_id = 1 AND session_idx = 1");
      assert.equal(rows[0].priority, 5, "the configured default priority");
      assert.equal(rows[0].status, "pending");
      // Most urgent first; a delayed job is not ready; a negative delay makes one ready at once.
      assert.deepEqual(await jobs.pendingKeys(), [k(2, 1), k(5, 1), k(1, 1), k(1, 2), k(4, 1)]);
      assert.deepEqual(await jobs.pendingKeys({ priority: 2 }), [k(2, 1), k(5, 1)]);
      assert.deepEqual(await jobs.pendingKeys({ limit: 1 }), [k(2, 1)]);
      // The delay is on the server clock.
      const d = c.kit.dialect;
      const [late] = await c.query<{ ahead: number | string }>(
        d.name === "mysql"
          ? "SELECT TIMESTAMPDIFF(SECOND, CURRENT_TIMESTAMP(3), scheduled_time) AS ahead FROM " +
            `${d.quote(f.name)}.${d.quote("~~analysis")} WHERE subject_id = 3`
          : "SELECT EXTRACT(EPOCH FROM (scheduled_time - LOCALTIMESTAMP(3))) AS ahead FROM " +
            `${d.quote(f.name)}.${d.quote("~~analysis")} WHERE subject_id = 3`,
      );
      assert.ok(Math.abs(Number(late.ahead) - 3600) < 30, `scheduled ${late.ahead} s ahead`);
      assert.equal(await jobs.reserve(k(3, 1)), false, "not before its scheduled time");

      assert.equal(await jobs.reserve(k(2, 1)), true);
      assert.equal(await jobs.reserve(k(2, 1)), false, "a reserved job is not reserved twice");
      assert.equal(await jobs.reserve(k(9, 9)), false, "no such job");
      const [r] = await raw(c, f.name, "~~analysis", " WHERE subject_id = 2");
      assert.equal(r.status, "reserved");
      assert.ok(r.reserved_time !== null);
      assert.deepEqual(await jobs.pendingKeys({ priority: 2 }), [k(5, 1)]);
      assert.deepEqual((await list(jobs, "reserved")).map((j) => j.subject_id), [2]);

      await jobs.complete(k(2, 1), { duration: 1.5 });
      assert.equal((await raw(c, f.name, "~~analysis", " WHERE subject_id = 2")).length, 0);

      const saved = c.config.jobs.keepCompleted;
      c.config.jobs.keepCompleted = true;
      try {
        assert.equal(await jobs.reserve(k(5, 1)), true);
        await jobs.complete(k(5, 1), { duration: 2.25 });
        const [done] = await list(jobs, "success");
        assert.deepEqual([done.subject_id, done.status, done.duration], [5, "success", 2.25]);
        assert.ok(typeof done.completed_time === "string");
      } finally {
        c.config.jobs.keepCompleted = saved;
      }
      assert.deepEqual(await jobs.progress(), {
        pending: 4,
        reserved: 0,
        success: 1,
        error: 0,
        ignore: 0,
        total: 5,
      });
      assert.equal(await jobs.delete("success"), 1);
      await assert.rejects(() => jobs.reserve({ subject_id: 1 }), /lacks session_idx/);
      await assert.rejects(() => jobs.add([{ subject_id: 1, session_idx: 40000 }]), /session_idx/);
    } finally {
      await f.drop();
    }
  },
);

await onEveryBackend(
  "jobs: error keeps a truncated message, the stack as a blob and who failed",
  async (c) => {
    const f = await fixture(c);
    const jobs = f.jobs;
    try {
      const key = { subject_id: 1, session_idx: 1 };
      await jobs.add([key]);
      assert.ok(await jobs.reserve(key));
      const stack = "Error: x\n    at make (file:///w.ts:1:1)";
      await jobs.error(key, "E".repeat(5000), stack);
      const [row] = await raw(c, f.name, "~~analysis");
      assert.equal(row.status, "error");
      assert.equal(String(row.error_message).length, 2047);
      assert.ok(String(row.error_message).endsWith("E...truncated"));
      assert.ok(row.error_stack instanceof Uint8Array);
      assert.equal(
        unpack(row.error_stack as Uint8Array),
        stack,
        "a <blob> DataJoint Python unpacks",
      );
      assert.ok(row.completed_time !== null);
      const d = c.kit.dialect;
      const [{ u }] = await c.query<{ u: string }>(
        d.name === "mysql" ? "SELECT user() AS u" : "SELECT current_user AS u",
      );
      const [{ id }] = await c.query<{ id: number }>(
        d.name === "mysql" ? "SELECT connection_id() AS id" : "SELECT pg_backend_pid() AS id",
      );
      assert.deepEqual([row.user, row.host, row.pid, Number(row.connection_id)], [
        u,
        Deno.hostname(),
        Deno.pid,
        Number(id),
      ]);
      const [listed] = await list(jobs, "error");
      assert.equal(listed.error_stack, stack);
      // An error for a key that has no job yet gets a row; no stack is NULL.
      await jobs.error({ subject_id: 2, session_idx: 1 }, "early");
      const [early] = await raw(c, f.name, "~~analysis", " WHERE subject_id = 2");
      assert.deepEqual([early.status, early.error_message, early.error_stack, early.priority], [
        "error",
        "early",
        null,
        5,
      ]);
      // A message with quotes, backslashes and NUL-free SQL meta characters is stored verbatim.
      const nasty = `it's "quoted" \\ back; DROP TABLE x; --`;
      await jobs.error(key, nasty);
      assert.equal((await list(jobs, "error"))[0].error_message, nasty);
    } finally {
      await f.drop();
    }
  },
);

await onEveryBackend("jobs: ignore, orphaned reservations, delete and drop", async (c) => {
  const f = await fixture(c);
  const jobs = f.jobs;
  try {
    const a = { subject_id: 1, session_idx: 1 };
    const b = { subject_id: 1, session_idx: 2 };
    await jobs.add([a]);
    await jobs.ignore(a);
    await jobs.ignore(b);
    assert.deepEqual((await list(jobs, "ignore")).map((j) => [j.session_idx, j.priority]), [
      [1, 5],
      [
        2,
        5,
      ],
    ]);
    assert.deepEqual(await jobs.pendingKeys(), []);
    assert.equal(await jobs.reserve(a), false, "ignored jobs are not reserved");

    const o = { subject_id: 2, session_idx: 1 };
    await jobs.add([o], { priority: 7 });
    assert.ok(await jobs.reserve(o));
    assert.equal(await jobs.releaseOrphans(3600), 0, "a fresh reservation is no orphan");
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(await jobs.releaseOrphans(1, 3), 1);
    const [back] = await raw(c, f.name, "~~analysis", " WHERE subject_id = 2");
    assert.deepEqual(
      [back.status, back.priority, back.reserved_time, back.host, back.pid, back.user],
      ["pending", 3, null, "", 0, ""],
    );
    assert.deepEqual(await jobs.pendingKeys(), [o]);
    assert.ok(await jobs.reserve(o), "available again");
    await assert.rejects(() => jobs.releaseOrphans(0), DataJointError);

    assert.equal(await jobs.delete(), 3);
    await jobs.drop();
    c.invalidate(f.name);
    assert.ok(!(await c.catalog(f.name)).tables.has("~~analysis"));
    assert.equal((await c.catalog(f.name)).lineage?.get("~~analysis"), undefined);
    await jobs.add([a]);
    assert.deepEqual(await jobs.pendingKeys(), [a], "declared again on use");
  } finally {
    await f.drop();
  }
});

await onEveryBackend(
  "jobs: add and refresh count the jobs added, however a key is spelled",
  async (c) => {
    const name = scratchName("dj_jobs_");
    const lab = makeSchema(name, { connection: c });
    @lab
    class Lot extends Manual {
      static override definition = "lot : decimal(5,3)\nat : datetime";
    }
    @lab
    class LotStat extends Computed {
      static override definition = "-> Lot\n---\nn : int32";
      make(): Promise<void> {
        return Promise.resolve();
      }
    }
    await lab.declare();
    const jobs = LotStat.jobs;
    try {
      assert.equal(await jobs.add([{ lot: "1.500", at: "2024-01-01 00:00:00" }]), 1);
      // The stored row spelled otherwise: the server skips it, and so does the count.
      assert.equal(await jobs.add([{ lot: 1.5, at: "2024-01-01" }]), 0);
      assert.equal(
        await jobs.add([{ lot: "1.5", at: "2024-01-01 00:00" }, { lot: 2, at: "2024-01-02" }]),
        1,
      );
      // One new row given twice in one call, in two spellings: added once.
      assert.equal(
        await jobs.add([{ lot: 3, at: "2024-01-03" }, { lot: "3.000", at: "2024-01-03 00:00:00" }]),
        1,
      );
      assert.equal((await jobs.progress()).pending, 3);
      // ignore and error of a stored job spelled otherwise change it and add none.
      await jobs.ignore({ lot: 1.5, at: "2024-01-01" });
      await jobs.error({ lot: 2, at: "2024-01-02 00:00:00.000" }, "boom");
      assert.deepEqual(await jobs.progress(), {
        pending: 1,
        reserved: 0,
        success: 0,
        error: 1,
        ignore: 1,
        total: 3,
      });
      // refresh adds the key source's keys that have no job, and counts just those.
      await Lot.insert([
        { lot: "1.5", at: "2024-01-01" },
        { lot: 2, at: "2024-01-02" },
        { lot: 3, at: "2024-01-03" },
        { lot: "4.25", at: "2024-01-04 12:00:00" },
      ]);
      assert.equal((await jobs.refresh()).added, 1);
      assert.equal((await jobs.refresh()).added, 0);
      assert.equal((await jobs.progress()).total, 4);
    } finally {
      await lab.drop({ cascade: true });
    }
  },
);

await onEveryBackend(
  "jobs: a jobs table declared by DataJoint Python (native key types) is used as is",
  async (c) => {
    const f = await fixture(c);
    try {
      // Python copies the inherited columns' SQL types, without markers.
      const python = `# Job queue for ${c.kit.dialect.quote(f.name)}.${
        c.kit.dialect.quote("__analysis")
      }
      subject_id : int
      session_idx : smallint
      ---
      ${
        (await f.jobs.declare(),
          jobsDefinition(await c.heading(f.name, "__analysis"), c.kit.dialect))
          .definition.split("---\n")[1]
      }`;
      await f.jobs.drop();
      await new Schema(f.name, { connection: c }).declareNamed("~~analysis", python);
      const { columns } = await catalogColumns(c, f.name, "~~analysis");
      assert.deepEqual(columns.slice(0, 2).map((col) => col[4]), ["", ""], "no markers");
      const jobs = f.jobsOf("__analysis");
      const key = { subject_id: 7, session_idx: 3 };
      assert.equal(await jobs.add([key]), 1);
      assert.ok(await jobs.reserve(key));
      await jobs.error(key, "failed", "stack");
      const [row] = await list(jobs, "error");
      assert.deepEqual([row.subject_id, row.session_idx, row.error_stack], [7, 3, "stack"]);
    } finally {
      await f.drop();
    }
  },
  { last: true },
);

for (const backend of ["mysql", "postgres"] as const) {
  await serverTest(
    backend,
    `${backend}: jobs: workers racing to declare and reserve, one wins each job`,
    async () => {
      const conns = await Promise.all([1, 2, 3, 4].map(() => openTestConnection(backend)));
      const f = await fixture(conns[0]);
      try {
        const handles = conns.map((conn) => f.jobsOf("__analysis", conn));
        await Promise.all(handles.map((h) => h.declare()));
        const keys = Array.from({ length: 20 }, (_, i) => ({ subject_id: i, session_idx: 0 }));
        const added = await Promise.all(handles.map((h) => h.add(keys)));
        assert.equal(
          added.reduce((s, n) => s + n, 0),
          20,
          "each job counted by the worker that added it",
        );
        assert.equal((await handles[0].progress()).pending, 20);
        const won = await Promise.all(
          handles.map(async (h) => {
            const mine: number[] = [];
            for (const k of keys) if (await h.reserve(k)) mine.push(k.subject_id);
            return mine;
          }),
        );
        assert.deepEqual(won.flat().sort((a, b) => a - b), keys.map((k) => k.subject_id));
        const ids = await raw(conns[0], f.name, "~~analysis");
        const byConn = new Map(won.map((m, i) => [i, m]));
        for (const r of ids) {
          const i = [...byConn].find(([, m]) => m.includes(r.subject_id as number))![0];
          const [{ id }] = await conns[i].query<{ id: number }>(
            backend === "mysql" ? "SELECT connection_id() AS id" : "SELECT pg_backend_pid() AS id",
          );
          assert.equal(Number(r.connection_id), Number(id), "each row names its worker");
        }
      } finally {
        await f.drop();
        for (const conn of conns) await conn.close();
      }
    },
  );
}
