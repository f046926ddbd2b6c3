/**
 * The query algebra on MariaDB, PostgreSQL and PGlite with the same data: every backend must give
 * the same rows. Restriction by object/SQL/array/Not/AndList/query/Top, projection (rename,
 * computed, translated expressions), join (with semantic checks), extend, aggr (2.x keeps all
 * rows), U, union, insert from a query, fetch forms and iteration.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Connection } from "../lib/connection.ts";
import { DataJointError, UnknownAttributeError } from "../lib/errors.ts";
import { AndList, Not, Top, U } from "../lib/query.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Computed, Lookup, Manual, Part } from "../lib/table.ts";
import { onEveryBackend } from "./_connections.ts";
import { scratchName } from "./_servers.ts";

async function fixture(c: Connection) {
  const name = scratchName("dj_query_");
  const lab = makeSchema(name, { connection: c });
  @lab
  class Species extends Lookup {
    static override definition = `
      species : varchar(16)
      ---
      latin : varchar(64)
    `;
    static contents = [
      { species: "mouse", latin: "Mus musculus" },
      { species: "rat", latin: "Rattus norvegicus" },
    ];
  }
  @lab
  class Subject extends Manual {
    static override definition = `
      subject_id : int32
      ---
      -> Species
      name : varchar(32)
      sex : enum('M', 'F', 'U')
      weight = null : float64
    `;
  }
  // Registered by a call: a class expression in a static field of a decorated class would be
  // decorated too by Deno's decorator transform.
  class Session extends Manual {
    static override definition = `
      -> Subject
      session_idx : int16
      ---
      session_date : date
      duration : float64
    `;
    static Trial = class Trial extends Part {
      static override definition = `
        -> master
        trial : int16
        ---
        outcome : varchar(8)
      `;
    };
  }
  lab(Session);
  @lab
  class Experimenter extends Manual {
    static override definition = `
      name : varchar(32)
    `;
  }
  @lab
  class Archive extends Manual {
    static override definition = `
      subject_id : int32
      ---
      name : varchar(32)
    `;
  }
  @lab
  class Summary extends Computed {
    static override definition = `
      -> Subject
      ---
      n : int32
    `;
  }
  await lab.declare();
  await Subject.insert([
    { subject_id: 1, species: "mouse", name: "alpha", sex: "M", weight: 20.5 },
    { subject_id: 2, species: "mouse", name: "beta", sex: "F", weight: null },
    { subject_id: 3, species: "rat", name: "gamma", sex: "F", weight: 300 },
    { subject_id: 4, species: "rat", name: "it's; DROP TABLE x; --", sex: "U", weight: 1 },
  ]);
  await Session.insert([
    { subject_id: 1, session_idx: 1, session_date: "2024-01-01", duration: 10 },
    { subject_id: 1, session_idx: 2, session_date: "2024-01-02", duration: 20 },
    { subject_id: 2, session_idx: 1, session_date: "2024-01-01", duration: 30 },
    { subject_id: 3, session_idx: 1, session_date: "2024-02-01", duration: 40 },
  ]);
  await Session.Trial.insert([
    { subject_id: 1, session_idx: 1, trial: 1, outcome: "hit" },
    { subject_id: 1, session_idx: 1, trial: 2, outcome: "miss" },
    { subject_id: 1, session_idx: 2, trial: 1, outcome: "hit" },
    { subject_id: 3, session_idx: 1, trial: 1, outcome: "hit" },
  ]);
  return { lab, Species, Subject, Session, Experimenter, Archive, Summary };
}

function ids(rows: Record<string, unknown>[], name = "subject_id"): unknown[] {
  return rows.map((r) => r[name]);
}

await onEveryBackend("query: restriction in every form", async (c) => {
  const { lab, Subject, Session } = await fixture(c);
  try {
    assert.equal(await speciesCount(lab), 2, "Lookup contents are inserted on declaration");
    const order = { orderBy: "subject_id" };
    assert.deepEqual(ids(await Subject.restrict({ sex: "F" }).toDicts(order)), [2, 3]);
    assert.deepEqual(ids(await Subject.restrict({ weight: null }).toDicts(order)), [2]);
    assert.deepEqual(ids(await Subject.restrict("weight > 10").toDicts(order)), [1, 3]);
    assert.deepEqual(
      ids(await Subject.restrict([{ subject_id: 1 }, { subject_id: 3 }]).toDicts(order)),
      [1, 3],
    );
    assert.deepEqual(await Subject.restrict([]).toDicts(), []);
    assert.equal(await Subject.restrict(true).count(), 4);
    assert.equal(await Subject.restrict(false).count(), 0);
    assert.deepEqual(ids(await Subject.restrict(new Not({ sex: "F" })).toDicts(order)), [1, 4]);
    assert.deepEqual(
      ids(await Subject.restrict(new AndList([{ species: "rat" }, "weight < 100"])).toDicts()),
      [4],
    );
    // Semijoin and antijoin by another query.
    assert.deepEqual(ids(await Subject.restrict(Session).toDicts(order)), [1, 2, 3]);
    assert.deepEqual(ids(await Subject.minus(Session).toDicts(order)), [4]);
    assert.deepEqual(
      ids(await Subject.restrict(Session.restrict("duration >= 30")).toDicts(order)),
      [2, 3],
    );
    assert.deepEqual(
      ids(await Subject.minus(Session.Trial).toDicts(order)),
      [2, 4],
    );
    // Keys of another table that are not attributes here are ignored (DataJoint's rule)…
    assert.deepEqual(
      ids(await Subject.restrict({ subject_id: 1, session_idx: 7 }).toDicts()),
      [1],
    );
    // …but an object naming no attribute at all is a mistake, not "everything".
    await assert.rejects(
      () => Subject.restrict({ subjet_id: 1 }).toDicts(),
      UnknownAttributeError,
    );
    // Values are parameters: quotes, comments and statement separators are data.
    assert.deepEqual(
      ids(await Subject.restrict({ name: "it's; DROP TABLE x; --" }).toDicts()),
      [4],
    );
    for (const evil of ["' OR '1'='1", "\\' OR 1=1 -- ", "x`; DROP DATABASE y; --", '"; --']) {
      assert.equal(await Subject.restrict({ name: evil }).count(), 0);
    }
    // NUL cannot be stored in PostgreSQL text: refused on every backend, with the reason.
    await assert.rejects(() => Subject.restrict({ name: "a\0b" }).count(), /without NUL/);
    assert.equal(await Subject.count(), 4);
    // Wrong value types are refused with the attribute named.
    await assert.rejects(
      () => Subject.restrict({ subject_id: "one" }).toDicts(),
      /subject_id/,
    );
    // Top: the first rows in an order, then further restricted.
    assert.deepEqual(
      ids(await Subject.restrict(new Top({ limit: 2, orderBy: "weight DESC" })).toDicts(order)),
      [1, 3],
    );
    assert.deepEqual(
      ids(
        await Subject.restrict(new Top({ limit: 3, orderBy: "subject_id" })).restrict({
          sex: "F",
        }).toDicts(order),
      ),
      [2, 3],
    );
    // Ties of a non-key order are broken by the primary key: a page is the same rows on every
    // backend (rows inserted out of key order, so that storage order does not hide it).
    const { Archive } = labClasses(lab);
    const scrambled = Array.from({ length: 300 }, (_, i) => (i * 149) % 300);
    await Archive.insert(
      scrambled.map((k) => ({ subject_id: k, name: k % 2 === 0 ? "even" : "odd" })),
    );
    assert.deepEqual(
      ids(await Archive.toDicts({ orderBy: "name", limit: 5, offset: 10 })),
      [20, 22, 24, 26, 28],
    );
    assert.deepEqual(ids(await Archive.keys({ orderBy: "name DESC", limit: 3 })), [1, 3, 5]);
    assert.deepEqual(
      ids(
        await Archive.restrict(new Top({ limit: 3, orderBy: "name DESC", offset: 2 })).toDicts(
          order,
        ),
      ),
      [5, 7, 9],
    );
  } finally {
    await lab.drop({ cascade: true });
  }
});

function speciesCount(lab: { classes: unknown[] }): Promise<number> {
  const cls = lab.classes.find((k) => (k as { name: string }).name === "Species") as
    | typeof Lookup
    | undefined;
  return cls!.count();
}

await onEveryBackend("query: projection, join, extend", async (c) => {
  const { lab, Subject, Session, Species } = await fixture(c);
  try {
    const p = await Subject.proj("name", { kg: "weight / 1000", sid: "subject_id" })
      .toDicts({ orderBy: "sid" });
    assert.deepEqual(Object.keys(p[0]), ["sid", "name", "kg"]);
    assert.equal(p[0].sid, 1);
    assert.ok(Math.abs((p[0].kg as number) - 0.0205) < 1e-9);
    // Restricting by a renamed and by a computed attribute.
    assert.deepEqual(
      ids(await Subject.proj({ sid: "subject_id" }).restrict({ sid: 2 }).toDicts(), "sid"),
      [2],
    );
    assert.deepEqual(
      ids(await Subject.proj({ kg: "weight / 1000" }).restrict("kg > 0.1").toDicts()),
      [3],
    );
    assert.deepEqual(Object.keys((await Subject.proj().toDicts())[0]), ["subject_id"]);
    assert.deepEqual(
      Object.keys((await Subject.proj("...", "-weight").toDicts())[0]),
      ["subject_id", "species", "name", "sex"],
    );
    await assert.rejects(() => Subject.proj("-subject_id").toDicts(), /primary key/);
    await assert.rejects(() => Subject.proj("nope").toDicts(), UnknownAttributeError);

    // Join: shared attributes, primary key of the determining side.
    const j = Session.join(Subject);
    const h = await j.heading();
    assert.deepEqual(h.primaryKey, ["subject_id", "session_idx"]);
    const rows = await j.restrict({ sex: "F" }).toDicts({ orderBy: "KEY" });
    assert.deepEqual(rows.map((r) => [r.subject_id, r.name]), [[2, "beta"], [3, "gamma"]]);
    // Three-way join through a Lookup.
    const three = await Session.join(Subject).join(Species).proj("latin").toDicts({
      orderBy: ["subject_id", "session_idx"],
    });
    assert.deepEqual(three.map((r) => r.latin), [
      "Mus musculus",
      "Mus musculus",
      "Mus musculus",
      "Rattus norvegicus",
    ]);
    // Semantic check: `name` is a secondary attribute of Subject (no lineage) and the key of
    // Experimenter; `subject_id` of Archive is its own key, not Subject's.
    const { Experimenter, Archive } = labClasses(lab);
    await Experimenter.insert([{ name: "alpha" }]);
    await assert.rejects(() => Subject.join(Experimenter).toDicts(), /lineage missing/);
    assert.equal(await Subject.join(Experimenter, { semanticCheck: false }).count(), 1);
    await assert.rejects(() => Session.join(Archive).count(), /different lineages/);
    await assert.rejects(() => Session.restrict(Archive).count(), /different lineages/);
    assert.equal(await Session.join(Archive.proj(), { semanticCheck: false }).count(), 0);
    // Cross join when nothing is shared.
    assert.equal(await Subject.proj().join(Experimenter).count(), 4);
    // Subject's `name`, projected away, must not clash with Experimenter's `name`.
    const crossed = await Subject.proj().join(Experimenter).restrict({ name: "alpha" })
      .toDicts({ orderBy: "subject_id" });
    assert.deepEqual(crossed.map((r) => [r.subject_id, r.name]), [
      [1, "alpha"],
      [2, "alpha"],
      [3, "alpha"],
      [4, "alpha"],
    ]);
    assert.deepEqual(
      (await Experimenter.join(Subject.proj("sex")).restrict("name = 'alpha'").toDicts({
        orderBy: "subject_id",
      })).map((r) => [r.name, r.sex]),
      [["alpha", "M"], ["alpha", "F"], ["alpha", "F"], ["alpha", "U"]],
    );
    // Extend: left join with a query this one determines, NULL where there is no match.
    const second = new U("subject_id").aggr(Session.restrict({ session_idx: 2 }), {
      duration: "max(duration)",
    });
    const ext = await Subject.extend(second).toDicts({ orderBy: "subject_id" });
    assert.equal(ext.length, 4);
    assert.deepEqual(ext.map((r) => r.duration), [20, null, null, null]);
    // A left join whose right side has key attributes the left lacks would put NULL into the
    // result's primary key: refused, as in DataJoint.
    for (const q of [() => Subject.extend(Session), () => Subject.join(Session, { left: true })]) {
      await assert.rejects(() => q().toDicts(), /determine[\s\S]*session_idx/);
    }
  } finally {
    await lab.drop({ cascade: true });
  }
});

function labClasses(lab: { classes: unknown[] }) {
  const find = (n: string) =>
    lab.classes.find((k) => (k as { name: string }).name === n) as typeof Manual;
  return { Experimenter: find("Experimenter"), Archive: find("Archive") };
}

await onEveryBackend("query: aggr, U, union, insert from a query, fetch forms", async (c) => {
  const { lab, Subject, Session, Archive, Summary } = await fixture(c);
  try {
    // 2.x aggr keeps subjects without sessions.
    const n = await Subject.aggr(Session, { n: "count(session_idx)", total: "sum(duration)" })
      .toDicts({ orderBy: "subject_id" });
    assert.deepEqual(n.map((r) => Number(r.n)), [2, 1, 1, 0]);
    assert.deepEqual(n.map((r) => r.total === null ? null : Number(r.total)), [30, 30, 40, null]);
    const only = await Subject.aggr(Session, { n: "count(*)" }, { excludeNonmatching: true })
      .count();
    assert.equal(only, 3);
    // Restricting an aggregation by its result.
    assert.deepEqual(
      ids(await Subject.aggr(Session, { n: "count(session_idx)" }).restrict("n > 1").toDicts()),
      [1],
    );
    // Keeping attributes of the grouping side, and a translated expression.
    const names = await Subject.aggr(Session, {
      dates: "GROUP_CONCAT(session_idx ORDER BY session_idx DESC SEPARATOR ',')",
    }, { attributes: ["name"] }).restrict({ subject_id: 1 }).fetch1("name", "dates") as [
      string,
      string,
    ];
    assert.deepEqual(names, ["alpha", "2,1"]);
    // DISTINCT and a default separator are kept in the translation.
    const outcomes = await new U().aggr(Session.Trial, {
      o: "GROUP_CONCAT(DISTINCT outcome)",
    }).fetch1("o") as string;
    assert.deepEqual(outcomes.split(",").sort(), ["hit", "miss"]);
    await assert.rejects(
      () => Session.aggr(Subject, { n: "count(*)" }).toDicts(),
      /Missing attributes: \['session_idx'\]: join the group query with a table that has them/,
    );
    // U: distinct values, and grouping by them.
    const dates = await new U("session_date").restrict(Session).toDicts({
      orderBy: "session_date",
    });
    assert.deepEqual(dates.map((r) => r.session_date), ["2024-01-01", "2024-01-02", "2024-02-01"]);
    const perDay = await new U("session_date").aggr(Session, { n: "count(*)" }).toDicts({
      orderBy: "session_date",
    });
    assert.deepEqual(perDay.map((r) => Number(r.n)), [2, 1, 1]);
    const all = await new U().aggr(Session, { n: "count(*)", longest: "max(duration)" }).fetch1();
    assert.deepEqual([
      Number((all as { n: unknown }).n),
      Number((all as { longest: unknown }).longest),
    ], [4, 40]);
    // Restricting by the universal set keeps every row; subtracting it keeps none.
    assert.equal(await Session.restrict(new U("session_date")).count(), 4);
    assert.equal(await Session.restrict(new U()).count(), 4);
    assert.equal(await Session.restrict(new Not(new U("nope"))).count(), 0);
    assert.equal(await Session.restrict([{ session_idx: 99 }, new U()]).count(), 4);
    // Union.
    const u = Subject.restrict({ subject_id: 1 }).proj().union(
      Subject.restrict({ subject_id: 4 }).proj(),
    );
    assert.deepEqual(ids(await u.toDicts({ orderBy: "subject_id" })), [1, 4]);
    const u2 = await Subject.restrict({ subject_id: 1 }).proj("name").union(
      Session.restrict({ subject_id: 3 }).proj({ d: "duration" }).proj("d"),
    ).toDicts().catch((e) => e);
    assert.ok(u2 instanceof DataJointError, "different primary keys cannot be united");
    // Insert from a query: the rows stay on the server.
    assert.equal(await Archive.insert(Subject.restrict({ sex: "F" }).proj("name")), 2);
    assert.deepEqual(ids(await Archive.toDicts({ orderBy: "subject_id" })), [2, 3]);
    await Archive.insert(Subject.proj("name"), { skipDuplicates: true });
    assert.equal(await Archive.count(), 4);
    await assert.rejects(
      () => Archive.insert(Subject.proj("name")),
      (e: unknown) =>
        e instanceof DataJointError && e.message.split("skipDuplicates").length === 2 &&
        !e.message.includes(".."),
    );
    await assert.rejects(() => Archive.insert(Subject.proj("name", "sex")), /ignoreExtraFields/);
    await assert.rejects(() => Summary.insert(Subject.proj({ n: "1" })), /allowDirectInsert/);
    assert.equal(
      await Summary.insert(Subject.proj({ n: "subject_id * 2" }), { allowDirectInsert: true }),
      4,
    );
    // Fetch forms.
    const [sids, sexes] = await Subject.toArrays("subject_id", "sex");
    assert.deepEqual([...sids].sort(), [1, 2, 3, 4]);
    assert.equal(sexes.length, 4);
    const cols = await Subject.toArrays();
    assert.deepEqual(Object.keys(cols), ["subject_id", "species", "name", "sex", "weight"]);
    assert.deepEqual(await Session.restrict({ subject_id: 3 }).fetch1("KEY"), {
      subject_id: 3,
      session_idx: 1,
    });
    assert.deepEqual(
      await Session.keys({ orderBy: "KEY DESC", limit: 2 }),
      [{ subject_id: 3, session_idx: 1 }, { subject_id: 2, session_idx: 1 }],
    );
    assert.deepEqual(ids(await Subject.toDicts({ limit: 2, offset: 1 })), [2, 3]);
    // keys() ordered by attributes it does not return: computed, renamed, aggregated.
    assert.deepEqual(
      ids(
        await Subject.aggr(Session, { n: "count(session_idx)" }).keys({
          orderBy: ["n DESC", "subject_id DESC"],
          limit: 2,
        }),
      ),
      [1, 3],
    );
    assert.deepEqual(
      ids(await Subject.proj({ kg: "weight" }).keys({ orderBy: "kg DESC" })),
      [3, 1, 4, 2],
    );
    assert.deepEqual(
      ids(await Subject.proj({ g: "weight * 1000" }).keys({ orderBy: "g", offset: 1 })),
      [4, 1, 3],
    );
    assert.equal(await Subject.restrict({ subject_id: 9 }).exists(), false);
    assert.equal(await Subject.exists(), true);
    await assert.rejects(() => Subject.fetch1(), /exactly one row/);
    await assert.rejects(() => Subject.restrict({ subject_id: 9 }).fetch1(), /none matches/);
    // Iteration streams in key order, in batches.
    const seen: unknown[] = [];
    for await (const row of Session.iterate({ batchSize: 3 })) {
      seen.push([row.subject_id, row.session_idx]);
    }
    assert.deepEqual(seen, [[1, 1], [1, 2], [2, 1], [3, 1]]);
    const viaClass: unknown[] = [];
    for await (const row of Subject) viaClass.push(row.subject_id);
    assert.deepEqual(viaClass, [1, 2, 3, 4]);
  } finally {
    await lab.drop({ cascade: true });
  }
}, { last: true });
