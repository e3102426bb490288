import { assertValidDefinition } from "@jetflow/asl";
import type { Json, StateMachine } from "@jetflow/asl";
import { ExecutionSnapshot } from "@jetflow/contracts";
import { replay } from "../model";
import { Simulator, statusName } from "../test-support/simulator";

function machine(definition: object): StateMachine {
  return assertValidDefinition(JSON.stringify(definition));
}

function result(sim: Simulator, id = "exec-1") {
  const { snapshot } = sim.get(id);
  return {
    status: statusName(snapshot.status),
    output: snapshot.outputJson ? (JSON.parse(snapshot.outputJson) as Json) : undefined,
    error: snapshot.error,
    cause: snapshot.cause,
  };
}

function expectSnapshotsAreFolds(sim: Simulator): void {
  for (const { snapshot, events } of sim.executions.values()) {
    const rebuilt = replay([
      {
        batch: { executionId: snapshot.executionId, events, parent: snapshot.parent },
        seq: snapshot.lastEventSeq,
      },
    ]);
    expect(ExecutionSnapshot.toJSON(rebuilt as ExecutionSnapshot)).toEqual(
      ExecutionSnapshot.toJSON(snapshot),
    );
  }
}

describe("JSONata states through the engine", () => {
  it("runs Arguments and Output around a task, with $states.input and $states.result", () => {
    const def = machine({
      QueryLanguage: "JSONata",
      StartAt: "Price",
      States: {
        Price: {
          Type: "Task",
          Resource: "price",
          Arguments: { sku: "{% $states.input.sku %}" },
          Output: { sku: "{% $states.input.sku %}", total: "{% $states.result.price * $states.input.qty %}" },
          TimeoutSeconds: "{% $states.input.qty * 10 %}",
          End: true,
        },
      },
    });
    const sim = new Simulator(def, { price: () => ({ output: { price: 2.5 } }) });
    const { events } = sim.run({ sku: "A-1", qty: 4 });
    expect(sim.dispatched.map((t) => t.input)).toEqual([{ sku: "A-1" }]);
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { sku: "A-1", total: 10 } });
    const scheduled = events.find((e) => e.details?.$case === "taskScheduled");
    expect(scheduled?.details?.$case === "taskScheduled" && scheduled.details.value.timeoutSeconds).toBe(40);
  });

  it("a JSONata error in Arguments is States.QueryEvaluationError, caught by Catch with $states.errorOutput", () => {
    const def = machine({
      QueryLanguage: "JSONata",
      StartAt: "Work",
      States: {
        Work: {
          Type: "Task",
          Resource: "work",
          Arguments: "{% $states.input.a + $states.input.b %}",
          Catch: [
            {
              ErrorEquals: ["States.QueryEvaluationError"],
              Output: { caught: "{% $states.errorOutput.Error %}" },
              Assign: { why: "{% $states.errorOutput.Cause %}" },
              Next: "Done",
            },
          ],
          End: true,
        },
        Done: {
          Type: "Pass",
          Output: { caught: "{% $states.input.caught %}", why: "{% $why %}" },
          End: true,
        },
      },
    });
    const sim = new Simulator(def, { work: () => ({ output: 1 }) });
    sim.run({ a: 1, b: "x" });
    expect(sim.dispatched).toEqual([]);
    const out = result(sim);
    expect(out.status).toBe("SUCCEEDED");
    expect(out.output).toMatchObject({ caught: "States.QueryEvaluationError" });
    expect((out.output as { why: string }).why).toBe(
      'Arguments: The right side of the "+" operator must evaluate to a number (T2002)',
    );
    expectSnapshotsAreFolds(sim);
  });

  it("a JSONata error in a Choice fails the execution with States.QueryEvaluationError", () => {
    const def = machine({
      QueryLanguage: "JSONata",
      StartAt: "C",
      States: {
        C: { Type: "Choice", Choices: [{ Condition: "{% $states.input.n %}", Next: "D" }], Default: "D" },
        D: { Type: "Succeed" },
      },
    });
    const sim = new Simulator(def, {});
    sim.run({ n: 3 });
    expect(result(sim)).toEqual({
      status: "FAILED",
      output: undefined,
      error: "States.QueryEvaluationError",
      cause: "Choices[0].Condition: the condition must give a boolean, got 3",
    });
  });
});

describe("variables through the engine", () => {
  it("assigns after the state, from the values on entry, and keeps them in the snapshot", () => {
    const def = machine({
      StartAt: "Init",
      States: {
        Init: { Type: "Pass", QueryLanguage: "JSONata", Assign: { x: 3, a: 6 }, Next: "Swap" },
        Swap: {
          Type: "Pass",
          QueryLanguage: "JSONata",
          Assign: { x: "{% $a %}", nextX: "{% $x %}" },
          Next: "Count",
        },
        Count: {
          Type: "Task",
          Resource: "inc",
          Parameters: { "n.$": "$x" },
          Assign: { "counted.$": "$.n" },
          Next: "Show",
        },
        Show: {
          Type: "Pass",
          Parameters: { "x.$": "$x", "nextX.$": "$nextX", "counted.$": "$counted" },
          End: true,
        },
      },
    });
    const sim = new Simulator(def, { inc: (input) => ({ output: { n: (input as { n: number }).n + 1 } }) });
    const { events } = sim.run({});
    expect(sim.dispatched.map((t) => t.input)).toEqual([{ n: 6 }]);
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { x: 6, nextX: 3, counted: 7 } });
    expect(JSON.parse(sim.get("exec-1").snapshot.variablesJson ?? "{}")).toEqual({
      x: 6,
      a: 6,
      nextX: 3,
      counted: 7,
    });
    const assigned = events.flatMap((e) =>
      e.details?.$case === "stateExited" && e.details.value.assignedJson !== undefined
        ? [JSON.parse(e.details.value.assignedJson) as Json]
        : [],
    );
    expect(assigned).toEqual([{ x: 3, a: 6 }, { x: 6, nextX: 3 }, { counted: 7 }]);
    expectSnapshotsAreFolds(sim);
  });

  it("Map iterations and Parallel branches read outer variables; their own stay inside", () => {
    const def = machine({
      QueryLanguage: "JSONata",
      StartAt: "Init",
      States: {
        Init: { Type: "Pass", Assign: { prefix: "item-", factor: 10 }, Next: "Each" },
        Each: {
          Type: "Map",
          Items: "{% $states.input.items %}",
          ItemProcessor: {
            StartAt: "Name",
            States: {
              Name: { Type: "Pass", Assign: { mine: "{% $prefix & $states.input %}" }, Next: "Out" },
              Out: { Type: "Pass", Output: "{% $mine %}", End: true },
            },
          },
          Assign: { names: "{% $states.result %}" },
          Next: "Both",
        },
        Both: {
          Type: "Parallel",
          Branches: [
            { StartAt: "B0", States: { B0: { Type: "Pass", Output: "{% $factor * 2 %}", End: true } } },
            {
              StartAt: "B1",
              States: {
                B1: { Type: "Pass", Assign: { local: 1 }, Next: "B1b" },
                B1b: { Type: "Pass", Output: "{% $count($names) + $local %}", End: true },
              },
            },
          ],
          Output: { names: "{% $names %}", results: "{% $states.result %}", mine: "{% $exists($mine) %}" },
          End: true,
        },
      },
    });
    const sim = new Simulator(def, {});
    sim.run({ items: ["a", "b"] });
    expect(result(sim)).toMatchObject({
      status: "SUCCEEDED",
      output: { names: ["item-a", "item-b"], results: [20, 3], mine: false },
    });
    expectSnapshotsAreFolds(sim);
  });

  it("a JSONPath Catch assigns from the Error Output", () => {
    const def = machine({
      StartAt: "Pay",
      States: {
        Pay: {
          Type: "Task",
          Resource: "pay",
          Catch: [
            {
              ErrorEquals: ["Declined"],
              Assign: { "reason.$": "$.Cause" },
              ResultPath: null,
              Next: "Report",
            },
          ],
          End: true,
        },
        Report: { Type: "Pass", Parameters: { "reason.$": "$reason", "order.$": "$.order" }, End: true },
      },
    });
    const sim = new Simulator(def, { pay: () => ({ error: "Declined", cause: "card expired" }) });
    sim.run({ order: 7 });
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { reason: "card expired", order: 7 } });
  });

  it("fails with States.DataLimitExceeded when the variables outgrow their limit", () => {
    const def = machine({
      QueryLanguage: "JSONata",
      StartAt: "A",
      States: {
        A: { Type: "Pass", Assign: { a: "{% $pad('', 200000, 'x') %}" }, Next: "B" },
        B: { Type: "Pass", Assign: { b: "{% $pad('', 200000, 'y') %}" }, End: true },
      },
    });
    const sim = new Simulator(def, {});
    sim.run({});
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "States.DataLimitExceeded" });
  });
});

describe("a round's shared inputs", () => {
  it("evaluates a Map's Items the same way in every launch slice, even with $random()", () => {
    const def = machine({
      QueryLanguage: "JSONata",
      StartAt: "Each",
      States: {
        Each: {
          Type: "Map",
          Items: "{% $shuffle([1, 2, 3, 4, 5, 6]) %}",
          MaxConcurrency: 1,
          ItemProcessor: { StartAt: "Echo", States: { Echo: { Type: "Task", Resource: "echo", End: true } } },
          End: true,
        },
      },
    });
    let draws = 0;
    const sim = new Simulator(
      def,
      { echo: (input) => ({ output: input }) },
      { random: () => (++draws % 7) / 7 },
    );
    sim.run({});
    const out = result(sim);
    expect(out.status).toBe("SUCCEEDED");
    expect([...(out.output as number[])].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sim.dispatched.map((t) => t.input)).toEqual(out.output);
  });
});
