/**
 * An example codec plugin: `<graph>` stores a {@link Graph} (nodes and edges with attributes,
 * directed or not), as the NetworkX example of DataJoint's custom-codec guide does for Python.
 *
 * The stored form is a plain object packed by `<blob>`:
 * `{ directed, nodes: [[id, attributes], …], edges: [[u, v, attributes], …] }`, the shape of
 * NetworkX's `{'directed': G.is_directed(), 'nodes': list(G.nodes(data=True)), 'edges':
 * list(G.edges(data=True))}`, so DataJoint Python with that codec reads what this one writes.
 *
 * The module may be loaded by URL as a second copy of the core (for instance over HTTP while the
 * application uses a local copy). It therefore imports the core by relative paths, recognises
 * graphs by a `Symbol.for` brand rather than `instanceof`, and registers only when no `<graph>`
 * is registered yet, so evaluating it twice is harmless.
 *
 * Map it in deno.json (see README.md in this folder), then declare `network : <graph>` or
 * `network : <graph@store>`.
 *
 * @example
 * ```ts
 * import { Graph, graph } from "./graph_codec.ts";
 * const g = new Graph({ directed: true }).addEdge("a", "b", { weight: 2 });
 * const stored = await graph.encode(g, { key: {} });
 * const back = await graph.decode(stored, { key: {} });
 * console.log(back.neighbors("a"), back.weight("a", "b")); // [ "b" ] 2
 * ```
 *
 * @module
 */
import { type Codec, codec, type CodecSpec, getCodec } from "../../codecs/registry.ts";
import { BLOB_KIND } from "../../codecs/blob/scalars.ts";
import { CodecError, DataJointError } from "../../lib/errors.ts";

/**
 * A node identifier: a string or a finite number.
 *
 * @example
 * ```ts
 * import type { NodeId } from "./graph_codec.ts";
 * const ids: NodeId[] = ["soma", 3];
 * ```
 */
export type NodeId = string | number;

/**
 * Node or edge attributes: blob-packable values by name (`weight` is an edge's weight).
 *
 * @example
 * ```ts
 * import type { Attributes } from "./graph_codec.ts";
 * const edge: Attributes = { weight: 0.5, kind: "excitatory" };
 * ```
 */
export type Attributes = Record<string, unknown>;

/**
 * The stored form of a graph (what `<graph>` hands to `<blob>`).
 *
 * @example
 * ```ts
 * import type { StoredGraph } from "./graph_codec.ts";
 * const s: StoredGraph = { directed: false, nodes: [["a", {}], ["b", {}]], edges: [["a", "b", {}]] };
 * ```
 */
export interface StoredGraph {
  /** Whether edges have a direction. */
  directed: boolean;
  /** Every node with its attributes, in insertion order. */
  nodes: [NodeId, Attributes][];
  /** Every edge with its attributes; an undirected edge appears once. */
  edges: [NodeId, NodeId, Attributes][];
}

// Shared by every copy of this module, so a graph made by one copy is recognised by another.
const GRAPH_BRAND: unique symbol = Symbol.for("datajoint.examples.graph.v1") as never;

/**
 * A small graph: nodes with attributes, edges with attributes (an optional numeric `weight`),
 * directed or undirected, at most one edge per ordered pair (per pair when undirected).
 *
 * @example
 * ```ts
 * import { Graph } from "./graph_codec.ts";
 * const g = new Graph().addNode("a", { layer: 1 }).addEdge("a", "b").addEdge("b", "c", { weight: 3 });
 * console.log(g.degree("b"), g.neighbors("b"), g.numberOfEdges); // 2 [ "a", "c" ] 2
 * ```
 */
export class Graph {
  /** Whether edges have a direction. */
  readonly directed: boolean;
  readonly #nodes = new Map<NodeId, Attributes>();
  // Outgoing edges; for an undirected graph both directions share one attributes object.
  readonly #succ = new Map<NodeId, Map<NodeId, Attributes>>();
  // Incoming edges (directed only), for the in-degree.
  readonly #pred = new Map<NodeId, Map<NodeId, Attributes>>();

  /** An empty graph, undirected unless `directed` is set. */
  constructor(options: { directed?: boolean } = {}) {
    this.directed = options.directed ?? false;
  }

  /** Brand that identifies graphs across copies of this module. */
  get [GRAPH_BRAND](): true {
    return true;
  }

  /**
   * Whether `x` is a graph made by any copy of this module.
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * console.log(Graph.isGraph(new Graph()), Graph.isGraph({})); // true false
   * ```
   */
  static isGraph(x: unknown): x is Graph {
    return typeof x === "object" && x !== null &&
      (x as Record<symbol, unknown>)[GRAPH_BRAND] === true;
  }

  /**
   * Adds a node, or merges attributes into an existing one (as NetworkX's `add_node`).
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * const g = new Graph().addNode(1, { label: "soma" }).addNode(1, { depth: 40 });
   * console.log(g.nodeAttributes(1)); // { label: "soma", depth: 40 }
   * ```
   */
  addNode(id: NodeId, attributes: Attributes = {}): this {
    checkId(id);
    const existing = this.#nodes.get(id);
    if (existing !== undefined) {
      Object.assign(existing, attributes);
      return this;
    }
    this.#nodes.set(id, { ...attributes });
    this.#succ.set(id, new Map());
    if (this.directed) this.#pred.set(id, new Map());
    return this;
  }

  /**
   * Adds an edge (and its missing end nodes), or merges attributes into the existing edge.
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * const g = new Graph({ directed: true }).addEdge("a", "b", { weight: 0.5 });
   * console.log(g.hasEdge("a", "b"), g.hasEdge("b", "a")); // true false
   * ```
   */
  addEdge(u: NodeId, v: NodeId, attributes: Attributes = {}): this {
    this.addNode(u);
    this.addNode(v);
    const existing = this.#succ.get(u)!.get(v);
    if (existing !== undefined) {
      Object.assign(existing, attributes);
      return this;
    }
    const data = { ...attributes };
    this.#succ.get(u)!.set(v, data);
    if (this.directed) this.#pred.get(v)!.set(u, data);
    else this.#succ.get(v)!.set(u, data);
    return this;
  }

  /**
   * Whether the node exists.
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * console.log(new Graph().addNode("a").hasNode("a")); // true
   * ```
   */
  hasNode(id: NodeId): boolean {
    return this.#nodes.has(id);
  }

  /**
   * Whether the edge exists (either direction for an undirected graph).
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * console.log(new Graph().addEdge("a", "b").hasEdge("b", "a")); // true
   * ```
   */
  hasEdge(u: NodeId, v: NodeId): boolean {
    return this.#succ.get(u)?.has(v) ?? false;
  }

  /**
   * The nodes in insertion order.
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * console.log(new Graph().addEdge(2, 1).nodes()); // [ 2, 1 ]
   * ```
   */
  nodes(): NodeId[] {
    return [...this.#nodes.keys()];
  }

  /**
   * A node's attributes (the live object), or `undefined` for an unknown node.
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * console.log(new Graph().addNode("a", { x: 1 }).nodeAttributes("a")); // { x: 1 }
   * ```
   */
  nodeAttributes(id: NodeId): Attributes | undefined {
    return this.#nodes.get(id);
  }

  /**
   * The edges with their attributes; an undirected edge appears once, in the orientation NetworkX
   * reports it (from the node inserted first).
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * console.log(new Graph().addEdge("a", "b", { weight: 2 }).edges()); // [ [ "a", "b", { weight: 2 } ] ]
   * ```
   */
  edges(): [NodeId, NodeId, Attributes][] {
    const out: [NodeId, NodeId, Attributes][] = [];
    const done = new Set<NodeId>();
    for (const [u, targets] of this.#succ) {
      for (const [v, data] of targets) {
        if (this.directed || !done.has(v)) out.push([u, v, data]);
      }
      done.add(u);
    }
    return out;
  }

  /**
   * An edge's attributes (the live object), or `undefined` when there is no such edge.
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * console.log(new Graph().addEdge("a", "b", { kind: "gap" }).edgeAttributes("b", "a")); // { kind: "gap" }
   * ```
   */
  edgeAttributes(u: NodeId, v: NodeId): Attributes | undefined {
    return this.#succ.get(u)?.get(v);
  }

  /**
   * An edge's weight: its numeric `weight` attribute, 1 when it has none, `undefined` when there
   * is no such edge.
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * const g = new Graph().addEdge("a", "b").addEdge("b", "c", { weight: 0.25 });
   * console.log(g.weight("a", "b"), g.weight("c", "b"), g.weight("a", "c")); // 1 0.25 undefined
   * ```
   */
  weight(u: NodeId, v: NodeId): number | undefined {
    const data = this.edgeAttributes(u, v);
    if (data === undefined) return undefined;
    return typeof data.weight === "number" ? data.weight : 1;
  }

  /**
   * The neighbours of a node: its successors when directed (as NetworkX's `neighbors`).
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * console.log(new Graph({ directed: true }).addEdge("a", "b").neighbors("b")); // []
   * ```
   */
  neighbors(id: NodeId): NodeId[] {
    return [...this.#adjacent(id, this.#succ).keys()];
  }

  /**
   * The number of edge ends at a node: in- plus out-degree when directed; a self-loop counts
   * twice, as in NetworkX.
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * console.log(new Graph().addEdge("a", "a").addEdge("a", "b").degree("a")); // 3
   * ```
   */
  degree(id: NodeId): number {
    const out = this.#adjacent(id, this.#succ);
    if (this.directed) return out.size + this.#adjacent(id, this.#pred).size;
    return out.size + (out.has(id) ? 1 : 0);
  }

  /** The number of nodes. */
  get numberOfNodes(): number {
    return this.#nodes.size;
  }

  /** The number of edges (an undirected edge counts once). */
  get numberOfEdges(): number {
    let n = 0;
    for (const [u, targets] of this.#succ) {
      n += targets.size;
      if (!this.directed && targets.has(u)) n++;
    }
    return this.directed ? n : n / 2;
  }

  /**
   * The stored form: plain objects, arrays, numbers and strings, ready for `<blob>`.
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * console.log(new Graph().addEdge("a", "b").toStored());
   * // { directed: false, nodes: [ [ "a", {} ], [ "b", {} ] ], edges: [ [ "a", "b", {} ] ] }
   * ```
   */
  toStored(): StoredGraph {
    return {
      directed: this.directed,
      nodes: [...this.#nodes].map(([id, data]) => [id, { ...data }]),
      edges: this.edges().map(([u, v, data]) => [u, v, { ...data }]),
    };
  }

  /**
   * A graph from its stored form. Also reads what DataJoint Python's NetworkX codec stores: node
   * entries may be bare ids, edge entries `[u, v]` without attributes, `directed` may be absent
   * (undirected), and integers may arrive as bigints or 0-d arrays. Throws a {@link CodecError}
   * for anything else.
   *
   * @example
   * ```ts
   * import { Graph } from "./graph_codec.ts";
   * const g = Graph.from({ directed: true, nodes: [["a", {}]], edges: [["a", "b", { weight: 2 }]] });
   * console.log(g.weight("a", "b")); // 2
   * ```
   */
  static from(stored: unknown): Graph {
    if (typeof stored !== "object" || stored === null || Array.isArray(stored)) {
      throw new CodecError(
        `<graph> cannot decode ${describe(stored)}: expected { directed, nodes, edges }`,
      );
    }
    const s = stored as Record<string, unknown>;
    const directed = scalar(s.directed ?? false);
    if (typeof directed !== "boolean" && typeof directed !== "number") {
      throw new CodecError(`<graph>: "directed" must be a boolean, got ${describe(s.directed)}`);
    }
    const g = new Graph({ directed: Boolean(directed) });
    for (const entry of list(s.nodes, "nodes")) {
      if (Array.isArray(entry)) g.addNode(nodeId(entry[0]), attributes(entry[1]));
      else g.addNode(nodeId(entry));
    }
    for (const entry of list(s.edges, "edges")) {
      if (!Array.isArray(entry) || entry.length < 2 || entry.length > 3) {
        throw new CodecError(
          `<graph>: an edge must be [u, v] or [u, v, attributes], got ${describe(entry)}`,
        );
      }
      g.addEdge(nodeId(entry[0]), nodeId(entry[1]), attributes(entry[2]));
    }
    return g;
  }

  #adjacent(id: NodeId, index: Map<NodeId, Map<NodeId, Attributes>>): Map<NodeId, Attributes> {
    const adjacent = index.get(id);
    if (adjacent === undefined) {
      throw new DataJointError(`The node ${JSON.stringify(id)} is not in the graph`);
    }
    return adjacent;
  }
}

function checkId(id: unknown): asserts id is NodeId {
  if (typeof id !== "string" && !(typeof id === "number" && Number.isFinite(id))) {
    throw new DataJointError(`A graph node id is a string or a finite number, got ${describe(id)}`);
  }
}

function list(x: unknown, field: string): unknown[] {
  if (x === undefined) return [];
  if (!Array.isArray(x)) {
    throw new CodecError(`<graph>: "${field}" must be a list, got ${describe(x)}`);
  }
  return x;
}

/** A blob scalar as a plain value: 0-d arrays unwrapped, safe bigints made numbers. */
function scalar(x: unknown): unknown {
  let v = x;
  if (
    typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[BLOB_KIND] === "ndarray"
  ) {
    const a = v as { size: number; element(i: number): unknown };
    if (a.size === 1) v = a.element(0);
  }
  if (
    typeof v === "bigint" && v >= BigInt(Number.MIN_SAFE_INTEGER) &&
    v <= BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    v = Number(v);
  }
  return v;
}

function nodeId(x: unknown): NodeId {
  const v = scalar(x);
  if (typeof v !== "string" && typeof v !== "number") {
    throw new CodecError(`<graph>: a node id must be a string or a number, got ${describe(x)}`);
  }
  return v;
}

function attributes(x: unknown): Attributes {
  if (x === undefined || x === null) return {};
  if (typeof x !== "object" || Array.isArray(x)) {
    throw new CodecError(`<graph>: attributes must be an object, got ${describe(x)}`);
  }
  return x as Attributes;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return typeof x;
}

const spec: CodecSpec<Graph, StoredGraph> = {
  name: "graph",
  // Always "<blob>", never "<blob@>": a store written in the definition (`<graph@cold>`) flows
  // down the chain by itself, and a store named here would replace it.
  getDtype: () => "<blob>",
  encode: (g) => g.toStored(),
  decode: (stored) => Graph.from(stored),
  validate(value) {
    if (!Graph.isGraph(value)) {
      throw new CodecError(`Expected Graph for <graph>, got ${describe(value)}`);
    }
  },
};

/**
 * The `<graph>` codec. When another copy of this module (loaded by another URL) registered
 * `<graph>` first, this is that codec: both copies then share one registration.
 *
 * @example
 * ```ts
 * import { graph } from "./graph_codec.ts";
 * console.log(graph.name, graph.getDtype(true)); // graph <blob>
 * ```
 */
export const graph: Codec<Graph, StoredGraph> =
  (getCodec("graph") as Codec<Graph, StoredGraph> | undefined) ?? codec(spec);
