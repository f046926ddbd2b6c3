/**
 * The minimal insert and fetch path on MariaDB, PostgreSQL and PGlite: core-type values round-trip
 * as documented, insert options (`skipDuplicates`, `replace`, `ignoreExtraFields`,
 * `allowDirectInsert`), whole-batch atomicity, clear errors naming table and attribute, and the
 * fetch side (restriction by values and NULL, order, limit/offset, keys, count, fetch1). An insert
 * of rows or from a query returns the same count on every backend: rows inserted, plus rows
 * `replace` overwrote, each counted once even when workers insert the same rows at once.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Connection } from "../lib/connection.ts";
import {
  DataJointError,
  DuplicateError,
  IntegrityError,
  MissingAttributeError,
  UnknownAttributeError,
} from "../lib/errors.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Computed, Manual } from "../lib/table.ts";
import { type InsertOptions, insertRows } from "../lib/insert.ts";
import { insertSelect } from "../lib/insert_select.ts";
import { Query } from "../lib/query.ts";
import { onEveryBackend, openTestConnection } from "./_connections.ts";
import { scratchName, serverTest } from "./_servers.ts";
import { scratchStores } from "./_stores.ts";

async function fixture(c: Connection) {
  const name = scratchName("dj_rows_");
  const lab = makeSchema(name, { connection: c });
  @lab
  class Animal extends Manual {
    static override definition = `
      animal_id : int32
      ---
      name : varchar(32)
      sex = 'U' : enum('M', 'F', 'U')
      born = null : date
      seen = null : datetime(3)
      weight = null : decimal(6,2)
      alive = 1 : bool
      tag = null : uuid
      big = 0 : int64
      notes = null : json
      raw = null : bytes
    `;
  }
  @lab
  class Measure extends Manual {
    static override definition = `
      -> Animal
      measure_id : int16
      ---
      value : float64
    `;
  }
  @lab
  class Summary extends Computed {
    static override definition = `
      -> Animal
      ---
      n : int32
    `;
  }
  await lab.declare();
  return { Animal, Measure, Summary, drop: () => lab.drop({ cascade: true }) };
}

await onEveryBackend("insert and fetch: core types round-trip as documented", async (c) => {
  const { Animal, drop } = await fixture(c);
  try {
    await Animal.insert([
      {
        animal_id: 1,
        name: "Mus",
        sex: "F",
        born: "2024-02-29",
        seen: "2024-03-01 12:13:14.5",
        weight: "23.45",
        alive: false,
        tag: "12345678-1234-5678-1234-567812345678",
        big: 2n ** 62n,
        notes: { rate: 30000, list: [1, "two", null], nested: { é: true } },
        raw: new Uint8Array([0, 255, 7]),
      },
      { animal_id: 2, name: "Rattus" },
    ]);
    const [a, b] = await Animal.toDicts({ orderBy: "animal_id" });
    assert.deepEqual(a, {
      animal_id: 1,
      name: "Mus",
      sex: "F",
      born: "2024-02-29",
      seen: "2024-03-01 12:13:14.5",
      weight: "23.45",
      alive: false,
      tag: "12345678-1234-5678-1234-567812345678",
      big: 2n ** 62n,
      notes: { rate: 30000, list: [1, "two", null], nested: { é: true } },
      raw: new Uint8Array([0, 255, 7]),
    });
    assert.deepEqual(b, {
      animal_id: 2,
      name: "Rattus",
      sex: "U",
      born: null,
      seen: null,
      weight: null,
      alive: true,
      tag: null,
      big: 0n,
      notes: null,
      raw: null,
    });
    // Restrictions bind their values with the attribute's type (a uuid, a bool, NULL).
    assert.equal(
      await Animal.restrict({ tag: "12345678-1234-5678-1234-567812345678" }).fetch1("name"),
      "Mus",
    );
    assert.equal(await Animal.restrict({ alive: true }).fetch1("animal_id"), 2);
    assert.equal(await Animal.restrict({ born: null }).fetch1("animal_id"), 2);
    assert.deepEqual(await Animal.keys(), [{ animal_id: 1 }, { animal_id: 2 }]);
    assert.deepEqual(
      await Animal.toDicts({ orderBy: ["animal_id DESC"], limit: 1, offset: 1 }).then((r) =>
        r.map((x) => x.animal_id)
      ),
      [1],
    );
    assert.equal(await Animal.restrict({ sex: "M" }).count(), 0);
    await assert.rejects(() => Animal.fetch1(), /exactly one row/);
    await assert.rejects(() => Animal.restrict({ nope: 1 }).toDicts(), UnknownAttributeError);
  } finally {
    await drop();
  }
});

await onEveryBackend(
  "insert: options, atomic batches and errors that say what to do",
  async (c) => {
    const { Animal, Measure, Summary, drop } = await fixture(c);
    try {
      await Animal.insert1({ animal_id: 1, name: "first" });
      await assert.rejects(
        () => Animal.insert1({ animal_id: 1, name: "again" }),
        (e: unknown) =>
          e instanceof DuplicateError && e.message.split("skipDuplicates").length === 2 &&
          !e.message.includes(".."),
      );
      // The skipped row is not counted.
      assert.equal(
        await Animal.insert([{ animal_id: 1, name: "again" }], { skipDuplicates: true }),
        0,
      );
      assert.equal(await Animal.restrict({ animal_id: 1 }).fetch1("name"), "first");
      await Animal.insert1({ animal_id: 1, name: "replaced", sex: "M" }, { replace: true });
      assert.deepEqual(
        await Animal.restrict({ animal_id: 1 }).fetch1("name", "sex"),
        ["replaced", "M"],
      );

      // One bad row in a batch: none of the batch goes in.
      await assert.rejects(
        () =>
          Animal.insert([
            { animal_id: 10, name: "ok" },
            { animal_id: 11, name: "ok too" },
            { animal_id: 10, name: "duplicate inside the batch" },
          ]),
        DuplicateError,
      );
      assert.equal(await Animal.count(), 1);

      await assert.rejects(
        () => Animal.insert1({ animal_id: 3, name: "x", colour: "brown" }),
        (e: unknown) => e instanceof UnknownAttributeError && /ignoreExtraFields/.test(e.message),
      );
      await Animal.insert1({ animal_id: 3, name: "x", colour: "brown" }, {
        ignoreExtraFields: true,
      });
      await assert.rejects(
        () => Animal.insert1({ animal_id: 4 }),
        (e: unknown) => e instanceof MissingAttributeError && /name/.test(e.message),
      );
      await assert.rejects(
        () => Animal.insert1({ name: "no key" }),
        (e: unknown) => e instanceof MissingAttributeError && /animal_id/.test(e.message),
      );
      // null asks for the default, as DataJoint's None does (reference §1.8): the declared
      // default of a non-nullable attribute, NULL of a nullable one; a required attribute
      // without default is missing.
      await Animal.insert1({ animal_id: 6, name: "defaults", sex: null, alive: null, born: null });
      assert.deepEqual(
        await Animal.restrict({ animal_id: 6 }).fetch1("sex", "alive", "born"),
        ["U", true, null],
      );
      await assert.rejects(
        () => Animal.insert1({ animal_id: 7, name: null }),
        (e: unknown) => e instanceof MissingAttributeError && /name/.test(e.message),
      );
      await assert.rejects(
        () => Animal.insert1({ animal_id: null, name: "null key" }),
        (e: unknown) => e instanceof MissingAttributeError && /animal_id/.test(e.message),
      );
      await Animal.restrict({ animal_id: 6 }).deleteQuick();
      // An int64 beyond 2^53 is exact only as a bigint: a number there is refused, saying so.
      await assert.rejects(
        () => Animal.insert1({ animal_id: 8, name: "big", big: 2 ** 60 }),
        (e: unknown) =>
          e instanceof DataJointError && /big\b/.test(e.message) && /2\^53/.test(e.message),
      );
      await Animal.insert1({ animal_id: 8, name: "big", big: 2n ** 60n + 1n });
      assert.equal(await Animal.restrict({ big: 2n ** 60n + 1n }).fetch1("big"), 2n ** 60n + 1n);
      await Animal.restrict({ animal_id: 8 }).deleteQuick();
      await assert.rejects(
        () => Animal.insert1({ animal_id: 5, name: "x", sex: "?" }),
        (e: unknown) =>
          e instanceof DataJointError && /sex/.test(e.message) && /'M'/.test(e.message),
      );
      await assert.rejects(
        () => Animal.insert([[5, "x"] as unknown as Record<string, unknown>]),
        /not an object/,
      );
      // Foreign keys are enforced by the server and reported with the table.
      await assert.rejects(
        () => Measure.insert1({ animal_id: 99, measure_id: 1, value: 1.5 }),
        (e: unknown) => e instanceof IntegrityError && /measure/.test(e.message),
      );
      await Measure.insert1({ animal_id: 1, measure_id: 1, value: 1.5 });

      // Auto-populated tables refuse direct inserts unless asked.
      await assert.rejects(
        () => Summary.insert1({ animal_id: 1, n: 1 }),
        /allowDirectInsert/,
      );
      await Summary.insert1({ animal_id: 1, n: 1 }, { allowDirectInsert: true });
      assert.equal(await Summary.count(), 1);
      assert.equal(await Animal.insert([]), 0);
    } finally {
      await drop();
    }
  },
);

async function copyFixture(c: Connection) {
  const name = scratchName("dj_rows_");
  const lab = makeSchema(name, { connection: c });
  @lab
  class Source extends Manual {
    static override definition = "item : int32\n---\nlabel : varchar(16)";
  }
  @lab
  class Copy extends Manual {
    static override definition = "item : int32\n---\nlabel : varchar(16)";
  }
  @lab
  class KeyOnly extends Manual {
    static override definition = "item : int32";
  }
  @lab
  class Remarked extends Manual {
    static override definition =
      "item : int32\n---\nlabel : varchar(16)\nremark = null : varchar(16)";
  }
  await lab.declare();
  /** Copy's labels in key order. */
  const labels = async () => (await Copy.toDicts({ orderBy: "item" })).map((r) => r.label);
  /** Copy holds items 1 ("s1") and 2 ("old"), KeyOnly item 1. */
  const reset = async () => {
    await Copy.deleteQuick();
    await KeyOnly.deleteQuick();
    await Copy.insert([{ item: 1, label: "s1" }, { item: 2, label: "old" }]);
    await KeyOnly.insert([{ item: 1 }]);
  };
  return {
    name,
    Source,
    Copy,
    KeyOnly,
    Remarked,
    labels,
    reset,
    drop: () => lab.drop({ cascade: true }),
  };
}

/**
 * Runs `insert` on every worker while `blocker`'s open transaction holds the row `held` of the
 * fixture's `copy` table, so that every worker has opened its own transaction (and taken its
 * snapshot) before any can insert; then they insert one after another. Returns their counts.
 */
async function raceBehindLock(
  backend: "mysql" | "postgres",
  blocker: Connection,
  workers: Connection[],
  name: string,
  held: [number, string],
  insert: (worker: Connection) => Promise<number>,
): Promise<number[]> {
  const my = backend === "mysql";
  const ids = await Promise.all(workers.map(async (w) =>
    Number(
      (await w.query<{ id: unknown }>(
        my ? "SELECT connection_id() AS id" : "SELECT pg_backend_pid() AS id",
      ))[0].id,
    )
  ));
  const waiting = async () =>
    (await blocker.query<{ id: unknown }>(
      my
        ? "SELECT trx_mysql_thread_id AS id FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'"
        : "SELECT pid AS id FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
    )).filter((r) => ids.includes(Number(r.id))).length;
  const d = blocker.kit.dialect;
  await blocker.startTransaction();
  await blocker.execute(
    `INSERT INTO ${d.quote(name)}.${d.quote("copy")} (item, label) VALUES (${
      blocker.placeholder(1)
    }, ${blocker.placeholder(2)})`,
    held,
  );
  const counts = Promise.all(workers.map(insert));
  // InnoDB refreshes its transaction list only when it was not read for 0.1 s.
  for (let i = 0; (await waiting()) < workers.length; i++) {
    assert.ok(i < 200, "the workers wait for the open transaction");
    await new Promise((r) => setTimeout(r, 150));
  }
  await blocker.commitTransaction();
  return await counts;
}

await onEveryBackend(
  "insert of rows returns the rows it inserted, plus those replace overwrote",
  async (c) => {
    const { Copy, KeyOnly, Remarked, labels, reset, drop } = await copyFixture(c);
    const source = [1, 2, 3, 4].map((item) => ({ item, label: `s${item}` }));
    const keys = source.map(({ item }) => ({ item }));
    try {
      await reset();
      assert.equal(await Copy.insert([source[3]]), 1);
      // Skipped rows do not count, whether or not their values equal the given ones.
      assert.equal(await Copy.insert(source, { skipDuplicates: true }), 1);
      assert.deepEqual(await labels(), ["s1", "old", "s3", "s4"]);
      assert.equal(await Copy.insert(source, { skipDuplicates: true }), 0);
      assert.equal(await Copy.insert([], { skipDuplicates: true }), 0);
      // A new row given twice in one call goes in once and counts once; without
      // skipDuplicates it is a duplicate, and nothing goes in.
      const twice = [{ item: 5, label: "a" }, { item: 5, label: "b" }, source[0]];
      await assert.rejects(
        Copy.insert(twice),
        (e: Error) =>
          e instanceof DuplicateError &&
          /gives the primary key \{"item":5\} twice\. Give each key once/.test(e.message),
      );
      assert.equal(await Copy.restrict({ item: 5 }).count(), 0);
      // A key already stored is told apart.
      await assert.rejects(
        Copy.insert([source[0]]),
        (e: Error) => e instanceof DuplicateError && !/twice/.test(e.message),
      );
      assert.equal(await Copy.insert(twice, { skipDuplicates: true }), 1);
      assert.equal(await Copy.restrict({ item: 5 }).fetch1("label"), "a");
      // replace: 2 rows inserted, 2 overwritten (one of them with the values it had).
      await reset();
      assert.equal(await Copy.insert(source, { replace: true }), 4);
      assert.deepEqual(await labels(), ["s1", "s2", "s3", "s4"]);
      assert.equal(await Copy.insert(source, { replace: true }), 4, "overwritten, unchanged");
      assert.equal(
        await Copy.insert([{ item: 2, label: "new" }, { item: 9, label: "s9" }], { replace: true }),
        2,
      );
      assert.deepEqual(await labels(), ["s1", "new", "s3", "s4", "s9"]);
      // A key given twice in one call: the last row wins, as MySQL's REPLACE does, and it
      // counts once, new or stored (PostgreSQL refuses one upsert touching a row twice).
      const again = [{ item: 6, label: "a" }, { item: 2, label: "x" }, { item: 6, label: "b" }];
      assert.equal(await Copy.insert([...again, { item: 2, label: "y" }], { replace: true }), 2);
      assert.deepEqual(await labels(), ["s1", "y", "s3", "s4", "b", "s9"]);
      // The last row wins also when the rows give different attributes.
      const mixed = [
        { item: 1, label: "a", remark: "r" },
        { item: 1, label: "b" },
        { item: 2, label: "c" },
        { item: 1, label: "d", remark: "s" },
      ];
      assert.equal(await Remarked.insert(mixed, { replace: true }), 2);
      assert.deepEqual(await Remarked.toDicts({ orderBy: "item" }), [
        { item: 1, label: "d", remark: "s" },
        { item: 2, label: "c", remark: null },
      ]);
      // Past one statement (10,000 rows of three attributes): every key given three times,
      // alternately with and without remark; the last row of each key wins.
      await Remarked.deleteQuick();
      const many = [];
      for (let round = 0; round < 3; round++) {
        for (let item = 0; item < 6000; item++) {
          const label = `${round}-${item}`;
          many.push((item + round) % 2 ? { item, label } : { item, label, remark: `${round}` });
        }
      }
      assert.equal(await Remarked.insert(many, { replace: true }), 6000);
      const stored = await Remarked.toDicts({ orderBy: "item" });
      assert.equal(stored.length, 6000);
      for (const { item, label, remark } of stored) {
        assert.equal(label, `2-${item}`);
        assert.equal(remark, (item as number) % 2 ? null : "2");
      }
      await Remarked.deleteQuick();
      await Remarked.insert(mixed, { replace: true });
      // replace overwrites the attributes given (reference README, bug 23): remark stays.
      assert.equal(await Remarked.insert(mixed.slice(0, 2), { replace: true }), 1);
      assert.deepEqual(await Remarked.restrict({ item: 1 }).fetch1(), {
        item: 1,
        label: "b",
        remark: "s",
      });
      // Only key attributes given: nothing to overwrite, so nothing counts but new rows.
      assert.equal(await KeyOnly.insert(keys, { skipDuplicates: true }), 3);
      await reset();
      assert.equal(await KeyOnly.insert(keys, { replace: true }), 3);
      assert.equal(await KeyOnly.insert(keys, { replace: true }), 0);
      assert.equal(await KeyOnly.insert([{ item: 7 }, { item: 7 }], { replace: true }), 1);
      // The same inside a transaction the caller opened.
      await reset();
      await c.transaction(async () => {
        assert.equal(await Copy.insert(source, { skipDuplicates: true }), 2);
        assert.equal(await Copy.insert(source, { skipDuplicates: true }), 0);
        assert.equal(await Copy.insert(source, { replace: true }), 4);
        assert.equal(await KeyOnly.insert(keys, { replace: true }), 3);
      });
      assert.deepEqual(await labels(), ["s1", "s2", "s3", "s4"]);
    } finally {
      await drop();
    }
  },
);

await onEveryBackend(
  "insert of rows counts keys as the server stores them, and rows with store-backed values",
  async (c) => {
    const name = scratchName("dj_rows_");
    const stores = await scratchStores("file");
    await c.configureStores(stores.config);
    const lab = makeSchema(name, { connection: c });
    @lab
    class Lot extends Manual {
      static override definition =
        "lot : decimal(5,3)\nweight : float32\nat : datetime\n---\nlabel : varchar(16)";
    }
    @lab
    class Trace extends Manual {
      static override definition = "item : int32\n---\nsamples : <blob@>";
    }
    await lab.declare();
    const lot = (lot: unknown, weight: number, at: string, label = "x") => ({
      lot,
      weight,
      at,
      label,
    });
    try {
      assert.equal(await Lot.insert([lot("1.500", 0.1, "2024-01-01 00:00:00")]), 1);
      // The stored row spelled otherwise: the server meets it, and so does the count.
      const same = [lot(1.5, 0.1, "2024-01-01"), lot("1.5", 0.1, "2024-01-01 00:00", "y")];
      assert.equal(await Lot.insert(same, { skipDuplicates: true }), 0);
      const fresh = [lot(2, 0.3, "2024-01-02"), lot("2.000", 0.3, "2024-01-02 00:00:00")];
      assert.equal(await Lot.insert(fresh, { skipDuplicates: true }), 1);
      assert.equal(await Lot.insert([same[0], fresh[0]], { replace: true }), 2);
      assert.equal(await Lot.count(), 2);

      const samples = (n: number) => Float64Array.from({ length: n }, (_, i) => i * n);
      assert.equal(await Trace.insert([{ item: 1, samples: samples(3) }]), 1);
      const traces = [1, 2, 3].map((item) => ({ item, samples: samples(item + 10) }));
      assert.equal(await Trace.insert(traces, { skipDuplicates: true }), 2);
      assert.equal(await Trace.insert(traces, { skipDuplicates: true }), 0);
      assert.equal(await Trace.insert(traces, { replace: true }), 3);
      // The same key twice: only the last row's object is written.
      const twice = [{ item: 4, samples: samples(4) }, { item: 4, samples: samples(5) }];
      assert.equal(await Trace.insert(twice, { replace: true }), 1);
      assert.equal(
        ((await Trace.restrict({ item: 4 }).fetch1("samples")) as { data: Float64Array }).data
          .length,
        5,
      );
      // Spelled otherwise, the same key twice is the server's to find: MySQL keeps the last;
      // PostgreSQL refuses the statement, with advice.
      const spelled = [lot(3, 0.5, "2024-01-03"), lot("3.000", 0.5, "2024-01-03", "z")];
      if (c.kit.dialect.name === "mysql") {
        assert.equal(await Lot.insert(spelled, { replace: true }), 1);
        assert.equal(await Lot.restrict({ lot: 3 }).fetch1("label"), "z");
      } else {
        await assert.rejects(
          Lot.insert(spelled, { replace: true }),
          (e: Error) => e instanceof DuplicateError && /give each key once/.test(e.message),
        );
        assert.equal(await Lot.restrict({ lot: 3 }).count(), 0);
      }
      assert.equal(
        ((await Trace.restrict({ item: 1 }).fetch1("samples")) as { data: Float64Array }).data
          .length,
        11,
      );
    } finally {
      await lab.drop({ cascade: true });
      await stores.dispose();
    }
  },
);

await onEveryBackend(
  "insert from a query returns the rows it inserted, plus those replace overwrote",
  async (c) => {
    const { Source, Copy, KeyOnly, labels, reset, drop } = await copyFixture(c);
    try {
      await Source.insert([1, 2, 3, 4].map((item) => ({ item, label: `s${item}` })));
      await reset();
      assert.equal(await Copy.insert(Source.restrict("item > 3")), 1);
      // Skipped rows do not count, whether or not their values equal the source's.
      assert.equal(await Copy.insert(Source, { skipDuplicates: true }), 1);
      assert.deepEqual(await labels(), ["s1", "old", "s3", "s4"]);
      assert.equal(await Copy.insert(Source, { skipDuplicates: true }), 0);
      assert.equal(await Copy.insert(Source.restrict("item > 9"), { skipDuplicates: true }), 0);
      // replace: 2 rows inserted, 2 overwritten (one of them with the values it had).
      await reset();
      assert.equal(await Copy.insert(Source, { replace: true }), 4);
      assert.deepEqual(await labels(), ["s1", "s2", "s3", "s4"]);
      assert.equal(await Copy.insert(Source, { replace: true }), 4, "overwritten, unchanged");
      // Only key attributes given: nothing to overwrite, so nothing counts but new rows.
      assert.equal(await KeyOnly.insert(Source.proj(), { skipDuplicates: true }), 3);
      await reset();
      assert.equal(await KeyOnly.insert(Source.proj(), { replace: true }), 3);
      assert.equal(await KeyOnly.insert(Source.proj(), { replace: true }), 0);
      // The same inside a transaction the caller opened.
      await reset();
      await c.transaction(async () => {
        assert.equal(await Copy.insert(Source, { skipDuplicates: true }), 2);
        assert.equal(await Copy.insert(Source, { skipDuplicates: true }), 0);
        assert.equal(await Copy.insert(Source, { replace: true }), 4);
      });
      assert.deepEqual(await labels(), ["s1", "s2", "s3", "s4"]);
      // A query whose rows repeat a key of the target (each source row paired with two keys of
      // KeyOnly): MySQL writes each row in turn; PostgreSQL refuses, with advice.
      await KeyOnly.insert([{ item: 7 }, { item: 8 }]);
      const paired = Source.join(KeyOnly.restrict("item > 6").proj({ other: "item" }));
      const options = { replace: true, ignoreExtraFields: true };
      if (c.kit.dialect.name === "mysql") assert.equal(await Copy.insert(paired, options), 4);
      else {
        await assert.rejects(
          Copy.insert(paired, options),
          (e: Error) => e instanceof DuplicateError && /give each key once/.test(e.message),
        );
      }
      assert.deepEqual(await labels(), ["s1", "s2", "s3", "s4"]);
    } finally {
      await drop();
    }
  },
  { last: true },
);

for (const backend of ["mysql", "postgres"] as const) {
  await serverTest(
    backend,
    `${backend}: insert from a query: workers inserting the same rows at once, each row counted once`,
    async () => {
      const conns = await Promise.all([1, 2, 3, 4, 5].map(() => openTestConnection(backend)));
      const [blocker, ...workers] = conns;
      const { name, Source, Copy, drop } = await copyFixture(conns[0]);
      try {
        await Source.insert(
          Array.from({ length: 300 }, (_, item) => ({ item, label: `s${item}` })),
        );
        await Copy.insert(Source.restrict("item < 50"));
        const n = await raceBehindLock(
          backend,
          blocker,
          workers,
          name,
          [299, "first"],
          async (w) => {
            const heading = await w.heading(name, "copy");
            const source = Query.table(name, "source", () => Promise.resolve(w));
            return insertSelect(w, heading, source, { skipDuplicates: true });
          },
        );
        assert.equal(n.reduce((s, x) => s + x, 0), 249, `counts ${n}`);
        assert.equal(await Copy.count(), 300);
        assert.equal(await Copy.restrict({ item: 299 }).fetch1("label"), "first");
      } finally {
        if (blocker.inTransaction) await blocker.cancelTransaction();
        await drop();
        for (const conn of conns) await conn.close();
      }
    },
  );
}

for (const backend of ["mysql", "postgres"] as const) {
  await serverTest(
    backend,
    `${backend}: insert of rows: workers inserting or replacing the same rows at once, each counted`,
    async () => {
      const conns = await Promise.all([1, 2, 3, 4, 5].map(() => openTestConnection(backend)));
      const [blocker, ...workers] = conns;
      const { name, Copy, drop } = await copyFixture(conns[0]);
      const rows = (from: number) =>
        Array.from({ length: 300 }, (_, i) => ({ item: from + i, label: `s${from + i}` }));
      const race = (first: { item: number; label: string }, options: InsertOptions) =>
        raceBehindLock(backend, blocker, workers, name, [first.item, first.label], async (w) => {
          const heading = await w.heading(name, "copy");
          return insertRows(w, heading, rows(first.item), options);
        });
      try {
        await Copy.insert(rows(50).slice(0, 50));
        const skipped = await race({ item: 0, label: "first" }, { skipDuplicates: true });
        assert.equal(skipped.reduce((s, x) => s + x, 0), 249, `counts ${skipped}`);
        assert.equal(await Copy.count(), 300);
        assert.equal(await Copy.restrict({ item: 0 }).fetch1("label"), "first");
        // Each worker inserts or overwrites every row, most of them with the values another
        // worker stored after this one's snapshot was taken.
        const replaced = await race({ item: 300, label: "s300" }, { replace: true });
        assert.deepEqual(replaced, [300, 300, 300, 300]);
        assert.equal(await Copy.count(), 600);
      } finally {
        if (blocker.inTransaction) await blocker.cancelTransaction();
        await drop();
        for (const conn of conns) await conn.close();
      }
    },
  );
}
