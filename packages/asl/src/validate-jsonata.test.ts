import type { Json } from "./json";
import { loadDefinition } from "./load";
import { formatProblems } from "./report";
import { validateDefinition } from "./validate";

type Definition = { [key: string]: Json };

const problems = (definition: unknown): Array<[string, string]> =>
  validateDefinition(definition).map((p) => [p.path, p.message]);

/** A JSONata machine whose state "A" is `state`, followed by a Succeed state "Z". */
function jsonata(state: Definition, extra: Definition = {}): Definition {
  return { QueryLanguage: "JSONata", StartAt: "A", States: { A: state, Z: { Type: "Succeed" }, ...extra } };
}

describe("validation of JSONata states", () => {
  it("accepts the specification's JSONata examples", () => {
    expect(
      problems({
        QueryLanguage: "JSONata",
        StartAt: "Get Greeting",
        States: {
          "Get Greeting": { Type: "Pass", Assign: { outer: "hello" }, Next: "Greet Everyone" },
          "Greet Everyone": {
            Type: "Map",
            Items: "{% [1, 2] %}",
            ItemProcessor: {
              StartAt: "Begin",
              States: {
                Begin: { Type: "Pass", Assign: { inner: "world", hi: "{% $outer %}" }, Next: "End" },
                End: { Type: "Succeed", Output: "{% $hi %}" },
              },
            },
            Assign: { outer: 2 },
            Next: "Check",
          },
          Check: {
            Type: "Choice",
            Choices: [{ Condition: "{% $outer = 2 %}", Next: "Goodbye", Assign: { ok: true } }],
            Default: "Goodbye",
          },
          Goodbye: { Type: "Succeed", Output: "{% $outer %}" },
        },
      }),
    ).toEqual([]);
  });

  it("refuses JSONPath fields in a JSONata state, saying what to use instead", () => {
    expect(
      problems(
        jsonata({
          Type: "Task",
          Resource: "work",
          InputPath: "$.a",
          Parameters: {},
          ResultPath: "$.r",
          TimeoutSecondsPath: "$.t",
          Next: "Z",
        }),
      ),
    ).toEqual([
      [
        "States.A.InputPath",
        '"InputPath" is a JSONPath field and cannot be used in a JSONata state; use "Arguments"',
      ],
      [
        "States.A.Parameters",
        '"Parameters" is a JSONPath field and cannot be used in a JSONata state; use "Arguments"',
      ],
      [
        "States.A.ResultPath",
        '"ResultPath" is a JSONPath field and cannot be used in a JSONata state; use "Output"',
      ],
      [
        "States.A.TimeoutSecondsPath",
        '"TimeoutSecondsPath" is a JSONPath field and cannot be used in a JSONata state; use "TimeoutSeconds" with a JSONata expression',
      ],
    ]);
  });

  it("refuses JSONata fields in a JSONPath state", () => {
    expect(
      problems({
        StartAt: "A",
        States: {
          A: { Type: "Pass", Output: {}, End: true },
          B: { Type: "Choice", Choices: [{ Condition: "{% true %}", Next: "A" }] },
        },
      }).slice(0, 2),
    ).toEqual([
      [
        "States.A.Output",
        '"Output" is a JSONata field; set "QueryLanguage": "JSONata" on the state or the state machine to use it',
      ],
      [
        "States.B.Choices[0].Condition",
        '"Condition" is a JSONata field; set "QueryLanguage": "JSONata" on the state or the state machine to use it',
      ],
    ]);
  });

  it("accepts a JSONata state inside a JSONPath machine, and a JSONPath state inside a JSONata machine", () => {
    expect(
      problems({
        StartAt: "Old",
        States: {
          Old: { Type: "Pass", Parameters: { "total.$": "$.total" }, Next: "New" },
          New: {
            Type: "Pass",
            QueryLanguage: "JSONata",
            Output: { total: "{% $states.input.total %}" },
            End: true,
          },
        },
      }),
    ).toEqual([]);
    expect(
      problems(jsonata({ Type: "Pass", QueryLanguage: "JSONPath", ResultPath: "$.x", Next: "Z" })),
    ).toEqual([]);
  });

  it("reports malformed expressions and badly delimited JSONata strings", () => {
    expect(
      problems(
        jsonata({
          Type: "Pass",
          Output: { a: "{% $states.input. %}", b: "{% 1 + 1", c: ["ok", "2 %}"], d: "{% %}" },
          Next: "Z",
        }),
      ),
    ).toEqual([
      [
        "States.A.Output.a",
        expect.stringMatching(/^invalid JSONata expression: .* at character \d+$/) as string,
      ],
      [
        "States.A.Output.b",
        'a JSONata string must start with "{%" and end with "%}" (no spaces outside them), got "{% 1 + 1"',
      ],
      [
        "States.A.Output.c[1]",
        'a JSONata string must start with "{%" and end with "%}" (no spaces outside them), got "2 %}"',
      ],
      ["States.A.Output.d", "invalid JSONata expression: the expression is empty at character 1"],
    ]);
  });

  it("checks settings that take a number or an expression", () => {
    expect(
      problems(
        jsonata({
          Type: "Task",
          Resource: "work",
          TimeoutSeconds: "sixty",
          HeartbeatSeconds: "{% $h %}",
          Next: "Z",
        }),
      ),
    ).toEqual([
      [
        "States.A.TimeoutSeconds",
        '"TimeoutSeconds" must be a number or a JSONata string "{% ... %}", got "sixty"',
      ],
    ]);
    expect(problems(jsonata({ Type: "Wait", Next: "Z" }))).toEqual([
      ["States.A", 'a JSONata Wait state needs exactly one of "Seconds" and "Timestamp"'],
    ]);
    expect(
      problems(
        jsonata({
          Type: "Map",
          Items: 5,
          ItemProcessor: { StartAt: "I", States: { I: { Type: "Succeed" } } },
          Next: "Z",
        }),
      ),
    ).toEqual([["States.A.Items", '"Items" must be an array, an object or a JSONata string, got 5']]);
  });

  it("needs a Condition on every JSONata choice rule and refuses JSONPath comparisons", () => {
    expect(
      problems(
        jsonata({ Type: "Choice", Choices: [{ Variable: "$.x", IsNull: true, Next: "Z" }], Default: "Z" }),
      ),
    ).toEqual([
      [
        "States.A.Choices[0].Variable",
        '"Variable" is a JSONPath choice rule field; a JSONata choice rule uses "Condition"',
      ],
      [
        "States.A.Choices[0].IsNull",
        '"IsNull" is a JSONPath choice rule field; a JSONata choice rule uses "Condition"',
      ],
      ["States.A.Choices[0].Condition", '"Condition" is required in a JSONata choice rule'],
    ]);
  });
});

describe("validation of Assign", () => {
  it("refuses invalid and reserved variable names, in both query languages", () => {
    expect(
      problems({
        StartAt: "A",
        States: {
          A: {
            Type: "Pass",
            Assign: { states: 1, "9lives": 2, "a.b": 3, ok_1: 4, über: 5, "x.$": "$.x" },
            Next: "B",
          },
          B: { Type: "Pass", QueryLanguage: "JSONata", Assign: { ["v".repeat(81)]: 1 }, End: true },
        },
      }),
    ).toEqual([
      ["States.A.Assign.states", '"states" is reserved and cannot be assigned'],
      [
        "States.A.Assign.9lives",
        '"9lives" is not a valid variable name: it must start with a Unicode letter (ID_Start) and continue with letters, digits or "_" (ID_Continue)',
      ],
      [
        'States.A.Assign["a.b"]',
        '"a.b" is not a valid variable name: it must start with a Unicode letter (ID_Start) and continue with letters, digits or "_" (ID_Continue)',
      ],
      [`States.B.Assign.${"v".repeat(81)}`, "variable name is 81 characters long; the limit is 80"],
    ]);
  });

  it("refuses Assign on Succeed and Fail, and checks JSONPath Assign as a payload template", () => {
    expect(
      problems({
        StartAt: "A",
        States: {
          A: { Type: "Pass", Assign: { "x.$": "$.[" }, Next: "B" },
          B: { Type: "Succeed", Assign: { x: 1 } },
        },
      }).map(([path]) => path),
    ).toEqual(['States.A.Assign["x.$"]', "States.B.Assign"]);
  });

  it("refuses an inner scope assigning a variable of an outer scope", () => {
    expect(
      problems(
        jsonata({
          Type: "Parallel",
          Assign: { total: 1 },
          Branches: [
            {
              StartAt: "In",
              States: { In: { Type: "Pass", Assign: { total: 2, mine: 3 }, End: true } },
            },
          ],
          Catch: [{ ErrorEquals: ["States.ALL"], Assign: { failed: true }, Next: "Z" }],
          Next: "Z",
        }),
      ),
    ).toEqual([
      [
        "States.A.Branches[0].States.In.Assign",
        'variable "total" belongs to an outer scope: a state in a Parallel branch or Map iteration can read it but cannot assign it',
      ],
    ]);
  });
});

describe("jetflow validate output for JSONata definitions", () => {
  it("gives each problem its line and column", () => {
    const text = [
      "QueryLanguage: JSONata",
      "StartAt: A",
      "States:",
      "  A:",
      "    Type: Pass",
      "    Output: '{% $states.input.( %}'",
      "    InputPath: $.x",
      "    End: true",
    ].join("\n");
    const loaded = loadDefinition(text);
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    const lines = formatProblems(loaded.problems, "flow.yaml").split("\n");
    expect(lines[0]).toMatch(/^flow\.yaml:6:5 States\.A\.Output: invalid JSONata expression: /);
    expect(lines[1]).toBe(
      'flow.yaml:7:5 States.A.InputPath: "InputPath" is a JSONPath field and cannot be used in a JSONata state; use "Arguments"',
    );
  });
});

describe("validation of variable references in JSONPath states", () => {
  it("allows $name in every path field but ResultPath", () => {
    expect(
      problems({
        StartAt: "A",
        States: {
          A: {
            Type: "Task",
            Resource: "work",
            Parameters: { "x.$": "$order.id" },
            ResultPath: "$order",
            InputPath: "$order",
            OutputPath: "$order",
            TimeoutSecondsPath: "$timeout",
            Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$err", Next: "B" }],
            Next: "B",
          },
          B: {
            Type: "Choice",
            Choices: [{ Variable: "$order.id", IsPresent: true, Next: "C" }],
            Default: "C",
          },
          C: { Type: "Succeed" },
        },
      }),
    ).toEqual([
      [
        "States.A.ResultPath",
        '"ResultPath" cannot refer to a variable ("$order"): it says where the result goes in the state\'s input; use "Assign" to set a variable',
      ],
      [
        "States.A.Catch[0].ResultPath",
        '"ResultPath" cannot refer to a variable ("$err"): it says where the result goes in the state\'s input; use "Assign" to set a variable',
      ],
    ]);
  });
});

describe("validation of $states", () => {
  it("allows $states.result only in Task, Map and Parallel Output/Assign, $states.errorOutput only in catchers", () => {
    expect(
      problems(
        jsonata(
          {
            Type: "Task",
            Resource: "work",
            Arguments: { r: "{% $states.result %}" },
            Output: "{% $states.result.x %}",
            Assign: { e: "{% $states.errorOutput %}" },
            Catch: [
              {
                ErrorEquals: ["States.ALL"],
                Output: "{% $states.errorOutput.Cause %}",
                Assign: { r: "{% $states.result %}" },
                Next: "Z",
              },
            ],
            Next: "P",
          },
          { P: { Type: "Pass", Output: "{% $states.result %}", Next: "Z" } },
        ),
      ),
    ).toEqual([
      [
        "States.A.Arguments.r",
        '"$states.result" is available only in the Output and Assign fields of a Task, Map or Parallel state',
      ],
      ["States.A.Assign.e", '"$states.errorOutput" is available only in a Catcher\'s Output and Assign'],
      [
        "States.A.Catch[0].Assign.r",
        '"$states.result" is available only in the Output and Assign fields of a Task, Map or Parallel state',
      ],
      [
        "States.P.Output",
        '"$states.result" is available only in the Output and Assign fields of a Task, Map or Parallel state',
      ],
    ]);
  });
});
