/**
 * The schema DataJoint Python 2.3 wrote (`golden/ddl`: its DDL, its `~lineage` rows and its data)
 * loaded into MariaDB, PostgreSQL and PGlite, opened with `virtualSchema` and queried here:
 * restrict, join (semantic checks on the lineage Python wrote), aggr, U and proj. Every expected
 * result is computed from the golden files themselves — the rows of `mysql-data.sql` /
 * `postgresql-data.sql` parsed here, the lineage of `tables.json` — never from our own output.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Connection } from "../lib/connection.ts";
import { DataJointError } from "../lib/errors.ts";
import { U } from "../lib/query.ts";
import { virtualSchema } from "../lib/schema.ts";
import type { Manual } from "../lib/table.ts";
import { onEveryBackend } from "./_connections.ts";
import { GOLDEN_DDL, GOLDEN_SCHEMA, loadGoldenSql, readGoldenTables } from "./_golden_sql.ts";
import { scratchName } from "./_servers.ts";

const ignore = GOLDEN_DDL.mysqlData.ignore || GOLDEN_DDL.postgresqlData.ignore;

/** A value as the data file writes it: text (numbers keep their digits), bytes, or NULL. */
type Literal = string | Uint8Array | null;
type GoldenRow = Record<string, Literal>;

/**
 * The rows of a golden data file by table: one `INSERT INTO q.table (cols) VALUES (…);` per line.
 * MySQL literals: bare numbers, `'…'` with backslash escapes, `0x…` bytes. PostgreSQL: every
 * value a standard string (`''` for a quote, backslashes literal, `'\x…'` for bytea).
 */
function parseData(text: string, family: "mysql" | "postgresql"): Map<string, GoldenRow[]> {
  const out = new Map<string, GoldenRow[]>();
  const line = /^INSERT INTO [`"][^`"]+[`"]\.[`"]([^`"]+)[`"] \(([^)]*)\) VALUES \((.*)\);$/;
  for (const l of text.split("\n")) {
    const m = line.exec(l);
    if (!m) continue;
    const cols = m[2].split(",").map((c) => c.trim().slice(1, -1));
    const values = literals(m[3], family);
    assert.equal(values.length, cols.length, `columns of ${l.slice(0, 80)}`);
    const row: GoldenRow = {};
    cols.forEach((c, i) => (row[c] = values[i]));
    if (!out.has(m[1])) out.set(m[1], []);
    out.get(m[1])!.push(row);
  }
  return out;
}

function literals(s: string, family: "mysql" | "postgresql"): Literal[] {
  const out: Literal[] = [];
  let i = 0;
  const escapes: Record<string, string> = { n: "\n", r: "\r", t: "\t", "0": "\0", Z: "\x1a" };
  while (i < s.length) {
    if (s[i] === "'") {
      let v = "";
      i++;
      for (;;) {
        const ch = s[i];
        if (ch === "'" && s[i + 1] === "'") {
          v += "'";
          i += 2;
        } else if (ch === "'") {
          i++;
          break;
        } else if (ch === "\\" && family === "mysql") {
          v += escapes[s[i + 1]] ?? s[i + 1];
          i += 2;
        } else {
          v += ch;
          i++;
        }
      }
      out.push(family === "postgresql" && v.startsWith("\\x") ? hexBytes(v.slice(2)) : v);
    } else {
      const end = s.indexOf(",", i);
      const token = s.slice(i, end < 0 ? s.length : end).trim();
      i = end < 0 ? s.length : end;
      out.push(
        token === "NULL" ? null : token.startsWith("0x") ? hexBytes(token.slice(2)) : token,
      );
    }
    while (s[i] === "," || s[i] === " ") i++;
  }
  return out;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function uuidText(b: Literal): string {
  const hex = Array.from(b as Uint8Array, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

const int = (v: Literal) => Number(v);
const bool = (v: Literal) => v === "1" || v === "t";

interface Loaded {
  schema: string;
  data: Map<string, GoldenRow[]>;
  t: Record<string, typeof Manual>;
}

async function load(c: Connection): Promise<Loaded> {
  const schema = scratchName("dj_goldq_");
  await loadGoldenSql(c.driver, schema, { data: true });
  const family = c.backend === "mysql" ? "mysql" : "postgresql";
  const file = family === "mysql" ? GOLDEN_DDL.mysqlData : GOLDEN_DDL.postgresqlData;
  const data = parseData(await Deno.readTextFile(file.url), family);
  // The parse itself, against the row counts the golden README lists.
  const counts = Object.fromEntries([...data].map(([t, rows]) => [t, rows.length]));
  assert.deepEqual(counts, {
    "#species": 2,
    subject: 2,
    session: 2,
    ...(family === "mysql" ? { tag: 2 } : {}),
    recording: 2,
    __analysis: 2,
  });
  const vs = await virtualSchema(schema, { connection: c });
  return { schema, data, t: vs.tables as unknown as Record<string, typeof Manual> };
}

function rowsOf(g: Loaded, table: string): GoldenRow[] {
  return g.data.get(table) ?? [];
}

/** Sorts rows by their JSON text, so results compare regardless of order. */
function sorted<T>(rows: T[]): T[] {
  const key = (r: T) => JSON.stringify(r, (_, x) => (typeof x === "bigint" ? `${x}n` : x));
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

await onEveryBackend("golden query: lineage and headings are Python's", async (c) => {
  if (ignore) return;
  const g = await load(c);
  try {
    for (const table of await readGoldenTables()) {
      if (table.tier === "hidden") continue;
      const cls = Object.values(g.t).find((k) => k.tableName === table.table)!;
      assert.ok(cls, `a class for ${table.table}`);
      const h = await cls.query().heading();
      assert.deepEqual(h.primaryKey, table.primary_key, table.table);
      const expected = new Map(
        (table.lineage ?? []).map((l) => [
          l.attribute_name,
          l.lineage.replace(GOLDEN_SCHEMA, g.schema),
        ]),
      );
      for (const a of h.attributes) {
        assert.equal(a.lineage, expected.get(a.name) ?? null, `${table.table}.${a.name}`);
      }
    }
  } finally {
    await c.execute(c.kit.dialect.dropSchema(g.schema));
  }
});

await onEveryBackend("golden query: restrict", async (c) => {
  if (ignore) return;
  const g = await load(c);
  const { Subject, Session, Tag, Analysis } = g.t;
  try {
    const subjects = rowsOf(g, "subject");
    const ids = (f: (r: GoldenRow) => boolean) =>
      subjects.filter(f).map((r) => int(r.subject_id)).sort();
    const fetched = async (q: ReturnType<typeof Subject.restrict>) =>
      ((await q.toArrays("subject_id"))[0] as number[]).sort();
    assert.deepEqual(
      await fetched(Subject.restrict({ species: "mouse" })),
      ids((r) => r.species === "mouse"),
    );
    assert.deepEqual(await fetched(Subject.restrict({ sex: "F" })), ids((r) => r.sex === "F"));
    assert.deepEqual(
      await fetched(Subject.restrict("weight > 100")),
      ids((r) => Number(r.weight) > 100),
    );
    assert.deepEqual(
      await fetched(Subject.restrict({ birth_date: null })),
      ids((r) => r.birth_date === null),
    );
    assert.deepEqual(
      await fetched(Subject.restrict({ is_active: true })),
      ids((r) => bool(r.is_active)),
    );
    for (const r of subjects) {
      // Exact values of every core type as restrictions, and the row they find.
      const one = Subject.restrict({
        rank64: BigInt(r.rank64 as string),
        weight: r.weight,
        dob: r.dob,
        code: r.code,
        litter: int(r.litter),
      });
      assert.deepEqual(await one.fetch1("KEY"), { subject_id: int(r.subject_id) });
      assert.deepEqual(
        await one.fetch1("species", "weight", "dob", "birth_date", "rank64"),
        [r.species, r.weight, r.dob, r.birth_date, BigInt(r.rank64 as string)],
      );
    }
    for (const r of rowsOf(g, "session")) {
      assert.deepEqual(await Session.restrict({ label: r.label }).fetch1("KEY"), {
        subject_id: int(r.subject_id),
        session_idx: int(r.session_idx),
      });
      assert.equal(await Session.restrict({ started: r.started }).count(), 1);
    }
    // uuid keys (MariaDB's rows; Python could not write PostgreSQL's), restricted as text.
    const tags = rowsOf(g, "tag");
    for (const r of tags) {
      assert.deepEqual(await Tag.restrict({ tag_id: uuidText(r.tag_id) }).fetch1("KEY"), {
        tag_id: uuidText(r.tag_id),
      });
      assert.equal(
        await Tag.restrict({ tag_id: uuidText(r.tag_id) }).fetch1("other_uuid"),
        r.other_uuid === null ? null : uuidText(r.other_uuid),
      );
    }
    assert.equal(await Tag.count(), tags.length);
    // Semijoin and antijoin.
    const analysed = new Set(
      rowsOf(g, "__analysis").filter((r) => int(r.n_keys) > 0).map((r) => int(r.subject_id)),
    );
    assert.deepEqual(
      await fetched(Subject.restrict(Analysis.restrict("n_keys > 0"))),
      ids((r) => analysed.has(int(r.subject_id))),
    );
    const tagged = new Set(tags.map((r) => `${r.subject_id}/${r.session_idx}`));
    assert.deepEqual(
      sorted(await Session.minus(Tag).keys()),
      sorted(
        rowsOf(g, "session").filter((r) => !tagged.has(`${r.subject_id}/${r.session_idx}`)).map(
          (r) => ({ subject_id: int(r.subject_id), session_idx: int(r.session_idx) }),
        ),
      ),
    );
  } finally {
    await c.execute(c.kit.dialect.dropSchema(g.schema));
  }
});

await onEveryBackend("golden query: join with Python's lineage", async (c) => {
  if (ignore) return;
  const g = await load(c);
  const { Subject, Session, Species, Analysis, Recording } = g.t;
  try {
    const subjects = new Map(rowsOf(g, "subject").map((r) => [r.subject_id, r]));
    const species = new Map(rowsOf(g, "#species").map((r) => [r.species, r]));
    const sessions = rowsOf(g, "session");
    // Session ⋈ Subject ⋈ Species on subject_id and species.
    assert.deepEqual(
      sorted(await Session.join(Subject).join(Species).proj("label", "code", "latin").toDicts()),
      sorted(sessions.map((s) => {
        const sub = subjects.get(s.subject_id)!;
        return {
          subject_id: int(s.subject_id),
          session_idx: int(s.session_idx),
          label: s.label,
          code: sub.code,
          latin: species.get(sub.species)!.latin,
        };
      })),
    );
    // Analysis ⋈ Recording keys ⋈ Session, restricted on both sides.
    const analyses = rowsOf(g, "__analysis");
    const recorded = new Set(rowsOf(g, "recording").map((r) => `${r.subject_id}/${r.session_idx}`));
    const byKey = new Map(sessions.map((s) => [`${s.subject_id}/${s.session_idx}`, s]));
    assert.deepEqual(
      sorted(
        await Analysis.proj("n_keys").join(Recording.proj()).join(
          Session.restrict("score IS NULL OR score < 1").proj("label"),
        ).toDicts(),
      ),
      sorted(
        analyses.filter((a) => {
          const k = `${a.subject_id}/${a.session_idx}`;
          const s = byKey.get(k)!;
          return recorded.has(k) && (s.score === null || Number(s.score) < 1);
        }).map((a) => ({
          subject_id: int(a.subject_id),
          session_idx: int(a.session_idx),
          n_keys: int(a.n_keys),
          label: byKey.get(`${a.subject_id}/${a.session_idx}`)!.label,
        })),
      ),
    );
    // The semantic check reads Python's ~lineage: subject_id renamed to session_idx keeps the
    // lineage of subject.subject_id, which session.session_idx does not have.
    const renamed = Subject.proj({ session_idx: "subject_id" });
    await assert.rejects(() => Session.join(renamed).count(), /different lineages/);
    await assert.rejects(() => Session.restrict(renamed).count(), /different lineages/);
    // A secondary attribute has no lineage: matching on it is refused as well.
    await assert.rejects(
      () => Session.join(Subject.proj({ session_idx: "litter" })).count(),
      (e: unknown) => e instanceof DataJointError && /lineage missing/.test(e.message),
    );
    assert.equal(
      await Session.join(renamed, { semanticCheck: false }).count(),
      sessions.filter((s) => subjects.has(s.session_idx)).length,
    );
  } finally {
    await c.execute(c.kit.dialect.dropSchema(g.schema));
  }
});

await onEveryBackend("golden query: aggr, U, proj", async (c) => {
  if (ignore) return;
  const g = await load(c);
  const { Subject, Session, Species, Analysis } = g.t;
  try {
    const subjects = rowsOf(g, "subject");
    const sessions = rowsOf(g, "session");
    const analyses = rowsOf(g, "__analysis");
    // aggr keeps every row of the grouping side (2.x).
    const n = await Subject.aggr(Session, { n: "count(session_idx)" }).toDicts();
    assert.deepEqual(
      sorted(n.map((r) => ({ subject_id: r.subject_id, n: Number(r.n) }))),
      sorted(subjects.map((s) => ({
        subject_id: int(s.subject_id),
        n: sessions.filter((x) => x.subject_id === s.subject_id).length,
      }))),
    );
    const perSpecies = await Species.aggr(Subject, {
      n: "count(subject_id)",
      heaviest: "max(weight)",
    }, { attributes: ["latin"] }).toDicts();
    assert.deepEqual(
      sorted(perSpecies.map((r) => ({
        species: r.species,
        latin: r.latin,
        n: Number(r.n),
        heaviest: r.heaviest === null ? null : Number(r.heaviest),
      }))),
      sorted(
        rowsOf(g, "#species").map((sp) => {
          const mine = subjects.filter((s) => s.species === sp.species);
          return {
            species: sp.species,
            latin: sp.latin,
            n: mine.length,
            heaviest: mine.length === 0 ? null : Math.max(...mine.map((s) => Number(s.weight))),
          };
        }),
      ),
    );
    const totals = await Subject.aggr(Analysis, { keys: "sum(n_keys)", mean: "avg(mean_value)" })
      .toDicts();
    for (const r of totals) {
      const mine = analyses.filter((a) => int(a.subject_id) === r.subject_id);
      assert.equal(
        r.keys === null ? null : Number(r.keys),
        mine.length === 0 ? null : mine.reduce((s, a) => s + int(a.n_keys), 0),
      );
      const mean = mine.reduce((s, a) => s + Number(a.mean_value), 0) / mine.length;
      if (mine.length === 0) assert.equal(r.mean, null);
      else assert.ok(Math.abs(Number(r.mean) - mean) < 1e-12, `mean of ${r.subject_id}`);
    }
    // U: distinct values, grouped counts, one row over all.
    assert.deepEqual(
      (await new U("species").restrict(Subject).toArrays("species"))[0].sort(),
      [...new Set(subjects.map((s) => s.species))].sort(),
    );
    const bySex = await new U("sex").aggr(Subject, { n: "count(*)" }).toDicts();
    assert.deepEqual(
      sorted(bySex.map((r) => ({ sex: r.sex, n: Number(r.n) }))),
      sorted(
        [...new Set(subjects.map((s) => s.sex))].map((sex) => ({
          sex,
          n: subjects.filter((s) => s.sex === sex).length,
        })),
      ),
    );
    const all = await new U().aggr(Session, { n: "count(*)", last: "max(started)" }).fetch1() as {
      n: unknown;
      last: unknown;
    };
    assert.equal(Number(all.n), sessions.length);
    assert.equal(all.last, sessions.map((s) => s.started as string).sort().at(-1));
    // proj: renames, computed values and kept attributes.
    const p = await Subject.proj("code", { sid: "subject_id", born: "dob", kg: "weight / 1000" })
      .toDicts();
    assert.deepEqual(
      sorted(p.map((r) => ({ ...r, kg: Math.round(Number(r.kg) * 1e6) / 1e6 }))),
      sorted(subjects.map((s) => ({
        sid: int(s.subject_id),
        code: s.code,
        born: s.dob,
        kg: Math.round(Number(s.weight) / 1000 * 1e6) / 1e6,
      }))),
    );
    for (const s of sessions) {
      assert.equal(
        await Session.proj({ when: "started" }).restrict({
          subject_id: int(s.subject_id),
          session_idx: int(s.session_idx),
        }).fetch1("when"),
        s.started,
      );
    }
  } finally {
    await c.execute(c.kit.dialect.dropSchema(g.schema));
  }
}, { last: true });
