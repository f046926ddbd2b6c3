/**
 * Every golden blob vector (`shared/golden/blob/vectors.json`) through `unpack`/`pack` and the
 * tagged-JSON mapping, compared in *typed* mode (int ≠ float, tuple ≠ list); plus tests of the
 * tagged-JSON mapping on its own and of the equality checker.
 */

import assert from "node:assert/strict";
import { deflateSync, inflateSync } from "node:zlib";
import { NDArray, pack, tuple, unpack } from "../codecs/blob/mod.ts";
import { MatCell } from "../codecs/blob/containers.ts";
import {
  fromTagged,
  parseTagged,
  stringifyTagged,
  taggedFloat,
  toTagged,
} from "../codecs/blob/tagged_json.ts";
import { DataJointError } from "../lib/errors.ts";
import { fromHex, goldenFile, readGoldenJson, toHex } from "./_golden.ts";
import type { BlobVector } from "./_golden.ts";
import { taggedDiff } from "./_tagged_equal.ts";

type Vector = BlobVector;

const VECTORS = goldenFile("blob/vectors.json");
const TYPED = { typed: true } as const;

async function loadVectors(): Promise<Vector[]> {
  const doc = await readGoldenJson(VECTORS) as { format: string; count: number; vectors: Vector[] };
  assert.equal(doc.format, "datajoint-blob-vectors/1");
  assert.equal(doc.vectors.length, doc.count);
  return doc.vectors;
}

/** Byte equality with a message that points at the first difference. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < n && actual[i] === expected[i]) i++;
  if (i === n && actual.length === expected.length) return;
  const around = (b: Uint8Array) => toHex(b.subarray(Math.max(0, i - 8), i + 16));
  assert.fail(
    `${what}: ${actual.length} bytes vs ${expected.length} expected, first difference at ` +
      `offset ${i}: got …${around(actual)}… expected …${around(expected)}…`,
  );
}

function assertTagged(actual: unknown, expected: unknown[], what: string): void {
  const diffs = expected.map((e) => taggedDiff(actual, e, TYPED));
  if (diffs.some((d) => d === undefined)) return;
  assert.fail(`${what}: ${diffs.join(" | ")}\n  got: ${JSON.stringify(actual).slice(0, 600)}`);
}

function decodeOptions(v: Vector): { use32bitDims: boolean } {
  return { use32bitDims: v.options?.use_32bit_dims === true };
}

const ZL123 = [0x5a, 0x4c, 0x31, 0x32, 0x33, 0x00];

function isZL123(bytes: Uint8Array): boolean {
  return ZL123.every((b, i) => bytes[i] === b);
}

/** Whether `f` throws a DataJointError (anything else thrown is a failure). */
function throwsDataJointError(f: () => unknown): { threw: boolean; message?: string } {
  try {
    f();
    return { threw: false };
  } catch (e) {
    if (e instanceof DataJointError) return { threw: true, message: e.message };
    throw new Error(`expected a DataJointError, got ${(e as Error)?.constructor?.name}: ${e}`, {
      cause: e,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Golden vectors
// ---------------------------------------------------------------------------------------------

Deno.test({
  name: "golden blob vectors: decode (typed)",
  ignore: VECTORS.ignore,
  async fn(t) {
    for (const v of (await loadVectors()).filter((v) => v.expect === "ok")) {
      await t.step(v.name, () => {
        const accepted = [v.value, ...(v.alt_values ?? [])];
        const got = toTagged(unpack(fromHex(v.hex!), decodeOptions(v)));
        assertTagged(got, accepted, "decode of hex");
        if (v.hex_compressed !== undefined) {
          const gotZ = toTagged(unpack(fromHex(v.hex_compressed), decodeOptions(v)));
          assertTagged(gotZ, accepted, "decode of hex_compressed");
        }
      });
    }
  },
});

Deno.test({
  name: "golden blob vectors: encode --no-compress (typed)",
  ignore: VECTORS.ignore,
  async fn(t) {
    for (const v of (await loadVectors()).filter((v) => v.expect === "ok")) {
      await t.step(v.name, () => {
        const expected = fromHex(v.encode_hex ?? v.hex!);
        const ours = pack(fromTagged(v.value), { compress: false });
        assert.equal(
          toHex(ours.subarray(0, 4)),
          toHex(expected.subarray(0, 4)),
          "protocol header",
        );
        if (v.typed_bytes) {
          assertSameBytes(ours, expected, "typed bytes");
        } else {
          // Sets of 2+ elements: Python's order follows its hashes, so compare decoded values.
          assertTagged(toTagged(unpack(ours)), [v.encode_value ?? v.value], "decode of our bytes");
        }
      });
    }
  },
});

Deno.test({
  name: "golden blob vectors: encode with compression",
  ignore: VECTORS.ignore,
  async fn(t) {
    for (const v of (await loadVectors()).filter((v) => v.expect === "ok")) {
      await t.step(v.name, () => {
        const value = fromTagged(v.value);
        const plain = pack(value, { compress: false });
        const packed = pack(value);
        if (plain.length <= 1000) {
          assertSameBytes(packed, plain, "a blob of at most 1000 bytes is never compressed");
          return;
        }
        if (isZL123(packed)) {
          const length = new DataView(packed.buffer, packed.byteOffset + 6, 8)
            .getBigUint64(0, true);
          assert.equal(length, BigInt(plain.length), "ZL123 length field");
          const inflated = new Uint8Array(inflateSync(packed.subarray(14)));
          assertSameBytes(inflated, plain, "inflated ZL123 payload");
          assert.ok(packed.length < plain.length, "compressed form must be shorter");
        } else {
          assertSameBytes(packed, plain, "an uncompressed result is the plain blob");
          const shrunk = deflateSync(plain).length;
          assert.ok(
            shrunk >= 0.9 * plain.length,
            `zlib shrinks this ${plain.length}-byte blob to ${shrunk}: it must be compressed`,
          );
        }
        assertTagged(toTagged(unpack(packed)), [toTagged(unpack(plain))], "decode of packed");
      });
    }
  },
});

Deno.test({
  name: "golden blob vectors: errors",
  ignore: VECTORS.ignore,
  async fn(t) {
    for (const v of (await loadVectors()).filter((v) => v.expect === "error")) {
      await t.step(v.name, () => {
        if (v.leg === "encode") {
          const r = throwsDataJointError(() => {
            const value = v.json_text !== undefined ? parseTagged(v.json_text) : fromTagged(v.json);
            return pack(value);
          });
          assert.ok(r.threw, "encode must fail");
        } else {
          const r = throwsDataJointError(() => unpack(fromHex(v.hex!), decodeOptions(v)));
          assert.ok(r.threw, "decode must fail");
        }
      });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// The tagged-JSON mapping on its own
// ---------------------------------------------------------------------------------------------

function invalid(json: unknown, pattern: RegExp): void {
  const r = throwsDataJointError(() => fromTagged(json));
  assert.ok(r.threw, `fromTagged(${JSON.stringify(json)}) must throw`);
  assert.match(r.message!, /^invalid tagged JSON: /);
  assert.match(r.message!, pattern);
}

Deno.test("toTagged: Python ints are bigints, floats numbers, in F encoding", () => {
  assert.deepEqual(toTagged(3n), { int: "3" });
  assert.deepEqual(toTagged(-(2n ** 70n)), { int: "-1180591620717411303424" });
  assert.deepEqual(toTagged(3), { float: 3 });
  assert.deepEqual(toTagged(-0), { float: "-0" });
  assert.deepEqual(toTagged(0), { float: 0 });
  assert.deepEqual([NaN, Infinity, -Infinity, 1e-310].map(taggedFloat), [
    "nan",
    "inf",
    "-inf",
    1e-310,
  ]);
  assert.equal(stringifyTagged(-0), '{"float":"-0"}');
});

Deno.test("toTagged: int64, uint64 and datetime64 elements are decimal strings", () => {
  const big = new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]);
  assert.deepEqual(toTagged(NDArray.from(big)), {
    array: { dtype: "int64", shape: [2], data: ["-9223372036854775808", "9223372036854775807"] },
  });
  const dt = new NDArray("datetime64[ms]", [1], new BigInt64Array([-1n]));
  assert.deepEqual(toTagged(dt), { array: { dtype: "datetime64[ms]", shape: [1], data: ["-1"] } });
  assert.deepEqual(toTagged(NDArray.from(new Int16Array([-5]))), {
    array: { dtype: "int16", shape: [1], data: [-5] },
  });
});

Deno.test("toTagged: float32 data is written as the exact double", () => {
  const a = toTagged(NDArray.from(new Float32Array([0.1, -0]))) as {
    array: { data: unknown[] };
  };
  assert.deepEqual(a.array.data, [0.10000000149011612, "-0"]);
});

Deno.test("toTagged: 0-d numeric arrays are scalars; 0-d object arrays stay arrays", () => {
  assert.deepEqual(toTagged(NDArray.scalar("uint64", 7n)), {
    scalar: { dtype: "uint64", value: "7" },
  });
  assert.deepEqual(toTagged(NDArray.scalar("complex64", 1)), {
    scalar: { dtype: "complex64", value: [1, 0] },
  });
  assert.deepEqual(toTagged(new NDArray("object", [], [null])), {
    array: { dtype: "object", shape: [], data: [null] },
  });
});

Deno.test("toTagged: MATLAB char arrays appear as Python's str arrays", () => {
  const char = (shape: number[], text: string) =>
    new NDArray("char", shape, Uint16Array.from(text, (c) => c.charCodeAt(0)));
  // Rows and 1-d arrays join into one string of shape [1].
  assert.deepEqual(toTagged(NDArray.char("hello")), {
    array: { dtype: "str", shape: [1], data: ["hello"] },
  });
  assert.deepEqual(toTagged(char([3], "abc")), {
    array: { dtype: "str", shape: [1], data: ["abc"] },
  });
  assert.deepEqual(toTagged(char([1, 0], "")), { array: { dtype: "str", shape: [1], data: [""] } });
  // Every other shape keeps the declared shape, one character per element in C order.
  assert.deepEqual(toTagged(char([2, 2], "abcd")), {
    array: { dtype: "str", shape: [2, 2], data: ["a", "b", "c", "d"] },
  });
  assert.deepEqual(toTagged(char([0, 0], "")), {
    array: { dtype: "str", shape: [0, 0], data: [] },
  });
  assert.deepEqual(toTagged(char([], "z")), { array: { dtype: "str", shape: [], data: ["z"] } });
});

Deno.test("toTagged: empty cells report shape [0], as Python does", () => {
  assert.deepEqual(toTagged(new MatCell([0, 0], [])), { cell: { shape: [0], data: [] } });
  assert.deepEqual(toTagged(new MatCell([1, 1], ["x"])), { cell: { shape: [1, 1], data: ["x"] } });
});

Deno.test("toTagged: containers, dicts in key order, dates with 6 fraction digits", () => {
  assert.deepEqual(toTagged(tuple(1n, [null])), {
    tuple: [{ int: "1" }, { list: [null] }],
  });
  assert.deepEqual(toTagged(new Map<unknown, unknown>([[2n, "b"], ["a", true]])), {
    dict: [[{ int: "2" }, "b"], ["a", true]],
  });
  assert.deepEqual(toTagged(Temporal.PlainDateTime.from("2024-03-05T06:07:08")), {
    datetime: "2024-03-05T06:07:08.000000",
  });
  assert.deepEqual(toTagged(Temporal.PlainTime.from("06:07:08.000009")), {
    time: "06:07:08.000009",
  });
  assert.deepEqual(toTagged(new Uint8Array([0, 255])), { bytes: "00ff" });
});

Deno.test("toTagged: rejects values no blob holds and reference cycles", () => {
  assert.throws(() => toTagged(() => 1), DataJointError);
  assert.throws(() => toTagged(Symbol("s")), DataJointError);
  const cycle: unknown[] = [];
  cycle.push(cycle);
  assert.throws(() => toTagged(cycle), /cycle/);
});

Deno.test("fromTagged: builds pack-ready values", () => {
  assert.equal(fromTagged({ int: "-12" }), -12n);
  assert.ok(Object.is(fromTagged({ float: "-0" }), -0));
  assert.ok(Number.isNaN(fromTagged({ float: "nan" })));
  const t = fromTagged({ tuple: [{ int: "1" }, "a"] }) as unknown[];
  assert.equal(t.constructor.name, "Tuple");
  assert.deepEqual([...t], [1n, "a"]);
  const m = fromTagged({ dict: [["b", null], [{ int: "2" }, true]] }) as Map<unknown, unknown>;
  assert.ok(m instanceof Map);
  assert.deepEqual([...m.keys()], ["b", 2n]);
  const s = fromTagged({ set: [{ int: "1" }, "x"] });
  assert.ok(s instanceof Set);
});

Deno.test("fromTagged: str arrays become object arrays, char arrays MATLAB char", () => {
  const s = fromTagged({ array: { dtype: "str", shape: [2], data: ["ab", "c"] } }) as NDArray;
  assert.equal(s.dtype, "object");
  assert.deepEqual(s.data, ["ab", "c"]);
  const c = fromTagged({ array: { dtype: "char", shape: [1, 2], data: ["h", "i"] } }) as NDArray;
  assert.equal(c.dtype, "char");
  assert.equal(c.text(), "hi");
});

Deno.test("fromTagged: integer elements as strings or safe JSON numbers", () => {
  const a = fromTagged({
    array: { dtype: "int64", shape: [3], data: ["9223372036854775807", -5, "+7"] },
  }) as NDArray;
  assert.deepEqual([...(a.data as BigInt64Array)], [2n ** 63n - 1n, -5n, 7n]);
  invalid({ array: { dtype: "int64", shape: [1], data: [2 ** 60] } }, /decimal string/);
  const f = fromTagged({ array: { dtype: "float32", shape: [2], data: [0.1, "-inf"] } }) as NDArray;
  assert.deepEqual([...(f.data as Float32Array)], [Math.fround(0.1), -Infinity]);
});

Deno.test("fromTagged: Python dict and set semantics for equal keys", () => {
  // {1: 'a', True: 'b', 1.0: 'c'} is {1: 'c'} in Python.
  const m = fromTagged({
    dict: [[{ int: "1" }, "a"], [true, "b"], [{ float: 1 }, "c"]],
  }) as Map<unknown, unknown>;
  assert.deepEqual([...m], [[1n, "c"]]);
  const s = fromTagged({ set: [{ int: "1" }, true, { float: 1.5 }] }) as Set<unknown>;
  assert.deepEqual([...s], [1n, 1.5]);
});

Deno.test("fromTagged: every malformed input is an 'invalid tagged JSON' DataJointError", () => {
  invalid(5, /bare JSON numbers/);
  invalid([1], /bare JSON arrays/);
  invalid({ foo: 1 }, /unknown tag "foo"/);
  invalid({ int: "1", float: 2 }, /exactly one key/);
  invalid({ int: "12x" }, /invalid integer string/);
  invalid({ int: 12 }, /decimal string/);
  invalid({ float: "NaN" }, /float/);
  invalid({ bytes: "abc" }, /hex/);
  invalid({ uuid: "not-a-uuid" }, /UUID/);
  invalid({ decimal: "1.2.3" }, /decimal/);
  invalid({ date: "2024-02-30" }, /date/);
  invalid({ date: "0000-01-01" }, /date/);
  invalid({ time: "24:00:00" }, /time/);
  invalid({ datetime: "2024-01-01T00:00:00.1234567" }, /datetime/);
  invalid({ array: { dtype: "float16", shape: [1], data: [1] } }, /unknown dtype "float16"/);
  invalid({ array: { dtype: "float64", shape: [2, 2], data: [1, 2, 3] } }, /prod\(shape\)=4/);
  invalid({ array: { dtype: "float64", shape: [-1], data: [] } }, /non-negative/);
  invalid({ array: { dtype: "uint8", shape: [1], data: [256] } }, /out of range for uint8/);
  invalid({ array: { dtype: "int8", shape: [1], data: [1.5] } }, /integer/);
  invalid({ array: { dtype: "float32", shape: [1], data: [1e39] } }, /out of range for float32/);
  invalid({ array: { dtype: "bool", shape: [1], data: [1] } }, /true or false/);
  invalid({ array: { dtype: "str", shape: [1], data: [1] } }, /string/);
  invalid({ array: { dtype: "char", shape: [1], data: ["ab"] } }, /one character/);
  invalid({ array: { dtype: "complex128", shape: [1], data: [1] } }, /\[re, im\]/);
  invalid({ array: { dtype: "int8", shape: [1], data: [1], order: "F" } }, /unknown key "order"/);
  invalid({ scalar: { dtype: "str", value: "a" } }, /no NumPy scalar/);
  invalid({ scalar: { dtype: "object", value: null } }, /no NumPy scalar/);
  invalid({ struct: { shape: [1], fields: [], data: [[]] } }, /at least one field/);
  invalid({ struct: { shape: [1], fields: ["a"], data: [[null, null]] } }, /needs 1 values/);
  invalid({ recarray: { shape: [1], fields: [] } }, /at least one field/);
  invalid({
    recarray: { shape: [2], fields: [["x", { array: { dtype: "int8", shape: [1], data: [1] } }]] },
  }, /column shape/);
  invalid({ cell: { shape: [2], data: [null] } }, /prod\(shape\)=2/);
  invalid({ set: [{ list: [] }] }, /unhashable/);
  invalid({ dict: [[{ tuple: [{ set: [] }] }, null]] }, /unhashable/);
  invalid({ dict: [["a"]] }, /\[key, value\]/);
  invalid({ list: [{ list: [{ foo: null }] }] }, /\$\.list\[0\]\.list\[0\]: unknown tag/);
});

Deno.test("parseTagged: deep nesting is a short DataJointError, recarrays included", () => {
  // Nested recarray columns recurse outside readValue; they overflowed the stack (a RangeError).
  const n = 5000;
  const head = '{"recarray":{"shape":[],"fields":[["x",';
  const leaf = '{"scalar":{"dtype":"int8","value":1}}';
  for (
    const text of [
      head.repeat(n) + leaf + "]]}}".repeat(n),
      '{"list":['.repeat(n) + "null" + "]}".repeat(n),
    ]
  ) {
    const r = throwsDataJointError(() => parseTagged(text));
    assert.ok(r.threw, "must throw a DataJointError");
    assert.match(r.message!, /^invalid tagged JSON: .*nesting deeper than 1000 levels$/);
    // The path to the offending level is cut, not a line of thousands of characters.
    assert.ok(r.message!.length < 300, `message of ${r.message!.length} characters`);
  }
});

Deno.test("parseTagged: JSON syntax errors are DataJointErrors too", () => {
  assert.throws(() => parseTagged('{"int": '), (e: unknown) => {
    return e instanceof DataJointError && /^invalid tagged JSON: /.test(e.message);
  });
  assert.throws(() => parseTagged(""), DataJointError);
  assert.equal(parseTagged('{"int": "42"}'), 42n);
});

Deno.test("tagged JSON round trip keeps types a one-number language would merge", () => {
  const text = JSON.stringify({
    list: [
      { int: "1" },
      { float: 1 },
      { tuple: [] },
      { list: [] },
      { float: "-0" },
      { complex: ["nan", "-0"] },
      { decimal: "1.50" },
      { uuid: "12345678-1234-5678-1234-567812345678" },
      { date: "0001-01-01" },
      { scalar: { dtype: "bool", value: true } },
      { struct: { shape: [1, 1], fields: ["a"], data: [[{ int: "1" }]] } },
      {
        recarray: {
          shape: [],
          fields: [["x", { array: { dtype: "float64", shape: [], data: [1] } }]],
        },
      },
    ],
  });
  assert.equal(stringifyTagged(parseTagged(text)), text);
});

// ---------------------------------------------------------------------------------------------
// The equality checker (README §4)
// ---------------------------------------------------------------------------------------------

Deno.test("taggedDiff: rules (b) and (c) apply only outside typed mode", () => {
  assert.equal(taggedDiff({ int: "3" }, { float: 3 }), undefined);
  assert.notEqual(taggedDiff({ int: "3" }, { float: 3 }, TYPED), undefined);
  assert.notEqual(taggedDiff({ int: "3" }, { float: "-0" }), undefined);
  assert.notEqual(taggedDiff({ int: "9007199254740993" }, { float: 9007199254740992 }), undefined);
  assert.equal(taggedDiff({ tuple: [{ int: "1" }] }, { list: [{ float: 1 }] }), undefined);
  assert.notEqual(taggedDiff({ tuple: [] }, { list: [] }, TYPED), undefined);
  // Never inside array data, whose dtype is strict.
  assert.notEqual(
    taggedDiff(
      { array: { dtype: "int64", shape: [1], data: ["1"] } },
      { array: { dtype: "float64", shape: [1], data: [1] } },
    ),
    undefined,
  );
});

Deno.test("taggedDiff: sets, representation rule (e), strict elsewhere", () => {
  assert.equal(
    taggedDiff({ set: ["a", { int: "1" }] }, { set: [{ int: "1" }, "a"] }, TYPED),
    undefined,
  );
  assert.notEqual(taggedDiff({ set: ["a", "a"] }, { set: ["a", "b"] }, TYPED), undefined);
  assert.notEqual(
    taggedDiff({ dict: [["a", null], ["b", null]] }, { dict: [["b", null], ["a", null]] }),
    undefined,
  );
  assert.equal(
    taggedDiff(
      { scalar: { dtype: "int64", value: "5" } },
      { array: { dtype: "int64", shape: [], data: [5] } },
      TYPED,
    ),
    undefined,
  );
  assert.equal(
    taggedDiff(
      { array: { dtype: "float32", shape: [1], data: [0.10000000149011612] } },
      { array: { dtype: "float32", shape: [1], data: [0.1] } },
      TYPED,
    ),
    undefined,
  );
  assert.notEqual(
    taggedDiff(
      { array: { dtype: "float64", shape: [1], data: [0.10000000149011612] } },
      { array: { dtype: "float64", shape: [1], data: [0.1] } },
      TYPED,
    ),
    undefined,
  );
  assert.equal(taggedDiff({ float: "nan" }, { float: "nan" }, TYPED), undefined);
  assert.notEqual(taggedDiff({ float: "-0" }, { float: 0 }, TYPED), undefined);
  assert.equal(taggedDiff({ decimal: "1e2" }, { decimal: "1E+2" }, TYPED), undefined);
  assert.notEqual(taggedDiff({ decimal: "1.0" }, { decimal: "1.00" }, TYPED), undefined);
  assert.equal(taggedDiff({ time: "06:07:08" }, { time: "06:07:08.000000" }, TYPED), undefined);
  assert.equal(taggedDiff({ bytes: "FF" }, { bytes: "ff" }, TYPED), undefined);
  assert.notEqual(taggedDiff(true, { int: "1" }), undefined);
  assert.notEqual(taggedDiff("ab", { bytes: "6162" }), undefined);
  assert.notEqual(
    taggedDiff({ date: "2024-01-01" }, { datetime: "2024-01-01T00:00:00" }),
    undefined,
  );
});
