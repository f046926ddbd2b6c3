/**
 * `<npy@store>`: NumPy arrays as standard `.npy` files, schema-addressed (reference §2.11). The
 * column holds `{path, store, dtype, shape}`, so a fetch gives an {@link NpyRef} whose `shape`
 * and `dtype` need no download; `load()` reads the file and `rows()` reads a slice with ranged
 * requests.
 *
 * @example
 * ```ts
 * import { npyCodec } from "./npy_codec.ts";
 * console.log(npyCodec.getDtype(true), npyCodec.addressing); // json schema
 * ```
 *
 * @module
 */
import { CodecError, DataJointError } from "../lib/errors.ts";
import { objectPath } from "../stores/paths.ts";
import { NDArray } from "./blob/ndarray.ts";
import {
  describeValue,
  insertContext,
  metadataOf,
  metadataStore,
  storesOf,
} from "./_store_context.ts";
import { encodeNpy, npyDtypeName } from "./npy_format.ts";
import { NpyRef } from "./npy_ref.ts";
import type { CodecSpec } from "./registry.ts";

/** The metadata a `<npy@>` column holds, in the reference's key order. */
export interface NpyMetadata {
  /** Store-relative path of the `.npy` file. */
  path: string;
  /** Store name. */
  store: string | null;
  /** NumPy dtype name (`float64`, `<U5`, `datetime64[D]`). */
  dtype: string;
  /** Shape (`[]` for 0-d). */
  shape: number[];
}

/**
 * The `<npy>` codec (store only, schema-addressed).
 *
 * @example
 * ```ts
 * import { npyCodec } from "./npy_codec.ts";
 * console.log(npyCodec.name); // npy
 * ```
 */
export const npyCodec: CodecSpec<NDArray, NpyMetadata> = {
  name: "npy",
  addressing: "schema",
  getDtype(isStore) {
    if (!isStore) {
      throw new DataJointError("<npy> requires @ (store only): write <npy@> or <npy@store>");
    }
    return "json";
  },
  validate(value) {
    if (!(value instanceof NDArray)) {
      throw new CodecError(
        `<npy@> stores NumPy-style arrays: give an NDArray (NDArray.from(typedArray, shape)), got ${
          describeValue(value)
        }`,
      );
    }
    if (value.dtype === "object") {
      // Strings and byte strings become NumPy's fixed-width <Un / |Sn; nothing else can.
      const items = value.data as unknown[];
      const strings = items.length > 0 && items.every((x) => typeof x === "string");
      const bytes = items.length > 0 && items.every((x) => x instanceof Uint8Array);
      if (!strings && !bytes) {
        throw new CodecError(
          "<npy@> cannot store object arrays other than all-string or all-bytes ones; use <blob@> for them",
        );
      }
    }
  },
  async encode(value, ctx) {
    const backend = await storesOf(ctx, "npy").backend(ctx.storeName ?? null);
    const where = insertContext(ctx);
    const bytes = encodeNpy(value);
    const { path } = objectPath({
      schema: where.schema,
      table: where.table,
      field: where.field,
      key: where.key,
      keyTypes: ctx.keyTypes,
      ext: ".npy",
      spec: backend.spec,
    });
    await backend.put(path, bytes);
    ctx.written?.push({ store: backend.name, path });
    return { path, store: backend.name, dtype: npyDtypeName(value), shape: [...value.shape] };
  },
  decode(stored, ctx) {
    const meta = metadataOf(stored, "npy") as unknown as NpyMetadata;
    const stores = storesOf(ctx, "npy");
    const name = metadataStore(meta as never);
    return new NpyRef(meta, () => stores.backend(name)) as never;
  },
};
