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

/**
 * The type to declare: an auto-increment column keeps its `auto_increment` (MySQL) or is the
 * `serial` it was declared as (PostgreSQL reports the `integer` column of a sequence).
 */
function typeText(a: Attribute): string {
  if (!a.autoIncrement) return a.type;
  if (a.kind === "native" && /^integer$/i.test(a.type) && a.sqlType === a.type) return "serial";
  return /\bauto_increment\b/i.test(a.type) ? a.type : `${a.type} auto_increment`;
}

function attributeLine(a: Attribute): string {
  const d = defaultText(a);
  const left = d === null ? a.name : `${a.name} = ${d}`;
  const line = `${left.padEnd(20)} : ${typeText(a)}`;
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
  const seen = new Set<string>();
  let inKey = true;
  for (const a of heading.attributes) {
    const fks = heading.foreignKeys.filter((f) => f.columns.includes(a.name));
    // Hidden columns are not written, but a foreign key to a table without primary key brings
    // its hidden `_singleton`, and that key must still be written.
    if (a.hidden && fks.length === 0) continue;
    if (inKey && !a.inKey) {
      lines.push("---");
      inKey = false;
    }
    seen.add(a.name);
    if (fks.length > 0) {
      // As DataJoint Python does, a foreign key is written where its last column is: one that
      // shares key columns with an earlier one (a diamond) but adds a secondary column belongs
      // below the divider. Each is written once.
      for (const fk of fks) {
        if (done.has(fk) || !fk.columns.every((c) => seen.has(c))) continue;
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
