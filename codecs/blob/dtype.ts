/**
 * Element types of {@link NDArray}: their names (NumPy's), the blob type ids they are written with,
 * and the typed arrays that hold them.
 *
 * @module
 */

import { DataJointError } from "../../lib/errors.ts";

/** One `datetime64` unit, e.g. `"us"` for microseconds. */
export type DatetimeUnit =
  | "Y"
  | "M"
  | "W"
  | "D"
  | "h"
  | "m"
  | "s"
  | "ms"
  | "us"
  | "ns"
  | "ps"
  | "fs"
  | "as";

/** The units of NumPy `datetime64`, in the order that defines their blob type ids. */
export const DATETIME_UNITS: readonly DatetimeUnit[] = [
  "Y",
  "M",
  "W",
  "D",
  "h",
  "m",
  "s",
  "ms",
  "us",
  "ns",
  "ps",
  "fs",
  "as",
];

/** Real numeric element types (one typed array holds the values). */
export type RealDType =
  | "bool"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float32"
  | "float64";

/** Complex element types: two typed-array planes, real and imaginary. */
export type ComplexDType = "complex64" | "complex128";

/** `datetime64[unit]`: int64 counts of the unit since 1970-01-01T00:00; NaT is the minimum int64. */
export type DatetimeDType = `datetime64[${DatetimeUnit}]`;

/**
 * Every element type an {@link NDArray} can hold.
 *
 * - `char`: MATLAB character arrays, one UTF-16 code unit per element (`Uint16Array`).
 * - `object`: any blob value per element (NumPy object arrays, and NumPy unicode arrays, which the
 *   blob format writes as object arrays of strings).
 */
export type DType = RealDType | ComplexDType | DatetimeDType | "char" | "object";

/** The typed array that holds the elements (or the real plane) of each dtype. */
export type DataFor<D extends DType> = D extends "bool" | "uint8" ? Uint8Array
  : D extends "int8" ? Int8Array
  : D extends "int16" ? Int16Array
  : D extends "uint16" | "char" ? Uint16Array
  : D extends "int32" ? Int32Array
  : D extends "uint32" ? Uint32Array
  : D extends "int64" | DatetimeDType ? BigInt64Array
  : D extends "uint64" ? BigUint64Array
  : D extends "float32" | "complex64" ? Float32Array
  : D extends "float64" | "complex128" ? Float64Array
  : D extends "object" ? unknown[]
  : never;

/** Any typed array that can back a numeric dtype. */
export type NumericTypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** A constructor of one of the {@link NumericTypedArray} classes. */
export type TypedArrayConstructor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

/** Static facts about one dtype. */
export interface DTypeInfo {
  /** Blob type id (the `A` item's u32 type field). */
  readonly typeId: number;
  /** Bytes per element of one plane (0 for object arrays). */
  readonly itemSize: number;
  /** Whether a second (imaginary) plane follows. */
  readonly complex: boolean;
  /** The typed array class of a plane, or `undefined` for object arrays. */
  readonly ctor: TypedArrayConstructor | undefined;
}

const INFO: Record<string, DTypeInfo> = {
  bool: { typeId: 3, itemSize: 1, complex: false, ctor: Uint8Array },
  char: { typeId: 4, itemSize: 2, complex: false, ctor: Uint16Array },
  object: { typeId: 5, itemSize: 0, complex: false, ctor: undefined },
  float64: { typeId: 6, itemSize: 8, complex: false, ctor: Float64Array },
  float32: { typeId: 7, itemSize: 4, complex: false, ctor: Float32Array },
  complex128: { typeId: 6, itemSize: 8, complex: true, ctor: Float64Array },
  complex64: { typeId: 7, itemSize: 4, complex: true, ctor: Float32Array },
  int8: { typeId: 8, itemSize: 1, complex: false, ctor: Int8Array },
  uint8: { typeId: 9, itemSize: 1, complex: false, ctor: Uint8Array },
  int16: { typeId: 10, itemSize: 2, complex: false, ctor: Int16Array },
  uint16: { typeId: 11, itemSize: 2, complex: false, ctor: Uint16Array },
  int32: { typeId: 12, itemSize: 4, complex: false, ctor: Int32Array },
  uint32: { typeId: 13, itemSize: 4, complex: false, ctor: Uint32Array },
  int64: { typeId: 14, itemSize: 8, complex: false, ctor: BigInt64Array },
  uint64: { typeId: 15, itemSize: 8, complex: false, ctor: BigUint64Array },
};
DATETIME_UNITS.forEach((unit, i) => {
  INFO[`datetime64[${unit}]`] = {
    typeId: 65536 + i,
    itemSize: 8,
    complex: false,
    ctor: BigInt64Array,
  };
});

/** The smallest int64, which NumPy uses for NaT ("not a time") in `datetime64` arrays. */
export const NAT: bigint = -9223372036854775808n;

/**
 * Whether a string names a supported dtype.
 *
 * @example
 * ```ts
 * import { isDType } from "./dtype.ts";
 * isDType("float64"); // true
 * isDType("float16"); // false
 * ```
 */
export function isDType(name: unknown): name is DType {
  return typeof name === "string" && Object.hasOwn(INFO, name);
}

/**
 * Static facts about a dtype; throws a {@link DataJointError} for an unknown name.
 *
 * @example
 * ```ts
 * import { dtypeInfo } from "./dtype.ts";
 * dtypeInfo("int32").itemSize; // 4
 * ```
 */
export function dtypeInfo(dtype: DType): DTypeInfo {
  const info = Object.hasOwn(INFO, dtype) ? INFO[dtype] : undefined;
  if (!info) {
    // A long name is a mistake of another kind: it is shown cut.
    const text = String(dtype);
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    throw new DataJointError(
      `Unknown dtype "${shown}": use one of ${Object.keys(INFO).join(", ")}`,
    );
  }
  return info;
}

/**
 * The dtype a blob type id and complex flag stand for, or `undefined` when the id is not one the
 * format defines for data (ids 0, 1, 2 and 16 are reserved and never carry elements).
 *
 * @example
 * ```ts
 * import { dtypeForTypeId } from "./dtype.ts";
 * dtypeForTypeId(6, true); // "complex128"
 * dtypeForTypeId(16, false); // undefined
 * ```
 */
export function dtypeForTypeId(typeId: number, complex: boolean): DType | undefined {
  if (typeId >= 65536 && typeId < 65536 + DATETIME_UNITS.length) {
    return complex ? undefined : `datetime64[${DATETIME_UNITS[typeId - 65536]}]`;
  }
  const byId = ID_TO_DTYPE[typeId];
  if (byId === undefined) return undefined;
  if (!complex) return byId;
  return byId === "float64" ? "complex128" : byId === "float32" ? "complex64" : byId;
}

const ID_TO_DTYPE: Record<number, DType> = {
  3: "bool",
  4: "char",
  5: "object",
  6: "float64",
  7: "float32",
  8: "int8",
  9: "uint8",
  10: "int16",
  11: "uint16",
  12: "int32",
  13: "uint32",
  14: "int64",
  15: "uint64",
};

/**
 * Whether a dtype is `datetime64[...]`.
 *
 * @example
 * ```ts
 * import { isDatetimeDType } from "./dtype.ts";
 * isDatetimeDType("datetime64[ms]"); // true
 * ```
 */
export function isDatetimeDType(dtype: DType): dtype is DatetimeDType {
  return dtype.startsWith("datetime64[");
}

/**
 * Whether a dtype is complex (stored as two planes).
 *
 * @example
 * ```ts
 * import { isComplexDType } from "./dtype.ts";
 * isComplexDType("complex64"); // true
 * ```
 */
export function isComplexDType(dtype: DType): dtype is ComplexDType {
  return dtype === "complex64" || dtype === "complex128";
}

/**
 * The dtype that a typed array naturally holds (a `Uint8Array` is `uint8`, not `bool`).
 *
 * @example
 * ```ts
 * import { dtypeOfTypedArray } from "./dtype.ts";
 * dtypeOfTypedArray(new Float32Array(2)); // "float32"
 * ```
 */
export function dtypeOfTypedArray(data: ArrayBufferView): RealDType {
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint32Array) return "uint32";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Uint16Array) return "uint16";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return "uint8";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof BigUint64Array) return "uint64";
  throw new DataJointError(
    `Cannot infer a dtype from ${data.constructor.name}: pass a typed array such as Float64Array`,
  );
}
