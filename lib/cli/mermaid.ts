/**
 * A schema diagram as Mermaid `flowchart` text: one node per table, styled by tier the way
 * DataJoint draws them (Manual green boxes, Lookup grey boxes, Imported blue and Computed red
 * rounded shapes, parts as small plain boxes beside their master in one subgraph, tables of other
 * schemas with a dashed border), one arrow per foreign key from parent to child: solid for a
 * primary dependency, dotted for a secondary one, labelled with the renames of a projected one.
 *
 * @example
 * ```ts
 * import { toMermaid } from "./mermaid.ts";
 * import type { DiagramModel } from "./diagram_model.ts";
 * declare const model: DiagramModel;
 * console.log(toMermaid(model)); // "flowchart TB\n  ..."
 * ```
 *
 * @module
 */

import type { DiagramModel, DiagramNode, NodeKind } from "./diagram_model.ts";

/** Fill, border and text colours of each kind of node, shared with the SVG picture. */
export const NODE_STYLE: Readonly<
  Record<NodeKind, { fill: string; stroke: string; text: string; dashed?: boolean }>
> = {
  Manual: { fill: "#e3f4e3", stroke: "#2e7d32", text: "#1b5e20" },
  Lookup: { fill: "#eeeeee", stroke: "#616161", text: "#212121" },
  Imported: { fill: "#e1ecf8", stroke: "#1565c0", text: "#0d47a1" },
  Computed: { fill: "#fbe3e3", stroke: "#c62828", text: "#b71c1c" },
  Part: { fill: "#ffffff", stroke: "#9e9e9e", text: "#424242" },
  External: { fill: "#ffffff", stroke: "#9e9e9e", text: "#616161", dashed: true },
  Other: { fill: "#ffffff", stroke: "#000000", text: "#000000" },
};

/**
 * Mermaid node ids for the nodes: readable (`t_subject`), characters other than letters, digits
 * and `_` written as `_<hex>_`, made unique with a counter if two names still meet.
 *
 * @example
 * ```ts
 * import { mermaidIds } from "./mermaid.ts";
 * mermaidIds([{ key: "#species" }, { key: "subject" }]); // Map { "#species" => "t__23_species", "subject" => "t_subject" }
 * ```
 */
export function mermaidIds(nodes: readonly Pick<DiagramNode, "key">[]): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const n of nodes) {
    const base = "t_" +
      n.key.replace(/[^A-Za-z0-9_]/g, (c) => `_${c.codePointAt(0)!.toString(16)}_`);
    let id = base;
    for (let i = 2; used.has(id); i++) id = `${base}_${i}`;
    used.add(id);
    ids.set(n.key, id);
  }
  return ids;
}

function label(text: string): string {
  return `"${text.replaceAll('"', "#quot;")}"`;
}

function shape(n: DiagramNode): string {
  // Rounded (stadium) shapes for the tiers DataJoint draws as ellipses.
  return n.kind === "Imported" || n.kind === "Computed"
    ? `([${label(n.label)}])`
    : `[${label(n.label)}]`;
}

function classDef(kind: NodeKind): string {
  const s = NODE_STYLE[kind];
  const extra = kind === "Part" ? ",font-size:11px" : "";
  const dash = s.dashed ? ",stroke-dasharray:4 3" : "";
  return `  classDef ${kind} fill:${s.fill},stroke:${s.stroke},color:${s.text}${extra}${dash}`;
}

/**
 * The Mermaid `flowchart` text of a diagram (top to bottom, parents above children).
 *
 * @example
 * ```ts
 * import { toMermaid } from "./mermaid.ts";
 * toMermaid({ schema: "lab", nodes: [], edges: [] }); // "flowchart TB\n  %% schema lab: no tables\n"
 * ```
 */
export function toMermaid(model: DiagramModel): string {
  const ids = mermaidIds(model.nodes);
  const lines = ["flowchart TB"];
  if (model.nodes.length === 0) {
    lines.push(`  %% schema ${model.schema}: no tables`);
    return lines.join("\n") + "\n";
  }
  const local = model.nodes.filter((n) => n.kind !== "External").length;
  lines.push(
    `  %% schema ${model.schema}: ${local} table(s), ${model.edges.length} foreign key(s)`,
  );
  const kinds = [...new Set(model.nodes.map((n) => n.kind))];
  lines.push(...kinds.map(classDef));
  const node = (n: DiagramNode, indent: string) =>
    `${indent}${ids.get(n.key)}${shape(n)}:::${n.kind}`;
  const partsOf = new Map<string, DiagramNode[]>();
  for (const n of model.nodes) {
    if (n.master !== undefined) partsOf.set(n.master, [...(partsOf.get(n.master) ?? []), n]);
  }
  for (const n of model.nodes) {
    if (n.master !== undefined) continue;
    const parts = partsOf.get(n.key);
    if (parts === undefined) {
      lines.push(node(n, "  "));
      continue;
    }
    // A master and its parts share a subgraph, so the parts are drawn attached to it.
    lines.push(`  subgraph g_${ids.get(n.key)} [" "]`);
    lines.push(node(n, "    "), ...parts.map((p) => node(p, "    ")));
    lines.push("  end");
  }
  for (const e of model.edges) {
    const text = e.renames.length === 0
      ? ""
      : `|${label(`proj(${e.renames.map(([c, p]) => `${c}=${p}`).join(", ")})`)}|`;
    lines.push(`  ${ids.get(e.from)} ${e.primary ? "-->" : "-.->"}${text} ${ids.get(e.to)}`);
  }
  return lines.join("\n") + "\n";
}
