/**
 * The pure half of each backend, assembled: its SQL dialect, its catalog reader and how it stores
 * comments. This and `open.ts` are the only places that switch on the backend name; the core asks
 * the {@link BackendKit} instead.
 *
 * @example
 * ```ts
 * import { backendKit } from "./backend.ts";
 * console.log(backendKit("pglite").dialect.name); // postgresql
 * ```
 *
 * @module
 */
import type { Catalog } from "./catalog.ts";
import type { Dialect } from "./dialect.ts";
import type { Backend } from "./driver.ts";
import { mysqlCatalog } from "./mysql_catalog.ts";
import { mysqlDialect } from "./mysql_dialect.ts";
import { postgresCatalog } from "./postgres_catalog.ts";
import { postgresDialect } from "./postgres_dialect.ts";

/** Dialect, catalog and comment conventions of one backend family. */
export interface BackendKit {
  /** SQL text generation. */
  dialect: Dialect;
  /** Catalog reader. */
  catalog: Catalog;
  /** A stored column comment → the comment DataJoint meant. */
  readComment(stored: string): string;
  /** Whether DDL is transactional (PostgreSQL), so a failed declaration can be rolled back. */
  transactionalDdl: boolean;
  /** SQL listing the labels of one enum type in order (`$1` schema, `$2` type), if any. */
  enumLabelsSql?: string;
}

const MYSQL: BackendKit = {
  dialect: mysqlDialect,
  catalog: mysqlCatalog,
  readComment: (s) => s,
  transactionalDdl: false,
};

const POSTGRES: BackendKit = {
  dialect: postgresDialect,
  catalog: postgresCatalog,
  // DataJoint Python writes `"` as `\"` into PostgreSQL comments (a literal backslash).
  readComment: (s) => s.replaceAll('\\"', '"'),
  transactionalDdl: true,
  enumLabelsSql: "SELECT e.enumlabel AS label FROM pg_catalog.pg_type t " +
    "JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace " +
    "JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid " +
    "WHERE n.nspname = $1 AND t.typname = $2 ORDER BY e.enumsortorder",
};

/**
 * The kit of a backend.
 *
 * @example
 * ```ts
 * import { backendKit } from "./backend.ts";
 * console.log(backendKit("mysql").dialect.quote("t")); // `t`
 * ```
 */
export function backendKit(backend: Backend): BackendKit {
  return backend === "mysql" ? MYSQL : POSTGRES;
}
