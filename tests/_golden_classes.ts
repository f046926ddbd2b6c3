/**
 * Test fixture: the seven golden tables (golden/ddl/tables.json) written as classes, once with
 * decorators and once with `defineTable()`. Built in functions so that each call makes fresh
 * classes that a test can bind to its own schema.
 *
 * @module
 */
import { attr, comment, defineTable, index, key, ref, sql } from "../lib/decorators.ts";
import { Computed, Lookup, Manual, type TableClass } from "../lib/table.ts";

// ---------------------------------------------------------------------------------------------
// The seven golden tables, with decorators.

/** Built in a function so that both versions can use the golden class names. */
export function decoratedTables(): Record<string, TableClass> {
  @comment("species lookup")
  class Species extends Lookup {
    @key("varchar(32)", { comment: "species name" })
    species!: string;
    @attr("varchar(64)", { default: "", comment: "latin name" })
    latin!: string;
  }

  @comment("experimental subject")
  class Subject extends Manual {
    @key("int32", { comment: "subject number" })
    subject_id!: number;
    @ref(() => Species)
    species!: unknown;
    @attr("enum('M', 'F', 'U')", { comment: "sex" })
    sex!: string;
    @attr("datetime", { comment: "date of birth" })
    dob!: string;
    @attr("decimal(6,2)", { comment: "grams" })
    weight!: string;
    @attr("bool", { default: true, comment: "still in study" })
    is_active!: boolean;
    @attr("char(4)", { default: "XX", comment: "short code" })
    code!: string;
    @attr("date", { default: null, comment: "date only" })
    birth_date!: string | null;
    @attr("int16", { default: 0, comment: "litter number" })
    litter!: number;
    @attr("int64", { default: 0n, comment: "big int" })
    rank64!: bigint;
    @attr("float32", { default: null, comment: "single precision" })
    temp32!: number | null;
  }

  @comment("recording session")
  @index("label")
  class Session extends Manual {
    @ref(() => Subject, { primary: true })
    subject!: unknown;
    @key("int32", { comment: "session within subject" })
    session_idx!: number;
    @attr("varchar(64)", { comment: "free text" })
    label!: string;
    @attr("datetime", { default: sql("CURRENT_TIMESTAMP"), comment: "start time" })
    started!: string;
    @attr("datetime(3)", { default: null, comment: "millisecond precision" })
    precise!: string | null;
    @attr("float64", { default: null, comment: "optional score" })
    score!: number | null;
    @attr("json", { comment: "acquisition parameters" })
    params!: unknown;
    @attr("bytes", { comment: "raw bytes" })
    raw_bytes!: Uint8Array;
  }

  @comment("uuid probe (kept separate so a uuid failure does not block the rest)")
  class Tag extends Manual {
    @key("uuid", { comment: "uuid primary key" })
    tag_id!: string;
    @ref(() => Session)
    session!: unknown;
    @attr("uuid", { default: null, comment: "nullable uuid" })
    other_uuid!: string | null;
  }

  @comment("every codec")
  class Recording extends Manual {
    @ref(() => Session, { primary: true })
    session!: unknown;
    @attr("<blob>", { comment: "serialized in table" })
    inline_blob!: unknown;
    @attr("<blob@main>", { comment: "serialized, hash-addressed in store" })
    store_blob!: unknown;
    @attr("<attach>", { comment: "file in table" })
    inline_attach!: string;
    @attr("<attach@main>", { comment: "file, hash-addressed in store" })
    store_attach!: string;
    @attr("<npy@main>", { comment: ".npy schema-addressed" })
    array!: unknown;
    @attr("<object@main>", { comment: "folder schema-addressed" })
    folder!: unknown;
    @attr("<hash@main>", { comment: "raw bytes hash-addressed" })
    raw_hash!: Uint8Array;
    @attr("<filepath@raw>", { comment: "reference to existing file" })
    raw_file!: string;
  }

  @comment("bare '@' = default store (stores.default / stores.filepath_default)")
  class BareAt extends Manual {
    @key("int32")
    row_id!: number;
    @attr("<blob@>", { default: null })
    b!: unknown;
    @attr("<attach@>", { default: null })
    a!: unknown;
    @attr("<npy@>", { default: null })
    n!: unknown;
    @attr("<object@>", { default: null })
    o!: unknown;
    @attr("<hash@>", { default: null })
    h!: unknown;
    @attr("<filepath@>", { default: null })
    f!: unknown;
  }

  @comment("computed from Recording")
  class Analysis extends Computed {
    @ref(() => Recording, { primary: true })
    recording!: unknown;
    @attr("float64", { comment: "mean of array" })
    mean_value!: number;
    @attr("int32", { comment: "number of keys in inline_blob" })
    n_keys!: number;
    @attr("<blob>", { comment: "dict summary" })
    summary!: unknown;
    @attr("<blob@main>", { comment: "same, in store" })
    stored_summary!: unknown;
  }

  return { Species, Subject, Session, Tag, Recording, BareAt, Analysis };
}

// ---------------------------------------------------------------------------------------------
// The same seven tables with defineTable().

export function definedTables(): Record<string, TableClass> {
  class Species extends Lookup {
    static table = defineTable({
      comment: "species lookup",
      primary: { species: { type: "varchar(32)", comment: "species name" } },
      secondary: { latin: { type: "varchar(64)", default: "", comment: "latin name" } },
    });
  }

  class Subject extends Manual {
    static table = defineTable({
      comment: "experimental subject",
      primary: [{ name: "subject_id", type: "int32", comment: "subject number" }],
      secondary: [
        { ref: () => Species },
        { name: "sex", type: "enum('M', 'F', 'U')", comment: "sex" },
        { name: "dob", type: "datetime", comment: "date of birth" },
        { name: "weight", type: "decimal(6,2)", comment: "grams" },
        { name: "is_active", type: "bool", default: 1, comment: "still in study" },
        { name: "code", type: "char(4)", default: "XX", comment: "short code" },
        { name: "birth_date", type: "date", default: null, comment: "date only" },
        { name: "litter", type: "int16", default: 0, comment: "litter number" },
        { name: "rank64", type: "int64", default: 0, comment: "big int" },
        { name: "temp32", type: "float32", default: null, comment: "single precision" },
      ],
    });
  }

  class Session extends Manual {
    static table = defineTable({
      comment: "recording session",
      primary: [
        { ref: () => Subject },
        { name: "session_idx", type: "int32", comment: "session within subject" },
      ],
      secondary: {
        label: { type: "varchar(64)", comment: "free text" },
        started: { type: "datetime", default: sql("CURRENT_TIMESTAMP"), comment: "start time" },
        precise: { type: "datetime(3)", default: null, comment: "millisecond precision" },
        score: { type: "float64", default: null, comment: "optional score" },
        params: { type: "json", comment: "acquisition parameters" },
        raw_bytes: { type: "bytes", comment: "raw bytes" },
      },
      indexes: [["label"]],
    });
  }

  class Tag extends Manual {
    static table = defineTable({
      comment: "uuid probe (kept separate so a uuid failure does not block the rest)",
      primary: { tag_id: { type: "uuid", comment: "uuid primary key" } },
      secondary: [
        { ref: () => Session },
        { name: "other_uuid", type: "uuid", default: null, comment: "nullable uuid" },
      ],
    });
  }

  class Recording extends Manual {
    static table = defineTable({
      comment: "every codec",
      primary: [{ ref: () => Session }],
      secondary: {
        inline_blob: { type: "<blob>", comment: "serialized in table" },
        store_blob: { type: "<blob@main>", comment: "serialized, hash-addressed in store" },
        inline_attach: { type: "<attach>", comment: "file in table" },
        store_attach: { type: "<attach@main>", comment: "file, hash-addressed in store" },
        array: { type: "<npy@main>", comment: ".npy schema-addressed" },
        folder: { type: "<object@main>", comment: "folder schema-addressed" },
        raw_hash: { type: "<hash@main>", comment: "raw bytes hash-addressed" },
        raw_file: { type: "<filepath@raw>", comment: "reference to existing file" },
      },
    });
  }

  class BareAt extends Manual {
    static table = defineTable({
      comment: "bare '@' = default store (stores.default / stores.filepath_default)",
      primary: { row_id: "int32" },
      secondary: {
        b: { type: "<blob@>", default: null },
        a: { type: "<attach@>", default: null },
        n: { type: "<npy@>", default: null },
        o: { type: "<object@>", default: null },
        h: { type: "<hash@>", default: null },
        f: { type: "<filepath@>", default: null },
      },
    });
  }

  class Analysis extends Computed {
    static table = defineTable({
      comment: "computed from Recording",
      primary: [{ ref: () => Recording }],
      secondary: [
        { name: "mean_value", type: "float64", comment: "mean of array" },
        { name: "n_keys", type: "int32", comment: "number of keys in inline_blob" },
        { name: "summary", type: "<blob>", comment: "dict summary" },
        { name: "stored_summary", type: "<blob@main>", comment: "same, in store" },
      ],
    });
  }

  return { Species, Subject, Session, Tag, Recording, BareAt, Analysis };
}
