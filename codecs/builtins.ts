/**
 * The built-in codecs of DataJoint 2.x, registered when this module is imported: `<blob>`,
 * `<attach>`, `<hash@>`, `<npy@>`, `<object@>`, `<filepath@>`. Their storage types (what a column
 * holds) are exactly the reference's; `<blob>` encodes and decodes here, the store-backed codecs
 * get their object-store halves with the stores.
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
import { DataJointError } from "../lib/errors.ts";
import { pack, unpack } from "./blob/mod.ts";
import { codec, type CodecSpec, getCodec } from "./registry.ts";

function storeOnly(message: string): (isStore: boolean) => string {
  return (isStore) => {
    if (!isStore) throw new DataJointError(message);
    return "json";
  };
}

function notYet(name: string): () => never {
  return () => {
    throw new DataJointError(
      `<${name}> values cannot be written or read yet: the object-store codecs are not built`,
    );
  };
}

const BUILTINS: CodecSpec[] = [
  {
    name: "blob",
    getDtype: (isStore) => (isStore ? "<hash>" : "bytes"),
    encode: (value) => pack(value as never, { compress: true }),
    decode: (stored) => unpack(stored as Uint8Array),
  },
  {
    name: "attach",
    getDtype: (s) => (s ? "<hash>" : "bytes"),
    encode: notYet("attach"),
    decode: notYet("attach"),
  },
  {
    name: "hash",
    getDtype: storeOnly("<hash> requires @ (in-store storage only): write <hash@> or <hash@store>"),
    encode: notYet("hash"),
    decode: notYet("hash"),
  },
  {
    name: "npy",
    getDtype: storeOnly("<npy> requires @ (store only): write <npy@> or <npy@store>"),
    encode: notYet("npy"),
    decode: notYet("npy"),
  },
  {
    name: "object",
    getDtype: storeOnly("<object> requires @ (store only): write <object@> or <object@store>"),
    encode: notYet("object"),
    decode: notYet("object"),
  },
  {
    name: "filepath",
    getDtype: storeOnly(
      "<filepath> requires @ symbol. Use <filepath@> for default store or <filepath@store> to specify store.",
    ),
    encode: notYet("filepath"),
    decode: notYet("filepath"),
  },
];

for (const spec of BUILTINS) {
  // Another copy of this module may have registered them already (shared global registry).
  if (getCodec(spec.name) === undefined) codec(spec);
}
