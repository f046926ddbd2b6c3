/**
 * The content hash behind the tripartite make's referential-integrity check: equal content gives
 * equal hashes, any change of value, type, order or shape gives another.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Decimal, NDArray, tuple, UUID } from "../codecs/blob/mod.ts";
import { deepHash } from "../lib/deep_hash.ts";
import { DataJointError } from "../lib/errors.ts";

Deno.test("deep hash: equal content, equal hash", () => {
  const make = () => [
    { a: 1, b: [2n, "x", null, undefined, true], c: new Uint8Array([1, 2, 3]) },
    new Map<unknown, unknown>([["k", 1], [2, { z: [1.5, -0] }]]),
    new Set(["p", "q"]),
    NDArray.from(new Float64Array([1, 2, 3, 4]), [2, 2]),
    new Decimal("1.50"),
    new UUID("12345678-1234-5678-1234-567812345678"),
    tuple(1, 2),
    Temporal.PlainDateTime.from("2024-02-29T10:11:12.345678"),
    new Date(0),
  ];
  assert.equal(deepHash(make()), deepHash(make()));
  assert.equal(deepHash({ a: 1, b: 2 }), deepHash({ b: 2, a: 1 }), "object keys in any order");
  assert.equal(
    deepHash(new Set([1, 2])),
    deepHash(new Set([2, 1])),
    "sets in any order",
  );
  assert.match(deepHash(null), /^[0-9a-f]{64}$/);
});

Deno.test("deep hash: any change shows", () => {
  const base = { samples: [1, 2, 3], name: "x" };
  const variants: unknown[] = [
    { samples: [1, 2, 4], name: "x" },
    { samples: [3, 2, 1], name: "x" },
    { samples: [1, 2, 3], name: "y" },
    { samples: [1, 2, 3], name: "x", extra: null },
    { samples: ["1", 2, 3], name: "x" },
    { samples: [1n, 2, 3], name: "x" },
    { samples: new Float64Array([1, 2, 3]), name: "x" },
  ];
  const hashes = new Set([deepHash(base), ...variants.map(deepHash)]);
  assert.equal(hashes.size, variants.length + 1);
  assert.notEqual(deepHash(0), deepHash(-0));
  assert.notEqual(deepHash(new Int32Array([1])), deepHash(new Uint32Array([1])));
  assert.notEqual(
    deepHash(NDArray.from(new Float64Array([1, 2, 3, 4]), [2, 2])),
    deepHash(NDArray.from(new Float64Array([1, 2, 3, 4]), [4])),
  );
  assert.notEqual(
    deepHash(new UUID("12345678-1234-5678-1234-567812345678")),
    deepHash(new UUID("12345678-1234-5678-1234-567812345679")),
    "private state shows through toString",
  );
  assert.notEqual(deepHash(new Decimal("1.50")), deepHash(new Decimal("1.5")));
  assert.notEqual(deepHash(tuple(1, 2)), deepHash([1, 2]), "a tuple is not a list");
  assert.notEqual(deepHash(new Map([["a", 1]])), deepHash({ a: 1 }));
});

Deno.test("deep hash: cycles are refused", () => {
  const a: Record<string, unknown> = {};
  a.self = a;
  assert.throws(() => deepHash(a), DataJointError);
  const shared = [1];
  assert.equal(deepHash([shared, shared]), deepHash([[1], [1]]), "shared, not cyclic");
});
