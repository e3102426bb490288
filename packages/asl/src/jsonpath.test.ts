import { ExpressionSyntaxError, StatesError } from "./errors";
import type { Json } from "./json";
import { isReferencePath, parsePath, parseReferencePath } from "./jsonpath";
import { evaluatePath, queryPath, setAtReferencePath } from "./jsonpath-eval";

const names = (text: string): unknown[] =>
  parsePath(text).segments.map((s) =>
    s.selector.kind === "name"
      ? s.selector.name
      : s.selector.kind === "index"
        ? s.selector.index
        : s.selector.kind,
  );

describe("parsePath", () => {
  it("accepts every reference path example of the specification", () => {
    expect(names("$.store.book")).toEqual(["store", "book"]);
    expect(names("$.store\\.book")).toEqual(["store.book"]);
    expect(names("$.\\stor\\e.boo\\k")).toEqual(["store", "book"]);
    expect(names("$.store.book.title")).toEqual(["store", "book", "title"]);
    expect(names("$.foo.\\.bar")).toEqual(["foo", ".bar"]);
    expect(names("$.foo\\@bar.baz\\[\\[.\\?pretty")).toEqual(["foo@bar", "baz[[", "?pretty"]);
    expect(names("$.&Ж中.\uD800\uDF46")).toEqual(["&Ж中", "\uD800\uDF46"]);
    expect(names("$.ledgers.branch[0].pending.count")).toEqual(["ledgers", "branch", 0, "pending", "count"]);
    expect(names("$.ledgers.branch[0]")).toEqual(["ledgers", "branch", 0]);
    expect(names("$.ledgers[0][22][315].foo")).toEqual(["ledgers", 0, 22, 315, "foo"]);
    expect(names("$['store']['book']")).toEqual(["store", "book"]);
    expect(names("$['store'][0]['book']")).toEqual(["store", 0, "book"]);
    for (const text of ["$.store.book", "$['store'][0]['book']", "$.ledgers[0][22][315].foo", "$"]) {
      expect(isReferencePath(parsePath(text))).toBe(true);
    }
  });

  it("accepts the bracket-after-dot form and names with hyphens", () => {
    expect(names("$.abc.['def ghi']")).toEqual(["abc", "def ghi"]);
    expect(names("$.error-info")).toEqual(["error-info"]);
    expect(names('$["double"]')).toEqual(["double"]);
  });

  it("marks the context object root", () => {
    expect(parsePath("$$.Execution.Id").root).toBe("$$");
    expect(parsePath("$.a").root).toBe("$");
  });

  it("parses the operators a reference path must not use", () => {
    for (const text of [
      "$..price",
      "$.a[*]",
      "$.a.*",
      "$.a[0,1]",
      "$.a[1:3]",
      "$.a[-3:]",
      "$.a[::2]",
      "$.a[?(@.x)]",
      "$['a','b']",
    ]) {
      expect(isReferencePath(parsePath(text))).toBe(false);
    }
  });

  it.each([
    ["", 'invalid path "": a path must begin with "$" at character 1'],
    ["a.b", 'invalid path "a.b": a path must begin with "$" at character 1'],
    ["$.", 'invalid path "$.": expected a name after "." at character 3'],
    ["$1", 'invalid path "$1": unexpected character "1"; expected "." or "[" at character 2'],
    ["$a-b", 'invalid path "$a-b": unexpected character "-"; expected "." or "[" at character 3'],
    ["$.a[", 'invalid path "$.a[": expected "]" at character 4'],
    ["$.a[0", 'invalid path "$.a[0": expected "]" at character 6'],
    ["$['a", "invalid path \"$['a\": unterminated string; expected ' at character 3"],
    [
      "$.a b",
      "invalid path \"$.a b\": unexpected space; write names with spaces as ['like this'] at character 4",
    ],
    [
      "$.a@b",
      'invalid path "$.a@b": unexpected "@" in a name; escape it with a backslash or use [\'...\'] at character 4',
    ],
    ["$.a[::0]", 'invalid path "$.a[::0]": a slice step cannot be 0 at character 7'],
    [
      "$.a\\",
      'invalid path "$.a\\\\": a backslash must be followed by the character it escapes at character 4',
    ],
    [
      "$.a[?(@.x ==)]",
      'invalid path "$.a[?(@.x ==)]": expected a path, a string, a number, true, false or null at character 13',
    ],
  ])("rejects %j", (text, message) => {
    expect(() => parsePath(text)).toThrow(ExpressionSyntaxError);
    expect(() => parsePath(text)).toThrow(message);
  });

  it("reads a workflow variable from $name", () => {
    expect(parsePath("$order.items[0]")).toMatchObject({
      root: "$",
      variable: "order",
      source: "$order.items[0]",
    });
    expect(parsePath("$größe")).toMatchObject({ root: "$", variable: "größe", segments: [] });
    expect(parsePath("$.order").variable).toBeUndefined();
  });

  it("rejects a non-reference path where one is required", () => {
    expect(() => parseReferencePath("$.a[*]")).toThrow(
      'invalid path "$.a[*]": a reference path may only use names and indexes (no "..", "*", unions, slices or filters) at character 1',
    );
  });
});

describe("evaluatePath", () => {
  const input: Json = { foo: 123, bar: ["a", "b", "c"], car: { cdr: true } };

  it("returns the values of the specification's reference path examples", () => {
    expect(evaluatePath("$.foo", input)).toBe(123);
    expect(evaluatePath("$.bar", input)).toEqual(["a", "b", "c"]);
    expect(evaluatePath("$.car.cdr", input)).toBe(true);
    expect(evaluatePath("$", input)).toBe(input);
  });

  it("returns undefined when a reference path matches nothing", () => {
    expect(evaluatePath("$.missing", input)).toBeUndefined();
    expect(evaluatePath("$.bar[3]", input)).toBeUndefined();
    expect(evaluatePath("$.foo.x", input)).toBeUndefined();
  });

  it("gathers the matches of other paths into an array, as the spec's $.a[0,1] example", () => {
    expect(evaluatePath("$.a[0,1]", { a: [1, 2, 3, 4] })).toEqual([1, 2]);
    expect(evaluatePath("$.vals[-3:]", { vals: [0, 10, 20, 30, 40, 50] })).toEqual([30, 40, 50]);
    expect(evaluatePath("$.a[*]", { a: [] })).toEqual([]);
  });

  it("supports negative indexes, slices with steps, wildcards and unions", () => {
    const data: Json = { a: [0, 1, 2, 3, 4, 5], o: { x: 1, y: 2 } };
    expect(evaluatePath("$.a[-1]", data)).toBe(5);
    expect(evaluatePath("$.a[1:4]", data)).toEqual([1, 2, 3]);
    expect(evaluatePath("$.a[::2]", data)).toEqual([0, 2, 4]);
    expect(evaluatePath("$.a[::-2]", data)).toEqual([5, 3, 1]);
    expect(evaluatePath("$.a[:2]", data)).toEqual([0, 1]);
    expect(evaluatePath("$.o.*", data)).toEqual([1, 2]);
    expect(evaluatePath("$.o[*]", data)).toEqual([1, 2]);
    expect(evaluatePath("$['o']['x','y']", data)).toEqual([1, 2]);
  });

  it("descends recursively in document order", () => {
    const store: Json = { store: { book: [{ price: 8 }, { price: 12 }], bicycle: { price: 20 } } };
    expect(evaluatePath("$..price", store)).toEqual([8, 12, 20]);
    expect(evaluatePath("$.store..price", store)).toEqual([8, 12, 20]);
    expect(evaluatePath("$..book[0]", store)).toEqual([{ price: 8 }]);
  });

  it("filters with comparisons, existence, && and ||", () => {
    const data: Json = {
      items: [
        { id: "a", qty: 1, tag: "x" },
        { id: "b", qty: 5 },
        { id: "c", qty: 10, tag: "y" },
      ],
      min: 4,
    };
    const ids = (path: string): Json[] =>
      (evaluatePath(path, data) as Json[]).map((item) => (item as { id: string }).id);
    expect(ids("$.items[?(@.qty > 1)]")).toEqual(["b", "c"]);
    expect(ids("$.items[?(@.qty >= $.min)]")).toEqual(["b", "c"]);
    expect(ids("$.items[?(@.tag)]")).toEqual(["a", "c"]);
    expect(ids("$.items[?(!@.tag)]")).toEqual(["b"]);
    expect(ids("$.items[?(@.tag == 'y' || @.qty == 1)]")).toEqual(["a", "c"]);
    expect(ids("$.items[?(@.qty > 1 && @.qty < 10)]")).toEqual(["b"]);
    expect(ids('$.items[?(@.id != "a")]')).toEqual(["b", "c"]);
    expect(ids("$.items[?(@.qty <= 'z')]")).toEqual([]);
  });

  it("treats values too deep to compare as unequal in filters", () => {
    let deep: Json = 1;
    let copy: Json = 1;
    for (let i = 0; i < 600; i++) {
      deep = [deep];
      copy = [copy];
    }
    expect(evaluatePath("$.items[?(@.v == $.target)]", { items: [{ v: deep }], target: copy })).toEqual([]);
  });

  it("never reads inherited properties", () => {
    expect(evaluatePath("$.constructor", {})).toBeUndefined();
    expect(evaluatePath("$.__proto__", {})).toBeUndefined();
    expect(evaluatePath("$.toString", { a: 1 })).toBeUndefined();
    expect(evaluatePath("$.length", [1, 2])).toBeUndefined();
    const own = JSON.parse('{"__proto__": {"polluted": true}}') as Json;
    expect(evaluatePath("$.__proto__.polluted", own)).toBe(true);
  });

  it("handles deep inputs without recursion in descent", () => {
    let deep: Json = 1;
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    expect((queryPath("$..a", deep) as Json[]).length).toBe(10_000);
  });
});

describe("setAtReferencePath", () => {
  it("overwrites an existing field, as the spec's $.master.detail example", () => {
    const input: Json = { master: { detail: [1, 2, 3] } };
    expect(setAtReferencePath(input, "$.master.detail", 6)).toEqual({ master: { detail: 6 } });
    expect(input).toEqual({ master: { detail: [1, 2, 3] } });
  });

  it("creates intervening fields, as the spec's $.master.result.sum example", () => {
    expect(setAtReferencePath({ master: { detail: [1, 2, 3] } }, "$.master.result.sum", 6)).toEqual({
      master: { detail: [1, 2, 3], result: { sum: 6 } },
    });
    expect(setAtReferencePath({ a: 1 }, "$.b.greeting", "Hi!")).toEqual({ a: 1, b: { greeting: "Hi!" } });
  });

  it("replaces the whole document for $", () => {
    expect(setAtReferencePath({ a: 1 }, "$", [7])).toEqual([7]);
    expect(setAtReferencePath("foo", "$", 7)).toBe(7);
  });

  it("writes into existing array elements", () => {
    expect(setAtReferencePath({ a: [{ x: 1 }, { x: 2 }] }, "$.a[1].x", 9)).toEqual({
      a: [{ x: 1 }, { x: 9 }],
    });
    expect(setAtReferencePath({ a: [1, 2] }, "$.a[-1]", 9)).toEqual({ a: [1, 9] });
  });

  it.each([
    ["foo", "$.x", 'cannot apply ResultPath "$.x": the input is "foo", not an object'],
    [{ a: 1 }, "$.a.b", 'cannot apply ResultPath "$.a.b": $.a is 1, not an object'],
    [{ a: [1] }, "$.a.b", 'cannot apply ResultPath "$.a.b": $.a is an array, not an object'],
    [{ a: [1] }, "$.a[3]", 'cannot apply ResultPath "$.a[3]": $.a has no index 3'],
    [{ a: {} }, "$.a[0]", 'cannot apply ResultPath "$.a[0]": $.a is an object, not an array'],
    [{ a: 1 }, "$.a[*]", 'cannot apply ResultPath "$.a[*]": it must be a reference path starting with "$"'],
  ])("fails with States.ResultPathMatchFailure on %j at %s", (input, path, cause) => {
    let thrown: unknown;
    try {
      setAtReferencePath(input as Json, path, 1);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StatesError);
    expect(thrown).toMatchObject({ error: "States.ResultPathMatchFailure", cause });
  });

  it("defines __proto__ as a plain field instead of replacing the prototype", () => {
    const out = setAtReferencePath({}, "$.__proto__.polluted", true) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":true}}');
    const viaConstructor = setAtReferencePath({}, "$.constructor.prototype.polluted", true);
    expect(JSON.stringify(viaConstructor)).toBe('{"constructor":{"prototype":{"polluted":true}}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
