/**
 * One process at a time per embedded database folder: a second opener waits, then gets a clear
 * error naming the holder, instead of both writing the folder (PGlite has no lock of its own;
 * two writers lost rows and left the folder unreadable).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { lockFolder } from "../lib/adapters/folder_lock.ts";
import { openPglite } from "../lib/adapters/pglite_driver.ts";
import { LostConnectionError } from "../lib/errors.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));

const busy = (pid: number) => (e: Error) =>
  e instanceof LostConnectionError && (e as LostConnectionError).code === "PGLITE_BUSY" &&
  e.message.includes(`pid ${pid}`) && /one process per folder/.test(e.message);

Deno.test("folder lock: a second holder waits, then is refused with the holder's pid", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dj_lock_" });
  try {
    const folder = join(dir, "db");
    const first = await lockFolder(folder);
    const waited: string[] = [];
    await assert.rejects(
      lockFolder(folder, { waitSeconds: 0.3, onWait: (who) => waited.push(who) }),
      busy(Deno.pid),
    );
    assert.deepEqual(waited, [`another process (pid ${Deno.pid})`]);
    first.release();
    first.release();
    const again = await lockFolder(folder, { waitSeconds: 0.3 });
    again.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pglite: a folder open in another process is waited for, never opened twice", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dj_lock_" });
  const folder = join(dir, "pglite");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `--config=${join(REPO, "deno.json")}`,
      join(REPO, "tests/fixtures/pglite_hold.ts"),
      folder,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let said = "";
    while (!said.includes("open")) {
      const { value, done } = await reader.read();
      assert.ok(!done, "the holder ended before opening");
      said += value;
    }
    reader.releaseLock();
    await assert.rejects(openPglite({ path: folder, lockWaitSeconds: 0.5 }), busy(child.pid));
    // Waiting long enough: the holder lets go, and its row is there.
    const opening = openPglite({ path: folder, lockWaitSeconds: 60 });
    await writer.close();
    const db = await opening;
    try {
      assert.deepEqual(await db.query("SELECT id FROM held"), [{ id: 1 }]);
    } finally {
      await db.close();
    }
    assert.ok((await child.status).success);
  } finally {
    await writer.close().catch(() => {});
    await child.stdout.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
