/**
 * Edge cases of the store-backed codecs and their lazy references, found in review against
 * DataJoint Python's behaviour (reference `codecs-blob-stores.md` §2–§4): metadata variants the
 * reference leaves in databases, missing objects, and paths that must never leave their folder.
 * Codecs are called directly on real file stores; garbage-collection cases run on every backend.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import "../codecs/builtins.ts";
import { filepathCodec } from "../codecs/filepath_codec.ts";
import type { ObjectRef } from "../codecs/object_ref.ts";
import type { DecodeContext } from "../codecs/registry.ts";
import { MissingExternalFile } from "../lib/errors.ts";
import { Stores } from "../stores/open.ts";

/** Stores `main` (the default) and `raw` (filepath_default) in fresh temp folders. */
async function twoStores(): Promise<{ root: string; stores: Stores; dispose(): Promise<void> }> {
  const root = await Deno.makeTempDir({ prefix: "dj-codec-edge-" });
  await Deno.mkdir(join(root, "main"));
  await Deno.mkdir(join(root, "raw"));
  const stores = new Stores({
    default: "main",
    filepath_default: "raw",
    main: { protocol: "file", location: join(root, "main") },
    raw: { protocol: "file", location: join(root, "raw") },
  });
  return {
    root,
    stores,
    dispose: async () => {
      await stores.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

Deno.test('<filepath@>: a row whose store is null or "" reads from filepath_default (reference bug #36 not copied)', async () => {
  const s = await twoStores();
  try {
    await Deno.mkdir(join(s.root, "raw", "acq"));
    await Deno.writeFile(join(s.root, "raw", "acq", "x.bin"), new Uint8Array([1, 2, 3]));
    const ctx: DecodeContext = { key: {}, stores: s.stores };
    for (const store of [null, ""]) {
      const meta = { path: "acq/x.bin", store, size: 3, is_dir: false, timestamp: null };
      const ref = await filepathCodec.decode(meta as never, ctx) as unknown as ObjectRef;
      assert.deepEqual(await ref.read(), new Uint8Array([1, 2, 3]), `store ${store}`);
    }
    // A named store is still read from that store: the file is not in main.
    await assert.rejects(
      async () =>
        await filepathCodec.decode({ path: "acq/x.bin", store: "main", size: 3 } as never, ctx),
      MissingExternalFile,
    );
  } finally {
    await s.dispose();
  }
});
