/**
 * DataJoint for Deno: DataJoint's type and codec system in TypeScript, compatible with DataJoint
 * Python 2.x on the same databases and object stores.
 *
 * This first layer is the **blob serializer**: {@link pack} and {@link unpack} read and write the
 * exact bytes DataJoint Python (`dj0`) and MATLAB's mYm (`mYm`) use for `<blob>` columns, with
 * TypeScript types that keep every distinction a round trip needs.
 *
 * @example
 * ```ts
 * import * as dj from "./mod.ts";
 *
 * const trace = dj.NDArray.from(new Float64Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), [2, 3]);
 * const bytes = dj.pack({ trace, rate: 30.0, session: 7n, tags: dj.tuple("a", "b") });
 * const back = dj.unpack(bytes) as { trace: dj.NDArray<"float64">; session: bigint };
 * back.trace.at(1, 2); // 0.6
 * back.session; // 7n
 * ```
 *
 * @module
 */

export {
  AccessError,
  BlobDecodeError,
  BlobEncodeError,
  CodecError,
  ConfigError,
  CorruptObjectError,
  DataJointError,
  DeclarationError,
  DuplicateError,
  IntegrityError,
  LostConnectionError,
  MissingAttributeError,
  MissingExternalFile,
  MissingTableError,
  QueryError,
  QuerySyntaxError,
  StoreError,
  UnknownAttributeError,
} from "./lib/errors.ts";
export { type InsertOptions } from "./lib/insert.ts";
export type {
  ConfirmCallback,
  DeleteOptions,
  DropTableOptions,
  PartIntegrity,
  TableCount,
} from "./lib/delete.ts";
export {
  type Compiled,
  type IterateOptions,
  Query,
  type QueryHeading,
  type RestrictOptions,
  type Row as FetchedRow,
  type ToDictsOptions,
  U,
} from "./lib/query.ts";
export {
  AndList,
  type Condition,
  isQueryLike,
  Not,
  QUERY_BRAND,
  type QueryLike,
  Top,
  type TopOptions,
} from "./lib/condition.ts";
export type {
  AggrOptions,
  JoinOptions,
  ProjArg,
  QueryAttribute,
  Select,
  SqlContext,
} from "./lib/expression.ts";
export { translateExpression } from "./lib/sql_expression.ts";
export {
  keySource,
  type PopulateArg,
  type PopulateError,
  type PopulateOptions,
  type PopulateProgress,
  type PopulateResult,
} from "./lib/populate.ts";
export {
  type AddJobsOptions,
  type JobCounts,
  type JobKey,
  Jobs,
  jobsTableName,
  type JobsTarget,
  type JobStatus,
  type PendingKeysOptions,
  type RefreshOptions,
  type RefreshResult,
} from "./lib/jobs.ts";
export { ProgressBar, type ProgressBarOptions, type ProgressOutput } from "./lib/progress_bar.ts";
export { collectGarbage, type GcOptions, type GcReport } from "./lib/gc.ts";
export { pythonJson } from "./lib/values.ts";
export {
  type Manifest,
  type ManifestFile,
  type ObjectMetadata,
  ObjectRef,
} from "./codecs/object_ref.ts";
export { NpyRef, type NpyRefMetadata } from "./codecs/npy_ref.ts";
export { decodeNpy, type DecodeNpyOptions, encodeNpy } from "./codecs/npy_format.ts";
export {
  ensureCodecs,
  listPluginCodecs,
  loadCodec,
  type PluginCodecInfo,
  type PluginOptions,
} from "./codecs/plugins.ts";
export { Stores } from "./stores/open.ts";
export { FileStore } from "./stores/file_store.ts";
export { S3Store } from "./stores/s3_store.ts";
export { computeHash } from "./stores/paths.ts";
export type {
  ContentPutOptions,
  GetOptions,
  PutOptions,
  StoreBackend,
  StoreCounters,
  StoreEntry,
  StoreProtocol,
  StoreSpec,
  StoreStat,
} from "./stores/backend.ts";
export {
  closeConnection,
  conn,
  Schema,
  schema,
  type SchemaDecorator,
  type SchemaOptions,
  type VirtualSchema,
  virtualSchema,
} from "./lib/schema.ts";
export { Connection } from "./lib/connection.ts";
export {
  type Config,
  type DatabaseConfig,
  type DeepPartial,
  loadConfig,
  type LoadConfigOptions,
} from "./lib/config.ts";
export {
  Computed,
  Imported,
  Lookup,
  Manual,
  Part,
  Table,
  type TableClass,
  type Tier,
} from "./lib/table.ts";
export {
  attr,
  comment,
  defineTable,
  index,
  key,
  ref,
  sql,
  type TableSpec,
  uniqueIndex,
} from "./lib/decorators.ts";
export type { Attribute, Heading } from "./lib/heading.ts";
export type { DropOptions } from "./lib/binding.ts";
export {
  type Codec,
  codec,
  CODEC_BRAND,
  type CodecSpec,
  getCodec,
  listCodecs,
  unregisterCodec,
} from "./codecs/registry.ts";
export { pack, type PackOptions, unpack, type UnpackOptions } from "./codecs/blob/mod.ts";
export { NDArray } from "./codecs/blob/ndarray.ts";
export {
  type ComplexDType,
  type DataFor,
  type DatetimeDType,
  type DatetimeUnit,
  type DType,
  NAT,
  type RealDType,
} from "./codecs/blob/dtype.ts";
export { BLOB_KIND, Complex, Decimal, UUID } from "./codecs/blob/scalars.ts";
export { MatCell, MatStruct, RecArray, Tuple, tuple } from "./codecs/blob/containers.ts";
export type { BlobDict, BlobValue } from "./codecs/blob/values.ts";
export {
  fromTagged,
  parseTagged,
  stringifyTagged,
  type TaggedArray,
  type TaggedCell,
  type TaggedColumn,
  type TaggedElement,
  type TaggedFloat,
  taggedFloat,
  type TaggedRecArray,
  type TaggedScalar,
  type TaggedStruct,
  type TaggedValue,
  toTagged,
} from "./codecs/blob/tagged_json.ts";
export type {
  AttributeItem,
  AttributeOptions,
  AttributeShorthand,
  DefaultValue,
  IndexItem,
  Item,
  ItemsSpec,
  RefItem,
  RefOptions,
  SqlExpression,
  TableClassDecorator,
  TableFieldDecorator,
  TableMetadata,
} from "./lib/decorators.ts";
export type { HeadingForeignKey } from "./lib/heading.ts";
export type { ConfigSource, DisplayConfig, JobsConfig, LogLevel } from "./lib/config.ts";
export type { Backend, Driver, ExecResult, Row, ServerOptions } from "./lib/adapters/driver.ts";
export type { BackendKit } from "./lib/adapters/backend.ts";
export type {
  Catalog,
  ColumnInfo,
  EnumTypeInfo,
  ForeignKeyInfo,
  IndexInfo,
  ReferencingTable,
  SchemaCatalog,
  TableInfo,
} from "./lib/adapters/catalog.ts";
export type {
  ColumnPlan,
  CreateStatements,
  Dialect,
  EnumType,
  ForeignKeyPlan,
  IndexPlan,
  TablePlan,
} from "./lib/adapters/dialect.ts";
export type {
  CodecRef,
  CoreType,
  CoreTypeName,
  DeclaredType,
  NativeCategory,
  NativeType,
  ResolvedType,
} from "./lib/types.ts";
export type {
  DecodeContext,
  EncodeContext,
  ObjectReference,
  StoreAccess,
  WrittenObject,
} from "./codecs/registry.ts";
