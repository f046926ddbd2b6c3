/**
 * The contract of an object store backend (one configured store: a local folder or an S3 bucket
 * prefix), and the store specification as DataJoint Python spells it in `datajoint.json`.
 *
 * Paths given to a backend are **store-relative**: `/`-separated, no leading `/`, no `//`, no `.`
 * or `..` segments (`_hash/lab/3qhdji7socz3m2zoqsr53snucm`). The backend maps them to its full
 * location (`<location>/<path>` for files, `<bucket>/<location>/<path>` for S3).
 *
 * @example
 * ```ts
 * import type { StoreBackend } from "./backend.ts";
 *
 * async function copy(from: StoreBackend, to: StoreBackend, path: string): Promise<void> {
 *   await to.put(path, await from.get(path));
 * }
 * ```
 *
 * @module
 */
import { DataJointError } from "../lib/errors.ts";

/** Store protocols this library speaks. */
export type StoreProtocol = "file" | "s3";

/**
 * One store's specification after defaults (reference `get_store_spec`). Field names are the
 * reference's snake_case, as they appear in `datajoint.json`.
 *
 * @example
 * ```ts
 * import type { StoreSpec } from "./backend.ts";
 * const spec: StoreSpec = {
 *   protocol: "file", location: "/data/store", subfolding: null, partition_pattern: null,
 *   token_length: 8, hash_prefix: "_hash", schema_prefix: "_schema", filepath_prefix: null,
 * };
 * ```
 */
export interface StoreSpec {
  /** `file` or `s3`. */
  protocol: StoreProtocol;
  /** Folder (file) or key prefix inside the bucket (s3; may be `""`). */
  location: string;
  /** S3 bucket. */
  bucket?: string;
  /** S3 endpoint: a URL, or a host[:port] made `https://` (or `http://` when `secure` is false). */
  endpoint?: string;
  /** S3 access key id (with `secret_key`, or neither for the ambient AWS chain). */
  access_key?: string;
  /** S3 secret key. */
  secret_key?: string;
  /** S3: HTTPS when the endpoint has no scheme (default true). */
  secure?: boolean;
  /** S3 region for signing (not a reference key; default `us-east-1`). */
  region?: string;
  /** Hash fan-out, e.g. `[2, 2]`; `null` = flat. */
  subfolding: number[] | null;
  /** Partition pattern with `{attr}` placeholders, or `null`. */
  partition_pattern: string | null;
  /** Random token length of schema-addressed names, clamped to 4..16. */
  token_length: number;
  /** Section of hash-addressed objects (default `_hash`). */
  hash_prefix: string;
  /** Section of schema-addressed objects (default `_schema`). */
  schema_prefix: string;
  /** When set, every `<filepath@>` path must lie inside it. */
  filepath_prefix: string | null;
  /** Staging location (accepted, unused). */
  stage?: string;
}

/** What {@link StoreBackend.stat} reports. */
export interface StoreStat {
  /** Size in bytes (0 for a directory). */
  size: number;
  /** Whether the path is a directory (file store) or a key prefix with objects under it (S3). */
  isDir: boolean;
  /** When the object was last written or renewed (`null` for an S3 key prefix). */
  modified: Date | null;
}

/** One stored object found by {@link StoreBackend.list}. */
export interface StoreEntry {
  /** Store-relative path. */
  path: string;
  /** Size in bytes. */
  size: number;
  /** When it was last written or renewed (garbage collection spares recent objects). */
  modified: Date;
}

/** Request counters of a backend (for tests and benchmarks: "zero data downloads"). */
export interface StoreCounters {
  /** Whole or streamed object reads (`get`, `open`, `download`). */
  gets: number;
  /** Ranged reads. */
  rangeGets: number;
  /** Bytes returned by reads. */
  bytesRead: number;
  /** Object writes. */
  puts: number;
  /** Bytes written. */
  bytesWritten: number;
  /** Existence / size checks. */
  stats: number;
  /** Listing requests. */
  lists: number;
  /** Removals. */
  removes: number;
  /** Existing objects whose time a write-once put renewed instead of writing them. */
  renewals: number;
}

/**
 * Fresh request counters, every count zero.
 *
 * @example
 * ```ts
 * import { emptyCounters } from "./backend.ts";
 * const counters = emptyCounters();
 * counters.gets++;
 * console.log(counters.gets); // 1
 * ```
 */
export function emptyCounters(): StoreCounters {
  return {
    gets: 0,
    rangeGets: 0,
    bytesRead: 0,
    puts: 0,
    bytesWritten: 0,
    stats: 0,
    lists: 0,
    removes: 0,
    renewals: 0,
  };
}

/**
 * A {@link GetOptions.byteOffset}, checked: 0 when absent, else an integer from 0 to 4096.
 *
 * @throws {DataJointError} for anything else.
 *
 * @example
 * ```ts
 * import { checkByteOffset } from "./backend.ts";
 * console.log(checkByteOffset(undefined), checkByteOffset(3)); // 0 3
 * ```
 */
export function checkByteOffset(byteOffset: number | undefined): number {
  if (byteOffset === undefined) return 0;
  if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset > 4096) {
    throw new DataJointError(
      `Invalid byteOffset ${byteOffset}: give an integer from 0 to 4096 (bytes before the data)`,
    );
  }
  return byteOffset;
}

/** Options of {@link StoreBackend.put}. */
export interface PutOptions {
  /**
   * Write only when nothing exists under the path (write-once, as the reference's file protocol):
   * the result says whether this call wrote it. When something exists, its modification time is
   * renewed (best effort), so that garbage collection's grace period (`lib/gc.ts`) spares an
   * object that a row about to be committed has just found and reused.
   */
  ifAbsent?: boolean;
}

/** What {@link StoreBackend.putContent} needs besides the bytes. */
export interface ContentPutOptions extends PutOptions {
  /**
   * Sees every piece of the bytes, in order, before `pathOf` is called (a content hash is
   * computed here). An error thrown here stops the write and leaves nothing behind.
   */
  onChunk: (chunk: Uint8Array) => void;
  /** The path of the object, asked once every piece has been seen. */
  pathOf: () => string;
}

/** Options of {@link StoreBackend.get}. */
export interface GetOptions {
  /**
   * Sees every piece of the object, in order, while the next piece is still being read, so that a
   * check of the content (a hash) runs alongside the transfer instead of after it. Each piece is
   * a view of the bytes `get` returns: read it, do not keep or change it. An error thrown here
   * stops the read and rejects `get` with it.
   */
  onChunk?: (chunk: Uint8Array) => void;
  /**
   * Place the bytes this far into a fresh buffer (the result's `byteOffset`), so that a reader
   * can find what it needs aligned inside them (a blob's array elements). Default 0.
   */
  byteOffset?: number;
}

/**
 * One configured store. Every write is atomic: readers see the whole object under its final name
 * or nothing (temp file + rename on file stores; single PUT or complete-or-abort multipart on S3).
 *
 * Errors: a missing object is a `MissingExternalFile` (from `lib/errors.ts`); other failures are
 * `StoreError`s that name the store and what to check (credentials, bucket, permissions).
 *
 * @example
 * ```ts
 * import type { StoreBackend } from "./backend.ts";
 * declare const store: StoreBackend;
 * await store.put("_hash/lab/abc", new Uint8Array([1, 2, 3]));
 * console.log(await store.get("_hash/lab/abc"));
 * ```
 */
export interface StoreBackend {
  /** The store's name in `stores` (what metadata `store` fields hold). */
  readonly name: string;
  /** The specification, defaults applied. */
  readonly spec: StoreSpec;
  /** Request counters since creation. */
  readonly counters: StoreCounters;
  /** The full location of a path, for messages (`/data/store/_hash/x`, `s3://bucket/loc/_hash/x`). */
  url(path: string): string;
  /** Writes bytes (or a stream, for large objects) atomically. */
  put(
    path: string,
    data: Uint8Array | ReadableStream<Uint8Array>,
    options?: PutOptions,
  ): Promise<{ written: boolean }>;
  /**
   * Writes bytes whose path depends on their content (hash-addressed objects), as atomically as
   * `put`. The file store writes a temporary file while `onChunk` sees the pieces (one pass over
   * the bytes), then publishes it under `pathOf()`; S3 shows the pieces first, then uploads.
   */
  putContent(
    data: Uint8Array,
    options: ContentPutOptions,
  ): Promise<{ path: string; written: boolean }>;
  /** Uploads a local file atomically, streaming it. */
  putFile(path: string, localFile: string, options?: PutOptions): Promise<{ written: boolean }>;
  /** Reads a whole object (into one buffer, sized from the object's length). */
  get(path: string, options?: GetOptions): Promise<Uint8Array>;
  /** Reads `length` bytes from `offset` (fewer at the end of the object). */
  getRange(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Streams an object. */
  open(path: string): Promise<ReadableStream<Uint8Array>>;
  /** Downloads an object to a local file (written atomically; parents created). */
  download(path: string, localFile: string): Promise<void>;
  /** Size and kind, or `null` when nothing is there. */
  stat(path: string): Promise<StoreStat | null>;
  /** Whether an object (or, on file stores, a directory) exists. */
  exists(path: string): Promise<boolean>;
  /** Every object under a prefix (a folder path, with or without trailing `/`), recursively. */
  list(prefix: string): AsyncIterable<StoreEntry>;
  /** Removes an object; silent when it is absent. On file stores also prunes empty parents. */
  remove(path: string): Promise<void>;
  /** Releases clients and handles. */
  close(): Promise<void>;
}
