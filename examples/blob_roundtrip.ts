/**
 * What a DataJoint blob holds and how it survives a round trip (`deno run examples/blob_roundtrip.ts`).
 *
 * It packs a recording session as DataJoint Python would store it in a `<blob>` column (nested
 * dicts, NumPy arrays, exact decimals, dates, tuples), prints the sizes and headers, unpacks it,
 * and checks that re-packing gives the same bytes.
 */

import * as dj from "../mod.ts";

const samples = 3 * 20_000;
const trace = new Float64Array(samples);
for (let i = 0; i < samples; i++) {
  trace[i] = Math.round(Math.sin(i / 150) * Math.exp(-i / samples) * 1e4) / 1e4;
}

const session = {
  subject: "m042",
  session: 7n,
  recorded: Temporal.PlainDateTime.from("2026-11-21T09:30:15.250001"),
  rig: dj.tuple("rig-2", 4n),
  sampling_rate: 30_000.0,
  gain: new dj.Decimal("1.250"),
  trace: dj.NDArray.from(trace, [3, samples / 3]),
  spikes: dj.NDArray.from(new Int32Array([12, 97, 1024, 4096, 40_000])),
  good_channels: dj.NDArray.bool([true, false, true]),
  notes: new Map<unknown, unknown>([[dj.tuple(0n, 1n), "cross-talk"], [2n, null]]),
};

// A MATLAB-style struct array stays in the MATLAB-compatible protocol (header "mYm").
const matlab = new dj.MatStruct([1, 2], ["name", "weights"], [
  [dj.NDArray.char("left"), dj.NDArray.from(new Float64Array([0.1, 0.9]), [1, 2])],
  [dj.NDArray.char("right"), dj.NDArray.from(new Float64Array([0.7, 0.3]), [1, 2])],
]);

function header(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes.subarray(0, 6));
  return text.startsWith("ZL123") ? "ZL123 (compressed)" : text.slice(0, 3);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

for (const [label, value] of [["session", session], ["matlab struct", matlab]] as const) {
  const plain = dj.pack(value, { compress: false });
  const packed = dj.pack(value);
  const started = performance.now();
  const back = dj.unpack(packed);
  const ms = performance.now() - started;
  const repacked = dj.pack(back, { compress: false });
  console.log(`${label}:`);
  console.log(
    `  plain blob      ${plain.length.toLocaleString("en")} bytes, header ${header(plain)}`,
  );
  console.log(
    `  stored blob     ${packed.length.toLocaleString("en")} bytes, header ${header(packed)}`,
  );
  console.log(`  unpacked in     ${ms.toFixed(1)} ms`);
  console.log(`  exact round trip: ${sameBytes(plain, repacked) ? "yes" : "NO"}`);
  if (!sameBytes(plain, repacked)) Deno.exit(1);
}

const back = dj.unpack(dj.pack(session)) as typeof session;
console.log("\nunpacked values:");
console.log(`  subject ${back.subject}, session ${back.session}, recorded ${back.recorded}`);
console.log(
  `  rig ${JSON.stringify([...back.rig].map(String))} (a tuple: ${back.rig instanceof dj.Tuple})`,
);
console.log(`  gain ${back.gain} (exact decimal), trace ${back.trace.dtype} [${back.trace.shape}]`);
console.log(`  trace[2, 100] = ${back.trace.at(2, 100)}, spikes ${back.spikes.data.join(", ")}`);
console.log(`  notes keys: ${[...back.notes.keys()].map(String).join(" | ")}`);
