/**
 * A schema diagram as an SVG picture, laid out here without external tools: tables in layers by
 * dependency depth (a table sits one layer below its deepest parent), ordered within each layer
 * by the barycentre of their neighbours to keep arrows from crossing, each placed under the
 * middle of its parents; boxes styled by tier as in the Mermaid text (`mermaid.ts`), arrows from
 * parent to child, solid for primary and dashed for secondary foreign keys, an orange dot on a
 * foreign key that renames columns, and a legend.
 *
 * Text widths are estimated for a monospace font (0.6 em per character), so boxes fit their
 * labels in any viewer.
 *
 * @example
 * ```ts
 * import { toSvg } from "./svg.ts";
 * import type { DiagramModel } from "./diagram_model.ts";
 * declare const model: DiagramModel;
 * await Deno.writeTextFile("lab.svg", toSvg(model));
 * ```
 *
 * @module
 */

import type { DiagramEdge, DiagramModel, DiagramNode, NodeKind } from "./diagram_model.ts";
import { NODE_STYLE } from "./mermaid.ts";

const FONT_SIZE = 12;
const PART_FONT_SIZE = 11;
/** Advance of one monospace character, in em. */
const CHAR_EM = 0.6;
const PAD_X = 12;
const BOX_HEIGHT = 28;
const PART_HEIGHT = 22;
const H_GAP = 28;
const V_GAP = 56;
const MARGIN = 20;
const TITLE_HEIGHT = 24;
const LEGEND_HEIGHT = 36;
const SWEEPS = 8;
/** Width kept free in a layer for an arrow that passes through it. */
const GAP_WIDTH = 4;
/** Distance between two such arrows. */
const GAP_SPACING = 10;

/** A placed table: its box in picture coordinates. */
export interface LayoutBox {
  /** The node. */
  node: DiagramNode;
  /** Layer (0 = top: tables without parents in the picture). */
  layer: number;
  /** Left edge. */
  x: number;
  /** Top edge. */
  y: number;
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/**
 * A placed foreign key: from the parent's bottom edge to the child's top edge. An arrow that
 * skips layers passes each skipped layer straight down through a gap kept free for it.
 */
export interface LayoutEdge {
  /** The edge. */
  edge: DiagramEdge;
  /** The points it passes, top to bottom: parent bottom, (entry, exit) per skipped layer, child top. */
  points: [number, number][];
  /** SVG path data: straight through skipped layers, S-curves between layers. */
  path: string;
}

/** The whole picture's geometry. */
export interface Layout {
  /** Picture width. */
  width: number;
  /** Picture height. */
  height: number;
  /** Boxes by node key. */
  boxes: Map<string, LayoutBox>;
  /** Node keys of each layer, left to right (the gaps of long arrows left out). */
  layers: string[][];
  /** Arrows. */
  edges: LayoutEdge[];
}

/** A box or the gap of a long arrow in one layer, while laying out. */
interface Slot {
  key: string;
  layer: number;
  x: number;
  width: number;
  node?: DiagramNode;
}

/** The layered graph being laid out: real nodes and the gaps of long arrows. */
interface Layered {
  layers: string[][];
  parents: Map<string, string[]>;
  children: Map<string, string[]>;
  /** Per edge of the model (self-references left out), its slots from parent to child. */
  chains: { edge: DiagramEdge; slots: string[] }[];
}

function fontSize(n: DiagramNode): number {
  return n.kind === "Part" ? PART_FONT_SIZE : FONT_SIZE;
}

function textLength(text: string, size: number): number {
  return [...text].length * size * CHAR_EM;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** Layer of every node: 0 without parents, else one more than the deepest parent. */
function assignLayers(model: DiagramModel): Map<string, number> {
  const parents = new Map<string, string[]>();
  for (const e of model.edges) if (e.from !== e.to) push(parents, e.to, e.from);
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (key: string): number => {
    const known = layer.get(key);
    if (known !== undefined) return known;
    // A cycle cannot come from DataJoint declarations; cut it rather than recurse forever.
    if (visiting.has(key)) return 0;
    visiting.add(key);
    const ps = parents.get(key) ?? [];
    const d = ps.length === 0 ? 0 : 1 + Math.max(...ps.map(depth));
    visiting.delete(key);
    layer.set(key, d);
    return d;
  };
  for (const n of model.nodes) depth(n.key);
  return layer;
}

/** Layers with a gap slot in every layer a long arrow skips, so arrows join neighbours only. */
function layered(model: DiagramModel, layerOf: Map<string, number>): Layered {
  const count = Math.max(-1, ...layerOf.values()) + 1;
  const layers: string[][] = Array.from({ length: count }, () => []);
  for (const n of model.nodes) layers[layerOf.get(n.key)!].push(n.key);
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  const chains: Layered["chains"] = [];
  model.edges.forEach((edge, i) => {
    if (edge.from === edge.to) return;
    const slots = [edge.from];
    for (let l = layerOf.get(edge.from)! + 1; l < layerOf.get(edge.to)!; l++) {
      const gap = `\0${i}:${l}`;
      layers[l].push(gap);
      slots.push(gap);
    }
    slots.push(edge.to);
    for (let j = 0; j + 1 < slots.length; j++) {
      push(parents, slots[j + 1], slots[j]);
      push(children, slots[j], slots[j + 1]);
    }
    chains.push({ edge, slots });
  });
  return { layers, parents, children, chains };
}

/** Crossings of the links between neighbouring layers, for choosing the best ordering. */
function crossings(layers: string[][], children: Map<string, string[]>): number {
  const index = new Map<string, number>();
  for (const l of layers) l.forEach((k, i) => index.set(k, i));
  let count = 0;
  for (const layer of layers) {
    const links = layer.flatMap((k) => (children.get(k) ?? []).map((c) => [k, c]));
    for (let i = 0; i < links.length; i++) {
      for (let j = i + 1; j < links.length; j++) {
        const a = index.get(links[i][0])! - index.get(links[j][0])!;
        const b = index.get(links[i][1])! - index.get(links[j][1])!;
        if (a * b < 0) count++;
      }
    }
  }
  return count;
}

/** Orders each layer by the barycentre of neighbours, sweeping down and up; keeps the best. */
function orderLayers(g: Layered): string[][] {
  const layers = g.layers.map((l) => [...l]);
  // Positions normalised to [0, 1] so that layers of different lengths compare.
  const where = new Map<string, number>();
  const measure = () => {
    for (const l of layers) l.forEach((k, i) => where.set(k, (i + 0.5) / l.length));
  };
  const sortBy = (layer: string[], neighbours: Map<string, string[]>) => {
    const centre = new Map(layer.map((k) => {
      const ns = neighbours.get(k) ?? [];
      const c = ns.length === 0
        ? where.get(k)!
        : ns.reduce((s, n) => s + where.get(n)!, 0) / ns.length;
      return [k, c];
    }));
    layer.sort((a, b) => centre.get(a)! - centre.get(b)!);
  };
  let best = layers.map((l) => [...l]);
  let fewest = crossings(layers, g.children);
  for (let sweep = 0; sweep < SWEEPS && fewest > 0; sweep++) {
    measure();
    for (let l = 1; l < layers.length; l++) {
      sortBy(layers[l], g.parents);
      measure();
    }
    for (let l = layers.length - 2; l >= 0; l--) {
      sortBy(layers[l], g.children);
      measure();
    }
    const c = crossings(layers, g.children);
    if (c < fewest) {
      fewest = c;
      best = layers.map((l) => [...l]);
    }
  }
  return best;
}

function rowTop(layer: number): number {
  return MARGIN + TITLE_HEIGHT + layer * (BOX_HEIGHT + V_GAP);
}

/**
 * Places the boxes and arrows of a diagram.
 *
 * @example
 * ```ts
 * import { layoutDiagram } from "./svg.ts";
 * import type { DiagramModel } from "./diagram_model.ts";
 * declare const model: DiagramModel;
 * const layout = layoutDiagram(model);
 * console.log(layout.layers.length, layout.width, layout.height);
 * ```
 */
export function layoutDiagram(model: DiagramModel): Layout {
  const g = layered(model, assignLayers(model));
  const layers = orderLayers(g);
  const nodeOf = new Map(model.nodes.map((n) => [n.key, n]));
  const slots = new Map<string, Slot>();
  layers.forEach((keys, layer) => {
    for (const key of keys) {
      const node = nodeOf.get(key);
      const width = node === undefined
        ? GAP_WIDTH
        : Math.ceil(textLength(node.label, fontSize(node)) + 2 * PAD_X);
      slots.set(key, { key, layer, x: 0, width, node });
    }
  });
  const centreOf = (keys: string[] | undefined) =>
    keys === undefined || keys.length === 0
      ? undefined
      : keys.reduce((s, k) => s + slots.get(k)!.x + slots.get(k)!.width / 2, 0) / keys.length;
  // Each box wants to sit under the middle of its parents (first and last pass) or over the
  // middle of its children (middle pass, which centres the top rows over what hangs below).
  placeRow(layers[0] ?? [], slots, () => undefined);
  for (let l = 1; l < layers.length; l++) {
    placeRow(layers[l], slots, (k) => centreOf(g.parents.get(k)));
  }
  for (let l = layers.length - 2; l >= 0; l--) {
    placeRow(layers[l], slots, (k) => centreOf(g.children.get(k)) ?? centreOf([k]));
  }
  for (let l = 1; l < layers.length; l++) {
    placeRow(layers[l], slots, (k) => centreOf(g.parents.get(k)) ?? centreOf([k]));
  }
  const minX = Math.min(...[...slots.values()].map((s) => s.x));
  for (const s of slots.values()) s.x = Math.round(s.x - minX + MARGIN);

  const boxes = new Map<string, LayoutBox>();
  for (const s of slots.values()) {
    if (s.node === undefined) continue;
    const height = s.node.kind === "Part" ? PART_HEIGHT : BOX_HEIGHT;
    const y = rowTop(s.layer) + (BOX_HEIGHT - height) / 2;
    boxes.set(s.key, { node: s.node, layer: s.layer, x: s.x, y, width: s.width, height });
  }
  const edges = routeEdges(g, slots, boxes);
  const right = Math.max(0, ...[...slots.values()].map((s) => s.x + s.width)) + MARGIN;
  const width = Math.ceil(Math.max(right, legendWidth(model) + 2 * MARGIN, 240));
  const height = rowTop(Math.max(1, layers.length)) - V_GAP + MARGIN + LEGEND_HEIGHT;
  return {
    width,
    height,
    boxes,
    layers: layers.map((l) => l.filter((k) => nodeOf.has(k))),
    edges,
  };
}

/**
 * Places one row left to right in its order: each slot as near its wanted centre as the slots
 * before it allow, then the whole row shifted back by the average push, since pushing only ever
 * moves slots right.
 */
function placeRow(
  keys: readonly string[],
  slots: Map<string, Slot>,
  wantedCentre: (key: string) => number | undefined,
): void {
  const wanted = keys.map((k) => wantedCentre(k));
  let previous: Slot | undefined;
  let drift = 0;
  let pulled = 0;
  keys.forEach((k, i) => {
    const s = slots.get(k)!;
    const w = wanted[i];
    // Gaps of long arrows may run closer to each other than boxes.
    const gap = previous?.node === undefined && s.node === undefined ? GAP_SPACING : H_GAP;
    const packed = previous === undefined ? 0 : previous.x + previous.width + gap;
    s.x = w === undefined ? packed : Math.max(w - s.width / 2, packed);
    if (w !== undefined) {
      drift += s.x - (w - s.width / 2);
      pulled++;
    }
    previous = s;
  });
  const shift = pulled === 0 ? 0 : drift / pulled;
  for (const k of keys) slots.get(k)!.x -= shift;
}

/** Arrows through their slots, fanned out where several leave or enter one box. */
function routeEdges(
  g: Layered,
  slots: Map<string, Slot>,
  boxes: Map<string, LayoutBox>,
): LayoutEdge[] {
  const centre = (key: string) => slots.get(key)!.x + slots.get(key)!.width / 2;
  // Where each arrow leaves its parent and enters its child, spread along the box edge in the
  // order of the slots at the other end, so that fanned arrows do not cross each other.
  const ports = (ends: Map<string, { chain: number; other: string }[]>) => {
    const x = new Map<number, number>();
    for (const [key, list] of ends) {
      const box = boxes.get(key)!;
      const sorted = [...list].sort((a, b) => centre(a.other) - centre(b.other));
      const step = sorted.length < 2 ? 0 : Math.min(12, (box.width - 16) / (sorted.length - 1));
      sorted.forEach((e, i) => x.set(e.chain, centre(key) + (i - (sorted.length - 1) / 2) * step));
    }
    return x;
  };
  const out = new Map<string, { chain: number; other: string }[]>();
  const into = new Map<string, { chain: number; other: string }[]>();
  g.chains.forEach(({ slots: path }, chain) => {
    const from = path[0];
    const to = path[path.length - 1];
    out.set(from, [...(out.get(from) ?? []), { chain, other: path[1] }]);
    into.set(to, [...(into.get(to) ?? []), { chain, other: path[path.length - 2] }]);
  });
  const startX = ports(out);
  const endX = ports(into);
  return g.chains.map(({ edge, slots: path }, chain) => {
    const from = boxes.get(edge.from)!;
    const to = boxes.get(edge.to)!;
    const points: [number, number][] = [[startX.get(chain)!, from.y + from.height]];
    for (const gap of path.slice(1, -1)) {
      const s = slots.get(gap)!;
      points.push([centre(gap), rowTop(s.layer)], [centre(gap), rowTop(s.layer) + BOX_HEIGHT]);
    }
    points.push([endX.get(chain)!, to.y]);
    return { edge, points, path: pathData(points) };
  });
}

/** S-curves from each exit point to the next entry point, straight lines through rows. */
function pathData(points: readonly [number, number][]): string {
  let d = `M${num(points[0][0])},${num(points[0][1])}`;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const [x0, y0] = points[i];
    const [x1, y1] = points[i + 1];
    const dy = Math.max(12, (y1 - y0) / 2);
    d += ` C${num(x0)},${num(y0 + dy)} ${num(x1)},${num(y1 - dy)} ${num(x1)},${num(y1)}`;
    if (i + 2 < points.length) d += ` L${num(points[i + 2][0])},${num(points[i + 2][1])}`;
  }
  return d;
}

const LEGEND_ORDER: readonly NodeKind[] = [
  "Manual",
  "Lookup",
  "Imported",
  "Computed",
  "Part",
  "External",
  "Other",
];
const LEGEND_NAMES: Readonly<Record<NodeKind, string>> = {
  Manual: "Manual",
  Lookup: "Lookup",
  Imported: "Imported",
  Computed: "Computed",
  Part: "Part",
  External: "other schema",
  Other: "not DataJoint",
};

function legendItems(model: DiagramModel): string[] {
  const kinds = new Set(model.nodes.map((n) => n.kind));
  return LEGEND_ORDER.filter((k) => kinds.has(k)).map((k) => LEGEND_NAMES[k]);
}

/** Width of the legend: a swatch and a name per kind, then the two line styles. */
function legendWidth(model: DiagramModel): number {
  const items = [...legendItems(model), "primary", "secondary"];
  return items.reduce((s, t) => s + 22 + textLength(t, PART_FONT_SIZE) + 16, 0);
}

function xml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function num(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/**
 * The SVG picture of a diagram (a complete standalone document).
 *
 * @example
 * ```ts
 * import { toSvg } from "./svg.ts";
 * toSvg({ schema: "lab", nodes: [], edges: [] }).startsWith("<svg"); // true
 * ```
 */
export function toSvg(model: DiagramModel): string {
  const layout = layoutDiagram(model);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" ` +
      `viewBox="0 0 ${layout.width} ${layout.height}" font-family="ui-monospace, Menlo, Consolas, ` +
      `'DejaVu Sans Mono', monospace" font-size="${FONT_SIZE}">`,
    `<title>${xml(`DataJoint schema ${model.schema}`)}</title>`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" ` +
      `markerHeight="8" orient="auto"><path d="M0,1 L10,5 L0,9 z" fill="#555555"/></marker></defs>`,
    `<rect x="0" y="0" width="${layout.width}" height="${layout.height}" fill="#ffffff"/>`,
    `<text x="${MARGIN}" y="${MARGIN + 8}" font-weight="bold">${xml(`schema ${model.schema}`)}${
      model.nodes.length === 0 ? " (no tables)" : ""
    }</text>`,
  );
  out.push(`<g class="edges" fill="none" stroke="#555555" stroke-width="1.2">`);
  for (const { edge, points, path } of layout.edges) {
    const part = layout.boxes.get(edge.to)!.node.master === edge.from;
    const style = [
      edge.primary ? "" : ` stroke-dasharray="5 4"`,
      part ? ` stroke="#9e9e9e"` : "",
    ].join("");
    out.push(
      `<path d="${path}"${style} marker-end="url(#arrow)"><title>${
        xml(`${edge.from} -> ${edge.to}`)
      }</title></path>`,
    );
    if (edge.renames.length > 0) {
      // On the last stretch, near the child whose columns are renamed.
      const [x0, y0] = points[points.length - 2];
      const [x1, y1] = points[points.length - 1];
      const text = `proj(${edge.renames.map(([a, b]) => `${a}=${b}`).join(", ")})`;
      out.push(
        `<circle cx="${num((x0 + x1) / 2)}" cy="${num((y0 + y1) / 2)}" r="4" fill="#ff8f00" ` +
          `stroke="none"><title>${xml(text)}</title></circle>`,
      );
    }
  }
  out.push(`</g>`, `<g class="nodes">`);
  for (const b of layout.boxes.values()) out.push(nodeSvg(b));
  out.push(`</g>`, legendSvg(model, layout));
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

function nodeSvg(b: LayoutBox): string {
  const n = b.node;
  const s = NODE_STYLE[n.kind];
  const round = n.kind === "Imported" || n.kind === "Computed" ? b.height / 2 : 3;
  const dash = s.dashed ? ` stroke-dasharray="4 3"` : "";
  return [
    `<g class="node ${n.kind}" data-table="${xml(n.table)}" data-schema="${xml(n.schema)}">`,
    `<title>${xml(`${n.schema}.${n.table} (${n.kind})`)}</title>`,
    `<rect x="${num(b.x)}" y="${num(b.y)}" width="${num(b.width)}" height="${num(b.height)}" ` +
    `rx="${num(round)}" fill="${s.fill}" stroke="${s.stroke}" stroke-width="1.5"${dash}/>`,
    // A baseline a third of the font size below the middle centres the text in every viewer
    // (dominant-baseline support varies).
    `<text x="${num(b.x + b.width / 2)}" y="${num(b.y + b.height / 2 + fontSize(n) * 0.35)}" ` +
    `text-anchor="middle" fill="${s.text}" font-size="${fontSize(n)}">${xml(n.label)}</text>`,
    `</g>`,
  ].join("");
}

function legendSvg(model: DiagramModel, layout: Layout): string {
  const y = layout.height - MARGIN - 12;
  const out = [`<g class="legend" font-size="${PART_FONT_SIZE}" fill="#424242">`];
  let x = MARGIN;
  const byName = new Map(LEGEND_ORDER.map((k) => [LEGEND_NAMES[k], k]));
  for (const name of legendItems(model)) {
    const s = NODE_STYLE[byName.get(name)!];
    const dash = s.dashed ? ` stroke-dasharray="3 2"` : "";
    out.push(
      `<rect x="${x}" y="${y - 6}" width="16" height="12" rx="2" fill="${s.fill}" ` +
        `stroke="${s.stroke}"${dash}/><text x="${x + 22}" y="${num(y + 4)}">${xml(name)}</text>`,
    );
    x += 22 + textLength(name, PART_FONT_SIZE) + 16;
  }
  for (const [name, dash] of [["primary", ""], ["secondary", ` stroke-dasharray="5 4"`]]) {
    out.push(
      `<line x1="${num(x)}" y1="${y}" x2="${num(x + 16)}" y2="${y}" stroke="#555555"${dash}/>` +
        `<text x="${num(x + 22)}" y="${num(y + 4)}">${name}</text>`,
    );
    x += 22 + textLength(name, PART_FONT_SIZE) + 16;
  }
  out.push(`</g>`);
  return out.join("");
}
