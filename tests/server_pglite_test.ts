/**
 * Connectivity test for the embedded PGlite engine (in memory, no server needed): a 10 MB random
 * bytea value makes one round trip. PGlite is slow with large parameters (a few MB/s), so this
 * stays at a single insert and a single select.
 *
 * @module
 */
import { PGlite } from "@electric-sql/pglite";
import { assertBytesEqual, randomBytes } from "./_servers.ts";

const SIZE = 10 * 1024 * 1024;

Deno.test("pglite: 10 MB bytea round trip (in memory)", async () => {
  const db = await PGlite.create();
  try {
    const { rows: [{ v }] } = await db.query<{ v: string }>("select version() as v");
    if (!v.startsWith("PostgreSQL")) throw new Error(`unexpected version: ${v}`);
    await db.exec("create table scratch (id int primary key, data bytea not null)");
    const value = randomBytes(SIZE);
    await db.query("insert into scratch (id, data) values ($1, $2)", [1, value]);
    const { rows } = await db.query<{ data: Uint8Array; n: number }>(
      "select data, octet_length(data) as n from scratch where id = $1",
      [1],
    );
    if (rows.length !== 1) throw new Error(`expected 1 row, got ${rows.length}`);
    if (Number(rows[0].n) !== SIZE) throw new Error(`stored ${rows[0].n} bytes`);
    assertBytesEqual(rows[0].data, value, "bytea");
    await db.exec("drop table scratch");
  } finally {
    await db.close();
  }
});
