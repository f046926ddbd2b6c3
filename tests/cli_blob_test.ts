/**
 * `dj blob` end to end: a sample of golden vectors (one per category, plus error vectors of both
 * legs) through the real CLI as a subprocess, and the command dispatch in-process.
 */

import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { runBlob } from "../lib/cli/blob.ts";
import { runCli } from "../lib/cli/main.ts";
import { fromHex, goldenFile, readGoldenJson, toHex } from "./_golden.ts";
import type { BlobVector } from "./_golden.ts";
import { taggedDiff } from "./_tagged_equal.ts";

type Vector = BlobVector;

interface Run {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

const REPO = new URL("../", import.meta.url).pathname;
const VECTORS = goldenFile("blob/vectors.json");
const TYPED = { typed: true } as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Run `dj <args>` as a real process, feeding `input` on stdin. */
async function dj(args: string[], input: Uint8Array): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "lib/cli/main.ts", ...args],
    cwd: REPO,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const out = await child.output();
  return { code: out.code, stdout: out.stdout, stderr: decoder.decode(out.stderr) };
}

/** Run many CLI calls a few at a time; results come back in order. */
async function runAll(jobs: (() => Promise<Run>)[], concurrency = 4): Promise<Run[]> {
  const results = new Array<Run>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

function assertOneLineError(r: Run, code: number, what: string): void {
  assert.equal(r.code, code, `${what}: exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, /^[^\n]+\n$/, `${what}: stderr must be exactly one line`);
  assert.doesNotMatch(r.stderr, /\bat .*:\d+:\d+/, `${what}: no stack trace`);
}

function assertDecoded(r: Run, v: Vector, what: string): void {
  assert.equal(r.code, 0, `${what}: exit code (stderr: ${r.stderr})`);
  const text = decoder.decode(r.stdout);
  assert.ok(text.endsWith("\n") && !text.slice(0, -1).includes("\n"), `${what}: one JSON line`);
  const got = JSON.parse(text);
  const diffs = [v.value, ...(v.alt_values ?? [])].map((e) => taggedDiff(got, e, TYPED));
  assert.ok(diffs.some((d) => d === undefined), `${what}: ${diffs.join(" | ")}`);
}

/** A spread of ok vectors over the categories (≥ 20), and error vectors of both legs. */
const SAMPLE = [
  "int-2p64",
  "float-neg0",
  "complex-inf-infj",
  "str-emoji",
  "bytes-all-256",
  "list-mixed",
  "tuple-nested",
  "set-ints",
  "dict-int-and-tuple-keys",
  "decimal-1E+2",
  "uuid-random",
  "datetime-micro",
  "scalar-uint64-big",
  "array-float32-extremes",
  "datetime64-array-ns",
  "array-complex128-special-parts",
  "char-2x3-c-order-quirk",
  "object-array-dicts",
  "recarray-nested",
  "struct-with-cell",
  "cell-empty-0x0",
  "matlab-A4",
  "matlab-32bit-struct",
  "compress-random-float64",
  "compress-exactly-1000-bytes",
  "invalid-empty",
  "invalid-zl123-not-zlib",
  "invalid-utf8-str",
  "invalid-32bit-blob-without-flag",
  "encode-invalid-json-text",
  "encode-invalid-unknown-tag",
  "encode-invalid-bare-number",
];

Deno.test({
  name: "dj blob (subprocess): golden vector sample",
  ignore: VECTORS.ignore,
  async fn(t) {
    const doc = await readGoldenJson(VECTORS) as { vectors: Vector[] };
    const vectors = SAMPLE.map((name) => {
      const v = doc.vectors.find((x) => x.name === name);
      assert.ok(v !== undefined, `vector ${name} exists`);
      return v;
    });
    assert.ok(new Set(vectors.map((v) => v.category)).size >= 20);

    // Start every process first (a few at a time), then check each vector in its own step.
    const jobs: (() => Promise<Run>)[] = [];
    const slots = vectors.map((v) => {
      const slot: Record<string, number> = {};
      const add = (key: string, job: () => Promise<Run>) => (slot[key] = jobs.push(job) - 1);
      const dims = v.options?.use_32bit_dims ? ["--32bit-dims"] : [];
      if (v.expect === "error" && v.leg === "encode") {
        const text = v.json_text ?? JSON.stringify(v.json);
        add("encode", () => dj(["blob", "encode"], encoder.encode(text)));
      } else if (v.expect === "error") {
        add("decode", () => dj(["blob", "decode", ...dims], fromHex(v.hex!)));
      } else {
        const json = encoder.encode(JSON.stringify(v.value));
        add("decode", () => dj(["blob", "decode", ...dims], fromHex(v.hex!)));
        if (v.hex_compressed) {
          add("decodeZ", () => dj(["blob", "decode", ...dims], fromHex(v.hex_compressed!)));
        }
        add("encode", () => dj(["blob", "encode", "--no-compress"], json));
        // Compression itself is covered in-process for every vector; here only the big ones.
        if (v.category === "compression") add("encodeZ", () => dj(["blob", "encode"], json));
      }
      return slot;
    });
    const runs = await runAll(jobs);

    for (const [i, v] of vectors.entries()) {
      const r = (key: string) => runs[slots[i][key]];
      await t.step(v.name, async () => {
        if (v.expect === "error") {
          assertOneLineError(r(v.leg === "encode" ? "encode" : "decode"), 1, "error vector");
          return;
        }
        assertDecoded(r("decode"), v, "decode");
        if (v.hex_compressed) assertDecoded(r("decodeZ"), v, "decode of hex_compressed");

        const plain = r("encode");
        assert.equal(plain.code, 0, `encode --no-compress (stderr: ${plain.stderr})`);
        const expected = v.encode_hex ?? v.hex!;
        assert.equal(toHex(plain.stdout.subarray(0, 4)), expected.slice(0, 8), "protocol header");
        if (v.typed_bytes) {
          assert.equal(toHex(plain.stdout), expected, "encode --no-compress bytes");
        } else {
          const back = await runBlob(["decode"], plain.stdout);
          const diff = taggedDiff(
            JSON.parse(decoder.decode(back.stdout)),
            v.encode_value ?? v.value,
            TYPED,
          );
          assert.equal(diff, undefined, "decode of our encoding");
        }

        if (slots[i].encodeZ === undefined) return;
        const packed = r("encodeZ");
        assert.equal(packed.code, 0, `encode (stderr: ${packed.stderr})`);
        if (plain.stdout.length <= 1000) {
          assert.equal(toHex(packed.stdout), toHex(plain.stdout), "small blobs stay plain");
        } else {
          // The sampled large vector is one that Python compresses (it has hex_compressed).
          assert.equal(decoder.decode(packed.stdout.subarray(0, 6)), "ZL123\0", "compressed");
          const length = new DataView(packed.stdout.buffer, packed.stdout.byteOffset + 6, 8)
            .getBigUint64(0, true);
          assert.equal(length, BigInt(plain.stdout.length), "ZL123 length field");
          const inflated = new Uint8Array(inflateSync(packed.stdout.subarray(14)));
          assert.equal(toHex(inflated), toHex(plain.stdout), "ZL123 inflates to the plain blob");
        }
      });
    }
  },
});

Deno.test("dj (subprocess): --help, and a bad command exits 2 with one line", async () => {
  const [help, blobHelp, bad, badFlag] = await runAll([
    () => dj(["--help"], new Uint8Array()),
    () => dj(["blob", "encode", "--help"], new Uint8Array()),
    () => dj(["frobnicate"], new Uint8Array()),
    () => dj(["blob", "decode", "--64bit-dims"], new Uint8Array()),
  ]);
  assert.equal(help.code, 0);
  assert.match(decoder.decode(help.stdout), /Usage: dj <command>[\s\S]*\bblob\b/);
  assert.equal(help.stderr, "");
  assert.equal(blobHelp.code, 0);
  assert.match(decoder.decode(blobHelp.stdout), /--no-compress/);
  assertOneLineError(bad, 2, "unknown command");
  assert.match(bad.stderr, /unknown command 'frobnicate'/);
  assertOneLineError(badFlag, 2, "unknown option");
  assert.match(badFlag.stderr, /--64bit-dims/);
});

Deno.test("dj (subprocess): binary output survives the pipe unchanged", async () => {
  // Bytes 0x00, 0x0a, 0x0d and 0xff would be mangled by any text handling of stdout.
  const json = '{"bytes": "000a0d0aff"}';
  const r = await dj(["blob", "encode"], encoder.encode(json));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(toHex(r.stdout), "646a3000" + "06" + "0500000000000000" + "000a0d0aff");
});

// ---------------------------------------------------------------------------------------------
// In-process: dispatch, usage errors and runtime errors
// ---------------------------------------------------------------------------------------------

const neverRead = () => Promise.reject(new Error("stdin must not be read"));

Deno.test("runCli: help and usage errors never read stdin", async () => {
  const help = await runCli(["--help"], neverRead);
  assert.equal(help.code, 0);
  assert.match(decoder.decode(help.stdout), /blob/);
  for (
    const args of [[], ["nope"], ["blob"], ["blob", "nope"], ["blob", "decode", "extra"], [
      "blob",
      "encode",
      "--32bit-dims",
    ]]
  ) {
    const r = await runCli(args, neverRead);
    assert.equal(r.code, 2, `dj ${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^dj[^\n]*: [^\n]+\n$/);
    assert.equal(r.stdout.length, 0);
  }
  for (const args of [["blob", "--help"], ["blob", "decode", "-h"], ["blob", "encode", "--help"]]) {
    const r = await runCli(args, neverRead);
    assert.equal(r.code, 0, args.join(" "));
    assert.match(decoder.decode(r.stdout), /^Usage: dj blob/);
  }
});

Deno.test("runBlob: wrong usage names the option or argument, like every dj command", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["encode", "--bogus"],
      /^dj blob encode: unknown option --bogus \(see 'dj blob encode --help'\)\n$/,
    ],
    [["decode", "--no-compress"], /^dj blob decode: unknown option --no-compress /],
    [["decode", "--32bit-dims=yes"], /^dj blob decode: option --32bit-dims takes no value /],
    [["decode", "extra"], /^dj blob decode: unexpected argument 'extra' /],
    [["encode", "--", "--no-compress"], /^dj blob encode: unexpected argument '--no-compress' /],
  ];
  for (const [args, pattern] of cases) {
    const r = await runBlob(args, neverRead);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  // Help wins over a wrong option on the same line.
  const help = await runBlob(["encode", "--bogus", "-h"], neverRead);
  assert.equal(help.code, 0);
  assert.match(decoder.decode(help.stdout), /^Usage: dj blob encode/);
});

Deno.test("runBlob: decode and encode round trip in-process", async () => {
  const json = '{"dict":[["a",{"tuple":[{"int":"1"},{"float":"-0"}]}],[{"int":"2"},null]]}';
  const enc = await runBlob(["encode", "--no-compress"], encoder.encode(json));
  assert.equal(enc.code, 0, enc.stderr);
  assert.equal(decoder.decode(enc.stdout.subarray(0, 4)), "dj0\0");
  const dec = await runBlob(["decode"], enc.stdout);
  assert.equal(dec.code, 0, dec.stderr);
  assert.equal(decoder.decode(dec.stdout), json + "\n");
});

Deno.test("runBlob: invalid input is exit 1 with one line naming the problem", async () => {
  const cases: [string[], Uint8Array, RegExp][] = [
    [["decode"], new Uint8Array(), /blob/i],
    [["decode"], encoder.encode("mYm\0Z"), /./],
    [["encode"], encoder.encode('{"int": '), /^dj blob encode: invalid tagged JSON: /],
    [["encode"], encoder.encode("5"), /bare JSON numbers/],
    [["encode"], new Uint8Array([0x22, 0xff, 0x22]), /not valid UTF-8/],
    [
      ["encode"],
      encoder.encode('{"array": {"dtype": "uint8", "shape": [1], "data": [300]}}'),
      /range/,
    ],
  ];
  for (const [args, input, pattern] of cases) {
    const r = await runBlob(args, input);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^dj blob (de|en)code: [^\n]+\n$/);
    assert.match(r.stderr, pattern);
    assert.equal(r.stdout.length, 0);
  }
});
