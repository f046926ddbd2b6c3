/**
 * Keeps PGlite's own timers from holding a script open.
 *
 * PGlite runs PostgreSQL's timeouts (chiefly the statistics flush, due 10 s after a statement and
 * re-armed for as long as statistics stay pending) on JavaScript timers: Emscripten's `setitimer`
 * calls the global `setTimeout`. A pending timer keeps Deno's event loop alive, so a script that
 * never closes its connection waited 10 s, or forever, before exiting. Those timers are
 * housekeeping of an embedded database, never a reason to keep a process alive, so they are
 * unref'd: they still fire while the program runs, and no longer keep it running.
 *
 * Only timers made while a PGlite call is in flight (or inside one of these timers' callbacks,
 * where a flush re-arms itself) are looked at, and of those only the ones whose callback is
 * Emscripten's timeout handler, so no other code's timers are touched.
 *
 * @module
 */

/** The body of Emscripten's `setitimer` callback calls this runtime function. */
const HANDLER_MARK = "_emscripten_timeout";

let inFlight = 0;
let unrefed = 0;
let installed = false;

type SetTimeout = (handler: unknown, timeout?: number, ...args: unknown[]) => number;

function install(): void {
  if (installed) return;
  installed = true;
  const original = globalThis.setTimeout as unknown as SetTimeout;
  const patched: SetTimeout = (handler, timeout, ...args) => {
    if (
      inFlight === 0 || typeof handler !== "function" ||
      !Function.prototype.toString.call(handler).includes(HANDLER_MARK)
    ) {
      return original(handler, timeout, ...args);
    }
    const id = original(() => {
      inFlight++;
      try {
        handler(...args);
      } finally {
        inFlight--;
      }
    }, timeout);
    Deno.unrefTimer(id);
    unrefed++;
    return id;
  };
  (globalThis as unknown as { setTimeout: SetTimeout }).setTimeout = patched;
}

/**
 * Runs a PGlite call so that the timers PostgreSQL arms during it do not keep the process alive.
 *
 * @example
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { housekeeping } from "./pglite_timers.ts";
 * const db = await housekeeping(() => PGlite.create());
 * await housekeeping(() => db.query("SELECT 1"));
 * // no db.close(): the script still exits at its end
 * ```
 */
export async function housekeeping<T>(call: () => Promise<T>): Promise<T> {
  install();
  inFlight++;
  try {
    return await call();
  } finally {
    inFlight--;
  }
}

/**
 * How many PGlite timers have been unref'd in this process (for tests: it shows the handler was
 * recognised, so a change in PGlite's build that breaks the recognition is caught).
 *
 * @example
 * ```ts
 * import { unrefedTimers } from "./pglite_timers.ts";
 * console.log(unrefedTimers() >= 0); // true
 * ```
 */
export function unrefedTimers(): number {
  return unrefed;
}
