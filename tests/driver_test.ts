/**
 * One contract suite for the three {@link Driver}s (`lib/adapters/driver.ts`): value
 * normalisation, transactions as plain statements, error translation, and closing. MariaDB and
 * PostgreSQL run through `serverTest` (skipped locally when unreachable, failing under `CI=true`);
 * PGlite runs in memory, always, as one instance for the whole file (creating one is slow).
 *
 * @module
 */
import nodeAssert from "node:assert/strict";
import type { Driver } from "../lib/adapters/driver.ts";
import { openMysql } from "../lib/adapters/mysql_driver.ts";
import { openPostgres } from "../lib/adapters/postgres_driver.ts";
import { openDriver, placeholder, placeholders } from "../lib/adapters/open.ts";
import { loadConfig } from "../lib/config.ts";
import {
  DuplicateError,
  IntegrityError,
  LostConnectionError,
  MissingAttributeError,
  MissingTableError,
  QueryError,
  QuerySyntaxError,
  UnknownAttributeError,
} from "../lib/errors.ts";
import { mysqlSettings, pgSettings, scratchName, serverTest } from "./_servers.ts";

function assert(cond: unknown, message?: string): asserts cond {
  nodeAssert.ok(cond, message);
}

function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

function assertInstanceOf<T>(
  value: unknown,
  cls: abstract new (...args: never[]) => T,
  message?: string,
): asserts value is T {
  nodeAssert.ok(value instanceof cls, `${message ?? "value"}: expected a ${cls.name}`);
}

/** Awaits `fn()`, which must reject with an instance of `cls`; returns the error. */
async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  cls: abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof cls) return e;
    throw new Error(`expected a ${cls.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`, {
      cause: e,
    });
  }
  throw new Error(`expected a ${cls.name}, but nothing was thrown`);
}

const BIG = 2n ** 62n + 12345n; // beyond 2^53: must not lose precision
const MIN64 = -(2n ** 63n);

/** What differs per backend in the suite: quoting, DDL and expected error codes. */
interface Dialect {
  q(name: string): string;
  begin: string;
  valuesTable(t: string): string;
  parentChild(p: string, c: string): string[];
  requiredTable(t: string): string;
  codes: {
    duplicate: string;
    foreignKey: string;
    unknownColumn: string;
    missingTable: string;
    syntax: string;
    missingValue: string;
  };
  /** Error class for an omitted NOT NULL column without default. */
  missingValueClass: typeof QueryError;
  /** Booleans come back as booleans (PostgreSQL) or 0/1 (MySQL tinyint). */
  nativeBool: boolean;
  /** A uuid column exists (PostgreSQL only). */
  uuid: boolean;
}

const MYSQL: Dialect = {
  q: (n) => `\`${n}\``,
  begin: "START TRANSACTION",
  valuesTable: (t) =>
    `CREATE TABLE ${t} (
      id int NOT NULL PRIMARY KEY,
      i32 int NULL, i64 bigint NULL, i16 smallint NULL, flag tinyint NULL,
      f32 float NULL, f64 double NULL, dec_ decimal(20,6) NULL,
      d date NULL, dt datetime(6) NULL, dt0 datetime NULL, tm time(6) NULL,
      js json NULL, bin longblob NULL, vb varbinary(16) NULL, fixed binary(4) NULL,
      txt varchar(64) NULL, en enum('a','b') NULL
    ) ENGINE=InnoDB`,
  parentChild: (p, c) => [
    `CREATE TABLE ${p} (id int NOT NULL PRIMARY KEY) ENGINE=InnoDB`,
    `CREATE TABLE ${c} (id int NOT NULL PRIMARY KEY, pid int NOT NULL,
      FOREIGN KEY (pid) REFERENCES ${p} (id) ON UPDATE CASCADE ON DELETE RESTRICT) ENGINE=InnoDB`,
  ],
  requiredTable: (t) =>
    `CREATE TABLE ${t} (id int NOT NULL PRIMARY KEY, need int NOT NULL) ENGINE=InnoDB`,
  codes: {
    duplicate: "1062",
    foreignKey: "1452",
    unknownColumn: "1054",
    missingTable: "1146",
    syntax: "1064",
    missingValue: "1364",
  },
  missingValueClass: MissingAttributeError,
  nativeBool: false,
  uuid: false,
};

const POSTGRES: Dialect = {
  q: (n) => `"${n}"`,
  begin: "BEGIN",
  valuesTable: (t) =>
    `CREATE TABLE ${t} (
      id int NOT NULL PRIMARY KEY,
      i32 integer, i64 bigint, i16 smallint, flag boolean,
      f32 real, f64 double precision, dec_ numeric(20,6),
      d date, dt timestamp(6), dt0 timestamp(0), tm time(6),
      js jsonb, bin bytea, vb bytea, fixed bytea,
      txt varchar(64), en varchar(1), u uuid
    )`,
  parentChild: (p, c) => [
    `CREATE TABLE ${p} (id int NOT NULL PRIMARY KEY)`,
    `CREATE TABLE ${c} (id int NOT NULL PRIMARY KEY, pid int NOT NULL,
      FOREIGN KEY (pid) REFERENCES ${p} (id) ON UPDATE CASCADE ON DELETE RESTRICT)`,
  ],
  requiredTable: (t) => `CREATE TABLE ${t} (id int NOT NULL PRIMARY KEY, need int NOT NULL)`,
  codes: {
    duplicate: "23505",
    foreignKey: "23503",
    unknownColumn: "42703",
    missingTable: "42P01",
    syntax: "42601",
    missingValue: "23502",
  },
  missingValueClass: IntegrityError,
  nativeBool: true,
  uuid: true,
};

/** Fails unless `value` is a plain `Uint8Array` (not a Buffer) with exactly `bytes`. */
function assertPlainBytes(value: unknown, bytes: number[], what: string): void {
  assertInstanceOf(value, Uint8Array, what);
  assertEquals(value.constructor, Uint8Array, `${what}: a plain Uint8Array, not a Buffer`);
  assertEquals([...value], bytes, what);
}

/**
 * The contract suite. `ns` is a scratch database (MySQL) or schema (PostgreSQL, PGlite) that the
 * caller creates and drops.
 */
async function contract(
  t: Deno.TestContext,
  db: Driver,
  dialect: Dialect,
  ns: string,
): Promise<void> {
  const { q } = dialect;
  const table = (name: string): string => `${q(ns)}.${q(name)}`;
  const ph = (n: number): string => db.placeholder(n);

  await t.step("placeholder matches the backend", () => {
    assertEquals(db.placeholder(3), placeholder(db.backend, 3));
    assertEquals(placeholders(db.backend, 2), `${ph(1)}, ${ph(2)}`);
  });

  await t.step("values are normalised (see the table in driver.ts)", async () => {
    const vt = table("vals");
    await db.execute(dialect.valuesTable(vt));
    const cols = [
      "id",
      "i32",
      "i64",
      "i16",
      "flag",
      "f32",
      "f64",
      "dec_",
      "d",
      "dt",
      "dt0",
      "tm",
      "js",
      "bin",
      "vb",
      "fixed",
      "txt",
      "en",
      ...(dialect.uuid ? ["u"] : []),
    ];
    const insert = `INSERT INTO ${vt} (${cols.map(q).join(", ")}) VALUES (${
      placeholders(db.backend, cols.length)
    })`;
    const json = { a: [1, { b: null, c: "é" }], n: 1.5, t: true };
    const row1 = [
      1,
      -2147483648,
      BIG,
      -32768,
      true,
      1.1,
      0.1 + 0.2,
      "12345678901234.123456",
      "2024-02-29",
      "2024-02-29 23:59:58.123456",
      "2024-02-29 23:59:58",
      "13:14:15.25",
      JSON.stringify(json),
      new Uint8Array([0x00, 0xff, 0x01, 0x00]),
      new Uint8Array([]),
      new Uint8Array([1, 2, 3, 4]),
      "héllo 🦕 'quoted'",
      "b",
      ...(dialect.uuid ? ["6F9619FF-8B86-D011-B42D-00C04FC964FF"] : []),
    ];
    const r = await db.execute(insert, row1);
    assertEquals(r.affectedRows, 1);
    // Second row: the other end of the ranges and fractional seconds that end in zeros.
    await db.execute(
      `INSERT INTO ${vt} (${q("id")}, ${q("i64")}, ${q("dt")}, ${q("tm")}, ${q("flag")}, ${
        q("dec_")
      }) VALUES (${placeholders(db.backend, 6)})`,
      [2, MIN64, "2000-01-01 00:00:00.500000", "00:00:00", false, "-0.000001"],
    );
    // Third row: NULL everywhere but the key.
    await db.execute(`INSERT INTO ${vt} (${q("id")}) VALUES (${ph(1)})`, [3]);

    const rows = await db.query(`SELECT * FROM ${vt} ORDER BY ${q("id")}`);
    assertEquals(rows.length, 3);
    const [a, b, c] = rows;
    assertEquals(a.id, 1);
    assertEquals(a.i32, -2147483648);
    assertEquals(a.i64, BIG);
    assertEquals(a.i16, -32768);
    assertEquals(a.flag, dialect.nativeBool ? true : 1);
    assertEquals(a.f32, 1.1);
    assertEquals(a.f64, 0.30000000000000004);
    assertEquals(a.dec_, "12345678901234.123456");
    assertEquals(a.d, "2024-02-29");
    assertEquals(a.dt, "2024-02-29 23:59:58.123456");
    assertEquals(a.dt0, "2024-02-29 23:59:58");
    assertEquals(a.tm, "13:14:15.25");
    assertEquals(a.js, json);
    assertPlainBytes(a.bin, [0, 255, 1, 0], "longblob/bytea");
    assertPlainBytes(a.vb, [], "empty bytes");
    assertPlainBytes(a.fixed, [1, 2, 3, 4], "binary(4)");
    assertEquals(a.txt, "héllo 🦕 'quoted'");
    assertEquals(a.en, "b");
    if (dialect.uuid) assertEquals(a.u, "6f9619ff-8b86-d011-b42d-00c04fc964ff");

    assertEquals(b.i64, MIN64);
    assertEquals(b.dt, "2000-01-01 00:00:00.5", "fractional seconds without trailing zeros");
    assertEquals(b.tm, "00:00:00");
    assertEquals(b.flag, dialect.nativeBool ? false : 0);
    assertEquals(b.dec_, "-0.000001");

    for (const col of cols.slice(1)) assertEquals(c[col], null, `NULL ${col}`);

    // Parameters round-trip through SELECT as well; bigint parameters keep their precision.
    const [p] = await db.query(
      `SELECT ${q("i64")} AS big FROM ${vt} WHERE ${q("i64")} = ${ph(1)}`,
      [BIG],
    );
    assertEquals(p.big, BIG);
    // COUNT(*) is a 64-bit integer on every backend.
    const [n] = await db.query(`SELECT COUNT(*) AS n FROM ${vt}`);
    assertEquals(n.n, 3n);
  });

  await t.step("a large binary value round-trips byte for byte", async () => {
    const bt = table("big");
    await db.execute(
      `CREATE TABLE ${bt} (id int NOT NULL PRIMARY KEY, data ${
        db.backend === "mysql" ? "longblob" : "bytea"
      } NOT NULL)`,
    );
    const value = new Uint8Array(300_000);
    for (let i = 0; i < value.length; i++) value[i] = (i * 7919) & 0xff;
    await db.execute(`INSERT INTO ${bt} VALUES (${ph(1)}, ${ph(2)})`, [1, value]);
    const [row] = await db.query<{ data: Uint8Array }>(`SELECT data FROM ${bt}`);
    assertEquals(row.data.byteLength, value.byteLength);
    assert(row.data.every((v, i) => v === value[i]), "bytes differ");
  });

  await t.step("BEGIN/ROLLBACK and COMMIT as plain statements", async () => {
    const tt = table("tx");
    await db.execute(`CREATE TABLE ${tt} (id int NOT NULL PRIMARY KEY)`);
    await db.execute(dialect.begin);
    await db.execute(`INSERT INTO ${tt} VALUES (${ph(1)})`, [1]);
    assertEquals((await db.query(`SELECT * FROM ${tt}`)).length, 1, "visible inside");
    await db.execute("ROLLBACK");
    assertEquals(await db.query(`SELECT * FROM ${tt}`), [], "gone after ROLLBACK");

    await db.execute(dialect.begin);
    await db.execute(`INSERT INTO ${tt} VALUES (${ph(1)})`, [2]);
    await db.execute("COMMIT");
    assertEquals(await db.query(`SELECT * FROM ${tt}`), [{ id: 2 }], "kept after COMMIT");

    const upd = await db.execute(`UPDATE ${tt} SET id = id + 10`);
    assertEquals(upd.affectedRows, 1);
    const del = await db.execute(`DELETE FROM ${tt} WHERE id > ${ph(1)}`, [100]);
    assertEquals(del.affectedRows, 0);
  });

  await t.step("server errors become DataJoint errors with code and cause", async () => {
    const [parent, child] = [table("parent"), table("child")];
    for (const ddl of dialect.parentChild(parent, child)) await db.execute(ddl);
    await db.execute(`INSERT INTO ${parent} VALUES (${ph(1)})`, [1]);

    const dup = await assertRejects(
      () => db.execute(`INSERT INTO ${parent} VALUES (${ph(1)})`, [1]),
      DuplicateError,
    );
    assertEquals(dup.code, dialect.codes.duplicate);
    assert(dup.cause !== undefined, "cause kept");
    assert(dup.message.includes("skipDuplicates"), dup.message);

    const fk = await assertRejects(
      () => db.execute(`INSERT INTO ${child} VALUES (${ph(1)}, ${ph(2)})`, [1, 99]),
      IntegrityError,
    );
    assertEquals(fk.code, dialect.codes.foreignKey);

    const unknown = await assertRejects(
      () => db.query(`SELECT ${q("nope")} FROM ${parent}`),
      UnknownAttributeError,
    );
    assertEquals(unknown.code, dialect.codes.unknownColumn);
    // The insert option is advice for inserts only, not for a query.
    assert(!unknown.message.includes("ignoreExtraFields"), unknown.message);
    const unknownInsert = await assertRejects(
      () => db.execute(`INSERT INTO ${parent} (${q("nope")}) VALUES (${ph(1)})`, [2]),
      UnknownAttributeError,
    );
    assert(unknownInsert.message.includes("ignoreExtraFields"), unknownInsert.message);

    const missing = await assertRejects(
      () => db.query(`SELECT * FROM ${table("no_such_table")}`),
      MissingTableError,
    );
    assertEquals(missing.code, dialect.codes.missingTable);

    const syntax = await assertRejects(() => db.query("SELEC 1"), QuerySyntaxError);
    assertEquals(syntax.code, dialect.codes.syntax);
    assert(syntax.message.includes("SELEC 1"), "the SQL is quoted");

    const req = table("req");
    await db.execute(dialect.requiredTable(req));
    const mv = await assertRejects(
      () => db.execute(`INSERT INTO ${req} (${q("id")}) VALUES (${ph(1)})`, [1]),
      dialect.missingValueClass,
    );
    assertEquals(mv.code, dialect.codes.missingValue);

    const undef = await assertRejects(
      () => db.query(`SELECT ${ph(1)} AS x`, [undefined]),
      QueryError,
    );
    assert(undef.message.includes("undefined"), undef.message);

    // The connection is still usable after errors.
    assertEquals((await db.query(`SELECT 1 AS one`))[0].one, 1);
  });
}

/** The last steps: close is idempotent and later calls are LostConnectionErrors. */
async function closing(t: Deno.TestContext, db: Driver): Promise<void> {
  await t.step("close() is idempotent; calls after it are LostConnectionErrors", async () => {
    await Promise.all([db.close(), db.close()]);
    await db.close();
    await assertRejects(() => db.query("SELECT 1"), LostConnectionError);
    await assertRejects(() => db.execute("SELECT 1"), LostConnectionError);
  });
}

await serverTest("mysql", "driver contract: MySQL/MariaDB", async (t) => {
  const s = mysqlSettings();
  const db = await openMysql({ ...s, useTls: false });
  const ns = scratchName("dj_drv_my_");
  try {
    assertEquals(db.backend, "mysql");
    const [mode] = await db.query<{ m: string }>("SELECT @@SESSION.sql_mode AS m");
    assertEquals(
      mode.m.split(",").sort(),
      [
        "ERROR_FOR_DIVISION_BY_ZERO",
        "NO_ENGINE_SUBSTITUTION",
        "NO_ZERO_DATE",
        "NO_ZERO_IN_DATE",
        "ONLY_FULL_GROUP_BY",
        "STRICT_ALL_TABLES",
      ],
    );
    await db.execute(`CREATE DATABASE ${MYSQL.q(ns)}`);
    await contract(t, db, MYSQL, ns);

    await t.step(
      "statements the server cannot prepare fall back to the text protocol",
      async () => {
        const rows = await db.query(`SHOW TABLES FROM ${MYSQL.q(ns)} LIKE ?`, ["va%"]);
        assertEquals(rows.length, 1);
        assertEquals(Object.values(rows[0]), ["vals"]);
      },
    );

    await t.step("a statement beyond max_allowed_packet is a clear QueryError", async () => {
      const [row] = await db.query<{ p: bigint }>("SELECT @@max_allowed_packet AS p");
      const max = Number(row.p);
      if (max > 64 * 1024 * 1024) return; // too large to exercise cheaply (CI raises it to 1G)
      const err = await assertRejects(
        () => db.query("SELECT LENGTH(?) AS n", [new Uint8Array(max + 1)]),
        QueryError,
      );
      assert(err.message.includes("max_allowed_packet"), err.message);
      assertEquals((await db.query("SELECT 1 AS one"))[0].one, 1, "still connected");
    });
  } finally {
    try {
      await db.execute(`DROP DATABASE IF EXISTS ${MYSQL.q(ns)}`);
    } catch {
      // closed by a failing step: the database is dropped below with a fresh connection
      const again = await openMysql({ ...s, useTls: false });
      await again.execute(`DROP DATABASE IF EXISTS ${MYSQL.q(ns)}`);
      await again.close();
    }
  }
  await closing(t, db);
});

await serverTest(
  "mysql",
  "driver: MySQL through openDriver (TLS preferred) and connection errors",
  async () => {
    const s = mysqlSettings();
    const config = loadConfig({
      ignoreFile: true,
      env: { DJ_HOST: `${s.host}:${s.port}`, DJ_USER: s.user, DJ_PASS: s.password },
    });
    assertEquals(config.database.useTls, null);
    const db = await openDriver(config.database);
    try {
      assertEquals(db.backend, "mysql");
      assertEquals(await db.query("SELECT 1 AS one"), [{ one: 1 }]);
    } finally {
      await db.close();
    }
    await assertRejects(
      () => openMysql({ ...s, port: 1, useTls: false, connectTimeout: 2 }),
      LostConnectionError,
    );
  },
);

await serverTest("postgres", "driver contract: PostgreSQL", async (t) => {
  const s = pgSettings();
  const db = await openPostgres({ ...s, useTls: false });
  const ns = scratchName("dj_drv_pg_");
  try {
    assertEquals(db.backend, "postgresql");
    await t.step("notices are silenced", async () => {
      const printed: unknown[] = [];
      const { log, warn, info } = console;
      console.log = console.warn = console.info = (...args: unknown[]) => printed.push(args);
      try {
        await db.execute(`CREATE SCHEMA IF NOT EXISTS ${POSTGRES.q(ns)}`);
        await db.execute(`CREATE SCHEMA IF NOT EXISTS ${POSTGRES.q(ns)}`);
      } finally {
        Object.assign(console, { log, warn, info });
      }
      assertEquals(printed, []);
    });
    await contract(t, db, POSTGRES, ns);
  } finally {
    await db.execute(`DROP SCHEMA IF EXISTS ${POSTGRES.q(ns)} CASCADE`).catch(() => {});
  }
  await closing(t, db);
});

await serverTest(
  "postgres",
  "driver: PostgreSQL through openDriver (TLS preferred) and connection errors",
  async () => {
    const s = pgSettings();
    const config = loadConfig({
      ignoreFile: true,
      env: {
        DJ_BACKEND: "postgres",
        DJ_HOST: s.host,
        DJ_PORT: String(s.port),
        DJ_USER: s.user,
        DJ_PASS: s.password,
        DJ_DATABASE_NAME: s.database,
      },
    });
    const db = await openDriver(config.database);
    try {
      assertEquals(db.backend, "postgresql");
      assertEquals(await db.query("SELECT current_database() AS d"), [{ d: s.database }]);
    } finally {
      await db.close();
    }
    await assertRejects(
      () => openPostgres({ ...s, port: 1, useTls: false, connectTimeout: 2 }),
      LostConnectionError,
    );
  },
);

Deno.test("driver contract: PGlite (in memory)", async (t) => {
  // Opened through openDriver and the configuration, so the dispatch is covered too.
  const config = loadConfig({ env: { DJ_PGLITE_PATH: "memory://" }, ignoreFile: true });
  assertEquals(config.database.backend, "pglite");
  const db = await openDriver(config.database);
  const ns = scratchName("dj_drv_pgl_");
  try {
    assertEquals(db.backend, "pglite");
    await db.execute(`CREATE SCHEMA ${POSTGRES.q(ns)}`);
    await contract(t, db, POSTGRES, ns);
  } finally {
    await db.execute(`DROP SCHEMA IF EXISTS ${POSTGRES.q(ns)} CASCADE`).catch(() => {});
  }
  await closing(t, db);
});

await serverTest(
  "mysql",
  "driver: MySQL connection killed by the server → LostConnectionError",
  async () => {
    const s = mysqlSettings();
    const [victim, killer] = [
      await openMysql({ ...s, useTls: false }),
      await openMysql({ ...s, useTls: false }),
    ];
    try {
      const [{ id }] = await victim.query<{ id: bigint }>("SELECT CONNECTION_ID() AS id");
      await killer.execute(`KILL ${id}`);
      await assertRejects(() => victim.query("SELECT 1"), LostConnectionError);
      await assertRejects(() => victim.query("SELECT 1"), LostConnectionError);
    } finally {
      await victim.close();
      await killer.close();
    }
  },
);

await serverTest(
  "postgres",
  "driver: PostgreSQL connection killed by the server → LostConnectionError",
  async () => {
    const s = pgSettings();
    const [victim, killer] = [
      await openPostgres({ ...s, useTls: false }),
      await openPostgres({ ...s, useTls: false }),
    ];
    try {
      const [{ pid }] = await victim.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      await killer.query("SELECT pg_terminate_backend($1)", [pid]);
      // postgres.js throws an uncaught TypeError when a statement is written in the instant
      // between the server's close and the client seeing it; wait until the client can see it.
      for (let i = 0; i < 100; i++) {
        const rows = await killer.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid]);
        if (rows.length === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 100));
      await assertRejects(() => victim.query("SELECT 1"), LostConnectionError);
      await assertRejects(() => victim.query("SELECT 1"), LostConnectionError);
    } finally {
      await victim.close();
      await killer.close();
    }
  },
);
