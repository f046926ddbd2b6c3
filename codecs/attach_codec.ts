/**
 * `<attach>` / `<attach@store>`: a local file kept with its name. The stored bytes are
 * `utf8(basename) 0x00 contents` (in-table, or hash-addressed through `<hash@>`); decoding writes
 * the file into the download folder and returns its local path (reference §2.11).
 *
 * A stored name is reduced to a plain file name before it is used, so a crafted row cannot write
 * outside the download folder.
 *
 * @example
 * ```ts
 * import { attachCodec } from "./attach_codec.ts";
 * console.log(attachCodec.getDtype(false), attachCodec.getDtype(true)); // bytes <hash>
 * ```
 *
 * @module
 */
import { basename, extname, join, resolve } from "node:path";
import { CodecError } from "../lib/errors.ts";
import { localPathOf } from "./_store_context.ts";
import type { CodecSpec } from "./registry.ts";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Packs a file as the reference does: its base name, a NUL byte, its contents.
 *
 * @example
 * ```ts
 * import { packAttachment } from "./attach_codec.ts";
 * const bytes = packAttachment("notes.txt", new TextEncoder().encode("hi"));
 * console.log(bytes.length); // 12
 * ```
 */
export function packAttachment(name: string, contents: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(name);
  const out = new Uint8Array(head.length + 1 + contents.length);
  out.set(head, 0);
  out.set(contents, head.length + 1);
  return out;
}

/**
 * Splits stored attachment bytes into a safe file name and the contents.
 *
 * @example
 * ```ts
 * import { packAttachment, unpackAttachment } from "./attach_codec.ts";
 * const { name } = unpackAttachment(packAttachment("a.txt", new Uint8Array([1])));
 * console.log(name); // a.txt
 * ```
 */
export function unpackAttachment(bytes: Uint8Array): { name: string; contents: Uint8Array } {
  const nul = bytes.indexOf(0);
  if (nul < 0) {
    throw new CodecError("<attach> data has no file name (no NUL separator): not an attachment");
  }
  let name: string;
  try {
    name = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, nul));
  } catch {
    throw new CodecError("<attach> file name is not valid UTF-8");
  }
  // Names come from rows anyone may have written: keep only the last path segment.
  const safe = name.split(/[\\/]/).pop() ?? "";
  if (safe === "" || safe === "." || safe === ".." || safe.includes("\0")) {
    throw new CodecError(`<attach> data holds an unusable file name ${JSON.stringify(name)}`);
  }
  return { name: safe, contents: bytes.subarray(nul + 1) };
}

/**
 * Writes an attachment into `folder`: under its own name, or `stem_1.ext`, `stem_2.ext`, … when a
 * different file (or a folder) already has that name; a file with identical content is reused.
 * Safe to call concurrently: each name is taken atomically. Returns the path.
 *
 * @example
 * ```ts
 * import { saveAttachment } from "./attach_codec.ts";
 * const path = await saveAttachment(await Deno.makeTempDir(), "a.txt", new Uint8Array([1]));
 * ```
 */
export async function saveAttachment(
  folder: string,
  name: string,
  contents: Uint8Array,
): Promise<string> {
  await Deno.mkdir(folder, { recursive: true });
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 0;;) {
    const target = resolve(join(folder, i === 0 ? name : `${stem}_${i}${ext}`));
    const existing = await readIfFile(target);
    if (existing === undefined) {
      // Rows are decoded concurrently: two attachments of one name must not both take it.
      if (await publishIfAbsent(target, contents)) return target;
      continue; // taken meanwhile: look at the same name again
    }
    if (existing !== null && sameBytes(existing, contents)) return target;
    i++;
  }
}

/** The bytes of a file; `undefined` when nothing is there, `null` for a folder or the like. */
async function readIfFile(path: string): Promise<Uint8Array | null | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof Deno.errors.IsADirectory || (await Deno.lstat(path)).isFile === false) {
      return null;
    }
    throw e;
  }
}

/**
 * Writes `contents` under `target` unless something is there by then; false when it was. The
 * bytes go to a temporary file first, so a reader never sees a half-written attachment.
 */
async function publishIfAbsent(target: string, contents: Uint8Array): Promise<boolean> {
  const tmp = `${target}.saving-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeFile(tmp, contents, { createNew: true });
  try {
    // link() refuses an existing name atomically.
    await Deno.link(tmp, target);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    // No hard links on this file system: check, then rename (a small race remains).
    if ((await readIfFile(target)) !== undefined) return false;
    await Deno.rename(tmp, target);
    return true;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/**
 * The `<attach>` codec.
 *
 * @example
 * ```ts
 * import { attachCodec } from "./attach_codec.ts";
 * console.log(attachCodec.name); // attach
 * ```
 */
export const attachCodec: CodecSpec<string, Uint8Array> = {
  name: "attach",
  getDtype: (isStore) => (isStore ? "<hash>" : "bytes"),
  validate(value) {
    const path = localPathOf(value, "attach");
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch {
      throw new CodecError(`<attach> file not found: ${path}`);
    }
    if (!info.isFile) throw new CodecError(`<attach> takes a file, and ${path} is not one`);
  },
  async encode(value) {
    const path = localPathOf(value, "attach");
    return packAttachment(basename(path), await Deno.readFile(path));
  },
  decode(stored, ctx) {
    const { name, contents } = unpackAttachment(stored);
    return saveAttachment(ctx.downloadPath ?? ".", name, contents);
  },
};
