/**
 * `<object@store>`: files, folders and bytes kept schema-addressed under
 * `{schema_prefix}/{schema}/{table}/{key…}/{field}_{token}{ext}` (reference §2.11, §3.2). The
 * column holds `{path, store, size, ext, is_dir, item_count, timestamp}`; a folder also gets
 * `<path>.manifest.json`. Fetching gives a lazy {@link ObjectRef}.
 *
 * Inputs: a `Uint8Array`; `[ext, bytes | stream]`; the path (or file URL) of a local file or
 * folder; or metadata with a `path` that is already in the store (passed through unchanged, the
 * reference's staged-insert hook).
 *
 * @example
 * ```ts
 * import { objectCodec } from "./object_codec.ts";
 * console.log(objectCodec.getDtype(true), objectCodec.addressing); // json schema
 * ```
 *
 * @module
 */
import { basename, extname, join } from "node:path";
import { CodecError, DataJointError } from "../lib/errors.ts";
import { assertStorePath, objectPath } from "../stores/paths.ts";
import { mapPool } from "../stores/pool.ts";
import {
  insertContext,
  isoTimestamp,
  localPathOf,
  metadataOf,
  metadataStore,
  pythonIndentedJson,
  storesOf,
} from "./_store_context.ts";
import { type Manifest, type ObjectMetadata, ObjectRef } from "./object_ref.ts";
import type { CodecSpec, DecodeContext, EncodeContext } from "./registry.ts";

/** What `<object@>` accepts. */
export type ObjectInput =
  | Uint8Array
  | string
  | URL
  | [ext: string, data: Uint8Array | ReadableStream<Uint8Array>]
  | ObjectMetadata;

/** Parallel uploads of one folder's files. */
const FOLDER_CONCURRENCY = 8;

/** Files of a local folder, relative `/`-paths: files of a folder first, then its sub-folders. */
async function folderFiles(root: string): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  const visit = async (rel: string) => {
    const files: { path: string; size: number }[] = [];
    const dirs: string[] = [];
    for await (const e of Deno.readDir(rel === "" ? root : join(root, rel))) {
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) dirs.push(r);
      else if (e.isFile) files.push({ path: r, size: (await Deno.stat(join(root, r))).size });
      // Symlinks and special files are not followed: a folder object holds regular files.
    }
    files.sort((a, b) => (a.path < b.path ? -1 : 1));
    out.push(...files);
    for (const d of dirs.sort()) await visit(d);
  };
  await visit("");
  return out;
}

function isTuple(v: unknown): v is [string, Uint8Array | ReadableStream<Uint8Array>] {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === "string" &&
    (v[1] instanceof Uint8Array || v[1] instanceof ReadableStream);
}

function dotted(ext: string): string {
  return ext === "" || ext.startsWith(".") ? ext : `.${ext}`;
}

async function encodeObject(value: ObjectInput, ctx: EncodeContext): Promise<ObjectMetadata> {
  if (
    typeof value === "object" && value !== null && !(value instanceof Uint8Array) &&
    !(value instanceof URL) && !Array.isArray(value) &&
    typeof (value as ObjectMetadata).path === "string"
  ) {
    // Already stored (staged insert / another writer's upload): kept as given, but a path that
    // could never be read back (absolute, "..", empty segments) is refused before the row is.
    assertStorePath((value as ObjectMetadata).path);
    return value as ObjectMetadata;
  }
  const backend = await storesOf(ctx, "object").backend(ctx.storeName ?? null);
  const where = insertContext(ctx);
  const place = (ext: string) =>
    objectPath({
      schema: where.schema,
      table: where.table,
      field: where.field,
      key: where.key,
      keyTypes: ctx.keyTypes,
      ext,
      spec: backend.spec,
    }).path;
  const meta = (
    path: string,
    size: number,
    ext: string | null,
    isDir: boolean,
    n: number | null,
  ) => ({
    path,
    store: backend.name,
    size,
    ext,
    is_dir: isDir,
    item_count: n,
    timestamp: isoTimestamp(),
  });

  if (value instanceof Uint8Array) {
    const path = place("");
    await backend.put(path, value);
    ctx.written?.push({ store: backend.name, path });
    return meta(path, value.length, null, false, null);
  }
  if (isTuple(value)) {
    const [ext, data] = value;
    const path = place(dotted(ext));
    await backend.put(path, data);
    ctx.written?.push({ store: backend.name, path });
    const size = data instanceof Uint8Array ? data.length : (await backend.stat(path))?.size ?? 0;
    return meta(path, size, ext, false, null);
  }
  if (typeof value !== "string" && !(value instanceof URL)) {
    throw new CodecError(
      "<object@> takes a Uint8Array, [ext, bytes], the path of a local file or folder, or stored metadata",
    );
  }
  const source = localPathOf(value, "object");
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(source);
  } catch {
    throw new CodecError(`Source path not found: ${source}`);
  }
  if (info.isFile) {
    // Python's Path.suffix: the last extension, none for dot-files such as ".bashrc".
    const name = basename(source);
    const ext = name.startsWith(".") && name.indexOf(".", 1) < 0 ? "" : extname(name);
    const path = place(ext);
    await backend.putFile(path, source);
    ctx.written?.push({ store: backend.name, path });
    return meta(path, info.size, ext, false, null);
  }
  if (!info.isDirectory) {
    throw new CodecError(`<object@> cannot store ${source}: not a file or folder`);
  }
  const files = await folderFiles(source);
  const path = place("");
  ctx.written?.push({ store: backend.name, path, folder: true });
  await mapPool(
    files,
    FOLDER_CONCURRENCY,
    (f) => backend.putFile(`${path}/${f.path}`, join(source, ...f.path.split("/"))),
  );
  const total = files.reduce((s, f) => s + f.size, 0);
  const manifest: Manifest = {
    files,
    total_size: total,
    item_count: files.length,
    created: isoTimestamp(),
  };
  // The manifest goes last: its presence says the folder is complete.
  await backend.put(
    `${path}.manifest.json`,
    new TextEncoder().encode(pythonIndentedJson(manifest)),
  );
  return meta(path, total, null, true, files.length);
}

/**
 * Builds an {@link ObjectRef} from stored metadata; the store opens on first data access.
 *
 * @example
 * ```ts
 * import { objectRefOf } from "./object_codec.ts";
 * import type { DecodeContext } from "./registry.ts";
 * declare const ctx: DecodeContext;
 * const ref = objectRefOf({ path: "acq/sess1/data.bin", store: "raw", size: 24 }, ctx, "filepath");
 * ```
 */
export function objectRefOf(stored: unknown, ctx: DecodeContext, codec: string): ObjectRef {
  const meta = metadataOf(stored, codec);
  const stores = storesOf(ctx, codec);
  const name = metadataStore(meta);
  return new ObjectRef(meta as ObjectMetadata, () => stores.backend(name));
}

/**
 * The `<object>` codec (store only, schema-addressed).
 *
 * @example
 * ```ts
 * import { objectCodec } from "./object_codec.ts";
 * console.log(objectCodec.name); // object
 * ```
 */
export const objectCodec: CodecSpec<ObjectInput, ObjectMetadata> = {
  name: "object",
  addressing: "schema",
  getDtype(isStore) {
    if (!isStore) {
      throw new DataJointError(
        "<object> requires @ (store only): write <object@> or <object@store>",
      );
    }
    return "json";
  },
  encode: encodeObject,
  decode: (stored, ctx) => objectRefOf(stored, ctx, "object") as never,
};
