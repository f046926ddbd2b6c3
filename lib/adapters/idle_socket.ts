/**
 * Lets a script end while its database connection is open: the connection's socket keeps the
 * process alive only while a statement is in flight. Between statements it is unreferenced, so a
 * script that never calls `closeConnection()` exits once it has nothing else to do, on the
 * servers as on PGlite (the server then ends the session, rolling back an open transaction).
 *
 * @example
 * ```ts
 * import { IdleSocket } from "./idle_socket.ts";
 * import net from "node:net";
 * const idle = new IdleSocket();
 * idle.attach(net.connect(5432, "127.0.0.1"));
 * await idle.around(() => Promise.resolve("a statement"));
 * ```
 *
 * @module
 */

/** What the holder needs of a socket (node:net and node:tls sockets have both). */
export interface Referable {
  ref(): unknown;
  unref(): unknown;
}

/**
 * Holds a socket referenced while statements run and unreferenced in between.
 *
 * @example
 * ```ts
 * import { IdleSocket } from "./idle_socket.ts";
 * const idle = new IdleSocket();
 * const rows = await idle.around(async () => [1, 2]); // no socket attached: just runs
 * ```
 */
export class IdleSocket {
  #socket: Referable | undefined;
  #busy = 0;

  /** Takes over a connected socket; unreferenced at once unless a statement runs. */
  attach(socket: Referable | undefined): void {
    this.#socket = socket;
    if (this.#busy === 0) socket?.unref();
  }

  /** Runs `fn` with the socket referenced, so that the process waits for its answer. */
  async around<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#busy++ === 0) this.#socket?.ref();
    try {
      return await fn();
    } finally {
      if (--this.#busy === 0) this.#socket?.unref();
    }
  }
}
