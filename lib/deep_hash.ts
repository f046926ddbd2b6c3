/**
 * A content hash of any fetched value, for the tripartite make's check that what `makeFetch`
 * read did not change while `makeCompute` ran (DataJoint Python uses `deepdiff.DeepHash` with
 * order-sensitive sequences). Equal content gives equal hashes whatever the object identity:
 * numbers (`-0`, `NaN`), bigints, strings, bytes and typed arrays (by type and content), arrays
 * and tuples (in order), plain objects (keys in any order), `Map`/`Set` (in any order), dates,
 * Temporal values, and class instances (`NDArray`, `Decimal`, `UUID`, store references) by
 * class name, their `toJSON()` when they have one, their own fields, and their `toString()` when
 * it is their own.
 *
 * @example
 * ```ts
 * import { deepHash } from "./deep_hash.ts";
 * console.log(deepHash({ a: 1, b: [2n, "x"] }) === deepHash({ b: [2n, "x"], a: 1 })); // true
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import { DataJointError } from "./errors.ts";

const encoder = new TextEncoder();

/**
 * The hex SHA-256 of a value's content (see the module documentation).
 *
 * @example
 * ```ts
 * import { deepHash } from "./deep_hash.ts";
 * console.log(deepHash([1, 2]) !== deepHash([2, 1])); // true
 * ```
 */
export function deepHash(value: unknown): string {
  return digest(value, new Set());
}

function digest(value: unknown, path: Set<object>): string {
  const h = createHash("sha256");
  const put = (tag: string, text = "") => {
    const bytes = encoder.encode(text);
    h.update(`${tag}${bytes.length}:`);
    h.update(bytes);
  };
  write(value, put, (x) => h.update(x), path);
  return h.digest("hex");
}

function write(
  v: unknown,
  put: (tag: string, text?: string) => void,
  raw: (bytes: Uint8Array | string) => void,
  path: Set<object>,
): void {
  switch (typeof v) {
    case "undefined":
      return put("u");
    case "boolean":
      return put(v ? "T" : "F");
    case "number":
      return put("n", Object.is(v, -0) ? "-0" : String(v));
    case "bigint":
      return put("b", v.toString());
    case "string":
      return put("s", v);
    case "symbol":
      return put("y", v.description ?? "");
    case "function":
      return put("f", v.name);
  }
  if (v === null) return put("N");
  const o = v as object;
  if (path.has(o)) {
    throw new DataJointError("makeFetch returned a cyclic structure; it cannot be hashed");
  }
  path.add(o);
  try {
    const name = o.constructor?.name ?? "";
    if (ArrayBuffer.isView(o)) {
      put("A", name);
      put("l", String(o.byteLength));
      raw(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
    } else if (o instanceof ArrayBuffer) {
      put("B", String(o.byteLength));
      raw(new Uint8Array(o));
    } else if (Array.isArray(o)) {
      put("[", `${name}:${o.length}`);
      for (const item of o) write(item, put, raw, path);
    } else if (o instanceof Map) {
      put("M", String(o.size));
      const entries = [...o].map(([k, x]) => digest(k, path) + digest(x, path)).sort();
      for (const e of entries) put("e", e);
    } else if (o instanceof Set) {
      put("S", String(o.size));
      for (const e of [...o].map((x) => digest(x, path)).sort()) put("e", e);
    } else if (o instanceof Date) {
      put("D", String(o.getTime()));
    } else {
      put("O", name);
      const toJSON = (o as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === "function") {
        write(toJSON.call(o), put, raw, path);
      }
      const keys = Object.keys(o).sort();
      put("k", String(keys.length));
      for (const k of keys) {
        put("s", k);
        write((o as Record<string, unknown>)[k], put, raw, path);
      }
      const own = Object.getPrototypeOf(o);
      if (own !== null && own !== Object.prototype && hasOwnToString(o)) put("t", String(o));
    }
  } finally {
    path.delete(o);
  }
}

/** Whether the value's class (not `Object`) defines `toString` — private state shows there. */
function hasOwnToString(o: object): boolean {
  for (let p = Object.getPrototypeOf(o); p !== null && p !== Object.prototype;) {
    if (Object.hasOwn(p, "toString")) return true;
    p = Object.getPrototypeOf(p);
  }
  return false;
}
