/**
 * The graph `dj diagram` draws: one node per table of a schema (hidden tables left out) with its
 * tier and class name, one node per table of another schema that a foreign key points to, and one
 * edge per foreign key, from parent to child. An edge is *primary* when its columns are all in the
 * child's primary key (DataJoint draws those solid, secondary ones dashed); a foreign key that
 * renames columns (`-> Parent.proj(new='old')`) keeps the renames. Parts know their master.
 *
 * @example
 * ```ts
 * import { diagramModel } from "./diagram_model.ts";
 * import type { SchemaCatalog } from "../adapters/catalog.ts";
 * declare const catalog: SchemaCatalog;
 * const model = diagramModel(catalog);
 * console.log(model.nodes.map((n) => `${n.label} (${n.tier})`));
 * ```
 *
 * @module
 */

import type { SchemaCatalog } from "../adapters/catalog.ts";
import { masterOfTableName, tierOfTableName, toCamelCase } from "../naming.ts";
import type { Tier } from "../table.ts";

/** How a node is drawn: a DataJoint tier, a table of another schema, or a non-DataJoint table. */
export type NodeKind = Tier | "External" | "Other";

/** One table in the diagram. */
export interface DiagramNode {
  /** Unique key: the table name, or `schema.table` for another schema's table. */
  key: string;
  /** Schema of the table. */
  schema: string;
  /** SQL table name. */
  table: string;
  /** Class name (`Session.Trial`; `other.Subject` for another schema). */
  label: string;
  /** Tier, or `External` / `Other`. */
  kind: NodeKind;
  /** For a part: the key of its master. */
  master?: string;
}

/** One foreign key, from the parent's node to the child's. */
export interface DiagramEdge {
  /** Key of the parent node. */
  from: string;
  /** Key of the child node. */
  to: string;
  /** Whether every column of the foreign key is in the child's primary key. */
  primary: boolean;
  /** Renamed columns as `[child column, parent column]` pairs (empty when none). */
  renames: [string, string][];
}

/** A schema's diagram. */
export interface DiagramModel {
  /** The schema drawn. */
  schema: string;
  /** Nodes, parents before children (ties by table name); other schemas' tables first. */
  nodes: DiagramNode[];
  /** Edges, in the order of the nodes of their children. */
  edges: DiagramEdge[];
}

/** The class name DataJoint gives a table: `session__trial` → `Session.Trial`. */
function classLabel(table: string): string {
  const master = masterOfTableName(table);
  if (master !== undefined) {
    return `${toCamelCase(master)}.${toCamelCase(table.slice(master.length + 2))}`;
  }
  return tierOfTableName(table) === undefined ? table : toCamelCase(table);
}

/**
 * The diagram of the schema of `catalog`.
 *
 * @example
 * ```ts
 * import { diagramModel } from "./diagram_model.ts";
 * const model = diagramModel({ schema: "lab", lineage: null, tables: new Map() });
 * model.nodes.length; // 0
 * ```
 */
export function diagramModel(catalog: SchemaCatalog): DiagramModel {
  const schema = catalog.schema;
  const tables = [...catalog.tables.values()]
    .filter((t) => !t.name.startsWith("~"))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const local = new Map(tables.map((t) => [t.name, t]));
  const external = new Map<string, DiagramNode>();
  const edges: DiagramEdge[] = [];
  const keyOf = (s: string, t: string) => (s === schema ? t : `${s}.${t}`);

  for (const t of tables) {
    for (const fk of t.foreignKeys) {
      const from = keyOf(fk.refSchema, fk.refTable);
      if (fk.refSchema === schema && !local.has(fk.refTable)) continue;
      if (fk.refSchema !== schema && !external.has(from)) {
        external.set(from, {
          key: from,
          schema: fk.refSchema,
          table: fk.refTable,
          label: `${fk.refSchema}.${classLabel(fk.refTable)}`,
          kind: "External",
        });
      }
      edges.push({
        from,
        to: t.name,
        primary: fk.columns.every((c) => t.primaryKey.includes(c)),
        renames: fk.columns.flatMap((c, i): [string, string][] =>
          c === fk.refColumns[i] ? [] : [[c, fk.refColumns[i]]]
        ),
      });
    }
  }

  // Parents before children: a depth-first walk over the parents, ties by name.
  const order: string[] = [];
  const done = new Set<string>();
  const visit = (name: string, path: Set<string>) => {
    if (done.has(name) || path.has(name)) return;
    path.add(name);
    for (const fk of local.get(name)!.foreignKeys) {
      if (fk.refSchema === schema && local.has(fk.refTable)) visit(fk.refTable, path);
    }
    done.add(name);
    order.push(name);
  };
  for (const t of tables) visit(t.name, new Set());

  const nodes: DiagramNode[] = [...external.values()].sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : 0
  );
  for (const name of order) {
    const master = masterOfTableName(name);
    nodes.push({
      key: name,
      schema,
      table: name,
      label: classLabel(name),
      kind: tierOfTableName(name) ?? "Other",
      ...(master !== undefined && local.has(master) ? { master } : {}),
    });
  }
  const position = new Map(nodes.map((n, i) => [n.key, i]));
  edges.sort((a, b) => position.get(a.to)! - position.get(b.to)!);
  return { schema, nodes, edges };
}
