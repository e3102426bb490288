import type { Json } from "./json";
import { validateDefinition } from "./validate";

type Definition = { [key: string]: Json };

/** A one-state machine around `state` (named "A"), plus extra states. */
function machine(state: Definition, extra: Definition = {}): Definition {
  return { StartAt: "A", States: { A: state, ...extra } };
}

const task = (fields: Definition = {}): Definition => ({
  Type: "Task",
  Resource: "work",
  End: true,
  ...fields,
});
const problems = (
  definition: unknown,
  options?: Parameters<typeof validateDefinition>[1],
): Array<[string, string]> => validateDefinition(definition, options).map((p) => [p.path, p.message]);

describe("validateDefinition accepts", () => {
  it("the specification's Hello World with an activity resource", () => {
    expect(
      problems({
        Comment: "A simple minimal example of the States language",
        StartAt: "Hello World",
        States: {
          "Hello World": {
            Type: "Task",
            Resource: "arn:aws:states:us-east-1:123456789012:activity:HelloWorld",
            End: true,
          },
        },
      }),
    ).toEqual([]);
  });

  it("a machine that uses every state type and most fields", () => {
    const definition: Definition = {
      Comment: "everything",
      Version: "1.0",
      TimeoutSeconds: 3600,
      QueryLanguage: "JSONPath",
      StartAt: "Prepare",
      States: {
        Prepare: {
          Type: "Pass",
          Result: { x: 1 },
          ResultPath: "$.prepared",
          Parameters: { "id.$": "States.UUID()", "input.$": "$", "name.$": "$$.Execution.Name" },
          Next: "Charge",
        },
        Charge: {
          Type: "Task",
          Resource: "charge-card",
          InputPath: "$.order",
          Parameters: {
            "amount.$": "$.amount",
            "token.$": "$$.Task.Token",
            nested: [{ "x.$": "States.Format('{} \\{\\}', $.a)" }],
          },
          ResultSelector: { "id.$": "$.chargeId" },
          ResultPath: "$.charge",
          OutputPath: "$",
          TimeoutSecondsPath: "$.timeout",
          HeartbeatSeconds: 30,
          Retry: [
            { ErrorEquals: ["CardDeclined"], MaxAttempts: 0 },
            {
              ErrorEquals: ["States.Timeout", "States.TaskFailed"],
              IntervalSeconds: 2,
              MaxAttempts: 5,
              BackoffRate: 1.5,
              MaxDelaySeconds: 60,
              JitterStrategy: "FULL",
              Comment: "transient",
            },
            { ErrorEquals: ["States.ALL"] },
          ],
          Catch: [
            { ErrorEquals: ["CardDeclined"], Next: "Declined", ResultPath: "$.error" },
            { ErrorEquals: ["States.ALL"], Next: "Declined", ResultPath: null },
          ],
          Next: "Route",
        },
        Route: {
          Type: "Choice",
          Choices: [
            { Variable: "$.charge.id", IsPresent: false, Next: "Declined" },
            {
              And: [
                { Variable: "$.total", NumericGreaterThan: 100 },
                { Not: { Variable: "$.vip", BooleanEquals: true } },
              ],
              Next: "Review",
            },
            {
              Or: [
                { Variable: "$.kind", StringMatches: "gift\\**" },
                { Variable: "$.at", TimestampLessThanPath: "$.deadline" },
              ],
              Next: "Ship",
            },
            {
              Variable: "$$.Execution.Name",
              StringEquals: "test",
              Comment: "tests skip review",
              Next: "Ship",
            },
          ],
          Default: "Ship",
        },
        Review: { Type: "Wait", SecondsPath: "$.delay", Next: "Ship" },
        Ship: {
          Type: "Parallel",
          Branches: [
            { StartAt: "Label", States: { Label: { Type: "Task", Resource: "print-label", End: true } } },
            {
              StartAt: "Items",
              States: {
                Items: {
                  Type: "Map",
                  ItemsPath: "$.items",
                  ItemSelector: { "item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index" },
                  MaxConcurrency: 5,
                  ToleratedFailurePercentage: 12.5,
                  ToleratedFailureCountPath: "$.maxFailures",
                  ItemProcessor: {
                    ProcessorConfig: { Mode: "INLINE" },
                    StartAt: "Pick",
                    States: {
                      Pick: { Type: "Task", Resource: "pick-item", Next: "Pause" },
                      Pause: { Type: "Wait", Timestamp: "2030-01-01T00:00:00Z", End: true },
                    },
                  },
                  ResultPath: "$.picked",
                  End: true,
                },
              },
            },
          ],
          ResultSelector: { "label.$": "$[0]" },
          Next: "Done",
        },
        Declined: {
          Type: "Fail",
          ErrorPath: "$.error.Error",
          CausePath: "States.Format('declined: {}', $.error.Cause)",
        },
        Done: { Type: "Succeed", OutputPath: "$.charge" },
      },
    };
    expect(problems(definition)).toEqual([]);
  });

  it("the deprecated Iterator and Parameters of a Map state", () => {
    const map = {
      Type: "Map",
      Parameters: { "v.$": "$$.Map.Item.Value" },
      Iterator: { StartAt: "X", States: { X: { Type: "Pass", End: true } } },
      End: true,
    };
    expect(problems(machine(map))).toEqual([]);
  });

  it("a loop that has an exit", () => {
    expect(
      problems({
        StartAt: "Poll",
        States: {
          Poll: { Type: "Task", Resource: "poll", Next: "Check" },
          Check: {
            Type: "Choice",
            Choices: [{ Variable: "$.done", BooleanEquals: true, Next: "Finish" }],
            Default: "Poll",
          },
          Finish: { Type: "Succeed" },
        },
      }),
    ).toEqual([]);
  });
});

describe("validateDefinition reports structure problems", () => {
  it("for a document that is not a machine", () => {
    expect(problems(null)).toEqual([
      ["", 'the state machine must be an object with "StartAt" and "States", got null'],
    ]);
    expect(problems([])).toEqual([
      ["", 'the state machine must be an object with "StartAt" and "States", got an array'],
    ]);
    expect(problems({})).toEqual([
      ["StartAt", '"StartAt" is required in the state machine'],
      ["States", '"States" is required in the state machine'],
    ]);
    expect(problems({ StartAt: "A", States: {} })).toEqual([
      ["States", '"States" must contain at least one state'],
    ]);
  });

  it("for a StartAt that names no state", () => {
    expect(problems({ StartAt: "a", States: { A: task() } })).toEqual([
      ["StartAt", '"StartAt" must name a state in "States", and there is no "a"; did you mean "A"?'],
    ]);
  });

  it("for transitions to missing states, with a hint", () => {
    expect(
      problems(
        machine(
          {
            Type: "Task",
            Resource: "work",
            Next: "b",
            Catch: [{ ErrorEquals: ["States.ALL"], Next: "Gone" }],
          },
          {
            B: {
              Type: "Choice",
              Choices: [{ Variable: "$.x", IsNull: true, Next: "Nope" }],
              Default: "Missing",
            },
          },
        ),
      ),
    ).toEqual([
      ["States.A.Next", 'no state named "b"; did you mean "B"?'],
      ["States.A.Catch[0].Next", 'no state named "Gone"'],
      ["States.B.Choices[0].Next", 'no state named "Nope"'],
      ["States.B.Default", 'no state named "Missing"'],
      ["States", 'no state ends the state machine: give a state "End": true, or add a Succeed or Fail state'],
      ["States.B", 'state "B" is unreachable from "StartAt" "A"'],
    ]);
  });

  it("for Next and End together, neither, or End false", () => {
    expect(
      problems({
        StartAt: "A",
        States: {
          A: { Type: "Pass", Next: "B", End: true },
          B: { Type: "Pass", Next: "C" },
          C: { Type: "Wait", Seconds: 1 },
          D: { Type: "Pass", End: false },
          E: { Type: "Pass", End: "yes" },
        },
      }),
    ).toEqual([
      ["States.A.End", 'a Pass state cannot have both "Next" and "End": true'],
      ["States.C", 'a Wait state needs "Next" or "End": true'],
      ["States.D.End", '"End" is false but there is no "Next"; set "End": true or add "Next"'],
      ["States.E.End", '"End" must be true or false, got "yes"'],
      ["States.D", 'state "D" is unreachable from "StartAt" "A"'],
      ["States.E", 'state "E" is unreachable from "StartAt" "A"'],
    ]);
  });

  it("for fields on the wrong kind of state", () => {
    expect(
      problems({
        StartAt: "A",
        States: {
          A: {
            Type: "Choice",
            Choices: [{ Variable: "$.x", IsNull: true, Next: "B" }],
            Next: "B",
            End: true,
          },
          B: { Type: "Pass", Retry: [], Resource: "x", Next: "C" },
          C: { Type: "Succeed", Next: "A" },
          D: { Type: "Fail", End: true, InputPath: "$" },
        },
      }),
    ).toEqual([
      [
        "States.A.Next",
        'a Choice state cannot have "Next": put "Next" on each choice rule and use "Default" for the fallback',
      ],
      ["States.A.End", 'a Choice state cannot have "End": it always moves on to another state'],
      ["States.B.Retry", 'a Pass state cannot have "Retry"'],
      ["States.B.Resource", 'a Pass state cannot have "Resource"'],
      ["States.C.Next", 'a Succeed state cannot have "Next": it always ends the machine'],
      ["States.D.End", 'a Fail state cannot have "End": it always ends the machine'],
      ["States.D.InputPath", 'a Fail state cannot have "InputPath"'],
      ["States.D", 'state "D" is unreachable from "StartAt" "A"'],
    ]);
  });

  it("for unknown and unsupported fields", () => {
    expect(
      problems({
        StartAt: "A",
        Foo: 1,
        States: {
          A: task({
            resultPath: "$.x",
            Credentials: { RoleArn: "r" },
            Assign: { x: 1 },
            Arguments: {},
          }),
        },
      }),
    ).toEqual([
      ["Foo", 'unknown field "Foo" in the state machine'],
      ["States.A.resultPath", 'unknown field "resultPath" in a Task state; did you mean "ResultPath"?'],
      [
        "States.A.Credentials",
        '"Credentials" is not supported: jetflow workers run with their own credentials',
      ],
      [
        "States.A.Arguments",
        '"Arguments" is a JSONata field; set "QueryLanguage": "JSONata" on the state or the state machine to use it',
      ],
    ]);
  });

  it("for bad state types", () => {
    expect(problems({ StartAt: "A", States: { A: { Type: "Lambda" }, B: { End: true }, C: 5 } })).toEqual([
      [
        "States.A.Type",
        'unknown state type "Lambda"; expected one of Task, Pass, Choice, Wait, Succeed, Fail, Parallel, Map',
      ],
      ["States.B.Type", '"Type" is required in every state'],
      ["States.C", "a state must be an object, got 5"],
      ["States.B", 'state "B" is unreachable from "StartAt" "A"'],
      ["States.C", 'state "C" is unreachable from "StartAt" "A"'],
    ]);
  });

  it("for top-level fields", () => {
    expect(problems({ ...machine(task()), Version: "2.0", TimeoutSeconds: 0, Comment: 5 })).toEqual([
      ["Comment", '"Comment" must be a string, got 5'],
      ["Version", '"Version" must be "1.0", got "2.0"'],
      ["TimeoutSeconds", '"TimeoutSeconds" must be a positive integer no greater than 99999999, got 0'],
    ]);
  });

  it("for state names that are empty, too long or used twice", () => {
    const long = "x".repeat(81);
    expect(
      problems({ StartAt: "", States: { "": { Type: "Pass", Next: long }, [long]: { Type: "Succeed" } } }),
    ).toEqual([
      ['States[""]', "state names must not be empty"],
      [`States.${long}`, "state name is 81 characters long; the limit is 80"],
    ]);
    expect(problems(machine(task()), { maxNameLength: 4 })).toEqual([]);
    expect(problems(machine(task(), { Bbbbb: { Type: "Succeed" } }), { maxNameLength: 4 })).toEqual([
      ["States.Bbbbb", "state name is 5 characters long; the limit is 4"],
      ["States.Bbbbb", 'state "Bbbbb" is unreachable from "StartAt" "A"'],
    ]);
    expect(
      problems(
        machine({
          Type: "Parallel",
          Branches: [{ StartAt: "A", States: { A: { Type: "Succeed" } } }],
          End: true,
        }),
      ),
    ).toEqual([
      [
        "States.A.Branches[0].States.A",
        'state name "A" is already used at States.A; names must be unique across the whole machine',
      ],
    ]);
  });

  it("counts names in characters, not UTF-16 units", () => {
    expect(problems(machine(task(), { ["😀".repeat(80)]: { Type: "Succeed" } }), {})).toEqual([
      [`States.${"😀".repeat(80)}`, `state "${"😀".repeat(80)}" is unreachable from "StartAt" "A"`],
    ]);
  });
});

describe("validateDefinition reports Task problems", () => {
  it("for resources that are not activities", () => {
    expect(problems(machine(task({ Resource: "arn:aws:states:::lambda:invoke" })))).toEqual([
      [
        "States.A.Resource",
        'resource "arn:aws:states:::lambda:invoke" is not supported: jetflow runs activities only; use an activity name such as "send-email" or an ARN arn:aws:states:<region>:<account>:activity:<name>',
      ],
    ]);
    expect(problems(machine(task({ Resource: "orders charge" })))).toEqual([
      [
        "States.A.Resource",
        'activity name "orders charge" contains whitespace (U+0020) at character 7; an activity name may not contain whitespace, control characters, < > { } [ ] ? * or " # % \\ ^ | ~ ` $ & , ; : /',
      ],
    ]);
    expect(problems(machine({ Type: "Task", End: true }))).toEqual([
      ["States.A.Resource", '"Resource" is required in a Task state'],
    ]);
    expect(problems(machine(task({ Resource: "a".repeat(81) })))).toEqual([
      ["States.A.Resource", `activity name "${"a".repeat(81)}" is 81 characters long; the limit is 80`],
    ]);
  });

  it("for activity names Step Functions refuses, naming the state and the character; others pass", () => {
    const definition = {
      StartAt: "Charge",
      States: {
        Charge: { Type: "Task", Resource: "billing.charge-card", Next: "Receipt" },
        Receipt: {
          Type: "Task",
          Resource: "arn:aws:states:eu-west-3:123456789012:activity:envoyer-reçu",
          Next: "Ship",
        },
        Ship: { Type: "Task", Resource: "ship/now", Next: "Notify" },
        Notify: { Type: "Task", Resource: "notify:{user}", End: true },
      },
    };
    const rule =
      'an activity name may not contain whitespace, control characters, < > { } [ ] ? * or " # % \\ ^ | ~ ` $ & , ; : /';
    expect(problems(definition)).toEqual([
      [
        "States.Ship.Resource",
        `activity name "ship/now" contains the special character "/" at character 5; ${rule}`,
      ],
      [
        "States.Notify.Resource",
        `activity name "notify:{user}" contains the special character ":" at character 7; ${rule}`,
      ],
    ]);
  });

  it("for timeouts", () => {
    expect(problems(machine(task({ TimeoutSeconds: 10, HeartbeatSeconds: 10 })))).toEqual([
      ["States.A.HeartbeatSeconds", '"HeartbeatSeconds" (10) must be smaller than "TimeoutSeconds" (10)'],
    ]);
    expect(problems(machine(task({ TimeoutSeconds: 1.5, HeartbeatSeconds: -1 })))).toEqual([
      [
        "States.A.TimeoutSeconds",
        '"TimeoutSeconds" must be a positive integer no greater than 99999999, got 1.5',
      ],
      [
        "States.A.HeartbeatSeconds",
        '"HeartbeatSeconds" must be a positive integer no greater than 99999999, got -1',
      ],
    ]);
    expect(
      problems(
        machine(
          task({
            TimeoutSeconds: 10,
            TimeoutSecondsPath: "$.t",
            HeartbeatSeconds: 1,
            HeartbeatSecondsPath: "$.h",
          }),
        ),
      ),
    ).toEqual([
      [
        "States.A.TimeoutSecondsPath",
        'a Task state cannot have both "TimeoutSeconds" and "TimeoutSecondsPath"',
      ],
      [
        "States.A.HeartbeatSecondsPath",
        'a Task state cannot have both "HeartbeatSeconds" and "HeartbeatSecondsPath"',
      ],
    ]);
    expect(problems(machine(task({ TimeoutSecondsPath: "$.t[*]" })))).toEqual([
      [
        "States.A.TimeoutSecondsPath",
        '"TimeoutSecondsPath" must be a reference path (names and indexes only, no "..", "*", slices or filters), got "$.t[*]"',
      ],
    ]);
  });
});

describe("validateDefinition reports path and template problems", () => {
  it("for paths that do not parse or are of the wrong kind", () => {
    expect(
      problems(
        machine(
          task({
            InputPath: "$.a[",
            OutputPath: 5,
            ResultPath: "$.a..b",
            Parameters: { "x.$": "$.b[?(@.c ==)]" },
          }),
        ),
      ),
    ).toEqual([
      ["States.A.InputPath", 'invalid path "$.a[": expected "]" at character 4'],
      ["States.A.OutputPath", '"OutputPath" must be a path string or null, got 5'],
      [
        "States.A.ResultPath",
        '"ResultPath" must be a reference path (names and indexes only, no "..", "*", slices or filters), got "$.a..b"',
      ],
      [
        'States.A.Parameters["x.$"]',
        'invalid path "$.b[?(@.c ==)]": expected a path, a string, a number, true, false or null at character 13',
      ],
    ]);
  });

  it("for paths into the context object where they cannot go", () => {
    expect(problems(machine(task({ InputPath: "$$.Execution.Input", ResultPath: "$$.x" })))).toEqual([
      [
        "States.A.InputPath",
        '"InputPath" cannot refer to the context object ("$$"), got "$$.Execution.Input"',
      ],
      ["States.A.ResultPath", '"ResultPath" cannot refer to the context object ("$$"), got "$$.x"'],
    ]);
  });

  it("for the .$ convention", () => {
    expect(
      problems(
        machine(
          task({
            Parameters: {
              "a.$": 5,
              b: { "c.$": "States.Nope()", list: [{ "d.$": "not a function" }] },
              e: 1,
              "e.$": "$.e",
            },
            ResultSelector: [1],
          }),
        ),
      ),
    ).toEqual([
      [
        'States.A.Parameters["a.$"]',
        '"a.$" ends in ".$", so its value must be a path or an intrinsic function string, got 5',
      ],
      [
        'States.A.Parameters.b["c.$"]',
        'invalid intrinsic function "States.Nope()": unknown intrinsic function "States.Nope" at character 1',
      ],
      [
        'States.A.Parameters.b.list[0]["d.$"]',
        'invalid intrinsic function "not a function": unknown intrinsic function "not" at character 1',
      ],
      ['States.A.Parameters["e.$"]', 'fields "e" and "e.$" would both produce "e"'],
      ["States.A.ResultSelector", '"ResultSelector" must be an object, got an array'],
    ]);
  });
});

describe("validateDefinition reports Retry and Catch problems", () => {
  it("for States.ALL that is not alone or not last", () => {
    expect(
      problems(
        machine(
          task({
            Retry: [{ ErrorEquals: ["States.ALL", "Boom"] }, { ErrorEquals: ["Boom"] }],
            Catch: [
              { ErrorEquals: ["States.ALL"], Next: "A" },
              { ErrorEquals: ["Boom"], Next: "A" },
            ],
          }),
        ),
      ),
    ).toEqual([
      ["States.A.Retry[0].ErrorEquals", '"States.ALL" must appear alone in "ErrorEquals"'],
      ["States.A.Retry[0].ErrorEquals", 'a retrier with "States.ALL" must be the last one in "Retry"'],
      ["States.A.Catch[0].ErrorEquals", 'a catcher with "States.ALL" must be the last one in "Catch"'],
    ]);
  });

  it("for fields and ranges of retriers", () => {
    expect(
      problems(
        machine(
          task({
            Retry: [
              { ErrorEquals: [] },
              {
                ErrorEquals: ["States.Bogus", "", "States.Runtime"],
                IntervalSeconds: 0,
                MaxAttempts: -1,
                BackoffRate: 0.5,
                MaxDelaySeconds: 0,
                JitterStrategy: "HALF",
              },
              { ErrorEquals: ["x"], MaxAttempts: 2.5, Interval: 3 },
              "retry",
            ],
          }),
        ),
      ),
    ).toEqual([
      ["States.A.Retry[0].ErrorEquals", '"ErrorEquals" must not be empty'],
      [
        "States.A.Retry[1].ErrorEquals[0]",
        '"States.Bogus" is not a predefined error name; names starting with "States." are reserved',
      ],
      ["States.A.Retry[1].ErrorEquals[1]", 'error names must be non-empty strings, got ""'],
      [
        "States.A.Retry[1].ErrorEquals[2]",
        '"States.Runtime" can never be retried or caught: it always fails the execution',
      ],
      [
        "States.A.Retry[1].IntervalSeconds",
        '"IntervalSeconds" must be a positive integer no greater than 99999999, got 0',
      ],
      [
        "States.A.Retry[1].MaxAttempts",
        '"MaxAttempts" must be a non-negative integer no greater than 99999999, got -1',
      ],
      [
        "States.A.Retry[1].MaxDelaySeconds",
        '"MaxDelaySeconds" must be a positive integer no greater than 99999999, got 0',
      ],
      ["States.A.Retry[1].BackoffRate", '"BackoffRate" must be a number of at least 1.0, got 0.5'],
      ["States.A.Retry[1].JitterStrategy", '"JitterStrategy" must be "FULL" or "NONE", got "HALF"'],
      ["States.A.Retry[2].Interval", 'unknown field "Interval" in a retrier'],
      [
        "States.A.Retry[2].MaxAttempts",
        '"MaxAttempts" must be a non-negative integer no greater than 99999999, got 2.5',
      ],
      ["States.A.Retry[3]", 'a retrier must be an object, got "retry"'],
    ]);
  });

  it("for catchers", () => {
    expect(
      problems(machine(task({ Catch: [{ ErrorEquals: ["x"] }, { Next: "A", ResultPath: "$.e[0:1]" }] }))),
    ).toEqual([
      ["States.A.Catch[0].Next", '"Next" is required in a catcher'],
      ["States.A.Catch[1].ErrorEquals", '"ErrorEquals" is required in a catcher'],
      [
        "States.A.Catch[1].ResultPath",
        '"ResultPath" must be a reference path (names and indexes only, no "..", "*", slices or filters), got "$.e[0:1]"',
      ],
    ]);
    expect(problems(machine(task({ Retry: {} })))).toEqual([
      ["States.A.Retry", '"Retry" must be an array, got an object'],
    ]);
  });
});

describe("validateDefinition reports Choice problems", () => {
  const choice = (rules: Json, extra: Definition = {}): Definition =>
    machine({ Type: "Choice", Choices: rules, ...extra }, { B: { Type: "Succeed" } });

  it("for rules with no, or more than one, comparison", () => {
    expect(
      problems(
        choice([
          { Variable: "$.x", Next: "B" },
          { Variable: "$.x", StringEquals: "a", NumericEquals: 1, Next: "B" },
          { StringEquals: "a", Next: "B" },
        ]),
      ),
    ).toEqual([
      [
        "States.A.Choices[0]",
        'a choice rule needs a comparison operator such as "StringEquals", "NumericGreaterThan" or "IsPresent"',
      ],
      [
        "States.A.Choices[1]",
        'a choice rule can have only one comparison operator, found "StringEquals" and "NumericEquals"',
      ],
      [
        "States.A.Choices[2].Variable",
        '"Variable" is required in a choice rule without "And", "Or" or "Not"',
      ],
    ]);
  });

  it("for And, Or and Not nesting", () => {
    expect(
      problems(
        choice([
          { And: [], Next: "B" },
          { Or: [{ Variable: "$.x", IsNull: true, Next: "B" }, 7], Next: "B" },
          { Not: [{ Variable: "$.x", IsNull: true }], Next: "B" },
          { And: [{ Variable: "$.x", IsNull: true }], Or: [{ Variable: "$.x", IsNull: true }], Next: "B" },
          { Not: { Variable: "$.x", IsNull: true }, Variable: "$.y", Next: "B" },
          { Not: { Not: { Variable: "$.x" } }, Next: "B" },
        ]),
      ),
    ).toEqual([
      ["States.A.Choices[0].And", '"And" must not be empty'],
      ["States.A.Choices[1].Or[0].Next", 'a choice rule inside "And", "Or" or "Not" cannot have "Next"'],
      ["States.A.Choices[1].Or[1]", "a choice rule must be an object, got 7"],
      ["States.A.Choices[2].Not", '"Not" must be a single choice rule object, got an array'],
      ["States.A.Choices[3].Or", 'a choice rule can have only one of "And", "Or" and "Not"'],
      [
        "States.A.Choices[4]",
        'a choice rule with "Not" cannot also have "Variable" or a comparison operator',
      ],
      [
        "States.A.Choices[5].Not.Not",
        'a choice rule needs a comparison operator such as "StringEquals", "NumericGreaterThan" or "IsPresent"',
      ],
    ]);
  });

  it("for operator values of the wrong type", () => {
    expect(
      problems(
        choice([
          { Variable: "$.x", StringEquals: 1, Next: "B" },
          { Variable: "$.x", NumericLessThan: "1", Next: "B" },
          { Variable: "$.x", BooleanEquals: "true", Next: "B" },
          { Variable: "$.x", TimestampEquals: "yesterday", Next: "B" },
          { Variable: "$.x", IsPresent: "yes", Next: "B" },
          { Variable: "$.x", NumericEqualsPath: 3, Next: "B" },
          { Variable: "$.x", StringEqualsPath: "$.y[", Next: "B" },
          { Variable: "x", StringMatches: "a\\b", Next: "B" },
        ]),
      ),
    ).toEqual([
      ["States.A.Choices[0].StringEquals", '"StringEquals" must be a string, got 1'],
      ["States.A.Choices[1].NumericLessThan", '"NumericLessThan" must be a number, got "1"'],
      ["States.A.Choices[2].BooleanEquals", '"BooleanEquals" must be true or false, got "true"'],
      [
        "States.A.Choices[3].TimestampEquals",
        '"TimestampEquals" must be an RFC 3339 timestamp such as "2016-03-14T01:59:00Z", got "yesterday"',
      ],
      ["States.A.Choices[4].IsPresent", '"IsPresent" must be true or false, got "yes"'],
      ["States.A.Choices[5].NumericEqualsPath", '"NumericEqualsPath" must be a path string, got 3'],
      ["States.A.Choices[6].StringEqualsPath", 'invalid path "$.y[": expected "]" at character 4'],
      ["States.A.Choices[7].Variable", 'invalid path "x": a path must begin with "$" at character 1'],
      [
        "States.A.Choices[7].StringMatches",
        'invalid "StringMatches" pattern: "\\b" is not an escape; only \\* and \\\\ are',
      ],
    ]);
  });

  it("for missing or empty Choices, unknown rule fields and a missing top-level Next", () => {
    expect(problems(machine({ Type: "Choice", Default: "A" }))).toEqual([
      ["States.A.Choices", '"Choices" is required in a Choice state'],
      ["States", 'no state ends the state machine: give a state "End": true, or add a Succeed or Fail state'],
    ]);
    expect(problems(choice([{ Variable: "$.x", IsNull: true, Condition: "{% true %}", Nxt: "B" }]))).toEqual([
      [
        "States.A.Choices[0].Condition",
        '"Condition" is a JSONata field; set "QueryLanguage": "JSONata" on the state or the state machine to use it',
      ],
      ["States.A.Choices[0].Nxt", 'unknown field "Nxt" in a choice rule'],
      ["States.A.Choices[0].Next", '"Next" is required in a top-level choice rule'],
      ["States.B", 'state "B" is unreachable from "StartAt" "A"'],
    ]);
  });
});

describe("validateDefinition reports Wait and Fail problems", () => {
  it("for Wait timing fields", () => {
    expect(
      problems({
        StartAt: "A",
        States: {
          A: { Type: "Wait", End: true },
          B: { Type: "Wait", Seconds: -1, Timestamp: "2016-03-14 01:59:00", End: true },
          C: { Type: "Wait", SecondsPath: "$.s[*]", End: true },
        },
      }),
    ).toEqual([
      ["States.A", 'a Wait state needs one of "Seconds", "SecondsPath", "Timestamp" or "TimestampPath"'],
      [
        "States.B.Timestamp",
        'a Wait state can have only one of "Seconds", "SecondsPath", "Timestamp" and "TimestampPath", found "Seconds" and "Timestamp"',
      ],
      ["States.B.Seconds", '"Seconds" must be a non-negative integer no greater than 99999999, got -1'],
      [
        "States.B.Timestamp",
        '"Timestamp" must be an RFC 3339 timestamp such as "2016-03-14T01:59:00Z", got "2016-03-14 01:59:00"',
      ],
      [
        "States.C.SecondsPath",
        '"SecondsPath" must be a reference path (names and indexes only, no "..", "*", slices or filters), got "$.s[*]"',
      ],
      ["States.B", 'state "B" is unreachable from "StartAt" "A"'],
      ["States.C", 'state "C" is unreachable from "StartAt" "A"'],
    ]);
  });

  it("for Fail fields", () => {
    expect(
      problems(
        machine({ Type: "Fail", Error: "E", ErrorPath: "$.e", Cause: 3, CausePath: "States.Format('{}')" }),
      ),
    ).toEqual([
      ["States.A.ErrorPath", 'a Fail state cannot have both "Error" and "ErrorPath"'],
      ["States.A.CausePath", 'a Fail state cannot have both "Cause" and "CausePath"'],
      ["States.A.Cause", '"Cause" must be a string, got 3'],
      [
        "States.A.CausePath",
        'invalid intrinsic function "States.Format(\'{}\')": States.Format template has 1 "{}" placeholder but 0 values follow at character 1',
      ],
    ]);
    expect(problems(machine({ Type: "Fail", ErrorPath: "$.e[*]" }))).toEqual([
      [
        "States.A.ErrorPath",
        '"ErrorPath" must be a reference path (names and indexes only, no "..", "*", slices or filters), got "$.e[*]"',
      ],
    ]);
  });
});

describe("validateDefinition reports Parallel and Map problems", () => {
  it("validates each branch as a machine of its own", () => {
    expect(
      problems(
        machine({
          Type: "Parallel",
          Branches: [
            { StartAt: "Inner", States: { Inner: { Type: "Pass", Next: "A" } } },
            { StartAt: "Missing", States: { Other: { Type: "Succeed" } }, TimeoutSeconds: 5 },
            "branch",
          ],
          Next: "Inner",
        }),
      ),
    ).toEqual([
      [
        "States.A.Branches[0].States.Inner.Next",
        'state "A" exists only at States.A; a transition cannot enter or leave a Parallel branch or Map item processor',
      ],
      [
        "States.A.Branches[0].States",
        'no state ends a Parallel branch: give a state "End": true, or add a Succeed or Fail state',
      ],
      [
        "States.A.Branches[1].TimeoutSeconds",
        '"TimeoutSeconds" is allowed only at the top level of the definition',
      ],
      ["States.A.Branches[1].StartAt", '"StartAt" must name a state in "States", and there is no "Missing"'],
      [
        "States.A.Branches[2]",
        'a Parallel branch must be an object with "StartAt" and "States", got "branch"',
      ],
      [
        "States.A.Next",
        'state "Inner" exists only at States.A.Branches[0].States.Inner; a transition cannot enter or leave a Parallel branch or Map item processor',
      ],
      ["States", 'no state ends the state machine: give a state "End": true, or add a Succeed or Fail state'],
    ]);
    expect(problems(machine({ Type: "Parallel", Branches: [], End: true }))).toEqual([
      ["States.A.Branches", '"Branches" must not be empty'],
    ]);
  });

  it("checks Map fields", () => {
    const processor = { StartAt: "P", States: { P: { Type: "Succeed" } } };
    expect(
      problems(
        machine({
          Type: "Map",
          ItemProcessor: processor,
          Iterator: processor,
          ItemSelector: {},
          Parameters: {},
          ItemsPath: "$.items[*]",
          MaxConcurrency: -1,
          MaxConcurrencyPath: "$.c",
          ToleratedFailurePercentage: 101,
          ToleratedFailureCount: 1.5,
          ItemReader: {},
          ResultWriter: {},
          End: true,
        }),
      ),
    ).toEqual([
      [
        "States.A.ItemReader",
        '"ItemReader" is not supported: jetflow reads Map items from the state input only',
      ],
      [
        "States.A.ResultWriter",
        '"ResultWriter" is not supported: jetflow returns Map results as the state\'s result only',
      ],
      ["States.A.Iterator", 'a Map state cannot have both "ItemProcessor" and "Iterator"'],
      ["States.A.Parameters", 'a Map state cannot have both "ItemSelector" and "Parameters"'],
      [
        "States.A.ItemsPath",
        '"ItemsPath" must be a reference path (names and indexes only, no "..", "*", slices or filters), got "$.items[*]"',
      ],
      [
        "States.A.MaxConcurrencyPath",
        'a Map state cannot have both "MaxConcurrency" and "MaxConcurrencyPath"',
      ],
      ["States.A.MaxConcurrency", '"MaxConcurrency" must be a non-negative integer, got -1'],
      [
        "States.A.ToleratedFailurePercentage",
        '"ToleratedFailurePercentage" must be a number from 0 to 100, got 101',
      ],
      ["States.A.ToleratedFailureCount", '"ToleratedFailureCount" must be a non-negative integer, got 1.5'],
    ]);
    expect(problems(machine({ Type: "Map", End: true }))).toEqual([
      ["States.A.ItemProcessor", '"ItemProcessor" is required in a Map state'],
    ]);
  });

  it("validates the item processor and its ProcessorConfig", () => {
    expect(
      problems(
        machine({
          Type: "Map",
          ItemProcessor: {
            ProcessorConfig: { Mode: "SIDEWAYS", ExecutionType: "FAST", Extra: 1 },
            StartAt: "P",
            States: { P: { Type: "Pass" } },
          },
          End: true,
        }),
      ),
    ).toEqual([
      ["States.A.ItemProcessor.ProcessorConfig.Extra", 'unknown field "Extra" in "ProcessorConfig"'],
      [
        "States.A.ItemProcessor.ProcessorConfig.Mode",
        '"Mode" must be "INLINE" or "DISTRIBUTED", got "SIDEWAYS"',
      ],
      [
        "States.A.ItemProcessor.ProcessorConfig.ExecutionType",
        '"ExecutionType" must be "STANDARD" or "EXPRESS", got "FAST"',
      ],
      ["States.A.ItemProcessor.States.P", 'a Pass state needs "Next" or "End": true'],
      [
        "States.A.ItemProcessor.States",
        'no state ends a Map item processor: give a state "End": true, or add a Succeed or Fail state',
      ],
    ]);
  });

  it("validates nested Maps and Parallels with their own scopes", () => {
    const inner = (name: string, next: string): Definition => ({
      StartAt: name,
      States: { [name]: { Type: "Pass", Next: next }, [`${name}End`]: { Type: "Succeed" } },
    });
    expect(
      problems(
        machine({
          Type: "Map",
          ItemProcessor: {
            StartAt: "Fan",
            States: {
              Fan: {
                Type: "Parallel",
                Branches: [inner("Left", "LeftEnd"), inner("Right", "LeftEnd")],
                End: true,
              },
            },
          },
          End: true,
        }),
      ),
    ).toEqual([
      [
        "States.A.ItemProcessor.States.Fan.Branches[1].States.Right.Next",
        'state "LeftEnd" exists only at States.A.ItemProcessor.States.Fan.Branches[0].States.LeftEnd; a transition cannot enter or leave a Parallel branch or Map item processor',
      ],
      [
        "States.A.ItemProcessor.States.Fan.Branches[1].States.RightEnd",
        'state "RightEnd" is unreachable from "StartAt" "Right"',
      ],
    ]);
  });
});

describe("validateDefinition enforces limits", () => {
  const nested = (depth: number): Definition => {
    let state: Definition = { Type: "Succeed" };
    for (let i = 0; i < depth; i++)
      state = { Type: "Parallel", Branches: [{ StartAt: `S${i}`, States: { [`S${i}`]: state } }], End: true };
    return machine(state);
  };

  it("on the number of states, counting nested ones", () => {
    const states: Definition = { A: { Type: "Succeed" } };
    for (let i = 0; i < 5; i++) states[`S${i}`] = { Type: "Succeed" };
    expect(problems({ StartAt: "A", States: states }, { maxStates: 5 })).toEqual([
      ["", "the definition has 6 states; the limit is 5"],
    ]);
    expect(problems(nested(3), { maxStates: 3 })).toEqual([
      ["", "the definition has 4 states; the limit is 3"],
    ]);
  });

  it("on nesting depth of Parallel and Map", () => {
    expect(problems(nested(3), { maxNestingDepth: 3 })).toEqual([]);
    expect(problems(nested(4), { maxNestingDepth: 3 })).toEqual([
      [
        "States.A.Branches[0].States.S3.Branches[0].States.S2.Branches[0].States.S1.Branches[0]",
        "Parallel and Map states nest deeper than 3 levels",
      ],
    ]);
  });

  it("on JSON depth, value count and size", () => {
    let deep: Json = 1;
    for (let i = 0; i < 200; i++) deep = [deep];
    expect(problems(machine({ Type: "Pass", Result: deep, End: true }))).toEqual([
      ["", "the definition nests deeper than 128 levels"],
    ]);
    expect(
      problems(machine({ Type: "Pass", Result: Array(100).fill(1), End: true }), { maxNodes: 50 }),
    ).toEqual([["", "the definition holds more than 50 values"]]);
    expect(
      problems(machine({ Type: "Pass", Result: "x".repeat(100), End: true }), { maxDefinitionBytes: 100 }),
    ).toEqual([["", "the definition is 169 bytes as JSON; the limit is 100"]]);
  });

  it("survives hostile shapes", () => {
    expect(
      problems({
        StartAt: "A",
        States: { A: { Type: "Task", Resource: "x", End: true, __proto__: { End: false } } },
      }),
    ).toEqual([]);
    expect(
      problems(JSON.parse('{"StartAt": "A", "States": {"A": {"Type": "Succeed", "__proto__": 1}}}')),
    ).toEqual([["States.A.__proto__", 'unknown field "__proto__" in a Succeed state']]);
    expect(problems({ StartAt: "constructor", States: { A: { Type: "Succeed" } } })).toEqual([
      ["StartAt", '"StartAt" must name a state in "States", and there is no "constructor"'],
    ]);
  });
});
