/**
 * Declaration and heading speed on each backend: declaring a 50-table schema with foreign keys,
 * opening (heading load of) all 50 tables, and PGlite's cold start. Baseline in the same run: the
 * driver's raw `SELECT 1` round trip. Servers that cannot be reached are left out with a note.
 *
 * Run: `deno task bench` (or `deno bench --allow-all bench/declare_bench.ts`).
 *
 * @module
 */
import { Connection } from "../lib/connection.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Manual, type TableClass } from "../lib/table.ts";
import { openTestConnection, type TestBackend } from "../tests/_connections.ts";
import { serverStatus } from "../tests/_servers.ts";

const TABLES = 50;

/** 50 classes: a tree (each table's parent is table ⌊(i−1)/3⌋) plus a secondary FK to T0. */
function classes(): TableClass[] {
  const out: (typeof Manual)[] = [];
  for (let i = 0; i < TABLES; i++) {
    const lines = i === 0 ? ["k0 : int32  # root key"] : [
      `-> T${Math.floor((i - 1) / 3)}`,
      `k${i} : int16  # own key`,
      "---",
      ...(i > 3 ? [`-> T0.proj(root_k=\'k0\')`] : []),
      "v = null : float64  # a value",
      `label = '' : varchar(32)`,
      "at = CURRENT_TIMESTAMP : datetime",
    ];
    const cls = class extends Manual {
      static override definition = `# table ${i}\n${lines.join("\n")}`;
    };
    Object.defineProperty(cls, "name", { value: `T${i}` });
    out.push(cls);
  }
  return out as unknown as TableClass[];
}

let counter = 0;
const backends: TestBackend[] = ["pglite"];
for (const b of ["mysql", "postgres"] as const) {
  if ((await serverStatus(b)).reachable) backends.push(b);
  else console.log(`note: ${b} not reachable, left out of the declaration bench`);
}

for (const backend of backends) {
  const c = await openTestConnection(backend);
  // deno bench has no teardown hook: drop what an earlier run left behind instead.
  for (const old of await c.listSchemas()) {
    if (old.startsWith("djbench_")) {
      await makeSchema(old, { connection: c }).drop({ cascade: true });
    }
  }
  const group = backend;
  Deno.bench({
    name: `${backend}: SELECT 1 round trip (baseline)`,
    group,
    baseline: true,
    n: 200,
    warmup: 10,
    async fn() {
      await c.query("SELECT 1 AS one");
    },
  });
  Deno.bench({
    name: `${backend}: declare a 50-table schema with foreign keys`,
    group,
    n: 3,
    warmup: 0,
    async fn(t) {
      const s = makeSchema(`djbench_${Date.now()}_${counter++}`, { connection: c });
      for (const cls of classes()) s(cls);
      t.start();
      await s.declare();
      t.end();
      await s.drop({ cascade: true });
    },
  });
  const name = `djbench_open_${Date.now()}`;
  const s = makeSchema(name, { connection: c });
  const opened = classes().map((cls) => s(cls));
  await s.declare();
  let queries = 0;
  Deno.bench({
    name: `${backend}: open 50 tables (catalog + 50 headings)`,
    group,
    n: 10,
    warmup: 1,
    async fn() {
      c.invalidate();
      const before = countQueries(c);
      for (const cls of opened) await (cls as unknown as typeof Manual).heading();
      queries = countQueries(c) - before;
    },
  });
  globalThis.addEventListener("unload", () => {
    console.log(`${backend}: opening 50 tables took ${queries} queries`);
  });
}

Deno.bench({
  name: "pglite: cold start (in memory) + SELECT 1",
  group: "pglite-start",
  n: 3,
  warmup: 0,
  async fn() {
    const c = await Connection.open({
      env: {},
      ignoreFile: true,
      overrides: { database: { backend: "pglite", path: "memory://" } },
    });
    await c.query("SELECT 1 AS one");
    await c.close();
  },
});

/** Counts statements sent through a connection's driver (wrapped once, on first use). */
function countQueries(c: Connection): number {
  const d = c.driver as unknown as { __count?: number; query: unknown; execute: unknown };
  if (d.__count === undefined) {
    d.__count = 0;
    const q = c.driver.query.bind(c.driver);
    const e = c.driver.execute.bind(c.driver);
    Object.assign(c.driver, {
      query: (...a: Parameters<typeof q>) => {
        d.__count!++;
        return q(...a);
      },
      execute: (...a: Parameters<typeof e>) => {
        d.__count!++;
        return e(...a);
      },
    });
  }
  return d.__count;
}
