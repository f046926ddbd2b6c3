/**
 * Test helper: asserting that a pure declaration step throws a `DeclarationError` whose message
 * contains given parts (the line, the problem, the fix).
 *
 * @module
 */
import assert from "node:assert/strict";
import { DeclarationError } from "../lib/errors.ts";

/** Asserts a DeclarationError whose message has every part, and returns its message. */
export function declarationError(fn: () => unknown, ...parts: string[]): string {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof DeclarationError, `expected a DeclarationError, got ${caught}`);
  for (const p of parts) {
    assert.ok(
      caught.message.includes(p),
      `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(p)}`,
    );
  }
  return caught.message;
}
