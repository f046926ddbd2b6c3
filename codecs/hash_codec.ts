/**
 * `<hash@store>`: bytes kept once per store and schema under their content hash (reference
 * §3.1). The column holds `{hash, path, schema, store, size}`; the object is the bytes themselves
 * at `{hash_prefix}/{schema}/{hash}`. `<blob@>` and `<attach@>` chain to it.
 *
 * Writes are deduplicated (an existing object is not written again), so an object may be shared
 * by rows of several writers: a failed insert leaves it to garbage collection. Reads verify the
 * hash (and size) and never return bytes that do not match their metadata.
 *
 * @example
 * ```ts
 * import { hashCodec } from "./hash_codec.ts";
 * console.log(hashCodec.getDtype(true)); // json
 * ```
 *
 * @module
 */
import { CodecError, CorruptObjectError, DataJointError } from "../lib/errors.ts";
import { createContentHasher, hashPath } from "../stores/paths.ts";
import {
  describeValue,
  insertContext,
  metadataOf,
  metadataStore,
  storesOf,
} from "./_store_context.ts";
import type { CodecSpec, DecodeContext, EncodeContext } from "./registry.ts";

/** The metadata a `<hash@>` column holds, in the reference's key order. */
export interface HashMetadata {
  /** 26-character base32 MD5 of the bytes. */
  hash: string;
  /** Store-relative path. */
  path: string;
  /** Schema the object was written for. */
  schema: string;
  /** The store's name (`null` in rows that meant the default store). */
  store: string | null;
  /** Size in bytes. */
  size: number;
}

const BASE32_HASH = /^[a-z2-7]{26}$/;

/**
 * Stores bytes hash-addressed (skipping the upload when the object is already there) and returns
 * the metadata.
 *
 * @example
 * ```ts
 * import { putHash } from "./hash_codec.ts";
 * import type { EncodeContext } from "./registry.ts";
 * declare const ctx: EncodeContext;
 * const meta = await putHash(new TextEncoder().encode("hello"), ctx);
 * console.log(meta.hash); // lvauakv4jmvhnolrtwiraf6fsi
 * ```
 */
export async function putHash(bytes: Uint8Array, ctx: EncodeContext): Promise<HashMetadata> {
  const backend = await storesOf(ctx, "hash").backend(ctx.storeName ?? null);
  const { schema } = insertContext(ctx);
  // The store hashes and writes in one pass where it can (file store: a temp file written while
  // the pieces are hashed, then linked under the hash path).
  const hasher = createContentHasher();
  let hash = "";
  const { path, written } = await backend.putContent(bytes, {
    onChunk: (piece) => void hasher.update(piece),
    pathOf: () => hashPath(hash = hasher.digest(), schema, backend.spec),
    ifAbsent: true,
  });
  if (written) ctx.written?.push({ store: backend.name, path, shared: true });
  return { hash, path, schema, store: backend.name, size: bytes.length };
}

/** Options of {@link getHash}. */
export interface GetHashOptions {
  /** Where the bytes start in their fresh buffer (see the stores' `GetOptions.byteOffset`). */
  byteOffset?: number;
}

/**
 * Reads the bytes a `<hash@>` metadata points to and checks them against the hash and size.
 *
 * @example
 * ```ts
 * import { getHash } from "./hash_codec.ts";
 * import type { DecodeContext } from "./registry.ts";
 * declare const ctx: DecodeContext;
 * const bytes = await getHash({ hash: "lvauakv4jmvhnolrtwiraf6fsi", path: "_hash/lab/lvauakv4jmvhnolrtwiraf6fsi", store: "main" }, ctx);
 * ```
 */
export async function getHash(
  stored: unknown,
  ctx: DecodeContext,
  options: GetHashOptions = {},
): Promise<Uint8Array> {
  const meta = metadataOf(stored, "hash");
  const backend = await storesOf(ctx, "hash").backend(metadataStore(meta));
  // Migrated pre-2.0 rows carry a hex UUID hash that is not an MD5 of the bytes: not verified.
  const verify = typeof meta.hash === "string" && BASE32_HASH.test(meta.hash);
  // The hash runs on each piece as it arrives, alongside the rest of the transfer.
  const hasher = verify ? createContentHasher() : undefined;
  const bytes = await backend.get(meta.path, {
    onChunk: hasher ? (piece) => void hasher.update(piece) : undefined,
    byteOffset: options.byteOffset,
  });
  if (typeof meta.size === "number" && meta.size !== bytes.length) {
    throw new CorruptObjectError(
      `Size mismatch: expected ${meta.size} bytes, got ${bytes.length}. Data at ${
        backend.url(meta.path)
      } may be corrupted.`,
    );
  }
  if (hasher) {
    const actual = hasher.digest();
    if (actual !== meta.hash) {
      throw new CorruptObjectError(
        `Hash mismatch: expected ${meta.hash}, got ${actual}. Data at ${
          backend.url(meta.path)
        } may be corrupted.`,
      );
    }
  }
  return bytes;
}

/**
 * The `<hash>` codec (store only).
 *
 * @example
 * ```ts
 * import { hashCodec } from "./hash_codec.ts";
 * console.log(hashCodec.name); // hash
 * ```
 */
export const hashCodec: CodecSpec<Uint8Array, HashMetadata> = {
  name: "hash",
  getDtype(isStore) {
    if (!isStore) {
      throw new DataJointError(
        "<hash> requires @ (in-store storage only): write <hash@> or <hash@store>",
      );
    }
    return "json";
  },
  validate(value) {
    if (!(value instanceof Uint8Array)) {
      throw new CodecError(
        `<hash@> stores bytes: give a Uint8Array, got ${describeValue(value)}`,
      );
    }
  },
  encode: (value, ctx) => putHash(value, ctx),
  decode: (stored, ctx) => getHash(stored, ctx),
};
