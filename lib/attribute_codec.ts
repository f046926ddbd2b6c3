/**
 * One attribute value through its codec chain and its core type: insert (validate on the
 * outermost codec, encode outermost first, then the core-type parameter) and fetch (the driver
 * value, then decode innermost first). Store names are resolved once per attribute: the default
 * store (`<x@>`) becomes the configured store's real name before any codec sees it, so metadata
 * always names a concrete store (reference bug #1 fixed).
 *
 * @example
 * ```ts
 * import { encodeAttribute } from "./attribute_codec.ts";
 * import type { Attribute } from "./heading.ts";
 * import type { Dialect } from "./adapters/dialect.ts";
 * declare const attr: Attribute, dialect: Dialect;
 * const param = await encodeAttribute(attr, [1, 2, 3], { dialect, key: { _schema: "lab", _table: "t", _field: attr.name } });
 * ```
 *
 * @module
 */
import "../codecs/builtins.ts";
import { BLOB_ADOPT_OFFSET, pack, unpack } from "../codecs/blob/mod.ts";
import { ScratchPool } from "../codecs/blob/scratch.ts";
import { getHash, hashCodec, putHash } from "../codecs/hash_codec.ts";
import {
  type Codec,
  type DecodeContext,
  type EncodeContext,
  getCodec,
  type StoreAccess,
  type WrittenObject,
} from "../codecs/registry.ts";
import type { Dialect } from "./adapters/dialect.ts";
import { CodecError, type DataJointError, withContext } from "./errors.ts";
import type { Attribute } from "./heading.ts";
import { fromSqlValue, toSqlValue } from "./values.ts";

/** What encoding one attribute needs. */
export interface EncodeAttributeContext {
  /** The backend's dialect (parameter forms). */
  dialect: Dialect;
  /** The reference's insert key: `_schema`, `_table`, `_field`, then primary-key values. */
  key: Record<string, unknown>;
  /** Primary-key attribute types (core type names). */
  keyTypes?: Record<string, string>;
  /** Store access, needed by store-backed codecs. */
  stores?: StoreAccess;
  /** Collects the objects written, so a failed insert can remove them. */
  written?: WrittenObject[];
}

/** What decoding one attribute needs. */
export interface DecodeAttributeContext {
  /** The backend's dialect. */
  dialect: Dialect;
  /** Store access, needed by store-backed codecs. */
  stores?: StoreAccess;
  /** Folder for decoded attachments. */
  downloadPath?: string;
}

function chainOf(attr: Attribute): Codec[] {
  if (attr.missingCodec !== undefined) {
    throw new CodecError(
      `Attribute ${attr.name} uses codec <${attr.missingCodec}>, which is not registered: import the module that defines it, or map it in deno.json under "datajoint" → "codecs"`,
    );
  }
  return (attr.resolved?.chain ?? []).map((c) => {
    const codec = getCodec(c.name);
    if (codec === undefined) {
      throw new CodecError(`Codec <${c.name}> of attribute ${attr.name} is no longer registered`);
    }
    return codec;
  });
}

/**
 * The insert key of one attribute in the reference's order: `_schema`, `_table`, `_field`, then
 * the primary-key values (a spread with `_field` last would put it after the key values).
 */
function withField(key: Record<string, unknown>, field: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ["_schema", "_table"]) if (k in key) out[k] = key[k];
  out._field = field;
  for (const [k, v] of Object.entries(key)) if (!(k in out)) out[k] = v;
  return out;
}

/**
 * The driver parameter of an attribute value: codecs encoded, core type converted. `null` and
 * `undefined` give SQL NULL without calling any codec.
 *
 * @example
 * ```ts
 * import { encodeAttribute } from "./attribute_codec.ts";
 * // see the module example
 * ```
 */
export async function encodeAttribute(
  attr: Attribute,
  value: unknown,
  ctx: EncodeAttributeContext,
): Promise<unknown> {
  if (value === null || value === undefined) return null;
  const chain = chainOf(attr);
  let v: unknown = value;
  if (chain.length > 0) {
    const store = attr.resolved?.store ?? null;
    const filepath = chain.some((c) => c.name === "filepath");
    const storeName = store === null
      ? undefined
      : ctx.stores === undefined
      ? (store === "" ? undefined : store)
      : ctx.stores.resolveName(store, { filepath });
    chain[0].validate?.(v);
    const ectx: EncodeContext = {
      key: withField(ctx.key, attr.name),
      storeName,
      stores: ctx.stores,
      keyTypes: ctx.keyTypes,
      written: ctx.written,
    };
    if (isBuiltinStoredBlob(chain)) {
      v = await putPackedBlob(v, ectx);
    } else {
      for (const codec of chain) v = await codec.encode(v as never, ectx);
    }
  }
  return toSqlValue(attr, v, ctx.dialect);
}

/** Memory for packed `<blob@>` values, reused from one insert to the next. */
const SCRATCH = new ScratchPool();

/**
 * `<blob@>` (the built-in `<blob>` over the built-in `<hash>`) without fresh memory: the packed
 * bytes are needed only until they are stored, so a big value is packed into reused memory (the
 * same bytes as `pack(value, { compress: true })`), which goes back to the pool once stored.
 */
async function putPackedBlob(value: unknown, ctx: EncodeContext): Promise<unknown> {
  const lent: Uint8Array<ArrayBuffer>[] = [];
  try {
    const packed = pack(value as never, {
      compress: true,
      allocate: (size) => {
        const buf = SCRATCH.take(size);
        lent.push(buf);
        return buf;
      },
    });
    return await putHash(packed, ctx);
  } finally {
    for (const buf of lent) SCRATCH.give(buf);
  }
}

/**
 * The fetched value of an attribute: core type converted, codecs decoded (innermost first).
 *
 * @example
 * ```ts
 * import { decodeAttribute } from "./attribute_codec.ts";
 * import type { Attribute } from "./heading.ts";
 * import type { Dialect } from "./adapters/dialect.ts";
 * declare const attr: Attribute, dialect: Dialect;
 * const value = await decodeAttribute(attr, new Uint8Array(), { dialect });
 * ```
 */
export async function decodeAttribute(
  attr: Attribute,
  raw: unknown,
  ctx: DecodeAttributeContext,
): Promise<unknown> {
  let v = fromSqlValue(attr, raw, ctx.dialect);
  if (v === null) return null;
  if (attr.kind !== "codec") return v;
  const chain = chainOf(attr);
  const dctx: DecodeContext = { key: {}, stores: ctx.stores, downloadPath: ctx.downloadPath };
  if (isBuiltinStoredBlob(chain)) {
    // <blob@>: the download is a fresh buffer nobody else holds, so it is placed where a
    // top-level array's elements come out aligned and the array adopts them instead of being
    // copied (the same result as the two decodes, without a second pass over large arrays).
    return unpack(await getHash(v, dctx, { byteOffset: BLOB_ADOPT_OFFSET }), { adopt: true });
  }
  for (let i = chain.length - 1; i >= 0; i--) v = await chain[i].decode(v, dctx);
  return v;
}

/** The built-in `<blob>` as registered at load (a codec registered later in its place is not). */
const BUILTIN_BLOB = getCodec("blob");

/** Whether a chain is exactly the built-in `<blob>` over the built-in `<hash>`. */
function isBuiltinStoredBlob(chain: Codec[]): boolean {
  return chain.length === 2 && chain[0] === BUILTIN_BLOB && chain[1].decode === hashCodec.decode;
}

/**
 * Wraps an error of encoding or decoding with where it happened (table, key, attribute); a
 * `DataJointError` keeps its class.
 *
 * @example
 * ```ts
 * import { located } from "./attribute_codec.ts";
 * const e = located(new Error("boom"), "`lab`.`rec`", { id: 1 }, "trace");
 * console.log(e.message); // `lab`.`rec` key {"id":1} attribute trace: boom
 * ```
 */
export function located(
  e: unknown,
  table: string,
  key: Record<string, unknown>,
  attribute: string,
): DataJointError {
  const where = `${table} key ${
    JSON.stringify(key, (_, x) => (typeof x === "bigint" ? x.toString() : x))
  } attribute ${attribute}`;
  const located = withContext(e, where);
  // "… attribute x: Attribute x (int32) expects …" would name the attribute twice.
  const again = `Attribute ${attribute} `;
  const message = e instanceof Error ? e.message : "";
  if (message.startsWith(again)) located.message = `${where} ${message.slice(again.length)}`;
  return located;
}
