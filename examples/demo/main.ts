/**
 * The demo pipeline (`deno task demo`): the codec guide's story on the embedded default, with
 * nothing to install. Subjects and sessions are entered by hand; an `Imported` table records a
 * multi-channel trace per session as a `.npy` file in the local object store (`<npy@>`) together
 * with the session's raw notes file (`<attach@>`); a `Computed` table builds the functional
 * connectivity graph of each recording and stores it through the plugin codec `<cgraph>`, a
 * chained codec (`<cgraph>` → `<graph>` → `<blob>`) that the project's `deno.json` maps to
 * `examples/plugins/` (its `datajoint.codecs` section), so it is imported on first use like an
 * installed package. Both tables are
 * filled by `populate` with a progress bar; then a few queries and a summary of what is where.
 *
 * Running it again changes nothing (inserts skip what exists, populate finds no missing keys).
 * With `DJ_BACKEND=mysql` or `postgresql` (and `DJ_HOST`, `DJ_USER`, `DJ_PASS`) it runs on that
 * server instead; `DJ_DEMO_SCHEMA` names the schema (default `demo_lab`), `DJ_DEMO_DIR` the
 * project folder (default the repository root: its `deno.json` maps the plugins, `.dj/` holds
 * the data).
 *
 * @module
 */
import * as dj from "../../mod.ts";

const demoDir = Deno.env.get("DJ_DEMO_DIR") ?? new URL("../../", import.meta.url).pathname;
const conn = await dj.Connection.open({ cwd: demoDir });
const lab = dj.schema(Deno.env.get("DJ_DEMO_SCHEMA") ?? "demo_lab", { connection: conn });

@lab
class Subject extends dj.Manual {
  static override definition = `
    # experimental animals
    subject_id : varchar(16)
    ---
    species = 'mouse' : varchar(32)
    sex : enum('M', 'F', 'U')
    date_of_birth : date
  `;
}

@lab
class Session extends dj.Manual {
  static override definition = `
    -> Subject
    session_idx : int16
    ---
    session_date : date
    notes = '' : varchar(255)
  `;
}

@lab
class Recording extends dj.Imported {
  static override definition = `
    # one multi-channel recording per session
    -> Session
    ---
    sampling_rate : float64       # Hz
    trace : <npy@>                # channels x samples, a .npy file in the store
    raw_notes : <attach@>         # the session's notes file, kept with its name
  `;

  /** "Acquires" a recording: synthetic channels driven by two shared sources plus noise. */
  async make(key: Record<string, unknown>): Promise<void> {
    const channels = 8;
    const samples = 4000;
    const seed = hash(`${key.subject_id}/${key.session_idx}`);
    const random = mulberry32(seed);
    const data = new Float32Array(channels * samples);
    for (let t = 0; t < samples; t++) {
      const a = Math.sin(t / (20 + (seed % 7)));
      const b = Math.sin(t / 53 + 1);
      for (let c = 0; c < channels; c++) {
        // Which source drives a channel, and how noisy it is, differ per session.
        const source = ((c * 7 + seed) >> 2) % 3 === 0 ? b : a;
        const noise = 0.4 + ((seed >> c) % 5) * 0.35;
        data[c * samples + t] = source * (0.6 + 0.1 * c) + (random() - 0.5) * noise;
      }
    }
    const folder = await Deno.makeTempDir({ prefix: "dj-demo-" });
    const notesFile = `${folder}/session_${key.subject_id}_${key.session_idx}.txt`;
    await Deno.writeTextFile(notesFile, `subject ${key.subject_id}, session ${key.session_idx}\n`);
    try {
      await this.insert1({
        ...key,
        sampling_rate: 1000,
        trace: dj.NDArray.from(data, [channels, samples]),
        raw_notes: notesFile,
      });
    } finally {
      await Deno.remove(folder, { recursive: true });
    }
  }
}

@lab
class Connectivity extends dj.Computed {
  static override definition = `
    # functional connectivity: channels whose traces correlate
    -> Recording
    ---
    threshold : float64
    network : <cgraph>            # plugin codec, imported on first use through deno.json
  `;

  async make(key: Record<string, unknown>): Promise<void> {
    const ref = await Recording.restrict(key).fetch1("trace") as dj.NpyRef;
    const trace = await ref.load() as dj.NDArray<"float32">;
    const [channels, samples] = trace.shape;
    const threshold = 0.5;
    const adjacency: number[][] = [];
    for (let i = 0; i < channels; i++) {
      adjacency.push([]);
      for (let j = 0; j < channels; j++) {
        const r = i === j ? 0 : correlation(trace.data, i, j, samples);
        adjacency[i].push(Math.abs(r) > threshold ? Math.round(r * 1000) / 1000 : 0);
      }
    }
    // `<cgraph>` turns the adjacency matrix into a graph, `<graph>` into a blob.
    await this.insert1({ ...key, threshold, network: adjacency });
  }
}

// ── data entry (skipped when present) ──────────────────────────────────────────────────────────
await Subject.insert([
  { subject_id: "m001", sex: "M", date_of_birth: "2026-03-02" },
  { subject_id: "m002", sex: "F", date_of_birth: "2026-03-09" },
  { subject_id: "r001", species: "rat", sex: "F", date_of_birth: "2026-01-20" },
], { skipDuplicates: true });
await Session.insert([
  { subject_id: "m001", session_idx: 1, session_date: "2026-11-02", notes: "baseline" },
  { subject_id: "m001", session_idx: 2, session_date: "2026-11-09" },
  { subject_id: "m002", session_idx: 1, session_date: "2026-11-03", notes: "baseline" },
  { subject_id: "m002", session_idx: 2, session_date: "2026-11-10" },
  { subject_id: "r001", session_idx: 1, session_date: "2026-11-04" },
], { skipDuplicates: true });

// ── populate ──────────────────────────────────────────────────────────────────────────────────
for (const table of [Recording, Connectivity]) {
  const { successCount, errorList } = await table.populate({ displayProgress: true });
  console.log(
    `${table.name}: ${successCount} new row(s)${
      errorList.length > 0 ? `, ${errorList.length} error(s)` : ""
    }`,
  );
}

// ── queries ──────────────────────────────────────────────────────────────────────────────────
console.log("\nsessions and recorded seconds per subject (aggr):");
const perSubject = Subject.aggr(Session.join(Recording), {
  sessions: "count(session_idx)",
  seconds: "sum(4000 / sampling_rate)",
});
for (const row of await perSubject.toDicts({ orderBy: "KEY" })) {
  console.log(`  ${row.subject_id}: ${row.sessions} sessions, ${Number(row.seconds)} s recorded`);
}

console.log("\nrecordings of female mice (a join restricted by two tables):");
const females = Recording.join(Session).restrict(Subject.restrict({ sex: "F", species: "mouse" }));
for (const row of await females.proj("session_date", "sampling_rate").toDicts({ orderBy: "KEY" })) {
  console.log(`  ${row.subject_id}/${row.session_idx} on ${row.session_date}`);
}

console.log("\nconnectivity graphs (decoded through <cgraph> → <graph> → <blob>):");
for (const row of await Connectivity.toDicts({ orderBy: "KEY" })) {
  const g = row.network as {
    numberOfNodes: number;
    numberOfEdges: number;
    degree(n: number): number;
  };
  const hubs = [...Array(g.numberOfNodes).keys()].sort((a, b) => g.degree(b) - g.degree(a));
  console.log(
    `  ${row.subject_id}/${row.session_idx}: ${g.numberOfNodes} channels, ${g.numberOfEdges} edges, best connected channel ${
      hubs[0]
    }`,
  );
}

const ref = await Recording.restrict({ subject_id: "m001", session_idx: 1 }).fetch1(
  "trace",
) as dj.NpyRef;
console.log(
  `\nm001/1 trace: ${ref.dtype} [${ref.shape}] (read from the row; nothing downloaded), first samples ${
    Array.from((await ref.rows(0, 1)).data.slice(0, 3), (x) => Number(x).toFixed(3)).join(", ")
  }`,
);

// ── what is where ─────────────────────────────────────────────────────────────────────────────
console.log(`\n${conn.backend} schema ${lab.name}:`);
for (const table of [Subject, Session, Recording, Connectivity]) {
  console.log(`  ${table.tableName.padEnd(14)} ${String(await table.count()).padStart(3)} rows`);
}
const storeName = conn.stores.resolveName("");
const store = await conn.stores.backend(storeName);
// Schema-addressed objects (the .npy traces) live under _schema/, deduplicated ones (the
// attachments) under _hash/, each in a folder named after the schema.
for (const [kind, prefix] of [["schema-addressed", "_schema"], ["hash-addressed", "_hash"]]) {
  let objects = 0;
  let bytes = 0;
  for await (const entry of store.list(`${prefix}/${lab.name}/`)) {
    objects++;
    bytes += entry.size;
  }
  console.log(
    `  store "${storeName}" ${kind}: ${objects} objects, ${bytes.toLocaleString("en")} bytes`,
  );
}
await conn.close();

function correlation(x: Float32Array, i: number, j: number, n: number): number {
  let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (let t = 0; t < n; t++) {
    const a = x[i * n + t];
    const b = x[j * n + t];
    sx += a;
    sy += b;
    sxx += a * a;
    syy += b * b;
    sxy += a * b;
  }
  const cov = sxy / n - (sx / n) * (sy / n);
  return cov / Math.sqrt((sxx / n - (sx / n) ** 2) * (syy / n - (sy / n) ** 2));
}

function hash(text: string): number {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
