/**
 * An example chained codec plugin: `<cgraph>` ("connectivity graph") stores a weighted adjacency
 * matrix as the graph it describes, through `<graph>`: `<cgraph>` → `<graph>` → `<blob>` → bytes
 * (or → `<hash>` → json with a store). Only the edges are stored, which for the sparse
 * connectivity of real circuits is far smaller than the matrix.
 *
 * Encode takes an n×n matrix (an `NDArray` or `number[][]`, entry `[i][j]` the weight of the edge
 * i → j, 0 for none) and makes a {@link Graph} with nodes `0 … n-1`, undirected when the matrix is
 * symmetric. Decode returns that graph (degrees, neighbours); {@link adjacencyMatrix} gives the
 * matrix back.
 *
 * Importing this module also registers `<graph>` (through a relative import, so a copy loaded by
 * URL brings its own `<graph>` from the same place).
 *
 * @example
 * ```ts
 * import { adjacencyMatrix, cgraph } from "./cgraph_codec.ts";
 * const g = await cgraph.encode([[0, 2], [2, 0]], { key: {} });
 * console.log(g.directed, g.weight(0, 1), adjacencyMatrix(g).data); // false 2 Float64Array [0, 2, 2, 0]
 * ```
 *
 * @module
 */
import { type Codec, codec, type CodecSpec, getCodec } from "../../codecs/registry.ts";
import { NDArray } from "../../codecs/blob/ndarray.ts";
import { BLOB_KIND } from "../../codecs/blob/scalars.ts";
import { CodecError } from "../../lib/errors.ts";
import { Graph } from "./graph_codec.ts";

/**
 * What `<cgraph>` accepts: a square matrix as an `NDArray` or as rows of numbers.
 *
 * @example
 * ```ts
 * import type { AdjacencyInput } from "./cgraph_codec.ts";
 * const m: AdjacencyInput = [[0, 1], [0, 0]];
 * ```
 */
export type AdjacencyInput = NDArray | readonly (readonly number[])[];

/** The matrix as rows of finite numbers; throws a CodecError for anything else. */
function toRows(value: unknown): number[][] {
  const fail = (why: string): never => {
    throw new CodecError(
      `Expected a square adjacency matrix (an n×n NDArray or number[][]) for <cgraph>: ${why}`,
    );
  };
  let rows: unknown[][];
  if (
    typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[BLOB_KIND] === "ndarray"
  ) {
    const a = value as NDArray;
    if (a.ndim !== 2 || a.shape[0] !== a.shape[1]) fail(`got an array of shape [${a.shape}]`);
    const n = a.shape[0];
    rows = Array.from(
      { length: n },
      (_, i) => Array.from({ length: n }, (_, j) => a.element(i * n + j)),
    );
  } else if (Array.isArray(value)) {
    rows = value.map((
      row,
    ) => (Array.isArray(row) ? row : fail(`a row is ${typeof row}, not an array`)));
    if (rows.some((row) => row.length !== rows.length)) {
      fail(`each of the ${rows.length} rows needs ${rows.length} entries`);
    }
  } else {
    return fail(`got ${value === null ? "null" : typeof value}`);
  }
  return rows.map((row) =>
    row.map((x) => {
      const v = typeof x === "boolean" ? Number(x) : typeof x === "bigint" ? Number(x) : x;
      return typeof v === "number" && Number.isFinite(v)
        ? v
        : fail(`an entry is ${String(x)}, not a finite real number`);
    })
  );
}

/**
 * The graph of an adjacency matrix: nodes `0 … n-1`, an edge i → j with `weight` for every
 * non-zero entry; undirected (upper triangle) when the matrix is symmetric.
 *
 * @example
 * ```ts
 * import { graphOfMatrix } from "./cgraph_codec.ts";
 * console.log(graphOfMatrix([[0, 1], [0, 0]]).edges()); // [ [ 0, 1, { weight: 1 } ] ]
 * ```
 */
export function graphOfMatrix(matrix: AdjacencyInput): Graph {
  const a = toRows(matrix);
  const n = a.length;
  const symmetric = a.every((row, i) => row.every((x, j) => x === a[j][i]));
  const g = new Graph({ directed: !symmetric });
  for (let i = 0; i < n; i++) g.addNode(i);
  for (let i = 0; i < n; i++) {
    for (let j = symmetric ? i : 0; j < n; j++) {
      if (a[i][j] !== 0) g.addEdge(i, j, { weight: a[i][j] });
    }
  }
  return g;
}

/**
 * The float64 adjacency matrix of a graph, rows and columns in node order, entries the edge
 * weights (see `Graph.weight`); the inverse of {@link graphOfMatrix}.
 *
 * @example
 * ```ts
 * import { adjacencyMatrix, graphOfMatrix } from "./cgraph_codec.ts";
 * console.log(adjacencyMatrix(graphOfMatrix([[0, 3], [0, 0]])).data); // Float64Array [0, 3, 0, 0]
 * ```
 */
export function adjacencyMatrix(g: Graph): NDArray<"float64"> {
  const nodes = g.nodes();
  const index = new Map(nodes.map((id, i) => [id, i]));
  const n = nodes.length;
  const data = new Float64Array(n * n);
  for (const [u, v] of g.edges()) {
    const i = index.get(u)!;
    const j = index.get(v)!;
    data[i * n + j] = g.weight(u, v)!;
    if (!g.directed) data[j * n + i] = data[i * n + j];
  }
  return new NDArray("float64", [n, n], data);
}

const spec: CodecSpec<AdjacencyInput | Graph, Graph> = {
  name: "cgraph",
  getDtype: () => "<graph>",
  encode: (matrix) => (Graph.isGraph(matrix) ? matrix : graphOfMatrix(matrix)),
  // `<graph>` has already rebuilt the graph: it is the decoded value.
  decode: (g) => g,
  validate(value) {
    if (!Graph.isGraph(value)) toRows(value);
  },
};

/**
 * The `<cgraph>` codec (shared with another copy of this module that registered it first).
 * Encode also accepts a `Graph` as is, so decoded values can be inserted again.
 *
 * @example
 * ```ts
 * import { cgraph } from "./cgraph_codec.ts";
 * console.log(cgraph.getDtype(false)); // <graph>
 * ```
 */
export const cgraph: Codec<AdjacencyInput | Graph, Graph> =
  (getCodec("cgraph") as Codec<AdjacencyInput | Graph, Graph> | undefined) ?? codec(spec);
