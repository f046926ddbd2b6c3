/**
 * Store addressing (`stores/paths.ts`) against every example of reference §3.1/§3.2, the test
 * vectors of `blob-vectors-notes.md` (Parts D and E), values computed with CPython, and the
 * objects DataJoint Python wrote into `golden/ddl/store/` (hashes and paths of
 * `store-metadata.json`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { DataJointError } from "../lib/errors.ts";
import {
  assertContentHash,
  assertStorePath,
  computeHash,
  createContentHasher,
  encodePkValue,
  generateToken,
  hashPath,
  hashStream,
  objectPath,
  pythonFloatRepr,
} from "../stores/paths.ts";
import { goldenFile, readGoldenJson } from "./_golden.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

Deno.test("computeHash: base32(MD5) vectors (Part D)", () => {
  const vectors: [Uint8Array, string][] = [
    [new Uint8Array(0), "2qoyzwmpaczaj2mabgmoz6ccpy"],
    [utf8("hello"), "lvauakv4jmvhnolrtwiraf6fsi"],
    [utf8("Hello, World!"), "mwuoe7mipeudqmnwms6yw7yk2q"],
    [utf8("test content"), "srz73ugyqcsdyinxo6gtjbzbk4"],
    [new Uint8Array([0x64, 0x6a, 0x30, 0x00, 0xff]), "qtmxdgna7l75ikeegzynkuhjl4"],
  ];
  for (const [bytes, hash] of vectors) {
    assert.equal(computeHash(bytes), hash);
    assert.equal(computeHash(bytes).length, 26);
  }
});

Deno.test("createContentHasher and hashStream agree with computeHash", async () => {
  const data = crypto.getRandomValues(new Uint8Array(50_000));
  const h = createContentHasher();
  for (let i = 0; i < data.length; i += 7_777) h.update(data.subarray(i, i + 7_777));
  assert.equal(h.digest(), computeHash(data));
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < data.length; i += 4096) c.enqueue(data.slice(i, i + 4096));
      c.close();
    },
  });
  assert.equal(await hashStream(stream), computeHash(data));
});

Deno.test("assertContentHash: accepts base32 hashes, rejects others with the reference text", () => {
  assertContentHash("lvauakv4jmvhnolrtwiraf6fsi");
  for (
    const bad of [
      "",
      "LVAUAKV4JMVHNOLRTWIRAF6FSI",
      "lvauakv4jmvhnolrtwiraf6fs",
      "lvauakv4jmvhnolrtwiraf6fsi0",
    ]
  ) {
    assert.throws(
      () => assertContentHash(bad),
      (e: unknown) =>
        e instanceof DataJointError &&
        e.message.startsWith("Invalid content hash (expected 26-char lowercase base32): "),
    );
  }
  // "0", "1", "8", "9" never occur in base32.
  assert.throws(() => assertContentHash("0vauakv4jmvhnolrtwiraf6fsi"), DataJointError);
});

Deno.test("hashPath: flat, subfolded, custom and empty prefixes (reference §3.1, Part D)", () => {
  const flat = { subfolding: null, hash_prefix: "_hash" };
  const sub = { subfolding: [2, 2], hash_prefix: "_hash" };
  assert.equal(
    hashPath("lvauakv4jmvhnolrtwiraf6fsi", "my_schema", flat),
    "_hash/my_schema/lvauakv4jmvhnolrtwiraf6fsi",
  );
  const partD: [string, string][] = [
    ["2qoyzwmpaczaj2mabgmoz6ccpy", "_hash/my_schema/2q/oy/2qoyzwmpaczaj2mabgmoz6ccpy"],
    ["lvauakv4jmvhnolrtwiraf6fsi", "_hash/my_schema/lv/au/lvauakv4jmvhnolrtwiraf6fsi"],
    ["mwuoe7mipeudqmnwms6yw7yk2q", "_hash/my_schema/mw/uo/mwuoe7mipeudqmnwms6yw7yk2q"],
    ["srz73ugyqcsdyinxo6gtjbzbk4", "_hash/my_schema/sr/z7/srz73ugyqcsdyinxo6gtjbzbk4"],
    ["qtmxdgna7l75ikeegzynkuhjl4", "_hash/my_schema/qt/mx/qtmxdgna7l75ikeegzynkuhjl4"],
  ];
  for (const [h, p] of partD) assert.equal(hashPath(h, "my_schema", sub), p);
  assert.equal(
    hashPath("lvauakv4jmvhnolrtwiraf6fsi", "s", { subfolding: [1, 3, 5], hash_prefix: "/blobs/" }),
    "blobs/s/l/vau/akv4j/lvauakv4jmvhnolrtwiraf6fsi",
  );
  assert.equal(
    hashPath("lvauakv4jmvhnolrtwiraf6fsi", "s", { subfolding: null, hash_prefix: "" }),
    "s/lvauakv4jmvhnolrtwiraf6fsi",
  );
  // The full <blob@main> example of Part D.
  const blob = Uint8Array.from(
    "646a30000401000000000000000a000000000000000501000000000000006104000000000000000a010001"
      .match(/../g)!.map((x) => parseInt(x, 16)),
  );
  assert.equal(blob.length, 43);
  assert.equal(
    hashPath(computeHash(blob), "lab", sub),
    "_hash/lab/sf/2b/sf2bjx2a4n3e65fjwae2k3haam",
  );
  assert.throws(() => hashPath("nothash", "s", flat), DataJointError);
  assert.throws(() => hashPath("lvauakv4jmvhnolrtwiraf6fsi", "a/b", flat), DataJointError);
  assert.throws(() => hashPath("lvauakv4jmvhnolrtwiraf6fsi", "", flat), DataJointError);
  assert.throws(
    () =>
      hashPath("lvauakv4jmvhnolrtwiraf6fsi", "s", { subfolding: [20, 6], hash_prefix: "_hash" }),
    DataJointError,
  );
});

Deno.test("generateToken: length clamped to 4..16, alphabet A-Z a-z 0-9 - _", () => {
  assert.equal(generateToken().length, 8);
  assert.equal(generateToken(8).length, 8);
  assert.equal(generateToken(1).length, 4);
  assert.equal(generateToken(40).length, 16);
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const t = generateToken(16);
    assert.match(t, /^[A-Za-z0-9_-]{16}$/);
    for (const c of t) seen.add(c);
  }
  // 32000 uniform draws from 64 characters hit every one of them.
  assert.equal(seen.size, 64);
  assert.notEqual(generateToken(16), generateToken(16));
});

Deno.test("pythonFloatRepr: Python repr(float) (values from CPython)", () => {
  const cases: [number, string][] = [
    [1, "1.0"],
    [1e-5, "1e-05"],
    [1e20, "1e+20"],
    [0.1, "0.1"],
    [2.5, "2.5"],
    [-3.25, "-3.25"],
    [1e16, "1e+16"],
    [1e15, "1000000000000000.0"],
    [123456.789, "123456.789"],
    [1.5e-7, "1.5e-07"],
    [0.0001, "0.0001"],
    [1 / 3, "0.3333333333333333"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    [-0, "-0.0"],
    [0, "0.0"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [100, "100.0"],
    [12345678901234567890, "1.2345678901234567e+19"],
    [NaN, "nan"],
  ];
  for (const [x, repr] of cases) assert.equal(pythonFloatRepr(x), repr, `repr(${x})`);
});

Deno.test("encodePkValue: the reference examples (Part E)", () => {
  const cases: [unknown, string | undefined, string][] = [
    [5, undefined, "5"],
    [-3, undefined, "-3"],
    [true, undefined, "True"],
    [false, "bool", "False"],
    [1, "float64", "1.0"],
    [1e-5, "float64", "1e-05"],
    [1e20, "float64", "1e+20"],
    [NaN, "float64", "nan"],
    [7n, "int64", "7"],
    [1.5, "float32", "1.5"],
    ["abc", "varchar(16)", "abc"],
    ["a b#c", undefined, "a b#c"],
    ["a/b", undefined, "a%2Fb"],
    ["x:y", undefined, "x%3Ay"],
    ["é", undefined, "é"],
    ["a".repeat(101), undefined, "a".repeat(50) + "_681d7389"],
    ["a/".repeat(60), undefined, "a%2F".repeat(25) + "_c6d8fb95"],
    ["2024-01-05", "date", "2024-01-05"],
    ["2024-01-05 06:07:08.000999", "datetime", "2024-01-05T06-07-08"],
    ["06:07:08", "time", "06:07:08"],
    ["00000000-0000-0000-0000-000000000001", "uuid", "00000000-0000-0000-0000-000000000001"],
    ["1.50", "decimal(6,2)", "1.50"],
    // A datetime64 that became text with a colon (Python str, then escaped).
    ["2024-01-05T06:07", undefined, "2024-01-05T06%3A07"],
    [new Uint8Array([0x61, 0x62]), undefined, "b'ab'"],
  ];
  for (const [value, type, expected] of cases) {
    assert.equal(encodePkValue(value, type), expected, `${String(value)} (${type})`);
  }
});

Deno.test("encodePkValue: escaping, truncation and types (values from CPython)", () => {
  const strings: [string, string][] = [
    ["日本/語", "%E6%97%A5%E6%9C%AC%2F%E8%AA%9E"],
    ['q?uery*<>|"', "q%3Fuery%2A%3C%3E%7C%22"],
    ["100%", "100%"],
    ["tab\there", "tab\there"],
    ["~._-", "~._-"],
    ["!'()", "!'()"],
    ["😀/x", "%F0%9F%98%80%2Fx"],
    ["😀".repeat(120), "%F0%9F%98%80".repeat(50) + "_7aa12c6a"],
    ["é".repeat(101), "%C3%A9".repeat(50) + "_86919ab3"],
    ["a".repeat(100), "a".repeat(100)],
    ["b".repeat(100) + "/", "b".repeat(50) + "_bd75bb4f"],
    ["back\\slash", "back%5Cslash"],
  ];
  for (const [s, expected] of strings) assert.equal(encodePkValue(s), expected, s);

  // Python str(bytes), then the escaping rule.
  assert.equal(encodePkValue(utf8("it's")), "b%22it%27s%22");
  assert.equal(encodePkValue(new Uint8Array([0, 255, 92, 10])), "b%27%5Cx00%5Cxff%5C%5C%5Cn%27");
  assert.equal(encodePkValue(utf8(`a"b'c`)), "b%27a%22b%5C%27c%27");

  // Numbers: integer text for integer (and untyped whole) values, repr(float) for floats.
  assert.equal(encodePkValue(3, "int32"), "3");
  assert.equal(encodePkValue(3), "3");
  assert.equal(encodePkValue(3.5), "3.5");
  assert.equal(encodePkValue(2 ** 60, "int64"), "1152921504606846976");
  assert.equal(encodePkValue(3, "double"), "3.0");
  assert.equal(encodePkValue(1, "bool"), "True");
  assert.equal(encodePkValue(0, "bool"), "False");

  // Datetimes: text or Date (UTC), microseconds dropped, dashes for colons.
  assert.equal(encodePkValue("2024-01-05T06:07:08", "datetime"), "2024-01-05T06-07-08");
  assert.equal(encodePkValue("2024-01-05 06:07", "datetime(3)"), "2024-01-05T06-07-00");
  assert.equal(encodePkValue("2024-01-05", "datetime"), "2024-01-05T00-00-00");
  assert.equal(encodePkValue("2024-01-05 06:07:08", "timestamp"), "2024-01-05T06-07-08");
  const d = new Date(Date.UTC(2024, 0, 5, 6, 7, 8, 999));
  assert.equal(encodePkValue(d, "datetime"), "2024-01-05T06-07-08");
  assert.equal(encodePkValue(d), "2024-01-05T06-07-08");
  assert.equal(encodePkValue(d, "date"), "2024-01-05");
  assert.equal(encodePkValue("2024-01-05 06:07:08", "date"), "2024-01-05");
  // An unparseable datetime falls back to the str() rule.
  assert.equal(encodePkValue("noon:ish", "datetime"), "noon%3Aish");
  // time.isoformat(): microseconds as 6 digits, none when zero.
  assert.equal(encodePkValue("06:07:08.000999", "time"), "06:07:08.000999");
  assert.equal(encodePkValue("6:07:08.5", "time"), "06:07:08.500000");
  assert.equal(encodePkValue("06:07:08.000", "time"), "06:07:08");
  // UUIDs in canonical lowercase form.
  assert.equal(
    encodePkValue("{6BA7B810-9DAD-11D1-80B4-00C04FD430C8}", "uuid"),
    "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  );
  assert.equal(
    encodePkValue("6ba7b8109dad11d180b400c04fd430c8", "uuid"),
    "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  );

  for (const bad of [null, undefined, { a: 1 }, () => 1, new Date(NaN)]) {
    assert.throws(() => encodePkValue(bad), DataJointError);
  }
});

const layout = { partition_pattern: null, token_length: 8, schema_prefix: "_schema" };

Deno.test("objectPath: the reference examples (§3.2, Part E)", () => {
  const key: [string, unknown][] = [["subject", "s1"], ["session", 3]];
  const base = { schema: "lab", table: "__analysis", field: "result", key, spec: layout };
  assert.equal(
    objectPath({ ...base, ext: "", token: "xE4ERAQx" }).path,
    "_schema/lab/__analysis/subject=s1/session=3/result_xE4ERAQx",
  );
  assert.equal(
    objectPath({ ...base, ext: ".npy", token: "m-B3P0Q4" }).path,
    "_schema/lab/__analysis/subject=s1/session=3/result_m-B3P0Q4.npy",
  );
  // A missing leading dot is added.
  assert.equal(
    objectPath({ ...base, ext: "dat", token: "e2-FVsUr" }).path,
    "_schema/lab/__analysis/subject=s1/session=3/result_e2-FVsUr.dat",
  );
  // Partial partitioning: {zz} is not in the key and is skipped; partition attributes leave the
  // key folders; pattern order, not key order.
  assert.equal(
    objectPath({
      schema: "sch",
      table: "__my_table",
      field: "field",
      key: [["a", 1], ["b", "x"], ["c", "2024-01-02"]],
      keyTypes: { a: "int32", c: "date" },
      ext: ".npy",
      token: "NmPKTdcP",
      spec: { ...layout, partition_pattern: "{c}/{zz}/{a}" },
    }).path,
    "_schema/c=2024-01-02/a=1/sch/__my_table/b=x/field_NmPKTdcP.npy",
  );
  assert.equal(
    objectPath({
      schema: "sch",
      table: "#lookup",
      field: "f",
      key: [],
      ext: "dat",
      token: "rw-a-Ii5",
      spec: { ...layout, schema_prefix: "/_schema/" },
    }).path,
    "_schema/sch/#lookup/f_rw-a-Ii5.dat",
  );
  assert.equal(
    objectPath({
      schema: "sch",
      table: "t",
      field: "f",
      key: [["id", 1]],
      ext: "",
      token: "KMHx9Ktl",
      spec: { ...layout, schema_prefix: "" },
    }).path,
    "sch/t/id=1/f_KMHx9Ktl",
  );
});

Deno.test("objectPath: braces are required, tokens are random and sized by the spec", () => {
  const key: [string, unknown][] = [["subject_id", 7], ["session_date", "2024-05-06"]];
  // The documented brace-less form yields no partitions (reference behaviour).
  const noBraces = objectPath({
    schema: "s",
    table: "t",
    field: "f",
    key,
    token: "AAAAAAAA",
    spec: { ...layout, partition_pattern: "subject_id/session_date" },
  });
  assert.equal(noBraces.path, "_schema/s/t/subject_id=7/session_date=2024-05-06/f_AAAAAAAA");
  const a = objectPath({
    schema: "s",
    table: "t",
    field: "f",
    key,
    spec: { ...layout, token_length: 12 },
  });
  const b = objectPath({
    schema: "s",
    table: "t",
    field: "f",
    key,
    spec: { ...layout, token_length: 12 },
  });
  assert.match(a.token, /^[A-Za-z0-9_-]{12}$/);
  assert.ok(a.path.endsWith(`/f_${a.token}`));
  assert.notEqual(a.path, b.path);
  // Values are escaped per attribute type.
  assert.equal(
    objectPath({
      schema: "s",
      table: "t",
      field: "f",
      key: [["x", 1], ["name", "a/b"]],
      keyTypes: { x: "float64" },
      token: "ZZZZZZZZ",
      spec: layout,
    }).path,
    "_schema/s/t/x=1.0/name=a%2Fb/f_ZZZZZZZZ",
  );
  for (const bad of [{ schema: "" }, { table: "a/b" }, { field: "" }, { ext: "x/y" }]) {
    assert.throws(
      () => objectPath({ schema: "s", table: "t", field: "f", key, spec: layout, ...bad }),
      DataJointError,
    );
  }
});

Deno.test("assertStorePath: clean relative paths only", () => {
  assertStorePath("_hash/lab/lvauakv4jmvhnolrtwiraf6fsi");
  assertStorePath("a");
  assertStorePath("", { allowRoot: true });
  assertStorePath("a/b/", { allowRoot: true });
  for (const bad of ["", "/abs", "a//b", "a/", "./a", "a/../b", "..", "a\\b", "a\0b"]) {
    assert.throws(() => assertStorePath(bad), DataJointError, bad);
  }
  assert.throws(() => assertStorePath("a//", { allowRoot: true }), DataJointError);
  assert.throws(() => assertStorePath("/", { allowRoot: true }), DataJointError);
});

const metadata = goldenFile("ddl/store-metadata.json");
/** The golden `ddl/` folder as a file-system path (store paths may hold `#`, `=`, `%`). */
const goldenDir = decodeURIComponent(new URL(".", metadata.url).pathname);

interface GoldenHashMeta {
  hash: string;
  path: string;
  schema: string;
  store: string;
  size: number;
}

Deno.test({
  name: "golden: every hash-addressed object Python wrote has our hash and our path",
  ignore: metadata.ignore,
  async fn() {
    const doc = await readGoldenJson(metadata) as {
      rows: Record<string, Record<string, Record<string, unknown>[]>>;
    };
    let checked = 0;
    for (const backend of ["mysql", "postgresql"]) {
      for (const rows of Object.values(doc.rows[backend])) {
        for (const row of rows) {
          for (const value of Object.values(row)) {
            if (typeof value !== "string" || !value.startsWith("{")) continue;
            const meta = JSON.parse(value) as Partial<GoldenHashMeta>;
            if (meta.hash === undefined) continue;
            const bytes = await Deno.readFile(
              `${goldenDir}store/${backend}/${meta.store}/${meta.path}`,
            );
            assert.equal(bytes.length, meta.size);
            assert.equal(computeHash(bytes), meta.hash);
            assert.equal(
              hashPath(computeHash(bytes), meta.schema!, {
                subfolding: null,
                hash_prefix: "_hash",
              }),
              meta.path,
            );
            checked++;
          }
        }
      }
    }
    // 4 recording rows × 3 hash columns + 4 __analysis rows.
    assert.equal(checked, 16);
  },
});

Deno.test({
  name: "golden: schema-addressed paths Python wrote rebuild from key, field and token",
  ignore: metadata.ignore,
  async fn() {
    const doc = await readGoldenJson(metadata) as {
      rows: Record<string, Record<string, Record<string, unknown>[]>>;
      examples: Record<string, Record<string, { object?: { path: string; base32_md5?: string } }>>;
    };
    let checked = 0;
    for (const backend of ["mysql", "postgresql"]) {
      for (const row of doc.rows[backend].recording) {
        for (const field of ["array", "folder"]) {
          const meta = JSON.parse(row[field] as string) as { path: string; ext?: string | null };
          const m = /_([A-Za-z0-9_-]{8})(\.[a-z]+)?$/.exec(meta.path);
          assert.ok(m, meta.path);
          const { path } = objectPath({
            schema: "dj_golden",
            table: "recording",
            field,
            key: [["subject_id", row.subject_id], ["session_idx", row.session_idx]],
            keyTypes: { subject_id: "int32", session_idx: "int16" },
            ext: m[2] ?? "",
            token: m[1],
            spec: layout,
          });
          assert.equal(path, meta.path);
          checked++;
        }
      }
      // The content hash of schema-addressed files, as recorded by the golden generator.
      for (const example of Object.values(doc.examples)) {
        const obj = example[backend]?.object;
        if (!obj?.base32_md5) continue;
        const store = obj.path.startsWith("_") ? "main" : "raw";
        const bytes = await Deno.readFile(`${goldenDir}store/${backend}/${store}/${obj.path}`);
        assert.equal(computeHash(bytes), obj.base32_md5);
      }
    }
    assert.equal(checked, 8);
  },
});
