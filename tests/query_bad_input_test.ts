/**
 * Bad input to queries and inserts on MariaDB, PostgreSQL and PGlite: restrictions, orders,
 * projections and fetches naming unknown attributes; values of the wrong type; and SQL injection
 * attempts through restriction values, inserted values, key values (`fetch1`, `keys`, keyset
 * iteration, insert from a query) and attribute-name keys of restriction objects. After every
 * attempt the tables and their rows must be exactly as before.
 *
 * The rule for restriction objects (DataJoint's): keys that are not attributes of the query are
 * ignored, so a row of another table restricts by what the two share; an object that names no
 * attribute at all is an `UnknownAttributeError`. Names in `orderBy`, `proj`, `fetch1`,
 * `toArrays`, `aggr`'s `attributes` and `U` must be attributes.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Connection } from "../lib/connection.ts";
import { DataJointError, QueryError, UnknownAttributeError } from "../lib/errors.ts";
import { AndList, Not, Top, U } from "../lib/query.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Manual } from "../lib/table.ts";
import { onEveryBackend, openTestConnection } from "./_connections.ts";
import { scratchName, serverTest } from "./_servers.ts";

/**
 * Strings that would break out of a literal or an identifier if they were spliced into SQL. None
 * ends in a space except one, and none equals another under MariaDB's case- and
 * width-insensitive collations, so each matches exactly its own row.
 */
const EVIL = [
  "it's",
  "' OR '1'='1",
  "' OR 1=1 -- ",
  "'; DROP TABLE subject; --",
  '"; DROP TABLE "subject"; --',
  "`; DROP DATABASE x; -- `",
  "x' /* comment */ OR 'a'='a",
  "# hash comment",
  "-- dash comment",
  "\\",
  "\\'",
  "\\\\'; DROP TABLE subject; --",
  "ends in a backslash\\",
  "\\x00\\0\\n\\Z",
  "$1",
  "?",
  "%s %% _",
  "$$; DROP TABLE subject; $$",
  "E'\\\\'",
  "\u0001 0 \u0002", // the query compiler's own parameter-token characters
  "é ü ß 中文 🙂",
  "\u202eright-to-left",
  "ʼ OR 2=2 --", // U+02BC MODIFIER LETTER APOSTROPHE
  "＇ OR 3=3 --", // U+FF07 FULLWIDTH APOSTROPHE
  "line\nbreak\r\ttab",
];

/** Names that would break out of an identifier if spliced. */
const EVIL_NAMES = [
  "a`; DROP TABLE subject; --",
  'a"; DROP TABLE "subject"; --',
  "subject_id OR 1=1",
  "subject_id`",
  "1=1) OR (1",
  "\u00010\u0002",
  "name; DROP TABLE subject",
];

async function fixture(c: Connection) {
  const name = scratchName("dj_badin_");
  const lab = makeSchema(name, { connection: c });
  class Subject extends Manual {
    static override definition = `
      subject_id : int32
      ---
      name : varchar(255)
      sex : enum('M', 'F', 'U')
      weight = null : float64
      born = null : date
      seen = null : datetime
      active = 1 : bool
      big = 0 : int64
      meta = null : json
      uid = null : uuid
      raw = null : bytes
    `;
  }
  class Label extends Manual {
    static override definition = `
      label : varchar(255)
      ---
      note : varchar(255)
    `;
  }
  class Copy extends Manual {
    static override definition = `
      label : varchar(255)
      ---
      note : varchar(255)
    `;
  }
  class Sentinel extends Manual {
    static override definition = `
      id : int32
      ---
      word : varchar(16)
    `;
  }
  for (const cls of [Subject, Label, Copy, Sentinel]) lab(cls);
  await lab.declare();
  await Subject.insert([
    { subject_id: 1, name: "alpha", sex: "M", weight: 20.5, born: "2024-01-02" },
    { subject_id: 2, name: "beta", sex: "F", meta: { a: [1, "x"] } },
    { subject_id: 3, name: "gamma", sex: "U", raw: new Uint8Array([0, 39, 59, 92, 0]) },
  ]);
  await Sentinel.insert([{ id: 1, word: "untouched" }]);
  const tables = [Subject, Label, Copy, Sentinel];
  const snapshot = async () => ({
    tables: await lab.listTables(),
    rows: await Promise.all(tables.map((t) => t.toDicts({ orderBy: "KEY" }))),
    // Counted without the query compiler, in case it were the one fooled.
    counts: await Promise.all(tables.map(async (t) => {
      const h = await t.heading();
      const q = c.kit.dialect.quote;
      const [{ n }] = await c.driver.query<{ n: unknown }>(
        `SELECT count(*) AS n FROM ${q(h.schema)}.${q(h.table)}`,
      );
      return Number(n);
    })),
  });
  let before = await snapshot();
  return {
    lab,
    Subject,
    Label,
    Copy,
    Sentinel,
    /** Asserts that every table and row is as it was at the last `remember()`. */
    async intact(what: string) {
      assert.ok(await c.schemaExists(name), `${what}: the schema is gone`);
      assert.deepEqual(await snapshot(), before, `${what}: tables or rows changed`);
    },
    /** Takes the current state as the expected one (after intended inserts). */
    async remember() {
      before = await snapshot();
    },
  };
}

/** Asserts that `fn` rejects with an error of `cls` whose message matches every pattern. */
async function refuses(
  fn: () => Promise<unknown>,
  cls: new (...a: never[]) => Error,
  ...patterns: (RegExp | string)[]
): Promise<void> {
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    for (const p of patterns) {
      if (typeof p === "string") assert.ok(e.message.includes(p), `${e.message} lacks ${p}`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

await onEveryBackend("bad input: restrictions and names that are not attributes", async (c) => {
  const f = await fixture(c);
  const { Subject } = f;
  try {
    // An object naming no attribute is an error that lists the attributes…
    await refuses(
      () => Subject.restrict({ nope: 1 }).toDicts(),
      UnknownAttributeError,
      '"nope"',
      "subject_id",
    );
    await refuses(() => Subject.restrict({ nope: 1, other: 2 }).count(), UnknownAttributeError);
    await refuses(
      () => Subject.restrict([{ subject_id: 1 }, { nope: 1 }]).count(),
      UnknownAttributeError,
    );
    await refuses(() => Subject.restrict(new Not({ nope: 1 })).count(), UnknownAttributeError);
    await refuses(
      () => Subject.restrict(new AndList([{ nope: 1 }])).count(),
      UnknownAttributeError,
    );
    await refuses(() => Subject.minus({ nope: 1 }).count(), UnknownAttributeError);
    await refuses(() => Subject.restrict({ nope: 1 }).exists(), UnknownAttributeError);
    // …a renamed attribute is known by its new name only…
    await refuses(
      () => Subject.proj({ sid: "subject_id" }).restrict({ subject_id: 1 }).count(),
      UnknownAttributeError,
      "sid",
    );
    assert.equal(await Subject.proj({ sid: "subject_id" }).restrict({ sid: 1 }).count(), 1);
    // …while keys beside real attributes are ignored (a row of another table restricts by what
    // the two share), and an empty object restricts nothing.
    assert.deepEqual(
      await Subject.restrict({ subject_id: 1, session_idx: 5 }).keys(),
      [{ subject_id: 1 }],
    );
    assert.equal(await Subject.restrict({}).count(), 3);
    assert.equal(await Subject.restrict({ subject_id: undefined }).count(), 3);

    // Orders, projections, fetches, aggregations and U name attributes or fail.
    await refuses(() => Subject.toDicts({ orderBy: "nope" }), UnknownAttributeError, "nope");
    await refuses(() => Subject.toDicts({ orderBy: "name DESC, sex" }), UnknownAttributeError);
    await refuses(() => Subject.toDicts({ orderBy: "name SIDEWAYS" }), UnknownAttributeError);
    await refuses(
      () => Subject.restrict(new Top({ limit: 1, orderBy: "nope DESC" })).toDicts(),
      UnknownAttributeError,
    );
    await refuses(() => Subject.proj("nope").toDicts(), UnknownAttributeError, "nope");
    await refuses(() => Subject.proj("-nope").toDicts(), UnknownAttributeError, "nope");
    await refuses(() => Subject.proj({ x: "nope" }).toDicts(), UnknownAttributeError, "nope");
    await refuses(() => Subject.proj({ "a b": "name" }).toDicts(), DataJointError, "valid name");
    await refuses(
      () => Subject.restrict({ subject_id: 1 }).fetch1("nope"),
      UnknownAttributeError,
      "nope",
    );
    await refuses(() => Subject.toArrays("name", "nope"), UnknownAttributeError, "nope");
    await refuses(
      () => Subject.aggr(Subject.proj(), { n: "count(*)" }, { attributes: ["nope"] }).toDicts(),
      UnknownAttributeError,
    );
    await refuses(() => new U("nope").restrict(Subject).toDicts(), UnknownAttributeError);
    await refuses(
      () => new U("nope").aggr(Subject, { n: "count(*)" }).toDicts(),
      UnknownAttributeError,
    );
    await refuses(
      () => Subject.insert1({ subject_id: 9, name: "x", sex: "M", nope: 1 }),
      UnknownAttributeError,
      "ignoreExtraFields",
    );
    // The compiler's parameter tokens cannot be smuggled in through SQL text either.
    await refuses(
      () => Subject.proj({ x: "\u00010\u0002" }).toDicts(),
      DataJointError,
      "control characters",
    );
    await refuses(
      () => Subject.aggr(Subject.proj(), { x: "count(\u00010\u0002)" }).toDicts(),
      DataJointError,
      "control characters",
    );
    await refuses(
      () => Subject.restrict("subject_id = \u00010\u0002").toDicts(),
      DataJointError,
      "control characters",
    );
    // Limits and offsets are spliced as numbers, so only integers pass.
    for (const bad of ["1; DROP TABLE subject", 1.5, -1, NaN]) {
      await refuses(() => Subject.toDicts({ limit: bad as number }), DataJointError, "limit");
      await refuses(() => Subject.toDicts({ offset: bad as number }), DataJointError, "offset");
    }
    assert.throws(() => new Top({ limit: "2; DROP" as unknown as number }), DataJointError);
    await refuses(() => Subject.iterate({ batchSize: 0 }).next(), DataJointError, "batchSize");
    await f.intact("unknown names");
  } finally {
    await f.lab.drop({ cascade: true });
  }
});

await onEveryBackend(
  "bad input: attribute names in restriction keys are never spliced",
  async (c) => {
    const f = await fixture(c);
    const { Subject } = f;
    try {
      for (const evil of EVIL_NAMES) {
        await refuses(
          () => Subject.restrict({ [evil]: 1 }).toDicts(),
          UnknownAttributeError,
          JSON.stringify(evil).slice(1, -1),
        );
        await refuses(
          () => Subject.restrict({ [evil]: "x' OR '1'='1" }).count(),
          UnknownAttributeError,
        );
        await refuses(() => Subject.minus({ [evil]: 1 }).count(), UnknownAttributeError);
        // Beside a real attribute the key is ignored, like any other non-attribute.
        assert.deepEqual(await Subject.restrict({ subject_id: 2, [evil]: 1 }).keys(), [
          { subject_id: 2 },
        ]);
        await refuses(
          () => Subject.insert1({ subject_id: 9, name: "x", sex: "M", [evil]: 1 }),
          UnknownAttributeError,
        );
        await refuses(() => Subject.toDicts({ orderBy: evil }), UnknownAttributeError);
        await refuses(() => Subject.proj(evil).toDicts(), UnknownAttributeError);
        await refuses(
          () => Subject.proj({ [evil]: "name" }).toDicts(),
          DataJointError,
          "not a valid name",
        );
        await refuses(
          () => Subject.restrict({ subject_id: 1 }).fetch1(evil),
          UnknownAttributeError,
        );
        await refuses(
          () => Subject.aggr(Subject.proj(), { [evil]: "count(*)" }).toDicts(),
          DataJointError,
          "not a valid name",
        );
        await refuses(() => new U(evil).restrict(Subject).toDicts(), UnknownAttributeError);
        await f.intact(`attribute name ${JSON.stringify(evil)}`);
      }
    } finally {
      await f.lab.drop({ cascade: true });
    }
  },
);

await onEveryBackend("bad input: values of the wrong type name the attribute", async (c) => {
  const f = await fixture(c);
  const { Subject } = f;
  try {
    const cases: [string, unknown][] = [
      ["subject_id", "one"],
      ["subject_id", "1 OR 1=1"],
      ["subject_id", 1.5],
      ["subject_id", 2 ** 31],
      ["subject_id", {}],
      ["subject_id", [1]],
      ["subject_id", true],
      ["weight", "heavy"],
      ["weight", NaN],
      ["weight", Infinity],
      ["sex", "X"],
      ["sex", "M' OR '1'='1"],
      ["sex", 1],
      ["born", "yesterday"],
      ["born", 20240102],
      ["born", "2024-01-02'; DROP TABLE subject; --"],
      ["seen", "noon"],
      ["active", "yes"],
      ["active", 2],
      ["big", 1.5],
      ["big", "12"],
      ["big", 2n ** 64n],
      ["uid", "not-a-uuid"],
      ["uid", "12345678-1234-5678-1234-567812345678' OR '1'='1"],
      ["uid", 42],
      ["name", 42],
      ["name", { toString: () => "alpha" }],
      ["raw", "bytes as text"],
    ];
    for (const [attr, bad] of cases) {
      const what = `${attr} = ${typeof bad === "bigint" ? bad : JSON.stringify(bad)}`;
      await refuses(() => Subject.restrict({ [attr]: bad }).toDicts(), DataJointError, attr)
        .catch((e) => assert.fail(`restrict ${what}: ${e.message}`));
      // In an insert the whole batch is refused before anything is written.
      await refuses(
        () =>
          Subject.insert([
            { subject_id: 10, name: "ok", sex: "M" },
            { subject_id: 11, name: "ok", sex: "M", [attr]: bad },
          ]),
        DataJointError,
        attr,
        "subject",
        // The row's location names the attribute; the reason does not name it again.
        new RegExp(`^(?![\\s\\S]*attribute ${attr}: Attribute ${attr} )`),
      ).catch((e) => assert.fail(`insert ${what}: ${e.message}`));
      await f.intact(what);
    }
    // json, bytes and codec attributes cannot be compared in SQL.
    await refuses(() => Subject.restrict({ meta: { a: 1 } }).count(), DataJointError, "meta");
    // DataJoint Python reads `meta.a` as a JSON path; ignoring it like an unknown key would return
    // rows it does not select, so it is refused.
    for (const key of ["meta.a", "meta.a[0]", "meta.a:int", "name.x"]) {
      await refuses(
        () => Subject.restrict({ subject_id: 2, [key]: 1 }).count(),
        DataJointError,
        key,
        "SQL string",
      );
    }
    await refuses(
      () => Subject.restrict({ raw: new Uint8Array([1]) }).count(),
      DataJointError,
      "raw",
    );
    // A value JSON cannot hold.
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await refuses(
      () => Subject.insert1({ subject_id: 12, name: "x", sex: "M", meta: cyclic }),
      DataJointError,
      "meta",
    );
    await refuses(
      () => Subject.insert1({ subject_id: 12, name: "x", sex: "M", meta: () => 1 }),
      DataJointError,
      "meta",
    );
    // A missing key and a missing required attribute.
    await refuses(() => Subject.insert1({ name: "x", sex: "M" }), DataJointError, "subject_id");
    await refuses(() => Subject.insert1({ subject_id: 12, sex: "M" }), DataJointError, "name");
    await f.intact("json and missing values");
  } finally {
    await f.lab.drop({ cascade: true });
  }
});

await onEveryBackend("bad input: injection through values is data", async (c) => {
  const f = await fixture(c);
  const { Subject, Label, Copy } = f;
  try {
    // Inserted values: every string goes in and comes back exactly.
    await Subject.insert(EVIL.map((name, i) => ({ subject_id: 100 + i, name, sex: "U" })));
    await Label.insert(EVIL.map((label, i) => ({ label, note: EVIL[(i + 1) % EVIL.length] })));
    await Subject.insert1({
      subject_id: 99,
      name: "json",
      sex: "U",
      meta: { [EVIL[3]]: EVIL.slice(0, 8), nested: { q: EVIL[1] } },
    });
    await f.remember();
    const names = await Subject.restrict("subject_id >= 100").toArrays("name");
    assert.deepEqual(names[0], EVIL);
    assert.deepEqual(await Subject.restrict({ subject_id: 99 }).fetch1("meta"), {
      [EVIL[3]]: EVIL.slice(0, 8),
      nested: { q: EVIL[1] },
    });

    // Restriction values: each matches exactly its own row, and near misses match nothing.
    for (const [i, evil] of EVIL.entries()) {
      const what = JSON.stringify(evil);
      assert.deepEqual(
        await Subject.restrict({ name: evil }).toArrays("subject_id", "name"),
        [[100 + i], [evil]],
        what,
      );
      assert.equal(await Subject.restrict({ name: `${evil}x` }).count(), 0, what);
      assert.equal(await Subject.restrict({ name: evil }).minus({ sex: "U" }).count(), 0, what);
      // Key values through fetch1, fetch1("KEY") and keys().
      assert.equal(
        await Label.restrict({ label: evil }).fetch1("note"),
        EVIL[(i + 1) % EVIL.length],
      );
      assert.deepEqual(await Label.restrict({ label: evil }).fetch1("KEY"), { label: evil });
      assert.deepEqual(await Label.restrict({ label: evil }).keys(), [{ label: evil }]);
      assert.deepEqual(await Label.restrict({ label: evil }).fetch1(), {
        label: evil,
        note: EVIL[(i + 1) % EVIL.length],
      });
      // The same through a semijoin and in an OR.
      assert.equal(
        await Label.restrict(Label.restrict({ note: EVIL[(i + 1) % EVIL.length] }).proj())
          .fetch1("label"),
        evil,
      );
      assert.equal(
        await Subject.restrict([{ name: evil }, { name: EVIL[(i + 1) % EVIL.length] }]).count(),
        2,
      );
      await f.intact(`restrict by ${what}`);
    }
    const keys = await Label.keys();
    assert.deepEqual(keys.map((k) => k.label).sort(), [...EVIL].sort());
    // Keyset pagination sends the last key of each batch back as a parameter.
    const streamed: unknown[] = [];
    for await (const row of Label.iterate({ batchSize: 3 })) streamed.push(row.label);
    assert.deepEqual(streamed.slice().sort(), [...EVIL].sort());
    assert.equal(new Set(streamed).size, EVIL.length);

    // Insert from a query restricted by such values: the rows never leave the server.
    assert.equal(await Copy.insert(Label.restrict([{ label: EVIL[1] }, { label: EVIL[3] }])), 2);
    await Copy.insert(Label, { skipDuplicates: true });
    assert.deepEqual(
      await Copy.toDicts({ orderBy: "KEY" }),
      await Label.toDicts({ orderBy: "KEY" }),
    );
    await Copy.insert(Label.restrict({ label: EVIL[5] }), { replace: true });
    await f.remember();
    await refuses(
      () => Copy.insert(Label.restrict({ label: EVIL[5] })),
      DataJointError,
      "skipDuplicates",
    );
    await f.intact("insert from a query");
  } finally {
    await f.lab.drop({ cascade: true });
  }
});

await onEveryBackend(
  "bad input: NUL and unpaired surrogates are refused, not altered",
  async (c) => {
    const f = await fixture(c);
    const { Subject, Label } = f;
    try {
      for (const bad of ["a\0b", "\0", "'\0; DROP TABLE subject; --"]) {
        await refuses(() => Subject.restrict({ name: bad }).count(), DataJointError, "name", "NUL");
        await refuses(
          () => Label.restrict({ label: bad }).fetch1(),
          DataJointError,
          "label",
          "NUL",
        );
        await refuses(
          () => Subject.insert1({ subject_id: 20, name: bad, sex: "M" }),
          DataJointError,
          "name",
          "NUL",
        );
        await refuses(
          () => Subject.insert1({ subject_id: 20, name: "x", sex: "M", meta: { k: bad } }),
          DataJointError,
          "meta",
          "NUL",
        );
        await refuses(
          () => Subject.insert1({ subject_id: 20, name: "x", sex: "M", meta: { [bad]: 1 } }),
          DataJointError,
          "meta",
          "NUL",
        );
      }
      // Lone surrogates would be stored as U+FFFD: refused rather than silently changed.
      for (const bad of ["a\ud800", "\udfff", "x\ud83d"]) {
        await refuses(() => Subject.restrict({ name: bad }).count(), DataJointError, "surrogate");
        await refuses(
          () => Subject.insert1({ subject_id: 21, name: bad, sex: "M" }),
          DataJointError,
          "name",
          "surrogate",
        );
        await refuses(
          () => Subject.insert1({ subject_id: 21, name: "x", sex: "M", meta: [bad] }),
          DataJointError,
          "meta",
          "surrogate",
        );
      }
      // NUL in binary data is just a byte.
      assert.deepEqual(
        await Subject.restrict({ subject_id: 3 }).fetch1("raw"),
        new Uint8Array([0, 39, 59, 92, 0]),
      );
      await f.intact("NUL");
    } finally {
      await f.lab.drop({ cascade: true });
    }
  },
  { last: true },
);

/**
 * Raw SQL restriction strings are SQL (documented as such), but even they cannot chain a second
 * statement: the drivers run one statement per call.
 */
async function chained(c: Connection): Promise<void> {
  const f = await fixture(c);
  const h = await f.Sentinel.heading();
  const q = c.kit.dialect.quote;
  const sentinel = `${q(h.schema)}.${q(h.table)}`;
  try {
    for (
      const text of [
        `1=1); DROP TABLE ${sentinel}; -- `,
        `1=1); DELETE FROM ${sentinel}; SELECT (1`,
      ]
    ) {
      await refuses(() => f.Subject.restrict(text).toDicts(), QueryError);
      await refuses(() => f.Subject.restrict(text).restrict({ subject_id: 1 }).count(), QueryError);
      await f.intact(`raw ${text}`);
    }
  } finally {
    await f.lab.drop({ cascade: true });
  }
}

for (const backend of ["mysql", "pglite"] as const) {
  const name = `${backend}: bad input: raw SQL strings cannot chain statements`;
  const fn = async () => {
    const c = await openTestConnection(backend);
    try {
      await chained(c);
    } finally {
      await c.close();
    }
  };
  if (backend === "mysql") await serverTest("mysql", name, fn);
  else Deno.test(name, fn);
}
// postgres.js would send a statement without parameters through the simple query protocol, which
// runs several statements; the driver forces the extended protocol.
await serverTest(
  "postgres",
  "postgres: bad input: raw SQL strings cannot chain statements",
  async () => {
    const c = await openTestConnection("postgres");
    try {
      await chained(c);
    } finally {
      await c.close();
    }
  },
);
