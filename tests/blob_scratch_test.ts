/**
 * Packing into supplied memory (`pack(…, { allocate })`) gives exactly the bytes of a plain
 * `pack`, and `ScratchPool` reuses, limits and drops its buffers; through a table, `<blob@>`
 * values packed into reused memory (several rows at once) are stored under the hash of exactly
 * those bytes and fetch back intact.
 *
 * @module
 */
import assert from "node:assert/strict";
import { NDArray, pack, unpack } from "../codecs/blob/mod.ts";
import { ScratchPool } from "../codecs/blob/scratch.ts";
import { BlobEncodeError } from "../lib/errors.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Manual } from "../lib/table.ts";
import { computeHash } from "../stores/paths.ts";
import { scratchName } from "./_servers.ts";
import { onEveryBackendAndStore } from "./_stores.ts";
import { noisyDoubles } from "./_blob_data.ts";

const MiB = 1024 * 1024;

Deno.test("pack with allocate: the same bytes as pack, in the supplied memory", () => {
  const values: unknown[] = [
    NDArray.from(noisyDoubles(300_000, 1)), // one big plane
    NDArray.from(noisyDoubles(240_000, 2), [400, 600]), // reordered on the way in
    { big: NDArray.from(noisyDoubles(200_000, 3)), after: "more items after the big plane", n: 7 },
    NDArray.from(new Float64Array(400_000)), // compresses: new memory
    { small: [1, 2, 3] }, // never reaches 1 MiB
  ];
  for (const [i, value] of values.entries()) {
    const sizes: number[] = [];
    const supplied: Uint8Array[] = [];
    const got = pack(value, {
      compress: true,
      allocate: (size) => {
        sizes.push(size);
        // Longer than asked, and dirty: only the result's bytes count.
        const buf = new Uint8Array(size + 4096).fill(0xee);
        supplied.push(buf);
        return buf;
      },
    });
    assert.deepEqual(got, pack(value, { compress: true }), `value ${i}`);
    if (i <= 2) {
      assert.ok(sizes.length >= 1 && sizes[0] >= MiB, `value ${i} asked for memory`);
      assert.equal(got.buffer, supplied.at(-1)!.buffer, `value ${i} is a view of it`);
    }
    if (i === 4) assert.deepEqual(sizes, []);
  }
});

Deno.test("pack with allocate: a structure of many small items grows by doubling", () => {
  // 3.4 MB of small items: asking for just the next few bytes each time past the end would call
  // allocate (and copy the blob so far) for nearly every item.
  const records = Array.from({ length: 25_000 }, (_, i) => ({
    id: BigInt(i),
    name: `item ${i}`,
    value: i * 0.5,
  }));
  const sizes: number[] = [];
  const got = pack(records, {
    compress: false,
    allocate: (size) => {
      sizes.push(size);
      return new Uint8Array(size);
    },
  });
  assert.deepEqual(got, pack(records, { compress: false }));
  assert.ok(got.length > 3 * MiB, `the structure is ${got.length} bytes`);
  assert.ok(sizes.length <= 4, `allocate was called ${sizes.length} times: ${sizes.slice(0, 5)}…`);
  for (let k = 1; k < sizes.length; k++) assert.ok(sizes[k] >= 2 * sizes[k - 1], "doubling");
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

Deno.test("pack: results stay intact while later packs reuse memory for compression", () => {
  // Compressed packs put their plain blob in reused memory; a result stored uncompressed
  // (incompressible) must own its bytes, whatever is packed after it.
  const smooth = (n: number) => Float64Array.from({ length: n }, (_, i) => Math.round(i / 100));
  const values = [
    NDArray.from(noisyDoubles(300_000, 11)), // stored plain
    NDArray.from(smooth(300_000)), // compressed: its plain blob goes back to the pool
    NDArray.from(noisyDoubles(200_000, 12), [400, 500]), // plain, in the reused (longer) memory
    NDArray.from(smooth(400_000), [800, 500]), // compressed
    NDArray.from(noisyDoubles(300_000, 13)), // plain
  ];
  const results = values.map((v) => pack(v));
  const expected = values.map((v) => pack(v, { compress: false }));
  for (const [i, got] of results.entries()) {
    const plain = i % 2 === 0;
    assert.equal(got.length < expected[i].length, !plain, `value ${i} compressed: ${!plain}`);
    if (plain) assert.ok(sameBytes(got, expected[i]), `value ${i} kept its bytes`);
    else assert.deepEqual(unpack(got), unpack(expected[i]), `value ${i} unpacks`);
  }
  for (let i = 0; i < results.length; i += 2) {
    for (let k = i + 2; k < results.length; k += 2) {
      assert.notEqual(results[i].buffer, results[k].buffer, `values ${i} and ${k} share memory`);
    }
  }
});

Deno.test("pack with allocate: a buffer that is too short is an error", () => {
  assert.throws(
    () =>
      pack(NDArray.from(noisyDoubles(200_000, 4)), {
        allocate: (size) => new Uint8Array(size - 1),
      }),
    (e: unknown) => e instanceof BlobEncodeError && /at least/.test(e.message),
  );
});

Deno.test("ScratchPool: reuses fitting buffers, keeps within limits, drops when idle", async () => {
  const pool = new ScratchPool({ minBytes: 1000, maxBytes: 10_000, idleMs: 50 });
  const a = pool.take(4000);
  assert.equal(a.length, 4000);
  pool.give(a);
  assert.equal(pool.keptBytes, 4000);
  assert.equal(pool.take(3000), a, "a kept buffer that fits is reused");
  assert.equal(pool.keptBytes, 0);
  pool.give(a);
  assert.notEqual(pool.take(1500), a, "not one more than twice the size asked for");
  assert.notEqual(pool.take(5000), a, "not one too small");
  pool.give(a);
  pool.give(a); // twice: kept once
  assert.equal(pool.keptBytes, 4000);
  pool.give(new Uint8Array(999)); // below minBytes: not kept
  assert.equal(pool.keptBytes, 4000);
  const b = new Uint8Array(7000);
  pool.give(b); // 11,000 > 10,000: the smaller one makes room
  assert.equal(pool.keptBytes, 7000);
  pool.give(new Uint8Array(2000)); // fits beside it
  assert.equal(pool.keptBytes, 9000);
  pool.give(new Uint8Array(20_000)); // bigger than the whole pool: nothing is dropped for it
  assert.equal(pool.keptBytes, 9000);
  pool.give(new Uint8Array(1500)); // no room, and dropping bigger ones is not worth it
  assert.equal(pool.keptBytes, 9000);
  pool.give(new Uint8Array(7500)); // room made by dropping both smaller ones
  assert.equal(pool.keptBytes, 7500);
  pool.give(new Uint8Array(3000)); // no room, nothing smaller to drop
  assert.equal(pool.keptBytes, 7500);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(pool.keptBytes, 0, "dropped after being idle");
  pool.give(new Uint8Array(3000));
  pool.clear();
  assert.equal(pool.keptBytes, 0);
});

await onEveryBackendAndStore(
  "<blob@> values packed into reused memory store the right bytes",
  async (c) => {
    const schemaName = scratchName("dj_scratch_");
    const lab = makeSchema(schemaName, { connection: c });
    @lab
    class Arrays extends Manual {
      static override definition = `
      id : int32
      ---
      v : <blob@>
    `;
    }
    await Arrays.declare();
    try {
      // Several rows at once (the insert encodes up to 8 at a time), then again: the pool's
      // buffers are reused, and no row may see another's bytes.
      for (const round of [0, 1]) {
        const values = [0, 1, 2, 3].map((i) =>
          NDArray.from(noisyDoubles(150_000 + 1000 * i, 10 * round + i))
        );
        await Arrays.insert(values.map((v, i) => ({ id: 10 * round + i, v })));
        for (const [i, v] of values.entries()) {
          const id = 10 * round + i;
          const q = c.kit.dialect.quote;
          const [row] = await c.query(
            `SELECT v FROM ${q(schemaName)}.${q(Arrays.tableName)} WHERE id = ${id}`,
          );
          const meta = (typeof row.v === "string" ? JSON.parse(row.v) : row.v) as { hash: string };
          assert.equal(meta.hash, computeHash(pack(v, { compress: true })), `row ${id} hash`);
          const back = await Arrays.restrict({ id }).fetch1("v") as NDArray;
          assert.deepEqual(back.data, v.data, `row ${id} values`);
        }
      }
    } finally {
      await lab.drop({ cascade: true });
    }
  },
  ["file", "s3"],
);
