/**
 * Test helpers for `.npy` files built by hand from the format specification, independent of the
 * code under test (`codecs/npy_format.ts`).
 *
 * @module
 */

/** The bytes of an ASCII string. */
export const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** The parts one after another. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * A `.npy` file from the format specification: magic, version, little-endian header length,
 * the dict text padded with spaces and a newline to `align`.
 */
export function buildNpy(
  dict: string,
  data: Uint8Array,
  { version = 1, align = 64 }: { version?: number; align?: number } = {},
): Uint8Array {
  const lenBytes = version === 1 ? 2 : 4;
  const unpadded = 8 + lenBytes + dict.length + 1;
  const pad = (align - (unpadded % align)) % align;
  const text = dict + " ".repeat(pad) + "\n";
  const pre = new Uint8Array(8 + lenBytes);
  pre.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(pre.buffer);
  if (lenBytes === 2) dv.setUint16(8, text.length, true);
  else dv.setUint32(8, text.length, true);
  return concat(pre, version === 3 ? new TextEncoder().encode(text) : ascii(text), data);
}
