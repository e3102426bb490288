import type { ContextObject } from "./context";
import { ExpressionSyntaxError, StatesError } from "./errors";
import { parseIntrinsic } from "./intrinsic-parse";
import { evaluateIntrinsic } from "./intrinsics";
import type { Json } from "./json";

const context: ContextObject = {
  Execution: { Id: "exec-1", Input: {}, Name: "run-9", StartTime: "2024-01-01T00:00:00Z" },
  State: { EnteredTime: "2024-01-01T00:00:01Z", Name: "Step", RetryCount: 0 },
  StateMachine: { Id: "sm-1", Name: "orders" },
};
const env = { context, random: () => 0.5, uuid: () => "ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8" };
const run = (expression: string, input: Json = {}): Json => evaluateIntrinsic(expression, input, env);

function failure(expression: string, input: Json = {}): StatesError {
  try {
    run(expression, input);
  } catch (error) {
    if (error instanceof StatesError) return error;
    throw error;
  }
  throw new Error(`expected ${expression} to fail`);
}

describe("evaluateIntrinsic, with the examples of the specification and the Step Functions docs", () => {
  it("States.Format fills placeholders with the natural text of each value", () => {
    expect(
      run("States.Format('Your name is {}, we are in the year {}', $.name, 2020)", { name: "Foo" }),
    ).toBe("Your name is Foo, we are in the year 2020");
    expect(
      run("States.Format($.template, $.name)", { template: "Hello, my name is {}.", name: "Arnav" }),
    ).toBe("Hello, my name is Arnav.");
    expect(run("States.Format('{} {} {} {}', true, null, 1.5, 'x')")).toBe("true null 1.5 x");
    expect(run("States.Format('Today is {}', $$.Execution.Name)")).toBe("Today is run-9");
  });

  it("States.Format honours the reserved-character escapes", () => {
    expect(
      run("States.Format('Welcome to {} {}\\'s playlist.', $.firstName, $.lastName)", {
        firstName: "Ann",
        lastName: "Lee",
      }),
    ).toBe("Welcome to Ann Lee's playlist.");
    expect(run("States.Format('escaped \\{\\} and {}', $.name)", { name: "Arnav" })).toBe(
      "escaped {} and Arnav",
    );
    expect(run("States.Format('back\\\\slash {}', 1)")).toBe("back\\slash 1");
  });

  it("States.Format refuses arrays and objects and mismatched placeholders", () => {
    expect(failure("States.Format('{}', $.a)", { a: [1] })).toMatchObject({
      error: "States.IntrinsicFailure",
      cause: "States.Format: values must be strings, numbers, booleans or null, got an array",
    });
    expect(failure("States.Format($.t, 1)", { t: "no placeholders" }).cause).toBe(
      'States.Format: the template has 0 "{}" placeholders but 1 values follow',
    );
  });

  it("States.Format keeps stray braces and backslashes of a template read from the input", () => {
    expect(run("States.Format($.t, 'x')", { t: "C:\\dir {} {a} \\{\\}" })).toBe("C:\\dir x {a} {}");
  });

  it("States.Format and States.JsonToString refuse results over 256 KiB", () => {
    const big = "x".repeat(200 * 1024);
    expect(failure("States.Format('{}{}', $.a, $.a)", { a: big }).cause).toBe(
      "States.Format: the result would be 409600 characters long; the limit is 262144",
    );
    expect(failure("States.JsonToString($.a)", { a: [big, big] }).cause).toBe(
      "States.JsonToString: the result would be 409607 characters long; the limit is 262144",
    );
  });

  it("States.StringToJson and States.JsonToString refuse absurd nesting", () => {
    expect(failure("States.StringToJson($.s)", { s: "[".repeat(600) + "]".repeat(600) }).cause).toBe(
      "States.StringToJson: the JSON nests deeper than 512 levels",
    );
    let deep: Json = 1;
    for (let i = 0; i < 600; i++) deep = [deep];
    expect(failure("States.JsonToString($.d)", { d: deep }).cause).toBe(
      "States.JsonToString: the value nests deeper than 512 levels",
    );
    const copy = JSON.parse(JSON.stringify(deep)) as Json;
    expect(failure("States.ArrayContains($.a, $.d)", { a: [deep], d: copy }).cause).toBe(
      "States.ArrayContains: value nests deeper than 512 levels",
    );
  });

  it("States.StringToJson and States.JsonToString convert both ways", () => {
    expect(run("States.StringToJson($.someString)", { someString: '{"number": 20}' })).toEqual({
      number: 20,
    });
    expect(run("States.JsonToString($.someJson)", { someJson: { name: "Foo", year: 2020 } })).toBe(
      '{"name":"Foo","year":2020}',
    );
    expect(failure("States.StringToJson($.s)", { s: "{oops" }).cause).toBe(
      'States.StringToJson: the argument is not valid JSON: "{oops"',
    );
  });

  it("States.StringToJson keeps __proto__ an ordinary field", () => {
    const parsed = run("States.StringToJson($.s)", { s: '{"__proto__": {"polluted": true}}' }) as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(parsed)).toBe('{"__proto__":{"polluted":true}}');
  });

  it("States.Array collects its arguments in order", () => {
    expect(run("States.Array('Foo', 2020, $.someJson, null)", { someJson: { random: "abcdefg" } })).toEqual([
      "Foo",
      2020,
      { random: "abcdefg" },
      null,
    ]);
    expect(run("States.Array()")).toEqual([]);
    expect(run("States.Array(true, false, -1.5e2)")).toEqual([true, false, -150]);
  });

  it("States.ArrayPartition chunks an array", () => {
    expect(run("States.ArrayPartition($.inputArray,4)", { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9] })).toEqual(
      [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
    );
    expect(run("States.ArrayPartition($.a, 2)", { a: [] })).toEqual([]);
    expect(failure("States.ArrayPartition($.a, 0)", { a: [1] }).cause).toBe(
      "States.ArrayPartition: the chunk size must be a positive integer, got 0",
    );
    expect(failure("States.ArrayPartition($.a, 1.5)", { a: [1] }).cause).toBe(
      "States.ArrayPartition: the second argument must be an integer, got 1.5",
    );
  });

  it("States.ArrayContains compares structurally", () => {
    expect(
      run("States.ArrayContains($.inputArray, $.lookingFor)", {
        inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9],
        lookingFor: 5,
      }),
    ).toBe(true);
    expect(run("States.ArrayContains($.a, $.v)", { a: [{ x: 1, y: 2 }], v: { y: 2, x: 1 } })).toBe(true);
    expect(run("States.ArrayContains($.a, 'z')", { a: ["x"] })).toBe(false);
  });

  it("States.ArrayRange builds inclusive ranges of at most 1000 items", () => {
    expect(run("States.ArrayRange(1, 9, 2)")).toEqual([1, 3, 5, 7, 9]);
    expect(run("States.ArrayRange(10, 0, -5)")).toEqual([10, 5, 0]);
    expect(run("States.ArrayRange(5, 1, 1)")).toEqual([]);
    expect((run("States.ArrayRange(1, 1000, 1)") as Json[]).length).toBe(1000);
    expect(failure("States.ArrayRange(1, 1001, 1)").cause).toBe(
      "States.ArrayRange: the range would have 1001 elements; the limit is 1000",
    );
    expect(failure("States.ArrayRange(0, 1e15, 1)").cause).toBe(
      "States.ArrayRange: the range would have 1000000000000001 elements; the limit is 1000",
    );
    expect(failure("States.ArrayRange(1, 9, 0)").cause).toBe("States.ArrayRange: the step must not be 0");
    expect(failure("States.ArrayRange(1, 'x', 1)").cause).toBe(
      'States.ArrayRange: the second argument must be an integer, got "x"',
    );
  });

  it("States.ArrayGetItem, ArrayLength and ArrayUnique", () => {
    const input = { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9], index: 5 };
    expect(run("States.ArrayGetItem($.inputArray, $.index)", input)).toBe(6);
    expect(failure("States.ArrayGetItem($.inputArray, 9)", input).cause).toBe(
      "States.ArrayGetItem: index 9 is out of bounds for an array of length 9",
    );
    expect(run("States.ArrayLength($.inputArray)", input)).toBe(9);
    expect(run("States.ArrayUnique($.a)", { a: [1, 2, 3, 3, 3, 3, 3, 3, 4] })).toEqual([1, 2, 3, 4]);
    expect(run("States.ArrayUnique($.a)", { a: [{ a: 1, b: 2 }, { b: 2, a: 1 }, "1", 1] })).toEqual([
      { a: 1, b: 2 },
      "1",
      1,
    ]);
    expect(failure("States.ArrayLength($.s)", { s: "abc" }).cause).toBe(
      'States.ArrayLength: the first argument must be an array, got "abc"',
    );
  });

  it("States.Base64Encode and States.Base64Decode", () => {
    expect(run("States.Base64Encode($.input)", { input: "Data to encode" })).toBe("RGF0YSB0byBlbmNvZGU=");
    expect(run("States.Base64Decode($.base64)", { base64: "RGF0YSB0byBlbmNvZGU=" })).toBe("Data to encode");
    expect(run("States.Base64Encode('héllo')")).toBe("aMOpbGxv");
    expect(failure("States.Base64Decode('not base64!')").cause).toBe(
      'States.Base64Decode: the argument is not valid base64: "not base64!"',
    );
    expect(failure("States.Base64Encode($.s)", { s: "x".repeat(10_001) }).cause).toBe(
      "States.Base64Encode: the first argument is 10001 characters long; the limit is 10000",
    );
  });

  it("States.Hash supports the five algorithms", () => {
    const input = { Data: "input data" };
    expect(run("States.Hash($.Data, 'MD5')", input)).toBe("812f45842bc6d66ee14572ce20db8e86");
    expect(run("States.Hash($.Data, 'SHA-1')", input)).toBe("aaff4a450a104cd177d28d18d74485e8cae074b7");
    expect(run("States.Hash($.Data, 'SHA-256')", input)).toBe(
      "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3",
    );
    expect(run("States.Hash($.Data, 'SHA-384')", input)).toBe(
      "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562",
    );
    expect(run("States.Hash($.Data, 'SHA-512')", input)).toBe(
      "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
    );
    expect(failure("States.Hash($.Data, 'SHA-3')", input).cause).toBe(
      'States.Hash: unknown algorithm "SHA-3"; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512',
    );
    expect(failure("States.Hash($.Data, 'constructor')", input).cause).toBe(
      'States.Hash: unknown algorithm "constructor"; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512',
    );
  });

  it("States.JsonMerge merges shallowly, the second object winning", () => {
    const input = { json1: { a: { a1: 1, a2: 2 }, b: 2 }, json2: { a: { a3: 1, a4: 2 }, c: 3 } };
    expect(run("States.JsonMerge($.json1, $.json2, false)", input)).toEqual({
      a: { a3: 1, a4: 2 },
      b: 2,
      c: 3,
    });
    expect(failure("States.JsonMerge($.json1, $.json2, 'false')", input).cause).toBe(
      'States.JsonMerge: the third argument must be a boolean, got "false"',
    );
    const polluted = run(
      "States.JsonMerge($.a, $.b, false)",
      JSON.parse('{"a": {}, "b": {"__proto__": {"polluted": 1}}}') as Json,
    );
    expect(Object.getPrototypeOf(polluted)).toBe(Object.prototype);
    expect(JSON.stringify(polluted)).toBe('{"__proto__":{"polluted":1}}');
  });

  it("States.JsonMerge with true merges objects found under the same key, recursively", () => {
    const input = { json1: { a: { a1: 1, a2: 2 }, b: 2 }, json2: { a: { a3: 1, a4: 2 }, c: 3 } };
    expect(run("States.JsonMerge($.json1, $.json2, true)", input)).toEqual({
      a: { a1: 1, a2: 2, a3: 1, a4: 2 },
      b: 2,
      c: 3,
    });
    const nested = {
      left: { x: { y: { keep: 1, swap: "old", list: [1, 2] }, scalar: { was: "object" } }, n: null },
      right: { x: { y: { swap: "new", list: [3], add: true }, scalar: 7 }, n: { now: "object" } },
    };
    expect(run("States.JsonMerge($.left, $.right, true)", nested)).toEqual({
      // arrays and mismatched types are replaced by the second object's value, never combined
      x: { y: { keep: 1, swap: "new", list: [3], add: true }, scalar: 7 },
      n: { now: "object" },
    });
    // the arguments are left as they were
    expect(nested.left.x.y).toEqual({ keep: 1, swap: "old", list: [1, 2] });
  });

  it("States.JsonMerge with true keeps __proto__ a plain key at every level", () => {
    const input = JSON.parse(
      '{"a": {"__proto__": {"x": 1}, "o": {"__proto__": {"p": 1}}}, "b": {"__proto__": {"y": 2}, "o": {"__proto__": {"q": 2}}}}',
    ) as Json;
    const merged = run("States.JsonMerge($.a, $.b, true)", input) as Record<string, unknown>;
    expect(JSON.stringify(merged)).toBe('{"__proto__":{"x":1,"y":2},"o":{"__proto__":{"p":1,"q":2}}}');
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(merged.o)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(({} as Record<string, unknown>).q).toBeUndefined();
  });

  it("States.JsonMerge with true refuses objects nested deeper than the JSON depth limit", () => {
    const chain = (levels: number, leaf: string): Json => {
      let value: Json = { leaf };
      for (let i = 1; i < levels; i++) value = { k: value };
      return value;
    };
    expect(run("States.JsonMerge($.a, $.b, true)", { a: chain(512, "a"), b: chain(512, "b") })).toEqual(
      chain(512, "b"),
    );
    expect(
      failure("States.JsonMerge($.a, $.b, true)", { a: chain(513, "a"), b: chain(513, "b") }).cause,
    ).toBe("States.JsonMerge: the objects to merge nest deeper than 512 levels");
    // a shallow merge never descends, so depth does not matter to it
    expect(run("States.JsonMerge($.a, $.b, false)", { a: chain(600, "a"), b: chain(600, "b") })).toEqual(
      chain(600, "b"),
    );
  });

  it("States.MathRandom draws from the injected source, or repeats itself for a seed", () => {
    expect(run("States.MathRandom($.start, $.end)", { start: 1, end: 999 })).toBe(500);
    expect(evaluateIntrinsic("States.MathRandom(1, 999)", {}, { ...env, random: () => 0 })).toBe(1);
    expect(evaluateIntrinsic("States.MathRandom(1, 999)", {}, { ...env, random: () => 0.999999999 })).toBe(
      998,
    );
    const seeded = run("States.MathRandom(1, 999, 42)");
    expect(evaluateIntrinsic("States.MathRandom(1, 999, 42)", {}, { ...env, random: () => 0.1 })).toBe(
      seeded,
    );
    expect(failure("States.MathRandom(5, 5)").cause).toBe(
      "States.MathRandom: the end (5) must be greater than the start (5)",
    );
  });

  it("States.MathAdd adds 32-bit integers", () => {
    expect(run("States.MathAdd($.value1, $.step)", { value1: 111, step: -1 })).toBe(110);
    expect(failure("States.MathAdd(1.5, 1)").cause).toBe(
      "States.MathAdd: the first argument must be an integer, got 1.5",
    );
    expect(failure("States.MathAdd(2147483648, 1)").cause).toBe(
      "States.MathAdd: the first argument 2147483648 is outside the 32-bit integer range",
    );
  });

  it("States.StringSplit splits on every delimiter character and drops empty pieces", () => {
    expect(
      run("States.StringSplit($.inputString, $.splitter)", { inputString: "1,2,3,4,5", splitter: "," }),
    ).toEqual(["1", "2", "3", "4", "5"]);
    expect(run("States.StringSplit($.s, $.d)", { s: "This.is+a,test=string", d: ".+,=" })).toEqual([
      "This",
      "is",
      "a",
      "test",
      "string",
    ]);
    expect(run("States.StringSplit(',,a,,', ',')")).toEqual(["a"]);
  });

  it("States.UUID comes from the injected source", () => {
    expect(run("States.UUID()")).toBe("ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8");
  });

  it("nests calls, as in the Step Functions example with nine nested functions", () => {
    const input = {
      ImageRecipe: { Arn: "arn:aws:imagebuilder:us-east-1:123:image-recipe/my.recipe.name/1.0.0" },
    };
    const expression =
      "States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))";
    expect(run(expression, input)).toBe("1.0");
    expect(run("States.ArrayLength(States.Array(1, States.Array(2, 3)))")).toBe(2);
  });

  it("fails with States.IntrinsicFailure when a path argument matches nothing", () => {
    expect(failure("States.ArrayLength($.missing)")).toMatchObject({
      error: "States.IntrinsicFailure",
      cause: 'States.ArrayLength: path "$.missing" matches nothing in the input',
    });
  });

  it("accepts bracketed paths as arguments", () => {
    expect(run("States.Format('{}', $.abc.['def ghi'])", { abc: { "def ghi": "ok" } })).toBe("ok");
    expect(run("States.Array($.a[0], $['b'])", { a: [7], b: 8 })).toEqual([7, 8]);
  });
});

describe("parseIntrinsic", () => {
  it("records names, literals, paths and nested calls", () => {
    expect(parseIntrinsic("States.Array('it\\'s', -2, null, true, $.a, States.UUID())")).toEqual({
      name: "States.Array",
      args: [
        { kind: "string", value: "it's", raw: "it\\'s" },
        { kind: "literal", value: -2 },
        { kind: "literal", value: null },
        { kind: "literal", value: true },
        {
          kind: "path",
          path: {
            source: "$.a",
            root: "$",
            segments: [{ descendant: false, selector: { kind: "name", name: "a" } }],
          },
        },
        { kind: "call", call: { name: "States.UUID", args: [] } },
      ],
    });
  });

  it.each([
    ["States.Nope()", 'unknown intrinsic function "States.Nope" at character 1'],
    ["States.toString()", 'unknown intrinsic function "States.toString" at character 1'],
    ["States.UUID(1)", "States.UUID takes 0 arguments, got 1 at character 1"],
    ["States.ArrayRange(1, 2)", "States.ArrayRange takes 3 arguments, got 2 at character 1"],
    ["States.MathRandom(1)", "States.MathRandom takes 2 to 3 arguments, got 1 at character 1"],
    ["States.Format()", "States.Format takes at least 1 argument, got 0 at character 1"],
    [
      "States.Format('{} {}', 1)",
      'States.Format template has 2 "{}" placeholders but 1 value follows at character 1',
    ],
    ["States.Format('a { b')", '"{" is reserved; write \\{ for a literal brace at character 1'],
    ["States.Array('a\\n')", '"\\n" is not an escape; only \\\', \\{, \\} and \\\\ are at character 16'],
    ["States.Array('open)", 'unterminated string; expected "\'" at character 14'],
    ["States.Array(foo)", 'unexpected "foo"; strings need single quotes at character 14'],
    ["States.Array(1", 'expected ")" to close "States.Array(" at character 15'],
    ["States.Array(1) x", 'unexpected text after the closing ")" at character 17'],
    ["States.Array(1 2)", 'expected "," or ")" after an argument at character 16'],
    ["Format('x')", 'unknown intrinsic function "Format" at character 1'],
  ])("rejects %j", (text, reason) => {
    expect(() => parseIntrinsic(text)).toThrow(ExpressionSyntaxError);
    expect(() => parseIntrinsic(text)).toThrow(
      `invalid intrinsic function ${JSON.stringify(text)}: ${reason}`,
    );
  });

  it("allows at most 10 levels of nesting", () => {
    const nest = (depth: number): string =>
      depth === 1 ? "States.Array()" : `States.Array(${nest(depth - 1)})`;
    expect(() => parseIntrinsic(nest(10))).not.toThrow();
    expect(() => parseIntrinsic(nest(11))).toThrow("intrinsic functions nest deeper than 10 levels");
  });
});
