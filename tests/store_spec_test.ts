/**
 * Store specifications and store-name resolution (`stores/spec.ts`, `stores/open.ts` name
 * handling): reference §4.2/§4.3 defaults, required and allowed keys, prefix overlap, the
 * default-store fix of reference bug #1, and the error messages.
 *
 * @module
 */
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { ConfigError, DataJointError, StoreError } from "../lib/errors.ts";
import { FileStore } from "../stores/file_store.ts";
import { Stores } from "../stores/open.ts";
import { S3Store } from "../stores/s3_store.ts";
import { resolveStoreName, storeSpec } from "../stores/spec.ts";
import { fileSpec } from "./_stores.ts";

function throwsWith(fn: () => unknown, cls: typeof DataJointError, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
    return true;
  });
}

Deno.test("storeSpec: file defaults (reference §4.2) and lowercase protocol", () => {
  const spec = storeSpec({ main: { protocol: "FILE", location: "/data/store" } }, "main");
  assert.deepEqual(spec, fileSpec("/data/store"));
});

Deno.test("storeSpec: s3 defaults: secure true, credentials both or neither", () => {
  const base = { protocol: "s3", endpoint: "s3.example.org", bucket: "b", location: "" };
  const anon = storeSpec({ s: base }, "s");
  assert.equal(anon.secure, true);
  assert.equal(anon.access_key, undefined);
  assert.equal(anon.location, "");
  const keyed = storeSpec({
    s: { ...base, access_key: "k", secret_key: "x", secure: false, region: "eu-west-1" },
  }, "s");
  assert.equal(keyed.access_key, "k");
  assert.equal(keyed.secret_key, "x");
  assert.equal(keyed.secure, false);
  assert.equal(keyed.region, "eu-west-1");
  // Empty credentials count as absent (secrets files may be empty).
  assert.equal(
    storeSpec({ s: { ...base, access_key: "", secret_key: "" } }, "s").access_key,
    undefined,
  );
  throwsWith(
    () => storeSpec({ s: { ...base, access_key: "k" } }, "s"),
    ConfigError,
    "has access_key but no secret_key",
  );
  throwsWith(
    () => storeSpec({ s: { ...base, secret_key: "x" } }, "s"),
    ConfigError,
    "has secret_key but no access_key",
  );
  throwsWith(() => storeSpec({ s: { ...base, secure: "yes" } }, "s"), ConfigError, "secure");
  throwsWith(() => storeSpec({ s: { ...base, bucket: "" } }, "s"), ConfigError, "bucket");
  throwsWith(() => storeSpec({ s: { ...base, endpoint: "" } }, "s"), ConfigError, "endpoint");
});

Deno.test("storeSpec: required and allowed keys, with the reference messages", () => {
  throwsWith(
    () => storeSpec({ main: { protocol: "file" } }, "main"),
    ConfigError,
    'config.stores["main"] is missing: location',
  );
  throwsWith(
    () => storeSpec({ s: { protocol: "s3", location: "" } }, "s"),
    ConfigError,
    'config.stores["s"] is missing: endpoint, bucket',
  );
  throwsWith(
    () => storeSpec({ main: { protocol: "file", location: "/x", bucket: "b", colour: 1 } }, "main"),
    ConfigError,
    'Invalid key(s) in config.stores["main"]: bucket, colour',
  );
  throwsWith(
    () => storeSpec({ main: { location: "/x" } }, "main"),
    ConfigError,
    'Missing or invalid protocol in config.stores["main"]. Supported protocols: file, s3',
  );
  throwsWith(
    () => storeSpec({ main: { protocol: "ftp", location: "/x" } }, "main"),
    ConfigError,
    "Missing or invalid protocol",
  );
  throwsWith(
    () => storeSpec({ g: { protocol: "gcs", bucket: "b", location: "" } }, "g"),
    ConfigError,
    'protocol "gcs" is not supported',
  );
  throwsWith(() => storeSpec({ main: "oops" }, "main"), ConfigError, "must be an object");
  // Accepted and unused, as in Python.
  const s = storeSpec({
    s: {
      protocol: "s3",
      endpoint: "e",
      bucket: "b",
      location: "l",
      proxy_server: "p",
      stage: "/tmp/stage",
    },
  }, "s");
  assert.equal(s.stage, "/tmp/stage");
});

Deno.test("storeSpec: value types, subfolding and token_length clamping", () => {
  const spec = (extra: Record<string, unknown>) =>
    storeSpec({ m: { protocol: "file", location: "/x", ...extra } }, "m");
  assert.deepEqual(spec({ subfolding: [2, 2] }).subfolding, [2, 2]);
  assert.equal(spec({ subfolding: [] }).subfolding, null);
  assert.equal(spec({ token_length: 2 }).token_length, 4);
  assert.equal(spec({ token_length: 99 }).token_length, 16);
  assert.equal(spec({ token_length: 12 }).token_length, 12);
  assert.equal(spec({ partition_pattern: "{subject}" }).partition_pattern, "{subject}");
  throwsWith(() => spec({ token_length: "8" }), ConfigError, "token_length must be an integer");
  throwsWith(() => spec({ token_length: 8.5 }), ConfigError, "token_length");
  throwsWith(() => spec({ subfolding: [2, 0] }), ConfigError, "subfolding");
  throwsWith(() => spec({ subfolding: "2,2" }), ConfigError, "subfolding");
  throwsWith(() => spec({ subfolding: [13, 13] }), ConfigError, "subfolding");
  throwsWith(() => spec({ hash_prefix: 5 }), ConfigError, "hash_prefix must be a string");
  throwsWith(() => spec({ schema_prefix: "a/../b" }), ConfigError, "schema_prefix");
  throwsWith(() => spec({ filepath_prefix: "a//b" }), ConfigError, "filepath_prefix");
});

Deno.test("storeSpec: section prefixes must not overlap (reference message)", () => {
  const spec = (extra: Record<string, unknown>) =>
    storeSpec({ m: { protocol: "file", location: "/x", ...extra } }, "m");
  throwsWith(
    () => spec({ schema_prefix: "_hash/objects" }),
    ConfigError,
    'config.stores["m"]: hash_prefix="_hash" and schema_prefix="_hash/objects" overlap. ' +
      "Storage section prefixes must be mutually exclusive.",
  );
  throwsWith(() => spec({ filepath_prefix: "/_schema/" }), ConfigError, "overlap");
  throwsWith(() => spec({ hash_prefix: "data", schema_prefix: "data/" }), ConfigError, "overlap");
  // Prefix of a name is not a prefix of a folder: "_hash" and "_hashes" do not overlap.
  assert.equal(spec({ schema_prefix: "_hashes" }).schema_prefix, "_hashes");
  assert.equal(spec({ filepath_prefix: "raw" }).filepath_prefix, "raw");
  // Empty prefixes take no part in the check (legacy root layout).
  assert.equal(spec({ schema_prefix: "" }).schema_prefix, "");
});

Deno.test("storeSpec: a relative file location resolves against the project root, else the CWD", () => {
  const stores = { main: { protocol: "file", location: "data/store" } };
  assert.equal(
    storeSpec(stores, "main", { projectRoot: "/home/me/project" }).location,
    "/home/me/project/data/store",
  );
  assert.equal(storeSpec(stores, "main").location, resolve(Deno.cwd(), "data/store"));
  assert.equal(
    storeSpec({ main: { protocol: "file", location: "/abs" } }, "main", { projectRoot: "/p" })
      .location,
    "/abs",
  );
  // S3 locations are key prefixes and stay as written.
  assert.equal(
    storeSpec({ s: { protocol: "s3", endpoint: "e", bucket: "b", location: "lab/raw" } }, "s", {
      projectRoot: "/p",
    }).location,
    "lab/raw",
  );
});

Deno.test("resolveStoreName: null, undefined and '' mean the default store (bug #1 fixed)", () => {
  const stores = { default: "main", filepath_default: "raw", main: {}, raw: {} };
  for (const name of [null, undefined, ""]) {
    assert.equal(resolveStoreName(stores, name), "main");
    assert.equal(resolveStoreName(stores, name, { filepath: true }), "raw");
  }
  assert.equal(resolveStoreName(stores, "raw"), "raw");
  assert.equal(resolveStoreName(stores, "main", { filepath: true }), "main");
  // filepath falls back to stores.default.
  assert.equal(resolveStoreName({ default: "main", main: {} }, null, { filepath: true }), "main");
  assert.equal(
    resolveStoreName({ default: "main", filepath_default: "", main: {} }, "", { filepath: true }),
    "main",
  );
  // storeSpec resolves "" the same way.
  assert.equal(
    storeSpec({ default: "main", main: { protocol: "file", location: "/m" } }, "").location,
    "/m",
  );
});

Deno.test("resolveStoreName: errors name the store and say what to do", () => {
  throwsWith(
    () => resolveStoreName({ default: "main", main: {} }, "archive"),
    StoreError,
    "Storage 'archive' is requested but not configured in stores",
    "configured stores: main",
    "datajoint.json",
  );
  throwsWith(
    () => resolveStoreName({}, "archive"),
    StoreError,
    "no store is configured",
  );
  throwsWith(
    () => resolveStoreName({ main: {} }, null),
    StoreError,
    "stores.default is not configured",
    '"default"',
    "<blob@main>",
  );
  throwsWith(
    () => resolveStoreName({ main: {} }, "", { filepath: true }),
    StoreError,
    "stores.filepath_default is not configured",
    "stores.default is not configured",
  );
  throwsWith(
    () => resolveStoreName({ default: "ghost", main: {} }, null),
    StoreError,
    "Storage 'ghost' is requested but not configured in stores",
  );
  throwsWith(
    () => resolveStoreName({ default: 5 }, null),
    StoreError,
    "stores.default must be a string",
  );
  // "default" and "filepath_default" are not store names.
  throwsWith(
    () => resolveStoreName({ default: "main", main: {} }, "default"),
    StoreError,
    "Storage 'default' is requested",
  );
  throwsWith(() => resolveStoreName({ "a.b": {} }, "a.b"), StoreError, "cannot contain");
  throwsWith(() => resolveStoreName({ "a:b": {} }, "a:b"), StoreError, "cannot contain");
});

Deno.test("Stores: names, resolution, lazy validation, one cached backend per store", async () => {
  const root = await Deno.makeTempDir({ prefix: "dj_stores_" });
  try {
    await Deno.mkdir(`${root}/main`);
    const stores = new Stores({
      default: "main",
      filepath_default: "raw",
      main: { protocol: "file", location: "main" },
      raw: { protocol: "file", location: "raw" },
      broken: { protocol: "file" },
      cloud: {
        protocol: "s3",
        endpoint: "127.0.0.1:1",
        secure: false,
        bucket: "b",
        location: "x",
      },
    }, { projectRoot: root });
    assert.deepEqual(stores.names(), ["main", "raw", "broken", "cloud"]);
    assert.equal(stores.resolveName(""), "main");
    assert.equal(stores.resolveName(null, { filepath: true }), "raw");

    const main = await stores.backend(null);
    assert.ok(main instanceof FileStore);
    assert.equal(main.name, "main");
    assert.equal(main.spec.location, `${root}/main`);
    assert.equal(await stores.backend("main"), main);
    assert.equal(await stores.backend(""), main);

    // The raw folder does not exist: the reference message, when first opened.
    await assert.rejects(
      stores.backend(null, { filepath: true }),
      (e: unknown) =>
        e instanceof StoreError &&
        e.message.startsWith(`Inaccessible local directory ${root}/raw`) &&
        e.message.includes("stores.raw.location"),
    );
    // Failures are not cached: create the folder and retry.
    await Deno.mkdir(`${root}/raw`);
    const raw = await stores.backend("raw");
    assert.equal(raw.name, "raw");

    await assert.rejects(stores.backend("broken"), ConfigError);
    await assert.rejects(stores.backend("nope"), StoreError);
    const cloud = await stores.backend("cloud");
    assert.ok(cloud instanceof S3Store);
    assert.equal(cloud.endpoint, "http://127.0.0.1:1");

    await stores.close();
    // After close, a new backend is opened.
    const again = await stores.backend("main");
    assert.notEqual(again, main);
    await stores.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
