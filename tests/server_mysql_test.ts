/**
 * Connectivity test against a real MySQL/MariaDB server (npm:mysql2): a 10 MB random LONGBLOB value
 * makes a round trip through a scratch table, using prepared statements (`execute()`).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import mysql from "mysql2/promise";
import {
  assertBytesEqual,
  mysqlSettings,
  randomBytes,
  scratchName,
  serverTest,
} from "./_servers.ts";

const SIZE = 10 * 1024 * 1024;

await serverTest("mysql", "mysql: 10 MB longblob round trip", async () => {
  const s = mysqlSettings();
  const conn = await mysql.createConnection({
    host: s.host,
    port: s.port,
    user: s.user,
    password: s.password,
    database: s.database,
    supportBigNumbers: true,
  });
  const table = scratchName("dj_ci_my_");
  try {
    const [packet] = await conn.query("select @@max_allowed_packet as p");
    const maxPacket = Number((packet as mysql.RowDataPacket[])[0].p);
    if (maxPacket < SIZE + 1024 * 1024) {
      throw new Error(`max_allowed_packet=${maxPacket} is too small for a ${SIZE} byte value`);
    }
    await conn.query(`create table \`${table}\` (id int primary key, data longblob not null)`);
    try {
      const value = randomBytes(SIZE);
      const param = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      await conn.execute(`insert into \`${table}\` (id, data) values (?, ?)`, [1, param]);
      const [rows] = await conn.execute<mysql.RowDataPacket[]>(
        `select data, length(data) as n from \`${table}\` where id = ?`,
        [1],
      );
      if (rows.length !== 1) throw new Error(`expected 1 row, got ${rows.length}`);
      if (Number(rows[0].n) !== SIZE) throw new Error(`server stored ${rows[0].n} bytes`);
      assertBytesEqual(rows[0].data, value, "longblob");
    } finally {
      await conn.query(`drop table if exists \`${table}\``);
    }
  } finally {
    await conn.end();
  }
});
