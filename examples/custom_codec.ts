/**
 * Custom codecs: your own value types in table columns.
 *
 * A codec turns a value of yours into something the database (or an object store) can hold, and
 * back. `dj.codec({...})` defines one and registers it under a name; from then on `<name>` is a
 * type you can use in definitions, like the built-in `<blob>` or `<npy@>`. This script defines
 * three, each with a `validate` that refuses bad values (the last part shows the errors):
 *
 * - `<point>`     in the table: a `Point` kept as a JSON column;
 * - `<report@>`   in the object store: long text kept as a file, deduplicated by its content
 *                 (through the built-in `<hash@>`); the column holds only a small reference;
 * - `<polygon>`   a chain: a list of points becomes an n×2 array, which the built-in `<blob>`
 *                 packs; written `<polygon@>` the same chain continues into the store
 *                 (`<polygon@>` → `<blob@>` → `<hash@>`).
 *
 * Run it with `deno run --allow-all examples/custom_codec.ts`. The connection and stores come from
 * the DJ_* variables or `datajoint.json`; with neither, PGlite and a file store in `.dj/` of the
 * current project. `DJ_EXAMPLE_SCHEMA` names the schema (default `example_codecs`); it is dropped
 * and rebuilt at the start, so every run prints the same thing.
 *
 * @module
 */
import * as dj from "../mod.ts";

// ── Your value type ──────────────────────────────────────────────────────────────────────────
class Point {
  constructor(readonly x: number, readonly y: number) {}
  toString(): string {
    return `(${this.x}, ${this.y})`;
  }
}

// ── 1. An in-table codec with validation ─────────────────────────────────────────────────────
const point = dj.codec<Point, { x: number; y: number }>({
  name: "point",
  // The type one level down: `json` in the table. `<point@store>` makes no sense for a value this
  // small, so that mode is refused (the error appears when a table declares it).
  getDtype(isStore) {
    if (isStore) throw new dj.CodecError("<point> is stored in the table: write <point>");
    return "json";
  },
  encode: (p) => ({ x: p.x, y: p.y }),
  decode: (stored) => new Point(stored.x, stored.y),
  // Runs before encode (never for null). Throwing here stops the whole insert: nothing is written.
  validate(value) {
    if (!(value instanceof Point)) {
      throw new dj.CodecError(`<point> takes a Point, got ${JSON.stringify(value)}`);
    }
    if (!Number.isFinite(value.x) || !Number.isFinite(value.y)) {
      throw new dj.CodecError(`<point> needs finite coordinates, got ${value}`);
    }
  },
});

// ── 2. A store-only codec ────────────────────────────────────────────────────────────────────
dj.codec<string, Uint8Array>({
  name: "report",
  // Store only: the text goes through the built-in `<hash>`, which writes the bytes to the store
  // under their content hash (the same text twice is one object) and keeps JSON metadata in the
  // column. Which store comes from the definition: `<report@>` (default) or `<report@archive>`.
  getDtype(isStore) {
    if (!isStore) throw new dj.CodecError("<report> lives in an object store: write <report@>");
    return "<hash>";
  },
  encode: (text) => new TextEncoder().encode(text),
  decode: (bytes) => new TextDecoder().decode(bytes),
  validate(value) {
    if (typeof value !== "string") throw new dj.CodecError("<report> takes a string");
  },
});

// ── 3. A chained codec ───────────────────────────────────────────────────────────────────────
dj.codec<Point[], dj.NDArray<"float64">>({
  name: "polygon",
  // Another codec one level down: the polygon becomes an array, `<blob>` packs the array. With a
  // store (`<polygon@>`) the store is passed down the chain, so `<blob@>` keeps it in the store.
  getDtype: () => "<blob>",
  encode(vertices) {
    const xy = new Float64Array(vertices.length * 2);
    vertices.forEach((p, i) => xy.set([p.x, p.y], 2 * i));
    return new dj.NDArray("float64", [vertices.length, 2], xy); // row i is vertex i
  },
  decode(array) {
    const xy = array.data; // C order: x0, y0, x1, y1, …
    return Array.from({ length: array.shape[0] }, (_, i) => new Point(xy[2 * i], xy[2 * i + 1]));
  },
  // Only the outermost codec's validate runs, so this one checks every vertex with <point>'s.
  validate(value) {
    if (!Array.isArray(value) || value.length < 3) {
      throw new dj.CodecError("<polygon> takes an array of at least 3 Points");
    }
    value.forEach((p) => point.validate!(p));
  },
});

// ── A table using them ───────────────────────────────────────────────────────────────────────
const lab = dj.schema(Deno.env.get("DJ_EXAMPLE_SCHEMA") ?? "example_codecs");
await lab.drop(); // start from nothing

@lab
class Arena extends dj.Manual {
  static override definition = `
    # a behavioural arena
    arena_id : int16
    ---
    entrance : <point>           # in the table, as JSON
    outline : <polygon>          # <polygon> -> <blob> -> bytes in the table
    floor_plan = null : <polygon@>  # <polygon> -> <blob> -> <hash>, in the default store
    report = null : <report@>    # <report> -> <hash>, in the default store
  `;
}

// The codec chain of every column, as the heading reports it.
console.log("columns:");
for (const a of (await Arena.heading()).attributes) {
  const chain = a.resolved?.chain.map((c) => `<${c.name}${c.store === null ? "" : "@"}>`) ?? [];
  const steps = chain.length === 0 ? [a.type] : [a.type, ...chain.slice(1), a.storage.text];
  console.log(`  ${a.name.padEnd(10)} ${steps.join(" → ")}`);
}

const square = [new Point(0, 0), new Point(2, 0), new Point(2, 2), new Point(0, 2)];
const summary = "Open field, 2 m × 2 m, cleaned with ethanol between sessions.\n".repeat(20);
await Arena.insert([
  { arena_id: 1, entrance: new Point(1, 0), outline: square, floor_plan: square, report: summary },
  // The same report text again: <hash> stores it once.
  { arena_id: 2, entrance: new Point(0, 1), outline: square.slice(0, 3), report: summary },
]);

console.log("\nfetched (decoded back into Points and text):");
for (const row of await Arena.toDicts({ orderBy: "KEY" })) {
  const entrance = row.entrance as Point;
  const outline = row.outline as Point[];
  const plan = row.floor_plan as Point[] | null;
  console.log(
    `  arena ${row.arena_id}: entrance ${entrance} (a ${entrance.constructor.name}),`,
    `outline ${outline.join(" ")}, floor plan ${plan ? `${plan.length} vertices` : "none"},`,
    `report ${(row.report as string).length} characters`,
  );
}

// What the store holds for this schema: one report (shared by both rows) and one floor plan.
const conn = await dj.conn();
const storeName = conn.stores.resolveName("");
const store = await conn.stores.backend(storeName);
let objects = 0;
for await (const _ of store.list(`_hash/${lab.name}/`)) objects++;
console.log(`\nstore "${storeName}": ${objects} objects for 2 reports and 1 floor plan`);

// ── validate at work ─────────────────────────────────────────────────────────────────────────
console.log("\nrejected by validate (nothing is written):");
const bad: Record<string, unknown>[] = [
  { arena_id: 3, entrance: { x: 1, y: 2 }, outline: square }, // a plain object, not a Point
  { arena_id: 3, entrance: new Point(NaN, 0), outline: square },
  { arena_id: 3, entrance: new Point(1, 1), outline: square.slice(0, 2) }, // 2 vertices
  { arena_id: 3, entrance: new Point(1, 1), outline: square, report: 42 },
];
for (const row of bad) {
  try {
    await Arena.insert1(row);
    console.log("  inserted?!");
  } catch (e) {
    console.log(`  ${(e as Error).name}: ${(e as Error).message}`);
  }
}
console.log(`rows in ${Arena.tableName}: ${await Arena.count()}`);

// A mode the codec refuses is caught when a table is declared.
@lab
class Bad extends dj.Manual {
  static override definition = "id : int16\n---\nspot : <point@>";
}
try {
  await Bad.declare();
} catch (e) {
  console.log(`\ndeclaring <point@>: ${(e as Error).name}: ${(e as Error).message}`);
}

await dj.closeConnection();
