/**
 * The `s3` protocol: a store under a key prefix (`location`) of a bucket on any S3-compatible
 * server (AWS, MinIO, Ceph, OpenStack Swift's s3api), through `@aws-sdk/client-s3`.
 *
 * Writes are atomic as S3 makes them: one `PutObject` below the multipart threshold, otherwise a
 * multipart upload (`@aws-sdk/lib-storage`) that is completed or aborted, so readers never see a
 * partial object and a failed upload leaves no parts behind. Server errors become `StoreError`s
 * that name the store, the endpoint and what to fix (credentials, bucket, endpoint).
 *
 * @example
 * ```ts
 * import { S3Store } from "./s3_store.ts";
 * import { storeSpec } from "./spec.ts";
 * const spec = storeSpec({
 *   s3: {
 *     protocol: "s3", endpoint: "127.0.0.1:9000", secure: false, bucket: "data",
 *     location: "lab", access_key: "key", secret_key: "secret",
 *   },
 * }, "s3");
 * const store = new S3Store("s3", spec);
 * await store.put("_hash/lab/abc", new Uint8Array([1, 2, 3]));
 * await store.close();
 * ```
 *
 * @module
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { dirname, resolve } from "node:path";
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

/** Tuning of {@link S3Store}. */
export interface S3StoreOptions {
  /** Multipart part size in bytes (at least 5 MiB, the S3 minimum; default 8 MiB). */
  partSize?: number;
  /** Parts uploaded concurrently per multipart upload (default 4). */
  queueSize?: number;
  /** Byte arrays of this size or more are uploaded in parts (default 16 MiB). */
  multipartThreshold?: number;
  /** Keys per ListObjectsV2 page (default the server's, 1000 on AWS). */
  listPageSize?: number;
  /** Attempts per request, retries included (SDK default 3). */
  maxAttempts?: number;
  /**
   * A write-once put that finds its object renews the object's time only when that time is older
   * than this many milliseconds (default 60,000; 0 renews it every time), so that many rows
   * reusing one object cost one server-side copy a minute, not one each. Garbage collection's
   * grace period must be longer.
   */
  renewAfter?: number;
}

const MiB = 1024 * 1024;

/**
 * The endpoint URL the SDK talks to (reference §4.4): kept as given when it has a scheme,
 * otherwise `https://` (or `http://` when `secure` is false) is prepended.
 *
 * @example
 * ```ts
 * import { s3EndpointUrl } from "./s3_store.ts";
 * s3EndpointUrl("s3.amazonaws.com", true);   // "https://s3.amazonaws.com"
 * s3EndpointUrl("127.0.0.1:9000", false);    // "http://127.0.0.1:9000"
 * s3EndpointUrl("http://minio:9000", true);  // "http://minio:9000"
 * ```
 */
export function s3EndpointUrl(endpoint: string, secure = true): string {
  if (/^https?:\/\//i.test(endpoint)) return endpoint;
  return `${secure ? "https" : "http"}://${endpoint}`;
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

const CREDENTIAL_ERRORS = [
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AccessDenied",
  "Forbidden",
  "InvalidToken",
  "ExpiredToken",
  "CredentialsProviderError",
];

const NETWORK_CODES = [
  "ECONNREFUSED",
  "ENOTFOUND",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "EPIPE",
];

function isNetworkError(e: SdkError): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const c = cur as SdkError;
    if (c.code && NETWORK_CODES.includes(c.code)) return true;
    if (c.name === "TimeoutError" || c.name === "ConnectionRefused") return true;
    if (
      /ECONNREFUSED|ENOTFOUND|connection refused|error sending request|fetch failed|getaddrinfo|dns error|socket hang up/i
        .test(c.message ?? "")
    ) {
      return true;
    }
    cur = c.cause;
  }
  return false;
}

/** A stream that forwards `source`, counting bytes and remembering whether `source` failed. */
function watched(
  source: ReadableStream<Uint8Array>,
  onChunk: (n: number) => void,
): {
  stream: ReadableStream<Uint8Array>;
  failure: () => { error: unknown } | undefined;
  cancelSource: (reason: unknown) => Promise<void>;
} {
  let failure: { error: unknown } | undefined;
  const reader = source.getReader();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        failure = { error };
        controller.error(error);
        return;
      }
      if (next.done) {
        controller.close();
      } else {
        onChunk(next.value.length);
        controller.enqueue(next.value);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return {
    stream,
    failure: () => failure,
    // The forwarding stream may stay locked by an abandoned reader: cancel the source directly.
    cancelSource: (reason) => reader.cancel(reason).catch(() => {}),
  };
}

/**
 * A store on an S3-compatible server (`protocol: "s3"`). The object at store path `p` has key
 * `<location>/<p>` (or `p` when `location` is empty; a trailing `/` of `location` is dropped) in
 * `bucket`.
 *
 * @example
 * ```ts
 * import { S3Store } from "./s3_store.ts";
 * import type { StoreSpec } from "./backend.ts";
 * declare const spec: StoreSpec; // protocol "s3", from storeSpec()
 * const store = new S3Store("archive", spec, { partSize: 16 * 1024 * 1024 });
 * const head = await store.getRange("_schema/lab/t/id=1/f_AbCdEfGh.npy", 0, 128);
 * await store.close();
 * ```
 */
export class S3Store implements StoreBackend {
  /** The store's name in `stores`. */
  readonly name: string;
  /** The specification, defaults applied. */
  readonly spec: StoreSpec;
  /** Request counters since creation (`lists` counts listing requests, one per page). */
  readonly counters: StoreCounters = emptyCounters();
  /** The endpoint URL in use. */
  readonly endpoint: string;
  /** The bucket. */
  readonly bucket: string;
  readonly #prefix: string;
  readonly #client: S3Client;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #threshold: number;
  readonly #pageSize: number | undefined;
  readonly #renewAfter: number;

  /** A store client; no request is made until the first operation. */
  constructor(name: string, spec: StoreSpec, options: S3StoreOptions = {}) {
    if (spec.protocol !== "s3") {
      throw new StoreError(`Store "${name}": S3Store needs protocol "s3", got "${spec.protocol}"`);
    }
    if (!spec.endpoint || !spec.bucket) {
      throw new StoreError(`Store "${name}": an s3 store needs a non-empty endpoint and bucket`);
    }
    this.name = name;
    this.spec = spec;
    this.endpoint = s3EndpointUrl(spec.endpoint, spec.secure ?? true);
    this.bucket = spec.bucket;
    const location = (spec.location ?? "").replace(/\/+$/, "");
    this.#prefix = location ? `${location}/` : "";
    this.#partSize = Math.max(5 * MiB, options.partSize ?? 8 * MiB);
    this.#queueSize = Math.max(1, options.queueSize ?? 4);
    this.#threshold = options.multipartThreshold ?? 16 * MiB;
    this.#pageSize = options.listPageSize;
    this.#renewAfter = options.renewAfter ?? 60_000;
    const config: S3ClientConfig = {
      endpoint: this.endpoint,
      region: spec.region ?? "us-east-1",
      forcePathStyle: true,
      // Checksums only when an operation requires them: S3-compatible servers differ in support.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    };
    if (spec.access_key !== undefined && spec.secret_key !== undefined) {
      config.credentials = { accessKeyId: spec.access_key, secretAccessKey: spec.secret_key };
    }
    if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
    this.#client = new S3Client(config);
  }

  #key(path: string): string {
    assertStorePath(path);
    return this.#prefix + path;
  }

  /** `s3://<bucket>/<key>` of a store path. */
  url(path: string): string {
    assertStorePath(path, { allowRoot: true });
    return `s3://${this.bucket}/${this.#prefix}${path}`;
  }

  /** Translates an SDK error into a DataJoint error that says what to fix. */
  #error(e: unknown, op: string, path: string, read = false): Error {
    if (e instanceof DataJointError) return e;
    const err = (e ?? {}) as SdkError;
    const code = err.name ?? err.Code ?? "";
    const status = err.$metadata?.httpStatusCode;
    const where = `Store "${this.name}" (${this.endpoint}, bucket "${this.bucket}")`;
    if (CREDENTIAL_ERRORS.includes(code) || status === 403) {
      return new StoreError(
        `${where}: the server refused the credentials (${code || status}) on ${op} of ` +
          `${this.url(path)}. Check access_key and secret_key of stores.${this.name} ` +
          `(datajoint.json, DJ_STORES or .secrets/stores.${this.name}.access_key / secret_key), ` +
          `and that this user may use the bucket.`,
        { cause: e },
      );
    }
    if (code === "NoSuchBucket") {
      return new StoreError(
        `${where}: bucket "${this.bucket}" does not exist. Create it, or fix ` +
          `stores.${this.name}.bucket.`,
        { cause: e },
      );
    }
    if (read && (code === "NoSuchKey" || code === "NotFound" || status === 404)) {
      return new MissingExternalFile(`Missing external file ${this.url(path)}`, { cause: e });
    }
    if (status === undefined && isNetworkError(err)) {
      return new StoreError(
        `${where}: cannot reach the endpoint ${this.endpoint} (${err.message ?? code}). Check ` +
          `stores.${this.name}.endpoint (and secure: ${this.spec.secure ?? true} means ` +
          `${this.spec.secure === false ? "http" : "https"} when no scheme is given), and that ` +
          `the server is running.`,
        { cause: e },
      );
    }
    return new StoreError(
      `${where}: ${op} of ${this.url(path)} failed: ${code}${status ? ` (HTTP ${status})` : ""}` +
        `${err.message ? `: ${err.message}` : ""}`,
      { cause: e },
    );
  }

  /** Runs one request, translating its failure. */
  async #call<T>(op: string, path: string, read: boolean, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (e) {
      throw this.#error(e, op, path, read);
    }
  }

  /** An object's size and time, or `null` when absent (HeadObject only: no directory probe). */
  async #head(path: string): Promise<{ size: number; modified: Date } | null> {
    try {
      const out = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.#key(path) }),
      );
      return { size: out.ContentLength ?? 0, modified: out.LastModified ?? new Date(0) };
    } catch (e) {
      const err = e as SdkError;
      if (
        err.name === "NotFound" || err.name === "NoSuchKey" || err.$metadata?.httpStatusCode === 404
      ) {
        return null;
      }
      throw this.#error(e, "HEAD", path);
    }
  }

  /**
   * Renews the modification time of an existing object that a write-once put found (a copy onto
   * itself with its metadata replaced, done inside the server), so that garbage collection's
   * grace period covers it as it covers a new object. Best effort: the object is there to use.
   * An object renewed (or written) within `renewAfter` is left as it is.
   */
  async #freshen(path: string, modified: Date): Promise<void> {
    // (Servers may round an object's time up: a fresh one can look a moment younger than now.)
    if (this.#renewAfter > 0 && Date.now() - modified.getTime() < this.#renewAfter) return;
    const Key = this.#key(path);
    this.counters.renewals++;
    await this.#client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key,
        CopySource: `${this.bucket}/${Key.split("/").map(encodeURIComponent).join("/")}`,
        MetadataDirective: "REPLACE",
      }),
    ).catch(() => {});
  }

  async #upload(
    path: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
  ): Promise<number> {
    const Key = this.#key(path);
    if (body instanceof Uint8Array && body.length < this.#threshold) {
      await this.#call("PUT", path, false, () =>
        this.#client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: body,
            ContentLength: body.length,
          }),
        ));
      return body.length;
    }
    let size = 0;
    let source: ReadableStream<Uint8Array> | Uint8Array = body;
    let failure: () => { error: unknown } | undefined = () => undefined;
    let cancelSource = (_reason: unknown) => Promise.resolve();
    if (body instanceof ReadableStream) {
      const w = watched(body, (n) => (size += n));
      source = w.stream;
      failure = w.failure;
      cancelSource = w.cancelSource;
    } else {
      size = body.length;
    }
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.bucket, Key, Body: source },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      // Abort the multipart upload on failure: no dangling parts, no partial object.
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      const f = failure();
      // The caller's stream failed: that error is the one to see (the upload was aborted).
      if (f) throw f.error;
      // Release the caller's stream (e.g. close a local file) that the upload stopped reading.
      await cancelSource(e);
      throw this.#error(e, "multipart upload", path);
    }
    return size;
  }

  /**
   * Writes bytes or a stream. Byte arrays below the multipart threshold go in one PutObject;
   * larger ones and streams (length unknown) through a multipart upload that is aborted on
   * failure. With `ifAbsent`, a HeadObject first: nothing is written when the key exists.
   */
  async put(
    path: string,
    data: Uint8Array | ReadableStream<Uint8Array>,
    options: PutOptions = {},
  ): Promise<{ written: boolean }> {
    try {
      if (options.ifAbsent) {
        this.counters.stats++;
        const found = await this.#head(path);
        if (found !== null) {
          if (data instanceof ReadableStream) await data.cancel().catch(() => {});
          await this.#freshen(path, found.modified);
          return { written: false };
        }
      }
      const size = await this.#upload(path, data);
      this.counters.puts++;
      this.counters.bytesWritten += size;
      return { written: true };
    } catch (e) {
      if (data instanceof ReadableStream) await data.cancel(e).catch(() => {});
      throw e;
    }
  }

  /**
   * Writes bytes under a path computed from them: `onChunk` sees the bytes, then the object is
   * uploaded to `pathOf()` (the key must be known before an upload starts).
   */
  async putContent(
    data: Uint8Array,
    options: ContentPutOptions,
  ): Promise<{ path: string; written: boolean }> {
    if (data.length > 0) options.onChunk(data);
    const path = options.pathOf();
    const { written } = await this.put(path, data, { ifAbsent: options.ifAbsent });
    return { path, written };
  }

  /** Uploads a local file, streaming it (multipart from the threshold on). */
  async putFile(
    path: string,
    localFile: string,
    options: PutOptions = {},
  ): Promise<{ written: boolean }> {
    let size: number;
    try {
      const st = await Deno.stat(localFile);
      if (!st.isFile) throw new DataJointError(`Not a file: ${localFile}`);
      size = st.size;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new DataJointError(`Local file not found: ${localFile}`);
      }
      throw e;
    }
    if (options.ifAbsent) {
      this.counters.stats++;
      const found = await this.#head(path);
      if (found !== null) {
        await this.#freshen(path, found.modified);
        return { written: false };
      }
    }
    if (size < this.#threshold) {
      await this.#upload(path, await Deno.readFile(localFile));
    } else {
      const file = await Deno.open(localFile, { read: true });
      await this.#upload(path, file.readable);
    }
    this.counters.puts++;
    this.counters.bytesWritten += size;
    return { written: true };
  }

  async #getObject(path: string, range?: string): Promise<GetObjectCommandOutput> {
    const Key = this.#key(path);
    return await this.#call(
      "GET",
      path,
      true,
      () => this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range: range })),
    );
  }

  /**
   * Reads a whole object. With `onChunk`, each piece of the response body goes to `onChunk` as
   * it arrives (copied into the result first), so a hash check runs while the rest downloads.
   */
  async get(path: string, options: GetOptions = {}): Promise<Uint8Array> {
    this.counters.gets++;
    const byteOffset = checkByteOffset(options.byteOffset);
    const out = await this.#getObject(path);
    const onChunk = options.onChunk;
    const length = out.ContentLength;
    let bytes: Uint8Array;
    if (length !== undefined && (onChunk !== undefined || byteOffset > 0)) {
      bytes = await this.#collect(out, length, onChunk ?? (() => {}), path, byteOffset);
    } else {
      bytes = await out.Body!.transformToByteArray();
      if (byteOffset > 0) {
        const placed = new Uint8Array(byteOffset + bytes.length).subarray(byteOffset);
        placed.set(bytes);
        bytes = placed;
      }
      onChunk?.(bytes);
    }
    this.counters.bytesRead += bytes.length;
    return bytes;
  }

  /** The response body in one buffer of the announced length, each piece shown to `onChunk`. */
  async #collect(
    out: GetObjectCommandOutput,
    length: number,
    onChunk: (chunk: Uint8Array) => void,
    path: string,
    byteOffset: number,
  ): Promise<Uint8Array> {
    const body = out.Body as unknown as AsyncIterable<Uint8Array> & {
      destroy?: (error?: Error) => void;
    };
    const buf = new Uint8Array(byteOffset + length).subarray(byteOffset);
    let at = 0;
    let callerError: { error: unknown } | undefined;
    try {
      for await (const chunk of body) {
        if (at + chunk.length > length) {
          throw new StoreError(
            `Store "${this.name}": ${this.url(path)} sent more than the ${length} bytes it ` +
              `announced; retry, and check the server if it happens again`,
          );
        }
        buf.set(chunk, at);
        const piece = buf.subarray(at, at + chunk.length);
        at += chunk.length;
        try {
          onChunk(piece);
        } catch (error) {
          callerError = { error };
          throw error;
        }
      }
    } catch (e) {
      body.destroy?.();
      if (callerError) throw callerError.error;
      throw this.#error(e, "GET", path, true);
    }
    return at === length ? buf : buf.subarray(0, at);
  }

  /** Reads up to `length` bytes from `offset` with a `Range` request. */
  async getRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    if (
      !Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0
    ) {
      throw new DataJointError(
        `Invalid range offset=${offset} length=${length}: both must be non-negative integers`,
      );
    }
    this.counters.rangeGets++;
    if (length === 0) {
      // No byte range can be empty in HTTP; a HEAD keeps "missing object" an error.
      if ((await this.#head(path)) === null) {
        throw new MissingExternalFile(`Missing external file ${this.url(path)}`);
      }
      return new Uint8Array(0);
    }
    let out: GetObjectCommandOutput;
    try {
      out = await this.#getObject(path, `bytes=${offset}-${offset + length - 1}`);
    } catch (e) {
      const cause = (e as Error).cause as SdkError | undefined;
      // 416: the object exists but starts before `offset`; like a file read at its end.
      if (cause?.$metadata?.httpStatusCode === 416 || cause?.name === "InvalidRange") {
        return new Uint8Array(0);
      }
      throw e;
    }
    const bytes = await out.Body!.transformToByteArray();
    this.counters.bytesRead += bytes.length;
    return bytes;
  }

  /** Streams an object (web `ReadableStream`). */
  async open(path: string): Promise<ReadableStream<Uint8Array>> {
    this.counters.gets++;
    const out = await this.#getObject(path);
    const counters = this.counters;
    return (out.Body!.transformToWebStream() as ReadableStream<Uint8Array>).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          counters.bytesRead += chunk.length;
          controller.enqueue(chunk);
        },
      }),
    );
  }

  /** Streams an object into a local file, written atomically (temp file, then rename). */
  async download(path: string, localFile: string): Promise<void> {
    const stream = await this.open(path);
    const target = resolve(localFile);
    await Deno.mkdir(dirname(target), { recursive: true });
    const bytes = crypto.getRandomValues(new Uint8Array(6));
    const tmp = `${target}.saving-${
      Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
    }`;
    try {
      await Deno.writeFile(tmp, stream, { createNew: true });
      await Deno.rename(tmp, target);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e instanceof DataJointError ? e : this.#error(e, "download", path, true);
    }
  }

  /** Object size, or `isDir` when objects exist under `path/`, or null. */
  async stat(path: string): Promise<StoreStat | null> {
    this.counters.stats++;
    const head = await this.#head(path);
    if (head !== null) return { ...head, isDir: false };
    const Prefix = this.#key(path) + "/";
    const out = await this.#call(
      "LIST",
      path,
      false,
      () =>
        this.#client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, MaxKeys: 1 })),
    );
    return (out.KeyCount ?? out.Contents?.length ?? 0) > 0
      ? { size: 0, isDir: true, modified: null }
      : null;
  }

  /** Whether an object, or a "folder" with objects under it, exists. */
  async exists(path: string): Promise<boolean> {
    return (await this.stat(path)) !== null;
  }

  /** Every object under a prefix (as a folder), paging through ListObjectsV2. */
  async *list(prefix: string): AsyncIterable<StoreEntry> {
    assertStorePath(prefix, { allowRoot: true });
    const rel = prefix.replace(/\/$/, "");
    const Prefix = rel === "" ? this.#prefix : `${this.#prefix}${rel}/`;
    let token: string | undefined;
    do {
      this.counters.lists++;
      const ContinuationToken = token;
      const out = await this.#call("LIST", rel, false, () =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix,
            ContinuationToken,
            MaxKeys: this.#pageSize,
          }),
        ));
      for (const o of out.Contents ?? []) {
        // Keys ending in "/" are folder markers some tools create, not objects.
        if (!o.Key || o.Key.endsWith("/") || !o.Key.startsWith(this.#prefix)) continue;
        yield {
          path: o.Key.slice(this.#prefix.length),
          size: o.Size ?? 0,
          modified: o.LastModified ?? new Date(0),
        };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  /** Deletes an object; silent when it is absent. */
  async remove(path: string): Promise<void> {
    this.counters.removes++;
    try {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#key(path) }),
      );
    } catch (e) {
      const err = e as SdkError;
      if (
        err.name === "NoSuchKey" ||
        err.$metadata?.httpStatusCode === 404 && err.name !== "NoSuchBucket"
      ) {
        return;
      }
      throw this.#error(e, "DELETE", path);
    }
  }

  /** Closes the client's connections. */
  close(): Promise<void> {
    this.#client.destroy();
    return Promise.resolve();
  }
}
