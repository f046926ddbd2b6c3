/**
 * `<filepath@store>`: a reference to a file or folder the user manages inside a store (reference
 * §2.11). Nothing is uploaded; the path must exist and must stay out of the store's hash and
 * schema sections. The column holds `{path, store, size, is_dir, timestamp}`; fetching checks that
 * the file is still there with its recorded size and gives an {@link ObjectRef}.
 *
 * `<filepath@>` uses `stores.filepath_default` (then `stores.default`), and the metadata names
 * the resolved store, so readers never depend on their own defaults.
 *
 * @example
 * ```ts
 * import { filepathCodec } from "./filepath_codec.ts";
 * console.log(filepathCodec.getDtype(true)); // json
 * ```
 *
 * @module
 */
import {
  CodecError,
  CorruptObjectError,
  DataJointError,
  MissingExternalFile,
} from "../lib/errors.ts";
import { isoTimestamp, metadataOf, metadataStore, storesOf } from "./_store_context.ts";
import { type ObjectMetadata, ObjectRef } from "./object_ref.ts";
import type { CodecSpec } from "./registry.ts";

function section(prefix: string | null | undefined): string | null {
  const p = (prefix ?? "").replace(/^\/+|\/+$/g, "");
  return p === "" ? null : `${p}/`;
}

/**
 * The `<filepath>` codec (store only).
 *
 * @example
 * ```ts
 * import { filepathCodec } from "./filepath_codec.ts";
 * console.log(filepathCodec.name); // filepath
 * ```
 */
export const filepathCodec: CodecSpec<string, ObjectMetadata> = {
  name: "filepath",
  getDtype(isStore) {
    if (!isStore) {
      throw new DataJointError(
        "<filepath> requires @ symbol. Use <filepath@> for default store or <filepath@store> to specify store.",
      );
    }
    return "json";
  },
  validate(value) {
    if (typeof value !== "string" || value.trim() === "") {
      throw new CodecError(
        `<filepath@> takes a path inside the store (a string such as "acq/sess1/data.bin"), got ${
          value === null ? "null" : typeof value
        }`,
      );
    }
  },
  async encode(value, ctx) {
    const stores = storesOf(ctx, "filepath");
    const backend = await stores.backend(ctx.storeName ?? null, { filepath: true });
    const rel = value.replace(/^\/+/, "");
    if (rel.split("/").some((p) => p === "..")) {
      throw new CodecError(`<filepath@${backend.name}> paths may not contain "..": ${value}`);
    }
    for (
      const [prefix, label] of [
        [backend.spec.hash_prefix, "hash_prefix"],
        [backend.spec.schema_prefix, "schema_prefix"],
      ] as const
    ) {
      const s = section(prefix);
      if (s !== null && rel.startsWith(s)) {
        throw new CodecError(
          `<filepath@> cannot use reserved section '${s}' (${label}) of store ${backend.name}: those objects belong to DataJoint; reference files outside it`,
        );
      }
    }
    const fp = section(backend.spec.filepath_prefix);
    if (fp !== null && !rel.startsWith(fp)) {
      throw new CodecError(
        `<filepath@> must use prefix '${fp}' (filepath_prefix of store ${backend.name}): got ${value}`,
      );
    }
    const stat = await backend.stat(rel);
    if (stat === null) {
      throw new MissingExternalFile(
        `<filepath@${backend.name}>: ${
          backend.url(rel)
        } does not exist; put the file in the store first`,
      );
    }
    return {
      path: value,
      store: backend.name,
      size: stat.isDir ? null : stat.size,
      is_dir: stat.isDir,
      timestamp: isoTimestamp(),
    };
  },
  async decode(stored, ctx) {
    const meta = metadataOf(stored, "filepath");
    const stores = storesOf(ctx, "filepath");
    // A null or "" store means the store <filepath@> writes to by default: filepath_default
    // (the reference reads stores.default here, its bug #36).
    const backend = await stores.backend(metadataStore(meta), { filepath: true });
    const rel = meta.path.replace(/^\/+/, "");
    const stat = await backend.stat(rel);
    if (stat === null) throw new MissingExternalFile(`Missing external file ${backend.url(rel)}`);
    if (!stat.isDir && typeof meta.size === "number" && stat.size !== meta.size) {
      throw new CorruptObjectError(
        `${
          backend.url(rel)
        } has ${stat.size} bytes, but ${meta.size} were recorded: the file changed after it was inserted`,
      );
    }
    return new ObjectRef({ ...meta, path: rel }, () => Promise.resolve(backend)) as never;
  },
};
