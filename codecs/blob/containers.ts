/**
 * Container value types that keep distinctions JavaScript lacks: Python tuples, MATLAB struct
 * and cell arrays, and NumPy record arrays.
 *
 * @module
 */

import { DataJointError } from "../../lib/errors.ts";
import { NDArray, shapeSize } from "./ndarray.ts";
import { BLOB_KIND } from "./scalars.ts";

/**
 * A Python tuple (blob item `0x01`): an `Array` that remembers it is a tuple, so that it is written
 * back as a tuple (Python needs tuples, not lists, as dict keys and set elements). `map`, `filter`
 * and friends return plain arrays. Make one with {@link tuple}.
 *
 * @example
 * ```ts
 * import { Tuple, tuple } from "./containers.ts";
 * const t = tuple(1n, "a");
 * t instanceof Array; // true
 * t.length; // 2
 * ```
 */
export class Tuple<T = unknown> extends Array<T> {
  /** Derived arrays (`map`, `slice`, …) are plain arrays, not tuples. */
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  /** Brand that identifies tuples across copies of this library. */
  get [BLOB_KIND](): "tuple" {
    return "tuple";
  }
}

/**
 * Make a {@link Tuple} from its items.
 *
 * @example
 * ```ts
 * import { tuple } from "./containers.ts";
 * const key = tuple(1n, 2n); // Python (1, 2)
 * ```
 */
export function tuple<T extends unknown[]>(...items: T): Tuple<T[number]> {
  const t = new Tuple<T[number]>();
  for (const item of items) t.push(item);
  return t;
}

/**
 * A MATLAB struct array (blob item `S`): a shape, field names, and one record per element in
 * C order, each record holding one value per field in field order.
 *
 * @example
 * ```ts
 * import { MatStruct } from "./containers.ts";
 * const s = new MatStruct([1, 2], ["a", "b"], [[1, "x"], [2, "y"]]);
 * s.get(0, 1).b; // "y"
 * ```
 */
export class MatStruct {
  /** Dimensions (MATLAB size), outermost first. */
  readonly shape: readonly number[];
  /** Field names in declaration order. */
  readonly fields: readonly string[];
  /** One record per element in C order; `records[i][f]` is field `fields[f]` of element `i`. */
  readonly records: readonly (readonly unknown[])[];

  /** Build a struct array; records must number `prod(shape)` and each hold one value per field. */
  constructor(
    shape: readonly number[],
    fields: readonly string[],
    records: readonly (readonly unknown[])[],
  ) {
    const size = shapeSize(shape);
    if (!Array.isArray(fields) || fields.some((f) => typeof f !== "string")) {
      throw new DataJointError(`MatStruct field names must be strings`);
    }
    if (new Set(fields).size !== fields.length) {
      throw new DataJointError(`MatStruct field names must be unique, got [${fields.join(", ")}]`);
    }
    for (const f of fields) {
      if (f.length === 0 || f.includes("\0")) {
        throw new DataJointError(
          `MatStruct field name ${JSON.stringify(f)} must be non-empty without NUL`,
        );
      }
    }
    if (!Array.isArray(records) || records.length !== size) {
      throw new DataJointError(
        `MatStruct of shape [${shape}] needs ${size} records, got ${
          Array.isArray(records) ? records.length : typeof records
        }`,
      );
    }
    for (const r of records) {
      if (!Array.isArray(r) || r.length !== fields.length) {
        throw new DataJointError(
          `Each MatStruct record needs ${fields.length} values, one per field`,
        );
      }
    }
    this.shape = Object.freeze([...shape]);
    this.fields = Object.freeze([...fields]);
    this.records = records;
  }

  /** Brand that identifies struct arrays across copies of this library. */
  get [BLOB_KIND](): "struct" {
    return "struct";
  }

  /** Number of elements. */
  get size(): number {
    return this.records.length;
  }

  /** One element as a plain record (`{ field: value }`), by C-order indices. */
  get(...index: number[]): Record<string, unknown> {
    const rec = this.records[flatIndex(this.shape, index)];
    const out: Record<string, unknown> = Object.create(null);
    this.fields.forEach((f, i) => (out[f] = rec[i]));
    return out;
  }

  /** All values of one field, in C order. */
  field(name: string): unknown[] {
    const i = this.fields.indexOf(name);
    if (i < 0) {
      throw new DataJointError(
        `MatStruct has no field "${name}"; fields: ${this.fields.join(", ")}`,
      );
    }
    return this.records.map((r) => r[i]);
  }
}

/**
 * A MATLAB cell array (blob item `C`): a shape and its elements in C order.
 *
 * @example
 * ```ts
 * import { MatCell } from "./containers.ts";
 * const c = new MatCell([1, 2], ["text", 42]);
 * c.get(0, 1); // 42
 * ```
 */
export class MatCell {
  /** Dimensions (MATLAB size), outermost first. */
  readonly shape: readonly number[];
  /** The elements in C order. */
  readonly data: readonly unknown[];

  /** Build a cell array; `data` must hold `prod(shape)` elements in C order. */
  constructor(shape: readonly number[], data: readonly unknown[]) {
    const size = shapeSize(shape);
    if (!Array.isArray(data) || data.length !== size) {
      throw new DataJointError(`MatCell of shape [${shape}] needs ${size} elements`);
    }
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  /** Brand that identifies cell arrays across copies of this library. */
  get [BLOB_KIND](): "cell" {
    return "cell";
  }

  /** One element by C-order indices. */
  get(...index: number[]): unknown {
    return this.data[flatIndex(this.shape, index)];
  }
}

/**
 * A NumPy structured array / recarray (blob item `F`): a shape shared by all fields and one column
 * per field, each column an {@link NDArray} (or a nested `RecArray`) of that shape.
 *
 * @example
 * ```ts
 * import { RecArray } from "./containers.ts";
 * import { NDArray } from "./ndarray.ts";
 * const r = new RecArray([
 *   ["x", NDArray.from(new Float64Array([1, 3]))],
 *   ["y", NDArray.from(new BigInt64Array([2n, 4n]))],
 * ]);
 * r.shape; // [2]
 * ```
 */
export class RecArray {
  /** The fields in declaration order: name and column. */
  readonly fields: readonly (readonly [string, NDArray | RecArray])[];

  /** Build a record array; every column must have the same shape. */
  constructor(fields: readonly (readonly [string, NDArray | RecArray])[]) {
    if (!Array.isArray(fields) || fields.length === 0) {
      throw new DataJointError(`A RecArray needs at least one field`);
    }
    const names = new Set<string>();
    for (const entry of fields) {
      const [name, column] = Array.isArray(entry) ? entry : [];
      if (typeof name !== "string" || name.length === 0 || name.includes("\0")) {
        throw new DataJointError(`RecArray field names must be non-empty strings without NUL`);
      }
      if (names.has(name)) throw new DataJointError(`RecArray field "${name}" appears twice`);
      names.add(name);
      const kind = (column as { [BLOB_KIND]?: string } | undefined)?.[BLOB_KIND];
      if (kind !== "ndarray" && kind !== "recarray") {
        throw new DataJointError(`RecArray field "${name}" must be an NDArray or a RecArray`);
      }
    }
    const shape = fields[0][1].shape;
    for (const [name, column] of fields) {
      if (
        column.shape.length !== shape.length ||
        column.shape.some((d: number, i: number) => d !== shape[i])
      ) {
        throw new DataJointError(
          `RecArray field "${name}" has shape [${column.shape}], expected [${shape}] like the first field`,
        );
      }
    }
    this.fields = Object.freeze(fields.map(([n, c]) => [n, c] as const));
  }

  /** Brand that identifies record arrays across copies of this library. */
  get [BLOB_KIND](): "recarray" {
    return "recarray";
  }

  /** The record shape (that of every column). */
  get shape(): readonly number[] {
    return this.fields[0][1].shape;
  }

  /** One column by name. */
  field(name: string): NDArray | RecArray {
    const f = this.fields.find(([n]) => n === name);
    if (!f) throw new DataJointError(`RecArray has no field "${name}"`);
    return f[1];
  }
}

function flatIndex(shape: readonly number[], index: number[]): number {
  if (index.length !== shape.length) {
    throw new DataJointError(
      `Expected ${shape.length} indices for shape [${shape}], got ${index.length}`,
    );
  }
  let flat = 0;
  for (let i = 0; i < index.length; i++) {
    const k = index[i];
    if (!Number.isInteger(k) || k < 0 || k >= shape[i]) {
      throw new DataJointError(`Index ${k} is out of bounds for axis ${i} of size ${shape[i]}`);
    }
    flat = flat * shape[i] + k;
  }
  return flat;
}
