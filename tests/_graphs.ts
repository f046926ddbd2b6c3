/**
 * Test helper: a sample graph for the example `<graph>` plugin, built with the `Graph` class of
 * the repository's `examples/plugins/graph_codec.ts` as loaded by a static import (the file-URL
 * copy, not one served over HTTP).
 *
 * @module
 */
import { Graph } from "../examples/plugins/graph_codec.ts";

/** A small directed graph with node and edge attributes. */
export function sampleGraph(): Graph {
  return new Graph({ directed: true })
    .addNode("soma", { depth: 40 })
    .addEdge("soma", "axon", { weight: 2.5 })
    .addEdge("axon", "bouton")
    .addEdge("bouton", "soma", { weight: 0.5, kind: "feedback" });
}
