/**
 * Connectivity test against a real PostgreSQL server (npm:postgres): a 10 MB random bytea value
 * makes a round trip through a scratch table.
 *
 * @module
 */
import postgres from "postgres";
import { assertBytesEqual, pgSettings, randomBytes, scratchName, serverTest } from "./_servers.ts";

const SIZE = 10 * 1024 * 1024;

await serverTest("postgres", "postgres: 10 MB bytea round trip", async () => {
  const s = pgSettings();
  const sql = postgres({
    host: s.host,
    port: s.port,
    user: s.user,
    pass: s.password,
    database: s.database,
    max: 1,
    onnotice: () => {},
  });
  const table = scratchName("dj_ci_pg_");
  try {
    const [{ version }] = await sql`select version() as version`;
    if (!String(version).startsWith("PostgreSQL")) throw new Error(`unexpected: ${version}`);
    await sql`create table ${sql(table)} (id int primary key, data bytea not null)`;
    try {
      const value = randomBytes(SIZE);
      await sql`insert into ${sql(table)} (id, data) values (1, ${value})`;
      const rows = await sql`select data, octet_length(data) as n from ${sql(table)} where id = 1`;
      if (rows.length !== 1) throw new Error(`expected 1 row, got ${rows.length}`);
      if (Number(rows[0].n) !== SIZE) throw new Error(`server stored ${rows[0].n} bytes`);
      assertBytesEqual(rows[0].data, value, "bytea");
    } finally {
      await sql`drop table if exists ${sql(table)}`;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
});
