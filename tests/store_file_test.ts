/**
 * The file store (`stores/file_store.ts`) on real temp folders, the golden store folder written
 * by DataJoint Python (read-only), and the bounded-concurrency helper (`stores/pool.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { DataJointError, MissingExternalFile, StoreError } from "../lib/errors.ts";
import type { StoreEntry } from "../stores/backend.ts";
import { FileStore } from "../stores/file_store.ts";
import { computeHash } from "../stores/paths.ts";
import { mapPool } from "../stores/pool.ts";
import { goldenFile } from "./_golden.ts";
import { assertBytesEqual, randomBytes } from "./_servers.ts";
import { fileSpec } from "./_stores.ts";

/** Runs `fn` with a FileStore on a fresh temp folder, removed afterwards. */
async function withStore(fn: (store: FileStore, root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "dj_file_store_" });
  const store = new FileStore("main", fileSpec(root));
  try {
    await fn(store, root);
  } finally {
    await store.close();
    await Deno.remove(root, { recursive: true });
  }
}

/** Every file under `dir` (relative paths), temp files included: what is really on disk. */
async function filesOnDisk(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await filesOnDisk(`${dir}/${e.name}`, r));
    else out.push(r);
  }
  return out.sort();
}

async function collect(it: AsyncIterable<StoreEntry>): Promise<StoreEntry[]> {
  const out: StoreEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

function streamOf(chunks: Uint8Array[], failAfter?: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (failAfter !== undefined && i === failAfter) {
        c.error(new Error("source broke midway"));
        return;
      }
      if (i < chunks.length) c.enqueue(chunks[i++]);
      else c.close();
    },
  });
}

const bytes = (...xs: number[]) => new Uint8Array(xs);

Deno.test("file store: put/get, parents created, overwrite by default, no temp files left", async () => {
  await withStore(async (store, root) => {
    const r1 = await store.put("_hash/lab/aa/bb/obj", bytes(1, 2, 3));
    assert.deepEqual(r1, { written: true });
    assertBytesEqual(await store.get("_hash/lab/aa/bb/obj"), bytes(1, 2, 3));
    assertBytesEqual(await Deno.readFile(`${root}/_hash/lab/aa/bb/obj`), bytes(1, 2, 3));
    assert.deepEqual(await store.put("_hash/lab/aa/bb/obj", bytes(9)), { written: true });
    assertBytesEqual(await store.get("_hash/lab/aa/bb/obj"), bytes(9));
    assert.deepEqual(await filesOnDisk(root), ["_hash/lab/aa/bb/obj"]);
    assert.equal(store.url("_hash/lab/aa/bb/obj"), `${root}/_hash/lab/aa/bb/obj`);
    assert.deepEqual(store.counters, {
      gets: 2,
      rangeGets: 0,
      bytesRead: 4,
      puts: 2,
      bytesWritten: 4,
      stats: 0,
      lists: 0,
      removes: 0,
      renewals: 0,
    });
  });
});

Deno.test("file store: ifAbsent is write-once, also under concurrent writers", async () => {
  await withStore(async (store, root) => {
    assert.deepEqual(await store.put("x/once", bytes(1), { ifAbsent: true }), { written: true });
    assert.deepEqual(await store.put("x/once", bytes(2), { ifAbsent: true }), { written: false });
    assertBytesEqual(await store.get("x/once"), bytes(1));

    // A skipped stream is cancelled, not left dangling.
    let cancelled = false;
    const s = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(bytes(7));
      },
      cancel() {
        cancelled = true;
      },
    });
    assert.deepEqual(await store.put("x/once", s, { ifAbsent: true }), { written: false });
    assert.ok(cancelled);

    // Many racing writers (past the existence pre-check): exactly one publishes.
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => store.put("x/race", bytes(i), { ifAbsent: true })),
    );
    assert.equal(results.filter((r) => r.written).length, 1);
    const winner = results.findIndex((r) => r.written);
    assertBytesEqual(await store.get("x/race"), bytes(winner));
    assert.deepEqual(await filesOnDisk(root), ["x/once", "x/race"]);
  });
});

Deno.test("file store: streamed put; a failing stream leaves no file and no temp file", async () => {
  await withStore(async (store, root) => {
    const chunks = Array.from({ length: 10 }, () => randomBytes(100_000));
    const whole = new Uint8Array(1_000_000);
    chunks.forEach((c, i) => whole.set(c, i * 100_000));
    assert.deepEqual(await store.put("s/big.bin", streamOf(chunks)), { written: true });
    assertBytesEqual(await store.get("s/big.bin"), whole);
    assert.equal(store.counters.bytesWritten, 1_000_000);

    await assert.rejects(store.put("s/broken.bin", streamOf(chunks, 4)), /source broke midway/);
    await assert.rejects(
      store.put("s/broken2.bin", streamOf(chunks, 4), { ifAbsent: true }),
      /source broke midway/,
    );
    // Overwriting an existing object with a broken stream keeps the old object intact.
    await assert.rejects(store.put("s/big.bin", streamOf(chunks.slice(0, 3), 2)), /broke/);
    assertBytesEqual(await store.get("s/big.bin"), whole);
    assert.deepEqual(await filesOnDisk(root), ["s/big.bin"]);
    assert.equal(store.counters.puts, 1);
  });
});

Deno.test("file store: putFile copies atomically; missing source is a DataJointError", async () => {
  await withStore(async (store, root) => {
    const src = await Deno.makeTempFile({ prefix: "dj_src_" });
    try {
      const data = randomBytes(300_000);
      await Deno.writeFile(src, data);
      assert.deepEqual(await store.putFile("_schema/lab/t/id=1/f_AbCdEfGh.bin", src), {
        written: true,
      });
      assertBytesEqual(await store.get("_schema/lab/t/id=1/f_AbCdEfGh.bin"), data);
      assert.deepEqual(
        await store.putFile("_schema/lab/t/id=1/f_AbCdEfGh.bin", src, { ifAbsent: true }),
        { written: false },
      );
      assert.equal(store.counters.bytesWritten, 300_000);
      await assert.rejects(
        store.putFile("x", `${src}.missing`),
        (e: unknown) => e instanceof DataJointError && e.message.includes("Local file not found"),
      );
      assert.deepEqual(await filesOnDisk(root), ["_schema/lab/t/id=1/f_AbCdEfGh.bin"]);
    } finally {
      await Deno.remove(src);
    }
  });
});

Deno.test("file store: getRange seeks (a 4 GiB sparse file is not read whole)", async () => {
  await withStore(async (store, root) => {
    const data = randomBytes(10_000);
    await store.put("r/obj", data);
    assertBytesEqual(await store.getRange("r/obj", 100, 50), data.subarray(100, 150));
    assertBytesEqual(await store.getRange("r/obj", 9_990, 100), data.subarray(9_990));
    assert.equal((await store.getRange("r/obj", 20_000, 10)).length, 0);
    assert.equal((await store.getRange("r/obj", 5, 0)).length, 0);
    assert.equal(store.counters.rangeGets, 4);
    assert.equal(store.counters.bytesRead, 60);
    await assert.rejects(store.getRange("r/obj", -1, 5), DataJointError);
    await assert.rejects(store.getRange("r/obj", 0, 1.5), DataJointError);

    // A sparse 4 GiB file: reading it whole would allocate 4 GiB (and fail or crawl).
    await Deno.mkdir(`${root}/r/huge`, { recursive: true });
    const f = await Deno.open(`${root}/r/huge/sparse`, { write: true, create: true });
    const size = 4 * 1024 ** 3;
    await f.truncate(size);
    await f.seek(size - 4, Deno.SeekMode.Start);
    await f.write(bytes(1, 2, 3, 4));
    f.close();
    const t0 = performance.now();
    assertBytesEqual(await store.getRange("r/huge/sparse", size - 6, 100), bytes(0, 0, 1, 2, 3, 4));
    assert.ok(performance.now() - t0 < 2000, "ranged read of a huge file took too long");

    await assert.rejects(
      store.getRange("r/missing", 0, 10),
      (e: unknown) =>
        e instanceof MissingExternalFile && e.message === `Missing external file ${root}/r/missing`,
    );
    await assert.rejects(store.getRange("r/huge", 0, 10), StoreError);
  });
});

Deno.test("file store: open streams, download is atomic, missing objects name the full path", async () => {
  await withStore(async (store, root) => {
    const data = randomBytes(200_000);
    await store.put("o/data.bin", data);
    const chunks: Uint8Array[] = [];
    for await (const c of await store.open("o/data.bin")) chunks.push(c);
    const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) (joined.set(c, at), at += c.length);
    assertBytesEqual(joined, data);
    assert.equal(store.counters.bytesRead, 200_000);

    const out = await Deno.makeTempDir({ prefix: "dj_dl_" });
    try {
      await store.download("o/data.bin", `${out}/nested/dir/copy.bin`);
      assertBytesEqual(await Deno.readFile(`${out}/nested/dir/copy.bin`), data);
      await assert.rejects(store.download("o/nope", `${out}/nope.bin`), MissingExternalFile);
      assert.deepEqual(await filesOnDisk(out), ["nested/dir/copy.bin"]);
    } finally {
      await Deno.remove(out, { recursive: true });
    }

    for (const op of [() => store.get("o/nope"), () => store.open("o/nope")]) {
      await assert.rejects(
        op(),
        (e: unknown) =>
          e instanceof MissingExternalFile && e.message === `Missing external file ${root}/o/nope`,
      );
    }
    // A file in the way of a folder is "missing" too.
    await assert.rejects(store.get("o/data.bin/sub"), MissingExternalFile);
    await assert.rejects(store.get("o"), StoreError);
  });
});

Deno.test("file store: stat and exists report files and folders", async () => {
  await withStore(async (store) => {
    const before = Date.now();
    await store.put("d/sub/f.txt", bytes(1, 2, 3, 4, 5));
    const file = await store.stat("d/sub/f.txt");
    assert.deepEqual({ ...file, modified: undefined }, {
      size: 5,
      isDir: false,
      modified: undefined,
    });
    // The file system may keep whole seconds only.
    assert.ok(
      file!.modified!.getTime() >= before - 2000 && file!.modified!.getTime() <= Date.now(),
    );
    assert.deepEqual({ ...(await store.stat("d/sub")), modified: undefined }, {
      size: 0,
      isDir: true,
      modified: undefined,
    });
    assert.equal(await store.stat("d/none"), null);
    assert.equal(await store.stat("d/sub/f.txt/x"), null);
    assert.equal(await store.exists("d"), true);
    assert.equal(await store.exists("d/zz"), false);
    assert.equal(store.counters.stats, 6);
  });
});

Deno.test("file store: list is recursive, ordered, skips temp files, tolerates missing prefixes", async () => {
  await withStore(async (store, root) => {
    const paths = ["a/x/2", "a/x/1", "a/y", "a.txt", "b/z"];
    for (const p of paths) await store.put(p, bytes(...p.split("").map((c) => c.charCodeAt(0))));
    // An in-flight temp file of another writer must not be listed.
    await Deno.writeFile(`${root}/a/x/3.saving-AbCdEfGhIjKl`, bytes(0));
    const all = await collect(store.list(""));
    assert.deepEqual(all.map((e) => e.path), ["a/x/1", "a/x/2", "a/y", "a.txt", "b/z"]);
    const a = all.find((e) => e.path === "a.txt")!;
    assert.deepEqual({ path: a.path, size: a.size }, { path: "a.txt", size: 5 });
    assert.ok(a.modified instanceof Date && Math.abs(a.modified.getTime() - Date.now()) < 60_000);
    assert.deepEqual((await collect(store.list("a"))).map((e) => e.path), [
      "a/x/1",
      "a/x/2",
      "a/y",
    ]);
    assert.deepEqual((await collect(store.list("a/x/"))).map((e) => e.path), ["a/x/1", "a/x/2"]);
    assert.deepEqual(await collect(store.list("nothing/here")), []);
    assert.deepEqual(await collect(store.list("a.txt")), []);
    assert.equal(store.counters.lists, 5);
    await assert.rejects(collect(store.list("/a")), DataJointError);
  });
});

Deno.test("file store: remove is silent when missing and prunes empty parents up to the root", async () => {
  await withStore(async (store, root) => {
    await store.put("_schema/lab/t/id=1/f_A", bytes(1));
    await store.put("_schema/lab/t/id=2/f_B", bytes(2));
    await store.remove("_schema/lab/t/id=1/f_A");
    assert.equal(await store.exists("_schema/lab/t/id=1"), false);
    assert.equal(await store.exists("_schema/lab/t/id=2/f_B"), true);
    await store.remove("_schema/lab/t/id=2/f_B");
    assert.deepEqual([...Deno.readDirSync(root)], []);
    assert.ok(Deno.statSync(root).isDirectory, "the store root itself stays");
    await store.remove("_schema/lab/t/id=2/f_B");
    await store.remove("never/was");
    assert.equal(store.counters.removes, 4);

    await store.put("k/keep", bytes(1));
    await store.put("k/sub/x", bytes(1));
    await assert.rejects(store.remove("k"), StoreError);
    await store.remove("k/sub/x");
    assert.deepEqual(await filesOnDisk(root), ["k/keep"]);
  });
});

Deno.test("file store: invalid paths are DataJointErrors; a folder in the way is a StoreError", async () => {
  await withStore(async (store) => {
    for (const bad of ["/abs", "a/../b", "a//b", "", "./x", "a/"]) {
      await assert.rejects(store.put(bad, bytes(1)), DataJointError, bad);
      await assert.rejects(store.get(bad), DataJointError, bad);
      await assert.rejects(store.stat(bad), DataJointError, bad);
      await assert.rejects(store.remove(bad), DataJointError, bad);
    }
    await store.put("dir/file", bytes(1));
    await assert.rejects(
      store.put("dir", bytes(2)),
      (e: unknown) => e instanceof StoreError && e.message.includes("a folder of that name exists"),
    );
    assertBytesEqual(await store.get("dir/file"), bytes(1));
    assert.throws(() => new FileStore("s", { ...fileSpec("/x"), protocol: "s3" }), StoreError);
  });
});

const golden = goldenFile("ddl/store-metadata.json");

Deno.test({
  name: "file store: reads the golden store DataJoint Python wrote (read-only)",
  ignore: golden.ignore,
  async fn() {
    const main = decodeURIComponent(new URL("store/mysql/main", golden.url).pathname);
    const store = new FileStore("main", fileSpec(main));
    const hashed = await collect(store.list("_hash/dj_golden"));
    assert.equal(hashed.length, 7);
    for (const e of hashed) {
      const data = await store.get(e.path);
      assert.equal(data.length, e.size);
      assert.equal(`_hash/dj_golden/${computeHash(data)}`, e.path);
    }
    const folder = "_schema/dj_golden/recording/subject_id=1/session_idx=1/folder_CilNMC0V";
    assert.equal((await store.stat(folder))?.isDir, true);
    assert.deepEqual((await collect(store.list(folder))).map((e) => [e.path, e.size]), [
      [`${folder}/a.txt`, 7],
      [`${folder}/sub/b.csv`, 8],
    ]);
    const manifest = JSON.parse(
      new TextDecoder().decode(await store.get(`${folder}.manifest.json`)),
    );
    assert.equal(manifest.total_size, 15);
    const npy = await store.getRange(
      "_schema/dj_golden/recording/subject_id=1/session_idx=1/array_ZO1xqlq0.npy",
      0,
      6,
    );
    assertBytesEqual(npy, bytes(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59));
    assert.equal((await collect(store.list(""))).length, 13);
  },
});

Deno.test("mapPool: bounded concurrency, ordered results", async () => {
  let running = 0;
  let peak = 0;
  const out = await mapPool(Array.from({ length: 40 }, (_, i) => i), 5, async (x, i) => {
    assert.equal(x, i);
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, (x * 7) % 5));
    running--;
    return x * 2;
  });
  assert.deepEqual(out, Array.from({ length: 40 }, (_, i) => i * 2));
  assert.equal(peak, 5);
  assert.deepEqual(await mapPool([], 3, () => Promise.resolve(1)), []);
  // Any iterable, fewer items than the limit.
  assert.deepEqual(await mapPool(new Set(["a", "b"]), 10, (s) => Promise.resolve(s + "!")), [
    "a!",
    "b!",
  ]);
  await assert.rejects(mapPool([1], 0, () => Promise.resolve(1)), RangeError);
});

Deno.test("mapPool: the first failure stops new work, waits for running work, rethrows", async () => {
  const started: number[] = [];
  const finished: number[] = [];
  const first = new Error("item 3 failed");
  await assert.rejects(
    mapPool(Array.from({ length: 100 }, (_, i) => i), 4, async (x) => {
      started.push(x);
      if (x === 3) throw first;
      if (x === 5) {
        await new Promise((r) => setTimeout(r, 5));
        throw new Error("later failure");
      }
      await new Promise((r) => setTimeout(r, 20));
      finished.push(x);
      return x;
    }),
    (e: unknown) => e === first,
  );
  // Items already running when 3 failed were awaited; nothing new started after the failure.
  assert.deepEqual(started.sort((a, b) => a - b), [0, 1, 2, 3]);
  assert.deepEqual(finished.sort((a, b) => a - b), [0, 1, 2]);
});
