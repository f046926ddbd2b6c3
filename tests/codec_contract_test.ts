/**
 * The codec contract end to end, on MariaDB, PostgreSQL and PGlite with real tables (and file and
 * S3 stores where data leaves the table): every example of DataJoint's custom-codec guide
 * (`explanation/custom-codecs.md`, and those of `how-to/create-custom-codec.md`) reproduced in
 * TypeScript; the example `<graph>` and `<cgraph>` plugins; plugin codecs loaded from the
 * project's deno.json at declare time and when the heading of an existing table is read; what
 * `validate`, `encode` and `decode` are called with; the registry's semantics; and every way a
 * codec chain can fail to resolve.
 *
 * Codec names are global to the process, so the guide's codecs get their guide name plus a random
 * suffix (`<small_3fa9…>` for the guide's `<small>`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import "../codecs/builtins.ts";
import { unpack } from "../codecs/blob/mod.ts";
import { NDArray } from "../codecs/blob/ndarray.ts";
import type { ObjectRef } from "../codecs/object_ref.ts";
import {
  type Codec,
  codec,
  type CodecSpec,
  type DecodeContext,
  type EncodeContext,
  getCodec,
  isCodec,
  listCodecs,
  unregisterCodec,
} from "../codecs/registry.ts";
import { Connection } from "../lib/connection.ts";
import { CodecError, DataJointError, DeclarationError } from "../lib/errors.ts";
import { schema as makeSchema, type SchemaDecorator } from "../lib/schema.ts";
import { Computed, Manual } from "../lib/table.ts";
import { resolveType } from "../lib/types.ts";
import { Graph, graph, type StoredGraph } from "../examples/plugins/graph_codec.ts";
import { adjacencyMatrix, cgraph } from "../examples/plugins/cgraph_codec.ts";
import { onEveryBackend, serverDatabase, type TestBackend } from "./_connections.ts";
import { sampleGraph } from "./_graphs.ts";
import { scratchName, serverTest } from "./_servers.ts";
import { onEveryBackendAndStore } from "./_stores.ts";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** A codec name of this file: the guide's name plus a random suffix (the registry is global). */
const unique = (base: string): string => scratchName(`${base}_`);

/** The codec, registered again if another test of this process unregistered it. */
function registered<V, S>(c: Codec<V, S>): Codec<V, S> {
  return (getCodec(c.name) as Codec<V, S> | undefined) ?? codec(c);
}

/** Runs `body` on a fresh scratch schema of `c`, dropped afterwards. */
async function withSchema(
  c: Connection,
  body: (lab: SchemaDecorator, name: string) => Promise<void>,
): Promise<void> {
  const name = scratchName("dj_contract_");
  const lab = makeSchema(name, { connection: c });
  try {
    await body(lab, name);
  } finally {
    await lab.drop({ cascade: true });
  }
}

/** A column as the database holds it (JSON parsed: drivers differ in handing it back). */
async function rawColumn(
  c: Connection,
  schemaName: string,
  table: string,
  column: string,
  where: string,
): Promise<unknown> {
  const q = c.kit.dialect.quote;
  const rows = await c.query(
    `SELECT ${q(column)} AS v FROM ${q(schemaName)}.${q(table)} WHERE ${where}`,
  );
  assert.equal(rows.length, 1, `one row of ${table} where ${where}`);
  const v = rows[0].v;
  return typeof v === "string" ? JSON.parse(v) : v;
}

/** The type marker of a column's comment (`:<blob@>:…` → `<blob@>`), read from the catalog. */
async function columnMarker(
  c: Connection,
  schemaName: string,
  table: string,
  column: string,
): Promise<string | undefined> {
  c.invalidate(schemaName);
  const info = (await c.catalog(schemaName)).tables.get(table);
  const col = info?.columns.find((x) => x.name === column);
  return /^:([^:]+):/.exec(c.kit.readComment(col?.comment ?? ""))?.[1];
}

/** Whether the table exists (read fresh from the server). */
async function tableExists(c: Connection, schemaName: string, table: string): Promise<boolean> {
  if (!(await c.schemaExists(schemaName))) return false;
  c.invalidate(schemaName);
  return (await c.catalog(schemaName)).tables.has(table);
}

/** Hash metadata of `<…@>` chains ending in `<hash>`: path, store, size. */
interface HashMeta {
  hash: string;
  path: string;
  schema: string;
  store: string;
  size: number;
}

function assertHashMeta(meta: unknown, schemaName: string, store: string): HashMeta {
  const m = meta as HashMeta;
  assert.equal(typeof m, "object");
  assert.match(m.hash, /^[a-z2-7]{26}$/, "base32 MD5");
  assert.equal(m.path, `_hash/${schemaName}/${m.hash}`);
  assert.equal(m.schema, schemaName);
  assert.equal(m.store, store, "the metadata names the real store");
  assert.ok(m.size > 0);
  return m;
}

/** Whether `bytes` is a serialized DataJoint blob (plain or compressed). */
function isBlob(bytes: unknown): boolean {
  if (!(bytes instanceof Uint8Array)) return false;
  const head = new TextDecoder().decode(bytes.slice(0, 6));
  return head.startsWith("dj0\0") || head.startsWith("mYm\0") || head === "ZL123\0";
}

/** Asserts `x` is a Graph equal to `expected` (nodes, edges, attributes, direction). */
function assertGraph(x: unknown, expected: Graph): Graph {
  assert.ok(Graph.isGraph(x), `expected a Graph, got ${Object.prototype.toString.call(x)}`);
  assert.deepEqual(x.toStored(), expected.toStored());
  return x;
}

function errorWith(
  cls: abstract new (...args: never[]) => Error,
  ...parts: (string | RegExp)[]
): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    for (const p of parts) {
      if (typeof p === "string") {
        assert.ok(e.message.includes(p), `${JSON.stringify(e.message)} lacks ${JSON.stringify(p)}`);
      } else {
        assert.match(e.message, p);
      }
    }
    return true;
  };
}

// ---------------------------------------------------------------------------------------------
// The guide's codecs, in TypeScript
// ---------------------------------------------------------------------------------------------

// "Basic Structure": a codec named <mytype> chaining to <blob> through serialize/deserialize.
const MYTYPE = unique("mytype");
interface Recipe {
  title: string;
  steps: string[];
}
const serialize = (r: Recipe): string => JSON.stringify(r);
const deserialize = (s: unknown): Recipe => JSON.parse(s as string) as Recipe;
const mytype = codec<Recipe, string>({
  name: MYTYPE, // used as <mytype> in definitions
  getDtype: () => "<blob>", // chain to blob serialization
  encode: (value) => serialize(value),
  decode: (stored) => deserialize(stored),
});

// "Example: NetworkX Graphs", literally: <blob@> in a store, <blob> in-table. (The example plugin
// examples/plugins/graph_codec.ts returns "<blob>" in both modes, so that a store named in the
// definition reaches <hash>; with the guide's "<blob@>" the inner default store wins.)
const GUIDE_GRAPH = unique("graph");
const guideGraph = codec<Graph, StoredGraph>({
  name: GUIDE_GRAPH,
  getDtype: (isStore) => (isStore ? "<blob@>" : "<blob>"),
  encode: (g) => ({
    directed: g.directed,
    nodes: g.nodes().map((id) => [id, { ...g.nodeAttributes(id) }]),
    edges: g.edges().map(([u, v, data]) => [u, v, { ...data }]),
  }),
  decode: (stored) => Graph.from(stored),
});

// "Genomics: Pysam Alignments": store-only, path-addressed through <object@>.
const BAM = unique("bam");
codec<unknown, unknown>({
  name: BAM,
  getDtype(isStore) {
    if (!isStore) throw new DataJointError(`<${BAM}> requires in-store storage: use <${BAM}@>`);
    return "<object@>"; // path-addressed storage for file structure
  },
  encode: (alignments) => alignments, // storage handled by the <object> codec
  decode: (stored) => stored, // an ObjectRef for lazy access
});

// "Medical Imaging: SimpleITK": both modes; the image's bytes plus its spacing and origin.
/** A stand-in for SimpleITK's image: float32 voxels with geometry. */
class MedicalImage {
  constructor(
    readonly voxels: NDArray,
    readonly spacing: number[],
    readonly origin: number[],
    readonly direction: number[] = [1, 0, 0, 0, 1, 0, 0, 0, 1],
  ) {}

  /** The image file (a stand-in for NRRD): ndim, shape (uint32), then float32 voxels. */
  write(): Uint8Array {
    const shape = this.voxels.shape;
    const head = new Uint32Array([shape.length, ...shape]);
    const data = new Float32Array(this.voxels.size);
    for (let i = 0; i < data.length; i++) data[i] = Number(this.voxels.element(i));
    const out = new Uint8Array(head.byteLength + data.byteLength);
    out.set(new Uint8Array(head.buffer), 0);
    out.set(new Uint8Array(data.buffer), head.byteLength);
    return out;
  }

  static read(file: Uint8Array, spacing: number[], origin: number[]): MedicalImage {
    const copy = file.slice();
    const view = new DataView(copy.buffer);
    const ndim = view.getUint32(0, true);
    const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, true));
    const data = new Float32Array(copy.buffer.slice(4 + 4 * ndim));
    return new MedicalImage(NDArray.from(data, shape), spacing, origin);
  }
}
const MEDIMG = unique("medimg");
codec<MedicalImage, Record<string, unknown>>({
  name: MEDIMG,
  getDtype: (isStore) => (isStore ? "<blob@>" : "<blob>"),
  encode: (image) => ({ data: image.write(), spacing: image.spacing, origin: image.origin }),
  decode: (stored) =>
    MedicalImage.read(
      stored.data as Uint8Array,
      stored.spacing as number[],
      stored.origin as number[],
    ),
});

// "Storage Mode Support": internal only, external only, both modes.
const SMALL = unique("small");
codec<unknown, unknown>({
  name: SMALL,
  getDtype(isStore) {
    if (isStore) throw new DataJointError(`<${SMALL}> is internal-only`);
    return "json";
  },
  encode: (v) => v,
  decode: (s) => s,
});
const LARGE = unique("large");
codec<unknown, unknown>({
  name: LARGE,
  getDtype(isStore) {
    if (!isStore) throw new DataJointError(`<${LARGE}> requires @: use <${LARGE}@>`);
    return "<object@>";
  },
  encode: (v) => v,
  decode: (s) => s,
});
const FLEX = unique("flex");
codec<unknown, unknown>({
  name: FLEX,
  getDtype: (isStore) => (isStore ? "<blob@>" : "<blob>"),
  encode: (v) => v,
  decode: (s) => s,
});

// "Validation": <strictgraph> checks before encode (and its encode checks again, as the guide's).
const STRICTGRAPH = unique("strictgraph");
const strictgraph: Codec<Graph, StoredGraph> = codec<Graph, StoredGraph>({
  name: STRICTGRAPH,
  getDtype: () => "<blob>",
  validate(value) {
    if (!Graph.isGraph(value)) {
      throw new DataJointError(
        `Expected Graph, got ${
          value === null ? "null" : (value as object).constructor?.name ?? typeof value
        }`,
      );
    }
    if (value.numberOfNodes === 0) throw new DataJointError("Graph must have at least one node");
  },
  encode(g) {
    strictgraph.validate!(g);
    return g.toStored();
  },
  decode: (stored) => Graph.from(stored),
});

// "Best Practices": preserve metadata, handle versioning. The writer's version is switchable so a
// test can write rows as the previous release of the codec did.
const VERSIONED = unique("versioned");
let versionedWriter: "0.9" | "1.0" = "1.0";
codec<NDArray, Record<string, unknown>>({
  name: VERSIONED,
  getDtype: (isStore) => (isStore ? "<blob@>" : "<blob>"),
  encode: (a) =>
    versionedWriter === "1.0"
      ? { data: a, version: "1.0", dtype: a.dtype, shape: [...a.shape] }
      : { samples: a }, // 0.9: no version, another field name
  decode(stored) {
    const version = (stored.version as string | undefined) ?? "0.9";
    if (version === "1.0") {
      const a = stored.data as NDArray;
      assert.equal(a.dtype, stored.dtype);
      assert.deepEqual([...a.shape], stored.shape);
      return a;
    }
    return stored.samples as NDArray;
  },
});

// how-to "Basic Codec Structure": a graph stored as its edge list; validate raises TypeError.
const EDGES = unique("edges");
codec<Graph, [unknown, unknown][]>({
  name: EDGES,
  getDtype: () => "<blob>", // delegate to blob for serialization
  validate(value) {
    if (!Graph.isGraph(value)) {
      throw new TypeError(`Expected Graph, got ${typeof value}`);
    }
  },
  encode: (g) => g.edges().map(([u, v]) => [u, v]),
  decode(stored) {
    const g = new Graph();
    for (const [u, v] of stored) g.addEdge(u as string, v as string);
    return g;
  },
});

// how-to "get_dtype(is_store)": hash-addressed in a store, inline bytes in the table.
const RAWBYTES = unique("rawbytes");
codec<Uint8Array, Uint8Array>({
  name: RAWBYTES,
  getDtype: (isStore) => (isStore ? "<hash>" : "bytes"),
  encode: (b) => b,
  decode: (b) => b,
});

// how-to "Codec Chaining": an image handed to <blob> as an array.
/** A stand-in for a PIL image: 8-bit grey pixels, row-major. */
class Picture {
  constructor(readonly width: number, readonly height: number, readonly pixels: Uint8Array) {}
}
const IMAGE = unique("image");
codec<Picture, NDArray>({
  name: IMAGE,
  getDtype: () => "<blob>",
  encode: (p) => NDArray.from(p.pixels, [p.height, p.width]), // np.array(value)
  decode: (a) => new Picture(a.shape[1], a.shape[0], new Uint8Array(a.data as Uint8Array)),
});

// how-to "Store-Only Codecs": <zarr@> → "<object>" (schema-addressed; the store propagates).
const ZARR = unique("zarr");
codec<unknown, unknown>({
  name: ZARR,
  getDtype(isStore) {
    if (!isStore) throw new DataJointError(`<${ZARR}> requires @ (store only)`);
    return "<object>";
  },
  encode: (path) => path, // path to a zarr directory
  decode: (stored) => stored, // an ObjectRef for lazy access
});

// how-to "Complete Example": <medimage@> with validate raising TypeError, uuid primary key.
const MEDIMAGE = unique("medimage");
codec<MedicalImage, Record<string, unknown>>({
  name: MEDIMAGE,
  getDtype: (isStore) => (isStore ? "<blob@>" : "<blob>"),
  encode: (image) => ({
    array: image.voxels,
    spacing: image.spacing,
    origin: image.origin,
    direction: image.direction,
  }),
  decode: (stored) =>
    new MedicalImage(
      stored.array as NDArray,
      stored.spacing as number[],
      stored.origin as number[],
      stored.direction as number[],
    ),
  validate(value) {
    if (!(value instanceof MedicalImage)) {
      throw new TypeError(`Expected MedicalImage, got ${typeof value}`);
    }
  },
});

function sampleImage(): MedicalImage {
  const voxels = NDArray.from(new Float32Array([0, 1.5, -2, 3.25, 4, 5, 6, 7]), [2, 2, 2]);
  return new MedicalImage(voxels, [0.5, 0.5, 1.25], [10, -20, 3]);
}

function assertImage(x: unknown, expected: MedicalImage, direction = false): void {
  assert.ok(x instanceof MedicalImage, `expected a MedicalImage, got ${x}`);
  assert.deepEqual([...x.voxels.shape], [...expected.voxels.shape]);
  assert.deepEqual(
    Array.from({ length: x.voxels.size }, (_, i) => Number(x.voxels.element(i))),
    Array.from({ length: expected.voxels.size }, (_, i) => Number(expected.voxels.element(i))),
  );
  assert.deepEqual(x.spacing, expected.spacing);
  assert.deepEqual(x.origin, expected.origin);
  if (direction) assert.deepEqual(x.direction, expected.direction);
}

// ---------------------------------------------------------------------------------------------
// Registry semantics (no database)
// ---------------------------------------------------------------------------------------------

Deno.test("guide: auto-registration — a codec is usable as soon as it is defined", () => {
  assert.ok(listCodecs().includes(MYTYPE), "no decorator, no register call");
  // Importing the example plugins defined <graph> and <cgraph> (`assert "graph" in list_codecs()`).
  assert.ok(listCodecs().includes("graph"));
  assert.ok(listCodecs().includes("cgraph"));
  assert.equal(getCodec("graph"), graph);
  assert.equal(getCodec("cgraph"), cgraph);
  assert.equal(getCodec(MYTYPE), mytype);
  assert.equal(getCodec(`<${MYTYPE}>`), mytype);
  assert.ok(isCodec(mytype));
  assert.deepEqual(resolveType(`<${MYTYPE}>`, getCodec).chain.map((c) => c.name), [
    MYTYPE,
    "blob",
  ]);
});

Deno.test("registry: listing, duplicate names, the same spec twice, unregistering, brand", () => {
  const builtins = ["attach", "blob", "filepath", "hash", "npy", "object"];
  const before = listCodecs();
  assert.deepEqual(before, [...before].sort(), "listCodecs() is sorted");
  for (const b of builtins) assert.ok(before.includes(b), `built-in <${b}> is listed`);

  const name = unique("reg");
  const spec: CodecSpec<string, string> = {
    name,
    getDtype: () => "varchar(64)",
    encode: (v) => v.trim(),
    decode: (s) => s,
  };
  const made = codec(spec);
  try {
    // Defining registers; nothing else is needed.
    assert.equal(getCodec(name), made);
    assert.deepEqual(listCodecs(), [...before, name].sort());
    assert.ok(Object.isFrozen(made), "a registered codec cannot be changed");
    // The same spec object again: a no-op that returns the registered codec.
    assert.equal(codec(spec), made);
    assert.deepEqual(listCodecs(), [...before, name].sort());
    // Another codec under a taken name — even an identical one — is an error.
    assert.throws(
      () => codec({ ...spec }),
      errorWith(DataJointError, `<${name}> is already registered`),
    );
    assert.throws(
      () => codec({ name: "blob", getDtype: () => "bytes", encode: (v) => v, decode: (s) => s }),
      errorWith(DataJointError, "<blob> is already registered"),
    );
    assert.equal(getCodec(name), made, "the failed definition replaced nothing");
    // Names are case-sensitive identifiers; a spec needs all three functions.
    assert.equal(getCodec(name.toUpperCase()), undefined);
    assert.throws(
      () => codec({ ...spec, name: "has-dash" }),
      errorWith(DataJointError, "Codec name must be a non-empty identifier"),
    );
    assert.throws(
      () => codec({ ...spec, name: "" }),
      errorWith(DataJointError, "Codec name must be a non-empty identifier"),
    );
    assert.throws(
      () =>
        codec(
          { name: unique("nodecode"), getDtype: () => "json", encode: (v: unknown) => v } as never,
        ),
      errorWith(DataJointError, "needs a decode() function"),
    );
  } finally {
    unregisterCodec(name);
  }
  assert.equal(getCodec(name), undefined);
  assert.deepEqual(listCodecs(), before);
  // Unregistering an unknown name is an error.
  assert.throws(
    () => unregisterCodec(name),
    errorWith(DataJointError, `<${name}> is not registered`),
  );
  // A fresh definition under the freed name works again.
  const again = codec({ ...spec });
  assert.equal(getCodec(name), again);
  unregisterCodec(name);

  // getCodec strips brackets and any store.
  const blob = getCodec("blob");
  assert.ok(blob !== undefined && blob.name === "blob");
  for (const text of ["<blob>", "<blob@>", "<blob@main>", "<blob@store-2>", " <blob@ main > "]) {
    assert.equal(getCodec(text), blob, text);
  }
  assert.equal(getCodec("<nosuch_codec_xyz@main>"), undefined);

  // The brand, not the shape, makes a codec.
  assert.equal(isCodec(blob), true);
  assert.equal(isCodec({ name: "blob" }), false);
  assert.equal(
    isCodec({ name: "blob", getDtype: () => "bytes", encode: (v: unknown) => v, decode: () => 0 }),
    false,
  );
  assert.equal(isCodec(null), false);
  assert.equal(isCodec("blob"), false);
});

Deno.test("chain resolution: the guide's chains resolve as the reference's table says", () => {
  registered(graph);
  registered(cgraph);
  const r = (t: string) => {
    const x = resolveType(t, getCodec);
    return { storage: x.storage.text, chain: x.chain.map((c) => c.name), store: x.store };
  };
  // Codec chaining (the guide's diagram): <graph> → <blob> → bytes.
  assert.deepEqual(r("<graph>"), { storage: "bytes", chain: ["graph", "blob"], store: null });
  assert.deepEqual(r("<cgraph>"), {
    storage: "bytes",
    chain: ["cgraph", "graph", "blob"],
    store: null,
  });
  // In a store the chain ends in <hash> → json; the outer store flows down.
  assert.deepEqual(r("<cgraph@>"), {
    storage: "json",
    chain: ["cgraph", "graph", "blob", "hash"],
    store: "",
  });
  assert.deepEqual(r("<cgraph@cold>"), {
    storage: "json",
    chain: ["cgraph", "graph", "blob", "hash"],
    store: "cold",
  });
  // The guide's literal graph codec names <blob@>: an inner level's own store wins (reference
  // resolve_dtype), so <guide_graph@cold> ends in the default store.
  assert.deepEqual(r(`<${GUIDE_GRAPH}@cold>`), {
    storage: "json",
    chain: [GUIDE_GRAPH, "blob", "hash"],
    store: "",
  });
  assert.deepEqual(r(`<${SMALL}>`), { storage: "json", chain: [SMALL], store: null });
  assert.deepEqual(r(`<${LARGE}@>`), { storage: "json", chain: [LARGE, "object"], store: "" });
  assert.deepEqual(r(`<${ZARR}@raw>`), { storage: "json", chain: [ZARR, "object"], store: "raw" });
  assert.deepEqual(r(`<${FLEX}>`), { storage: "bytes", chain: [FLEX, "blob"], store: null });
  assert.deepEqual(r(`<${FLEX}@>`), {
    storage: "json",
    chain: [FLEX, "blob", "hash"],
    store: "",
  });
  assert.deepEqual(r(`<${RAWBYTES}>`), { storage: "bytes", chain: [RAWBYTES], store: null });
  assert.deepEqual(r(`<${RAWBYTES}@s>`), {
    storage: "json",
    chain: [RAWBYTES, "hash"],
    store: "s",
  });
  assert.deepEqual(r(`<${BAM}@>`), { storage: "json", chain: [BAM, "object"], store: "" });
});

// Codecs whose chains end nowhere, for the resolution and declaration tests.
const CYC_A = unique("cyc_a");
const CYC_B = unique("cyc_b");
const CYC_SELF = unique("cyc_self");
const NOT_A_TYPE = unique("not_a_type");
const NATIVE = unique("native");
const NOT_STRING = unique("not_string");
const TO_UNKNOWN = unique("to_unknown");
const TO_HASH = unique("to_hash");
const UNKNOWN = unique("nosuch");
for (
  const [name, dtype] of [
    [CYC_A, `<${CYC_B}>`],
    [CYC_B, `<${CYC_A}>`],
    [CYC_SELF, `<${CYC_SELF}@>`],
    [NOT_A_TYPE, "graph"],
    [NATIVE, "longblob"],
    [NOT_STRING, 42],
    [TO_UNKNOWN, `<${UNKNOWN}>`],
    [TO_HASH, "<hash>"],
  ] as const
) {
  codec({ name, getDtype: () => dtype as string, encode: (v) => v, decode: (s) => s });
}

/** Each broken type with the message parts its DeclarationError must carry. */
const BROKEN_TYPES: [string, string[]][] = [
  [`<${UNKNOWN}>`, [`Unknown codec <${UNKNOWN}>`, "deno.json", '"datajoint" → "codecs"']],
  [`<${UNKNOWN}@>`, [`Unknown codec <${UNKNOWN}>`, "deno.json"]],
  [`<${CYC_A}>`, ["Circular codec reference", `<${CYC_A}> appears twice`]],
  [`<${CYC_B}@>`, ["Circular codec reference", `<${CYC_B}> appears twice`]],
  [`<${CYC_SELF}>`, ["Circular codec reference", `<${CYC_SELF}> appears twice`]],
  [`<${SMALL}@>`, [`Type <${SMALL}@>`, `<${SMALL}> is internal-only`]],
  [`<${SMALL}@main>`, [`<${SMALL}> is internal-only`]],
  [`<${LARGE}>`, [`Type <${LARGE}>`, `<${LARGE}> requires @: use <${LARGE}@>`]],
  [`<${BAM}>`, [`<${BAM}> requires in-store storage`]],
  [`<${ZARR}>`, [`<${ZARR}> requires @ (store only)`]],
  ["<object>", ["<object> requires @"]],
  ["<hash>", ["<hash> requires @"]],
  [`<${TO_HASH}>`, [`Type <${TO_HASH}>`, "<hash> requires @"]],
  [`<${NOT_A_TYPE}>`, [`Codec <${NOT_A_TYPE}> names an invalid storage type "graph"`]],
  [`<${NATIVE}>`, [`Codec <${NATIVE}> must store a core type, not the native type longblob`]],
  [`<${NOT_STRING}>`, [`Codec <${NOT_STRING}>.getDtype() returned number`]],
  [`<${TO_UNKNOWN}>`, [`Unknown codec <${UNKNOWN}> in type <${TO_UNKNOWN}>`]],
];

Deno.test("chain errors: resolveType rejects every chain that ends nowhere", () => {
  for (const [type, parts] of BROKEN_TYPES) {
    assert.throws(() => resolveType(type, getCodec), errorWith(DeclarationError, ...parts), type);
  }
  // A store-only inner codec is fine once a store is named anywhere above it.
  assert.equal(resolveType(`<${TO_HASH}@>`, getCodec).storage.text, "json");
});

// ---------------------------------------------------------------------------------------------
// Declaring broken types on real tables
// ---------------------------------------------------------------------------------------------

await onEveryBackend(
  "chain errors: declaring a broken codec type is a DeclarationError and creates nothing",
  async (c) => {
    await withSchema(c, async (lab, schemaName) => {
      for (const [type, parts] of BROKEN_TYPES) {
        @lab
        class Broken extends Manual {
          static override definition = `
            broken_id : int32
            ---
            payload : ${type}   # a payload
          `;
        }
        await assert.rejects(
          () => Broken.declare(),
          errorWith(DeclarationError, ...parts, `payload : ${type}`),
          type,
        );
        assert.equal(await tableExists(c, schemaName, "broken"), false, type);
      }
      // A definition's unknown codec is looked up in the project's deno.json first (the
      // repository's has no "datajoint" section), then reported.
      assert.equal(getCodec(UNKNOWN), undefined);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// Storage modes
// ---------------------------------------------------------------------------------------------

await onEveryBackendAndStore(
  "guide: an internal-only codec (<small>) keeps JSON in the table; <small@> is refused",
  async (c) => {
    await withSchema(c, async (lab, schemaName) => {
      @lab
      class Settings extends Manual {
        static override definition = `
          settings_id : int32
          ---
          params : <${SMALL}>     # small data in the database
        `;
      }
      const params = {
        threshold: 0.25,
        channels: [1, 2, 3],
        label: "ünïcode",
        nested: { a: null },
      };
      await Settings.insert1({ settings_id: 1, params });
      assert.deepEqual(
        await rawColumn(c, schemaName, "settings", "params", "settings_id = 1"),
        params,
        "stored as JSON in the column",
      );
      assert.equal(await columnMarker(c, schemaName, "settings", "params"), `<${SMALL}>`);
      assert.deepEqual(await Settings.restrict({ settings_id: 1 }).fetch1("params"), params);

      @lab
      class SettingsInStore extends Manual {
        static override definition = `
          settings_id : int32
          ---
          params : <${SMALL}@>
        `;
      }
      await assert.rejects(
        () => SettingsInStore.declare(),
        errorWith(DeclarationError, `<${SMALL}> is internal-only`, `params : <${SMALL}@>`),
      );
      assert.equal(await tableExists(c, schemaName, "settings_in_store"), false);
    });
  },
  ["file"],
);

await onEveryBackendAndStore(
  "guide: external-only codecs (<bam@> and <large@> via <object@>, <zarr@raw> via <object>)",
  async (c, _backend, stores) => {
    const local = await Deno.makeTempDir({ prefix: "dj-contract-zarr-" });
    try {
      // A zarr-like folder: metadata and one chunk.
      const zarrDir = join(local, "waveform.zarr");
      await Deno.mkdir(zarrDir);
      const zarray = JSON.stringify({
        shape: [4, 2],
        chunks: [4, 2],
        dtype: "<f8",
        zarr_format: 2,
      });
      await Deno.writeTextFile(join(zarrDir, ".zarray"), zarray);
      await Deno.writeFile(join(zarrDir, "0.0"), new Uint8Array(64).fill(7));

      await withSchema(c, async (lab, schemaName) => {
        @lab
        class Alignment extends Manual {
          static override definition = `
            sample_id : int32
            ---
            reads : <${BAM}@>          # BAM file in the default store
            summary : <${LARGE}@>      # large data, object storage only
            waveform : <${ZARR}@raw>   # schema-addressed, in the store named here
          `;
        }
        const bam = new TextEncoder().encode("BAM\x01 fake alignments");
        const summary = new Uint8Array(2048).map((_, i) => i % 251);
        await Alignment.insert1({
          sample_id: 7,
          reads: ["bam", bam],
          summary,
          waveform: zarrDir,
        });

        // Stored metadata: schema-addressed paths, the default store's real name.
        const readsMeta = await rawColumn(c, schemaName, "alignment", "reads", "sample_id = 7") as {
          path: string;
          store: string;
          size: number;
          ext: string;
        };
        assert.match(
          readsMeta.path,
          new RegExp(`^_schema/${schemaName}/alignment/sample_id=7/reads_[A-Za-z0-9_-]+\\.bam$`),
        );
        assert.equal(readsMeta.store, "main");
        assert.equal(readsMeta.size, bam.length);
        const waveMeta = await rawColumn(
          c,
          schemaName,
          "alignment",
          "waveform",
          "sample_id = 7",
        ) as { store: string; is_dir: boolean; item_count: number };
        assert.equal(waveMeta.store, "raw", "the store written in the definition reached <object>");
        assert.equal(waveMeta.is_dir, true);
        assert.equal(waveMeta.item_count, 2);

        // Fetch gives lazy references; the data comes back on read.
        const row = await Alignment.restrict({ sample_id: 7 }).fetch1() as Record<string, unknown>;
        const reads = row.reads as ObjectRef;
        assert.equal(reads.ext, "bam");
        assert.deepEqual(await reads.read(), bam);
        assert.deepEqual(await (row.summary as ObjectRef).read(), summary);
        const wave = row.waveform as ObjectRef;
        assert.equal(wave.isDir, true);
        assert.deepEqual((await wave.list()).sort(), [".zarray", "0.0"]);
        assert.equal(new TextDecoder().decode(await wave.read(".zarray")), zarray);
        assert.deepEqual(await wave.read("0.0"), new Uint8Array(64).fill(7));
        // The objects really are in the configured stores.
        const main = await c.stores.backend("main");
        assert.ok(await main.stat(readsMeta.path), `${readsMeta.path} in ${stores.where}`);
        const raw = await c.stores.backend("raw");
        assert.equal(raw.name, "raw");

        // Without @, an external-only codec cannot be declared.
        for (
          const [type, why] of [[`<${LARGE}>`, "requires @"], [`<${BAM}>`, "requires in-store"]]
        ) {
          @lab
          class InTable extends Manual {
            static override definition = `
              sample_id : int32
              ---
              data : ${type}
            `;
          }
          await assert.rejects(() => InTable.declare(), errorWith(DeclarationError, why, type));
          assert.equal(await tableExists(c, schemaName, "in_table"), false);
        }
      });
    } finally {
      await Deno.remove(local, { recursive: true });
    }
  },
);

await onEveryBackendAndStore(
  "guide: both modes — <blob>/<blob@>, <flex>, <medimg>, a <blob> codec in-table and in a store",
  async (c) => {
    registered(graph);
    await withSchema(c, async (lab, schemaName) => {
      @lab
      class Results extends Manual {
        static override definition = `
          result_id : int32
          ---
          small_blob : <blob>
          big_blob : <blob@>
          flex_in : <${FLEX}>
          flex_out : <${FLEX}@>
          image_in : <${MEDIMG}>
          image_out : <${MEDIMG}@>
          net : <${EDGES}>
          net_large : <${EDGES}@main>
          bytes_in : <${RAWBYTES}>
          bytes_out : <${RAWBYTES}@>
          picture : <${IMAGE}>
        `;
      }
      const value = { trace: NDArray.from(new Float64Array([1, 2.5, -3]), [3]), label: "x" };
      const image = sampleImage();
      const net = new Graph().addEdge("a", "b").addEdge("b", "c").addEdge("c", "a");
      const payload = new TextEncoder().encode("raw payload bytes");
      const pixels = new Uint8Array([0, 64, 128, 255, 32, 16]);
      await Results.insert1({
        result_id: 1,
        small_blob: value,
        big_blob: value,
        flex_in: [1, "two", 3],
        flex_out: [1, "two", 3],
        image_in: image,
        image_out: image,
        net,
        net_large: net,
        bytes_in: payload,
        bytes_out: payload,
        picture: new Picture(3, 2, pixels),
      });
      const raw = (col: string) => rawColumn(c, schemaName, "results", col, "result_id = 1");

      // In-table forms hold serialized blobs (or the bytes themselves); in-store forms hold
      // hash metadata naming the real store.
      for (const col of ["small_blob", "flex_in", "image_in", "net", "picture"]) {
        assert.ok(isBlob(await raw(col)), `${col} holds a blob`);
      }
      assert.deepEqual(new Uint8Array(await raw("bytes_in") as Uint8Array), payload);
      for (const col of ["big_blob", "flex_out", "image_out", "net_large", "bytes_out"]) {
        assertHashMeta(await raw(col), schemaName, "main");
      }
      // The same value in a store and in the table is the same blob: its hash is the MD5 of it.
      const bigMeta = await raw("big_blob") as HashMeta;
      assert.equal(bigMeta.size, (await raw("small_blob") as Uint8Array).length);
      const main = await c.stores.backend("main");
      assert.deepEqual(
        new Uint8Array(await main.get(bigMeta.path)),
        new Uint8Array(await raw("small_blob") as Uint8Array),
      );
      // <rawbytes@> keeps exactly the bytes, hash-addressed.
      const bytesMeta = await raw("bytes_out") as HashMeta;
      assert.deepEqual(new Uint8Array(await main.get(bytesMeta.path)), payload);
      // <edges> stores the edge list, in-table and in the store alike.
      assert.deepEqual(unpack(await raw("net") as Uint8Array), [
        ["a", "b"],
        ["a", "c"],
        ["b", "c"],
      ]);

      const row = await Results.restrict({ result_id: 1 }).fetch1() as Record<string, unknown>;
      for (const col of ["small_blob", "big_blob"]) {
        const v = row[col] as { trace: NDArray; label: string };
        assert.equal(v.label, "x");
        assert.deepEqual([...v.trace.data as Float64Array], [1, 2.5, -3]);
      }
      assert.deepEqual(row.flex_in, [1, "two", 3]);
      assert.deepEqual(row.flex_out, [1, "two", 3]);
      assertImage(row.image_in, image);
      assertImage(row.image_out, image);
      for (const col of ["net", "net_large"]) {
        const g = row[col] as Graph;
        assert.ok(Graph.isGraph(g));
        assert.deepEqual(g.edges().map(([u, v]) => [u, v]), [["a", "b"], ["a", "c"], ["b", "c"]]);
      }
      assert.deepEqual(new Uint8Array(row.bytes_in as Uint8Array), payload);
      assert.deepEqual(new Uint8Array(row.bytes_out as Uint8Array), payload);
      const pic = row.picture as Picture;
      assert.ok(pic instanceof Picture);
      assert.deepEqual([pic.width, pic.height], [3, 2]);
      assert.deepEqual(pic.pixels, pixels);

      // <edges> validates (a TypeError, as in the how-to) before anything is written.
      await assert.rejects(
        () =>
          Results.insert1({ ...(row as Record<string, unknown>), result_id: 2, net: [["a", "b"]] }),
        (e: unknown) =>
          e instanceof DataJointError && e.cause instanceof TypeError &&
          /attribute net:/.test(e.message) && /Expected Graph/.test(e.message),
      );
      assert.equal(await Results.count(), 1);
    });
  },
);

await onEveryBackendAndStore(
  "guide: <medimage@> with a uuid primary key; versioned metadata reads old and new rows",
  async (c) => {
    await withSchema(c, async (lab, schemaName) => {
      @lab
      class Scan extends Manual {
        static override definition = `
          scan_id : uuid
          ---
          ct_image : <${MEDIMAGE}@>      # CT scan with metadata
        `;
      }
      const id = crypto.randomUUID();
      const image = sampleImage();
      await Scan.insert1({ scan_id: id, ct_image: image });
      const fetched = await Scan.restrict({ scan_id: id }).fetch1("ct_image");
      assertImage(fetched, image, true);
      assertHashMeta(
        await rawColumn(c, schemaName, "scan", "ct_image", `1 = 1`),
        schemaName,
        "main",
      );
      await assert.rejects(
        () => Scan.insert1({ scan_id: crypto.randomUUID(), ct_image: { spacing: [1, 1, 1] } }),
        (e: unknown) =>
          e instanceof DataJointError && e.cause instanceof TypeError &&
          /Expected MedicalImage/.test(e.message) && /attribute ct_image/.test(e.message),
      );
      assert.equal(await Scan.count(), 1);

      @lab
      class Recording extends Manual {
        static override definition = `
          recording_id : int32
          ---
          samples : <${VERSIONED}>
          samples_large : <${VERSIONED}@>
        `;
      }
      const old = NDArray.from(new Int16Array([1, -2, 3]), [3]);
      const cur = NDArray.from(new Float32Array([0.5, 1.5]), [1, 2]);
      try {
        versionedWriter = "0.9"; // rows written by the previous release of the codec
        await Recording.insert1({ recording_id: 1, samples: old, samples_large: old });
      } finally {
        versionedWriter = "1.0";
      }
      await Recording.insert1({ recording_id: 2, samples: cur, samples_large: cur });
      const stored = unpack(
        await rawColumn(c, schemaName, "recording", "samples", "recording_id = 2") as Uint8Array,
      ) as Record<string, unknown>;
      assert.equal(stored.version, "1.0");
      assert.equal(stored.dtype, "float32");
      assert.deepEqual(stored.shape, [1, 2]);
      const rows = await Recording.toDicts({ orderBy: "recording_id" });
      for (const col of ["samples", "samples_large"]) {
        const a = rows[0][col] as NDArray;
        assert.equal(a.dtype, "int16");
        assert.deepEqual([...a.data as Int16Array], [1, -2, 3]);
        const b = rows[1][col] as NDArray;
        assert.equal(b.dtype, "float32");
        assert.deepEqual([...b.shape], [1, 2]);
        assert.deepEqual([...b.data as Float32Array], [0.5, 1.5]);
      }
    });
  },
  ["file"],
);

// ---------------------------------------------------------------------------------------------
// The graph plugins
// ---------------------------------------------------------------------------------------------

await onEveryBackendAndStore(
  "guide: NetworkX example — <graph> in the table and <graph@> in a store give Graphs back",
  async (c) => {
    registered(graph);
    registered(guideGraph);
    await withSchema(c, async (lab, schemaName) => {
      @lab
      class Neurons extends Manual {
        static override definition = `
          neurons_id : int32
          ---
          n_cells : int32
        `;
      }
      @lab
      class Connectivity extends Computed {
        static override definition = `
          -> Neurons
          ---
          network : <graph>        # small graphs in database
          full_network : <graph@>  # large graphs in object storage
          literal : <${GUIDE_GRAPH}>       # the guide's codec, word for word
          literal_raw : <${GUIDE_GRAPH}@raw>
          example_raw : <graph@raw>
        `;
      }
      await Neurons.insert([{ neurons_id: 1, n_cells: 3 }, { neurons_id: 2, n_cells: 0 }]);
      const g = sampleGraph();
      const empty = new Graph();
      // What make() would do (this library has no populate yet).
      await Connectivity.insert(
        [
          {
            neurons_id: 1,
            network: g,
            full_network: g,
            literal: g,
            literal_raw: g,
            example_raw: g,
          },
          {
            neurons_id: 2,
            network: empty,
            full_network: empty,
            literal: empty,
            literal_raw: empty,
            example_raw: empty,
          },
        ],
        { allowDirectInsert: true },
      );
      assert.equal(Connectivity.tableName, "__connectivity");

      // Fetch returns the graph directly.
      const network = await Connectivity.restrict({ neurons_id: 1 }).fetch1("network");
      assertGraph(network, g);
      assert.equal((network as Graph).numberOfNodes, 3);
      assert.equal((network as Graph).weight("bouton", "soma"), 0.5);
      const row = await Connectivity.restrict({ neurons_id: 1 }).fetch1() as Record<
        string,
        unknown
      >;
      for (const col of ["network", "full_network", "literal", "literal_raw", "example_raw"]) {
        assertGraph(row[col], g);
      }
      const second = await Connectivity.restrict({ neurons_id: 2 }).fetch1() as Record<
        string,
        unknown
      >;
      assertGraph(second.full_network, empty);

      // In-table: the blob of the stored graph; in a store: hash metadata naming the store.
      const raw = (col: string) =>
        rawColumn(c, schemaName, "__connectivity", col, "neurons_id = 1");
      const inTable = await raw("network") as Uint8Array;
      assert.ok(isBlob(inTable));
      assertGraph(await graph.decode(unpack(inTable) as unknown as StoredGraph, { key: {} }), g);
      assertHashMeta(await raw("full_network"), schemaName, "main");
      // <graph@raw> reaches <hash> in "raw"; the guide's literal codec names <blob@>, whose own
      // (default) store wins over the one in the definition, as the reference resolves it.
      assertHashMeta(await raw("example_raw"), schemaName, "raw");
      assertHashMeta(await raw("literal_raw"), schemaName, "main");
      assert.equal(
        await columnMarker(c, schemaName, "__connectivity", "example_raw"),
        "<graph@raw>",
      );

      // Validation: <graph> rejects what is not a Graph, naming table, key and attribute.
      await Neurons.insert1({ neurons_id: 3, n_cells: 1 });
      await assert.rejects(
        () =>
          Connectivity.insert1({
            neurons_id: 3,
            network: { nodes: [], edges: [] },
            full_network: g,
            literal: g,
            literal_raw: g,
            example_raw: g,
          }, { allowDirectInsert: true }),
        errorWith(
          CodecError,
          "__connectivity",
          '"neurons_id":3',
          "attribute network",
          "Expected Graph for <graph>",
        ),
      );
      assert.equal(await Connectivity.count(), 2);
    });
  },
  ["file"],
);

await onEveryBackendAndStore(
  "a chained codec: <cgraph> → <graph> → <blob> → bytes in-table, <cgraph@> → … → <hash> → json",
  async (c, _backend, stores) => {
    registered(graph);
    registered(cgraph);
    await withSchema(c, async (lab, schemaName) => {
      @lab
      class Circuit extends Manual {
        static override definition = `
          circuit_id : int32
          ---
          wiring : <cgraph>
          wiring_store : <cgraph@>
          wiring_named = null : <cgraph@main>
        `;
      }
      const directed = [[0, 2, 0], [0, 0, 1.5], [0.25, 0, 0]];
      const symmetric = NDArray.from(new Float64Array([0, 1, 1, 0]), [2, 2]);
      await Circuit.insert([
        { circuit_id: 1, wiring: directed, wiring_store: directed, wiring_named: directed },
        { circuit_id: 2, wiring: symmetric, wiring_store: symmetric },
      ]);

      // The column types: bytes in-table, json in the store; the declared type in the comment.
      const heading = await Circuit.heading();
      const attr = (n: string) => heading.attributes.find((a) => a.name === n)!;
      assert.deepEqual(attr("wiring").resolved?.chain.map((x) => x.name), [
        "cgraph",
        "graph",
        "blob",
      ]);
      assert.equal(attr("wiring").resolved?.storage.text, "bytes");
      assert.deepEqual(attr("wiring_store").resolved?.chain.map((x) => x.name), [
        "cgraph",
        "graph",
        "blob",
        "hash",
      ]);
      assert.equal(attr("wiring_store").resolved?.storage.text, "json");
      assert.equal(await columnMarker(c, schemaName, "circuit", "wiring_store"), "<cgraph@>");

      // Stored forms: a blob of the graph in the table; metadata naming the real store ("main",
      // not "") for <cgraph@>, identical for <cgraph@main> (same bytes, same hash).
      const raw = (col: string, id: number) =>
        rawColumn(c, schemaName, "circuit", col, `circuit_id = ${id}`);
      const bytes = await raw("wiring", 1) as Uint8Array;
      assert.ok(isBlob(bytes));
      const stored = unpack(bytes) as unknown as StoredGraph;
      assert.equal(stored.directed, true);
      assert.equal(stored.edges.length, 3);
      const meta = assertHashMeta(await raw("wiring_store", 1), schemaName, "main");
      assert.deepEqual(await raw("wiring_named", 1), meta);
      assert.equal(meta.size, bytes.length, "the store holds the very blob the table would");
      const main = await c.stores.backend("main");
      assert.deepEqual(new Uint8Array(await main.get(meta.path)), new Uint8Array(bytes));
      assert.ok(stores.where.length > 0);

      // Fetched back as graphs; the matrix comes back through adjacencyMatrix.
      const rows = await Circuit.toDicts({ orderBy: "circuit_id" });
      for (const col of ["wiring", "wiring_store", "wiring_named"]) {
        const g = rows[0][col] as Graph;
        assert.ok(Graph.isGraph(g), col);
        assert.equal(g.directed, true);
        assert.deepEqual(
          [...adjacencyMatrix(g).data],
          directed.flat(),
          `${col}: the adjacency matrix round-trips`,
        );
      }
      for (const col of ["wiring", "wiring_store"]) {
        const g = rows[1][col] as Graph;
        assert.equal(g.directed, false, "a symmetric matrix is an undirected graph");
        assert.deepEqual(g.neighbors(0), [1]);
      }
      assert.equal(rows[1].wiring_named, null);
      // A decoded graph can be inserted again (cgraph's encode accepts a Graph as is).
      await Circuit.insert1({
        circuit_id: 3,
        wiring: rows[0].wiring,
        wiring_store: rows[0].wiring_store,
      });
      assert.deepEqual(await raw("wiring_store", 3), meta, "the same graph, the same object");
      // <cgraph> validates its input (the outermost codec of the chain).
      await assert.rejects(
        () => Circuit.insert1({ circuit_id: 4, wiring: [[0, 1]], wiring_store: directed }),
        errorWith(CodecError, "attribute wiring", "square adjacency matrix", '"circuit_id":4'),
      );
      assert.equal(await Circuit.count(), 3);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

const PICKY = unique("picky");
const PICKY_OUTER = unique("picky_outer");
const calls = { validate: [] as unknown[], encode: 0, decode: 0, outerValidate: 0 };
codec<string, string>({
  name: PICKY,
  getDtype: () => "varchar(32)",
  validate(value) {
    calls.validate.push(value);
    if (value === "type error") throw new TypeError("picky wants text, not this");
    if (value === "codec error") throw new CodecError("picky cannot encode this");
    if (value === "datajoint error") throw new DataJointError("picky refuses this");
    if (value === "range error") throw new RangeError("picky: out of range");
  },
  encode(value) {
    calls.encode++;
    return value;
  },
  decode(stored) {
    calls.decode++;
    return stored;
  },
});
// An outer codec whose output the inner <picky> would reject if it validated it.
codec<string, string>({
  name: PICKY_OUTER,
  getDtype: () => `<${PICKY}>`,
  validate() {
    calls.outerValidate++;
  },
  encode: () => "type error",
  decode: (s) => `outer(${s})`,
});

await onEveryBackendAndStore(
  "validation: validate errors surface from insert naming table, key and attribute; nothing is inserted",
  async (c, _backend) => {
    registered(strictgraph);
    await withSchema(c, async (lab, schemaName) => {
      @lab
      class Measurement extends Manual {
        static override definition = `
          val_id : int32
          ---
          data : <${PICKY}>
          note = null : <${PICKY}>
          chained = null : <${PICKY_OUTER}>
          net = null : <${STRICTGRAPH}>
        `;
      }
      await Measurement.declare();
      calls.validate = [];
      calls.encode = 0;
      calls.outerValidate = 0;
      const cases: [string, abstract new (...a: never[]) => Error, string][] = [
        ["type error", TypeError, "picky wants text, not this"],
        ["codec error", CodecError, "picky cannot encode this"],
        ["datajoint error", DataJointError, "picky refuses this"],
        ["range error", RangeError, "picky: out of range"],
      ];
      for (const [value, cls, message] of cases) {
        await assert.rejects(
          () => Measurement.insert1({ val_id: 2, data: value }),
          (e: unknown) => {
            assert.ok(e instanceof DataJointError, `${value}: a DataJointError, got ${e}`);
            // A DataJointError keeps its class; anything else becomes a DataJointError whose
            // cause is the original.
            if (cls.prototype instanceof DataJointError || cls === DataJointError) {
              assert.equal(e.constructor, cls);
            } else {
              assert.equal(e.constructor, DataJointError);
            }
            assert.ok(e.cause instanceof cls, `${value}: the cause is the original error`);
            assert.ok(e.message.includes(schemaName), e.message);
            assert.ok(e.message.includes("measurement"), e.message);
            assert.ok(e.message.includes('key {"val_id":2}'), e.message);
            assert.ok(e.message.includes("attribute data"), e.message);
            assert.ok(e.message.includes(message), e.message);
            return true;
          },
        );
      }
      assert.equal(calls.encode, 0, "a failed validate stops before encode");
      assert.equal(await Measurement.count(), 0);

      // One bad row in a batch: no row of the batch is inserted.
      await assert.rejects(
        () =>
          Measurement.insert([
            { val_id: 10, data: "fine" },
            { val_id: 11, data: "fine", note: "codec error" },
            { val_id: 12, data: "fine" },
          ]),
        errorWith(CodecError, '"val_id":11', "attribute note", "picky cannot encode this"),
      );
      assert.equal(await Measurement.count(), 0);

      // validate runs on the outermost codec only, and never for null.
      calls.validate = [];
      calls.encode = 0;
      await Measurement.insert1({ val_id: 1, data: "ok", note: null, chained: "anything" });
      assert.deepEqual(calls.validate, ["ok"], "null note and the inner <picky> not validated");
      assert.equal(calls.outerValidate, 1);
      assert.equal(calls.encode, 2, "data, and the inner codec of chained; never the null note");
      calls.decode = 0;
      const row = await Measurement.restrict({ val_id: 1 }).fetch1() as Record<string, unknown>;
      assert.deepEqual(row, {
        val_id: 1,
        data: "ok",
        note: null,
        chained: "outer(type error)",
        net: null,
      });
      assert.equal(calls.decode, 2, "NULL is not decoded");

      // The guide's <strictgraph>: DataJointErrors before anything is written.
      await assert.rejects(
        () => Measurement.insert1({ val_id: 3, data: "ok", net: new Graph() }),
        (e: unknown) =>
          e instanceof DataJointError && e.constructor === DataJointError &&
          /Graph must have at least one node/.test(e.message) && /attribute net/.test(e.message),
      );
      await assert.rejects(
        () => Measurement.insert1({ val_id: 3, data: "ok", net: [[1, 2]] }),
        errorWith(DataJointError, "Expected Graph, got Array", '"val_id":3'),
      );
      await Measurement.insert1({ val_id: 3, data: "ok", net: sampleGraph() });
      assertGraph(await Measurement.restrict({ val_id: 3 }).fetch1("net"), sampleGraph());
      assert.equal(await Measurement.count(), 2);
    });
  },
  ["file"],
);

// ---------------------------------------------------------------------------------------------
// What encode and decode are told
// ---------------------------------------------------------------------------------------------

const CTX_OUTER = unique("ctx_outer");
const CTX_INNER = unique("ctx_inner");
interface Seen {
  codec: string;
  ctx: EncodeContext;
  value: unknown;
}
const seenEncode: Seen[] = [];
const seenDecode: { codec: string; ctx: DecodeContext }[] = [];
const seenValidate: string[] = [];
codec<unknown, unknown>({
  name: CTX_OUTER,
  getDtype: () => `<${CTX_INNER}>`,
  validate: () => void seenValidate.push(CTX_OUTER),
  encode(value, ctx) {
    seenEncode.push({ codec: CTX_OUTER, ctx, value });
    return { wrapped: value };
  },
  decode(stored, ctx) {
    seenDecode.push({ codec: CTX_OUTER, ctx });
    return (stored as { wrapped: unknown }).wrapped;
  },
});
codec<unknown, unknown>({
  name: CTX_INNER,
  getDtype: (isStore) => (isStore ? "<blob>" : "json"),
  validate: () => void seenValidate.push(CTX_INNER),
  encode(value, ctx) {
    seenEncode.push({ codec: CTX_INNER, ctx, value });
    return value;
  },
  decode(stored, ctx) {
    seenDecode.push({ codec: CTX_INNER, ctx });
    return stored;
  },
});

await onEveryBackendAndStore(
  "encode context: _schema, _table (with tier prefix), _field, key values in key order, store name",
  async (c) => {
    await withSchema(c, async (lab, schemaName) => {
      @lab
      class CtxProbe extends Manual {
        static override definition = `
          b_id : int32
          a_id : varchar(8)
          ---
          inline = null : <${CTX_OUTER}>
          stored : <${CTX_OUTER}@>
          named = null : <${CTX_OUTER}@raw>
          plain = null : int32
        `;
      }
      @lab
      class Analysis extends Computed {
        static override definition = `
          -> CtxProbe
          ---
          result : <${CTX_OUTER}>
        `;
      }
      seenEncode.length = 0;
      seenValidate.length = 0;
      // Key attributes given out of order and after other fields: the context follows the key.
      await CtxProbe.insert1({
        named: "n",
        stored: [1, 2],
        plain: 9,
        a_id: "k1",
        inline: { x: 1 },
        b_id: 5,
      });
      const byField = new Map<string, Seen[]>();
      for (const s of seenEncode) {
        const f = s.ctx.key._field as string;
        byField.set(f, [...(byField.get(f) ?? []), s]);
      }
      assert.deepEqual([...byField.keys()].sort(), ["inline", "named", "stored"]);
      const expectedStore: Record<string, string | undefined> = {
        inline: undefined,
        stored: "main", // <x@>: the default store's real name
        named: "raw",
      };
      for (const [field, seen] of byField) {
        assert.deepEqual(
          seen.map((s) => s.codec),
          [CTX_OUTER, CTX_INNER],
          "encode runs outermost first",
        );
        for (const s of seen) {
          assert.deepEqual(Object.keys(s.ctx.key), ["_schema", "_table", "_field", "b_id", "a_id"]);
          assert.deepEqual(s.ctx.key, {
            _schema: schemaName,
            _table: "ctx_probe",
            _field: field,
            b_id: 5,
            a_id: "k1",
          });
          assert.equal(s.ctx.storeName, expectedStore[field], `${field} store`);
          assert.deepEqual(s.ctx.keyTypes, { b_id: "int32", a_id: "varchar" });
          assert.ok(s.ctx.stores !== undefined, "store access is given");
          assert.equal(s.ctx.stores.resolveName(""), "main");
          assert.ok(Array.isArray(s.ctx.written));
        }
        assert.deepEqual(seen[1].value, { wrapped: seen[0].value }, "inner gets outer's output");
      }
      assert.deepEqual(seenValidate, [CTX_OUTER, CTX_OUTER, CTX_OUTER], "outermost only");

      // A Computed table's SQL name carries its tier prefix.
      seenEncode.length = 0;
      await Analysis.insert1({ b_id: 5, a_id: "k1", result: "r" }, { allowDirectInsert: true });
      assert.equal(seenEncode.length, 2);
      for (const s of seenEncode) {
        assert.deepEqual(s.ctx.key, {
          _schema: schemaName,
          _table: "__analysis",
          _field: "result",
          b_id: 5,
          a_id: "k1",
        });
        assert.equal(s.ctx.storeName, undefined);
      }

      // Decode: innermost first, and the context carries no key values.
      seenDecode.length = 0;
      const row = await CtxProbe.restrict({ b_id: 5 }).fetch1() as Record<string, unknown>;
      assert.deepEqual(row, {
        b_id: 5,
        a_id: "k1",
        inline: { x: 1 },
        stored: [1, 2],
        named: "n",
        plain: 9,
      });
      assert.equal(seenDecode.length, 6);
      // The attributes of a row decode concurrently, so calls of different attributes may
      // interleave; within each attribute the inner codec runs first, so at any point at least
      // as many inner as outer decodes have started.
      let inner = 0;
      let outer = 0;
      for (const s of seenDecode) {
        if (s.codec === CTX_INNER) inner++;
        else if (s.codec === CTX_OUTER) outer++;
        assert.ok(outer <= inner, "decode runs innermost first");
      }
      assert.deepEqual([inner, outer], [3, 3]);
      for (const { ctx } of seenDecode) {
        assert.deepEqual(ctx.key, {}, "decoders get no primary-key values");
        assert.ok(ctx.stores !== undefined);
      }
      // Stored metadata of <x@> names the real store, and <x@raw> the named one.
      assertHashMeta(
        await rawColumn(c, schemaName, "ctx_probe", "stored", "b_id = 5"),
        schemaName,
        "main",
      );
      assertHashMeta(
        await rawColumn(c, schemaName, "ctx_probe", "named", "b_id = 5"),
        schemaName,
        "raw",
      );
      // No codec is called for a null, on insert or fetch.
      seenEncode.length = 0;
      seenValidate.length = 0;
      seenDecode.length = 0;
      await CtxProbe.insert1({ b_id: 6, a_id: "k2", inline: null, stored: 1, named: null });
      assert.deepEqual(seenValidate, [CTX_OUTER]);
      assert.deepEqual(seenEncode.map((s) => s.ctx.key._field), ["stored", "stored"]);
      const nulls = await CtxProbe.restrict({ b_id: 6 }).fetch1() as Record<string, unknown>;
      assert.equal(nulls.inline, null);
      assert.equal(nulls.named, null);
      assert.equal(seenDecode.length, 2, "only the stored attribute was decoded");
    });
  },
  ["file"],
);

// ---------------------------------------------------------------------------------------------
// Plugins named only in the project's deno.json
// ---------------------------------------------------------------------------------------------

const STAMP_URL = new URL("./fixtures/codec_project/stamp_codec.ts", import.meta.url).href;

/** A project folder: datajoint.json, and a deno.json mapping `<name>` when `copy` is given. */
async function writeProject(
  dir: string,
  name: string,
  copy: number | undefined,
  database: Record<string, unknown>,
): Promise<void> {
  await Deno.writeTextFile(
    join(dir, "datajoint.json"),
    JSON.stringify({ database, safemode: false }, null, 2),
  );
  const denoJson = join(dir, "deno.json");
  if (copy === undefined) {
    await Deno.remove(denoJson).catch(() => {});
    return;
  }
  await Deno.writeTextFile(
    denoJson,
    JSON.stringify({ datajoint: { codecs: { [name]: `${STAMP_URL}?name=${name}&copy=${copy}` } } }),
  );
}

async function pluginLoadingTest(backend: TestBackend): Promise<void> {
  const name = unique("stamp");
  const root = await Deno.makeTempDir({ prefix: "dj-contract-project-" });
  const project = join(root, "project");
  const other = join(root, "other");
  await Deno.mkdir(project);
  await Deno.mkdir(other);
  // PGlite keeps its data in the project folder (a path in datajoint.json is relative to it);
  // the server backends come from overrides.
  const fileDb = backend === "pglite" ? { backend: "pglite", path: "pgdata" } : {};
  const otherDb = backend === "pglite" ? { backend: "pglite", path: join(project, "pgdata") } : {};
  const open = (cwd: string) =>
    Connection.open({
      cwd,
      env: {},
      overrides: backend === "pglite" ? {} : { database: serverDatabase(backend) },
    });
  const schemaName = scratchName("dj_contract_plugin_");
  const definition = `
    item_id : int32
    ---
    label : <${name}>           # a plugin codec
    note = null : varchar(32)
  `;
  let c: Connection | undefined;
  try {
    assert.equal(getCodec(name), undefined, "the plugin is not loaded");
    await writeProject(project, name, 1, fileDb);

    // 1. Declare and insert: the codec is loaded from the project's deno.json.
    c = await open(project);
    assert.equal(c.config.projectRoot, project);
    assert.equal(c.config.configFile, join(project, "datajoint.json"));
    {
      const lab = makeSchema(schemaName, { connection: c });
      @lab
      class Item extends Manual {
        static override definition = definition;
      }
      await Item.declare();
      const loaded = getCodec(name);
      assert.ok(loaded !== undefined, "declaring loaded the plugin");
      assert.ok(listCodecs().includes(name));
      assert.equal(await columnMarker(c, schemaName, "item", "label"), `<${name}>`);
      await Item.insert([{ item_id: 1, label: "first" }, { item_id: 2, label: "second" }]);
      assert.deepEqual(await rawColumn(c, schemaName, "item", "label", "item_id = 1"), {
        text: "first",
        codec: name,
        copy: "1",
      });
      assert.deepEqual(await Item.restrict({ item_id: 2 }).fetch1("label"), {
        text: "second",
        decodedBy: `${name}#1`,
      });
      // The plugin's validate runs like any codec's.
      await assert.rejects(
        () => Item.insert1({ item_id: 3, label: 42 }),
        errorWith(CodecError, `<${name}> stores strings`, "attribute label"),
      );
    }
    await c.close();
    c = undefined;
    unregisterCodec(name);

    // 2. A project whose deno.json does not name the codec: the heading marks it missing and
    //    using it is a CodecError that says how to make it known.
    await writeProject(other, name, undefined, otherDb);
    c = await open(other);
    {
      const heading = await c.heading(schemaName, "item");
      const label = heading.attributes.find((a) => a.name === "label")!;
      assert.equal(label.missingCodec, name);
      assert.equal(getCodec(name), undefined);
      const lab = makeSchema(schemaName, { connection: c });
      @lab
      class Item extends Manual {
        static override definition = definition;
      }
      await assert.rejects(
        () => Item.toDicts(),
        errorWith(CodecError, `<${name}>`, "not registered", "deno.json", "attribute label"),
      );
      await assert.rejects(
        () => Item.insert1({ item_id: 4, label: "x" }),
        errorWith(CodecError, `<${name}>`, "deno.json"),
      );
      assert.equal(await Item.count(), 2);
    }
    await c.close();
    c = undefined;

    // 3. A new connection of the project reads the heading of the existing table: that alone
    //    loads the plugin (a fresh copy of the module, copy 2).
    await writeProject(project, name, 2, fileDb);
    c = await open(project);
    {
      const heading = await c.heading(schemaName, "item");
      const label = heading.attributes.find((a) => a.name === "label")!;
      assert.equal(label.missingCodec, undefined);
      assert.deepEqual(label.resolved?.chain.map((x) => x.name), [name]);
      assert.ok(getCodec(name) !== undefined, "reading the heading loaded the plugin");
      const lab = makeSchema(schemaName, { connection: c });
      @lab
      class Item extends Manual {
        static override definition = definition;
      }
      assert.deepEqual(await Item.toDicts({ orderBy: "item_id" }), [
        { item_id: 1, label: { text: "first", decodedBy: `${name}#2` }, note: null },
        { item_id: 2, label: { text: "second", decodedBy: `${name}#2` }, note: null },
      ]);
      await Item.insert1({ item_id: 5, label: "fifth" });
      assert.deepEqual(await rawColumn(c, schemaName, "item", "label", "item_id = 5"), {
        text: "fifth",
        codec: name,
        copy: "2",
      });
      await lab.drop({ cascade: true });
    }
  } finally {
    if (c !== undefined) {
      await makeSchema(schemaName, { connection: c }).drop({ cascade: true }).catch(() => {});
      await c.close();
    }
    if (getCodec(name) !== undefined) unregisterCodec(name);
    await Deno.remove(root, { recursive: true });
  }
}

for (const backend of ["mysql", "postgres"] as const) {
  await serverTest(
    backend,
    `${backend}: plugins — a codec named only in the project's deno.json loads at declare and heading time`,
    () => pluginLoadingTest(backend),
  );
}
Deno.test(
  "pglite: plugins — a codec named only in the project's deno.json loads at declare and heading time",
  () => pluginLoadingTest("pglite"),
);

// The shared PGlite connection of onEveryBackend is closed by its last test.
await onEveryBackend(
  "an unknown codec in a definition: nothing is created and the message points at deno.json",
  async (c) => {
    await withSchema(c, async (lab, schemaName) => {
      @lab
      class Orphan extends Manual {
        static override definition = `
          orphan_id : int32
          ---
          x : <${UNKNOWN}@main>
        `;
      }
      await assert.rejects(
        () => Orphan.declare(),
        errorWith(DeclarationError, `Unknown codec <${UNKNOWN}>`, "deno.json", "line"),
      );
      assert.equal(await tableExists(c, schemaName, "orphan"), false);
    });
  },
  { last: true },
);
