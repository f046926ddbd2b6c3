/**
 * `<blob@>` fetches that adopt the download instead of copying it: `unpack(bytes, { adopt: true })`
 * uses an aligned, order-free array plane in place, copies everything else, and gives the same
 * values as a plain unpack; through a table (every backend, file store and S3) a big 1-D array
 * comes back as a view of the downloaded buffer, other shapes and compressed blobs come back
 * right, and a `<blob>` codec registered in place of the built-in one is still the one used.
 *
 * @module
 */
import assert from "node:assert/strict";
import { BLOB_ADOPT_OFFSET, NDArray, pack, unpack } from "../codecs/blob/mod.ts";
import { codec, getCodec, unregisterCodec } from "../codecs/registry.ts";
import type { Connection } from "../lib/connection.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Manual } from "../lib/table.ts";
import { scratchName } from "./_servers.ts";
import { onEveryBackendAndStore } from "./_stores.ts";
import { noisyDoubles } from "./_blob_data.ts";

/** Bytes placed `offset` bytes into a fresh buffer. */
function placed(bytes: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(offset + bytes.length).subarray(offset);
  out.set(bytes);
  return out;
}

/** The buffer under an array's elements. */
function bufferOf(a: NDArray): ArrayBufferLike {
  return (a.data as ArrayBufferView).buffer;
}

Deno.test("unpack adopt: an aligned 1-D plane is used in place, the values are the same", () => {
  const values = noisyDoubles(5000, 1);
  const bytes = placed(pack(NDArray.from(values), { compress: false }), BLOB_ADOPT_OFFSET);
  const back = unpack(bytes, { adopt: true }) as NDArray;
  assert.equal(bufferOf(back), bytes.buffer);
  assert.equal((back.data as Float64Array).byteOffset % 8, 0);
  assert.deepEqual(Array.from(back.data as Float64Array), Array.from(values));
  // Without adopt (the default) the result never shares the caller's buffer.
  const copied = unpack(bytes) as NDArray;
  assert.notEqual(bufferOf(copied), bytes.buffer);
  assert.deepEqual(Array.from(copied.data as Float64Array), Array.from(values));
});

Deno.test("unpack adopt: misaligned, reordered, small or compressed planes are copied", () => {
  const values = noisyDoubles(6000, 2);
  const plain = pack(NDArray.from(values), { compress: false });
  // Misaligned in its buffer: copied.
  const off = placed(plain, 0);
  const a = unpack(off, { adopt: true }) as NDArray;
  assert.notEqual(bufferOf(a), off.buffer);
  assert.deepEqual(Array.from(a.data as Float64Array), Array.from(values));
  // Two dimensions above 1: the F-order wire layout must be reordered.
  const grid = NDArray.from(values, [60, 100]);
  const g = placed(pack(grid, { compress: false }), BLOB_ADOPT_OFFSET);
  const gb = unpack(g, { adopt: true }) as NDArray;
  assert.notEqual(bufferOf(gb), g.buffer);
  assert.deepEqual(gb.shape, [60, 100]);
  assert.deepEqual(Array.from(gb.data as Float64Array), Array.from(values));
  // A small plane inside a big blob is copied, so that it does not keep the blob alive.
  const mixed = { small: NDArray.from(new Float64Array([1, 2, 3])), big: "x".repeat(100_000) };
  const m = placed(pack(mixed, { compress: false }), BLOB_ADOPT_OFFSET);
  const mb = unpack(m, { adopt: true }) as { small: NDArray; big: string };
  assert.notEqual(bufferOf(mb.small), m.buffer);
  assert.deepEqual(Array.from(mb.small.data as Float64Array), [1, 2, 3]);
  assert.equal(mb.big.length, 100_000);
  // Compressed: the inflated bytes are never adopted.
  const zeros = NDArray.from(new Float64Array(10_000));
  const z = placed(pack(zeros, { compress: true }), BLOB_ADOPT_OFFSET);
  const zb = unpack(z, { adopt: true }) as NDArray;
  assert.equal((zb.data as Float64Array).length, 10_000);
  assert.ok((zb.data as Float64Array).every((x) => x === 0));
});

Deno.test("unpack adopt: bool, int and complex planes keep their values", () => {
  const flags = Array.from({ length: 4096 }, (_, i) => i % 3 !== 0);
  const bools = placed(pack(NDArray.bool(flags), { compress: false }), BLOB_ADOPT_OFFSET);
  // A bool plane is one byte per element: aligned wherever it lies.
  bools[bools.length - 1] = 7; // nonzero bytes other than 1 still mean true
  const b = unpack(bools, { adopt: true }) as NDArray;
  assert.equal(bufferOf(b), bools.buffer);
  assert.deepEqual(Array.from(b.data as Uint8Array).slice(0, 6), [0, 1, 1, 0, 1, 1]);
  assert.equal(b.at(4095), true);
  const ints = NDArray.from(new Int32Array(5000).map((_, i) => i - 2500));
  const ib = placed(pack(ints, { compress: false }), BLOB_ADOPT_OFFSET);
  const i = unpack(ib, { adopt: true }) as NDArray;
  assert.equal(bufferOf(i), ib.buffer);
  assert.deepEqual(Array.from(i.data as Int32Array), Array.from(ints.data as Int32Array));
  const re = noisyDoubles(3000, 3);
  const im = noisyDoubles(3000, 4);
  const cplx = new NDArray("complex128", [3000], re, im);
  const cb = placed(pack(cplx, { compress: false }), BLOB_ADOPT_OFFSET);
  const c = unpack(cb, { adopt: true }) as NDArray;
  assert.equal(bufferOf(c), cb.buffer);
  assert.equal((c.imag as Float64Array).buffer, cb.buffer);
  assert.deepEqual(Array.from(c.data as Float64Array), Array.from(re));
  assert.deepEqual(Array.from(c.imag as Float64Array), Array.from(im));
});

async function declare(c: Connection): Promise<{ T: typeof Manual; drop: () => Promise<void> }> {
  const lab = makeSchema(scratchName("dj_adopt_"), { connection: c });
  @lab
  class Arrays extends Manual {
    static override definition = `
      id : int32
      ---
      v : <blob@>
    `;
  }
  await Arrays.declare();
  return { T: Arrays, drop: () => lab.drop({ cascade: true }) };
}

await onEveryBackendAndStore("<blob@> fetch adopts the download of a big 1-D array", async (c) => {
  const { T, drop } = await declare(c);
  try {
    const line = noisyDoubles(300_000, 5); // 2.4 MB of noise: stored uncompressed
    const grid = NDArray.from(noisyDoubles(120_000, 6), [300, 400]);
    const zeros = NDArray.from(new Float64Array(200_000));
    const nested = { trace: NDArray.from(noisyDoubles(1000, 7)), rate: 30, label: "ok" };
    await T.insert([
      { id: 1, v: NDArray.from(line) },
      { id: 2, v: grid },
      { id: 3, v: zeros },
      { id: 4, v: nested },
    ]);
    const a = await T.restrict({ id: 1 }).fetch1("v") as NDArray;
    // The array is a view of the downloaded object (placed so that its elements are aligned).
    const size = pack(NDArray.from(line), { compress: true }).length;
    assert.equal(bufferOf(a).byteLength, BLOB_ADOPT_OFFSET + size);
    assert.deepEqual(a.data, line);
    const g = await T.restrict({ id: 2 }).fetch1("v") as NDArray;
    assert.deepEqual(g.shape, [300, 400]);
    assert.deepEqual(g.data, grid.data);
    const z = await T.restrict({ id: 3 }).fetch1("v") as NDArray;
    assert.deepEqual(z.data, zeros.data);
    const n = await T.restrict({ id: 4 }).fetch1("v") as typeof nested;
    assert.deepEqual(n.trace.data, nested.trace.data);
    assert.deepEqual([n.rate, n.label], [30, "ok"]);
  } finally {
    await drop();
  }
}, ["file", "s3"]);

Deno.test("a <blob> codec registered in place of the built-in one decodes <blob@> itself", async () => {
  const { openTestConnection } = await import("./_connections.ts");
  const { scratchStores } = await import("./_stores.ts");
  const builtin = getCodec("blob")!;
  const stores = await scratchStores("file");
  const c = await openTestConnection("pglite");
  unregisterCodec("blob");
  codec({
    name: "blob",
    getDtype: (isStore) => (isStore ? "<hash>" : "bytes"),
    encode: (value) => pack(value as never),
    decode: (stored) => ({ replaced: unpack(stored as Uint8Array) }),
  });
  try {
    await c.configureStores(stores.config);
    const { T, drop } = await declare(c);
    try {
      await T.insert1({ id: 1, v: NDArray.from(noisyDoubles(200_000, 8)) });
      const back = await T.restrict({ id: 1 }).fetch1("v") as { replaced: NDArray };
      assert.equal((back.replaced.data as Float64Array).length, 200_000);
    } finally {
      await drop();
    }
  } finally {
    unregisterCodec("blob");
    codec(builtin);
    await c.close();
    await stores.dispose();
  }
});
