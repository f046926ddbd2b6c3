/**
 * Decorators that declare a table's attributes on its class, and their plain-data twin
 * {@link defineTable}. Both only record metadata; `reflector.ts` compiles it into DataJoint
 * definition text, which the parser and the DDL compiler take from there.
 *
 * ```ts
 * import { attr, comment, index, key, ref } from "./decorators.ts";
 * import { Lookup, Manual } from "./table.ts";
 *
 * @comment("species lookup")
 * class Species extends Lookup {
 *   @key("varchar(32)", { comment: "species name" }) species!: string;
 * }
 *
 * @comment("experimental subject")
 * @index("sex")
 * class Subject extends Manual {
 *   @key("int32") subject_id!: number;
 *   @ref(() => Species) species!: unknown;
 *   @attr("enum('M','F','U')", { default: "U" }) sex!: string;
 * }
 * ```
 *
 * **Both decorator modes.** Decorators compile according to the *user's* project: standard
 * (TC39) decorators by default, legacy ones when its deno.json sets
 * `"experimentalDecorators": true` — even for code inside this library. So every decorator here
 * looks at its arguments at call time: a standard context object (`"kind" in ctx`) stores into
 * `context.metadata` (native `Symbol.metadata`); the legacy `(prototype, name)` / `(constructor)`
 * calls store on the constructor under a symbol. No reflect-metadata.
 *
 * **Storage is per class and never shared.** Each class holds only what was declared on it; a
 * subclass's attributes are appended to its ancestors' when the metadata is read
 * ({@link tableMetadata}), so a subclass can never change its parent's or a sibling's table.
 *
 * **Order.** Definition lines follow field declaration order in both modes (primary-key fields
 * are moved above the divider, keeping their relative order). Class decorators run bottom-up in
 * both modes, so index decorators prepend: indexes come out in the order they are written.
 *
 * **Parts held as `static Detail = class Detail extends Part {…}`.** Two limits of the platform,
 * not of this library, apply to class expressions:
 * - standard mode, Deno ≤ 2.9.6 (swc issue #12074): a class that carries *any* decorator (also
 *   `@schema`) must not hold a class expression in a static field; the transpiler applies the
 *   outer class's decorators to the inner class, and the outer binding ends up naming the inner
 *   class. The part may carry decorators; its master may not.
 * - legacy mode: TypeScript allows no decorators inside a class expression (TS1206). The master
 *   may carry decorators; the part may not.
 *
 * So a master and its class-expression parts declare themselves with
 * `static table = defineTable({...})` (or a `static definition`) when the code must compile in
 * both modes; standard-mode code may decorate the parts.
 *
 * @module
 */
import { DeclarationError } from "./errors.ts";
import type { TableClass } from "./table.ts";

/**
 * A raw SQL default such as `CURRENT_TIMESTAMP`, written into the definition unquoted. Built by
 * {@link sql}; recognised by shape (`kind: "sql"`), so two copies of this library agree.
 *
 * @example
 * ```ts
 * import { type SqlExpression, sql } from "./decorators.ts";
 * const now: SqlExpression = sql("CURRENT_TIMESTAMP");
 * console.log(now.text); // CURRENT_TIMESTAMP
 * ```
 */
export interface SqlExpression {
  /** Discriminant. */
  readonly kind: "sql";
  /** The SQL text, written verbatim after `=`. */
  readonly text: string;
}

/**
 * A default value: `null` makes the attribute nullable; numbers, bigints and booleans (as `1`/`0`)
 * are written as numbers; strings are single-quoted; {@link SqlExpression}s are written raw.
 *
 * @example
 * ```ts
 * import type { DefaultValue } from "./decorators.ts";
 * const defaults: DefaultValue[] = ["n/a", 0, 0n, true, null];
 * ```
 */
export type DefaultValue = string | number | bigint | boolean | null | SqlExpression;

/** Options of {@link key} and {@link attr}. *
 * @example
 * ```ts
 * import type { AttributeOptions } from "./decorators.ts";
 * const weight: AttributeOptions = { default: null, comment: "grams" };
 * ```
 */
export interface AttributeOptions {
  /** The default value; `null` makes the attribute nullable (not allowed in the primary key). */
  readonly default?: DefaultValue;
  /** The attribute's comment (one line). */
  readonly comment?: string;
}

/** Options of {@link ref}. *
 * @example
 * ```ts
 * import type { RefOptions } from "./decorators.ts";
 * const backup: RefOptions = { nullable: true, rename: { backup_rig: "rig" } };
 * ```
 */
export interface RefOptions {
  /** Put the foreign key above the divider (part of the primary key). Default false. */
  readonly primary?: boolean;
  /** `-> [nullable] Parent`: the foreign-key columns may be NULL (secondary only). */
  readonly nullable?: boolean;
  /** `-> [unique] Parent`: a unique index on the foreign-key columns. */
  readonly unique?: boolean;
  /** Renamed columns, new name → parent's name: renders as `Parent.proj(new_name='old_name')`. */
  readonly rename?: Readonly<Record<string, string>>;
}

/** One attribute line: `name [= default] : type [# comment]`. *
 * @example
 * ```ts
 * import type { AttributeItem } from "./decorators.ts";
 * const line: AttributeItem = { name: "latin", type: "varchar(64)", default: "", comment: "latin name" };
 * ```
 */
export interface AttributeItem {
  /** Attribute name, `[a-z][a-z0-9_]*`. */
  readonly name: string;
  /** Type exactly as in a definition: `int32`, `varchar(16)`, `<blob@main>`. */
  readonly type: string;
  /** Default value; absent means required. */
  readonly default?: DefaultValue;
  /** Comment. */
  readonly comment?: string;
}

/** One foreign-key line: `-> [options] Parent[.proj(...)]`. *
 * @example
 * ```ts
 * import type { RefItem } from "./decorators.ts";
 * import { Lookup } from "./table.ts";
 * class Rig extends Lookup {
 *   static override definition = "rig : varchar(16)";
 * }
 * const line: RefItem = { ref: () => Rig, nullable: true, rename: { backup_rig: "rig" } };
 * ```
 */
export interface RefItem {
  /**
   * A thunk returning the referenced class. A thunk, not the class, so that a table can refer to
   * a class declared further down or in a module that imports this one.
   */
  readonly ref: () => TableClass;
  /** `[nullable]`. */
  readonly nullable?: boolean;
  /** `[unique]`. */
  readonly unique?: boolean;
  /** New name → parent's name. */
  readonly rename?: Readonly<Record<string, string>>;
  /** The decorated field that declared it (a handle only, no column); for error messages. */
  readonly field?: string;
}

/** An attribute or a foreign key: the lines above or below the divider. *
 * @example
 * ```ts
 * import type { Item } from "./decorators.ts";
 * const isRef = (item: Item): boolean => "ref" in item;
 * ```
 */
export type Item = AttributeItem | RefItem;

/** One index line: `[unique] index(a, b)`. *
 * @example
 * ```ts
 * import type { IndexItem } from "./decorators.ts";
 * const byName: IndexItem = { columns: ["last_name", "first_name"], unique: true };
 * ```
 */
export interface IndexItem {
  /** Indexed attribute names, in order. */
  readonly columns: readonly string[];
  /** `unique index(...)`. */
  readonly unique?: boolean;
}

/**
 * Table metadata, as recorded by the decorators or built by {@link defineTable}: everything a
 * definition string can say, in definition order.
 *
 * @example
 * ```ts
 * import { key, type TableMetadata, tableMetadata } from "./decorators.ts";
 * import { Manual } from "./table.ts";
 * class Subject extends Manual {
 *   @key("int32") subject_id!: number;
 * }
 * const meta: TableMetadata | undefined = tableMetadata(Subject);
 * console.log(meta?.primary); // [{ name: "subject_id", type: "int32" }]
 * ```
 */
export interface TableMetadata {
  /** Table comment (first line `# ...`). */
  readonly comment?: string;
  /** Lines above the divider, in order. */
  readonly primary: readonly Item[];
  /** Lines below the divider, in order. */
  readonly secondary: readonly Item[];
  /** Index lines, in order. */
  readonly indexes: readonly IndexItem[];
}

/** An attribute written in a record: just its type, or its type with default and comment. *
 * @example
 * ```ts
 * import type { AttributeShorthand } from "./decorators.ts";
 * const short: AttributeShorthand = "int32";
 * const long: AttributeShorthand = { type: "varchar(64)", default: "", comment: "name" };
 * ```
 */
export type AttributeShorthand = string | {
  /** Type as in a definition. */
  readonly type: string;
  /** Default value. */
  readonly default?: DefaultValue;
  /** Comment. */
  readonly comment?: string;
};

/**
 * The lines of one side of the divider: an ordered list of attributes (`{name, type}`) and
 * foreign keys (`{ref}`), or, when there are no foreign keys, a record name → type (records keep
 * insertion order, and attribute names are never integer-like keys, so order is kept).
 *
 * @example
 * ```ts
 * import type { ItemsSpec } from "./decorators.ts";
 * const asRecord: ItemsSpec = { subject_id: "int32", name: { type: "varchar(64)", default: "" } };
 * const asList: ItemsSpec = [{ name: "subject_id", type: "int32" }];
 * ```
 */
export type ItemsSpec = readonly Item[] | Readonly<Record<string, AttributeShorthand>>;

/** The argument of {@link defineTable}. *
 * @example
 * ```ts
 * import { defineTable, type TableSpec } from "./decorators.ts";
 * const spec: TableSpec = { comment: "subjects", primary: { subject_id: "int32" } };
 * const meta = defineTable(spec);
 * ```
 */
export interface TableSpec {
  /** Table comment. */
  readonly comment?: string;
  /** Primary-key lines. */
  readonly primary?: ItemsSpec;
  /** Secondary lines. */
  readonly secondary?: ItemsSpec;
  /** Indexes: `{ columns, unique }`, or a list of column names for a plain index. */
  readonly indexes?: readonly (IndexItem | readonly string[])[];
}

/**
 * A field decorator that works in both decorator modes: the intersection of the standard (TC39)
 * signature and the legacy (`experimentalDecorators`) one lets TypeScript pick the signature the
 * user's project compiles with.
 *
 * @example
 * ```ts
 * import { key, type TableFieldDecorator } from "./decorators.ts";
 * const id: TableFieldDecorator = key("int32");
 * ```
 */
export type TableFieldDecorator =
  & (<This, Value>(value: undefined, context: ClassFieldDecoratorContext<This, Value>) => void)
  & ((target: object, propertyKey: string | symbol) => void);

/** A class decorator that works in both decorator modes (standard & legacy signatures). *
 * @example
 * ```ts
 * import { comment, type TableClassDecorator } from "./decorators.ts";
 * const described: TableClassDecorator = comment("experimental subject");
 * ```
 */
export type TableClassDecorator =
  & (<C extends abstract new (...args: never[]) => unknown>(
    value: C,
    context: ClassDecoratorContext<C>,
  ) => void)
  & ((target: abstract new (...args: never[]) => unknown) => void);

/**
 * Where decorators keep a class's own metadata: a key in `context.metadata` (standard) or a
 * property of the constructor (legacy). `Symbol.for`, not `Symbol()`, so that a class decorated
 * by one copy of this library (imported by a relative path) is read by another (imported by
 * URL). Not exported: the format is read through {@link ownTableMetadata}.
 */
const STORE: symbol = Symbol.for("@datajoint/deno.tableMetadata");
/** Marks the objects {@link defineTable} returns, so that `static table` is never guessed. */
const DEFINED: symbol = Symbol.for("@datajoint/deno.defineTable");
/** The static property {@link defineTable}'s result is attached under. */
const TABLE_PROPERTY = "table";

/** What one class declared itself; filled in place while its decorators run. */
interface Contribution {
  comment?: string;
  primary: Item[];
  secondary: Item[];
  indexes: IndexItem[];
}

/**
 * Build a raw SQL default, written into the definition without quotes.
 *
 * @example
 * ```ts
 * import { attr, sql } from "./decorators.ts";
 * import { Manual } from "./table.ts";
 * class Session extends Manual {
 *   @attr("datetime", { default: sql("CURRENT_TIMESTAMP") }) started!: string;
 * }
 * ```
 */
export function sql(text: string): SqlExpression {
  if (typeof text !== "string") {
    throw new DeclarationError(`sql() takes the SQL text as a string, got ${describe(text)}`);
  }
  return Object.freeze({ kind: "sql", text });
}

/**
 * Whether a value is a {@link SqlExpression} (by shape, so copies of the library agree).
 *
 * @example
 * ```ts
 * import { isSqlExpression, sql } from "./decorators.ts";
 * console.log(isSqlExpression(sql("CURRENT_TIMESTAMP")), isSqlExpression("x")); // true false
 * ```
 */
export function isSqlExpression(value: unknown): value is SqlExpression {
  return typeof value === "object" && value !== null &&
    (value as { kind?: unknown }).kind === "sql" &&
    typeof (value as { text?: unknown }).text === "string";
}

/**
 * A primary-key attribute named after the field.
 *
 * @example
 * ```ts
 * import { key } from "./decorators.ts";
 * import { Manual } from "./table.ts";
 * class Subject extends Manual {
 *   @key("varchar(16)", { comment: "lab code" }) subject_id!: string;
 * }
 * ```
 */
export function key(type: string, options: AttributeOptions = {}): TableFieldDecorator {
  return fieldDecorator(
    "key",
    (field) => ({ primary: true, item: attributeItem(field, type, options) }),
  );
}

/**
 * A secondary attribute named after the field.
 *
 * @example
 * ```ts
 * import { attr } from "./decorators.ts";
 * import { Manual } from "./table.ts";
 * class Subject extends Manual {
 *   @attr("date", { default: null, comment: "date of birth" }) dob!: string | null;
 *   @attr("varchar(8)", { default: "n/a" }) code!: string;
 * }
 * ```
 */
export function attr(type: string, options: AttributeOptions = {}): TableFieldDecorator {
  return fieldDecorator(
    "attr",
    (field) => ({ primary: false, item: attributeItem(field, type, options) }),
  );
}

/**
 * A foreign key to another table. The field is only a handle (no column of that name): the
 * columns are the parent's primary key, renamed by `rename`. `target` is a thunk so that the
 * parent may be declared later or in a module with a cyclic import.
 *
 * @example
 * ```ts
 * import { key, ref } from "./decorators.ts";
 * import { Manual } from "./table.ts";
 * class Subject extends Manual {
 *   @key("int32") subject_id!: number;
 * }
 * class Session extends Manual {
 *   @ref(() => Subject, { primary: true }) subject!: unknown;
 *   @key("int16") session_id!: number;
 *   @ref(() => Subject, { nullable: true, rename: { mother_id: "subject_id" } }) mother!: unknown;
 * }
 * ```
 */
export function ref(target: () => TableClass, options: RefOptions = {}): TableFieldDecorator {
  return fieldDecorator("ref", (field) => {
    const item: RefItem = {
      ref: target,
      field,
      ...(options.nullable !== undefined ? { nullable: options.nullable } : {}),
      ...(options.unique !== undefined ? { unique: options.unique } : {}),
      ...(options.rename !== undefined ? { rename: { ...options.rename } } : {}),
    };
    return { primary: options.primary === true, item };
  });
}

/**
 * The table comment, the first line `# ...` of the definition. At most one per class; a subclass
 * without its own comment keeps its parent's.
 *
 * @example
 * ```ts
 * import { comment, key } from "./decorators.ts";
 * import { Lookup } from "./table.ts";
 * @comment("species lookup")
 * class Species extends Lookup {
 *   @key("varchar(32)") species!: string;
 * }
 * ```
 */
export function comment(text: string): TableClassDecorator {
  return classDecorator("comment", (own, className) => {
    if (own.comment !== undefined) {
      throw new DeclarationError(
        `${className} has two @comment decorators; keep one table comment`,
      );
    }
    own.comment = text;
  });
}

/**
 * A secondary index `index(a, b)` on attributes of the table. Several index decorators on one
 * class come out in the order they are written.
 *
 * @example
 * ```ts
 * import { attr, index, key } from "./decorators.ts";
 * import { Manual } from "./table.ts";
 * @index("last_name", "first_name")
 * class Person extends Manual {
 *   @key("int32") person_id!: number;
 *   @attr("varchar(64)") last_name!: string;
 *   @attr("varchar(64)") first_name!: string;
 * }
 * ```
 */
export function index(...columns: string[]): TableClassDecorator {
  return indexDecorator("index", columns, false);
}

/**
 * A unique index `unique index(a, b)` on attributes of the table.
 *
 * @example
 * ```ts
 * import { attr, key, uniqueIndex } from "./decorators.ts";
 * import { Manual } from "./table.ts";
 * @uniqueIndex("email")
 * class User extends Manual {
 *   @key("int32") user_id!: number;
 *   @attr("varchar(255)") email!: string;
 * }
 * ```
 */
export function uniqueIndex(...columns: string[]): TableClassDecorator {
  return indexDecorator("uniqueIndex", columns, true);
}

/**
 * The plain-data twin of the decorators: the same {@link TableMetadata}, written as data.
 * Attach it to a class as `static table = defineTable({...})`; the reflector reads it from there.
 * Primary and secondary lines are ordered lists in which attributes and foreign keys interleave,
 * or records name → type when there are no foreign keys. Deep checks (names, types, references)
 * happen when the definition is reflected, where the thunks can be called.
 *
 * @example
 * ```ts
 * import { defineTable, sql } from "./decorators.ts";
 * import { Lookup, Manual } from "./table.ts";
 *
 * class Species extends Lookup {
 *   static table = defineTable({
 *     comment: "species lookup",
 *     primary: { species: { type: "varchar(32)", comment: "species name" } },
 *     secondary: { latin: { type: "varchar(64)", default: "" } },
 *   });
 * }
 * class Session extends Manual {
 *   static table = defineTable({
 *     primary: [{ ref: () => Species }, { name: "session_idx", type: "int32" }],
 *     secondary: [
 *       { name: "started", type: "datetime", default: sql("CURRENT_TIMESTAMP") },
 *       { ref: () => Species, nullable: true, rename: { other_species: "species" } },
 *     ],
 *     indexes: [["started"], { columns: ["other_species"], unique: true }],
 *   });
 * }
 * ```
 */
export function defineTable(spec: TableSpec): TableMetadata {
  if (typeof spec !== "object" || spec === null) {
    throw new DeclarationError(`defineTable() takes an object, got ${describe(spec)}`);
  }
  const meta: TableMetadata = {
    ...(spec.comment !== undefined ? { comment: spec.comment } : {}),
    primary: Object.freeze(normalizeItems(spec.primary, "primary").map((i) => Object.freeze(i))),
    secondary: Object.freeze(
      normalizeItems(spec.secondary, "secondary").map((i) => Object.freeze(i)),
    ),
    indexes: Object.freeze((spec.indexes ?? []).map((ix, i) => normalizeIndex(ix, i))),
  };
  Object.defineProperty(meta, DEFINED, { value: true });
  return Object.freeze(meta);
}

/**
 * The metadata a class declares itself (not what it inherits): from its decorators (either
 * mode) or its own `static table = defineTable(...)`; `undefined` when it declares nothing this
 * way. Declaring one class both ways is a {@link DeclarationError}.
 *
 * @example
 * ```ts
 * import { key, ownTableMetadata } from "./decorators.ts";
 * import { Manual } from "./table.ts";
 * class Subject extends Manual {
 *   @key("int32") subject_id!: number;
 * }
 * console.log(ownTableMetadata(Subject)?.primary.length); // 1
 * ```
 */
export function ownTableMetadata(cls: TableClass): TableMetadata | undefined {
  const found: TableMetadata[] = [];
  // Standard decorators: the class's own metadata object, and its own entry in it (the metadata
  // object inherits from the parent's, so a plain lookup would find the parent's entry).
  if (Object.hasOwn(cls, Symbol.metadata)) {
    const md = (cls as { [Symbol.metadata]?: DecoratorMetadataObject | null })[Symbol.metadata];
    if (md && Object.hasOwn(md, STORE)) found.push(md[STORE] as Contribution);
  }
  // Legacy decorators.
  if (Object.hasOwn(cls, STORE)) {
    found.push((cls as unknown as Record<symbol, Contribution>)[STORE]);
  }
  // defineTable() attached as a static property.
  if (Object.hasOwn(cls, TABLE_PROPERTY)) {
    const value = (cls as unknown as Record<string, unknown>)[TABLE_PROPERTY];
    if (typeof value === "object" && value !== null && Object.hasOwn(value, DEFINED)) {
      found.push(value as TableMetadata);
    } else if (
      typeof value === "object" && value !== null && ("primary" in value || "secondary" in value)
    ) {
      throw new DeclarationError(
        `${cls.name}.table looks like a table spec but was not built by defineTable(); ` +
          `write static table = defineTable({...})`,
      );
    }
  }
  if (found.length > 1) {
    throw new DeclarationError(
      `${cls.name} is declared both with decorators and with static table = defineTable(...); ` +
        `use one of them`,
    );
  }
  return found[0];
}

/**
 * The metadata of a class including what it inherits: its ancestors' attributes first, then its
 * own; the most derived comment. Inheritance stops at the nearest ancestor with its own
 * `static definition` string. `undefined` when neither the class nor an ancestor declares
 * metadata. Parents are never modified.
 *
 * @example
 * ```ts
 * import { attr, key, tableMetadata } from "./decorators.ts";
 * import { Manual } from "./table.ts";
 * class Base extends Manual {
 *   @key("int32") item_id!: number;
 * }
 * class Extended extends Base {
 *   @attr("float64") value!: number;
 * }
 * const meta = tableMetadata(Extended)!;
 * console.log(meta.primary.length, meta.secondary.length); // 1 1
 * ```
 */
export function tableMetadata(cls: TableClass): TableMetadata | undefined {
  const chain: TableMetadata[] = [];
  for (let c: unknown = cls; typeof c === "function"; c = Object.getPrototypeOf(c)) {
    // An ancestor written as a definition string ends the inheritance of metadata: text cannot
    // be merged with metadata, and what lies above it is not part of this table.
    if (c !== cls && hasOwnDefinition(c)) break;
    const own = ownTableMetadata(c as TableClass);
    if (own) chain.unshift(own);
  }
  if (chain.length === 0) return undefined;
  const comment = chain.findLast((m) => m.comment !== undefined)?.comment;
  return {
    ...(comment !== undefined ? { comment } : {}),
    primary: chain.flatMap((m) => m.primary),
    secondary: chain.flatMap((m) => m.secondary),
    indexes: chain.flatMap((m) => m.indexes),
  };
}

// ---------------------------------------------------------------------------------------------
// Internals

/** Whether a class has its own `static definition` string (`Table` declares an own undefined). */
function hasOwnDefinition(cls: object): boolean {
  return Object.hasOwn(cls, "definition") &&
    typeof (cls as { definition?: unknown }).definition === "string";
}

/** A standard decorator context, as far as these decorators need it. */
interface StdContext {
  kind: string;
  name?: string | symbol;
  static?: boolean;
  private?: boolean;
  metadata?: DecoratorMetadataObject;
}

/** The call-time test that tells the two decorator modes apart. */
function isStdContext(ctx: unknown): ctx is StdContext {
  return typeof ctx === "object" && ctx !== null && "kind" in ctx;
}

/** A class's own contribution in standard mode, created on first write. */
function stdContribution(
  metadata: DecoratorMetadataObject | undefined,
  what: string,
): Contribution {
  if (typeof metadata !== "object" || metadata === null) {
    throw new DeclarationError(
      `@${what}: this runtime gives decorators no context.metadata (Symbol.metadata); ` +
        `use Deno 2 or later, or declare the table with static table = defineTable({...})`,
    );
  }
  if (!Object.hasOwn(metadata, STORE)) {
    // Own entry, never the parent's (which the metadata object inherits): copy-on-write.
    metadata[STORE] = { primary: [], secondary: [], indexes: [] } satisfies Contribution;
  }
  return metadata[STORE] as Contribution;
}

/** A class's own contribution in legacy mode, created on first write. */
function legacyContribution(ctor: object): Contribution {
  if (!Object.hasOwn(ctor, STORE)) {
    Object.defineProperty(ctor, STORE, {
      value: { primary: [], secondary: [], indexes: [] } satisfies Contribution,
      enumerable: false,
      configurable: true,
    });
  }
  return (ctor as Record<symbol, Contribution>)[STORE];
}

/** The shared body of `key`, `attr` and `ref`: find the field's name and class, record a line. */
function fieldDecorator(
  what: string,
  make: (field: string) => { primary: boolean; item: Item },
): TableFieldDecorator {
  function decorate(target: unknown, ctx: unknown, descriptor?: unknown): void {
    if (isStdContext(ctx)) {
      if (ctx.kind !== "field") {
        throw new DeclarationError(`@${what} decorates a class field, not a ${ctx.kind}`);
      }
      if (ctx.static || ctx.private || typeof ctx.name !== "string") {
        throw new DeclarationError(
          `@${what} on ${String(ctx.name)}: decorate a public instance field (not static, ` +
            `private or symbol-named); its name is the attribute name`,
        );
      }
      const { primary, item } = make(ctx.name);
      Object.freeze(item);
      const own = stdContribution(ctx.metadata, what);
      (primary ? own.primary : own.secondary).push(item);
      return;
    }
    // Legacy: (prototype, name) for an instance field; (constructor, name) for a static one;
    // a third argument (a descriptor) for methods and accessors.
    if (typeof target === "function" || descriptor !== undefined) {
      throw new DeclarationError(
        `@${what} on ${String(ctx)}: decorate a public instance field (not static, a method or ` +
          `an accessor); its name is the attribute name`,
      );
    }
    if (typeof target !== "object" || target === null || typeof ctx !== "string") {
      throw new DeclarationError(`@${what} must be used as a field decorator`);
    }
    const { primary, item } = make(ctx);
    Object.freeze(item);
    const own = legacyContribution((target as { constructor: object }).constructor);
    (primary ? own.primary : own.secondary).push(item);
  }
  return decorate as TableFieldDecorator;
}

/** The shared body of the class decorators: find the class, update its own contribution. */
function classDecorator(
  what: string,
  apply: (own: Contribution, className: string) => void,
): TableClassDecorator {
  function decorate(target: unknown, ctx?: unknown): void {
    if (isStdContext(ctx)) {
      if (ctx.kind !== "class") {
        throw new DeclarationError(`@${what} decorates a class, not a ${ctx.kind}`);
      }
      apply(stdContribution(ctx.metadata, what), String(ctx.name ?? "(anonymous class)"));
      return;
    }
    if (typeof target !== "function" || ctx !== undefined) {
      throw new DeclarationError(`@${what} decorates a class, not a member`);
    }
    apply(legacyContribution(target), target.name);
  }
  return decorate as TableClassDecorator;
}

/** `index` and `uniqueIndex`. */
function indexDecorator(what: string, columns: string[], unique: boolean): TableClassDecorator {
  const item: IndexItem = { columns: [...columns], ...(unique ? { unique } : {}) };
  // Class decorators are applied bottom-up in both modes; prepending restores written order.
  return classDecorator(what, (own) => void own.indexes.unshift(item));
}

/** An attribute line from a decorator's arguments. */
function attributeItem(name: string, type: string, options: AttributeOptions): AttributeItem {
  return {
    name,
    type,
    ...(options.default !== undefined ? { default: options.default } : {}),
    ...(options.comment !== undefined ? { comment: options.comment } : {}),
  };
}

/** `defineTable`'s primary/secondary: array or record → ordered items. */
function normalizeItems(spec: ItemsSpec | undefined, side: string): Item[] {
  if (spec === undefined) return [];
  if (Array.isArray(spec)) {
    return spec.map((item: unknown, i) => {
      if (typeof item === "object" && item !== null && "ref" in item) {
        const r = item as RefItem;
        return { ...r, ...(r.rename !== undefined ? { rename: { ...r.rename } } : {}) };
      }
      if (typeof item === "object" && item !== null && "name" in item && "type" in item) {
        return { ...(item as AttributeItem) };
      }
      throw new DeclarationError(
        `defineTable: ${side}[${i}] is ${describe(item)}; write an attribute { name, type, ` +
          `default?, comment? } or a foreign key { ref: () => Parent, nullable?, unique?, rename? }`,
      );
    });
  }
  if (typeof spec !== "object" || spec === null) {
    throw new DeclarationError(
      `defineTable: ${side} is ${describe(spec)}; write a list of lines or a record name → type`,
    );
  }
  return Object.entries(spec as Record<string, AttributeShorthand>).map(([name, value]) => {
    if (typeof value === "string") return { name, type: value };
    if (typeof value === "object" && value !== null && "type" in value) {
      return attributeItem(name, value.type, value);
    }
    throw new DeclarationError(
      `defineTable: ${side}.${name} is ${describe(value)}; write a type string or ` +
        `{ type, default?, comment? }`,
    );
  });
}

/** `defineTable`'s indexes: a list of names is a plain index. */
function normalizeIndex(spec: IndexItem | readonly string[], i: number): IndexItem {
  // Array.isArray does not narrow readonly arrays, hence the casts.
  if (Array.isArray(spec)) return { columns: [...(spec as readonly string[])] };
  const item = spec as IndexItem;
  if (typeof item === "object" && item !== null && Array.isArray(item.columns)) {
    return { columns: [...item.columns], ...(item.unique ? { unique: true } : {}) };
  }
  throw new DeclarationError(
    `defineTable: indexes[${i}] is ${describe(spec)}; write ["a", "b"] or ` +
      `{ columns: ["a", "b"], unique: true }`,
  );
}

/** A short description of a bad value for error messages. */
function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "bigint") return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
