/**
 * `ObjectRef`: a lazy handle on a file or folder in an object store, what `<object@>` and
 * `<filepath@>` attributes fetch as (reference §2.12). Creating one does no I/O; `read()`,
 * `open()`, `list()`, `walk()` and `download()` fetch on demand, and every read checks the size
 * (and the hash, when the metadata has one) so corrupted data is never returned.
 *
 * @example
 * ```ts
 * import { ObjectRef } from "./object_ref.ts";
 * import type { StoreBackend } from "../stores/backend.ts";
 * declare const store: StoreBackend;
 * const ref = new ObjectRef({ path: "_schema/lab/rec/id=1/raw_Ab3dE5fG.bin", size: 3, store: "main" }, async () => store);
 * console.log(ref.size, ref.isDir); // 3 false
 * const bytes = await ref.read();
 * ```
 *
 * @module
 */
import { dirname, join } from "node:path";
import { CodecError, CorruptObjectError, MissingExternalFile } from "../lib/errors.ts";
import type { StoreBackend } from "../stores/backend.ts";
import { computeHash } from "../stores/paths.ts";

/** The metadata of an object, as stored (reference `ObjectRef.to_json` field names). */
export interface ObjectMetadata {
  /** Store-relative path. */
  path: string;
  /** Size in bytes (files) or total size (folders); `null` when unknown. */
  size?: number | null;
  /** Base32 MD5 of a file's bytes, when known. */
  hash?: string | null;
  /** Extension as stored (`".bin"`, `"dat"`, `""`), or `null`. */
  ext?: string | null;
  /** Whether the object is a folder. */
  is_dir?: boolean;
  /** ISO timestamp of the write. */
  timestamp?: string | null;
  /** Store name (`null` = the default store). */
  store?: string | null;
  /** Number of files of a folder. */
  item_count?: number | null;
  /** Optional URL (never written by the reference). */
  url?: string | null;
  /** Optional MIME type (never written by the reference). */
  mime_type?: string | null;
}

/** One file of a folder manifest. */
export interface ManifestFile {
  /** Path relative to the folder (`/`-separated). */
  path: string;
  /** Size in bytes. */
  size: number;
}

/** A folder manifest (`<path>.manifest.json`). */
export interface Manifest {
  /** The folder's files. */
  files: ManifestFile[];
  /** Sum of the sizes. */
  total_size: number;
  /** Number of files. */
  item_count: number;
  /** ISO timestamp of the write. */
  created: string;
}

const BASE32_HASH = /^[a-z2-7]{26}$/;

function cleanSubpath(subpath: string): string {
  const parts = subpath.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) {
    throw new CodecError(`A path inside an object may not contain "..": ${subpath}`);
  }
  return parts.join("/");
}

/**
 * A lazy reference to a stored file or folder.
 *
 * @example
 * ```ts
 * import { ObjectRef } from "./object_ref.ts";
 * declare const ref: ObjectRef;
 * if (ref.isDir) for await (const f of ref.walk()) console.log(f.path, f.size);
 * else console.log(new TextDecoder().decode(await ref.read()));
 * ```
 */
export class ObjectRef {
  /** Store-relative path. */
  readonly path: string;
  /** Size in bytes (total for folders), `null` when unknown. */
  readonly size: number | null;
  /** Base32 MD5, when the metadata has one. */
  readonly hash: string | null;
  /** Extension as stored. */
  readonly ext: string | null;
  /** Whether the object is a folder. */
  readonly isDir: boolean;
  /** ISO timestamp of the write. */
  readonly timestamp: string | null;
  /** Store name (`null` = the default store). */
  readonly store: string | null;
  /** Number of files of a folder. */
  readonly itemCount: number | null;
  /** URL, when the metadata has one. */
  readonly url: string | null;
  /** MIME type, when the metadata has one. */
  readonly mimeType: string | null;
  readonly #meta: ObjectMetadata;
  readonly #backend: () => Promise<StoreBackend>;
  #store?: Promise<StoreBackend>;

  /** Wraps metadata; `backend` is called only when data is needed. */
  constructor(meta: ObjectMetadata, backend: () => Promise<StoreBackend>) {
    if (typeof meta?.path !== "string" || meta.path === "") {
      throw new CodecError("Object metadata needs a path");
    }
    this.#meta = meta;
    this.#backend = backend;
    this.path = meta.path;
    this.size = typeof meta.size === "number" ? meta.size : null;
    this.hash = typeof meta.hash === "string" ? meta.hash : null;
    this.ext = typeof meta.ext === "string" ? meta.ext : null;
    this.isDir = meta.is_dir === true;
    this.timestamp = typeof meta.timestamp === "string" ? meta.timestamp : null;
    this.store = typeof meta.store === "string" && meta.store !== "" ? meta.store : null;
    this.itemCount = typeof meta.item_count === "number" ? meta.item_count : null;
    this.url = typeof meta.url === "string" ? meta.url : null;
    this.mimeType = typeof meta.mime_type === "string" ? meta.mime_type : null;
  }

  #open(): Promise<StoreBackend> {
    return (this.#store ??= this.#backend());
  }

  #inside(subpath?: string): string {
    if (subpath === undefined || subpath === "") return this.path;
    if (!this.isDir) {
      throw new CodecError(`${this.path} is a file: a subpath applies to folders only`);
    }
    const rel = cleanSubpath(subpath);
    return rel === "" ? this.path : `${this.path}/${rel}`;
  }

  #checkFile(bytes: Uint8Array, where: string, store: StoreBackend): Uint8Array {
    if (where !== this.path) return bytes;
    if (this.size !== null && bytes.length !== this.size) {
      throw new CorruptObjectError(
        `Size mismatch at ${
          store.url(where)
        }: expected ${this.size} bytes, got ${bytes.length}. The stored object was changed or truncated.`,
      );
    }
    if (this.hash !== null && BASE32_HASH.test(this.hash) && computeHash(bytes) !== this.hash) {
      throw new CorruptObjectError(
        `Hash mismatch at ${store.url(where)}: expected ${this.hash}, got ${computeHash(bytes)}.`,
      );
    }
    return bytes;
  }

  /**
   * The bytes of the file (or of a file inside a folder), verified against size and hash.
   *
   * @example
   * ```ts
   * import type { ObjectRef } from "./object_ref.ts";
   * declare const folder: ObjectRef;
   * const csv = await folder.read("sub/b.csv");
   * ```
   */
  async read(subpath?: string): Promise<Uint8Array> {
    if (this.isDir && (subpath === undefined || cleanSubpath(subpath) === "")) {
      throw new CodecError(`${this.path} is a folder: read one of its files (read("name"))`);
    }
    const store = await this.#open();
    const where = this.#inside(subpath);
    return this.#checkFile(await store.get(where), where, store);
  }

  /**
   * A stream of the file's bytes (not verified: use `read()` for checked data).
   *
   * @example
   * ```ts
   * import type { ObjectRef } from "./object_ref.ts";
   * declare const ref: ObjectRef;
   * for await (const chunk of await ref.open()) console.log(chunk.length);
   * ```
   */
  async open(subpath?: string): Promise<ReadableStream<Uint8Array>> {
    if (this.isDir && (subpath === undefined || cleanSubpath(subpath) === "")) {
      throw new CodecError(`${this.path} is a folder: open one of its files (open("name"))`);
    }
    return (await this.#open()).open(this.#inside(subpath));
  }

  /**
   * Every file of a folder (recursively) with its path relative to the folder; a file lists
   * itself under its base name.
   *
   * @example
   * ```ts
   * import type { ObjectRef } from "./object_ref.ts";
   * declare const ref: ObjectRef;
   * for await (const f of ref.walk()) console.log(f.path, f.size);
   * ```
   */
  async *walk(): AsyncGenerator<ManifestFile> {
    const store = await this.#open();
    if (!this.isDir) {
      const stat = await store.stat(this.path);
      if (stat === null) {
        throw new MissingExternalFile(`Missing external file ${store.url(this.path)}`);
      }
      yield { path: this.path.split("/").pop()!, size: stat.size };
      return;
    }
    const prefix = `${this.path}/`;
    let found = 0;
    for await (const e of store.list(prefix)) {
      found++;
      yield { path: e.path.slice(prefix.length), size: e.size };
    }
    if (found === 0 && !(await this.#emptyFolder(store))) {
      throw new MissingExternalFile(
        `Missing external folder ${store.url(this.path)}: no files are stored under it`,
      );
    }
  }

  /** Whether a folder with no files listed is meant to be empty (rather than missing). */
  async #emptyFolder(store: StoreBackend): Promise<boolean> {
    if (this.itemCount !== null) return this.itemCount === 0;
    const manifest = await this.manifest();
    if (manifest !== null) return (manifest.files ?? []).length === 0;
    // No count and no manifest (a folder staged by the reference): an empty local folder is one.
    return (await store.stat(this.path))?.isDir === true;
  }

  /**
   * The names directly inside a folder (or inside `subpath` of it), files and sub-folders.
   *
   * @example
   * ```ts
   * import type { ObjectRef } from "./object_ref.ts";
   * declare const ref: ObjectRef;
   * console.log(await ref.list()); // ["a.txt", "sub"]
   * ```
   */
  async list(subpath = ""): Promise<string[]> {
    if (!this.isDir) throw new CodecError(`${this.path} is a file, not a folder`);
    const base = cleanSubpath(subpath);
    const names = new Set<string>();
    for await (const f of this.walk()) {
      if (base !== "" && !f.path.startsWith(`${base}/`)) continue;
      const rest = base === "" ? f.path : f.path.slice(base.length + 1);
      names.add(rest.split("/")[0]);
    }
    return [...names].sort();
  }

  /**
   * Whether the object (or a file inside the folder) exists in its store.
   *
   * @example
   * ```ts
   * import type { ObjectRef } from "./object_ref.ts";
   * declare const ref: ObjectRef;
   * console.log(await ref.exists());
   * ```
   */
  async exists(subpath?: string): Promise<boolean> {
    return (await this.#open()).exists(this.#inside(subpath));
  }

  /**
   * The folder's manifest (`<path>.manifest.json`), or `null` when there is none (staged folders
   * have none).
   *
   * @example
   * ```ts
   * import type { ObjectRef } from "./object_ref.ts";
   * declare const ref: ObjectRef;
   * console.log((await ref.manifest())?.item_count);
   * ```
   */
  async manifest(): Promise<Manifest | null> {
    if (!this.isDir) return null;
    const store = await this.#open();
    let text: Uint8Array;
    try {
      text = await store.get(`${this.path}.manifest.json`);
    } catch (e) {
      if (e instanceof MissingExternalFile) return null;
      throw e;
    }
    try {
      return JSON.parse(new TextDecoder().decode(text)) as Manifest;
    } catch (e) {
      throw new CorruptObjectError(
        `The manifest ${store.url(`${this.path}.manifest.json`)} is not valid JSON: ${
          (e as Error).message
        }`,
      );
    }
  }

  /**
   * Checks that the object is complete: a file exists with its size (and hash); every file of a
   * folder's manifest exists with its size. Throws `MissingExternalFile` or `CorruptObjectError`.
   *
   * @example
   * ```ts
   * import type { ObjectRef } from "./object_ref.ts";
   * declare const ref: ObjectRef;
   * await ref.verify();
   * ```
   */
  async verify(): Promise<void> {
    const store = await this.#open();
    if (!this.isDir) {
      if (this.hash !== null && BASE32_HASH.test(this.hash)) {
        await this.read();
        return;
      }
      const stat = await store.stat(this.path);
      if (stat === null) {
        throw new MissingExternalFile(`Missing external file ${store.url(this.path)}`);
      }
      if (this.size !== null && stat.size !== this.size) {
        throw new CorruptObjectError(
          `Size mismatch at ${
            store.url(this.path)
          }: expected ${this.size} bytes, found ${stat.size}`,
        );
      }
      return;
    }
    const manifest = await this.manifest();
    if (manifest === null) return;
    for (const f of manifest.files ?? []) {
      const where = `${this.path}/${cleanSubpath(f.path)}`;
      const stat = await store.stat(where);
      if (stat === null) throw new MissingExternalFile(`Missing external file ${store.url(where)}`);
      if (stat.size !== f.size) {
        throw new CorruptObjectError(
          `Size mismatch at ${
            store.url(where)
          }: the manifest says ${f.size} bytes, found ${stat.size}`,
        );
      }
    }
  }

  /**
   * Downloads the object into `dest`: a folder recursively into `dest`; a file to `dest` itself,
   * or to `dest/<name>` when `dest` is an existing folder. Returns the local path written.
   *
   * @example
   * ```ts
   * import type { ObjectRef } from "./object_ref.ts";
   * declare const ref: ObjectRef;
   * const local = await ref.download("./downloads");
   * ```
   */
  async download(dest: string, subpath?: string): Promise<string> {
    const store = await this.#open();
    const where = this.#inside(subpath);
    const isFolder = this.isDir && where === this.path;
    if (isFolder) {
      const files: ManifestFile[] = [];
      for await (const f of this.walk()) files.push(f);
      // A listed name must stay inside `dest` (a bucket may hold keys with ".." segments).
      for (const f of files) cleanSubpath(f.path);
      const manifest = await this.manifest();
      const listed = new Set(files.map((f) => f.path));
      const absent = (manifest?.files ?? []).find((f) => !listed.has(f.path));
      if (absent !== undefined) {
        throw new MissingExternalFile(
          `Missing external file ${
            store.url(`${this.path}/${cleanSubpath(absent.path)}`)
          }: the folder's manifest lists it, so the folder is incomplete`,
        );
      }
      await Deno.mkdir(dest, { recursive: true });
      for (const f of files) {
        const target = join(dest, ...f.path.split("/"));
        await Deno.mkdir(dirname(target), { recursive: true });
        await store.download(`${this.path}/${f.path}`, target);
      }
      return dest;
    }
    let target = dest;
    try {
      if ((await Deno.stat(dest)).isDirectory) target = join(dest, where.split("/").pop()!);
    } catch {
      // `dest` does not exist: it is the file name.
    }
    await store.download(where, target);
    if (where === this.path && this.size !== null) {
      const size = (await Deno.stat(target)).size;
      if (size !== this.size) {
        await Deno.remove(target).catch(() => {});
        throw new CorruptObjectError(
          `Size mismatch at ${store.url(where)}: expected ${this.size} bytes, downloaded ${size}`,
        );
      }
    }
    return target;
  }

  /** The metadata as the reference's `to_json` writes it. */
  toJSON(): ObjectMetadata {
    const m = this.#meta;
    const out: ObjectMetadata = {
      path: this.path,
      size: this.size,
      hash: this.hash,
      ext: this.ext,
      is_dir: this.isDir,
      timestamp: this.timestamp,
    };
    if (m.url) out.url = m.url;
    if (m.store) out.store = m.store;
    if (m.mime_type) out.mime_type = m.mime_type;
    if (m.item_count !== undefined && m.item_count !== null) out.item_count = m.item_count;
    return out;
  }

  /** The store path. */
  toString(): string {
    return this.path;
  }

  /** What `console.log` shows. */
  [Symbol.for("Deno.customInspect")](): string {
    return `ObjectRef(${this.isDir ? "folder" : "file"} ${this.path}${
      this.size === null ? "" : `, ${this.size} bytes`
    }${this.store === null ? "" : `, store ${this.store}`})`;
  }
}
