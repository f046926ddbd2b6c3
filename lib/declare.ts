/**
 * The declaration compiler: a parsed definition + what is known about the parent tables → a
 * backend-neutral {@link TablePlan}, the `~lineage` rows, and (through the dialect) the exact
 * statements DataJoint Python would send. Pure: parents are described by the caller, codecs are
 * looked up through a function, nothing touches a database.
 *
 * @example
 * ```ts
 * import { compileTable } from "./declare.ts";
 * import { mysqlDialect } from "./adapters/mysql_dialect.ts";
 * import { getCodec } from "../codecs/registry.ts";
 * import "../codecs/builtins.ts";
 *
 * const t = compileTable("# rigs\nrig : varchar(16)\n---\nnote = '' : varchar(255)", {
 *   schema: "lab", className: "Rig", tier: "Lookup", dialect: mysqlDialect,
 *   lookupCodec: getCodec, resolveParent: () => { throw new Error("no parents"); },
 * });
 * console.log(t.plan.table, t.statements.create.split("\n")[0]);
 * // #rig CREATE TABLE IF NOT EXISTS `lab`.`#rig` (
 * ```
 *
 * @module
 */
import type {
  ColumnPlan,
  CreateStatements,
  Dialect,
  EnumType,
  ForeignKeyPlan,
  IndexPlan,
  TablePlan,
} from "./adapters/dialect.ts";
import { lineRef, parseDefinition } from "./definition.ts";
import type {
  AttributeLine,
  Definition,
  ForeignKeyLine,
  IndexLine,
  LineSource,
} from "./definition.ts";
import { defaultProblem } from "./defaults.ts";
import { DeclarationError } from "./errors.ts";
import { tableName } from "./naming.ts";
import type { Tier } from "./table.ts";
import { type CodecLookup, isBlobLike, type ResolvedType, resolveType } from "./types.ts";

/** A primary-key attribute of a parent table, as a child's foreign key copies it. */
export interface ParentAttribute {
  /** Attribute name in the parent. */
  name: string;
  /** The column type to give the child column, in the child's dialect. */
  sqlType: string;
  /** The parent's user comment (without its type marker). */
  userComment: string;
  /** Whether the attribute is a uuid (the child comment then starts with `:uuid:`). */
  uuid: boolean;
  /** The attribute's lineage, `null` when the parent's schema has none recorded. */
  lineage: string | null;
}

/** What a foreign key needs to know about the table it references. */
export interface ParentTable {
  /** Parent schema. */
  schema: string;
  /** Parent table name (with tier prefix). */
  table: string;
  /** Primary-key attributes in order. */
  primaryKey: ParentAttribute[];
}

/** Inputs of {@link compileTable}. */
export interface CompileOptions {
  /** Schema (database) the table goes into. */
  schema: string;
  /** The class name; the table name is derived from it and the tier. */
  className: string;
  /** The table's tier. */
  tier: Tier;
  /** For parts: the master's table name. */
  masterTable?: string;
  /** The backend's dialect. */
  dialect: Dialect;
  /** Finds codecs by name. */
  lookupCodec: CodecLookup;
  /** Resolves the reference text of a foreign key (`Parent`, `lab.Parent`, `master`). */
  resolveParent: (ref: string, line: ForeignKeyLine) => ParentTable;
  /** Add the hidden `_job_*` columns (Computed/Imported masters only). */
  addJobMetadata?: boolean;
  /** Allow primary-key attributes of Computed/Imported tables that do not come from a parent. */
  allowNewPkFieldsInComputedTables?: boolean;
  /** Relation names in use in the schema (PostgreSQL index names must avoid them). */
  takenNames?: readonly string[];
}

/** One attribute of the compiled table, with what the heading needs to know. */
export interface CompiledAttribute {
  /** Attribute name. */
  name: string;
  /** In the primary key. */
  inKey: boolean;
  /** Resolved declared type; `undefined` for columns copied from a parent. */
  type?: ResolvedType;
  /** Copied from this parent through a foreign key. */
  parent?: { schema: string; table: string; attribute: string };
}

/** The result of compiling one definition. */
export interface CompiledTable {
  /** The backend-neutral plan. */
  plan: TablePlan;
  /** The statements for the plan's dialect. */
  statements: CreateStatements;
  /** PostgreSQL enum types to create first (if missing). */
  enumTypes: EnumType[];
  /** `~lineage` rows `[attribute, lineage]` for this table. */
  lineage: [string, string][];
  /** Attributes in column order. */
  attributes: CompiledAttribute[];
  /** Warnings (native types). */
  warnings: string[];
}

function fail(src: LineSource, problem: string, fix: string): DeclarationError {
  return new DeclarationError(`${problem} in ${lineRef(src)}: ${fix}`);
}

const TIMESTAMP_DEFAULT = /^(CURRENT_TIMESTAMP(\s*\(\s*\d?\s*\))?|NULL)$/i;

/**
 * The SQL DEFAULT expression for a declared default, following DataJoint Python: `null` is
 * handled by the caller; `CURRENT_TIMESTAMP[(n)]` stays unquoted; a quoted string is re-quoted
 * safely for the dialect; anything else becomes a string literal (`= 5` → `'5'`), and `true` /
 * `false` for `bool` become `'1'` / `'0'` (MySQL rejects `'true'`, reference bug #19).
 */
function defaultExpression(
  line: AttributeLine,
  type: ResolvedType,
  dialect: Dialect,
): string {
  const text = line.default!;
  const head = text.split("(")[0].trim().toUpperCase();
  // Checked against the declared core type so that every backend gets the same table (see
  // defaults.ts); codec and native types are the server's to judge.
  const check = (value: string) => {
    if (type.declared.kind !== "core") return;
    const problem = defaultProblem(type.declared, value);
    if (problem !== undefined) {
      throw fail(line, `Invalid default ${text}`, `${problem}`);
    }
  };
  if (head === "CURRENT_TIMESTAMP" || head === "NULL") {
    if (!TIMESTAMP_DEFAULT.test(text)) {
      throw fail(line, "Invalid default", "write CURRENT_TIMESTAMP or CURRENT_TIMESTAMP(n)");
    }
    check(text);
    return text;
  }
  const quoted = /^'((?:[^']|'')*)'$/.exec(text) ?? /^"((?:[^"]|"")*)"$/.exec(text);
  if (!quoted && /^['"]/.test(text)) {
    throw fail(line, "Invalid default", "close the quoted default with the same quote");
  }
  const value = quoted ? quoted[1].replaceAll(text[0] + text[0], text[0]) : text;
  check(value);
  if (type.storage.kind === "core" && type.storage.name === "bool") {
    const lower = value.toLowerCase();
    if (lower === "true") return dialect.stringLiteral("1");
    if (lower === "false") return dialect.stringLiteral("0");
  }
  return dialect.stringLiteral(value);
}

/**
 * Compiles definition text (or an already parsed {@link Definition}) into a table plan and the
 * statements that create it.
 *
 * @example
 * ```ts
 * import { compileTable } from "./declare.ts";
 * import { postgresDialect } from "./adapters/postgres_dialect.ts";
 * import { getCodec } from "../codecs/registry.ts";
 * import "../codecs/builtins.ts";
 *
 * const t = compileTable("x : int32\n---\nv : <blob>", {
 *   schema: "s", className: "Thing", tier: "Manual", dialect: postgresDialect,
 *   lookupCodec: getCodec, resolveParent: () => { throw new Error("none"); },
 * });
 * console.log(t.plan.columns.map((c) => c.sqlType)); // [ "integer", "bytea" ]
 * ```
 */
export function compileTable(
  definition: string | Definition,
  options: CompileOptions,
): CompiledTable {
  const { dialect, schema } = options;
  const def = typeof definition === "string" ? parseDefinition(definition) : definition;
  const table = tableName(options.tier, options.className, options.masterTable);
  if (table.length > dialect.maxTableName) {
    throw new DeclarationError(
      `Table name \`${table}\` exceeds the max length of ${dialect.maxTableName}: shorten the class name ${options.className}`,
    );
  }

  const columns: ColumnPlan[] = [];
  const attributes: CompiledAttribute[] = [];
  const primaryKey: string[] = [];
  const foreignKeys: ForeignKeyPlan[] = [];
  const indexes: IndexPlan[] = [];
  const candidates: string[][] = [];
  const enumTypes = new Map<string, EnumType>();
  // DataJoint writes the rows of foreign-key attributes first, then the table's own key attributes.
  const lineage: [string, string][] = [];
  const ownLineage: [string, string][] = [];
  const warnings: string[] = [];
  const names = new Set<string>();
  const fkColumns = new Set<string>();
  const indexLines: IndexLine[] = [];
  const checkName = (name: string, line: LineSource) => {
    if (name.length > dialect.maxTableName) {
      throw fail(
        line,
        `Attribute name ${name} is ${name.length} characters long`,
        `${
          dialect.name === "mysql" ? "MySQL" : "PostgreSQL"
        } names have at most ${dialect.maxTableName}; shorten it`,
      );
    }
  };

  for (const line of def.lines) {
    if (line.kind === "foreignKey") {
      const parent = options.resolveParent(line.ref, line);
      const renamedFrom = new Map(line.rename.map(([nw, old]) => [old, nw]));
      for (const old of renamedFrom.keys()) {
        if (!parent.primaryKey.some((a) => a.name === old)) {
          throw fail(
            line,
            `Cannot rename ${old}`,
            `${parent.table} has no primary-key attribute ${old}; its key is (${
              parent.primaryKey.map((a) => a.name).join(", ")
            })`,
          );
        }
      }
      for (const [nw] of line.rename) checkName(nw, line);
      const childCols: string[] = [];
      for (const pa of parent.primaryKey) {
        const name = renamedFrom.get(pa.name) ?? pa.name;
        childCols.push(name);
        // An attribute that arrives through two foreign keys is kept once (diamonds share it).
        if (names.has(name)) continue;
        names.add(name);
        fkColumns.add(name);
        columns.push({
          name,
          sqlType: pa.sqlType,
          notNull: !line.nullable,
          // The key of a table without primary key is its hidden `_singleton`, which no insert
          // names: its children take the value it always has, as the parent does.
          default: pa.name === "_singleton" ? "TRUE" : null,
          comment: (pa.uuid ? ":uuid:" : "") + pa.userComment,
          inKey: line.inKey,
          fromForeignKey: true,
        });
        attributes.push({
          name,
          inKey: line.inKey,
          parent: { schema: parent.schema, table: parent.table, attribute: pa.name },
        });
        if (line.inKey) primaryKey.push(name);
        lineage.push([name, pa.lineage ?? `${parent.schema}.${parent.table}.${pa.name}`]);
      }
      foreignKeys.push({
        columns: childCols,
        refSchema: parent.schema,
        refTable: parent.table,
        refColumns: parent.primaryKey.map((a) => a.name),
      });
      if (line.unique) indexes.push({ unique: true, columns: childCols, origin: "foreignKey" });
      else candidates.push(childCols);
    } else if (line.kind === "attribute") {
      if (names.has(line.name)) {
        throw fail(
          line,
          `Attribute ${line.name} is declared twice`,
          fkColumns.has(line.name)
            ? "it already comes from a foreign key; remove this line or rename one with .proj()"
            : "remove one of the lines",
        );
      }
      checkName(line.name, line);
      names.add(line.name);
      const column = compileAttribute(line, options, warnings, enumTypes);
      columns.push(column.plan);
      attributes.push({ name: line.name, inKey: line.inKey, type: column.type });
      if (line.inKey) {
        primaryKey.push(line.name);
        ownLineage.push([line.name, `${schema}.${table}.${line.name}`]);
      }
    } else {
      indexes.push({ unique: line.unique, columns: line.columns, origin: "declared" });
      indexLines.push(line);
    }
  }
  // An index line may come before the attributes it names (DataJoint Python places indexes
  // after all columns), so they are checked once every line is read.
  for (const line of indexLines) {
    for (const c of line.columns) {
      if (!names.has(c)) {
        throw fail(
          line,
          `Index on unknown attribute ${c}`,
          "declare the attribute in the definition",
        );
      }
    }
  }

  if (options.tier === "Computed" || options.tier === "Imported") {
    const own = def.lines.filter((l): l is AttributeLine => l.kind === "attribute" && l.inKey);
    if (own.length > 0 && !options.allowNewPkFieldsInComputedTables) {
      throw new DeclarationError(
        `Auto-populated table ${dialect.quote(schema)}.${
          dialect.quote(table)
        } has non-FK primary key attribute(s): ${
          own.map((l) => l.name).join(", ")
        }. Computed and Imported tables must derive all primary key attributes from foreign key references ` +
          `(${own.map(lineRef).join(", ")}). ` +
          "Move them below --- or into a part table, or set jobs.allowNewPkFieldsInComputedTables.",
      );
    }
  }
  if (primaryKey.length === 0) {
    const singleton = dialect.singletonColumn();
    columns.unshift(singleton);
    attributes.unshift({ name: singleton.name, inKey: true });
    primaryKey.push(singleton.name);
    ownLineage.push([singleton.name, `${schema}.${table}.${singleton.name}`]);
  }
  if (options.addJobMetadata && (options.tier === "Computed" || options.tier === "Imported")) {
    for (const c of dialect.jobMetadataColumns()) {
      columns.push(c);
      attributes.push({ name: c.name, inKey: false });
    }
  }

  const plan: TablePlan = {
    schema,
    table,
    comment: def.comment,
    columns,
    primaryKey,
    foreignKeys,
    indexes,
    foreignKeyIndexCandidates: candidates,
    enumTypes: [...enumTypes.values()],
    ...(options.takenNames ? { takenNames: options.takenNames } : {}),
  };
  return {
    plan,
    statements: dialect.createTable(plan),
    enumTypes: plan.enumTypes,
    lineage: [...lineage, ...ownLineage],
    attributes,
    warnings,
  };
}

function compileAttribute(
  line: AttributeLine,
  options: CompileOptions,
  warnings: string[],
  enumTypes: Map<string, EnumType>,
): { plan: ColumnPlan; type: ResolvedType } {
  const { dialect } = options;
  let type: ResolvedType;
  try {
    type = resolveType(line.type, options.lookupCodec);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new DeclarationError(`${message} (${lineRef(line)})`, {
      cause: e,
    });
  }
  let sqlType: string;
  if (type.storage.kind === "core") {
    const t = dialect.coreType(type.storage, options.schema);
    sqlType = t.sql;
    if (t.enumType) {
      // One PostgreSQL type per label set: a second enum with the same type name must have the
      // same labels in the same order (reference bug #14: report, do not silently reuse).
      const known = enumTypes.get(t.enumType.name);
      if (known && known.labels.join("\0") !== t.enumType.labels.join("\0")) {
        throw fail(
          line,
          `enum type ${t.enumType.name} is already used in this table with the labels (${
            known.labels.map((l) => `'${l}'`).join(", ")
          })`,
          "PostgreSQL shares one enum type per label set; list the labels in the same order",
        );
      }
      if (!known) enumTypes.set(t.enumType.name, t.enumType);
    }
  } else {
    sqlType = type.storage.text;
    warnings.push(
      `Native type '${type.storage.text}' is used in attribute '${line.name}'. Consider using a core DataJoint type for better portability.`,
    );
  }
  if (line.inKey && isBlobLike(type.storage)) {
    throw fail(
      line,
      "Blob or JSON attributes are not allowed in the primary key",
      "move the attribute below ---",
    );
  }
  let notNull = true;
  let dflt: string | null = null;
  if (line.nullable) {
    notNull = false;
    dflt = "NULL";
  } else if (line.default !== null) {
    dflt = defaultExpression(line, type, dialect);
  }
  const blob = /blob/i.test(sqlType) ||
    type.storage.kind === "core" && type.storage.name === "bytes";
  if (blob && line.default !== null && !line.nullable) {
    throw fail(
      line,
      "The default value for blob attributes can only be NULL",
      "use `= null` or no default",
    );
  }
  const marker = type.declared.kind === "native" ? "" : `:${type.declared.text}:`;
  return {
    plan: {
      name: line.name,
      sqlType,
      notNull,
      default: dflt,
      comment: marker + line.comment,
      inKey: line.inKey,
      fromForeignKey: false,
    },
    type,
  };
}
