/**
 * Table names from class names, as DataJoint Python makes them: CamelCase → snake_case (every
 * interior capital gets an underscore: `MyABCTable` → `my_a_b_c_table`), a prefix per tier
 * (`#` Lookup, `_` Imported, `__` Computed), and `master__part` for parts.
 *
 * @example
 * ```ts
 * import { tableName } from "./naming.ts";
 * console.log(tableName("Computed", "SpikeSorting")); // __spike_sorting
 * ```
 *
 * @module
 */
import { DeclarationError } from "./errors.ts";
import type { Tier } from "./table.ts";

/** Table-name prefix per tier (parts take their master's name instead). */
export const TIER_PREFIX: Readonly<Record<Exclude<Tier, "Part">, string>> = {
  Manual: "",
  Lookup: "#",
  Imported: "_",
  Computed: "__",
};

/**
 * CamelCase → snake_case the way DataJoint Python does it. Underscores in the class name are
 * dropped (Python warns); the name must then be alphanumeric and start with a capital.
 *
 * @example
 * ```ts
 * import { fromCamelCase } from "./naming.ts";
 * console.log(fromCamelCase("MyABCTable"), fromCamelCase("Table2D")); // my_a_b_c_table table2_d
 * ```
 */
export function fromCamelCase(className: string): string {
  const name = className.replaceAll("_", "");
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) {
    throw new DeclarationError(
      `Table class name \`${className}\` is invalid. Class names must be in CamelCase, starting with a capital letter.`,
    );
  }
  return name[0].toLowerCase() + name.slice(1).replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/**
 * snake_case (with or without a tier prefix) → CamelCase, the inverse DataJoint Python uses for
 * virtual schemas: `__computed_thing` → `ComputedThing`, `table2_d` → `Table2D`.
 *
 * @example
 * ```ts
 * import { toCamelCase } from "./naming.ts";
 * console.log(toCamelCase("#lookup"), toCamelCase("table2_d")); // Lookup Table2D
 * ```
 */
export function toCamelCase(snake: string): string {
  return snake.replace(/(^|[_\W])+[a-zA-Z]/g, (m) => m.at(-1)!.toUpperCase());
}

/**
 * The SQL table name of a class of the given tier. Parts need the master's table name.
 *
 * @example
 * ```ts
 * import { tableName } from "./naming.ts";
 * console.log(tableName("Lookup", "Rig"), tableName("Part", "Channel", "probe")); // #rig probe__channel
 * ```
 */
export function tableName(tier: Tier, className: string, masterTable?: string): string {
  const base = fromCamelCase(className);
  if (tier === "Part") {
    if (masterTable === undefined) {
      throw new DeclarationError(
        `Part table ${className} has no master: hold it as a static property of its master class`,
      );
    }
    return `${masterTable}__${base}`;
  }
  return TIER_PREFIX[tier] + base;
}

/**
 * The tier a table name belongs to, from its prefix (`~`-prefixed hidden tables give `undefined`).
 *
 * @example
 * ```ts
 * import { tierOfTableName } from "./naming.ts";
 * console.log(tierOfTableName("__analysis"), tierOfTableName("session__trial")); // Computed Part
 * ```
 */
export function tierOfTableName(name: string): Tier | undefined {
  const base = String.raw`[a-z][a-z0-9]*(_[a-z][a-z0-9]*)*`;
  if (new RegExp(String.raw`^(#|_|__)?${base}__${base}$`).test(name)) return "Part";
  if (new RegExp(`^__${base}$`).test(name)) return "Computed";
  if (new RegExp(`^_${base}$`).test(name)) return "Imported";
  if (new RegExp(`^#${base}$`).test(name)) return "Lookup";
  if (new RegExp(`^${base}$`).test(name)) return "Manual";
  return undefined;
}

/**
 * The master's table name of a part table name (the last `__` splits), or `undefined`.
 *
 * @example
 * ```ts
 * import { masterOfTableName } from "./naming.ts";
 * console.log(masterOfTableName("__analysis__detail")); // __analysis
 * ```
 */
export function masterOfTableName(name: string): string | undefined {
  if (tierOfTableName(name) !== "Part") return undefined;
  const i = name.lastIndexOf("__");
  return name.slice(0, i);
}
