/**
 * `dj gc <store>`: garbage collection of an object store: the objects of its hash- and
 * schema-addressed sections that no row references, deleted unless `--dry-run`.
 *
 * @module
 */

import { DataJointError } from "../errors.ts";
import { collectGarbage, type GcReport } from "../gc.ts";
import { checkSchemaName } from "./args.ts";
import { type CliResult, type Command, oneLine, UsageError } from "./command.ts";
import { CONNECTION_HELP, withConnection } from "./connect.ts";
import { defineCommand } from "./define.ts";

const HELP = `Usage: dj gc <store> [--dry-run] [--min-age SECONDS] [--schema S ...] [--json]

Find the objects of a store's hash-addressed (_hash/<schema>/) and schema-addressed
(_schema/<schema>/) sections that no row of the scanned schemas references, and delete them.
Deleting rows never deletes their objects; this does. Objects written or reused within the last
day (--min-age) are kept: an insert may still be about to commit the row that uses them. If any
table or listing cannot be read, nothing is deleted and the exit code is 1.

<store> is a store name of the configuration's stores (datajoint.json "stores", DJ_STORES).

Options:
  --dry-run    only report what would be deleted
  --min-age N  keep unreferenced objects written or reused less than N seconds ago
               (default 86400, a day; 0 when no one writes to the store meanwhile)
  --schema S   scan only schema S (repeat for several); default: every schema on the server
  --json       print the report as one JSON object instead of text
  -h, --help   show this help

Examples:
  dj gc main --dry-run
  dj gc main --schema lab --schema lab_analysis
  dj gc main --min-age 0

${CONNECTION_HELP}
`;

const PROG = "dj gc";

function bytes(n: number): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? "byte" : "bytes"}`;
}

/**
 * The text form of a garbage-collection report.
 *
 * @example
 * ```ts
 * import { reportText } from "./gc.ts";
 * import type { GcReport } from "../gc.ts";
 * declare const report: GcReport;
 * console.log(reportText(report));
 * ```
 */
export function reportText(r: GcReport): string {
  const lines = [
    `store ${r.store}, ${r.schemas.length} schema(s) scanned: ${r.schemas.join(", ")}`,
    `hash-addressed:   ${r.hashPathsStored} stored, ${r.hashPathsReferenced} referenced, ${r.orphanedHashPaths.length} unreferenced (${
      bytes(r.hashPathsOrphanedBytes)
    })`,
    `schema-addressed: ${r.schemaPathsStored} files stored, ${r.schemaPathsReferenced} objects referenced, ${r.orphanedSchemaPaths.length} files unreferenced (${
      bytes(r.schemaPathsOrphanedBytes)
    })`,
  ];
  const orphans = [...r.orphanedHashPaths, ...r.orphanedSchemaPaths];
  if (orphans.length > 0) {
    lines.push("unreferenced:", ...orphans.map((p) => `  ${p}`));
  }
  if (r.recentUnreferenced.length > 0) {
    lines.push(
      `kept ${r.recentUnreferenced.length} unreferenced object(s) written or reused within ${r.minAge} s (--min-age)`,
    );
  }
  if (r.dryRun) {
    lines.push("dry run: nothing deleted");
  } else {
    lines.push(`deleted ${r.deleted.length} object(s), ${bytes(r.bytesFreed)} freed`);
  }
  if (r.errors.length > 0) lines.push("problems:", ...r.errors.map((e) => `  ${oneLine(e)}`));
  return lines.join("\n") + "\n";
}

/**
 * The `gc` entry of the `dj` command table.
 *
 * @example
 * ```ts
 * import { gcCommand } from "./gc.ts";
 * const { stdout } = await gcCommand.run(["main", "--dry-run"], new Uint8Array());
 * ```
 */
export const gcCommand: Command = defineCommand({
  name: "gc",
  summary: "delete store objects that no row references (--dry-run to only report)",
  help: HELP,
  args: {
    positionals: ["store"],
    options: { "--dry-run": "flag", "--min-age": "value", "--schema": "repeat", "--json": "flag" },
  },
  run: (parsed, context) => {
    const store = parsed.positionals[0];
    if (store === "") throw new UsageError(`<store> may not be empty (see '${PROG} --help')`);
    const schemas = parsed.lists.get("--schema")?.map((s) => checkSchemaName(PROG, s));
    const minAgeText = parsed.values.get("--min-age");
    const minAge = minAgeText === undefined ? undefined : Number(minAgeText);
    if (minAge !== undefined && !(/^\d+(\.\d+)?$/.test(minAgeText!) && Number.isFinite(minAge))) {
      throw new UsageError(
        `--min-age takes a number of seconds, 0 or more (got ${JSON.stringify(minAgeText)})`,
      );
    }
    return withConnection(context, async (conn): Promise<CliResult> => {
      const configured = conn.stores.names();
      if (!configured.includes(store)) {
        throw new DataJointError(
          `no store named ${JSON.stringify(store)} is configured; ${
            configured.length === 0
              ? 'none is (set "stores" in datajoint.json or DJ_STORES)'
              : `configured: ${configured.join(", ")}`
          }`,
        );
      }
      if (schemas !== undefined) {
        for (const s of schemas) {
          if (!(await conn.schemaExists(s))) {
            throw new DataJointError(
              `schema ${JSON.stringify(s)} does not exist (see 'dj schemas')`,
            );
          }
        }
      }
      const report = await collectGarbage(conn, {
        store,
        schemas,
        dryRun: parsed.flags.has("--dry-run"),
        minAge,
      });
      const text = parsed.flags.has("--json")
        ? JSON.stringify(report, null, 2) + "\n"
        : reportText(report);
      const problems = report.errors.length;
      return {
        stdout: new TextEncoder().encode(text),
        stderr: problems === 0
          ? ""
          : `${PROG}: ${problems} problem(s), first: ${oneLine(report.errors[0])}\n`,
        code: problems === 0 ? 0 : 1,
      };
    });
  },
});
