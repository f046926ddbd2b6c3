/**
 * `NDArray`: an n-dimensional array with a NumPy dtype, a shape, and its elements in a typed array
 * in C (row-major) order. It is what NumPy arrays and MATLAB matrices become in TypeScript.
 *
 * @module
 */

import { DataJointError } from "../../lib/errors.ts";
import {
  type DataFor,
  type DType,
  dtypeInfo,
  dtypeOfTypedArray,
  isComplexDType,
  type NumericTypedArray,
  type RealDType,
} from "./dtype.ts";
import { BLOB_KIND, Complex } from "./scalars.ts";

/**
 * An n-dimensional array: `dtype`, `shape` (NumPy order; `[]` for a 0-d array or NumPy scalar),
 * and the elements in **C (row-major) order** in `data`. Complex arrays keep the real parts in
 * `data` and the imaginary parts in `imag`, each a `Float32Array`/`Float64Array` plane.
 *
 * | dtype | `data` |
 * |---|---|
 * | `bool` | `Uint8Array` of 0/1 |
 * | `int8` … `uint32`, `float32`, `float64` | the matching typed array |
 * | `int64`, `uint64` | `BigInt64Array`, `BigUint64Array` |
 * | `complex64`, `complex128` | `Float32Array`/`Float64Array` real plane (+ `imag`) |
 * | `datetime64[unit]` | `BigInt64Array` of counts since the epoch (NaT = -2^63) |
 * | `char` | `Uint16Array` of UTF-16 code units (MATLAB char) |
 * | `object` | an `Array` of blob values |
 *
 * @example
 * ```ts
 * import { NDArray } from "./ndarray.ts";
 * const a = NDArray.from(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * a.at(1, 0); // 4
 * a.shape; // [2, 3]
 * ```
 */
export class NDArray<D extends DType = DType> {
  /** The element type. */
  readonly dtype: D;
  /** The dimensions, outermost first (NumPy order). */
  readonly shape: readonly number[];
  /** The elements (real parts for complex dtypes) in C order. */
  readonly data: DataFor<D>;
  /** The imaginary parts of a complex array, in C order; `undefined` otherwise. */
  readonly imag: DataFor<D> | undefined;

  /**
   * Wrap existing storage (not copied). Throws a {@link DataJointError} when the storage does not
   * fit the dtype and shape.
   */
  constructor(dtype: D, shape: readonly number[], data: DataFor<D>, imag?: DataFor<D>) {
    if (typeof dtype !== "string") {
      // The likeliest mistake: the typed array first, as NDArray.from takes it.
      throw new DataJointError(
        `new NDArray(dtype, shape, data): the first argument is a dtype name such as "float64", got ${
          describe(dtype)
        }; NDArray.from(typedArray, shape) wraps a typed array`,
      );
    }
    const info = dtypeInfo(dtype);
    const size = shapeSize(shape);
    if (info.ctor === undefined) {
      if (!Array.isArray(data)) {
        throw new DataJointError(`NDArray of dtype object needs an Array of values as data`);
      }
    } else if (!(data instanceof info.ctor)) {
      throw new DataJointError(
        `NDArray of dtype ${dtype} needs a ${info.ctor.name} as data, got ${describe(data)}`,
      );
    }
    if ((data as ArrayLike<unknown>).length !== size) {
      throw new DataJointError(
        `NDArray data has ${
          (data as ArrayLike<unknown>).length
        } elements but shape [${shape}] needs ${size}`,
      );
    }
    if (info.complex) {
      if (!(imag instanceof info.ctor!) || imag.length !== size) {
        throw new DataJointError(
          `A ${dtype} NDArray needs an imaginary plane: a ${info.ctor!.name} of ${size} elements`,
        );
      }
    } else if (imag !== undefined) {
      throw new DataJointError(`Only complex arrays have an imaginary plane, not ${dtype}`);
    }
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.data = data;
    this.imag = imag;
  }

  /** Brand that identifies NDArrays across copies of this library. */
  get [BLOB_KIND](): "ndarray" {
    return "ndarray";
  }

  /** Number of elements (1 for a 0-d array). */
  get size(): number {
    return (this.data as ArrayLike<unknown>).length;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /**
   * One element, by C-order indices (none for a 0-d array). Booleans come back as `boolean`,
   * complex elements as {@link Complex}, char elements as one-character strings.
   */
  at(...index: number[]): unknown {
    if (index.length !== this.shape.length) {
      throw new DataJointError(
        `NDArray.at needs ${this.shape.length} indices for shape [${this.shape}], got ${index.length}`,
      );
    }
    let flat = 0;
    for (let i = 0; i < index.length; i++) {
      const k = index[i];
      if (!Number.isInteger(k) || k < 0 || k >= this.shape[i]) {
        throw new DataJointError(
          `Index ${k} is out of bounds for axis ${i} of size ${this.shape[i]}`,
        );
      }
      flat = flat * this.shape[i] + k;
    }
    return this.element(flat);
  }

  /** The element at a flat C-order position, converted as in {@link NDArray.at}. */
  element(flat: number): unknown {
    const v = (this.data as ArrayLike<unknown>)[flat];
    if (this.dtype === "bool") return v !== 0;
    if (this.dtype === "char") return String.fromCharCode(v as number);
    if (this.imag !== undefined) {
      return new Complex(v as number, (this.imag as ArrayLike<number>)[flat]);
    }
    return v;
  }

  /**
   * Nested JavaScript arrays of the elements (as {@link NDArray.at} returns them); the element
   * itself for a 0-d array.
   */
  toNested(): unknown {
    const build = (axis: number, offset: number): unknown => {
      if (axis === this.shape.length) return this.element(offset);
      const stride = shapeSize(this.shape.slice(axis + 1));
      const out: unknown[] = [];
      for (let i = 0; i < this.shape[axis]; i++) out.push(build(axis + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /**
   * The characters of a `char` array as one string (code units in C order). For a MATLAB row
   * vector (`1×N`) this is the text itself.
   */
  text(): string {
    if (this.dtype !== "char") {
      throw new DataJointError(`NDArray.text() needs a char array, not ${this.dtype}`);
    }
    return codeUnitsToString(this.data as Uint16Array);
  }

  /**
   * An array over a typed array, with the dtype the typed array implies (`Uint8Array` → `uint8`).
   * The shape defaults to 1-D. The storage is used as is, not copied.
   *
   * @example
   * ```ts
   * import { NDArray } from "./ndarray.ts";
   * const m = NDArray.from(new Int32Array(12), [3, 4]);
   * m.dtype; // "int32"
   * ```
   */
  static from<T extends NumericTypedArray>(
    data: T,
    shape: readonly number[] = [data.length],
  ): NDArray<RealDType> {
    const dtype = dtypeOfTypedArray(data);
    return new NDArray<RealDType>(dtype, shape, data as DataFor<RealDType>);
  }

  /**
   * A boolean array from `true`/`false` values (stored as a `Uint8Array` of 0/1).
   *
   * @example
   * ```ts
   * import { NDArray } from "./ndarray.ts";
   * NDArray.bool([true, false]).at(0); // true
   * ```
   */
  static bool(
    values: ArrayLike<boolean>,
    shape: readonly number[] = [values.length],
  ): NDArray<"bool"> {
    const data = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = values[i] ? 1 : 0;
    return new NDArray("bool", shape, data);
  }

  /**
   * A complex array from a real and an imaginary plane (`Float64Array` → complex128,
   * `Float32Array` → complex64).
   *
   * @example
   * ```ts
   * import { NDArray } from "./ndarray.ts";
   * const z = NDArray.complex(new Float64Array([1, 2]), new Float64Array([0, -1]));
   * z.at(1).toString(); // "2-1j"
   * ```
   */
  static complex(
    real: Float64Array | Float32Array,
    imag: Float64Array | Float32Array,
    shape: readonly number[] = [real.length],
  ): NDArray<"complex64" | "complex128"> {
    const dtype = real instanceof Float64Array ? "complex128" : "complex64";
    return new NDArray(dtype, shape, real, imag);
  }

  /**
   * A MATLAB char array holding `text` as a `1×N` row (MATLAB's shape for a string literal).
   *
   * @example
   * ```ts
   * import { NDArray } from "./ndarray.ts";
   * NDArray.char("hello").shape; // [1, 5]
   * ```
   */
  static char(text: string): NDArray<"char"> {
    const data = new Uint16Array(text.length);
    for (let i = 0; i < text.length; i++) data[i] = text.charCodeAt(i);
    return new NDArray("char", [1, text.length], data);
  }

  /**
   * An object array (NumPy `dtype=object`) of arbitrary blob values, in C order.
   *
   * @example
   * ```ts
   * import { NDArray } from "./ndarray.ts";
   * NDArray.objects(["a", 1.5, null]).size; // 3
   * ```
   */
  static objects(
    values: readonly unknown[],
    shape: readonly number[] = [values.length],
  ): NDArray<"object"> {
    return new NDArray("object", shape, [...values]);
  }

  /**
   * A 0-d array (what NumPy scalars such as `np.float32(1.5)` become) of a numeric dtype.
   *
   * @example
   * ```ts
   * import { NDArray } from "./ndarray.ts";
   * NDArray.scalar("int16", 7).shape; // []
   * ```
   */
  static scalar(
    dtype: Exclude<DType, "object" | "char">,
    value: number | bigint | boolean | Complex,
  ): NDArray {
    const info = dtypeInfo(dtype);
    const data = new info.ctor!(1);
    let imag: NumericTypedArray | undefined;
    try {
      if (isComplexDType(dtype)) {
        const c = value instanceof Complex ? value : new Complex(Number(value), 0);
        (data as Float64Array)[0] = c.re;
        imag = new info.ctor!(1);
        (imag as Float64Array)[0] = c.im;
      } else if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
        data[0] = BigInt(value as number | bigint);
      } else {
        (data as Float64Array)[0] = Number(value);
      }
    } catch (e) {
      throw new DataJointError(`Cannot make a ${dtype} scalar from ${String(value)}`, { cause: e });
    }
    return new NDArray(dtype, [], data as DataFor<typeof dtype>, imag as DataFor<typeof dtype>);
  }
}

/**
 * The number of elements of a shape (1 for `[]`); throws a {@link DataJointError} for entries that
 * are not non-negative safe integers or a product beyond 2^53.
 *
 * @example
 * ```ts
 * import { shapeSize } from "./ndarray.ts";
 * shapeSize([2, 3, 4]); // 24
 * ```
 */
export function shapeSize(shape: readonly number[]): number {
  if (!Array.isArray(shape)) throw new DataJointError(`A shape must be an array of integers`);
  // Like NumPy, the product of the non-zero axes must be representable even when a zero axis
  // makes the array empty.
  let n = 1;
  let empty = false;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new DataJointError(`Invalid shape [${shape}]: entries must be non-negative integers`);
    }
    if (d === 0) empty = true;
    else n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new DataJointError(`Shape [${shape}] is too large`);
  return empty ? 0 : n;
}

/** Decode UTF-16 code units to a string without the argument-count limit of `fromCharCode`. */
export function codeUnitsToString(units: Uint16Array): string {
  let s = "";
  for (let i = 0; i < units.length; i += 8192) {
    s += String.fromCharCode(...units.subarray(i, i + 8192));
  }
  return s;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  return (v as object).constructor?.name ?? typeof v;
}
