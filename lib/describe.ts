/**
 * `describe()`: a heading back to definition text that declares an identical table. Foreign keys
 * are written as `-> Parent` lines at the position of their first column (with `[nullable]`,
 * `[unique]` and `.proj(new='old')` renames), the other visible attributes as
 * `name = default : type  # comment`, then the declared indexes.
 *
 * @example
 * ```ts
 * import { describeHeading } from "./describe.ts";
 * import type { Heading } from "./heading.ts";
 * declare const heading: Heading;
 * // console.log(describeHeading(heading, (schema, table) => table));
 * ```
 *
 * @module
 */
import type { Attribute, Heading, HeadingForeignKey } from "./heading.ts";

/** How a foreign key's parent is named in the definition (`Subject`, `lab.Subject`). */
export type ParentNamer = (schema: string, table: string) => string;

function defaultText(a: Attribute): string | null {
  if (a.nullable) return "null";
  if (a.default === null) return null;
  return a.default;
}

function attributeLine(a: Attribute): string {
  const d = defaultText(a);
  const left = d === null ? a.name : `${a.name} = ${d}`;
  const line = `${left.padEnd(20)} : ${a.type}`;
  return a.comment === "" ? line : `${line.padEnd(44)} # ${a.comment}`;
}

function foreignKeyLine(fk: HeadingForeignKey, name: ParentNamer): string {
  const options = [fk.nullable ? "nullable" : "", fk.unique ? "unique" : ""].filter((o) => o);
  const renames = fk.columns
    .map((c, i) => [c, fk.refColumns[i]])
    .filter(([c, p]) => c !== p)
    .map(([c, p]) => `${c}='${p}'`);
  return `-> ${options.length ? `[${options.join(", ")}] ` : ""}${name(fk.refSchema, fk.refTable)}${
    renames.length ? `.proj(${renames.join(", ")})` : ""
  }`;
}

/**
 * The definition text of a heading. `name` says how to refer to a parent table.
 *
 * @example
 * ```ts
 * import { describeHeading } from "./describe.ts";
 * import type { Heading } from "./heading.ts";
 * const h: Heading = {
 *   schema: "lab", table: "rig", comment: "rigs", primaryKey: ["rig"], foreignKeys: [],
 *   indexes: [], lineageAvailable: true,
 *   attributes: [{ name: "rig", inKey: true, nullable: false, hidden: false, type: "varchar(16)",
 *     sqlType: "varchar(16)", kind: "core", storage: { kind: "core", name: "varchar", text: "varchar(16)", length: 16 },
 *     comment: "", default: null, autoIncrement: false, json: false, blob: false, uuid: false, lineage: null }],
 * };
 * console.log(describeHeading(h, (_s, t) => t)); // "# rigs\nrig : varchar(16)\n" (padded)
 * ```
 */
export function describeHeading(heading: Heading, name: ParentNamer): string {
  const lines: string[] = [];
  if (heading.comment !== "") lines.push(`# ${heading.comment}`);
  const done = new Set<HeadingForeignKey>();
  let inKey = true;
  for (const a of heading.attributes) {
    if (a.hidden) continue;
    if (inKey && !a.inKey) {
      lines.push("---");
      inKey = false;
    }
    const fks = heading.foreignKeys.filter((f) => f.columns.includes(a.name));
    if (fks.length > 0) {
      // A column shared by several foreign keys (a diamond) introduces each of them once.
      for (const fk of fks) {
        if (done.has(fk)) continue;
        done.add(fk);
        lines.push(foreignKeyLine(fk, name));
      }
      continue;
    }
    lines.push(attributeLine(a));
  }
  // A table of key attributes only has no divider, as in DataJoint Python's describe().
  for (const ix of heading.indexes) {
    lines.push(`${ix.unique ? "unique index" : "index"}(${ix.columns.join(", ")})`);
  }
  return lines.join("\n") + "\n";
}
