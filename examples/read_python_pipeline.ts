/**
 * Reading a pipeline that DataJoint Python wrote, without its Python code.
 *
 * DataJoint keeps what a table holds in the database itself: the column comments record each
 * attribute's DataJoint type (`:int32:`, `:<blob@main>:`), foreign keys and the `~lineage` table
 * record how tables relate. `dj.virtualSchema(name)` reads all of that and gives back one class per
 * table, so a schema declared and filled by Python (or MATLAB) can be queried here right away:
 * counts, rows decoded through the same codecs Python used, joins.
 *
 * Run it with `deno run --allow-all examples/read_python_pipeline.ts [schema]` (default
 * `DJ_EXAMPLE_SCHEMA`, else `dj_golden`, the schema of this project's reference data). Point the
 * DJ_* variables (or `datajoint.json`) at the server Python uses, and `DJ_STORES` at the same
 * object stores, so that store-backed values (`<blob@main>`, `<npy@main>`, …) can be read.
 * Attachments (`<attach>`) are saved to a temporary folder, removed at the end.
 *
 * @module
 */
import * as dj from "../mod.ts";

const name = Deno.args[0] ?? Deno.env.get("DJ_EXAMPLE_SCHEMA") ?? "dj_golden";
const downloads = await Deno.makeTempDir({ prefix: "dj-python-pipeline-" });
// Settings in code win over DJ_* and datajoint.json: fetched attachments go to the temp folder.
const conn = await dj.Connection.open({ overrides: { downloadPath: downloads } });

try {
  if (!(await conn.schemaExists(name))) {
    throw new dj.DataJointError(
      `There is no schema ${name} on ${conn.backend}: name one that exists (DataJoint Python's ` +
        `dj.Schema("…") name), or point the DJ_* variables at the server that has it`,
    );
  }
  // One class per table, parents before children; nothing is declared or changed.
  const pipeline = await dj.virtualSchema(name, { connection: conn });
  const tables = Object.entries(pipeline.tables) as [string, typeof dj.Table][];

  console.log(`schema ${name} on ${conn.backend}: ${tables.length} tables`);
  for (const [className, table] of tables) {
    const rows = await table.count();
    console.log(
      `  ${className.padEnd(12)} ${table.tier.padEnd(9)} ${
        table.tableName.padEnd(14)
      } ${rows} rows`,
    );
  }

  // The first rows of each table, every attribute decoded by its codec.
  for (const [className, table] of tables) {
    const heading = await table.heading();
    const visible = heading.attributes.filter((a) => !a.hidden);
    console.log(`\n${className}: ${visible.map((a) => `${a.name} ${a.type}`).join(", ")}`);
    for (const row of await table.toDicts({ orderBy: "KEY", limit: 2 })) {
      console.log(`  ${visible.map((a) => `${a.name}=${show(row[a.name])}`).join("  ")}`);
    }
  }

  // A join along the first foreign key between two tables that both have rows: each child row
  // with its parent's attributes, matched on the columns they share (their lineage says so).
  for (const [childName, child] of tables) {
    const fk = (await child.heading()).foreignKeys.find((k) => k.refSchema === name);
    const parentEntry = fk && tables.find(([, t]) => t.tableName === fk.refTable);
    if (!parentEntry || !(await child.exists())) continue;
    const [parentName, parent] = parentEntry;
    const parentAttributes = (await parent.heading()).attributes
      .filter((a) => !a.inKey && !a.hidden && a.kind !== "codec")
      .map((a) => a.name);
    console.log(`\n${childName} joined with ${parentName} (on ${fk.columns.join(", ")}):`);
    const joined = child.join(parent).proj(...parentAttributes);
    for (const row of await joined.toDicts({ orderBy: "KEY" })) {
      console.log(`  ${Object.entries(row).map(([k, v]) => `${k}=${show(v)}`).join("  ")}`);
    }
    break;
  }
} finally {
  await conn.close();
  await Deno.remove(downloads, { recursive: true });
}

/** A short, one-line rendering of a fetched value. */
function show(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") {
    // An attachment comes back as the path of the file saved in the download folder.
    if (value.startsWith(downloads)) {
      return `file ${value.slice(downloads.length + 1)} (${Deno.statSync(value).size} bytes)`;
    }
    return JSON.stringify(value.length > 30 ? `${value.slice(0, 27)}...` : value);
  }
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (value instanceof dj.NDArray) return `${value.dtype} array [${value.shape}]`;
  // `<npy@>`: shape and dtype come from the column; the data stays in the store until loaded.
  if (value instanceof dj.NpyRef) return `npy ${value.dtype} [${value.shape}] in the store`;
  // `<object@>` / `<filepath@>`: a handle on a store object (read(), list(), download()).
  if (value instanceof dj.ObjectRef) {
    return `${value.isDir ? "folder" : "file"} ${value.path.split("/").at(-1)} in the store`;
  }
  if (typeof value === "object") {
    const text = Deno.inspect(value, { compact: true, breakLength: Infinity, depth: 3 });
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  }
  return String(value);
}
