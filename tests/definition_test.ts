/**
 * The definition parser (reference types-and-tables.md §2.1–2.4, §2.6): line kinds, defaults,
 * comments, foreign-key options and renames, index lines, and the parse-time declaration errors
 * (each names the line by number and text and says what to do).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type AttributeLine,
  type ForeignKeyLine,
  type IndexLine,
  parseDefinition,
} from "../lib/definition.ts";
import { declarationError } from "./_declaration_error.ts";

function attr(text: string): AttributeLine {
  const d = parseDefinition(text);
  const l = d.lines.find((x) => x.kind === "attribute");
  assert.ok(l, `no attribute in ${text}`);
  return l as AttributeLine;
}

function fk(text: string): ForeignKeyLine {
  const d = parseDefinition(text);
  const l = d.lines.find((x) => x.kind === "foreignKey");
  assert.ok(l, `no foreign key in ${text}`);
  return l as ForeignKeyLine;
}

Deno.test("definition: table comment, divider, blank and # lines; line numbers", () => {
  const d = parseDefinition(`
    # subjects of the lab
    subject_id : int32   # id

    # a remark that is not the table comment
    ---
    # another remark
    name = '' : varchar(64)
  `);
  assert.equal(d.comment, "subjects of the lab");
  assert.equal(d.lines.length, 2);
  const [a, b] = d.lines as AttributeLine[];
  assert.deepEqual(a, {
    kind: "attribute",
    line: "subject_id : int32   # id",
    lineNumber: 3,
    name: "subject_id",
    inKey: true,
    type: "int32",
    default: null,
    nullable: false,
    comment: "id",
  });
  assert.equal(b.name, "name");
  assert.equal(b.inKey, false);
  assert.equal(b.default, "''");
  assert.equal(b.lineNumber, 8);
  // A `#` line that is not the first line is not the table comment.
  assert.equal(parseDefinition("a : int32\n# late\n").comment, "");
  // No lines at all.
  assert.deepEqual(parseDefinition("  \n \n"), { comment: "", lines: [] });
  assert.deepEqual(parseDefinition("# only a comment"), { comment: "only a comment", lines: [] });
  // Windows line ends.
  const crlf = parseDefinition("# c\r\na : int32\r\n---\r\nb : int32\r\n");
  assert.deepEqual(
    (crlf.lines as AttributeLine[]).map((l) => [l.name, l.inKey, l.lineNumber]),
    [["a", true, 2], ["b", false, 4]],
  );
});

Deno.test("definition: `index : int32` is an attribute, index lines need parentheses", () => {
  const a = attr("index : int32");
  assert.equal(a.name, "index");
  assert.equal(a.type, "int32");
  assert.equal(attr("unique : int32").name, "unique");
  const d = parseDefinition("a : int32\nb : int32\n---\nindex(a,b)\nunique index(a, b)\n");
  const ix = d.lines.filter((l) => l.kind === "index") as IndexLine[];
  assert.deepEqual(ix.map((l) => [l.unique, l.columns]), [[false, ["a", "b"]], [true, ["a", "b"]]]);
  const more = parseDefinition("UNIQUE INDEX (a , b) # both\nIndex( a )").lines as IndexLine[];
  assert.deepEqual(more.map((l) => [l.kind, l.unique, l.columns]), [
    ["index", true, ["a", "b"]],
    ["index", false, ["a"]],
  ]);
});

Deno.test("definition: defaults (quoted with : and #), null, types, comments with quotes", () => {
  let a = attr(`note = "a:b # c" : varchar(20)   # the note`);
  assert.deepEqual([a.default, a.type, a.comment], [`"a:b # c"`, "varchar(20)", "the note"]);
  a = attr(`note = 'x:y#z' : varchar(20)`);
  assert.deepEqual([a.default, a.type, a.comment], [`'x:y#z'`, "varchar(20)", ""]);
  a = attr(`note = 'it''s' : varchar(20) # quote`);
  assert.deepEqual([a.default, a.comment], [`'it''s'`, "quote"]);
  a = attr(`---\nx = null : float32 # maybe`);
  assert.deepEqual([a.default, a.nullable], ["null", true]);
  assert.equal(attr("---\nx = NULL : float32").nullable, true);
  assert.equal(attr("x = nullx : varchar(8)").nullable, false);
  a = attr(`x=5:int64#with default`);
  assert.deepEqual([a.name, a.default, a.type, a.comment], ["x", "5", "int64", "with default"]);
  a = attr(`t = CURRENT_TIMESTAMP(3) : datetime(3)`);
  assert.deepEqual([a.default, a.type], ["CURRENT_TIMESTAMP(3)", "datetime(3)"]);
  a = attr(`e : enum('a#1', 'b') # pick one`);
  assert.deepEqual([a.type, a.comment], ["enum('a#1', 'b')", "pick one"]);
  a = attr(`x : int32 # it's "quoted" # twice`);
  assert.equal(a.comment, `it's "quoted" # twice`);
  a = attr(`x : decimal(10, 3) # grams`);
  assert.equal(a.type, "decimal(10, 3)");
  a = attr(`x : <blob@store>   #   spaced   `);
  assert.deepEqual([a.type, a.comment], ["<blob@store>", "spaced"]);
});

Deno.test("definition: foreign keys, options (any case), refs and comments", () => {
  let f = fk("-> Subject");
  assert.deepEqual(
    [f.ref, f.rename, f.nullable, f.unique, f.inKey, f.lineNumber],
    ["Subject", [], false, false, true, 1],
  );
  f = fk("a : int32\n---\n-> [NULLABLE, Unique] lab.Rig   # the rig");
  assert.deepEqual([f.ref, f.nullable, f.unique, f.inKey], ["lab.Rig", true, true, false]);
  f = fk("---\n->[nullable]Rig");
  assert.deepEqual([f.ref, f.nullable], ["Rig", true]);
  f = fk("-> [ unique ] Rig");
  assert.deepEqual([f.ref, f.unique, f.nullable], ["Rig", true, false]);
  f = fk("-> Session.Trial");
  assert.equal(f.ref, "Session.Trial");
  f = fk("-> master");
  assert.equal(f.ref, "master");
});

Deno.test("definition: .proj(new='old') renames, single and several, ' or \" quotes", () => {
  let f = fk("---\n-> [unique] Rig.proj(backup_rig='rig')");
  assert.deepEqual([f.ref, f.rename, f.unique], ["Rig", [["backup_rig", "rig"]], true]);
  f = fk(`-> Cell.proj(pre_cell="cell_id", pre_session = 'session_id')`);
  assert.deepEqual([f.ref, f.rename], ["Cell", [["pre_cell", "cell_id"], [
    "pre_session",
    "session_id",
  ]]]);
  f = fk(`-> lab.Cell.proj( post="cell" ) # postsynaptic`);
  assert.deepEqual([f.ref, f.rename], ["lab.Cell", [["post", "cell"]]]);
  f = fk(`-> Cell.proj()`);
  assert.deepEqual([f.ref, f.rename], ["Cell", []]);
});

Deno.test("definition: a line is a foreign key only if no quote or # precedes the arrow", () => {
  // The arrow is in a default or a comment: these are attributes.
  assert.equal(attr(`x = "->" : varchar(4)`).default, `"->"`);
  assert.equal(attr(`x : int32 # -> not a reference`).comment, "-> not a reference");
  assert.equal(attr(`x = '-> y' : varchar(8)`).default, `'-> y'`);
});

// ---- declaration errors (reference §2.6) -------------------------------------------------------

Deno.test("error: table comment starting with a colon", () => {
  declarationError(
    () => parseDefinition("#: not allowed\na : int32"),
    'Table comment must not start with a colon ":"',
    'line 1 "#: not allowed"',
    "remove the colon",
  );
  declarationError(
    () => parseDefinition("\n  # :x\na : int32"),
    "Table comment must not start with a colon",
    'line 2 "# :x"',
  );
  // Only the table comment is checked; later # lines are ignored.
  assert.equal(parseDefinition("# ok\n#: ignored\na : int32").comment, "ok");
});

Deno.test("error: foreign key parse errors, including `b -> A`", () => {
  declarationError(
    () => parseDefinition("a : int32\nb -> A"),
    "Parsing error",
    'line 2 "b -> A"',
    "-> Parent",
  );
  for (
    const line of [
      "-> Rig garbage",
      "-> [nullable Rig",
      "-> Rig.proj(a=b)",
      "-> Rig.proj(a='b'",
      "-> Rig.proj(a='B')",
      "-> Rig.proj(A='b')",
      "-> 'Rig'",
      "-> Rig;",
      "-> Rig; DROP TABLE t",
      "-> Rig.proj(x='rig'); --",
      "-> Rig.proj(x='rig`')",
      "-> Rig.proj(x='ri''g')",
      "-> Rig)",
      "-> (Rig",
      "->",
      "-> 2Rig",
      "-> Rig.",
      "-> Rig & 'x=1'",
      "-> Rig - Other",
    ]
  ) {
    declarationError(
      () => parseDefinition(`---\n${line}`),
      "Parsing error",
      `line 2 ${JSON.stringify(line)}`,
    );
  }
});

Deno.test("error: invalid foreign key option", () => {
  declarationError(
    () => parseDefinition("---\n-> [nullable, optional] Rig"),
    'Invalid foreign key option "OPTIONAL"',
    'line 2 "-> [nullable, optional] Rig"',
    "nullable and unique",
  );
  declarationError(() => parseDefinition("-> [] Rig"), "Invalid foreign key option", "line 1");
});

Deno.test("error: nullable foreign key in the primary key", () => {
  declarationError(
    () => parseDefinition("# t\n-> [nullable] Rig\n---\nx : int32"),
    "Primary dependencies cannot be nullable",
    'line 2 "-> [nullable] Rig"',
    "below ---",
  );
});

Deno.test("error: attribute name with a leading underscore", () => {
  declarationError(
    () => parseDefinition("a : int32\n---\n_hidden : int32"),
    "starts with an underscore",
    'line 3 "_hidden : int32"',
    "reserved for platform-managed columns",
    "rename it",
  );
  declarationError(() => parseDefinition("_singleton : bool"), "underscore", "line 1");
});

Deno.test("error: attribute parse errors", () => {
  const cases: [string, string][] = [
    ["Name : int32", "attribute names are lowercase"],
    ["camelCase : int32", "attribute names are lowercase"],
    ["1x : int32", "attribute names are lowercase"],
    ["x int32", "name [= default] : type"],
    ["x : ", "give a type"],
    ["x :", "give a type"],
    ["x = : int32", "give a default"],
    ["x = 5", "add `: type`"],
    ["x = 'a : varchar(8)", "add `: type`"],
    ["x : # c", "give a type"],
    ["a;b : int32", "name [= default] : type"],
    ["a`b : int32", "name [= default] : type"],
    ["a'b : int32", "name [= default] : type"],
    ['a"b : int32', "name [= default] : type"],
    ["a) : int32", "name [= default] : type"],
    ["a-b : int32", "name [= default] : type"],
    ["é : int32", "name [= default] : type"],
    ["x y : int32", "name [= default] : type"],
  ];
  for (const [line, fix] of cases) {
    const msg = declarationError(
      () => parseDefinition(`# t\nk : int32\n---\n${line}`),
      "Declaration error",
      fix,
    );
    assert.ok(msg.includes(`line 4 "${line.trim()}"`), msg);
  }
});

Deno.test("error: nullable primary-key attribute", () => {
  declarationError(
    () => parseDefinition("x = null : int32\n---\ny : int32"),
    "Primary key attributes cannot be nullable",
    'line 1 "x = null : int32"',
    "remove `= null`",
  );
  declarationError(
    () => parseDefinition("x = NULL : int32"),
    "Primary key attributes cannot be nullable",
  );
});

Deno.test("error: attribute comment starting with a colon", () => {
  declarationError(
    () => parseDefinition("a : int32\n---\nb : int32 #:int8: fake marker"),
    'An attribute comment must not start with a colon in comment ":int8: fake marker"',
    'line 3 "b : int32 #:int8: fake marker"',
    "remove the leading colon",
  );
  declarationError(
    () => parseDefinition("b : int32 #   :x"),
    "must not start with a colon",
    "line 1",
  );
});

Deno.test("error: index syntax", () => {
  for (
    const line of [
      "index(a b)",
      "index(a, )",
      "index()",
      "index(a) extra",
      "index(a.b)",
      "index(A)",
      "index((a))",
      "unique index(a); DROP TABLE t; --",
      "index(a`)",
      "index(a,a)",
      "unique  index(a) , index(b)",
      "index(a) --",
    ]
  ) {
    declarationError(
      () => parseDefinition(`a : int32\nb : int32\n---\n${line}`),
      "Table definition syntax error",
      `line 4 ${JSON.stringify(line)}`,
      "index(",
    );
  }
  // A comment after an index line is fine.
  const d = parseDefinition("a : int32\nindex(a) # ); DROP TABLE t; --");
  assert.deepEqual((d.lines[1] as IndexLine).columns, ["a"]);
});
