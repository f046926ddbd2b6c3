/**
 * Locating the golden vectors shared by every implementation (`/work/shared/golden` next to the
 * repository). When the folder is missing, golden tests are skipped with a printed reason, except
 * on CI (`CI=true`), where a missing folder must fail the run instead of passing silently.
 *
 * @module
 */

/** The golden folder: `shared/golden/` beside the repository root. */
export const GOLDEN_ROOT: URL = new URL("../../shared/golden/", import.meta.url);

/** One golden file and whether tests that need it run. */
export interface GoldenFile {
  /** Where the file is (or would be). */
  readonly url: URL;
  /** Whether the file exists. */
  readonly found: boolean;
  /** `ignore` for `Deno.test`: true only when the file is missing outside CI. */
  readonly ignore: boolean;
}

/**
 * A golden file by its path under the golden folder, e.g. `"blob/vectors.json"`. Prints a
 * `skip:` line when it is missing and the tests will be ignored.
 *
 * @example
 * ```ts
 * import { goldenFile } from "./_golden.ts";
 * const vectors = goldenFile("blob/vectors.json");
 * Deno.test({ name: "golden", ignore: vectors.ignore, fn: async () => {} });
 * ```
 */
export function goldenFile(relative: string): GoldenFile {
  const url = new URL(relative, GOLDEN_ROOT);
  let found = false;
  try {
    found = Deno.statSync(url).isFile;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const onCi = Deno.env.get("CI") === "true";
  if (!found && !onCi) {
    console.log(
      `skip: golden file ${url.pathname} not found (golden tests ignored; CI=true fails)`,
    );
  }
  return { url, found, ignore: !found && !onCi };
}

/**
 * Read and parse a golden JSON file; throws (failing the test) when it is missing, which only
 * happens on CI since the tests are ignored elsewhere.
 *
 * @example
 * ```ts
 * import { goldenFile, readGoldenJson } from "./_golden.ts";
 * const doc = await readGoldenJson(goldenFile("blob/vectors.json"));
 * ```
 */
export async function readGoldenJson(file: GoldenFile): Promise<unknown> {
  if (!file.found) {
    throw new Error(`golden file ${file.url.pathname} is missing (CI=true requires it)`);
  }
  return JSON.parse(await Deno.readTextFile(file.url));
}

/** One entry of the golden `blob/vectors.json` (fields as in its README §3). */
export interface BlobVector {
  /** Unique identifier. */
  name: string;
  /** Group of the vector. */
  category: string;
  /** Whether decoding (or, for `leg: "encode"`, encoding) must succeed. */
  expect: "ok" | "error";
  /** Which leg an error vector is about (default decode). */
  leg?: "decode" | "encode";
  /** Decode input, hex. */
  hex?: string;
  /** Python's compressed `pack(input)`, hex, when it differs from `hex`. */
  hex_compressed?: string;
  /** Decode options. */
  options?: { use_32bit_dims?: boolean };
  /** Tagged JSON of what Python decodes. */
  value?: unknown;
  /** Further accepted decode results. */
  alt_values?: unknown[];
  /** Python's `pack(value, compress=False)` when it differs from `hex`. */
  encode_hex?: string;
  /** What Python decodes `encode_hex` to, when that differs from `value`. */
  encode_value?: unknown;
  /** Whether a typed encoder must reproduce the bytes exactly. */
  typed_bytes?: boolean;
  /** Encode-leg error input as JSON. */
  json?: unknown;
  /** Encode-leg error input as raw text. */
  json_text?: string;
}

/**
 * Bytes from lowercase or uppercase hex, as the golden files write them.
 *
 * @example
 * ```ts
 * import { fromHex } from "./_golden.ts";
 * fromHex("6d596d00"); // Uint8Array [0x6d, 0x59, 0x6d, 0x00]
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Lowercase hex of bytes.
 *
 * @example
 * ```ts
 * import { toHex } from "./_golden.ts";
 * toHex(new Uint8Array([0, 255])); // "00ff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
