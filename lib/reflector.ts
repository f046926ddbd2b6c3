/**
 * The reflector: a table class → DataJoint definition text. A class's own `static definition`
 * string is taken as is; otherwise the metadata of its decorators or of its
 * `static table = defineTable(...)` is checked and compiled into the text a user would have
 * written. The text then goes through the same parser as every hand-written definition, so
 * decorators never reach DDL by another road.
 *
 * Output, one line each: `# comment` (when there is one); the primary-key lines; `---` (when
 * there are secondary lines); the secondary lines; the index lines. Attributes are written
 * `name = default : type  # comment`, foreign keys `-> [nullable, unique] Parent.proj(new='old')`.
 *
 * @example
 * ```ts
 * import { attr, comment, key } from "./decorators.ts";
 * import { reflectDefinition } from "./reflector.ts";
 * import { Lookup } from "./table.ts";
 *
 * @comment("species lookup")
 * class Species extends Lookup {
 *   @key("varchar(32)", { comment: "species name" }) species!: string;
 *   @attr("varchar(64)", { default: "" }) latin!: string;
 * }
 * console.log(reflectDefinition(Species).definition);
 * // # species lookup
 * // species : varchar(32)  # species name
 * // ---
 * // latin = '' : varchar(64)
 * ```
 *
 * @module
 */
import {
  type AttributeItem,
  type DefaultValue,
  isSqlExpression,
  type Item,
  type RefItem,
  type TableMetadata,
  tableMetadata,
} from "./decorators.ts";
import { DeclarationError } from "./errors.ts";
import type { TableClass } from "./table.ts";

/** A reflected table: its definition text and the classes its foreign keys name. *
 * @example
 * ```ts
 * import { defineTable } from "./decorators.ts";
 * import { compileDefinition, type ReflectedDefinition } from "./reflector.ts";
 * const r: ReflectedDefinition = compileDefinition(defineTable({ primary: { id: "int32" } }), "T");
 * console.log(r.definition, r.context); // id : int32 {}
 * ```
 */
export interface ReflectedDefinition {
  /** Definition text, as the parser reads it. */
  readonly definition: string;
  /**
   * The referenced classes by the name the definition uses for them (their `name`), so that the
   * declaring code resolves `-> Parent` to the right class. Empty for a `static definition`,
   * whose names the declaring code resolves on its own.
   */
  readonly context: Readonly<Record<string, TableClass>>;
  /**
   * What made the text when it came from metadata rather than a definition string, such as
   * `"the decorators of Session"`: error messages name it instead of a line number.
   */
  readonly origin?: string;
}

/** Attribute names: what DataJoint's parser accepts (lowercase, no leading underscore). */
const ATTRIBUTE_NAME = /^[a-z][a-z0-9_]*$/;
/** Class names as the definition parser reads them after `->`. */
const CLASS_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The definition text of a table class, and the classes it refers to. Precedence: the class's
 * own `static definition`; else its metadata (decorators or `static table = defineTable(...)`,
 * including what it inherits); else a `static definition` it inherits. Throws
 * {@link DeclarationError} for a class declared no way at all, for metadata that a definition
 * could not express, and for a class that adds metadata to an inherited definition string.
 *
 * @example
 * ```ts
 * import { key, ref } from "./decorators.ts";
 * import { reflectDefinition } from "./reflector.ts";
 * import { Manual } from "./table.ts";
 *
 * class Subject extends Manual {
 *   @key("int32") subject_id!: number;
 * }
 * class Session extends Manual {
 *   @ref(() => Subject, { primary: true }) subject!: unknown;
 *   @key("int16") session_idx!: number;
 * }
 * const { definition, context } = reflectDefinition(Session);
 * console.log(definition); // -> Subject\nsession_idx : int16
 * console.log(context.Subject === Subject); // true
 * ```
 */
export function reflectDefinition(cls: TableClass): ReflectedDefinition {
  if (typeof cls !== "function") {
    throw new DeclarationError(`reflectDefinition() takes a table class, got ${typeof cls}`);
  }
  const own = ownDefinition(cls);
  if (own !== undefined) return { definition: own, context: {} };
  const meta = tableMetadata(cls);
  const definedBy = definitionAncestor(cls);
  if (meta !== undefined && definedBy !== undefined) {
    throw new DeclarationError(
      `${cls.name} extends ${definedBy.name}, which has a static definition string, and adds ` +
        `decorators or defineTable() metadata; a definition string cannot be extended this way. ` +
        `Write ${cls.name}'s whole definition as a static definition string, or declare ` +
        `${definedBy.name} with decorators too`,
    );
  }
  if (meta !== undefined) {
    const name = cls.name || "(anonymous)";
    const origin = Object.hasOwn(cls, "table")
      ? `${name}.table (defineTable)`
      : `the decorators of ${name}`;
    return { ...compileDefinition(meta, cls.name), origin };
  }
  if (definedBy !== undefined) return { definition: ownDefinition(definedBy)!, context: {} };
  throw new DeclarationError(
    `Table class ${cls.name || "(anonymous)"} has no definition. Declare it in one of three ` +
      `ways: a static definition string (static definition = \`id : int32\`), decorators ` +
      `(@key("int32") id!: number, @attr, @ref), or static table = defineTable({...})`,
  );
}

/**
 * Compile table metadata into definition text. Pure; `tableName` only names the table in error
 * messages. Foreign keys call their thunks here, so every referenced class must be defined.
 *
 * @example
 * ```ts
 * import { defineTable, sql } from "./decorators.ts";
 * import { compileDefinition } from "./reflector.ts";
 * const meta = defineTable({
 *   comment: "log",
 *   primary: { entry_id: "int32" },
 *   secondary: { at: { type: "datetime", default: sql("CURRENT_TIMESTAMP") } },
 * });
 * console.log(compileDefinition(meta, "Log").definition);
 * // # log
 * // entry_id : int32
 * // ---
 * // at = CURRENT_TIMESTAMP : datetime
 * ```
 */
export function compileDefinition(meta: TableMetadata, tableName: string): ReflectedDefinition {
  const lines: string[] = [];
  const context: Record<string, TableClass> = {};
  const seen = new Set<string>();
  if (meta.comment !== undefined) {
    if (typeof meta.comment !== "string" || /[\r\n]/.test(meta.comment)) {
      throw new DeclarationError(
        `${tableName}: the table comment ${describe(meta.comment)} must be one line of text`,
      );
    }
    if (meta.comment.trim() !== "") lines.push(`# ${meta.comment.trim()}`);
  }
  const side = (items: readonly Item[], primary: boolean): void => {
    items.forEach((item, i) => {
      const position = `${tableName} (${primary ? "primary" : "secondary"} line ${i + 1})`;
      if (typeof item === "object" && item !== null && "ref" in item) {
        const where = typeof item.field === "string" ? `${tableName}.${item.field}` : position;
        lines.push(foreignKeyLine(item, primary, where, context));
      } else {
        lines.push(attributeLine(item, primary, tableName, position, seen));
      }
    });
  };
  side(meta.primary, true);
  if (meta.secondary.length > 0) {
    // The divider only when something follows: a table without a primary key (a singleton)
    // starts with it, so that its attributes do not become the key.
    lines.push("---");
    side(meta.secondary, false);
  }
  meta.indexes.forEach((ix, i) =>
    lines.push(indexLine(ix.columns, ix.unique, `${tableName} (index ${i + 1})`))
  );
  return { definition: lines.join("\n"), context };
}

/**
 * A default value as definition text: `null`; numbers and bigints in decimal; booleans `1`/`0`
 * (DataJoint writes other defaults into SQL quoted, and `'true'` is no number); strings
 * single-quoted with `'` doubled; SQL expressions raw.
 *
 * @example
 * ```ts
 * import { sql } from "./decorators.ts";
 * import { renderDefault } from "./reflector.ts";
 * console.log(renderDefault("it's"), renderDefault(true), renderDefault(sql("CURRENT_TIMESTAMP")));
 * // 'it''s' 1 CURRENT_TIMESTAMP
 * ```
 */
export function renderDefault(value: DefaultValue): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "1" : "0";
    case "bigint":
      return value.toString();
    case "number":
      if (!Number.isFinite(value)) {
        throw new DeclarationError(`the default ${value} is not a finite number`);
      }
      return String(value);
    case "string":
      if (/[\r\n]/.test(value)) {
        throw new DeclarationError(`the default ${describe(value)} spans lines; use one line`);
      }
      return `'${value.replaceAll("'", "''")}'`;
  }
  if (isSqlExpression(value)) {
    const text = value.text.trim();
    if (text === "" || /[\r\n#]/.test(text)) {
      throw new DeclarationError(
        `the SQL default ${describe(value.text)} must be one non-empty line without #`,
      );
    }
    return text;
  }
  throw new DeclarationError(
    `the default ${describe(value)} is not a string, number, bigint, boolean, null or sql(...)`,
  );
}

// ---------------------------------------------------------------------------------------------
// Internals

/** The class's own `static definition`, when it is a string. */
function ownDefinition(cls: unknown): string | undefined {
  if (typeof cls !== "function" || !Object.hasOwn(cls, "definition")) return undefined;
  // `Table` declares `static definition?: string` without a value: an own `undefined`.
  const value = (cls as { definition?: unknown }).definition;
  return typeof value === "string" ? value : undefined;
}

/** The nearest proper ancestor with its own `static definition` string. */
function definitionAncestor(cls: TableClass): TableClass | undefined {
  for (
    let c: unknown = Object.getPrototypeOf(cls);
    typeof c === "function";
    c = Object.getPrototypeOf(c)
  ) {
    if (ownDefinition(c) !== undefined) return c as TableClass;
  }
  return undefined;
}

/** `name [= default] : type [# comment]`. */
function attributeLine(
  item: AttributeItem,
  primary: boolean,
  tableName: string,
  position: string,
  seen: Set<string>,
): string {
  if (typeof item !== "object" || item === null) {
    throw new DeclarationError(
      `${position}: ${describe(item)} is not an attribute or a foreign key`,
    );
  }
  const { name, type } = item;
  if (typeof name !== "string" || !ATTRIBUTE_NAME.test(name)) {
    throw new DeclarationError(
      `${position}: the attribute name ${describe(name)} is not valid; names are lowercase ` +
        `[a-z][a-z0-9_]* (a leading underscore is reserved for platform-managed columns)`,
    );
  }
  const where = `${tableName}.${name}`;
  if (seen.has(name)) {
    throw new DeclarationError(`${where} is declared twice; each attribute is declared once`);
  }
  seen.add(name);
  if (typeof type !== "string" || type.trim() === "" || /[\r\n#]/.test(type)) {
    throw new DeclarationError(
      `${where}: the type ${describe(type)} must be one non-empty line without # ` +
        `(e.g. "int32", "varchar(16)", "<blob@main>")`,
    );
  }
  let line = name;
  if (item.default !== undefined) {
    if (item.default === null && primary) {
      throw new DeclarationError(
        `${where}: a primary-key attribute cannot be nullable (default null); ` +
          `move it below the divider (@attr) or give it another default`,
      );
    }
    try {
      line += ` = ${renderDefault(item.default)}`;
    } catch (e) {
      if (!(e instanceof DeclarationError)) throw e;
      throw new DeclarationError(`${where}: ${e.message}`, { cause: e });
    }
  }
  line += ` : ${type.trim()}`;
  const comment = checkComment(item.comment, where);
  return comment === "" ? line : `${line}  # ${comment}`;
}

/** `-> [nullable, unique] Parent[.proj(new='old', ...)]`; records the parent in `context`. */
function foreignKeyLine(
  item: RefItem,
  primary: boolean,
  where: string,
  context: Record<string, TableClass>,
): string {
  const parent = resolve(item.ref, where);
  const options: string[] = [];
  for (const option of ["nullable", "unique"] as const) {
    const value = item[option];
    if (value !== undefined && typeof value !== "boolean") {
      throw new DeclarationError(
        `${where}: the foreign-key option ${option} must be true or false`,
      );
    }
    if (value) options.push(option);
  }
  if (item.nullable && primary) {
    throw new DeclarationError(
      `${where}: a primary-key foreign key cannot be nullable; drop nullable or make it secondary`,
    );
  }
  let line = `-> ${options.length > 0 ? `[${options.join(", ")}] ` : ""}${parent.name}`;
  if (item.rename !== undefined) {
    if (typeof item.rename !== "object" || item.rename === null) {
      throw new DeclarationError(`${where}: rename must be a record new_name → parent's name`);
    }
    const pairs = Object.entries(item.rename).map(([newName, oldName]) => {
      for (const n of [newName, oldName]) {
        if (typeof n !== "string" || !ATTRIBUTE_NAME.test(n)) {
          throw new DeclarationError(
            `${where}: rename ${describe(newName)} → ${describe(oldName)}: ${describe(n)} is not ` +
              `an attribute name ([a-z][a-z0-9_]*)`,
          );
        }
      }
      return `${newName}='${oldName}'`;
    });
    if (pairs.length > 0) line += `.proj(${pairs.join(", ")})`;
  }
  const known = context[parent.name];
  if (known !== undefined && known !== parent) {
    throw new DeclarationError(
      `${where}: two different classes named ${parent.name} are referenced; the definition ` +
        `names parents by class name, so rename one of them`,
    );
  }
  context[parent.name] = parent;
  return line;
}

/** Call a foreign key's thunk and check that it gave a table class. */
function resolve(thunk: unknown, where: string): TableClass {
  if (typeof thunk !== "function") {
    throw new DeclarationError(
      `${where}: ref must be a thunk () => Parent, got ${describe(thunk)}`,
    );
  }
  if (isTableClass(thunk)) {
    throw new DeclarationError(
      `${where}: ref is the class ${thunk.name} itself; pass a thunk: () => ${thunk.name}`,
    );
  }
  let target: unknown;
  try {
    target = (thunk as () => unknown)();
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    throw new DeclarationError(
      `${where}: the referenced class is not initialized yet (${e.message}); it is probably ` +
        `declared further down, or imported through a cyclic import. Declare the parent first`,
      { cause: e },
    );
  }
  if (target === undefined || target === null) {
    throw new DeclarationError(
      `${where}: the foreign-key thunk returned ${target}; the referenced class is probably not ` +
        `yet defined (declared further down, or imported through a cyclic import). Declare the ` +
        `parent first, or break the import cycle`,
    );
  }
  if (!isTableClass(target)) {
    throw new DeclarationError(
      `${where}: the foreign key refers to ${describe(target)}, which is not a table class ` +
        `(a class extending Manual, Lookup, Imported, Computed or Part)`,
    );
  }
  if (!CLASS_NAME.test(target.name)) {
    throw new DeclarationError(
      `${where}: the referenced class has the name ${describe(target.name)}, which a ` +
        `definition cannot name; give the class a name ([A-Za-z_][A-Za-z0-9_]*)`,
    );
  }
  return target;
}

/** A class extending a tier: it has a string `tier` (by shape, so copies of the library agree). */
function isTableClass(value: unknown): value is TableClass {
  return typeof value === "function" && typeof (value as { tier?: unknown }).tier === "string";
}

/** `[unique] index(a, b)`. */
function indexLine(columns: readonly string[], unique: boolean | undefined, where: string): string {
  if (!Array.isArray(columns) || columns.length === 0) {
    throw new DeclarationError(`${where}: an index needs at least one attribute`);
  }
  for (const c of columns) {
    if (typeof c !== "string" || !ATTRIBUTE_NAME.test(c)) {
      throw new DeclarationError(`${where}: ${describe(c)} is not an attribute name`);
    }
  }
  if (new Set(columns).size !== columns.length) {
    throw new DeclarationError(`${where}: an index lists each attribute once`);
  }
  return `${unique ? "unique " : ""}index(${columns.join(", ")})`;
}

/** A comment: absent or one line; returned trimmed. */
function checkComment(comment: unknown, where: string): string {
  if (comment === undefined) return "";
  if (typeof comment !== "string" || /[\r\n]/.test(comment)) {
    throw new DeclarationError(
      `${where}: the comment ${describe(comment)} must be one line of text`,
    );
  }
  return comment.trim();
}

/** A short description of a bad value for error messages. */
function describe(value: unknown): string {
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "bigint") return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
