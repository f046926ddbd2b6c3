/**
 * `update1(row)`: changes attributes of one existing row in place, for corrections outside the
 * normal insert/delete workflow (DataJoint's integrity works on whole rows, so use it sparingly).
 *
 * Rules (DataJoint Python's, with one documented difference for `null`):
 *
 * - the row is an object holding the full primary key and only attributes of the table; exactly
 *   one row must have that key;
 * - an attribute that is absent or `undefined` keeps its value;
 * - `null` stores NULL in a nullable attribute; in a non-nullable attribute with a default it
 *   restores the default (`SET a = DEFAULT`); a non-nullable attribute without default refuses it.
 *   DataJoint Python sends `DEFAULT` for every `None`; in tables DataJoint declares the two agree,
 *   since an attribute is nullable exactly when its default is NULL. They differ only for columns
 *   declared in SQL as nullable with another default, where `null` here means NULL, as written;
 * - codec attributes are encoded through their codecs, as on insert; objects written to stores for
 *   an update that then fails are removed again (deduplicated ones stay for garbage collection),
 *   and the objects of the values replaced stay in their stores until garbage collection finds
 *   them unreferenced.
 *
 * @example
 * ```ts
 * import { updateRow } from "./update.ts";
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const heading = await conn.heading("lab", "subject");
 * await updateRow(conn, heading, { subject_id: 1, weight: 21.5, notes: null });
 * ```
 *
 * @module
 */
import type { WrittenObject } from "../codecs/registry.ts";
import { mapPool } from "../stores/pool.ts";
import { encodeAttribute, located } from "./attribute_codec.ts";
import type { Connection } from "./connection.ts";
import { hintFor } from "./adapters/_sql_errors.ts";
import {
  DataJointError,
  DuplicateError,
  MissingAttributeError,
  UnknownAttributeError,
  withContext,
} from "./errors.ts";
import { finish } from "./expression.ts";
import { undoWrites } from "./insert.ts";
import type { Attribute, Heading } from "./heading.ts";
import { Query } from "./query.ts";

function keyText(key: Record<string, unknown>): string {
  return JSON.stringify(key, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

/**
 * Updates one existing row of the table of `heading` (see the module documentation).
 *
 * @example
 * ```ts
 * import { updateRow } from "./update.ts";
 * // see the module example
 * ```
 */
export async function updateRow(
  conn: Connection,
  heading: Heading,
  row: Record<string, unknown>,
): Promise<void> {
  const d = conn.kit.dialect;
  const table = `${d.quote(heading.schema)}.${d.quote(heading.table)}`;
  if (
    typeof row !== "object" || row === null || Array.isArray(row) || row instanceof Map ||
    row instanceof Set
  ) {
    throw new DataJointError(
      `update1 on ${table} takes one object of attribute values (the primary key and the attributes to change)`,
    );
  }
  const byName = new Map<string, Attribute>();
  for (const a of heading.attributes) if (!a.hidden) byName.set(a.name, a);
  for (const name of Object.keys(row)) {
    if (!byName.has(name)) {
      throw new UnknownAttributeError(
        `update1: ${table} has no attribute ${JSON.stringify(name)} (its attributes: ${
          [...byName.keys()].join(", ")
        })`,
      );
    }
  }
  const key: Record<string, unknown> = {};
  for (const k of heading.primaryKey) {
    const v = row[k];
    if (v === undefined || v === null) {
      throw new MissingAttributeError(
        `update1 on ${table} needs the full primary key (${
          heading.primaryKey.join(", ")
        }): ${k} is missing`,
      );
    }
    key[k] = v;
  }
  const changes = Object.entries(row).filter(([k, v]) =>
    v !== undefined && !heading.primaryKey.includes(k)
  );
  if (changes.length === 0) {
    throw new DataJointError(
      `update1 on ${table} key ${
        keyText(key)
      }: nothing to change; give the attributes to update besides the primary key`,
    );
  }
  for (const [name, value] of changes) {
    const a = byName.get(name)!;
    if (value === null && !a.nullable && a.default === null) {
      throw new MissingAttributeError(
        `update1 on ${table} key ${
          keyText(key)
        }: ${name} is not nullable and has no default, so it cannot be set to null; give it a value`,
      );
    }
  }

  const keyTypes: Record<string, string> = {};
  for (const k of heading.primaryKey) {
    const s = byName.get(k)?.storage;
    if (s) keyTypes[k] = s.kind === "core" ? s.name : s.text;
  }
  const self = Query.table(heading.schema, heading.table, () => Promise.resolve(conn)).restrict(
    key,
  );
  const missing = () =>
    new DataJointError(
      `update1 changes one existing row, but no row of ${table} has key ${
        keyText(key)
      }: insert it instead`,
    );
  // Checked before encoding, so that no store object is written for a row that is not there.
  if ((await self.count()) !== 1) throw missing();
  const written: WrittenObject[] = [];
  try {
    const { ctx, select } = await self.compileSelect();
    const codecKey: Record<string, unknown> = { _schema: heading.schema, _table: heading.table };
    Object.assign(codecKey, key);
    const assignments = await mapPool(changes, 8, async ([name, value]) => {
      const a = byName.get(name)!;
      if (value === null) return `${d.quote(name)} = ${a.nullable ? "NULL" : "DEFAULT"}`;
      try {
        const param = await encodeAttribute(a, value, {
          dialect: d,
          key: codecKey,
          keyTypes,
          stores: a.kind === "codec" ? conn.stores : undefined,
          written,
        });
        return `${d.quote(name)} = ${ctx.param(param)}`;
      } catch (e) {
        throw located(e, table, key, name);
      }
    });
    const where = select.where.map((w) => `(${w})`).join(" AND ");
    const { sql, params } = finish(
      ctx,
      `UPDATE ${table} SET ${assignments.join(", ")} WHERE ${where}`,
      (n) => conn.placeholder(n),
    );
    // One statement, atomic by itself; every backend here reports matched (not changed) rows.
    const { affectedRows } = await conn.execute(sql, params);
    if (affectedRows !== 1) throw missing();
  } catch (e) {
    await undoWrites(conn, written);
    if (e instanceof DuplicateError) {
      // The driver's advice speaks of inserts; an update clashes on a unique index instead.
      throw new DuplicateError(
        `update1 on ${table} key ${
          keyText(key)
        }: the new values clash with another row on a unique index (${
          e.message.replace(hintFor("duplicate"), "").trim().replace(/\.$/, "")
        }); choose other values`,
        { cause: e, code: e.code },
      );
    }
    if (e instanceof DataJointError && !e.message.includes(table)) throw withContext(e, table);
    throw e;
  }
}
