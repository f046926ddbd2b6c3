/**
 * `dj diagram`: the graph read from a schema's catalog (tiers, parts, primary and secondary
 * foreign keys, renames, other schemas), its Mermaid text, and the SVG layout (layers by
 * dependency depth, no overlapping boxes, arrows from parent to child), checked on the golden
 * schema DataJoint Python declared and on a schema with parts, on MariaDB, PostgreSQL and PGlite,
 * and as properties of random schemas.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { SchemaCatalog, TableInfo } from "../lib/adapters/catalog.ts";
import { diagramModel } from "../lib/cli/diagram_model.ts";
import { mermaidIds, toMermaid } from "../lib/cli/mermaid.ts";
import { layoutDiagram, toSvg } from "../lib/cli/svg.ts";
import {
  assertFails,
  declarePartsSchema,
  djIn,
  GOLDEN_IGNORED,
  loadGoldenCopy,
  succeeded,
} from "./_cli.ts";
import { onEveryBackend } from "./_connections.ts";

/** A catalog table from a name, its primary key and its foreign keys. */
function table(
  name: string,
  primaryKey: string[],
  fks: { cols: string[]; ref: string; refCols?: string[]; schema?: string }[] = [],
): TableInfo {
  return {
    name,
    comment: "",
    columns: [],
    primaryKey,
    indexes: [],
    foreignKeys: fks.map((f, i) => ({
      name: `fk${i}`,
      columns: f.cols,
      refSchema: f.schema ?? "lab",
      refTable: f.ref,
      refColumns: f.refCols ?? f.cols,
    })),
  };
}

function catalog(tables: TableInfo[]): SchemaCatalog {
  return { schema: "lab", lineage: null, tables: new Map(tables.map((t) => [t.name, t])) };
}

const LAB = catalog([
  table("#species", ["species"]),
  table("subject", ["subject_id"], [{ cols: ["species"], ref: "#species" }]),
  table("session", ["subject_id", "session"], [{ cols: ["subject_id"], ref: "subject" }]),
  table("session__trial", ["subject_id", "session", "trial"], [{
    cols: ["subject_id", "session"],
    ref: "session",
  }]),
  table("_ingest", ["subject_id", "session"], [{
    cols: ["subject_id", "session"],
    ref: "session",
  }]),
  table("__analysis", ["subject_id", "session"], [
    { cols: ["subject_id", "session"], ref: "_ingest" },
    { cols: ["rig"], ref: "rig", schema: "hw" },
  ]),
  table("pairing", ["a_id", "b_id"], [
    { cols: ["a_id"], ref: "subject", refCols: ["subject_id"] },
    { cols: ["b_id"], ref: "subject", refCols: ["subject_id"] },
  ]),
  table("legacy-table", ["id"]),
  table("~lineage", ["table_name", "attribute_name"]),
]);

Deno.test("diagramModel: tiers, parts, edges, renames and other schemas from a catalog", () => {
  const m = diagramModel(LAB);
  assert.deepEqual(
    m.nodes.map((n) => [n.key, n.label, n.kind, n.master ?? ""]),
    [
      ["hw.rig", "hw.Rig", "External", ""],
      ["#species", "Species", "Lookup", ""],
      ["subject", "Subject", "Manual", ""],
      ["session", "Session", "Manual", ""],
      ["_ingest", "Ingest", "Imported", ""],
      ["__analysis", "Analysis", "Computed", ""],
      ["legacy-table", "legacy-table", "Other", ""],
      ["pairing", "Pairing", "Manual", ""],
      ["session__trial", "Session.Trial", "Part", "session"],
    ],
  );
  assert.deepEqual(
    m.edges.map((e) => [e.from, e.to, e.primary, e.renames]),
    [
      ["#species", "subject", false, []],
      ["subject", "session", true, []],
      ["session", "_ingest", true, []],
      ["_ingest", "__analysis", true, []],
      ["hw.rig", "__analysis", false, []],
      ["subject", "pairing", true, [["a_id", "subject_id"]]],
      ["subject", "pairing", true, [["b_id", "subject_id"]]],
      ["session", "session__trial", true, []],
    ],
  );
});

Deno.test("toMermaid: a flowchart with tier classes, part subgraphs and edge styles", () => {
  const text = toMermaid(diagramModel(LAB));
  assert.equal(
    text,
    `flowchart TB
  %% schema lab: 8 table(s), 8 foreign key(s)
  classDef External fill:#ffffff,stroke:#9e9e9e,color:#616161,stroke-dasharray:4 3
  classDef Lookup fill:#eeeeee,stroke:#616161,color:#212121
  classDef Manual fill:#e3f4e3,stroke:#2e7d32,color:#1b5e20
  classDef Imported fill:#e1ecf8,stroke:#1565c0,color:#0d47a1
  classDef Computed fill:#fbe3e3,stroke:#c62828,color:#b71c1c
  classDef Other fill:#ffffff,stroke:#000000,color:#000000
  classDef Part fill:#ffffff,stroke:#9e9e9e,color:#424242,font-size:11px
  t_hw_2e_rig["hw.Rig"]:::External
  t__23_species["Species"]:::Lookup
  t_subject["Subject"]:::Manual
  subgraph g_t_session [" "]
    t_session["Session"]:::Manual
    t_session__trial["Session.Trial"]:::Part
  end
  t__ingest(["Ingest"]):::Imported
  t___analysis(["Analysis"]):::Computed
  t_legacy_2d_table["legacy-table"]:::Other
  t_pairing["Pairing"]:::Manual
  t__23_species -.-> t_subject
  t_subject --> t_session
  t_session --> t__ingest
  t__ingest --> t___analysis
  t_hw_2e_rig -.-> t___analysis
  t_subject -->|"proj(a_id=subject_id)"| t_pairing
  t_subject -->|"proj(b_id=subject_id)"| t_pairing
  t_session --> t_session__trial
`,
  );
  assert.equal(toMermaid(diagramModel(catalog([]))), "flowchart TB\n  %% schema lab: no tables\n");
  // Ids stay unique and valid whatever the names.
  const ids = mermaidIds([{ key: "a-b" }, { key: "a_2d_b" }, { key: "end" }, { key: "a.b" }]);
  assert.deepEqual([...ids.values()], ["t_a_2d_b", "t_a_2d_b_2", "t_end", "t_a_2e_b"]);
});

Deno.test("layoutDiagram and toSvg: layers by depth, long arrows through gaps, escaped text", () => {
  const model = diagramModel(LAB);
  const layout = layoutDiagram(model);
  const layer = (k: string) => layout.boxes.get(k)!.layer;
  assert.deepEqual(
    ["#species", "subject", "session", "_ingest", "__analysis", "hw.rig", "session__trial"].map(
      layer,
    ),
    [0, 1, 2, 3, 4, 0, 3],
  );
  // hw.rig → __analysis skips three layers: it passes each of them straight down.
  const long = layout.edges.find((e) => e.edge.from === "hw.rig")!;
  assert.equal(long.points.length, 2 + 2 * 3);
  assert.match(long.path, /^M[\d.]+,[\d.]+( C[\d., ]+ L[\d.]+,[\d.]+){3} C[\d., ]+$/);

  const svg = toSvg(model);
  assert.ok(svg.startsWith(`<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}"`));
  assert.equal(svg.match(/<g class="node /g)?.length, model.nodes.length);
  assert.equal(svg.match(/marker-end="url\(#arrow\)"/g)?.length, model.edges.length);
  assert.equal(svg.match(/<circle /g)?.length, 2, "one dot per renaming foreign key");
  assert.match(svg, /<g class="node Part" data-table="session__trial" data-schema="lab">/);
  assertBalanced(svg);

  const odd = toSvg({
    schema: 'a<b>&"c"',
    nodes: [{ key: "x", schema: "s", table: "x&y", label: "<x&y>", kind: "Other" }],
    edges: [],
  });
  assert.ok(odd.includes("&lt;x&amp;y&gt;"));
  assert.ok(odd.includes("schema a&lt;b&gt;&amp;&quot;c&quot;"));
  assertBalanced(odd);
  assert.match(toSvg(diagramModel(catalog([]))), /schema lab \(no tables\)/);
});

/** Every element opened is closed in order (a well-formedness check without an XML parser). */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (m[3] === "/") continue;
    if (m[1] === "/") assert.equal(stack.pop(), m[2], `closing </${m[2]}>`);
    else stack.push(m[2]);
  }
  assert.deepEqual(stack, []);
  assert.doesNotMatch(svg.replace(/&(amp|lt|gt|quot);/g, ""), /&/, "no raw ampersand");
}

Deno.test("layoutDiagram: random schemas keep boxes apart and arrows pointing down", () => {
  const tiers = ["", "#", "_", "__"];
  const arb = fc.integer({ min: 1, max: 14 }).chain((n) =>
    fc.tuple(
      fc.array(fc.constantFrom(...tiers), { minLength: n, maxLength: n }),
      fc.array(fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 3 }), {
        minLength: n,
        maxLength: n,
      }),
    )
  );
  fc.assert(
    fc.property(arb, ([prefixes, parents]) => {
      const names = prefixes.map((p, i) => `${p}t${i}`);
      // Parents always come from earlier tables, as declaration order guarantees.
      const tables = names.map((name, i) =>
        table(
          name,
          [`k${i}`],
          i === 0 ? [] : parents[i].map(([p, primary], j) => ({
            cols: [primary ? `k${i}` : `c${j}`],
            ref: names[p % i],
            refCols: [`k${p % i}`],
          })),
        )
      );
      const model = diagramModel(catalog(tables));
      const layout = layoutDiagram(model);
      const boxes = [...layout.boxes.values()];
      assert.equal(boxes.length, names.length);
      for (const a of boxes) {
        assert.ok(a.x >= 0 && a.x + a.width <= layout.width, "inside the picture");
        assert.ok(a.y >= 0 && a.y + a.height <= layout.height, "inside the picture");
        for (const b of boxes) {
          if (a === b || a.layer !== b.layer) continue;
          assert.ok(a.x + a.width <= b.x || b.x + b.width <= a.x, "boxes of a row do not overlap");
        }
      }
      for (const e of layout.edges) {
        const from = layout.boxes.get(e.edge.from)!;
        const to = layout.boxes.get(e.edge.to)!;
        assert.ok(from.layer < to.layer, "a parent sits above its child");
        const [x0, y0] = e.points[0];
        const [x1, y1] = e.points[e.points.length - 1];
        assert.ok(x0 >= from.x && x0 <= from.x + from.width && y0 === from.y + from.height);
        assert.ok(x1 >= to.x && x1 <= to.x + to.width && y1 === to.y);
        for (let i = 1; i < e.points.length; i++) {
          assert.ok(e.points[i][1] > e.points[i - 1][1], "arrows only go down");
        }
        // Where an arrow crosses a row it skips, no box is in the way.
        for (let i = 1; i + 1 < e.points.length; i += 2) {
          const [gx, gy] = e.points[i];
          for (const b of boxes) {
            if (b.y <= gy && gy < b.y + b.height) {
              assert.ok(gx < b.x || gx > b.x + b.width, "gap is free");
            }
          }
        }
      }
      assertBalanced(toSvg(model));
    }),
    { numRuns: 150, seed: 20261121 },
  );
});

await onEveryBackend("dj diagram on the golden schema: Mermaid text and SVG", async (c) => {
  if (GOLDEN_IGNORED) return;
  const g = await loadGoldenCopy(c);
  const context = { connection: c };
  const dir = await Deno.makeTempDir({ prefix: "dj-cli-diagram-" });
  try {
    assert.equal(
      succeeded(await djIn(["diagram", g.schema], context)),
      `flowchart TB
  %% schema ${g.schema}: 7 table(s), 5 foreign key(s)
  classDef Lookup fill:#eeeeee,stroke:#616161,color:#212121
  classDef Manual fill:#e3f4e3,stroke:#2e7d32,color:#1b5e20
  classDef Computed fill:#fbe3e3,stroke:#c62828,color:#b71c1c
  t__23_species["Species"]:::Lookup
  t_subject["Subject"]:::Manual
  t_session["Session"]:::Manual
  t_recording["Recording"]:::Manual
  t___analysis(["Analysis"]):::Computed
  t_bare_at["BareAt"]:::Manual
  t_tag["Tag"]:::Manual
  t__23_species -.-> t_subject
  t_subject --> t_session
  t_session --> t_recording
  t_recording --> t___analysis
  t_session -.-> t_tag
`,
    );
    const file = `${dir}/golden.svg`;
    assert.equal(succeeded(await djIn(["diagram", g.schema, "--svg", file], context)), "");
    const svg = await Deno.readTextFile(file);
    assertBalanced(svg);
    assert.equal(svg.match(/<g class="node /g)?.length, 7);
    assert.equal(svg.match(/stroke-dasharray="5 4" marker-end/g)?.length, 2, "secondary");
    assert.equal(succeeded(await djIn(["diagram", g.schema, "--svg", "-"], context)), svg);

    assertFails(
      await djIn(["diagram", g.schema, "--svg", `${dir}/missing/x.svg`], context),
      1,
      "dj diagram",
      /cannot write .*missing\/x\.svg.*folder exists/,
    );
    assertFails(
      await djIn(["diagram", "dj_cli_no_such_schema"], context),
      1,
      "dj diagram",
      /schema "dj_cli_no_such_schema" does not exist/,
    );
  } finally {
    await g.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

await onEveryBackend("dj diagram: parts attached to masters, renames, other schemas", async (c) => {
  const s = await declarePartsSchema(c);
  try {
    const text = succeeded(await djIn(["diagram", s.name], { connection: c }));
    const ext = `t_${s.external}_2e_subject`;
    assert.ok(text.includes(`  ${ext}["${s.external}.Subject"]:::External\n`), text);
    assert.ok(
      text.includes(
        `  subgraph g_t_probe [" "]\n    t_probe["Probe"]:::Manual\n` +
          `    t_probe__channel["Probe.Channel"]:::Part\n  end\n`,
      ),
      text,
    );
    assert.ok(
      text.includes(
        `  subgraph g_t___sorting [" "]\n    t___sorting(["Sorting"]):::Computed\n` +
          `    t___sorting__pair["Sorting.Pair"]:::Part\n` +
          `    t___sorting__unit["Sorting.Unit"]:::Part\n  end\n`,
      ),
      text,
    );
    for (
      const edge of [
        `${ext} --> t_probe`,
        "t__23_rig -.-> t_probe",
        "t_probe --> t__ingest",
        "t__ingest --> t___sorting",
        "t_probe --> t_probe__channel",
        't_probe__channel -->|"proj(other=channel)"| t___sorting__pair',
        't_probe -->|"proj(mentor_probe=probe)"| t_mentor',
        't__23_rig -.->|"proj(spare=rig)"| t_mentor',
      ]
    ) {
      assert.ok(text.includes(`  ${edge}\n`), `${edge} in\n${text}`);
    }
    const svg = succeeded(await djIn(["diagram", s.name, "--svg", "-"], { connection: c }));
    assertBalanced(svg);
    assert.equal(svg.match(/<g class="node /g)?.length, 9);
    assert.equal(svg.match(/<circle /g)?.length, 3);
  } finally {
    await s.dispose();
  }
}, { last: true });
