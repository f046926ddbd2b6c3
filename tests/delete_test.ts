/**
 * delete(), deleteQuick() and drop() on MariaDB, PostgreSQL and PGlite: multi-level and
 * cross-schema cascades, renamed foreign keys reached by two paths, master/part rules, prompts,
 * transactions and rollback midway, restrictions that name the deleted table or its dependants
 * (MySQL error 1093), refusals.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Connection } from "../lib/connection.ts";
import type { TableCount } from "../lib/delete.ts";
import { DataJointError, IntegrityError, QueryError } from "../lib/errors.ts";
import { Query, Top } from "../lib/query.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Computed, Lookup, Manual, Part } from "../lib/table.ts";
import { onEveryBackend, openTestConnection, type TestBackend } from "./_connections.ts";
import { mysqlSettings, pgSettings, scratchName, serverTest } from "./_servers.ts";

async function fixture(c: Connection) {
  const lab = makeSchema(scratchName("dj_del_"), { connection: c });
  @lab
  class Subject extends Manual {
    static override definition = `
      subject_id : int32
      ---
      name : varchar(16)
    `;
  }
  @lab
  class Stimulus extends Lookup {
    static override definition = `
      stim : varchar(8)
    `;
    static contents = [{ stim: "a" }, { stim: "b" }];
  }
  // Parts as class expressions, registered by a call (see query_test.ts).
  class Session extends Manual {
    static override definition = `
      -> Subject
      session_idx : int16
      ---
      note = '' : varchar(16)
    `;
    static Trial = class Trial extends Part {
      static override definition = `
        -> master
        trial : int16
        ---
        -> Stimulus
      `;
    };
    static Note = class Note extends Part {
      static override definition = `
        -> master
        ---
        text : varchar(16)
      `;
    };
  }
  lab(Session);
  @lab
  class Recording extends Manual {
    static override definition = `
      -> Session
      rec : int16
    `;
  }
  @lab
  class Pair extends Manual {
    static override definition = `
      -> Subject.proj(donor='subject_id')
      -> Subject.proj(recipient='subject_id')
      ---
      label = '' : varchar(8)
    `;
  }
  const other = makeSchema(scratchName("dj_del_other_"), { connection: c, context: { lab } });
  @other
  class Analysis extends Computed {
    static override definition = `
      -> lab.Recording
      ---
      value : float64
    `;
  }
  await lab.declare();
  await other.declare();
  await Subject.insert([
    { subject_id: 1, name: "one" },
    { subject_id: 2, name: "two" },
    { subject_id: 3, name: "three" },
  ]);
  await Session.insert([
    { subject_id: 1, session_idx: 1 },
    { subject_id: 1, session_idx: 2 },
    { subject_id: 2, session_idx: 1 },
    { subject_id: 3, session_idx: 1 },
  ]);
  await Session.Trial.insert([
    { subject_id: 1, session_idx: 1, trial: 1, stim: "a" },
    { subject_id: 1, session_idx: 1, trial: 2, stim: "b" },
    { subject_id: 1, session_idx: 2, trial: 1, stim: "a" },
    { subject_id: 2, session_idx: 1, trial: 1, stim: "b" },
    { subject_id: 3, session_idx: 1, trial: 1, stim: "b" },
  ]);
  await Session.Note.insert([
    { subject_id: 1, session_idx: 1, text: "x" },
    { subject_id: 2, session_idx: 1, text: "y" },
  ]);
  await Recording.insert([
    { subject_id: 1, session_idx: 1, rec: 1 },
    { subject_id: 1, session_idx: 2, rec: 1 },
    { subject_id: 2, session_idx: 1, rec: 1 },
  ]);
  await Analysis.insert(
    [
      { subject_id: 1, session_idx: 1, rec: 1, value: 0.5 },
      { subject_id: 1, session_idx: 2, rec: 1, value: 1.5 },
      { subject_id: 2, session_idx: 1, rec: 1, value: 2.5 },
    ],
    { allowDirectInsert: true },
  );
  await Pair.insert([
    { donor: 1, recipient: 2 },
    { donor: 2, recipient: 3 },
    { donor: 3, recipient: 1 },
  ]);
  const drop = async () => {
    await other.drop({ cascade: true });
    await lab.drop({ cascade: true });
  };
  return { lab, other, Subject, Stimulus, Session, Recording, Pair, Analysis, drop };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

/** Rows per table, to compare whole states. */
async function counts(f: Fixture): Promise<Record<string, number>> {
  return {
    subject: await f.Subject.count(),
    stimulus: await f.Stimulus.count(),
    session: await f.Session.count(),
    trial: await f.Session.Trial.count(),
    note: await f.Session.Note.count(),
    recording: await f.Recording.count(),
    pair: await f.Pair.count(),
    analysis: await f.Analysis.count(),
  };
}

const FULL = {
  subject: 3,
  stimulus: 2,
  session: 4,
  trial: 5,
  note: 2,
  recording: 3,
  pair: 3,
  analysis: 3,
};

function keys(rows: Record<string, unknown>[], ...names: string[]): string[] {
  return rows.map((r) => names.map((n) => String(r[n])).join("/")).sort();
}

await onEveryBackend(
  "delete: multi-level cascade across schemas, counts to the prompt",
  async (c) => {
    const f = await fixture(c);
    try {
      let seen: TableCount[] = [];
      const n = await f.Subject.restrict({ subject_id: 1 }).delete({
        prompt: (counts) => {
          seen = counts;
          return true;
        },
      });
      assert.equal(n, 1);
      assert.deepEqual(await counts(f), {
        subject: 2,
        stimulus: 2,
        session: 2,
        trial: 2,
        note: 1,
        recording: 1,
        pair: 1, // (1,2) and (3,1) referenced subject 1, as donor or as recipient
        analysis: 1, // in the other schema
      });
      assert.deepEqual(keys(await f.Pair.toDicts(), "donor", "recipient"), ["2/3"]);
      const byTable = Object.fromEntries(seen.map((t) => [`${t.schema}.${t.table}`, t.count]));
      assert.deepEqual(byTable, {
        [`${f.lab.name}.subject`]: 1,
        [`${f.lab.name}.session`]: 2,
        [`${f.lab.name}.session__trial`]: 3,
        [`${f.lab.name}.session__note`]: 1,
        [`${f.lab.name}.recording`]: 2,
        [`${f.lab.name}.pair`]: 2,
        [`${f.other.name}.__analysis`]: 2,
      });
      // Parents come before their children in the prompt's list.
      const order = seen.map((t) => t.table);
      assert.equal(order[0], "subject");
      assert.ok(order.indexOf("session") < order.indexOf("recording"));
      assert.ok(order.indexOf("recording") < order.indexOf("__analysis"));
      // Nothing matches: no prompt, 0.
      let asked = false;
      assert.equal(
        await f.Subject.restrict({ subject_id: 99 }).delete({ prompt: () => (asked = true) }),
        0,
      );
      assert.equal(asked, false);
    } finally {
      await f.drop();
    }
  },
);

await onEveryBackend("delete: renamed foreign keys, a table reached by two paths", async (c) => {
  const f = await fixture(c);
  try {
    // Pair refers to Subject twice (donor, recipient): either path deletes the pair.
    assert.equal(await f.Subject.restrict({ subject_id: 2 }).delete(), 1);
    assert.deepEqual(keys(await f.Pair.toDicts(), "donor", "recipient"), ["3/1"]);
    assert.deepEqual(keys(await f.Session.toDicts(), "subject_id", "session_idx"), [
      "1/1",
      "1/2",
      "3/1",
    ]);
    assert.deepEqual(keys(await f.Analysis.toDicts(), "subject_id", "session_idx"), [
      "1/1",
      "1/2",
    ]);
    // Deleting the whole table: everything below goes; Stimulus (a parent) stays.
    assert.equal(await f.Subject.delete(), 2);
    assert.deepEqual(await counts(f), {
      subject: 0,
      stimulus: 2,
      session: 0,
      trial: 0,
      note: 0,
      recording: 0,
      pair: 0,
      analysis: 0,
    });
  } finally {
    await f.drop();
  }
});

await onEveryBackend("delete: prompt declines (sync and async), transactions", async (c) => {
  const f = await fixture(c);
  try {
    assert.equal(await f.Subject.restrict({ subject_id: 1 }).delete({ prompt: () => false }), 0);
    assert.deepEqual(await counts(f), FULL);
    assert.equal(
      await f.Session.restrict({ subject_id: 2 }).delete({ prompt: () => Promise.resolve(false) }),
      0,
    );
    assert.deepEqual(await counts(f), FULL);
    assert.equal(c.inTransaction, false);
    // Inside an open transaction the delete joins it: the outer rollback undoes it.
    await assert.rejects(
      c.transaction(async () => {
        assert.equal(await f.Recording.restrict({ subject_id: 2 }).delete(), 1);
        assert.equal(await f.Analysis.count(), 2);
        throw new Error("outer failure");
      }),
      /outer failure/,
    );
    assert.deepEqual(await counts(f), FULL);
    // ... and a prompt there is refused (committing is the outer code's decision).
    await assert.rejects(
      c.transaction(() => f.Recording.delete({ prompt: () => true })),
      (e: unknown) => e instanceof DataJointError && /open transaction/.test(e.message),
    );
    await assert.rejects(
      f.Recording.delete({ transaction: false, prompt: () => true }),
      (e: unknown) => e instanceof DataJointError && /own transaction/.test(e.message),
    );
    assert.deepEqual(await counts(f), FULL);
    // Accepted, asynchronously.
    assert.equal(
      await f.Session.restrict({ subject_id: 3 }).delete({ prompt: async () => await true }),
      1,
    );
    assert.equal(await f.Session.count(), 3);
    assert.equal(await f.Session.Trial.count(), 4);
  } finally {
    await f.drop();
  }
});

/** A trigger that makes every delete from `table` fail. */
async function protect(c: Connection, backend: TestBackend, schema: string, table: string) {
  const d = c.kit.dialect;
  const full = `${d.quote(schema)}.${d.quote(table)}`;
  if (backend === "mysql") {
    await c.execute(
      `CREATE TRIGGER ${d.quote(schema)}.${
        d.quote("protect_" + table)
      } BEFORE DELETE ON ${full} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'rows are protected'`,
    );
    return;
  }
  await c.execute(
    `CREATE FUNCTION ${
      d.quote(schema)
    }.protect() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'rows are protected'; END $$`,
  );
  await c.execute(
    `CREATE TRIGGER protect BEFORE DELETE ON ${full} FOR EACH ROW EXECUTE FUNCTION ${
      d.quote(schema)
    }.protect()`,
  );
}

await onEveryBackend("delete: a failure midway rolls everything back", async (c, backend) => {
  const f = await fixture(c);
  try {
    // The root table is deleted from last: by then every descendant has lost its rows.
    await protect(c, backend, f.lab.name, "subject");
    await assert.rejects(
      f.Subject.restrict({ subject_id: 1 }).delete(),
      (e: unknown) => e instanceof QueryError && /protected/.test(e.message),
    );
    assert.equal(c.inTransaction, false);
    assert.deepEqual(await counts(f), FULL);
    // Without a transaction, what went before the failure stays deleted (documented).
    await assert.rejects(
      f.Subject.restrict({ subject_id: 1 }).delete({ transaction: false }),
      /protected/,
    );
    assert.deepEqual(await counts(f), {
      ...FULL,
      session: 2,
      trial: 2,
      note: 1,
      recording: 1,
      pair: 1,
      analysis: 1,
    });
  } finally {
    await f.drop();
  }
});

await onEveryBackend("delete: master/part rules (enforce, ignore, cascade)", async (c) => {
  const f = await fixture(c);
  try {
    // A part on its own is refused, with the advice.
    await assert.rejects(f.Session.Trial.delete(), (e: unknown) => {
      assert.ok(e instanceof DataJointError);
      assert.match(e.message, /part table .*session__trial.* master .*session/);
      assert.match(e.message, /partIntegrity: "ignore"/);
      assert.match(e.message, /partIntegrity: "cascade"/);
      return true;
    });
    // Parts reached from another parent while their masters stay: refused, rolled back.
    await assert.rejects(f.Stimulus.restrict({ stim: "b" }).delete(), (e: unknown) => {
      assert.ok(e instanceof DataJointError);
      assert.match(e.message, /session__trial/);
      assert.match(e.message, /nothing was deleted/);
      return true;
    });
    assert.deepEqual(await counts(f), FULL);
    // Without a transaction to roll back, the same is found before anything is deleted.
    await assert.rejects(
      f.Stimulus.restrict({ stim: "b" }).delete({ transaction: false }),
      /session__trial/,
    );
    assert.deepEqual(await counts(f), FULL);
    // ignore: the part rows alone.
    assert.equal(
      await f.Session.Trial.restrict({ trial: 2 }).delete({ partIntegrity: "ignore" }),
      1,
    );
    assert.equal(await f.Session.count(), 4);
    assert.equal(await f.Session.Trial.count(), 4);
    // Deleting masters takes their parts, in enforce mode too.
    assert.equal(await f.Session.restrict({ subject_id: 3 }).delete(), 1);
    assert.equal(await f.Session.Trial.count(), 3);
    // cascade from a part: its masters go, with their other parts and everything below them.
    assert.equal(
      await f.Session.Trial.restrict({ subject_id: 2 }).delete({ partIntegrity: "cascade" }),
      1,
    );
    assert.deepEqual(keys(await f.Session.toDicts(), "subject_id", "session_idx"), ["1/1", "1/2"]);
    assert.equal(await f.Session.Note.count(), 1);
    assert.equal(await f.Analysis.count(), 2);
    // cascade from another parent: Stimulus "a" is in trials of sessions 1/1 and 1/2.
    let seen: TableCount[] = [];
    assert.equal(
      await f.Stimulus.restrict({ stim: "a" }).delete({
        partIntegrity: "cascade",
        prompt: (counts) => {
          seen = counts;
          return true;
        },
      }),
      1,
    );
    assert.deepEqual(await counts(f), {
      subject: 3,
      stimulus: 1,
      session: 0,
      trial: 0,
      note: 0,
      recording: 0,
      pair: 3,
      analysis: 0,
    });
    const byTable = Object.fromEntries(seen.map((t) => [t.table, t.count]));
    assert.equal(byTable["#stimulus"], 1);
    assert.equal(byTable.session, 2);
    assert.equal(byTable.session__trial, 2);
    assert.equal(byTable.session__note, 1);
    assert.equal(byTable.__analysis, 2);
  } finally {
    await f.drop();
  }
});

await onEveryBackend(
  "delete: restrictions naming the table itself or its dependants",
  async (c) => {
    const f = await fixture(c);
    try {
      // Subjects that have a session #2: the sessions go before the subjects, so the subjects'
      // keys are read first (otherwise no subject would match any more when its turn comes).
      assert.equal(await f.Subject.restrict(f.Session.restrict({ session_idx: 2 })).delete(), 1);
      assert.deepEqual(keys(await f.Subject.toDicts(), "subject_id"), ["2", "3"]);
      assert.deepEqual(keys(await f.Session.toDicts(), "subject_id", "session_idx"), [
        "2/1",
        "3/1",
      ]);
      // The deleted table in its own restriction (MySQL error 1093 unless materialised).
      assert.equal(
        await f.Subject.restrict(f.Subject.restrict({ name: "three" }).proj()).delete(),
        1,
      );
      assert.deepEqual(keys(await f.Subject.toDicts(), "subject_id"), ["2"]);
      assert.equal(
        await f.Analysis.restrict(f.Analysis.restrict("value > 1").proj()).deleteQuick(),
        1,
      );
      assert.equal(await f.Analysis.count(), 0);
      assert.equal(
        await f.Session.minus(f.Session.minus(f.Recording).proj()).delete(),
        1,
        "sessions that have recordings, through an antijoin of the table with itself",
      );
      assert.equal(await f.Session.count(), 0);
      // A Top restriction deletes exactly its rows.
      await f.Subject.insert([{ subject_id: 5, name: "five" }, { subject_id: 6, name: "six" }]);
      await f.Pair.insert([{ donor: 5, recipient: 6 }, { donor: 6, recipient: 5 }]);
      assert.equal(
        await f.Pair.restrict(new Top({ limit: 1, orderBy: "donor DESC" })).delete(),
        1,
      );
      assert.deepEqual(keys(await f.Pair.toDicts(), "donor", "recipient"), ["5/6"]);
    } finally {
      await f.drop();
    }
  },
);

await onEveryBackend("deleteQuick: one statement, no cascade; refusals", async (c) => {
  const f = await fixture(c);
  try {
    assert.equal(await f.Analysis.restrict({ subject_id: 1 }).deleteQuick(), 2);
    assert.equal(await f.Analysis.count(), 1);
    await assert.rejects(f.Subject.restrict({ subject_id: 1 }).deleteQuick(), (e: unknown) => {
      assert.ok(
        e instanceof IntegrityError,
        `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
      );
      assert.match(e.message, /does not cascade: use delete\(\)/);
      return true;
    });
    assert.equal(await f.Subject.count(), 3);
    // Not a restriction of one table.
    for (
      const q of [
        f.Session.join(f.Subject),
        f.Session.proj(),
        f.Subject.aggr(f.Session, { n: "count(*)" }),
      ]
    ) {
      await assert.rejects(q.delete(), /restriction of one table/);
      await assert.rejects(q.deleteQuick(), /restriction of one table/);
    }
    await assert.rejects(
      f.Subject.delete({ partIntegrity: "maybe" as never }),
      /partIntegrity must be "enforce", "ignore" or "cascade"/,
    );
    await assert.rejects(f.Subject.delete({ force: true } as never), /unknown option "force"/);
    assert.deepEqual(await counts(f), { ...FULL, analysis: 1 });
  } finally {
    await f.drop();
  }
});

await onEveryBackend("drop: part rules, restricted queries, cascade, prompt", async (c) => {
  const f = await fixture(c);
  try {
    await assert.rejects(f.Session.Trial.drop(), (e: unknown) => {
      assert.ok(e instanceof DataJointError);
      assert.match(e.message, /part table .*session__trial.* without its master/);
      assert.match(e.message, /partIntegrity: "ignore"/);
      return true;
    });
    await assert.rejects(f.Session.drop(), /depend on it.*cascade: true/s);
    await assert.rejects(f.Session.restrict({ subject_id: 1 }).drop(), /restricted/);
    await assert.rejects(
      f.Session.drop({ partIntegrity: "cascade" as never }),
      /"enforce" or "ignore"/,
    );
    // Declined: nothing dropped.
    let seen: TableCount[] = [];
    await f.Session.drop({
      cascade: true,
      prompt: (counts) => {
        seen = counts;
        return false;
      },
    });
    assert.deepEqual(await counts(f), FULL);
    assert.deepEqual(
      Object.fromEntries(seen.map((t) => [t.table, t.count])),
      { session: 4, session__trial: 5, session__note: 2, recording: 3, __analysis: 3 },
    );
    // A part alone with partIntegrity "ignore".
    await f.Session.Note.drop({ partIntegrity: "ignore" });
    c.invalidate();
    assert.equal((await c.catalog(f.lab.name)).tables.has("session__note"), false);
    // Through the master: its parts and dependants (in the other schema too) go with it.
    await f.Session.drop({ cascade: true });
    c.invalidate();
    const left = [...(await c.catalog(f.lab.name)).tables.keys()].filter((t) => !t.startsWith("~"));
    assert.deepEqual(left.sort(), ["#stimulus", "pair", "subject"]);
    assert.equal((await c.catalog(f.other.name)).tables.has("__analysis"), false);
    // The class declares its table again on next use.
    assert.equal(await f.Session.count(), 0);
    // A query of a whole table drops too.
    await Query.table(f.lab.name, "pair", () => Promise.resolve(c)).drop();
    c.invalidate();
    assert.equal((await c.catalog(f.lab.name)).tables.has("pair"), false);
  } finally {
    await f.drop();
  }
});

await onEveryBackend("delete: frozen keys are applied in chunks", async (c) => {
  const lab = makeSchema(scratchName("dj_del_many_"), { connection: c });
  @lab
  class Parent extends Manual {
    static override definition = `
      parent_id : int32
    `;
  }
  @lab
  class Child extends Manual {
    static override definition = `
      -> Parent
      k : int16
    `;
  }
  try {
    await lab.declare();
    const n = 4500; // three chunks of keys
    await Parent.insert(Array.from({ length: n + 10 }, (_, i) => ({ parent_id: i })));
    await Child.insert(Array.from({ length: n }, (_, i) => ({ parent_id: i, k: 1 })));
    await Child.insert(Array.from({ length: n }, (_, i) => ({ parent_id: i, k: 2 })));
    let seen: TableCount[] = [];
    // Parents that have children: the children go first, so the parents' keys are read before.
    const deleted = await Parent.restrict(Child).delete({
      prompt: (counts) => {
        seen = counts;
        return true;
      },
    });
    assert.equal(deleted, n);
    assert.deepEqual(seen.map((t) => [t.table, t.count]), [["parent", n], ["child", 2 * n]]);
    assert.equal(await Parent.count(), 10);
    assert.equal(await Child.count(), 0);
  } finally {
    await lab.drop({ cascade: true });
  }
});

// A foreign key from a table this connection cannot see: MySQL lists only constraints on tables
// the user has privileges for (PostgreSQL's catalog shows every constraint, so there the cascade
// sees the table and the delete fails on the missing privilege instead).
for (const backend of ["mysql", "postgres"] as const) {
  await serverTest(
    backend,
    `${backend}: delete blocked by a table the cascade cannot see`,
    async () => {
      const admin = await openTestConnection(backend);
      const f = await fixture(admin);
      const user = scratchName("dj_del_user_");
      const password = "Del-" + scratchName("");
      const d = admin.kit.dialect;
      const lab = d.quote(f.lab.name);
      let userConn: Connection | undefined;
      try {
        if (backend === "mysql") {
          await admin.execute(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
          await admin.execute(`GRANT ALL PRIVILEGES ON ${lab}.* TO '${user}'@'%'`);
        } else {
          await admin.execute(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
          await admin.execute(`GRANT USAGE ON SCHEMA ${lab} TO ${user}`);
          await admin.execute(`GRANT ALL ON ALL TABLES IN SCHEMA ${lab} TO ${user}`);
        }
        const s = backend === "mysql" ? mysqlSettings() : pgSettings();
        userConn = await Connection.open({
          env: {},
          ignoreFile: true,
          overrides: {
            database: {
              backend: backend === "mysql" ? "mysql" : "postgresql",
              host: s.host,
              port: s.port,
              user,
              password,
              name: s.database,
            },
          },
        });
        const subjects = Query.table(f.lab.name, "subject", () => Promise.resolve(userConn!));
        await assert.rejects(subjects.restrict({ subject_id: 1 }).delete(), (e: unknown) => {
          assert.ok(e instanceof QueryError, String(e));
          if (backend === "mysql") {
            assert.ok(e instanceof IntegrityError);
            assert.match(e.message, /blocked by a foreign key from .* could not see/);
            assert.match(e.message, /nothing was deleted/);
          }
          return true;
        });
        assert.deepEqual(await counts(f), FULL);
      } finally {
        await userConn?.close();
        await f.drop();
        if (backend === "mysql") await admin.execute(`DROP USER IF EXISTS '${user}'@'%'`);
        else {
          await admin.execute(`DROP OWNED BY ${user}`).catch(() => {});
          await admin.execute(`DROP ROLE IF EXISTS ${user}`);
        }
        await admin.close();
      }
    },
  );
}

// Keeps the shared PGlite instance's lifetime rule: the last test closes it.
await onEveryBackend("delete: unrestricted table without dependants", async (c) => {
  const f = await fixture(c);
  try {
    assert.equal(await f.Pair.delete(), 3);
    assert.equal(await f.Pair.count(), 0);
  } finally {
    await f.drop();
  }
}, { last: true });
