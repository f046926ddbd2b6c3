/**
 * update1() on MariaDB, PostgreSQL and PGlite: values set, kept (absent/undefined), NULL and
 * DEFAULT for `null`, codec attributes encoded, store objects of a failed update removed again,
 * and every refusal (missing key, unknown attribute, no such row, nothing to change, NOT NULL).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Connection } from "../lib/connection.ts";
import {
  DataJointError,
  DuplicateError,
  MissingAttributeError,
  UnknownAttributeError,
} from "../lib/errors.ts";
import { schema as makeSchema } from "../lib/schema.ts";
import { Manual } from "../lib/table.ts";
import { onEveryBackend } from "./_connections.ts";
import { scratchName } from "./_servers.ts";
import { fileSpec } from "./_stores.ts";

async function fixture(c: Connection) {
  const lab = makeSchema(scratchName("dj_upd_"), { connection: c });
  @lab
  class Item extends Manual {
    static override definition = `
      item_id : int32
      kind : varchar(8)
      ---
      name : varchar(16)
      weight = null : float64
      color = 'red' : varchar(8)
      count : int32
      born = null : date
      settings = null : <blob>
      code = null : varchar(8)
      unique index (code)
    `;
  }
  await lab.declare();
  await Item.insert([
    { item_id: 1, kind: "a", name: "one", weight: 1.5, color: "blue", count: 1, code: "c1" },
    { item_id: 2, kind: "a", name: "two", count: 2, code: "c2" },
  ]);
  return { lab, Item };
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

await onEveryBackend("update1: set, keep, null and default; codecs", async (c) => {
  const { lab, Item } = await fixture(c);
  try {
    await Item.update1({
      item_id: 1,
      kind: "a",
      name: "uno",
      weight: undefined, // unchanged
      born: "2024-03-01",
      settings: { rate: 30, channels: [1, 2] },
    });
    let row = await Item.restrict({ item_id: 1, kind: "a" }).fetch1() as Record<string, unknown>;
    assert.equal(row.name, "uno");
    assert.equal(row.weight, 1.5);
    assert.equal(row.color, "blue");
    assert.equal(row.count, 1);
    assert.equal(row.born, "2024-03-01");
    assert.deepEqual(row.settings, { rate: 30, channels: [1, 2] });
    // null: NULL in nullable attributes, the default in a non-nullable one with a default.
    await Item.update1({ item_id: 1, kind: "a", weight: null, color: null, settings: null });
    row = await Item.restrict({ item_id: 1, kind: "a" }).fetch1() as Record<string, unknown>;
    assert.equal(row.weight, null);
    assert.equal(row.color, "red");
    assert.equal(row.settings, null);
    assert.equal(row.name, "uno");
    // The other row is untouched.
    const other = await Item.restrict({ item_id: 2 }).fetch1() as Record<string, unknown>;
    assert.deepEqual([other.name, other.weight, other.color, other.count], ["two", null, "red", 2]);
    // Values with quotes and comments go in as parameters.
    await Item.update1({ item_id: 2, kind: "a", name: "it's -- x;" });
    assert.equal(await Item.restrict({ item_id: 2 }).fetch1("name"), "it's -- x;");
  } finally {
    await lab.drop({ cascade: true });
  }
});

await onEveryBackend("update1: refusals leave the row as it was", async (c) => {
  const { lab, Item } = await fixture(c);
  try {
    const before = await Item.toDicts({ orderBy: "item_id" });
    const refuse = async (row: unknown, cls: typeof DataJointError, pattern: RegExp) => {
      await assert.rejects(Item.update1(row as Record<string, unknown>), (e: unknown) => {
        assert.ok(e instanceof cls, `${(e as Error).constructor.name}: ${(e as Error).message}`);
        assert.match((e as Error).message, pattern);
        return true;
      });
    };
    await refuse({ item_id: 1, name: "x" }, MissingAttributeError, /full primary key.*kind/);
    await refuse({ item_id: 1, kind: null, name: "x" }, MissingAttributeError, /kind/);
    await refuse(
      { item_id: 1, kind: "a", nmae: "x" },
      UnknownAttributeError,
      /no attribute "nmae"/,
    );
    await refuse({ item_id: 9, kind: "a", name: "x" }, DataJointError, /one existing row.*insert/);
    await refuse({ item_id: 1, kind: "a" }, DataJointError, /nothing to change/);
    await refuse({ item_id: 1, kind: "a", name: undefined }, DataJointError, /nothing to change/);
    await refuse(
      { item_id: 1, kind: "a", count: null },
      MissingAttributeError,
      /count.*no default/,
    );
    await refuse({ item_id: 1, kind: "a", count: "many" }, DataJointError, /count/);
    await refuse([{ item_id: 1 }], DataJointError, /one object/);
    await refuse(null, DataJointError, /one object/);
    await refuse({ item_id: 1, kind: "a", code: "c2" }, DuplicateError, /item/);
    assert.deepEqual(await Item.toDicts({ orderBy: "item_id" }), before);
  } finally {
    await lab.drop({ cascade: true });
  }
});

await onEveryBackend("update1: store objects of a failed update are removed", async (c) => {
  const dir = await Deno.makeTempDir({ prefix: "dj-upd-store-" });
  await c.configureStores({ default: "main", main: fileSpec(dir) });
  const lab = makeSchema(scratchName("dj_upd_store_"), { connection: c });
  @lab
  class Scan extends Manual {
    static override definition = `
      scan_id : int32
      ---
      raw = null : <object@>
      tag = null : varchar(8)
      unique index (tag)
    `;
  }
  try {
    await lab.declare();
    await Scan.insert([{ scan_id: 1, tag: "t1" }, { scan_id: 2, tag: "t2" }]);
    await Scan.update1({ scan_id: 1, raw: new Uint8Array([1, 2, 3]) });
    const first = await files(dir);
    assert.equal(first.length, 1);
    const ref = await Scan.restrict({ scan_id: 1 }).fetch1("raw") as {
      read(): Promise<Uint8Array>;
    };
    assert.deepEqual(await ref.read(), new Uint8Array([1, 2, 3]));
    // The object is written, then the UPDATE fails on the unique tag: the new object goes again.
    await assert.rejects(
      Scan.update1({ scan_id: 1, raw: new Uint8Array([4, 5, 6]), tag: "t2" }),
      DuplicateError,
    );
    assert.deepEqual(await files(dir), first);
    // A successful update leaves the replaced object for garbage collection.
    await Scan.update1({ scan_id: 1, raw: new Uint8Array([7]) });
    assert.equal((await files(dir)).length, 2);
    const now = await Scan.restrict({ scan_id: 1 }).fetch1("raw") as {
      read(): Promise<Uint8Array>;
    };
    assert.deepEqual(await now.read(), new Uint8Array([7]));
  } finally {
    await lab.drop({ cascade: true });
    await Deno.remove(dir, { recursive: true });
  }
}, { last: true });
