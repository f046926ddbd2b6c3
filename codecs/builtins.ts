/**
 * The built-in codecs of DataJoint 2.x, registered when this module is imported: `<blob>`,
 * `<attach>`, `<hash@>`, `<npy@>`, `<object@>`, `<filepath@>`. Their storage types (what a column
 * holds) are exactly the reference's; the store-backed codecs read and write their stores through the codec context.
 *
 * @example
 * ```ts
 * import "./builtins.ts";
 * import { getCodec } from "./registry.ts";
 * console.log(getCodec("blob")?.getDtype(true)); // <hash>
 * ```
 *
 * @module
 */
import { attachCodec } from "./attach_codec.ts";
import { pack, unpack } from "./blob/mod.ts";
import { filepathCodec } from "./filepath_codec.ts";
import { hashCodec } from "./hash_codec.ts";
import { npyCodec } from "./npy_codec.ts";
import { objectCodec } from "./object_codec.ts";
import { codec, type CodecSpec, getCodec } from "./registry.ts";

/**
 * `<blob>` / `<blob@store>`: any blob-packable value, serialized as DataJoint Python and MATLAB do
 * (compressed above 1000 bytes when that is smaller); in a store, hash-addressed through `<hash>`.
 */
const blobCodec: CodecSpec = {
  name: "blob",
  getDtype: (isStore) => (isStore ? "<hash>" : "bytes"),
  encode: (value) => pack(value as never, { compress: true }),
  decode: (stored) => unpack(stored as Uint8Array),
};

const BUILTINS = [
  blobCodec,
  attachCodec,
  hashCodec,
  npyCodec,
  objectCodec,
  filepathCodec,
] as CodecSpec[];

for (const spec of BUILTINS) {
  // Another copy of this module may have registered them already (shared global registry).
  if (getCodec(spec.name) === undefined) codec(spec);
}
