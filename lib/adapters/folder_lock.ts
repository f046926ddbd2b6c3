/**
 * One process at a time per embedded database folder. PGlite has no lock of its own: two
 * processes writing one folder lose rows and can leave it unreadable for good. A lock file next
 * to the folder (`<folder>.lock`) is locked exclusively (`flock`) while a process has the
 * database open; the operating system releases it when the process ends, however it ends.
 * Another process waits for it a while, saying so on stderr, then gives up with an error that
 * says who holds it.
 *
 * @example
 * ```ts
 * import { lockFolder } from "./folder_lock.ts";
 * const lock = await lockFolder("/tmp/dj-example/pglite", { waitSeconds: 10 });
 * lock.release();
 * ```
 *
 * @module
 */
import { LostConnectionError } from "../errors.ts";

/** A held folder lock. */
export interface FolderLock {
  /** Releases the lock (closing the lock file); safe to call twice. */
  release(): void;
}

/** Options of {@link lockFolder}. */
export interface LockOptions {
  /** How long to wait for another process to let go (default 10 seconds). */
  waitSeconds?: number;
  /** Called once, after a second of waiting (default: a line on stderr). */
  onWait?: (holder: string) => void;
}

/**
 * Locks `folder` for this process, waiting while another process holds it.
 *
 * @example
 * ```ts
 * import { lockFolder } from "./folder_lock.ts";
 * const lock = await lockFolder("/tmp/dj-example/db", { waitSeconds: 1 });
 * try {
 *   // open the database in the folder
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export async function lockFolder(folder: string, options: LockOptions = {}): Promise<FolderLock> {
  const path = `${folder.replace(/\/+$/, "")}.lock`;
  const waitMs = (options.waitSeconds ?? 10) * 1000;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true, create: true });
  } catch (e) {
    throw new LostConnectionError(
      `Cannot create the lock file ${path} of the embedded database: ${(e as Error).message}. ` +
        "Check the folder's permissions (and --allow-write).",
      { code: "PGLITE_LOCK", cause: e },
    );
  }
  const locking = file.lock(true).then(() => true);
  let notice: ReturnType<typeof setTimeout> | undefined;
  let giveUp: ReturnType<typeof setTimeout> | undefined;
  let got: boolean;
  try {
    got = await Promise.race([
      locking,
      new Promise<false>((resolve) => {
        notice = setTimeout(() => {
          const say = options.onWait ??
            ((who: string) =>
              console.error(
                `datajoint: waiting for ${who} to close the embedded database at ${folder}…`,
              ));
          say(holderOf(path));
        }, Math.min(1000, waitMs));
        giveUp = setTimeout(() => resolve(false), waitMs);
      }),
    ]);
  } catch (e) {
    // A file system without locks (some network mounts).
    file.close();
    throw new LostConnectionError(
      `Cannot lock ${path} of the embedded database: ${(e as Error).message}. ` +
        "Keep the project on a local disk, or use a database server.",
      { code: "PGLITE_LOCK", cause: e },
    );
  } finally {
    clearTimeout(notice);
    clearTimeout(giveUp);
  }
  if (!got) {
    // The request stays queued; let go of the file as soon as it is granted.
    locking.then(() => file.close(), () => file.close());
    throw new LostConnectionError(
      `The embedded database at ${folder} is open in ${holderOf(path)}: PGlite allows one ` +
        "process per folder. Wait for it to finish, or stop it; for several processes at once, " +
        "use a database server (DJ_BACKEND=postgresql or mysql).",
      { code: "PGLITE_BUSY" },
    );
  }
  // Who holds it, for the messages of processes that wait.
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      file.close();
    },
  };
}

function holderOf(path: string): string {
  try {
    const pid = Deno.readTextFileSync(path).trim();
    return /^\d+$/.test(pid) ? `another process (pid ${pid})` : "another process";
  } catch {
    return "another process";
  }
}
