/**
 * The value types on their own: Decimal's canonical form (Python's `str(Decimal)`), UUID forms,
 * and the conveniences `pack` accepts (typed arrays, Dates) with the errors for what it cannot.
 *
 * @module
 */

import {
  BlobDecodeError,
  BlobEncodeError,
  DataJointError,
  Decimal,
  NDArray,
  pack,
  unpack,
  UUID,
} from "../mod.ts";
import { toTagged } from "../codecs/blob/tagged_json.ts";
import { hashKey } from "../codecs/blob/values.ts";
import { assert, assertThrowsA, toHex } from "./_blob_equal.ts";

Deno.test("Decimal: canonical strings are Python's str(Decimal(text))", () => {
  // Each pair is (input, what CPython's str(Decimal(input)) prints).
  const cases: [string, string][] = [
    ["-1.50", "-1.50"],
    ["1e2", "1E+2"],
    ["100", "100"],
    ["0.000001", "0.000001"],
    ["0.0000001", "1E-7"],
    ["123e-10", "1.23E-8"],
    ["1.", "1"],
    [".5", "0.5"],
    ["-0", "-0"],
    ["00123", "123"],
    ["1_000.5", "1000.5"],
    [" 12 ", "12"],
    ["nan", "NaN"],
    ["-Inf", "-Infinity"],
    ["sNaN012", "sNaN12"],
    ["NaN0", "NaN"],
    ["0E+3", "0E+3"],
    ["0.00", "0.00"],
  ];
  for (const [input, python] of cases) {
    assert(new Decimal(input).toString() === python, `${input} → ${python}`);
  }
  for (const bad of ["", ".", "1e", "1__0", "_1", "1.2.3", "abc", "1e+", "--1"]) {
    assertThrowsA(() => new Decimal(bad), DataJointError, /Invalid decimal/);
  }
});

Deno.test("Decimal: exponents Python's Decimal cannot hold are refused, on pack and on unpack", () => {
  // Checked against CPython 3.11's Decimal(text): these it accepts...
  for (
    const ok of [
      "1e999999999999999999",
      "12e999999999999999998",
      "1.0e999999999999999999",
      "0.0e1000000000000000000",
      "1e-1999999999999999997",
      "0e-1999999999999999997",
    ]
  ) {
    assert(unpack(pack(new Decimal(ok))) instanceof Decimal, ok);
  }
  // ...and these raise InvalidOperation, so a blob holding one could not be read by Python.
  const bad = [
    "1e1000000000000000000",
    "12e999999999999999999",
    "0e1000000000000000000",
    "-1e-1999999999999999998",
    "0.1e-1999999999999999997",
    "1e999999999999999999999",
  ];
  for (const text of bad) {
    assertThrowsA(() => new Decimal(text), DataJointError, /exponent is beyond what Python/);
    const bytes = new TextEncoder().encode(text);
    const blob = new Uint8Array([0x64, 0x6a, 0x30, 0, 0x64, bytes.length, 0, 0, 0, 0, 0, 0, 0]);
    const item = new Uint8Array(blob.length + bytes.length);
    item.set(blob);
    item.set(bytes, blob.length);
    assertThrowsA(() => unpack(item), BlobDecodeError, /invalid Decimal/);
  }
});

Deno.test("UUID: accepted forms and canonical text", () => {
  const canonical = "12345678-1234-5678-1234-567812345678";
  for (
    const form of [
      canonical,
      canonical.toUpperCase(),
      "{12345678-1234-5678-1234-567812345678}",
      "urn:uuid:12345678-1234-5678-1234-567812345678",
      "12345678123456781234567812345678",
    ]
  ) {
    assert(new UUID(form).toString() === canonical, form);
  }
  assert(new UUID(new UUID(canonical).bytes).toString() === canonical, "bytes round trip");
  assertThrowsA(() => new UUID("1234"), DataJointError, /Invalid UUID/);
  assertThrowsA(() => new UUID(new Uint8Array(15)), DataJointError, /16 bytes/);
});

Deno.test("pack: bare typed arrays become 1-D arrays; unsupported ones are BlobEncodeErrors", () => {
  const clamped = unpack(pack(new Uint8ClampedArray([1, 255, 2]))) as NDArray;
  assert(clamped.dtype === "uint8" && clamped.data.join() === "1,255,2", "Uint8ClampedArray");
  const f32 = unpack(pack(new Float32Array([1.5, -2]))) as NDArray;
  assert(f32.dtype === "float32" && f32.shape.join() === "2", "Float32Array");
  const bytes = unpack(pack(new Uint8Array([1, 2])));
  assert(bytes instanceof Uint8Array && !(bytes instanceof NDArray), "Uint8Array is bytes");
  const F16 = (globalThis as { Float16Array?: new (n: number[]) => ArrayBufferView }).Float16Array;
  if (F16) assertThrowsA(() => pack(new F16([1])), BlobEncodeError, /Float16Array/);
  assertThrowsA(() => pack(() => 1), BlobEncodeError, /Cannot pack a value of type function/);
  assertThrowsA(() => pack(new (class Custom {})()), BlobEncodeError, /Custom/);
});

Deno.test("pack: a JS Date is a naive UTC datetime; invalid ones are rejected", () => {
  const back = unpack(pack(new Date("2024-03-05T06:07:08.009Z")));
  assert(back instanceof Temporal.PlainDateTime, "a PlainDateTime");
  assert(String(back) === "2024-03-05T06:07:08.009", String(back));
  assertThrowsA(() => pack(new Date(NaN)), BlobEncodeError, /invalid Date/);
});

Deno.test("pack: Temporal dates in another calendar are written and keyed by their ISO date", () => {
  // Python's date and datetime are ISO; a hebrew 2020-01-01 has year 5780 in its own fields.
  const cases: [Temporal.PlainDate | Temporal.PlainDateTime, string][] = [
    [Temporal.PlainDate.from("2020-01-01[u-ca=hebrew]"), "2020-01-01"],
    [
      Temporal.PlainDateTime.from("2020-03-05T06:07:08.000009[u-ca=japanese]"),
      "2020-03-05T06:07:08.000009",
    ],
    [Temporal.PlainDate.from("2024-02-29[u-ca=islamic-umalqura]"), "2024-02-29"],
  ];
  for (const [value, iso] of cases) {
    const plain = value instanceof Temporal.PlainDate
      ? Temporal.PlainDate.from(iso)
      : Temporal.PlainDateTime.from(iso);
    assert(toHex(pack(value)) === toHex(pack(plain)), `${value} packs as ${iso}`);
    assert(String(unpack(pack(value))) === String(plain), `${value} unpacks as ${iso}`);
    const tag = value instanceof Temporal.PlainDate ? "date" : "datetime";
    const text = toTagged(value) as Record<string, string>;
    assert(text[tag].startsWith(iso), `toTagged ${JSON.stringify(text)}`);
    assert(hashKey(value) === hashKey(plain), `${value} is the same dict key as ${iso}`);
  }
});

Deno.test("NDArray: a typed array in the dtype's place, or a long bad dtype, gives a short error", () => {
  const data = new Float64Array(100_000);
  const wrong = () => new NDArray(data as unknown as "float64", [100_000], data);
  assertThrowsA(wrong, DataJointError, /first argument is a dtype name.*got Float64Array/);
  try {
    wrong();
  } catch (e) {
    assert((e as Error).message.length < 300, "the message does not print the array");
  }
  const long = "x".repeat(10_000) as "float64";
  assertThrowsA(() => new NDArray(long, [1], new Float64Array(1)), DataJointError, /x…"/);
  try {
    new NDArray(long, [1], new Float64Array(1));
  } catch (e) {
    assert((e as Error).message.length < 600, "the message does not print the whole name");
  }
  assertThrowsA(
    () => new NDArray("float63" as "float64", [1], new Float64Array(1)),
    DataJointError,
    /Unknown dtype "float63": use one of bool, char/,
  );
});
