/**
 * Query speed on each backend (MariaDB, PostgreSQL, PGlite), each case against the raw driver
 * running the equivalent SQL in the same run (`conn.driver.query` / `execute`, same statements and
 * parameters, no decoding):
 *
 * - insert 100,000 small rows: `insert(rows)` vs the same multi-row `INSERT` statements (recorded
 *   from a library insert) in one transaction, parameters taken straight from the rows;
 * - fetch 100,000 rows: `toDicts()` vs the same `SELECT`;
 * - restrict + join over 100,000 rows: `toDicts()` of a join of restricted queries vs its `SELECT`;
 * - populate 1,000 keys with a trivial `make`: vs the same statements populate sends (one `SELECT`
 *   of the keys to do, then per key `BEGIN`, the done-already check, the `INSERT`, `COMMIT`).
 *
 * Servers that cannot be reached are left out with a printed reason. `DJ_BENCH_ROWS` changes the
 * row count (default 100,000). Run: `deno bench -A bench/query_bench.ts`.
 *
 * `deno bench` has no teardown hook: the schemas are dropped at exit by a subprocess (this file
 * run with `--drop`), and what a killed run left behind is dropped at the start of the next one.
 *
 * @module
 */
import type { Connection } from "../lib/connection.ts";
import type { Query } from "../lib/query.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Computed, Manual } from "../lib/table.ts";
import { openTestConnection, type TestBackend } from "../tests/_connections.ts";
import { scratchName, serverStatus } from "../tests/_servers.ts";

const PREFIX = "djbench_query_";
const N = Number(Deno.env.get("DJ_BENCH_ROWS") ?? 100_000);
const GROUPS = 1000;
const KEYS = 1000;

/** The classes of one backend's bench schema. */
interface BenchTables {
  /** Insert target: `id` → `grp`, `val`, `label` (no foreign key). */
  Flat: typeof Manual;
  /** 1,000 groups with a `kind`. */
  Grp: typeof Manual;
  /** `N` items in the groups (fetch and join). */
  Item: typeof Manual;
  /** `KEYS` keys to populate from. */
  Key: typeof Manual;
  /** Populated from `Key`: `v = 2k`. */
  Doubled: typeof Computed;
}

function declareTables(name: string, c: Connection) {
  const s = makeSchema(name, { connection: c });
  class Flat extends Manual {
    static override definition = `
      id : int32
      ---
      grp : int16
      val : float64
      label : varchar(16)
    `;
  }
  class Grp extends Manual {
    static override definition = `
      grp : int16
      ---
      kind : varchar(8)
    `;
  }
  class Item extends Manual {
    static override definition = `
      id : int32
      ---
      -> Grp
      val : float64
      label : varchar(16)
    `;
  }
  class Key extends Manual {
    static override definition = `
      k : int32
    `;
  }
  class Doubled extends Computed {
    static override definition = `
      -> Key
      ---
      v : int32
    `;
    async make(key: Record<string, unknown>): Promise<void> {
      await this.insert1({ ...key, v: (key.k as number) * 2 });
    }
  }
  for (const cls of [Flat, Grp, Item, Key, Doubled]) s(cls);
  return { s, tables: { Flat, Grp, Item, Key, Doubled } as BenchTables };
}

/** The small rows every case uses: `id`, a group, a float and a short label. */
function smallRows(n: number): { id: number; grp: number; val: number; label: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i,
    grp: i % GROUPS,
    val: i * 0.5,
    label: `row ${i}`,
  }));
}

/** Records the statements `fn` sends through `conn.execute` (the library's insert path). */
async function recordStatements(
  c: Connection,
  fn: () => Promise<unknown>,
): Promise<{ sql: string; params: number }[]> {
  const seen: { sql: string; params: number }[] = [];
  const original = c.execute;
  c.execute = (sql, params) => {
    seen.push({ sql, params: params?.length ?? 0 });
    return original.call(c, sql, params);
  };
  try {
    await fn();
  } finally {
    delete (c as { execute?: unknown }).execute;
  }
  return seen;
}

async function compiled(q: Query): Promise<{ sql: string; params: unknown[] }> {
  return await q.compile();
}

/** One case: the raw driver's version, the library's, and what runs untimed before each. */
interface Case {
  /** The bench group, e.g. `mysql: insert`. */
  group: string;
  /** Rows handled per run (for rows/s). */
  rows: number;
  /** What the raw side runs, for its name. */
  rawName: string;
  /** What the library runs, for its name. */
  libName: string;
  /** Untimed, before every run of either side (e.g. emptying the target table). */
  prepare?: () => Promise<unknown>;
  /** The raw driver's run. */
  raw: () => Promise<unknown>;
  /** The library's run. */
  lib: () => Promise<unknown>;
  /** Iterations (and warmup iterations) of each side. */
  n: number;
  warmup: number;
}

/** Paired timings: every library iteration also times the raw side next to it. */
const pairs = new Map<string, { rows: number; raw: number[]; lib: number[] }>();

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Registers the raw side (the group's baseline) and the library side. The library side's
 * iterations also run the raw side untimed by `deno bench`, before or after alternately, so that
 * each pair sees the same load on a shared machine: the summary printed at exit gives the median
 * of the paired times and of their ratios.
 */
function pair(c: Case): void {
  Deno.bench({
    name: c.rawName,
    group: c.group,
    baseline: true,
    n: c.n,
    warmup: c.warmup,
    async fn(t) {
      await c.prepare?.();
      t.start();
      await c.raw();
      t.end();
    },
  });
  const record = { rows: c.rows, raw: [] as number[], lib: [] as number[] };
  pairs.set(c.group, record);
  let calls = 0;
  Deno.bench({
    name: c.libName,
    group: c.group,
    n: c.n,
    warmup: c.warmup,
    async fn(t) {
      const rawFirst = calls++ % 2 === 0;
      let raw = 0;
      if (rawFirst) {
        await c.prepare?.();
        raw = await timed(c.raw);
      }
      await c.prepare?.();
      const t0 = performance.now();
      t.start();
      await c.lib();
      t.end();
      const lib = performance.now() - t0;
      if (!rawFirst) {
        await c.prepare?.();
        raw = await timed(c.raw);
      }
      if (calls > c.warmup) {
        record.raw.push(raw);
        record.lib.push(lib);
      }
    },
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function printPairs(): void {
  if (pairs.size === 0) return;
  const rate = (rows: number, ms: number) => `${Math.round(rows / ms * 1000).toLocaleString("en")}`;
  console.log("\npaired medians (raw and library back to back in each iteration):");
  console.log("| case | raw | library | library / raw | rows/s raw | rows/s library |");
  console.log("|---|---|---|---|---|---|");
  for (const [group, r] of pairs) {
    if (r.lib.length === 0) continue;
    const ratios = r.lib.map((l, i) => l / r.raw[i]);
    const [raw, lib] = [median(r.raw), median(r.lib)];
    console.log(
      `| ${group} | ${raw.toFixed(1)} ms | ${lib.toFixed(1)} ms | ${median(ratios).toFixed(2)}× (${
        Math.min(...ratios).toFixed(2)
      }–${Math.max(...ratios).toFixed(2)}) | ${rate(r.rows, raw)} | ${rate(r.rows, lib)} |`,
    );
  }
}

async function register(): Promise<void> {
  const backends: TestBackend[] = [];
  for (const b of ["mysql", "postgres"] as const) {
    const st = await serverStatus(b);
    if (st.reachable) backends.push(b);
    else console.log(`note: ${st.label} not reachable at ${st.address} (${st.reason}): left out`);
  }
  backends.push("pglite");
  const toDrop: string[] = [];
  globalThis.addEventListener("unload", () => {
    printPairs();
    if (toDrop.length === 0) return;
    const out = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", new URL(import.meta.url).pathname, "--drop", ...toDrop],
      stdout: "inherit",
      stderr: "inherit",
    }).outputSync();
    if (!out.success) console.log("note: cleanup failed; the next run drops the leftovers");
  });

  const rows = smallRows(N);
  for (const backend of backends) {
    const c = await openTestConnection(backend);
    for (const old of await c.listSchemas()) {
      if (old.startsWith(PREFIX)) await c.execute(c.kit.dialect.dropSchema(old));
    }
    const name = scratchName(PREFIX);
    if (backend !== "pglite") toDrop.push(`${backend}:${name}`);
    const { s, tables } = declareTables(name, c);
    const { Flat, Grp, Item, Key, Doubled } = tables;
    await s.declare();
    await Grp.insert(
      Array.from({ length: GROUPS }, (_, g) => ({ grp: g, kind: g % 2 === 0 ? "even" : "odd" })),
    );
    await Item.insert(rows);
    await Key.insert(Array.from({ length: KEYS }, (_, k) => ({ k })));

    const flat = await Flat.heading();
    const truncate = `TRUNCATE TABLE ${c.kit.dialect.quote(flat.schema)}.${
      c.kit.dialect.quote(flat.table)
    }`;
    // The raw side runs exactly the statements the library sends (recorded once here), with
    // the parameters taken straight from the rows.
    const statements = (await recordStatements(c, () => Flat.insert(rows)))
      .filter((st) => st.sql.startsWith("INSERT"));
    const width = 4;
    pair({
      group: `${backend}: insert`,
      rows: N,
      rawName: `${backend}: raw driver, ${N} rows in ${statements.length} multi-row INSERTs`,
      libName: `${backend}: insert(${N} rows)`,
      n: 5,
      warmup: 1,
      prepare: () => c.execute(truncate),
      async raw() {
        await c.driver.execute(c.kit.dialect.beginTransaction);
        let r = 0;
        for (const st of statements) {
          const params: unknown[] = [];
          for (const end = r + st.params / width; r < end; r++) {
            const row = rows[r];
            params.push(row.id, row.grp, row.val, row.label);
          }
          await c.driver.execute(st.sql, params);
        }
        await c.driver.execute("COMMIT");
      },
      lib: () => Flat.insert(rows),
    });

    const all = await compiled(Item.query());
    pair({
      group: `${backend}: fetch`,
      rows: N,
      rawName: `${backend}: raw driver, SELECT of ${N} rows`,
      libName: `${backend}: toDicts() of ${N} rows`,
      n: 10,
      warmup: 2,
      async raw() {
        const got = await c.driver.query(all.sql, all.params);
        if (got.length !== N) throw new Error(`raw fetch gave ${got.length} rows`);
      },
      async lib() {
        const got = await Item.toDicts();
        if (got.length !== N) throw new Error(`toDicts gave ${got.length} rows`);
      },
    });

    // Half the groups, three quarters of the values: 3/8 of the items.
    const joinQuery = () =>
      Item.restrict(`val < ${N * 0.375}`).join(Grp.restrict({ kind: "even" })).proj(
        "label",
        "kind",
      );
    const join = await compiled(joinQuery());
    const joined = (await c.driver.query(join.sql, join.params)).length;
    pair({
      group: `${backend}: restrict+join`,
      rows: N,
      rawName: `${backend}: raw driver, restrict+join SELECT (${joined} of ${N} rows)`,
      libName: `${backend}: restrict+join toDicts() (${joined} of ${N} rows)`,
      n: 10,
      warmup: 2,
      async raw() {
        const got = await c.driver.query(join.sql, join.params);
        if (got.length !== joined) throw new Error(`raw join gave ${got.length} rows`);
      },
      async lib() {
        const got = await joinQuery().toDicts();
        if (got.length !== joined) throw new Error(`join gave ${got.length} rows`);
      },
    });

    await registerPopulate(c, backend, Doubled);
  }
}

/**
 * Populate of `KEYS` keys with a trivial `make`, against the raw driver sending what populate
 * sends (recorded from one populate run): the `SELECT` of the keys to do, then per key `BEGIN`,
 * the check that the key is not done yet, the `INSERT` and `COMMIT`.
 */
async function registerPopulate(
  c: Connection,
  backend: TestBackend,
  Doubled: typeof Computed,
): Promise<void> {
  const h = await Doubled.heading();
  const truncate = `TRUNCATE TABLE ${c.kit.dialect.quote(h.schema)}.${
    c.kit.dialect.quote(h.table)
  }`;
  const populate = () => (Doubled as unknown as { populate(): Promise<unknown> }).populate();
  const seen: { sql: string; params: number }[] = [];
  type Send = (this: unknown, sql: string, params?: readonly unknown[]) => Promise<unknown>;
  const driver = c.driver as unknown as Record<string, Send>;
  for (const m of ["query", "execute"]) {
    const original = driver[m];
    driver[m] = (sql, params) => {
      seen.push({ sql, params: params?.length ?? 0 });
      return original.call(c.driver, sql, params);
    };
  }
  try {
    await populate();
  } finally {
    for (const m of ["query", "execute"]) delete driver[m];
  }
  const [select, begin, check, insert, commit] = seen;
  if (seen.length !== 1 + 4 * KEYS || !insert.sql.startsWith("INSERT")) {
    throw new Error(`populate sent ${seen.length} statements, not 1 + 4 per key: update the bench`);
  }
  pair({
    group: `${backend}: populate`,
    rows: KEYS,
    rawName: `${backend}: raw driver, the same ${seen.length} statements`,
    libName: `${backend}: populate() of ${KEYS} keys, trivial make`,
    n: 5,
    warmup: 1,
    prepare: () => c.execute(truncate),
    async raw() {
      const keys = await c.driver.query<{ k: number }>(select.sql);
      for (const { k } of keys) {
        await c.driver.execute(begin.sql);
        if ((await c.driver.query(check.sql, [k])).length > 0) throw new Error("done already");
        await c.driver.execute(insert.sql, [k, k * 2]);
        await c.driver.execute(commit.sql);
      }
      if (keys.length !== KEYS) throw new Error(`raw populate saw ${keys.length} keys`);
    },
    async lib() {
      const r = await populate() as { successCount: number };
      if (r.successCount !== KEYS) throw new Error(`populate made ${r.successCount} rows`);
    },
  });
}

if (Deno.args[0] === "--drop") {
  // Cleanup subprocess: --drop <backend>:<schema> …
  for (const spec of Deno.args.slice(1)) {
    const [backend, name] = spec.split(":") as [TestBackend, string];
    const c = await openTestConnection(backend);
    try {
      if (await c.schemaExists(name)) await c.execute(c.kit.dialect.dropSchema(name));
    } finally {
      await c.close();
    }
  }
} else {
  await register();
}
