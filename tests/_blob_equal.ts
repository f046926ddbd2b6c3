/**
 * Strict deep equality for blob values, keeping every distinction the blob format keeps: bigint vs
 * number, Tuple vs Array, `-0` vs `0`, typed-array class and exact bytes (NaN payloads included),
 * NDArray dtype and shape, Map vs plain object, key order, Temporal kind. NaN equals NaN for JS
 * numbers (their payload is not observable reliably); sets compare as multisets.
 *
 * {@link blobDiff} returns where two values first differ (a path such as `$[2].dict["a"]`), or
 * `undefined` when they are equal.
 *
 * @module
 */

import { MatCell, MatStruct, NDArray, RecArray } from "../codecs/blob/mod.ts";
import type { Complex, Decimal, UUID } from "../codecs/blob/mod.ts";
import { hashKey, kindOf } from "../codecs/blob/values.ts";

/** Where `actual` and `expected` differ (path and reason), or `undefined` when strictly equal. */
export function blobDiff(actual: unknown, expected: unknown, path = "$"): string | undefined {
  const ka = kindOf(actual);
  const kb = kindOf(expected);
  if (ka === undefined || kb === undefined) {
    return `${path}: not a blob value (${describe(actual)} vs ${describe(expected)})`;
  }
  if (ka !== kb) {
    return `${path}: kind ${ka} (${describe(actual)}) vs ${kb} (${describe(expected)})`;
  }
  switch (ka) {
    case "none":
    case "bool":
    case "int":
    case "str":
      return actual === expected ? undefined : `${path}: ${show(actual)} vs ${show(expected)}`;
    case "float":
      return Object.is(actual, expected)
        ? undefined
        : `${path}: ${show(actual)} vs ${show(expected)}`;
    case "complex": {
      const a = actual as Complex;
      const b = expected as Complex;
      return Object.is(a.re, b.re) && Object.is(a.im, b.im)
        ? undefined
        : `${path}: complex ${show(a.re)},${show(a.im)} vs ${show(b.re)},${show(b.im)}`;
    }
    case "decimal": {
      const a = actual as Decimal;
      const b = expected as Decimal;
      return a.equals(b) && b.equals(a) && String(a) === String(b)
        ? undefined
        : `${path}: Decimal ${a} vs ${b}`;
    }
    case "uuid": {
      const a = actual as UUID;
      const b = expected as UUID;
      return a.equals(b) && String(a) === String(b) ? undefined : `${path}: UUID ${a} vs ${b}`;
    }
    case "date":
    case "time":
    case "datetime": {
      const a = actual as Temporal.PlainDateTime;
      const b = expected as Temporal.PlainDateTime;
      if (a.constructor !== b.constructor) {
        return `${path}: ${a.constructor.name} vs ${b.constructor.name}`;
      }
      return a.equals(b) ? undefined : `${path}: ${a} vs ${b}`;
    }
    case "jsdate": {
      const a = (actual as Date).getTime();
      const b = (expected as Date).getTime();
      return Object.is(a, b) ? undefined : `${path}: Date ${a} vs ${b}`;
    }
    case "bytes":
    case "typedarray":
      return viewDiff(actual as ArrayBufferView, expected as ArrayBufferView, path);
    case "list":
    case "tuple":
      return sequenceDiff(actual as unknown[], expected as unknown[], path);
    case "set":
      return setDiff(actual as Set<unknown>, expected as Set<unknown>, path);
    case "dict":
      return dictDiff(actual as object, expected as object, path);
    case "ndarray":
      return arrayDiff(actual as NDArray, expected as NDArray, path);
    case "struct": {
      const a = actual as MatStruct;
      const b = expected as MatStruct;
      if (!(a instanceof MatStruct) || !(b instanceof MatStruct)) {
        return `${path}: not both MatStruct instances`;
      }
      const d = shapeDiff(a.shape, b.shape, path) ??
        sequenceDiff(a.fields, b.fields, `${path}.fields`);
      if (d) return d;
      if (a.records.length !== b.records.length) {
        return `${path}: ${a.records.length} vs ${b.records.length} records`;
      }
      for (let i = 0; i < a.records.length; i++) {
        const r = sequenceDiff(a.records[i], b.records[i], `${path}.records[${i}]`);
        if (r) return r;
      }
      return undefined;
    }
    case "cell": {
      const a = actual as MatCell;
      const b = expected as MatCell;
      if (!(a instanceof MatCell) || !(b instanceof MatCell)) {
        return `${path}: not both MatCell instances`;
      }
      return shapeDiff(a.shape, b.shape, path) ?? sequenceDiff(a.data, b.data, `${path}.data`);
    }
    case "recarray": {
      const a = actual as RecArray;
      const b = expected as RecArray;
      if (!(a instanceof RecArray) || !(b instanceof RecArray)) {
        return `${path}: not both RecArray instances`;
      }
      if (a.fields.length !== b.fields.length) {
        return `${path}: ${a.fields.length} vs ${b.fields.length} fields`;
      }
      for (let i = 0; i < a.fields.length; i++) {
        const [na, ca] = a.fields[i];
        const [nb, cb] = b.fields[i];
        if (na !== nb) return `${path}.fields[${i}]: name ${show(na)} vs ${show(nb)}`;
        const d = blobDiff(ca, cb, `${path}.${JSON.stringify(na)}`);
        if (d) return d;
      }
      return undefined;
    }
  }
  return `${path}: unhandled kind ${ka}`;
}

/** A failed test assertion. */
export class AssertionError extends Error {
  /** An assertion failure with its message. */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/** Throw an {@link AssertionError} unless `condition` holds. */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/**
 * Run `fn`, require it to throw an instance of `ErrorClass` (optionally with a message matching
 * `pattern`), and return the error.
 */
export function assertThrowsA<E extends Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => E,
  pattern?: RegExp,
  context = "",
): E {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    if (!(e instanceof ErrorClass)) {
      throw new AssertionError(
        `${context}expected ${ErrorClass.name}, got ${(e as Error)?.constructor?.name}: ${
          (e as Error)?.message
        }`,
      );
    }
    if (pattern && !pattern.test(e.message)) {
      throw new AssertionError(
        `${context}${ErrorClass.name} message ${
          JSON.stringify(e.message)
        } does not match ${pattern}`,
      );
    }
    return e;
  }
  throw new AssertionError(
    `${context}expected ${ErrorClass.name}, but it returned ${show(result)}`,
  );
}

/** Throw an AssertionError naming the path where `actual` and `expected` differ. */
export function assertBlobEqual(actual: unknown, expected: unknown, message?: string): void {
  const diff = blobDiff(actual, expected);
  if (diff !== undefined) {
    throw new AssertionError(`${message ? message + ": " : ""}values differ at ${diff}`);
  }
}

/** Whether two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function sequenceDiff(a: readonly unknown[], b: readonly unknown[], path: string) {
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) {
    return `${path}: ${a.constructor?.name} vs ${b.constructor?.name}`;
  }
  if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (!(i in a) || !(i in b)) return `${path}[${i}]: hole in an array`;
    const d = blobDiff(a[i], b[i], `${path}[${i}]`);
    if (d) return d;
  }
  return undefined;
}

/** A hashKey that is stable across calls (hashKey numbers each NaN separately). */
function bucketKey(v: unknown): string {
  return (hashKey(v) ?? "?").replace(/nan#\d+/g, "nan");
}

function setDiff(a: Set<unknown>, b: Set<unknown>, path: string): string | undefined {
  if (a.size !== b.size) return `${path}: set of ${a.size} vs ${b.size} elements`;
  // Multiset matching: bucket by (NaN-stable) Python hash key, then match strictly within.
  const buckets = new Map<string, unknown[]>();
  for (const v of b) {
    const k = bucketKey(v);
    const list = buckets.get(k);
    if (list) list.push(v);
    else buckets.set(k, [v]);
  }
  let i = 0;
  for (const v of a) {
    const list = buckets.get(bucketKey(v)) ?? [];
    const j = list.findIndex((w) => blobDiff(v, w) === undefined);
    if (j < 0) {
      const near = list.length ? `; nearest: ${blobDiff(v, list[0], "elem")}` : "";
      return `${path}<set element #${i} ${show(v)}>: no equal element in the other set${near}`;
    }
    list.splice(j, 1);
    i++;
  }
  return undefined;
}

function dictDiff(a: object, b: object, path: string): string | undefined {
  const aMap = a instanceof Map;
  const bMap = b instanceof Map;
  if (aMap !== bMap) {
    return `${path}: ${aMap ? "Map" : "plain object"} vs ${bMap ? "Map" : "plain object"}`;
  }
  if (aMap) {
    const ea = [...(a as Map<unknown, unknown>)];
    const eb = [...(b as Map<unknown, unknown>)];
    if (ea.length !== eb.length) return `${path}: Map of ${ea.length} vs ${eb.length} entries`;
    for (let i = 0; i < ea.length; i++) {
      const kd = blobDiff(ea[i][0], eb[i][0], `${path}<key #${i}>`);
      if (kd) return kd;
      const vd = blobDiff(ea[i][1], eb[i][1], `${path}.get(${show(ea[i][0])})`);
      if (vd) return vd;
    }
    return undefined;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) {
    return `${path}: objects with different prototypes`;
  }
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) {
    return `${path}: keys ${show(ka.map(String))} vs ${show(kb.map(String))}`;
  }
  for (const k of ka) {
    const da = Object.getOwnPropertyDescriptor(a, k)!;
    const db = Object.getOwnPropertyDescriptor(b, k)!;
    const sub = `${path}[${JSON.stringify(String(k))}]`;
    if (!("value" in da) || !("value" in db)) return `${sub}: accessor property`;
    if (da.enumerable !== db.enumerable) return `${sub}: enumerability differs`;
    const d = blobDiff(da.value, db.value, sub);
    if (d) return d;
  }
  return undefined;
}

function arrayDiff(a: NDArray, b: NDArray, path: string): string | undefined {
  if (!(a instanceof NDArray) || !(b instanceof NDArray)) return `${path}: not both NDArrays`;
  if (a.dtype !== b.dtype) return `${path}: dtype ${a.dtype} vs ${b.dtype}`;
  const sd = shapeDiff(a.shape, b.shape, path);
  if (sd) return sd;
  if (a.dtype === "object") return sequenceDiff(a.data as unknown[], b.data as unknown[], path);
  const d = viewDiff(a.data as ArrayBufferView, b.data as ArrayBufferView, `${path}.data`);
  if (d) return d;
  if ((a.imag === undefined) !== (b.imag === undefined)) return `${path}: imag plane presence`;
  if (a.imag !== undefined) {
    return viewDiff(a.imag as ArrayBufferView, b.imag as ArrayBufferView, `${path}.imag`);
  }
  return undefined;
}

function shapeDiff(a: readonly number[], b: readonly number[], path: string) {
  return a.length === b.length && a.every((d, i) => d === b[i])
    ? undefined
    : `${path}: shape [${a}] vs [${b}]`;
}

function viewDiff(a: ArrayBufferView, b: ArrayBufferView, path: string): string | undefined {
  if (a.constructor !== b.constructor) {
    return `${path}: ${a.constructor.name} vs ${b.constructor.name}`;
  }
  const ba = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const bb = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (ba.length !== bb.length) return `${path}: ${ba.length} vs ${bb.length} bytes`;
  for (let i = 0; i < ba.length; i++) {
    if (ba[i] !== bb[i]) {
      const size = (a as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      const e = Math.floor(i / size);
      return `${path}: byte ${i} (element ${e}) differs: ${
        toHex(ba.subarray(e * size, e * size + size))
      } vs ${toHex(bb.subarray(e * size, e * size + size))}`;
    }
  }
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  return (v as object).constructor?.name ?? "object";
}

function show(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (Array.isArray(v)) {
    return `[${v.slice(0, 6).map(show).join(", ")}${v.length > 6 ? ", …" : ""}]`;
  }
  if (v === null || v === undefined) return String(v);
  if (typeof v === "object") {
    const s = String(v);
    return s.startsWith("[object") ? describe(v) : s;
  }
  return String(v);
}
