/**
 * `dj fetch` on the rows and store objects DataJoint Python wrote (`golden/ddl`), loaded into
 * MariaDB, PostgreSQL and PGlite: every core type and every built-in codec in the documented JSON
 * form, CSV and table output, `--where`, `--limit` and `--download-path`, a plugin codec, and the
 * runtime errors of bad restrictions. The JSON rendering rules themselves are tested last.
 */
import assert from "node:assert/strict";
import { Complex, Decimal, UUID } from "../codecs/blob/scalars.ts";
import { NDArray } from "../codecs/blob/ndarray.ts";
import { toTagged } from "../codecs/blob/tagged_json.ts";
import { cutToWidth, textWidth } from "../lib/cli/columns.ts";
import { formatRows } from "../lib/cli/formats.ts";
import { jsonText, plainJson } from "../lib/cli/render.ts";
import type { Connection } from "../lib/connection.ts";
import { schema } from "../lib/schema.ts";
import { Manual } from "../lib/table.ts";
import { Graph } from "../examples/plugins/graph_codec.ts";
import { assertFails, djIn, GOLDEN_IGNORED, loadGoldenCopy, succeeded } from "./_cli.ts";
import { onEveryBackend } from "./_connections.ts";
import { scratchName } from "./_servers.ts";

/** Parses `dj fetch` JSON keeping every integer's digits (as text) for exact comparison. */
function parseRows(text: string): Record<string, unknown>[] {
  assert.ok(text.endsWith("\n"), "ends with a newline");
  return JSON.parse(
    text,
    (_k, v, ctx?: { source?: string }) =>
      typeof v === "number" && ctx?.source !== undefined && /^-?\d+$/.test(ctx.source) &&
        !Number.isSafeInteger(Number(ctx.source))
        ? `digits:${ctx.source}`
        : v,
  );
}

const SUBJECT_JSON = `[
{"subject_id":1,"species":"mouse","sex":"M","dob":"2024-01-02 03:04:05","weight":"23.45","is_active":true,"code":"M001","birth_date":"2024-01-02","litter":3,"rank64":1099511627777,"temp32":36.6},
{"subject_id":2,"species":"rat","sex":"F","dob":"2023-12-31 23:59:59","weight":"310.10","is_active":false,"code":"R002","birth_date":null,"litter":-1,"rank64":-1099511627776,"temp32":null}
]
`;

const hex = (text: string) =>
  [...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, "0")).join("");

await onEveryBackend("dj fetch: Python's rows, every core type and codec, as JSON", async (c) => {
  if (GOLDEN_IGNORED) return;
  const g = await loadGoldenCopy(c);
  const download = await Deno.makeTempDir({ prefix: "dj-cli-download-" });
  const context = { connection: c };
  const fetch = (table: string, ...args: string[]) =>
    djIn(["fetch", `${g.schema}.${table}`, ...args], context);
  try {
    // Core types: numbers, exact int64 and decimal, dates, datetimes, bool, enum, NULL.
    assert.equal(succeeded(await fetch("Subject")), SUBJECT_JSON);
    assert.equal(succeeded(await fetch("Subject", "--format", "json")), SUBJECT_JSON);
    assert.equal(
      succeeded(await fetch("#species")),
      `[
{"species":"mouse","latin":"Mus musculus"},
{"species":"rat","latin":"Rattus norvegicus"}
]
`,
    );

    // datetime(3), json, bytes (empty too), float64 and NULLs.
    const [s1, s2] = parseRows(succeeded(await fetch("Session")));
    assert.deepEqual(s1, {
      subject_id: 1,
      session_idx: 1,
      label: "first",
      started: "2025-05-06 07:08:09",
      precise: "2025-05-06 07:08:09.123",
      score: 0.5,
      params: { rate: 30000, channels: [1, 2, 3], nested: { a: null, b: true } },
      raw_bytes: { bytes: "00ff726177" },
    });
    assert.equal(s2.label, "second");
    assert.match(s2.started as string, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?$/);
    assert.equal(s2.precise, null);
    assert.deepEqual(s2.params, [1, "two", 3]);
    assert.deepEqual(s2.raw_bytes, { bytes: "" });

    // Every built-in codec.
    const recording = succeeded(await fetch("Recording", "--download-path", download));
    const [r1, r2] = parseRows(recording);
    assert.deepEqual(
      r1.inline_blob,
      toTagged(
        new Map<unknown, unknown>([
          ["a", NDArray.from(new Int32Array([0, 1, 2, 3, 4]), [5])],
          ["b", [1n, "x", [2.5, null]]],
          ["c", "text"],
          ["t", Temporal.PlainDateTime.from("2020-01-01T12:00:00")],
          ["u", new UUID("12345678-1234-5678-1234-567812345678")],
        ]),
      ),
      "<blob> in tagged JSON",
    );
    assert.deepEqual(r2.inline_blob, {
      list: [{ list: [{ int: "1" }, { int: "2" }] }, {
        list: [{ int: "3" }, { int: "4" }],
      }],
    });
    assert.deepEqual(r1.store_blob, {
      array: { dtype: "float64", shape: [3, 4], data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
    });
    assert.deepEqual((r2.store_blob as { dict: unknown[] }).dict[1], ["s", "στρινγ"]);
    // <attach>: the path of the file written to --download-path.
    assert.equal(r1.inline_attach, `${download}/notes.txt`);
    assert.equal(await Deno.readTextFile(r1.inline_attach as string), "hello attachment\n");
    assert.equal(r1.store_attach, `${download}/big.bin`);
    assert.equal((await Deno.readFile(r1.store_attach as string)).length, 1024);
    // <npy@>: the column's metadata, nothing downloaded.
    assert.deepEqual(Object.keys(r1.array as object), ["path", "store", "dtype", "shape"]);
    assert.deepEqual({ ...r1.array as object, path: undefined }, {
      path: undefined,
      store: "main",
      dtype: "float32",
      shape: [4, 3],
    });
    assert.match(
      (r1.array as { path: string }).path,
      new RegExp(`^_schema/${g.schema}/recording/subject_id=1/session_idx=1/array_\\w+\\.npy$`),
    );
    assert.equal((r2.array as { dtype: string }).dtype, "int64");
    // <object@>: folder and file metadata; <filepath@>: the user's file in the raw store.
    const folder = r1.folder as Record<string, unknown>;
    assert.equal(folder.is_dir, true);
    assert.equal(folder.item_count, 2);
    assert.equal(folder.store, "main");
    assert.equal((r2.folder as Record<string, unknown>).ext, ".bin");
    assert.equal((r2.folder as Record<string, unknown>).size, 1024);
    assert.deepEqual(
      {
        path: (r1.raw_file as { path: string }).path,
        store: (r1.raw_file as { store: string }).store,
      },
      { path: "acq/sess1/data.bin", store: "raw" },
    );
    assert.equal((r1.raw_file as { size: number }).size, 24);
    // <hash@>: the bytes, like the bytes core type.
    assert.deepEqual(r1.raw_hash, { bytes: hex("raw bytes for <hash@>") });
    assert.deepEqual(r2.raw_hash, r1.raw_hash);

    // A computed table's <blob> dicts; a table without rows.
    const [a1] = parseRows(succeeded(await fetch("Analysis")));
    assert.equal(a1.mean_value, 0.022070780396461487);
    assert.deepEqual(a1.summary, {
      dict: [
        ["mean", { float: 0.022070780396461487 }],
        ["shape", { list: [{ int: "4" }, { int: "3" }] }],
        ["key", { dict: [["subject_id", { int: "1" }], ["session_idx", { int: "1" }]] }],
      ],
    });
    assert.deepEqual(a1.stored_summary, a1.summary);
    assert.equal(succeeded(await fetch("BareAt")), "[]\n");

    // uuid (MariaDB only: Python could not insert uuids on PostgreSQL).
    const tags = parseRows(succeeded(await fetch("Tag")));
    if (c.backend === "mysql") {
      assert.deepEqual(tags, [
        {
          tag_id: "12345678-1234-5678-1234-567812345678",
          subject_id: 1,
          session_idx: 1,
          other_uuid: "699b17f0-499a-5d72-ad4b-c40c61f20884",
        },
        {
          tag_id: "699b17f0-499a-5d72-ad4b-c40c61f20884",
          subject_id: 2,
          session_idx: 1,
          other_uuid: null,
        },
      ]);
      const one = parseRows(
        succeeded(
          await fetch("Tag", "--where", '{"tag_id": "699B17F0-499A-5D72-AD4B-C40C61F20884"}'),
        ),
      );
      assert.deepEqual(one.map((t) => t.subject_id), [2]);
    } else {
      assert.deepEqual(tags, []);
    }
  } finally {
    await g.dispose();
    await Deno.remove(download, { recursive: true });
  }
});

await onEveryBackend("dj fetch: --where, --limit, csv and table formats, errors", async (c) => {
  if (GOLDEN_IGNORED) return;
  const g = await loadGoldenCopy(c);
  const context = { connection: c };
  const fetch = (table: string, ...args: string[]) =>
    djIn(["fetch", `${g.schema}.${table}`, ...args], context);
  const ids = async (...args: string[]) =>
    parseRows(succeeded(await fetch("Subject", ...args))).map((r) => r.subject_id);
  try {
    assert.deepEqual(await ids("--where", '{"subject_id": 2}'), [2]);
    assert.deepEqual(await ids("--where", '{"sex": "M", "species": "mouse"}'), [1]);
    assert.deepEqual(await ids("--where", '{"birth_date": null}'), [2]);
    assert.deepEqual(await ids("--where", '{"weight": "310.10"}'), [2]);
    assert.deepEqual(await ids("--where", '{"dob": "2024-01-02 03:04:05"}'), [1]);
    assert.deepEqual(await ids("--where", '{"rank64": -1099511627776}'), [2]);
    // 2^53 + 1 would round to 2^53 through a double: the exact digits find nothing.
    assert.deepEqual(await ids("--where", '{"rank64": 9007199254740993}'), []);
    assert.deepEqual(await ids("--where", "{}"), [1, 2]);
    assert.deepEqual(await ids("--limit", "1"), [1], "ordered by primary key");
    assert.deepEqual(await ids("--limit", "0"), []);
    assert.deepEqual(await ids("--where", '{"subject_id": 3}'), []);

    // PostgreSQL's jsonb keeps keys in its own order; MariaDB keeps the text Python sent.
    const params = c.backend === "mysql"
      ? '{"rate":30000,"channels":[1,2,3],"nested":{"a":null,"b":true}}'
      : '{"rate":30000,"nested":{"a":null,"b":true},"channels":[1,2,3]}';
    assert.equal(
      succeeded(await fetch("Session", "--format", "csv", "--where", '{"subject_id": 1}')),
      "subject_id,session_idx,label,started,precise,score,params,raw_bytes\n" +
        `1,1,first,2025-05-06 07:08:09,2025-05-06 07:08:09.123,0.5,"${
          params.replaceAll('"', '""')
        }","{""bytes"":""00ff726177""}"\n`,
    );
    const csv = succeeded(await fetch("Subject", "--format=csv"));
    assert.equal(
      csv.split("\n")[2],
      "2,rat,F,2023-12-31 23:59:59,310.10,false,R002,,-1,-1099511627776,",
      "NULL is an empty field",
    );

    const table = succeeded(await fetch("Session", "--format", "table", "--limit", "1"));
    const lines = table.split("\n");
    assert.match(lines[0], /^\*subject_id +\*session_idx +label +started +precise +score +params/);
    assert.match(lines[1], /^-{11} +-{12} +-+/);
    assert.match(lines[2], /^1 +1 +first +2025-05-06 07:08:09 +2025-05-06 07:08:09\.123 +0\.5 /);
    assert.ok(lines[2].includes(` ${params.slice(0, 39)}… `), "long cells cut at 40");
    assert.equal(lines[3], "(1 row)");
    assert.equal(lines.length, 5);
    assert.match(succeeded(await fetch("BareAt", "--format", "table")), /\n\(0 rows\)\n$/);

    // Runtime errors: the table's attributes and types decide, so exit 1.
    assertFails(await fetch("Subject", "--where", '{"nope": 1}'), 1, "dj fetch", /nope/);
    assertFails(
      await fetch("Subject", "--where", '{"subject_id": "one"}'),
      1,
      "dj fetch",
      /subject_id.*integer/,
    );
    assertFails(
      await fetch("Recording", "--where", '{"inline_blob": 1}'),
      1,
      "dj fetch",
      /inline_blob.*not comparable/,
    );
    assertFails(await fetch("Nope"), 1, "dj fetch", /has no table "Nope"/);
    // A day or time that does not exist is refused alike everywhere (MySQL matched nothing,
    // PostgreSQL refused it with its own words); a leap day is fine.
    assertFails(
      await fetch("Subject", "--where", '{"birth_date": "2023-02-29"}'),
      1,
      "dj fetch",
      /Attribute birth_date \(date\) expects a date that exists \(no February 30\), got string "2023-02-29"/,
    );
    for (
      const dob of ["2024-13-01 00:00:00", "2024-04-31", "2024-01-02 24:00:00", "2024-01-02 23:60"]
    ) {
      assertFails(
        await fetch("Subject", "--where", JSON.stringify({ dob })),
        1,
        "dj fetch",
        /Attribute dob \(datetime\) expects a date and time that exist/,
      );
    }
    assertFails(
      await fetch("Subject", "--where", '{"subject_id": {"eq": 1}}'),
      1,
      "dj fetch",
      /Attribute subject_id \(int32\) expects an integer in -2147483648\.\.2147483647, got an object$/m,
    );
    assert.deepEqual(await ids("--where", '{"birth_date": "2024-02-29"}'), []);
    assert.deepEqual(await ids("--where", '{"dob": "2000-02-29T23:59:59"}'), []);
  } finally {
    await g.dispose();
  }
});

await onEveryBackend("dj fetch: a plugin codec prints as what it stores", async (c: Connection) => {
  const name = scratchName("dj_cli_graph_");
  const lab = schema(name, { connection: c });
  @lab
  class Net extends Manual {
    static override definition = "net_id : int32\n---\nnet : <graph>\nbig = null : int64";
  }
  try {
    await Net.insert1({
      net_id: 1,
      net: new Graph({ directed: true }).addEdge("a", "b", { weight: 2 }),
      big: 2n ** 62n + 1n,
    });
    const text = succeeded(await djIn(["fetch", `${name}.Net`], { connection: c }));
    const [row] = parseRows(text);
    assert.equal(row.big, "digits:4611686018427387905", "int64 keeps every digit");
    const stored = await new Graph({ directed: true }).addEdge("a", "b", { weight: 2 }).toStored();
    assert.deepEqual(row.net, toTagged(stored), "the graph's stored form, in tagged JSON");
  } finally {
    await c.execute(c.kit.dialect.dropSchema(name));
    c.invalidate();
  }
}, { last: true });

Deno.test("plainJson and jsonText: the JSON rules for core and native values", () => {
  assert.equal(jsonText(plainJson(2n ** 64n)), "18446744073709551616");
  assert.equal(jsonText(plainJson(-5n)), "-5");
  assert.equal(jsonText(plainJson([NaN, Infinity, -Infinity, 1.5])), '["nan","inf","-inf",1.5]');
  assert.equal(jsonText(plainJson(new Uint8Array([0, 10, 255]))), '{"bytes":"000aff"}');
  assert.equal(
    jsonText(plainJson(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))),
    '"2024-01-02T03:04:05.000Z"',
  );
  assert.equal(
    jsonText(plainJson({ a: null, b: undefined, c: "é" })),
    '{"a":null,"b":null,"c":"é"}',
  );
  // Objects with toJSON (store references, Decimal, UUID) print through it.
  assert.equal(jsonText(plainJson(new Decimal("1.50"))), '"1.50"');
  assert.equal(
    jsonText(plainJson(new UUID("12345678-1234-5678-1234-567812345678"))),
    '"12345678-1234-5678-1234-567812345678"',
  );
  // Other blob values fall back to tagged JSON.
  assert.deepEqual(plainJson(new Complex(1, -0)), { complex: [1, "-0"] });
  assert.deepEqual(plainJson(new Map([[1n, "x"]])), { dict: [[{ int: "1" }, "x"]] });
  // A __proto__ key stays data.
  const weird = JSON.parse('{"__proto__": {"x": 1}}');
  assert.equal(jsonText(plainJson(weird)), '{"__proto__":{"x":1}}');
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  assert.throws(() => plainJson(cyclic), /cyclic/);
  assert.throws(() => plainJson(() => 1), /no JSON form/);
});

Deno.test("formatRows: csv quoting and NULL, table cutting and control characters, json layout", () => {
  const names = ["id", "text", "v"];
  const rows = [
    { id: 1, text: 'a, "b"', v: null },
    { id: 2, text: "", v: { bytes: "00" } },
    { id: 3, text: " edge\nline", v: [1, 2] },
  ];
  assert.equal(
    formatRows("csv", names, rows, ["id"]),
    'id,text,v\n1,"a, ""b""",\n2,"","{""bytes"":""00""}"\n3," edge\nline","[1,2]"\n',
  );
  assert.equal(formatRows("json", names, [], ["id"]), "[]\n");
  assert.equal(
    formatRows("json", names, rows.slice(0, 1), ["id"]),
    '[\n{"id":1,"text":"a, \\"b\\"","v":null}\n]\n',
  );
  const table = formatRows("table", names, rows, ["id"]).split("\n");
  assert.deepEqual(table.slice(0, 5), [
    "*id  text         v",
    "---  -----------  --------------",
    '1    a, "b"       NULL',
    '2                 {"bytes":"00"}',
    "3     edge\\nline  [1,2]",
  ]);
  assert.equal(table[5], "(3 rows)");
  const long = formatRows("table", ["x"], [{ x: "y".repeat(100) }], []).split("\n")[2];
  assert.equal(long, "y".repeat(39) + "…");
});

Deno.test("formatRows table: control characters escaped, wide characters aligned and cut", () => {
  const rows = [
    { id: 1, text: "red\u001b[31m!\u0007\u0085", n: 1 },
    { id: 2, text: "漢字", n: 22 },
    { id: 3, text: "🐭e\u0301", n: 333 },
  ];
  const table = formatRows("table", ["id", "text", "n"], rows, ["id"]).split("\n");
  assert.deepEqual(table.slice(0, 5), [
    "*id  text                        n",
    "---  --------------------------  ---",
    "1    red\\u001b[31m!\\u0007\\u0085  1",
    "2    漢字                        22",
    "3    🐭e\u0301                         333",
  ]);
  assert.ok(!/\p{Cc}/u.test(table.join("")), "no control character reaches the terminal");
  // Cut at 40 columns: a wide character counts two and is never split.
  const wide = formatRows("table", ["x"], [{ x: "漢".repeat(30) }], []).split("\n")[2];
  assert.equal(wide, "漢".repeat(19) + "…");
  assert.equal(textWidth(wide), 39);
  assert.equal(cutToWidth("abcdef", 4), "abc…");
  assert.equal(cutToWidth("abcd", 4), "abcd");
  assert.deepEqual([
    textWidth("στρινγ"),
    textWidth("ｈｉ"),
    textWidth("한글"),
    textWidth("e\u0301"),
  ], [
    6,
    4,
    4,
    1,
  ]);
});
