import { chooseNext, evaluateChoiceRule } from "./choice";
import type { ContextObject } from "./context";
import { StatesError } from "./errors";
import type { Json } from "./json";
import type { ChoiceRule, ChoiceState } from "./types";

const test = (rule: ChoiceRule, input: Json): boolean => evaluateChoiceRule(rule, input);

function thrown(fn: () => unknown): StatesError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StatesError) return error;
    throw error;
  }
  throw new Error("expected a StatesError");
}

describe("chooseNext, on the specification's DispatchEvent example", () => {
  const state: ChoiceState = {
    Type: "Choice",
    Choices: [
      { Not: { Variable: "$.type", StringEquals: "Private" }, Next: "Public" },
      {
        And: [
          { Variable: "$.value", IsPresent: true },
          { Variable: "$.value", IsNumeric: true },
          { Variable: "$.value", NumericGreaterThanEquals: 20 },
          { Variable: "$.value", NumericLessThan: 30 },
        ],
        Next: "ValueInTwenties",
      },
      { Variable: "$.rating", NumericGreaterThanPath: "$.auditThreshold", Next: "StartAudit" },
    ],
    Default: "RecordEvent",
  };

  it("goes to ValueInTwenties for a private event worth 22", () => {
    expect(chooseNext(state, { type: "Private", value: 22 })).toBe("ValueInTwenties");
  });

  it("goes to Public when the type is not Private", () => {
    expect(chooseNext(state, { type: "Public", value: 22 })).toBe("Public");
  });

  it("compares two paths", () => {
    expect(chooseNext(state, { type: "Private", value: 50, rating: 9, auditThreshold: 5 })).toBe(
      "StartAudit",
    );
  });

  it("takes Default when nothing matches", () => {
    expect(chooseNext(state, { type: "Private", value: 50, rating: 1, auditThreshold: 5 })).toBe(
      "RecordEvent",
    );
  });

  it("fails with States.NoChoiceMatched without a Default", () => {
    const error = thrown(() =>
      chooseNext(
        { ...state, Default: undefined },
        { type: "Private", value: 50, rating: 1, auditThreshold: 5 },
      ),
    );
    expect(error.error).toBe("States.NoChoiceMatched");
    expect(error.cause).toBe('no choice rule matched the input and the state has no "Default"');
  });

  it("applies InputPath before testing", () => {
    const inner: ChoiceState = {
      Type: "Choice",
      InputPath: "$.event",
      Choices: [{ Variable: "$.n", NumericEquals: 1, Next: "One" }],
    };
    expect(chooseNext(inner, { event: { n: 1 } })).toBe("One");
  });

  it("reads $$ variables from the context object", () => {
    const context: ContextObject = {
      Execution: { Id: "e", Input: {}, Name: "n", StartTime: "2024-01-01T00:00:00Z" },
      State: { EnteredTime: "2024-01-01T00:00:00Z", Name: "C", RetryCount: 0 },
      StateMachine: { Id: "m", Name: "m" },
    };
    const byName: ChoiceState = {
      Type: "Choice",
      Choices: [{ Variable: "$$.Execution.Name", StringEquals: "n", Next: "Named" }],
    };
    expect(chooseNext(byName, {}, context)).toBe("Named");
  });
});

describe("evaluateChoiceRule operators", () => {
  it.each([
    ["StringEquals", "b", [false, true, false]],
    ["StringLessThan", "b", [true, false, false]],
    ["StringGreaterThan", "b", [false, false, true]],
    ["StringLessThanEquals", "b", [true, true, false]],
    ["StringGreaterThanEquals", "b", [false, true, true]],
  ])("%s compares strings character by character", (operator, expected, results) => {
    expect(["a", "b", "c"].map((v) => test({ Variable: "$.v", [operator]: expected }, { v }))).toEqual(
      results,
    );
    expect(
      ["a", "b", "c"].map((v) => test({ Variable: "$.v", [`${operator}Path`]: "$.w" }, { v, w: expected })),
    ).toEqual(results);
  });

  it.each([
    ["NumericEquals", [false, true, false]],
    ["NumericLessThan", [true, false, false]],
    ["NumericGreaterThan", [false, false, true]],
    ["NumericLessThanEquals", [true, true, false]],
    ["NumericGreaterThanEquals", [false, true, true]],
  ])("%s compares numbers", (operator, results) => {
    expect([1, 2, 3].map((v) => test({ Variable: "$.v", [operator]: 2 }, { v }))).toEqual(results);
    expect([1, 2, 3].map((v) => test({ Variable: "$.v", [`${operator}Path`]: "$.w" }, { v, w: 2 }))).toEqual(
      results,
    );
  });

  it.each([
    ["TimestampEquals", [false, true, false]],
    ["TimestampLessThan", [true, false, false]],
    ["TimestampGreaterThan", [false, false, true]],
    ["TimestampLessThanEquals", [true, true, false]],
    ["TimestampGreaterThanEquals", [false, true, true]],
  ])("%s compares instants, whatever the offset", (operator, results) => {
    const values = ["2016-03-14T01:58:59Z", "2016-03-14T03:59:00+02:00", "2016-03-14T01:59:00.000000001Z"];
    const threshold = "2016-03-14T01:59:00Z";
    expect(values.map((v) => test({ Variable: "$.v", [operator]: threshold }, { v }))).toEqual(results);
    expect(
      values.map((v) => test({ Variable: "$.v", [`${operator}Path`]: "$.w" }, { v, w: threshold })),
    ).toEqual(results);
  });

  it("BooleanEquals and BooleanEqualsPath", () => {
    expect(test({ Variable: "$.v", BooleanEquals: true }, { v: true })).toBe(true);
    expect(test({ Variable: "$.v", BooleanEquals: true }, { v: false })).toBe(false);
    expect(test({ Variable: "$.v", BooleanEqualsPath: "$.w" }, { v: false, w: false })).toBe(true);
    expect(test({ Variable: "$.v", BooleanEquals: true }, { v: "true" })).toBe(false);
  });

  it("returns false when the types differ", () => {
    expect(test({ Variable: "$.v", StringEquals: "1" }, { v: 1 })).toBe(false);
    expect(test({ Variable: "$.v", NumericEquals: 1 }, { v: "1" })).toBe(false);
    expect(test({ Variable: "$.v", TimestampEquals: "2016-03-14T01:59:00Z" }, { v: "yesterday" })).toBe(
      false,
    );
    expect(test({ Variable: "$.v", StringEqualsPath: "$.w" }, { v: "a", w: 1 })).toBe(false);
    // A timestamp is still a string to the String operators.
    expect(
      test({ Variable: "$.v", StringEquals: "2016-03-14T01:59:00Z" }, { v: "2016-03-14T01:59:00Z" }),
    ).toBe(true);
  });

  it("StringMatches handles the specification's examples and escapes", () => {
    expect(test({ Variable: "$.v", StringMatches: "foo*.log" }, { v: "foo23.log" })).toBe(true);
    expect(test({ Variable: "$.v", StringMatches: "*.log" }, { v: "zebra.log" })).toBe(true);
    expect(test({ Variable: "$.v", StringMatches: "foo*.*" }, { v: "foobar.zebra" })).toBe(true);
    expect(test({ Variable: "$.v", StringMatches: "foo*.log" }, { v: "foo23.txt" })).toBe(false);
    expect(test({ Variable: "$.v", StringMatches: "a\\*b" }, { v: "a*b" })).toBe(true);
    expect(test({ Variable: "$.v", StringMatches: "a\\*b" }, { v: "axb" })).toBe(false);
    expect(test({ Variable: "$.v", StringMatches: "a\\\\b" }, { v: "a\\b" })).toBe(true);
    expect(test({ Variable: "$.v", StringMatches: "log" }, { v: 1 })).toBe(false);
  });

  it("the type tests check the kind of value", () => {
    const cases: Array<[string, Json, boolean]> = [
      ["IsNull", null, true],
      ["IsNull", 0, false],
      ["IsNumeric", 1.5, true],
      ["IsNumeric", "1", false],
      ["IsString", "x", true],
      ["IsString", 1, false],
      ["IsBoolean", false, true],
      ["IsBoolean", "false", false],
      ["IsTimestamp", "2016-03-14T01:59:00Z", true],
      ["IsTimestamp", "2016-03-14t01:59:00z", false],
      ["IsTimestamp", "2016-02-30T01:59:00Z", false],
    ];
    for (const [operator, value, expected] of cases) {
      expect(test({ Variable: "$.v", [operator]: true }, { v: value })).toBe(expected);
      expect(test({ Variable: "$.v", [operator]: false }, { v: value })).toBe(!expected);
    }
  });

  it("IsPresent is false for a missing field instead of failing", () => {
    expect(test({ Variable: "$.v", IsPresent: true }, {})).toBe(false);
    expect(test({ Variable: "$.v", IsPresent: false }, {})).toBe(true);
    expect(test({ Variable: "$.v", IsPresent: true }, { v: null })).toBe(true);
  });

  it("fails with States.Runtime when a compared path matches nothing", () => {
    expect(thrown(() => test({ Variable: "$.v", StringEquals: "a" }, {}))).toMatchObject({
      error: "States.Runtime",
      cause: 'choice rule path "$.v" matches nothing in the input; guard it with "IsPresent"',
    });
    expect(thrown(() => test({ Variable: "$.v", IsNull: true }, {})).error).toBe("States.Runtime");
    expect(thrown(() => test({ Variable: "$.v", NumericEqualsPath: "$.w" }, { v: 1 })).cause).toBe(
      'choice rule path "$.w" matches nothing in the input; guard it with "IsPresent"',
    );
  });

  it("And, Or and Not stop as soon as the answer is known", () => {
    const missing: ChoiceRule = { Variable: "$.missing", StringEquals: "x" };
    expect(test({ And: [{ Variable: "$.a", IsPresent: true }, missing] }, {})).toBe(false);
    expect(test({ Or: [{ Variable: "$.a", IsPresent: false }, missing] }, {})).toBe(true);
    expect(test({ Not: { Not: { Variable: "$.a", NumericEquals: 1 } } }, { a: 1 })).toBe(true);
    expect(test({ Or: [{ And: [{ Variable: "$.a", NumericEquals: 1 }] }, missing] }, { a: 1 })).toBe(true);
  });

  it("treats a multi-valued Variable as the array of its matches", () => {
    expect(test({ Variable: "$.a[*]", IsNumeric: false }, { a: [1, 2] })).toBe(true);
  });
});
