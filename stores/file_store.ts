/**
 * The `file` protocol: a store in a local (or mounted network) folder.
 *
 * Every write goes to a temporary sibling (`<final>.saving-<random>`) and is renamed into place,
 * so readers see the whole object or nothing, and a failed write leaves nothing behind. A
 * write-once put (`ifAbsent`) publishes with a hard link, which fails atomically when the name is
 * taken; where the file system has no hard links it falls back to check-then-rename (two writers
 * of a content-addressed object write identical bytes, so that race is harmless).
 *
 * Listings skip in-flight temporaries, so garbage collection never sees (or deletes) them.
 *
 * @example
 * ```ts
 * import { FileStore } from "./file_store.ts";
 * import { storeSpec } from "./spec.ts";
 * const store = new FileStore("main", storeSpec({ main: { protocol: "file", location: "/tmp/s" } }, "main"));
 * await store.put("_hash/lab/abc", new Uint8Array([1, 2, 3]));
 * console.log(await store.getRange("_hash/lab/abc", 1, 5)); // Uint8Array [2, 3]
 * ```
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { DataJointError, MissingExternalFile, StoreError } from "../lib/errors.ts";
import {
  checkByteOffset,
  type ContentPutOptions,
  emptyCounters,
  type GetOptions,
  type PutOptions,
  type StoreBackend,
  type StoreCounters,
  type StoreEntry,
  type StoreSpec,
  type StoreStat,
} from "./backend.ts";
import { assertStorePath } from "./paths.ts";

/**
 * Base name of the temporary files of {@link FileStore.putContent}, in the store folder (the
 * final folder is not known until the content is): `.content.saving-<random>`.
 */
const CONTENT_TEMP = ".content";
const TEMP_SUFFIX = /\.saving-[A-Za-z0-9]{12}$/;
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function tempName(final: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `${final}.saving-${Array.from(bytes, (b) => ALNUM[b % ALNUM.length]).join("")}`;
}

function errorCode(e: unknown): string | undefined {
  return (e as { code?: string })?.code;
}

function isNotFound(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound || errorCode(e) === "ENOENT";
}

function isNotDir(e: unknown): boolean {
  return e instanceof Deno.errors.NotADirectory || errorCode(e) === "ENOTDIR";
}

function isDirError(e: unknown): boolean {
  return e instanceof Deno.errors.IsADirectory || errorCode(e) === "EISDIR";
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch {
    // Best effort: the temp file may never have been created.
  }
}

/** Bytes per read of a piecewise {@link FileStore.get}: large enough to keep per-call costs small. */
const PIECE = 4 * 1024 * 1024;

/** Fills `buf` from the file's current position; fewer bytes only at the end of the file. */
async function readFull(file: Deno.FsFile, buf: Uint8Array): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got;
}

async function writeAll(file: Deno.FsFile, chunk: Uint8Array): Promise<void> {
  let done = 0;
  while (done < chunk.length) done += await file.write(chunk.subarray(done));
}

/**
 * A store in a local folder (`protocol: "file"`). Paths are store-relative; the object at `p`
 * lives at `<location>/<p>`.
 *
 * @example
 * ```ts
 * import { FileStore } from "./file_store.ts";
 * const spec = {
 *   protocol: "file" as const, location: "/data/store", subfolding: null, partition_pattern: null,
 *   token_length: 8, hash_prefix: "_hash", schema_prefix: "_schema", filepath_prefix: null,
 * };
 * const store = new FileStore("main", spec);
 * const { written } = await store.put("_hash/lab/x", new Uint8Array([7]), { ifAbsent: true });
 * ```
 */
export class FileStore implements StoreBackend {
  /** The store's name in `stores`. */
  readonly name: string;
  /** The specification, defaults applied. */
  readonly spec: StoreSpec;
  /** Request counters since creation. */
  readonly counters: StoreCounters = emptyCounters();
  /** The absolute store folder. */
  readonly root: string;

  /**
   * A file store rooted at `spec.location` (made absolute against the current directory if it
   * is not already; {@link storeSpec} resolves it against the project root first).
   */
  constructor(name: string, spec: StoreSpec) {
    if (spec.protocol !== "file") {
      throw new StoreError(
        `Store "${name}": FileStore needs protocol "file", got "${spec.protocol}"`,
      );
    }
    this.name = name;
    this.spec = spec;
    this.root = resolve(spec.location);
  }

  /** The absolute local path of a store path (for messages and for local tools). */
  url(path: string): string {
    assertStorePath(path, { allowRoot: true });
    return path === "" ? this.root : join(this.root, path);
  }

  #full(path: string): string {
    assertStorePath(path);
    return join(this.root, path);
  }

  #fail(op: string, full: string, e: unknown): never {
    if (e instanceof DataJointError) throw e;
    if (e instanceof Deno.errors.PermissionDenied || errorCode(e) === "EACCES") {
      throw new StoreError(
        `Store "${this.name}": permission denied to ${op} ${full}; check the permissions of ` +
          `the store folder ${this.root}`,
        { cause: e },
      );
    }
    const msg = e instanceof Error ? e.message : String(e);
    throw new StoreError(`Store "${this.name}": cannot ${op} ${full}: ${msg}`, { cause: e });
  }

  #missing(full: string, e?: unknown): MissingExternalFile {
    return new MissingExternalFile(`Missing external file ${full}`, { cause: e });
  }

  /** Opens a new temp file beside `full`, creating parents (again, if a concurrent remove pruned them). */
  async #createTemp(full: string): Promise<{ tmp: string; file: Deno.FsFile }> {
    for (let attempt = 0;; attempt++) {
      await Deno.mkdir(dirname(full), { recursive: true });
      const tmp = tempName(full);
      try {
        return { tmp, file: await Deno.open(tmp, { write: true, createNew: true }) };
      } catch (e) {
        if (!isNotFound(e) || attempt >= 3) throw e;
      }
    }
  }

  /** Moves a finished temp file into place; false when `ifAbsent` and the name was taken. */
  async #publish(tmp: string, full: string, ifAbsent: boolean): Promise<boolean> {
    try {
      if (!ifAbsent) {
        await Deno.rename(tmp, full);
        return true;
      }
      try {
        // link() refuses an existing name atomically: true write-once even between processes.
        await Deno.link(tmp, full);
        await removeQuietly(tmp);
        return true;
      } catch (e) {
        if (e instanceof Deno.errors.AlreadyExists || errorCode(e) === "EEXIST") {
          await removeQuietly(tmp);
          await freshen(full, this.counters);
          return false;
        }
        // No hard links here (some network and FUSE file systems): check, then rename.
        if (await this.#existsRaw(full)) {
          await removeQuietly(tmp);
          await freshen(full, this.counters);
          return false;
        }
        await Deno.rename(tmp, full);
        return true;
      }
    } catch (e) {
      await removeQuietly(tmp);
      if (isDirError(e) || errorCode(e) === "ENOTEMPTY") {
        throw new StoreError(
          `Store "${this.name}": cannot write ${full}: a folder of that name exists`,
          { cause: e },
        );
      }
      throw e;
    }
  }

  async #existsRaw(full: string): Promise<boolean> {
    try {
      await Deno.stat(full);
      return true;
    } catch (e) {
      if (isNotFound(e) || isNotDir(e)) return false;
      throw e;
    }
  }

  /**
   * Writes bytes or a stream atomically. With `ifAbsent`, nothing is written (and a stream is
   * cancelled) when the path exists. A stream that errors leaves no file, not even a temp file.
   */
  async put(
    path: string,
    data: Uint8Array | ReadableStream<Uint8Array>,
    options: PutOptions = {},
  ): Promise<{ written: boolean }> {
    const full = this.#full(path);
    const ifAbsent = options.ifAbsent ?? false;
    // Errors of the caller's stream pass through unchanged; our own I/O errors get the store named.
    let sourceError: { error: unknown } | undefined;
    try {
      if (ifAbsent) {
        this.counters.stats++;
        if (await this.#existsRaw(full)) {
          if (data instanceof ReadableStream) await data.cancel().catch(() => {});
          await freshen(full, this.counters);
          return { written: false };
        }
      }
      const { tmp, file } = await this.#createTemp(full);
      let size = 0;
      try {
        if (data instanceof Uint8Array) {
          await writeAll(file, data);
          size = data.length;
        } else {
          const reader = data.getReader();
          try {
            for (;;) {
              let next: ReadableStreamReadResult<Uint8Array>;
              try {
                next = await reader.read();
              } catch (error) {
                sourceError = { error };
                throw error;
              }
              if (next.done) break;
              await writeAll(file, next.value);
              size += next.value.length;
            }
          } finally {
            reader.releaseLock();
          }
        }
      } catch (e) {
        file.close();
        await removeQuietly(tmp);
        throw e;
      }
      file.close();
      const written = await this.#publish(tmp, full, ifAbsent);
      if (written) {
        this.counters.puts++;
        this.counters.bytesWritten += size;
      }
      return { written };
    } catch (e) {
      if (sourceError) throw sourceError.error;
      if (data instanceof ReadableStream) await data.cancel(e).catch(() => {});
      this.#fail("write", full, e);
    }
  }

  /**
   * Writes bytes under a path computed from them in one pass: each piece is written to a
   * temporary file in the store folder while `onChunk` sees it (the write runs on Deno's I/O
   * thread, alongside a hash of the piece), then the file is published under `pathOf()` (hard
   * link for `ifAbsent`, else rename).
   */
  async putContent(
    data: Uint8Array,
    options: ContentPutOptions,
  ): Promise<{ path: string; written: boolean }> {
    let callerError: { error: unknown } | undefined;
    let tmp: string | undefined;
    try {
      const created = await this.#createTemp(join(this.root, CONTENT_TEMP));
      tmp = created.tmp;
      try {
        for (let at = 0; at < data.length; at += PIECE) {
          const piece = data.subarray(at, Math.min(data.length, at + PIECE));
          const writing = writeAll(created.file, piece);
          try {
            options.onChunk(piece);
          } catch (error) {
            callerError = { error };
            await writing.catch(() => {});
            throw error;
          }
          await writing;
        }
      } finally {
        created.file.close();
      }
    } catch (e) {
      if (tmp !== undefined) await removeQuietly(tmp);
      if (callerError) throw callerError.error;
      this.#fail("write", this.root, e);
    }
    let path: string;
    let full: string;
    try {
      path = options.pathOf();
      full = this.#full(path);
    } catch (e) {
      await removeQuietly(tmp);
      throw e;
    }
    try {
      await Deno.mkdir(dirname(full), { recursive: true });
    } catch (e) {
      await removeQuietly(tmp);
      this.#fail("write", full, e);
    }
    try {
      const written = await this.#publish(tmp, full, options.ifAbsent ?? false);
      if (written) {
        this.counters.puts++;
        this.counters.bytesWritten += data.length;
      }
      return { path, written };
    } catch (e) {
      // The object's folder is on another file system (a mount inside the store): no link or
      // rename reaches it from the temp file, so write the bytes there the usual way.
      if (errorCode(e) === "EXDEV" || errorCode((e as Error)?.cause) === "EXDEV") {
        const { written } = await this.put(path, data, { ifAbsent: options.ifAbsent });
        return { path, written };
      }
      this.#fail("write", full, e);
    }
  }

  /** Copies a local file into the store atomically (a kernel copy, no buffering in memory). */
  async putFile(
    path: string,
    localFile: string,
    options: PutOptions = {},
  ): Promise<{ written: boolean }> {
    const full = this.#full(path);
    let size: number;
    try {
      const st = await Deno.stat(localFile);
      if (!st.isFile) throw new DataJointError(`Not a file: ${localFile}`);
      size = st.size;
    } catch (e) {
      if (isNotFound(e)) throw new DataJointError(`Local file not found: ${localFile}`);
      throw e;
    }
    try {
      if (options.ifAbsent) {
        this.counters.stats++;
        if (await this.#existsRaw(full)) {
          await freshen(full, this.counters);
          return { written: false };
        }
      }
      const { tmp, file } = await this.#createTemp(full);
      file.close();
      try {
        await Deno.copyFile(localFile, tmp);
      } catch (e) {
        await removeQuietly(tmp);
        throw e;
      }
      const written = await this.#publish(tmp, full, options.ifAbsent ?? false);
      if (written) {
        this.counters.puts++;
        this.counters.bytesWritten += size;
      }
      return { written };
    } catch (e) {
      this.#fail("write", full, e);
    }
  }

  /**
   * Reads a whole object. With `onChunk`, it is read in pieces straight into the result, each
   * piece handed to `onChunk` while the next one is being read (the read runs on Deno's I/O
   * thread, so a hash of the pieces overlaps it).
   */
  async get(path: string, options: GetOptions = {}): Promise<Uint8Array> {
    const full = this.#full(path);
    this.counters.gets++;
    const byteOffset = checkByteOffset(options.byteOffset);
    if (options.onChunk !== undefined || byteOffset > 0) {
      return await this.#readInPieces(full, options.onChunk ?? (() => {}), byteOffset);
    }
    try {
      const bytes = await Deno.readFile(full);
      this.counters.bytesRead += bytes.length;
      return bytes;
    } catch (e) {
      if (isNotFound(e) || isNotDir(e)) throw this.#missing(full, e);
      if (isDirError(e)) {
        throw new StoreError(`Store "${this.name}": ${full} is a folder, not a file`, { cause: e });
      }
      this.#fail("read", full, e);
    }
  }

  async #readInPieces(
    full: string,
    onChunk: (chunk: Uint8Array) => void,
    byteOffset: number,
  ): Promise<Uint8Array> {
    const { file, size } = await this.#openFile(full);
    let callerError: { error: unknown } | undefined;
    try {
      const buf = new Uint8Array(byteOffset + size).subarray(byteOffset);
      const readAt = (at: number) => readFull(file, buf.subarray(at, Math.min(size, at + PIECE)));
      let at = 0;
      let pending = readAt(0);
      for (;;) {
        const n = await pending;
        if (n === 0) break;
        const piece = buf.subarray(at, at + n);
        at += n;
        // Start the next read before handing this piece over, so that the two run side by side.
        pending = at < size ? readAt(at) : Promise.resolve(0);
        try {
          onChunk(piece);
        } catch (error) {
          callerError = { error };
          await pending.catch(() => {});
          throw error;
        }
      }
      this.counters.bytesRead += at;
      // Objects are written once: a file that shrank after the stat is a damaged store, which the
      // caller's size check reports.
      return at === size ? buf : buf.subarray(0, at);
    } catch (e) {
      if (callerError) throw callerError.error;
      this.#fail("read", full, e);
    } finally {
      file.close();
    }
  }

  async #openFile(full: string): Promise<{ file: Deno.FsFile; size: number }> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(full, { read: true });
    } catch (e) {
      if (isNotFound(e) || isNotDir(e)) throw this.#missing(full, e);
      this.#fail("read", full, e);
    }
    const st = await file.stat();
    if (!st.isFile) {
      file.close();
      throw new StoreError(`Store "${this.name}": ${full} is a folder, not a file`);
    }
    return { file, size: st.size };
  }

  /** Reads up to `length` bytes from `offset` with a seek: the rest of the file is not read. */
  async getRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const full = this.#full(path);
    if (
      !Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0
    ) {
      throw new DataJointError(
        `Invalid range offset=${offset} length=${length}: both must be non-negative integers`,
      );
    }
    this.counters.rangeGets++;
    const { file, size } = await this.#openFile(full);
    try {
      const want = Math.max(0, Math.min(length, size - offset));
      const buf = new Uint8Array(want);
      if (want === 0) return buf;
      await file.seek(offset, Deno.SeekMode.Start);
      let got = 0;
      while (got < want) {
        const n = await file.read(buf.subarray(got));
        if (n === null) break;
        got += n;
      }
      this.counters.bytesRead += got;
      return got === want ? buf : buf.slice(0, got);
    } finally {
      file.close();
    }
  }

  /** Streams an object; cancelling the stream closes the file. */
  async open(path: string): Promise<ReadableStream<Uint8Array>> {
    const full = this.#full(path);
    this.counters.gets++;
    const { file } = await this.#openFile(full);
    const counters = this.counters;
    return file.readable.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          counters.bytesRead += chunk.length;
          controller.enqueue(chunk);
        },
      }),
    );
  }

  /** Copies an object to a local file atomically (temp file beside it, then rename). */
  async download(path: string, localFile: string): Promise<void> {
    const full = this.#full(path);
    this.counters.gets++;
    const { file, size } = await this.#openFile(full);
    file.close();
    const target = resolve(localFile);
    await Deno.mkdir(dirname(target), { recursive: true });
    const tmp = tempName(target);
    try {
      await Deno.copyFile(full, tmp);
      await Deno.rename(tmp, target);
    } catch (e) {
      await removeQuietly(tmp);
      if (isNotFound(e)) throw this.#missing(full, e);
      throw e;
    }
    this.counters.bytesRead += size;
  }

  /** Size and kind (directories included), or null. */
  async stat(path: string): Promise<StoreStat | null> {
    const full = this.#full(path);
    this.counters.stats++;
    try {
      const st = await Deno.stat(full);
      return { size: st.isDirectory ? 0 : st.size, isDir: st.isDirectory, modified: st.mtime };
    } catch (e) {
      if (isNotFound(e) || isNotDir(e)) return null;
      this.#fail("stat", full, e);
    }
  }

  /** Whether a file or folder exists at `path`. */
  async exists(path: string): Promise<boolean> {
    return (await this.stat(path)) !== null;
  }

  /**
   * Every file under a folder, recursively, in name order per folder. A missing folder (or a
   * prefix that names a file) yields nothing; in-flight temp files are skipped. Symbolic links
   * to files are listed; links to folders are not followed (no cycles).
   */
  async *list(prefix: string): AsyncIterable<StoreEntry> {
    assertStorePath(prefix, { allowRoot: true });
    this.counters.lists++;
    const rel = prefix.replace(/\/$/, "");
    yield* this.#walk(rel === "" ? this.root : join(this.root, rel), rel);
  }

  async *#walk(dir: string, rel: string): AsyncGenerator<StoreEntry> {
    const entries: Deno.DirEntry[] = [];
    try {
      for await (const e of Deno.readDir(dir)) entries.push(e);
    } catch (e) {
      if (isNotFound(e) || isNotDir(e)) return;
      this.#fail("list", dir, e);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      const child = join(dir, entry.name);
      if (entry.isDirectory) {
        yield* this.#walk(child, childRel);
      } else if (!TEMP_SUFFIX.test(entry.name)) {
        try {
          const st = await Deno.stat(child);
          if (st.isFile) yield { path: childRel, size: st.size, modified: st.mtime ?? new Date(0) };
        } catch (e) {
          // Removed while we were listing, or a dangling link.
          if (!isNotFound(e)) throw e;
        }
      }
    }
  }

  /**
   * Removes a file (or an empty folder); silent when nothing is there. Then removes parent
   * folders that became empty, up to (not including) the store root.
   */
  async remove(path: string): Promise<void> {
    const full = this.#full(path);
    this.counters.removes++;
    try {
      await Deno.remove(full);
    } catch (e) {
      if (isNotFound(e) || isNotDir(e)) return;
      if (errorCode(e) === "ENOTEMPTY" || errorCode(e) === "EEXIST") {
        throw new StoreError(
          `Store "${this.name}": cannot remove ${full}: it is a folder that is not empty; ` +
            `remove its files first`,
          { cause: e },
        );
      }
      this.#fail("remove", full, e);
    }
    let dir = dirname(full);
    while (dir !== this.root && dir.startsWith(this.root)) {
      try {
        await Deno.remove(dir);
      } catch (e) {
        // A folder that is not empty (or a concurrent writer's new file) ends the pruning.
        if (!isNotFound(e)) break;
      }
      dir = dirname(dir);
    }
  }

  /** Nothing to release: every operation opens and closes its own handles. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Renews the modification time of an existing object that a write-once put found, so that
 * garbage collection's grace period covers it as it covers a new object. Best effort: an object
 * whose time cannot be set (another owner, a read-only mount) is still there to be used.
 */
async function freshen(full: string, counters: StoreCounters): Promise<void> {
  counters.renewals++;
  const now = new Date();
  await Deno.utime(full, now, now).catch(() => {});
}
