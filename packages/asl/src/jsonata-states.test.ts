import { chooseRule } from "./choice";
import type { EvaluationEnv } from "./context";
import { effectiveInput, passResult, passThroughOutput, stateOutput } from "./data-flow";
import { StatesError } from "./errors";
import { failDetails } from "./fail";
import type { Json } from "./json";
import { jsonataChoiceOutput } from "./jsonata-states";
import { assertValidDefinition } from "./load";
import { mapItemInput, mapItems, maxConcurrency, toleratedFailures } from "./map";
import { catchOutput } from "./retry";
import { taskTimeouts } from "./task";
import { testEnv } from "./test-env.test-helper";
import type { ChoiceState, FailState, MapState, PassState, State, TaskState, WaitState } from "./types";
import { applyAssignments, catchAssignments, choiceAssignments, stateAssignments } from "./variables";
import { waitUntilMs } from "./wait";

/** Loads a one-state JSONata machine (plus `extra` states) and returns state "A". */
function jsonataState<T extends State>(state: Record<string, Json>, language = "JSONata"): T {
  const terminal = state.Type === "Succeed" || state.Type === "Fail";
  const states = terminal ? { A: state } : { A: state, Z: { Type: "Succeed" } };
  const machine = assertValidDefinition(
    JSON.stringify({ QueryLanguage: language, StartAt: "A", States: states }),
  );
  return machine.States.A as T;
}

const env = (variables: Record<string, Json> = {}): EvaluationEnv => testEnv({ variables, nowMs: 0 });

function failure(run: () => unknown): { error: string; cause: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof StatesError) return { error: err.error, cause: err.cause };
    throw err;
  }
  throw new Error("expected a StatesError");
}

describe("query languages", () => {
  it("loadDefinition gives every state the language it runs with", () => {
    const machine = assertValidDefinition(
      JSON.stringify({
        QueryLanguage: "JSONata",
        StartAt: "P",
        States: {
          P: {
            Type: "Parallel",
            QueryLanguage: "JSONPath",
            Branches: [{ StartAt: "In", States: { In: { Type: "Succeed" } } }],
            Next: "Old",
          },
          Old: { Type: "Pass", QueryLanguage: "JSONPath", End: true },
        },
      }),
    );
    expect(machine.States.P?.QueryLanguage).toBe("JSONPath");
    expect(machine.States.Old?.QueryLanguage).toBe("JSONPath");
    // States inside a branch default to the machine's language, not the Parallel state's.
    const parallel = machine.States.P as { Branches: Array<{ States: Record<string, State> }> };
    expect(parallel.Branches[0]?.States.In?.QueryLanguage).toBe("JSONata");
  });
});

describe("Task, Pass, Parallel and Succeed in JSONata", () => {
  const task = jsonataState<TaskState>({
    Type: "Task",
    Resource: "work",
    Arguments: { who: "{% $states.input.name %}", fixed: 1, v: "{% $greeting %}" },
    Output: { result: "{% $states.result.value %}", input: "{% $states.input.name %}" },
    Next: "Z",
  });

  it("Arguments shapes the task input, from $states.input and variables", () => {
    expect(effectiveInput(task, { name: "Ada" }, env({ greeting: "hi" }))).toEqual({
      who: "Ada",
      fixed: 1,
      v: "hi",
    });
  });

  it("Output shapes the state output from $states.result and $states.input", () => {
    expect(stateOutput(task, { name: "Ada" }, { value: 7 }, env())).toEqual({ result: 7, input: "Ada" });
  });

  it("without Arguments the task gets the input; without Output the state outputs the result", () => {
    const bare = jsonataState<TaskState>({ Type: "Task", Resource: "work", Next: "Z" });
    expect(effectiveInput(bare, { a: 1 }, env())).toEqual({ a: 1 });
    expect(stateOutput(bare, { a: 1 }, { r: 2 }, env())).toEqual({ r: 2 });
  });

  it("Pass and Succeed output their Output, else their input", () => {
    const pass = jsonataState<PassState>({ Type: "Pass", Output: "{% $states.input.a * 2 %}", Next: "Z" });
    expect(passResult(pass, { a: 21 }, env())).toBe(42);
    const plain = jsonataState<PassState>({ Type: "Pass", Next: "Z" });
    expect(passResult(plain, { a: 1 }, env())).toEqual({ a: 1 });
    const succeed = jsonataState<State>({ Type: "Succeed", Output: { done: true } });
    expect(passThroughOutput(succeed, {}, env())).toEqual({ done: true });
  });

  it("TimeoutSeconds and HeartbeatSeconds may be expressions, checked at run time", () => {
    const timed = jsonataState<TaskState>({
      Type: "Task",
      Resource: "work",
      TimeoutSeconds: "{% $states.input.t %}",
      HeartbeatSeconds: 5,
      Next: "Z",
    });
    expect(taskTimeouts(timed, { t: 60 }, env())).toEqual({ timeoutSeconds: 60, heartbeatSeconds: 5 });
    expect(failure(() => taskTimeouts(timed, { t: "60" }, env()))).toEqual({
      error: "States.QueryEvaluationError",
      cause: 'TimeoutSeconds must be an integer from 1 to 99999999, got "60"',
    });
    expect(failure(() => taskTimeouts(timed, { t: 5 }, env())).cause).toBe(
      "HeartbeatSeconds (5) must be shorter than TimeoutSeconds (5)",
    );
  });
});

describe("Choice in JSONata", () => {
  const choice = jsonataState<ChoiceState>({
    Type: "Choice",
    Choices: [
      { Condition: "{% $states.input.n > 10 %}", Next: "Z", Output: "big", Assign: { size: "big" } },
      { Condition: "{% $states.input.n > 5 %}", Next: "Z" },
    ],
    Default: "Z",
    Output: { n: "{% $states.input.n %}" },
    Assign: { seen: "{% $states.input.n %}", size: "unknown" },
  });

  it("takes the first rule whose Condition is true, else Default", () => {
    expect(chooseRule(choice, { n: 11 }, env())).toMatchObject({ next: "Z", ruleIndex: 0 });
    expect(chooseRule(choice, { n: 6 }, env())).toMatchObject({ next: "Z", ruleIndex: 1 });
    expect(chooseRule(choice, { n: 1 }, env())).toEqual({ next: "Z" });
  });

  it("outputs the chosen rule's Output, else the state's", () => {
    expect(jsonataChoiceOutput(choice, { n: 11 }, chooseRule(choice, { n: 11 }, env()), env())).toBe("big");
    expect(jsonataChoiceOutput(choice, { n: 6 }, chooseRule(choice, { n: 6 }, env()), env())).toEqual({
      n: 6,
    });
  });

  it("assigns the state's and the chosen rule's variables, the rule's winning", () => {
    const chosen = chooseRule(choice, { n: 11 }, env());
    expect(choiceAssignments(choice, chosen.rule, chosen.ruleIndex, { n: 11 }, env())).toEqual({
      seen: 11,
      size: "big",
    });
  });

  it("refuses a Condition that is not a boolean", () => {
    const bad = jsonataState<ChoiceState>({ Type: "Choice", Choices: [{ Condition: "{% 1 %}", Next: "Z" }] });
    expect(failure(() => chooseRule(bad, {}, env()))).toEqual({
      error: "States.QueryEvaluationError",
      cause: "Choices[0].Condition: the condition must give a boolean, got 1",
    });
  });
});

describe("Wait, Fail and Map in JSONata", () => {
  it("Wait Seconds and Timestamp may be expressions", () => {
    const seconds = jsonataState<WaitState>({ Type: "Wait", Seconds: "{% $states.input.s %}", Next: "Z" });
    expect(waitUntilMs(seconds, { s: 3 }, 1000, env())).toBe(4000);
    expect(failure(() => waitUntilMs(seconds, { s: -1 }, 0, env())).error).toBe(
      "States.QueryEvaluationError",
    );
    const at = jsonataState<WaitState>({ Type: "Wait", Timestamp: "{% $states.input.at %}", Next: "Z" });
    expect(waitUntilMs(at, { at: "2024-01-01T00:00:00Z" }, 0, env())).toBe(
      Date.parse("2024-01-01T00:00:00Z"),
    );
  });

  it("Fail Error and Cause may be expressions giving strings", () => {
    const fail = jsonataState<FailState>({
      Type: "Fail",
      Error: "{% 'Bad' & $states.input.kind %}",
      Cause: "{% $string($states.input.code) %}",
    });
    expect(failDetails(fail, { kind: "Order", code: 7 }, env())).toEqual({ error: "BadOrder", cause: "7" });
  });

  const map = jsonataState<MapState>({
    Type: "Map",
    Items: "{% $states.input.orders %}",
    ItemSelector: {
      order: "{% $states.context.Map.Item.Value %}",
      index: "{% $states.context.Map.Item.Index %}",
    },
    MaxConcurrency: "{% $states.input.limit %}",
    ToleratedFailureCount: "{% 1 %}",
    ItemProcessor: { StartAt: "In", States: { In: { Type: "Succeed" } } },
    Next: "Z",
  });

  it("Map Items, ItemSelector, MaxConcurrency and tolerated failures may be expressions", () => {
    const input = { orders: ["a", "b"], limit: 2 };
    expect(mapItems(map, input, env())).toEqual(["a", "b"]);
    expect(mapItemInput(map, input, 1, "b", env())).toEqual({ order: "b", index: 1 });
    expect(maxConcurrency(map, input, env())).toBe(2);
    expect(toleratedFailures(map, input, 2, env())).toEqual({ maxFailures: 1 });
    expect(failure(() => mapItems(map, { orders: 5 }, env()))).toEqual({
      error: "States.QueryEvaluationError",
      cause: "Items must give an array or an object, got 5",
    });
  });
});

describe("Assign", () => {
  it("evaluates every value from the variables as they were on entry (JSONata)", () => {
    const pass = jsonataState<PassState>({
      Type: "Pass",
      Assign: { x: "{% $a %}", nextX: "{% $x %}" },
      Next: "Z",
    });
    expect(stateAssignments(pass, {}, undefined, env({ x: 3, a: 6 }))).toEqual({ x: 6, nextX: 3 });
  });

  it("sees $states.result in Task, Map and Parallel states", () => {
    const task = jsonataState<TaskState>({
      Type: "Task",
      Resource: "work",
      Assign: { price: "{% $states.result.price %}", product: "{% $states.input.product %}" },
      Next: "Z",
    });
    expect(stateAssignments(task, { product: "p" }, { price: 3 }, env())).toEqual({ price: 3, product: "p" });
  });

  it("in JSONPath states reads $ as the result after ResultSelector, or the input after InputPath", () => {
    const task = jsonataState<TaskState>(
      {
        Type: "Task",
        Resource: "work",
        ResultSelector: { "total.$": "$.sum" },
        Assign: { "total.$": "$.total", fixed: 1, "when.$": "$$.State.Name" },
        Next: "Z",
      },
      "JSONPath",
    );
    expect(stateAssignments(task, {}, { sum: 9 }, env())).toEqual({ total: 9, fixed: 1, when: "Step" });
    const wait = jsonataState<WaitState>(
      { Type: "Wait", Seconds: 1, InputPath: "$.inner", Assign: { "v.$": "$.v" }, Next: "Z" },
      "JSONPath",
    );
    expect(stateAssignments(wait, { inner: { v: 2 } }, undefined, env())).toEqual({ v: 2 });
  });

  it("in a catcher sees the Error Output", () => {
    const task = jsonataState<TaskState>({
      Type: "Task",
      Resource: "work",
      Catch: [
        {
          ErrorEquals: ["States.ALL"],
          Output: { failed: "{% $states.errorOutput.Error %}", input: "{% $states.input %}" },
          Assign: { lastError: "{% $states.errorOutput.Cause %}" },
          Next: "Z",
        },
      ],
      Next: "Z",
    });
    const errorOutput = { Error: "Boom", Cause: "it broke" };
    expect(catchOutput(task, 0, { a: 1 }, { error: "Boom", cause: "it broke" }, env())).toEqual({
      failed: "Boom",
      input: { a: 1 },
    });
    expect(catchAssignments(task, 0, { a: 1 }, errorOutput, env())).toEqual({ lastError: "it broke" });
  });

  it("refuses a variable larger than 256 KiB and variables adding up to more than the total", () => {
    const pass = jsonataState<PassState>({
      Type: "Pass",
      Assign: { big: "{% $pad('', 262144, 'x') %}" },
      Next: "Z",
    });
    expect(failure(() => stateAssignments(pass, {}, undefined, env())).error).toBe(
      "States.DataLimitExceeded",
    );
    const half = "x".repeat(140 * 1024);
    expect(failure(() => applyAssignments({ a: half }, { b: half })).cause).toMatch(
      /^the workflow variables would add up to \d+ bytes; the limit is 262144$/,
    );
  });
});

describe("variables in JSONPath states", () => {
  const vars = env({ order: { id: "o-1", items: [1, 2] }, limit: 5 });

  it("are read by $name paths in payload templates, intrinsics, Choice rules and Fail paths", () => {
    const pass = jsonataState<PassState>(
      {
        Type: "Pass",
        Parameters: {
          "id.$": "$order.id",
          "count.$": "States.ArrayLength($order.items)",
          "text.$": "States.Format('{} of {}', $order.id, $limit)",
          "not-evaluated": "$order",
        },
        Next: "Z",
      },
      "JSONPath",
    );
    expect(passResult(pass, {}, vars)).toEqual({
      id: "o-1",
      count: 2,
      text: "o-1 of 5",
      "not-evaluated": "$order",
    });
    const choice = jsonataState<ChoiceState>(
      {
        Type: "Choice",
        Choices: [{ Variable: "$limit", NumericGreaterThanPath: "$.n", Next: "Z" }],
        Default: "Z",
      },
      "JSONPath",
    );
    expect(chooseRule(choice, { n: 1 }, vars).ruleIndex).toBe(0);
    expect(chooseRule(choice, { n: 9 }, vars).ruleIndex).toBeUndefined();
    const fail = jsonataState<FailState>({ Type: "Fail", ErrorPath: "$order.id", Cause: "c" }, "JSONPath");
    expect(failDetails(fail, {}, vars)).toEqual({ error: "o-1", cause: "c" });
  });

  it("are read by InputPath, OutputPath, ItemsPath and ...Path settings", () => {
    const task = jsonataState<TaskState>(
      {
        Type: "Task",
        Resource: "work",
        InputPath: "$order",
        TimeoutSecondsPath: "$limit",
        OutputPath: "$order.items",
        Next: "Z",
      },
      "JSONPath",
    );
    expect(effectiveInput(task, {}, vars)).toEqual({ id: "o-1", items: [1, 2] });
    expect(taskTimeouts(task, {}, vars)).toEqual({ timeoutSeconds: 5 });
    expect(stateOutput(task, {}, { r: 1 }, vars)).toEqual([1, 2]);
    const map = jsonataState<MapState>(
      {
        Type: "Map",
        ItemsPath: "$order.items",
        MaxConcurrencyPath: "$limit",
        ItemProcessor: { StartAt: "In", States: { In: { Type: "Succeed" } } },
        Next: "Z",
      },
      "JSONPath",
    );
    expect(mapItems(map, {}, vars)).toEqual([1, 2]);
    expect(maxConcurrency(map, {}, vars)).toBe(5);
    const wait = jsonataState<WaitState>({ Type: "Wait", SecondsPath: "$limit", Next: "Z" }, "JSONPath");
    expect(waitUntilMs(wait, {}, 0, vars)).toBe(5000);
    const missing = jsonataState<PassState>({ Type: "Pass", InputPath: "$nope", Next: "Z" }, "JSONPath");
    expect(failure(() => passResult(missing, {}, vars))).toEqual({
      error: "States.Runtime",
      cause: 'InputPath "$nope" matches nothing in the variable "nope"',
    });
  });

  it("an unknown variable matches nothing", () => {
    const pass = jsonataState<PassState>(
      { Type: "Pass", Parameters: { "x.$": "$nope" }, Next: "Z" },
      "JSONPath",
    );
    expect(failure(() => passResult(pass, {}, vars))).toEqual({
      error: "States.ParameterPathFailure",
      cause: 'cannot resolve field "x.$": path "$nope" matches nothing in the variable "nope"',
    });
  });
});

describe("Map Items as an object", () => {
  it("iterates over the object's values", () => {
    const map = jsonataState<MapState>({
      Type: "Map",
      Items: { a: 1, b: "{% $states.input.b %}" },
      ItemProcessor: { StartAt: "In", States: { In: { Type: "Succeed" } } },
      Next: "Z",
    });
    expect(mapItems(map, { b: 2 }, env())).toEqual([1, 2]);
  });
});
