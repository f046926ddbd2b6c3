/**
 * Schemas: a MySQL database or PostgreSQL schema that holds a pipeline's tables. `schema(name)`
 * returns a class decorator; decorated classes are declared on first use (or all at once with
 * `await schema.declare()`), parents first, parts after their master, each exactly as DataJoint
 * Python declares it: the same DDL, the same column comments, the same `~lineage` rows.
 *
 * @example
 * ```ts
 * import { schema } from "./schema.ts";
 * import { Manual } from "./table.ts";
 *
 * const lab = schema("lab");   // connection from datajoint.json / DJ_* / the embedded default
 *
 * @lab
 * class Subject extends Manual {
 *   static override definition = "subject_id : int32\n---\nname : varchar(64)";
 * }
 * await Subject.declare();
 * console.log(Subject.tableName, (await Subject.heading()).primaryKey); // subject [ "subject_id" ]
 * ```
 *
 * @module
 */
import { bind, bindingOf, type DropOptions, type TableBinding } from "./binding.ts";
import { Connection } from "./connection.ts";
import { compileTable, type ParentAttribute, type ParentTable } from "./declare.ts";
import { declarationRefusal } from "./declare_errors.ts";
import { parseDefinition } from "./definition.ts";
import { describeHeading } from "./describe.ts";
import { dropOrder, dropTableQuick } from "./delete.ts";
import { DataJointError, DeclarationError } from "./errors.ts";
import type { Heading } from "./heading.ts";
import { insertRows } from "./insert.ts";
import { masterOfTableName, tableName, tierOfTableName, toCamelCase } from "./naming.ts";
import { reflectDefinition } from "./reflector.ts";
import { Computed, Imported, Lookup, Manual, Part, type Table, type TableClass } from "./table.ts";
import { ensureCodecs } from "../codecs/plugins.ts";
import { getCodec } from "../codecs/registry.ts";
import "../codecs/builtins.ts";

/** Options of {@link schema}. */
export interface SchemaOptions {
  /** The connection (or a promise of one); default: the shared connection from the config. */
  connection?: Connection | Promise<Connection>;
  /** Create the schema when it does not exist (default `true`). */
  create?: boolean;
  /** Declare missing tables (default: `database.createTables` of the config). */
  createTables?: boolean;
  /**
   * Names that definitions may refer to besides the schema's own classes: table classes, other
   * schemas (`-> lab.Subject`) or virtual schemas.
   */
  context?: Record<string, unknown>;
}

let shared: Promise<Connection> | undefined;

/**
 * The shared connection, opened on first use from `datajoint.json`, `DJ_*` variables or the
 * embedded default.
 *
 * @example
 * ```ts
 * import { conn } from "./schema.ts";
 * const c = await conn();
 * console.log(c.backend);
 * ```
 */
export function conn(): Promise<Connection> {
  shared ??= Connection.open().catch((e) => {
    shared = undefined;
    throw e;
  });
  return shared;
}

/**
 * Closes the shared connection (if it was opened).
 *
 * @example
 * ```ts
 * import { closeConnection } from "./schema.ts";
 * await closeConnection();
 * ```
 */
export async function closeConnection(): Promise<void> {
  const c = shared;
  shared = undefined;
  if (c) await (await c).close();
}

interface ClassState {
  readonly cls: TableClass;
  readonly table: string;
  readonly master?: TableClass;
  declared?: Promise<void>;
}

/**
 * A schema and the table classes decorated with it.
 *
 * @example
 * ```ts
 * import { Schema } from "./schema.ts";
 * const s = new Schema("lab");
 * console.log(s.name); // lab
 * ```
 */
export class Schema {
  /** The schema (database) name. */
  readonly name: string;
  readonly #options: SchemaOptions;
  readonly #classes: ClassState[] = [];
  #activated?: Promise<Connection>;

  /** A schema handle; nothing happens on the server until it is used. */
  constructor(name: string, options: SchemaOptions = {}) {
    if (typeof name !== "string" || !/^[A-Za-z0-9_$][A-Za-z0-9_$-]*$/.test(name)) {
      throw new DataJointError(
        `Schema name ${JSON.stringify(name)} is not valid: use letters, digits, _ and $`,
      );
    }
    this.name = name;
    this.#options = options;
  }

  /** The schema's connection (the shared one unless given). */
  connection(): Promise<Connection> {
    return Promise.resolve(this.#options.connection ?? conn());
  }

  /** Creates the schema when missing (unless `create: false`) and returns the connection. */
  activate(): Promise<Connection> {
    this.#activated ??= (async () => {
      const c = await this.connection();
      if (!(await c.schemaExists(this.name))) {
        if (this.#options.create === false) {
          // The embedded database is per project folder: a script run from elsewhere opens (or
          // makes) another one, so say which.
          const where = c.config.database.backend === "pglite"
            ? ` in the embedded database at ${c.config.database.path}` +
              " (the project root is found from the working directory: run from the project's folder)"
            : "";
          throw new DataJointError(
            `Schema \`${this.name}\` does not exist${where}; create it or pass { create: true }`,
          );
        }
        await c.execute(c.kit.dialect.createSchema(this.name));
      }
      return c;
    })().catch((e) => {
      this.#activated = undefined;
      throw e;
    });
    return this.#activated;
  }

  /**
   * Registers a table class (what the decorator does). Works as a standard decorator and as an
   * `experimentalDecorators` one. Parts held as static properties are registered with it.
   *
   * @example
   * ```ts
   * import { Schema } from "./schema.ts";
   * import { Manual } from "./table.ts";
   * const s = new Schema("lab");
   * class Rig extends Manual {
   *   static override definition = "rig : varchar(16)";
   * }
   * s.register(Rig);
   * ```
   */
  register<T extends TableClass>(cls: T, _context?: unknown): T {
    if (typeof cls !== "function" || !isTableClass(cls)) {
      throw new DataJointError(
        `@schema decorates table classes (extending Manual, Lookup, Imported, Computed or Part), got ${
          (cls as { name?: string })?.name ?? typeof cls
        }`,
      );
    }
    const tier = (cls as unknown as typeof Table).tier;
    if (tier === "Part") {
      throw new DeclarationError(
        `Part table ${cls.name} cannot be decorated on its own: hold it as a static property of its master class`,
      );
    }
    const state = this.#bindClass(cls, tableName(tier, cls.name));
    // A standard class decorator runs before the static fields exist: look for parts once they
    // do. Declaration looks again, so parts attached later are found too.
    const ctx = _context as { kind?: string; addInitializer?: (f: () => void) => void } | undefined;
    if (ctx?.kind === "class" && typeof ctx.addInitializer === "function") {
      ctx.addInitializer(() => this.#discoverParts(state));
    } else {
      this.#discoverParts(state);
    }
    return cls;
  }

  #bindClass(cls: TableClass, table: string, master?: TableClass): ClassState {
    if (bindingOf(cls) !== undefined) {
      throw new DataJointError(`Table class ${cls.name} is already bound to a schema`);
    }
    const state: ClassState = { cls, table, master };
    this.#classes.push(state);
    bind(cls, this.#binding(state));
    return state;
  }

  /** Binds the Part classes held as static properties of a master. */
  #discoverParts(state: ClassState): void {
    if (state.master) return;
    for (const [key, value] of Object.entries(Object.getOwnPropertyDescriptors(state.cls))) {
      const part = value.value;
      if (
        typeof part === "function" && part.prototype instanceof Part &&
        bindingOf(part) === undefined
      ) {
        this.#bindClass(part, tableName("Part", part.name || key, state.table), state.cls);
      }
    }
  }

  #binding(state: ClassState): TableBinding {
    return {
      schemaName: this.name,
      tableName: state.table,
      master: state.master,
      declare: () => this.#declareWithParts(state),
      declareTable: () => this.#declare(state),
      connection: () => this.connection(),
      heading: async () => {
        await this.#declare(state);
        return (await this.connection()).heading(this.name, state.table);
      },
      describe: async () => {
        await this.#declare(state);
        const c = await this.connection();
        return describeHeading(
          await c.heading(this.name, state.table),
          (s, t) => this.#refName(s, t),
        );
      },
      dropTables: async (tables) => {
        const c = await this.connection();
        for (const t of tables) await dropTableQuick(c, t.schema, t.table);
        for (const s of this.#classes) s.declared = undefined;
      },
    };
  }

  /** How `describe()` names a parent: its class name here, `schema.Class` elsewhere. */
  #refName(schema: string, table: string): string {
    const own = this.#classes.find((s) => s.table === table);
    if (schema === this.name) {
      if (own?.master) return `${own.master.name}.${own.cls.name}`;
      return own?.cls.name ?? classNameOf(table);
    }
    return `${schema}.${classNameOf(table)}`;
  }

  /** The classes registered here, in registration order (parts after their master). */
  get classes(): TableClass[] {
    return this.#classes.map((s) => s.cls);
  }

  /**
   * Declares every registered class that is not declared yet, in registration order.
   *
   * @example
   * ```ts
   * import { schema } from "./schema.ts";
   * const lab = schema("lab");
   * await lab.declare();
   * ```
   */
  async declare(): Promise<void> {
    for (const s of [...this.#classes]) this.#discoverParts(s);
    for (const s of [...this.#classes]) await this.#declareWithParts(s);
  }

  /** The tables of the schema, hidden ones excluded, parents before children. */
  async listTables(): Promise<string[]> {
    const c = await this.activate();
    c.invalidate(this.name);
    return dependencyOrder(await c.catalog(this.name));
  }

  #declare(state: ClassState): Promise<void> {
    state.declared ??= this.#doDeclare(state).catch((e) => {
      state.declared = undefined;
      throw e;
    });
    return state.declared;
  }

  async #doDeclare(state: ClassState): Promise<void> {
    if (state.master) await this.#declare(this.#stateOf(state.master)!);
    const c = await this.activate();
    const catalog = await c.catalog(this.name);
    const existing = catalog.tables.get(state.table);
    if (existing !== undefined) {
      warnIfRedefined(this.name, state, existing.columns.map((col) => col.name));
      return this.#fillContents(state, c);
    }
    if ((this.#options.createTables ?? c.config.database.createTables) === false) {
      throw new DataJointError(
        `Table \`${this.name}\`.\`${state.table}\` does not exist and creating tables is off (createTables)`,
      );
    }
    if (c.inTransaction) {
      throw new DataJointError(
        "Cannot declare new tables inside a transaction, e.g. from inside a populate/make call",
      );
    }
    const { definition, context, origin } = reflectDefinition(state.cls);
    const parsed = parseDefinition(definition, { origin });
    const parents = new Map<string, ParentTable>();
    for (const line of parsed.lines) {
      if (line.kind !== "foreignKey" || parents.has(line.ref)) continue;
      parents.set(line.ref, await this.#parentTable(line.ref, state, context, c));
    }
    // Plugin codecs named in the definition are imported now, before the pure compiler runs.
    await ensureCodecs(
      parsed.lines.flatMap((l) => (l.kind === "attribute" ? [l.type] : [])),
      { projectRoot: c.config.projectRoot },
    );
    const tier = (state.cls as unknown as typeof Table).tier;
    const d = c.kit.dialect;
    const compiled = compileTable(parsed, {
      schema: this.name,
      className: state.cls.name,
      tier,
      masterTable: state.master ? this.#stateOf(state.master)!.table : undefined,
      dialect: c.kit.dialect,
      lookupCodec: getCodec,
      resolveParent: (ref) => parents.get(ref)!,
      addJobMetadata: c.config.jobs.addJobMetadata && tier !== "Part",
      allowNewPkFieldsInComputedTables: c.config.jobs.allowNewPkFieldsInComputedTables,
      takenNames: await this.#takenNames(c),
    });
    if (compiled.plan.table !== state.table) {
      throw new DataJointError(`Internal: table name ${compiled.plan.table} ≠ ${state.table}`);
    }
    for (const w of compiled.warnings) {
      if (c.config.loglevel !== "ERROR" && c.config.loglevel !== "CRITICAL") console.warn(w);
    }
    const full = `${d.quote(this.name)}.${d.quote(state.table)}`;
    const run = async () => {
      for (const e of compiled.enumTypes) await this.#ensureEnumType(c, e);
      await c.execute(compiled.statements.create);
      for (const s of compiled.statements.post) await c.execute(s);
      await this.#writeLineage(c, state.table, compiled.lineage);
    };
    const target = {
      table: full,
      className: state.cls.name,
      backend: d.name === "mysql" ? "MySQL" : "PostgreSQL",
    };
    if (c.kit.transactionalDdl) {
      await c.transaction(run).catch((e) => {
        throw declarationRefusal(e, target, parsed);
      });
    } else {
      try {
        await run();
      } catch (e) {
        // MySQL commits DDL at once: undo a half-finished declaration by hand.
        await c.execute(`DROP TABLE IF EXISTS ${full}`).catch(() => {});
        throw declarationRefusal(e, target, parsed);
      }
    }
    c.invalidate(this.name);
    await this.#fillContents(state, c);
  }

  /**
   * Inserts a Lookup's declared `contents` (rows that exist are skipped), as DataJoint does when
   * the table has fewer rows than its contents.
   */
  async #fillContents(state: ClassState, c: Connection): Promise<void> {
    const cls = state.cls as unknown as { tier: string; contents?: unknown };
    if (cls.tier !== "Lookup" || cls.contents === undefined) return;
    if (!Array.isArray(cls.contents)) {
      throw new DeclarationError(
        `${state.cls.name}.contents must be an array of row objects`,
      );
    }
    const d = c.kit.dialect;
    const [row] = await c.query<{ n: number | string | bigint }>(
      `SELECT count(*) AS n FROM ${d.quote(this.name)}.${d.quote(state.table)}`,
    );
    if (Number(row.n) >= cls.contents.length) return;
    const heading = await c.heading(this.name, state.table);
    if (heading.attributes.some((a) => a.autoIncrement)) {
      console.warn(`Lookup ${state.cls.name} has an auto_increment key: contents not inserted`);
      return;
    }
    await insertRows(c, heading, cls.contents as Record<string, unknown>[], {
      skipDuplicates: true,
    });
  }

  /** Declares a table, then its parts (a part's own declaration waits only for the master). */
  async #declareWithParts(state: ClassState): Promise<void> {
    await this.#declare(state);
    this.#discoverParts(state);
    for (const s of [...this.#classes]) if (s.master === state.cls) await this.#declare(s);
  }

  #stateOf(cls: TableClass): ClassState | undefined {
    return this.#classes.find((s) => s.cls === cls);
  }

  /** PostgreSQL: the relation names of the schema, which new index names must avoid. */
  async #takenNames(c: Connection): Promise<string[] | undefined> {
    if (c.kit.dialect.name !== "postgresql") return undefined;
    const rows = await c.query<{ relname: string }>(
      "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n " +
        `ON n.oid = c.relnamespace WHERE n.nspname = ${c.placeholder(1)}`,
      [this.name],
    );
    return rows.map((r) => r.relname);
  }

  async #ensureEnumType(
    c: Connection,
    e: { schema: string; name: string; labels: string[] },
  ): Promise<void> {
    const rows = await c.query<{ label: string }>(c.kit.enumLabelsSql!, [e.schema, e.name]);
    if (rows.length === 0) {
      await c.execute(c.kit.dialect.createEnumType(e));
      return;
    }
    const existing = rows.map((r) => r.label);
    if (existing.join("\0") !== e.labels.join("\0")) {
      throw new DeclarationError(
        `Enum type ${e.schema}.${e.name} already exists with labels (${
          existing.map((l) => `'${l}'`).join(", ")
        }), which differ in order from (${
          e.labels.map((l) => `'${l}'`).join(", ")
        }); PostgreSQL shares one enum type per label set in a schema, so declare the labels in the existing order`,
      );
    }
  }

  async #writeLineage(c: Connection, table: string, rows: [string, string][]): Promise<void> {
    const d = c.kit.dialect;
    await c.execute(d.createLineageTable(this.name));
    const lineage = `${d.quote(this.name)}.${d.quote("~lineage")}`;
    await c.execute(`DELETE FROM ${lineage} WHERE table_name = ${c.placeholder(1)}`, [table]);
    if (rows.length === 0) return;
    await c.execute(
      d.upsertLineage(this.name, rows.length, (n) => c.placeholder(n)),
      rows.flatMap(([attr, l]) => [table, attr, l]),
    );
  }

  async #parentTable(
    ref: string,
    state: ClassState,
    context: Readonly<Record<string, unknown>>,
    c: Connection,
  ): Promise<ParentTable> {
    const target = this.#resolve(ref, state, context);
    let schemaName: string;
    let table: string;
    if (typeof target === "function" && bindingOf(target)) {
      const b = bindingOf(target)!;
      await b.declareTable();
      schemaName = b.schemaName;
      table = b.tableName;
    } else {
      throw new DeclarationError(
        `Foreign key reference ${ref} could not be resolved in ${state.cls.name}: ` +
          `decorate the parent with a schema, or name it in schema(…, { context })`,
      );
    }
    const heading = await c.heading(schemaName, table);
    return parentFromHeading(heading, c);
  }

  #resolve(ref: string, state: ClassState, context: Readonly<Record<string, unknown>>): unknown {
    const [head, ...rest] = ref.split(".");
    let target: unknown;
    if (head === "master" && state.master) target = state.master;
    else if (Object.hasOwn(context, head)) target = context[head];
    else if (this.#options.context && Object.hasOwn(this.#options.context, head)) {
      target = this.#options.context[head];
    } else {
      target = this.#classes.find((s) => s.cls.name === head && !s.master)?.cls;
    }
    for (const name of rest) {
      if (target instanceof Schema) {
        // Through the public getter: `target` may be the decorator proxy of a schema.
        target = target.classes.find((k) => k.name === name && !bindingOf(k)?.master);
      } else if (target !== null && (typeof target === "object" || typeof target === "function")) {
        target = (target as Record<string, unknown>)[name];
      } else {
        target = undefined;
      }
    }
    return target;
  }

  /**
   * Drops the whole schema. Refuses when tables of other schemas depend on it, unless `cascade`.
   *
   * @example
   * ```ts
   * import { schema } from "./schema.ts";
   * await schema("scratch").drop();
   * ```
   */
  async drop(options: DropOptions = {}): Promise<void> {
    const c = await this.connection();
    if (!(await c.schemaExists(this.name))) return;
    const outside = (await c.kit.catalog.referencingTables(c.driver, this.name))
      .filter((r) => r.schema !== this.name);
    if (outside.length > 0) {
      if (!options.cascade) {
        throw new DataJointError(
          `Cannot drop schema \`${this.name}\`: ${
            [...new Set(outside.map((r) => `\`${r.schema}\`.\`${r.table}\``))].join(", ")
          } depend on it. Drop those first, or pass { cascade: true }`,
        );
      }
      for (const t of await dropOrder(c, outside)) await dropTableQuick(c, t.schema, t.table);
    }
    await c.execute(c.kit.dialect.dropSchema(this.name));
    c.invalidate();
    this.#activated = undefined;
    for (const s of this.#classes) s.declared = undefined;
  }

  // ── Hidden tables under an explicit name (the jobs tables `~~<name>` of lib/jobs.ts) ────────

  /**
   * Declares a table under an explicit name that no class name produces (the jobs table
   * `~~analysis`), from definition text without foreign keys, exactly as classes are declared:
   * the same DDL, PostgreSQL enum types created when missing, `~lineage` rows for its primary-key
   * attributes. Does nothing when the table exists.
   *
   * @example
   * ```ts
   * import { Schema } from "./schema.ts";
   * await new Schema("lab").declareNamed("~~scratch", "id : int32\n---\nnote = '' : varchar(64)");
   * ```
   */
  async declareNamed(table: string, definition: string): Promise<void> {
    const c = await this.activate();
    if ((await c.catalog(this.name)).tables.has(table)) return;
    if (c.inTransaction) {
      throw new DataJointError(
        `Cannot declare ${table} inside a transaction: access it once before the transaction`,
      );
    }
    const d = c.kit.dialect;
    if (table.length > d.maxTableName) {
      throw new DeclarationError(
        `Table name \`${table}\` exceeds the max length of ${d.maxTableName}`,
      );
    }
    const parsed = parseDefinition(definition);
    if (parsed.lines.some((l) => l.kind === "foreignKey")) {
      throw new DeclarationError(`${table}: a table declared by name cannot have foreign keys`);
    }
    // Compiled under a placeholder class name, then re-targeted: index names, statements and
    // lineage rows all derive from the real name.
    const compiled = compileTable(parsed, {
      schema: this.name,
      className: "Named",
      tier: "Manual",
      dialect: d,
      lookupCodec: getCodec,
      resolveParent: () => {
        throw new DeclarationError(`${table}: no foreign keys allowed`);
      },
    });
    const plan = { ...compiled.plan, table, takenNames: await this.#takenNames(c) };
    const statements = d.createTable(plan);
    const lineage = plan.primaryKey.map((a): [string, string] => [a, `${this.name}.${table}.${a}`]);
    const run = async () => {
      for (const e of compiled.enumTypes) await this.#ensureEnumType(c, e);
      await c.execute(statements.create);
      for (const s of statements.post) await c.execute(s);
      await this.#writeLineage(c, table, lineage);
    };
    // Workers starting together race to declare it. Every step is idempotent, so a step that lost
    // a lock race (deadlock) is run again; on PostgreSQL the losers fail on the catalog's unique
    // index once the winner commits, and then the table exists.
    for (let attempt = 1;; attempt++) {
      try {
        if (c.kit.transactionalDdl) await c.transaction(run);
        else await run();
        break;
      } catch (e) {
        c.invalidate(this.name);
        if (c.kit.transactionalDdl && (await c.catalog(this.name)).tables.has(table)) return;
        const code = String((e as { code?: unknown }).code ?? "");
        if (attempt < 5 && ["1213", "1205", "40P01", "40001"].includes(code)) continue;
        if (!c.kit.transactionalDdl) {
          await c.execute(`DROP TABLE IF EXISTS ${d.quote(this.name)}.${d.quote(table)}`)
            .catch(() => {});
        }
        throw e;
      }
    }
    c.invalidate(this.name);
  }
  // ── end of hidden tables under an explicit name ────────────────────────────────────────────
}

function isTableClass(x: unknown): x is TableClass {
  return typeof x === "function" &&
    [Manual, Lookup, Imported, Computed, Part].some((t) => x.prototype instanceof t);
}

function classNameOf(table: string): string {
  const master = masterOfTableName(table);
  if (master !== undefined) {
    return `${toCamelCase(master)}.${toCamelCase(table.slice(master.length + 2))}`;
  }
  return toCamelCase(table);
}

/** What a child's foreign key copies from the parent's heading. */
function parentFromHeading(h: Heading, c: Connection): ParentTable {
  const byName = new Map(h.attributes.map((a) => [a.name, a]));
  const primaryKey = h.primaryKey.map((name): ParentAttribute => {
    const a = byName.get(name)!;
    let sqlType = a.sqlType;
    if (a.enumType) {
      // The enum type lives where it was created, which may be a grandparent's schema.
      sqlType = `${c.kit.dialect.quote(a.enumType.schema)}.${c.kit.dialect.quote(a.enumType.name)}`;
    } else if (a.storage.kind === "core") {
      sqlType = c.kit.dialect.coreType(a.storage, h.schema).sql;
    }
    return { name, sqlType, userComment: a.comment, uuid: a.uuid, lineage: a.lineage };
  });
  return { schema: h.schema, table: h.table, primaryKey };
}

/** Tables of a catalog (hidden ones excluded) with parents before children, ties by name. */
function dependencyOrder(
  catalog: {
    schema: string;
    tables: Map<string, { foreignKeys: { refSchema: string; refTable: string }[] }>;
  },
): string[] {
  const names = [...catalog.tables.keys()].filter((t) => !t.startsWith("~")).sort();
  const done = new Set<string>();
  const out: string[] = [];
  const visit = (t: string, path: Set<string>) => {
    if (done.has(t) || path.has(t)) return;
    path.add(t);
    for (const fk of catalog.tables.get(t)?.foreignKeys ?? []) {
      if (fk.refSchema === catalog.schema) visit(fk.refTable, path);
    }
    done.add(t);
    out.push(t);
  };
  for (const t of names) visit(t, new Set());
  return out;
}

/** A `@schema` decorator that is also the {@link Schema}. */
export type SchemaDecorator = Schema & (<T extends TableClass>(cls: T, context?: unknown) => T);

/**
 * A schema handle usable as a class decorator (`@lab class Subject extends dj.Manual {…}`), in
 * both standard and `experimentalDecorators` mode.
 *
 * @example
 * ```ts
 * import { schema } from "./schema.ts";
 * import { Lookup } from "./table.ts";
 * const lab = schema("lab");
 * @lab
 * class Species extends Lookup {
 *   static override definition = "species : varchar(32)";
 * }
 * ```
 */
export function schema(name: string, options: SchemaOptions = {}): SchemaDecorator {
  const s = new Schema(name, options);
  const decorate = (cls: TableClass) => s.register(cls);
  return new Proxy(decorate, {
    get(_t, p) {
      const v = Reflect.get(s, p, s);
      return typeof v === "function" ? v.bind(s) : v;
    },
    has: (_t, p) => p in s,
    getPrototypeOf: () => Schema.prototype,
  }) as unknown as SchemaDecorator;
}

/** A schema opened without classes: one class per table, made from the database. */
export interface VirtualSchema {
  /** The underlying schema. */
  schema: Schema;
  /** Table classes by class name (`Subject`, parts as `Session.Trial` and on their master). */
  tables: Record<string, TableClass>;
  /** Table names, parents before children. */
  order: string[];
}

/**
 * Opens an existing schema without declaring classes: every table (including ones declared by
 * DataJoint Python) gets a class of its tier, named by CamelCase of its table name; parts are
 * static properties of their masters.
 *
 * @example
 * ```ts
 * import { virtualSchema } from "./schema.ts";
 * const lab = await virtualSchema("lab");
 * console.log(lab.order, await lab.tables.Subject.describe());
 * ```
 */
export async function virtualSchema(
  name: string,
  options: Omit<SchemaOptions, "create" | "createTables"> = {},
): Promise<VirtualSchema> {
  const s = new Schema(name, { ...options, create: false, createTables: false });
  const c = await s.activate();
  c.invalidate(name);
  const order = dependencyOrder(await c.catalog(name));
  const tables: Record<string, TableClass> = {};
  const tiers = { Manual, Lookup, Imported, Computed, Part } as const;
  const masters = new Map<string, TableClass>();
  for (const t of order) {
    const tier = tierOfTableName(t);
    if (tier === undefined || tier === "Part") continue;
    const cls = namedClass(tiers[tier], toCamelCase(t));
    masters.set(t, cls);
    tables[cls.name] = cls;
  }
  // Parts become static properties of their masters before the masters are registered, so
  // registration binds them with the master's table name.
  for (const t of order) {
    const masterTable = masterOfTableName(t);
    const master = masterTable === undefined ? undefined : masters.get(masterTable);
    if (!master) continue;
    const partName = toCamelCase(t.slice(masterTable!.length + 2));
    const cls = namedClass(Part, partName);
    Object.defineProperty(master, partName, { value: cls, enumerable: true });
    tables[`${master.name}.${partName}`] = cls;
  }
  for (const cls of masters.values()) s.register(cls);
  return { schema: s, tables, order };
}

function namedClass(base: typeof Table, name: string): TableClass {
  // Virtual classes are never declared from a definition: their tables exist already.
  const cls = class extends (base as unknown as new () => Table) {};
  Object.defineProperty(cls, "name", { value: name });
  return cls as unknown as TableClass;
}

/**
 * A table that exists is used as it is, whatever its class's definition says now (as in
 * DataJoint Python). When that definition names attributes the table lacks, it was edited since
 * the table was declared: say so once, with what to do, instead of leaving the user to meet an
 * "unknown attribute" on the next insert.
 */
function warnIfRedefined(schema: string, state: ClassState, columns: string[]): void {
  let missing: string[];
  try {
    const { definition, origin } = reflectDefinition(state.cls);
    missing = parseDefinition(definition, { origin }).lines
      .flatMap((l) => (l.kind === "attribute" ? [l.name] : []))
      .filter((name) => !columns.includes(name));
  } catch {
    return; // a definition that does not parse is not used either
  }
  if (missing.length === 0) return;
  console.warn(
    `datajoint: ${schema}.${state.table} exists and is used as declared before: the definition ` +
      `of ${state.cls.name} now names ${missing.join(", ")}, which the table lacks. To declare ` +
      `it anew, drop it first (${state.cls.name}.drop(); its rows are lost).`,
  );
}
