import { assertValidDefinition } from "@jetflow/asl";
import type { Json, StateMachine } from "@jetflow/asl";
import { ExecutionSnapshot } from "@jetflow/contracts";
import type { HistoryEvent } from "@jetflow/contracts";
import { replay } from "../model";
import { lateness } from "./task";
import { Simulator, statusName } from "../test-support/simulator";
import type { SimulatedHandler } from "../test-support/simulator";

function machine(definition: object): StateMachine {
  return assertValidDefinition(JSON.stringify(definition));
}

function types(events: HistoryEvent[]): string[] {
  return events.map((e) => e.details?.$case ?? "?");
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

const inc: SimulatedHandler = (input) => ({ output: { n: (input as { n: number }).n + 1 } });

/** Every stored snapshot must equal the fold of its own history, batch by batch or all at once. */
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

describe("sequential tasks", () => {
  const def = machine({
    StartAt: "A",
    States: {
      A: { Type: "Task", Resource: "inc", Next: "B" },
      B: { Type: "Task", Resource: "inc", ResultPath: "$.b", Next: "C" },
      C: { Type: "Pass", Parameters: { "total.$": "$.b.n" }, End: true },
    },
  });

  it("runs each task with the previous output and ends with the last state's output", () => {
    const sim = new Simulator(def, { inc });
    sim.run({ n: 1 });
    expect(result(sim)).toEqual({ status: "SUCCEEDED", output: { total: 3 }, error: "", cause: "" });
    expect(sim.dispatched.map((t) => t.input)).toEqual([{ n: 1 }, { n: 2 }]);
    expectSnapshotsAreFolds(sim);
  });

  it("writes a history of consecutive events in the order of the semantics", () => {
    const sim = new Simulator(def, { inc });
    const { events } = sim.run({ n: 1 });
    expect(events.map((e) => e.eventId)).toEqual(events.map((_, i) => i + 1));
    expect(types(events)).toEqual([
      "executionStarted",
      "stateEntered",
      "taskScheduled",
      "taskStarted",
      "taskSucceeded",
      "stateExited",
      "stateEntered",
      "taskScheduled",
      "taskStarted",
      "taskSucceeded",
      "stateExited",
      "stateEntered",
      "stateExited",
      "executionSucceeded",
    ]);
  });

  it("gives every attempt its own token and ignores a duplicate or stale result", () => {
    const sim = new Simulator(def, { inc });
    sim.run({ n: 1 });
    const before = sim.get("exec-1").events.length;
    const first = sim.dispatched[0];
    sim.send({
      executionId: "exec-1",
      kind: {
        $case: "taskOutcome",
        value: {
          taskToken: first?.token ?? "",
          outcome: { $case: "outputJson", value: '{"n":100}' },
          workerId: "late",
          completedTime: undefined,
          receivedTime: undefined,
        },
      },
    });
    expect(sim.get("exec-1").events.length).toBe(before);
    expect(result(sim).output).toEqual({ total: 3 });
  });
});

describe("Choice, Pass, Succeed and Fail", () => {
  const def = machine({
    StartAt: "Route",
    States: {
      Route: {
        Type: "Choice",
        Choices: [
          { Variable: "$.kind", StringEquals: "gift", Next: "Gift" },
          { Variable: "$.amount", NumericGreaterThan: 100, Next: "Reject" },
        ],
        Default: "Done",
      },
      Gift: { Type: "Pass", Result: { wrapped: true }, ResultPath: "$.gift", Next: "Done" },
      Reject: { Type: "Fail", Error: "TooExpensive", Cause: "amount over 100" },
      Done: { Type: "Succeed" },
    },
  });

  it("follows the first matching rule", () => {
    const sim = new Simulator(def, {});
    sim.run({ kind: "gift", amount: 5 });
    expect(result(sim)).toMatchObject({
      status: "SUCCEEDED",
      output: { kind: "gift", amount: 5, gift: { wrapped: true } },
    });
  });

  it("fails with the Fail state's error and cause", () => {
    const sim = new Simulator(def, {});
    sim.run({ kind: "book", amount: 500 });
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "TooExpensive", cause: "amount over 100" });
  });

  it("takes Default when nothing matches", () => {
    const sim = new Simulator(def, {});
    sim.run({ kind: "book", amount: 5 });
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { kind: "book", amount: 5 } });
  });

  it("fails with States.NoChoiceMatched when no rule matches and there is no Default", () => {
    const sim = new Simulator(
      machine({
        StartAt: "C",
        States: {
          C: { Type: "Choice", Choices: [{ Variable: "$.x", IsPresent: true, Next: "D" }] },
          D: { Type: "Succeed" },
        },
      }),
      {},
    );
    sim.run({});
    expect(result(sim).status).toBe("FAILED");
    expect(result(sim).error).toBe("States.NoChoiceMatched");
  });

  it("stops a loop of states that never waits", () => {
    const sim = new Simulator(
      machine({
        StartAt: "A",
        States: {
          A: { Type: "Pass", Next: "B" },
          B: {
            Type: "Choice",
            Choices: [{ Variable: "$.stop", IsPresent: true, Next: "Done" }],
            Default: "A",
          },
          Done: { Type: "Succeed" },
        },
      }),
      {},
    );
    sim.run({});
    expect(result(sim).status).toBe("FAILED");
    expect(result(sim).error).toBe("States.Runtime");
    expect(result(sim).cause).toMatch(/^more than 1000 states were entered/);
  });
});

describe("Retry and Catch", () => {
  it("retries with back-off until the task succeeds", () => {
    const def = machine({
      StartAt: "Pay",
      States: {
        Pay: {
          Type: "Task",
          Resource: "pay",
          Retry: [{ ErrorEquals: ["Flaky"], IntervalSeconds: 2, BackoffRate: 3, MaxAttempts: 3 }],
          End: true,
        },
      },
    });
    const sim = new Simulator(def, {
      pay: (_input, task) =>
        task.attempt < 3 ? { error: "Flaky", cause: `attempt ${task.attempt}` } : { output: "paid" },
    });
    const start = sim.clockMs;
    const { events } = sim.run({});
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: "paid" });
    expect(sim.dispatched.map((t) => t.attempt)).toEqual([1, 2, 3]);
    const delays = events.flatMap((e) =>
      e.details?.$case === "taskRetryScheduled" ? [e.details.value.delayMs] : [],
    );
    expect(delays).toEqual([2000, 6000]);
    expect(sim.clockMs - start).toBe(8000);
    expectSnapshotsAreFolds(sim);
  });

  it("never retries with MaxAttempts 0 and catches instead, placing the error at ResultPath", () => {
    const def = machine({
      StartAt: "Pay",
      States: {
        Pay: {
          Type: "Task",
          Resource: "pay",
          Retry: [{ ErrorEquals: ["States.ALL"], MaxAttempts: 0 }],
          Catch: [{ ErrorEquals: ["Declined"], ResultPath: "$.failure", Next: "Refund" }],
          End: true,
        },
        Refund: { Type: "Pass", End: true },
      },
    });
    const sim = new Simulator(def, { pay: () => ({ error: "Declined", cause: "card expired" }) });
    sim.run({ order: 7 });
    expect(sim.dispatched).toHaveLength(1);
    expect(result(sim)).toMatchObject({
      status: "SUCCEEDED",
      output: { order: 7, failure: { Error: "Declined", Cause: "card expired" } },
    });
  });

  it("fails the execution with the task's error when nothing catches it", () => {
    const def = machine({ StartAt: "T", States: { T: { Type: "Task", Resource: "t", End: true } } });
    const sim = new Simulator(def, { t: () => ({ error: "States.TaskFailed", cause: "boom" }) });
    sim.run({});
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "States.TaskFailed", cause: "boom" });
  });

  it("raises States.Timeout when a task does not finish in TimeoutSeconds, and tells the worker to stop", () => {
    const def = machine({
      StartAt: "Slow",
      States: {
        Slow: {
          Type: "Task",
          Resource: "slow",
          TimeoutSeconds: 5,
          Catch: [{ ErrorEquals: ["States.Timeout"], Next: "Late" }],
          End: true,
        },
        Late: { Type: "Pass", End: true },
      },
    });
    const sim = new Simulator(def, { slow: () => ({ hang: true }) });
    sim.run({});
    expect(result(sim)).toMatchObject({
      status: "SUCCEEDED",
      output: { Error: "States.Timeout", Cause: "task did not finish within 5 seconds" },
    });
    expect(sim.cancelledTasks).toEqual([sim.dispatched[0]?.token]);
  });
});

describe("Wait", () => {
  it("continues when the timer fires, not before", () => {
    const def = machine({
      StartAt: "Pause",
      States: {
        Pause: { Type: "Wait", Seconds: 86400, Next: "After" },
        After: { Type: "Task", Resource: "inc", End: true },
      },
    });
    const sim = new Simulator(def, { inc });
    const start = sim.clockMs;
    sim.run({ n: 1 });
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { n: 2 } });
    expect(sim.clockMs - start).toBe(86_400_000);
  });
});

describe("Parallel", () => {
  it("runs every branch on the same input and outputs their results in branch order", () => {
    const def = machine({
      StartAt: "Both",
      States: {
        Both: {
          Type: "Parallel",
          Branches: [
            { StartAt: "A", States: { A: { Type: "Task", Resource: "inc", End: true } } },
            { StartAt: "B", States: { B: { Type: "Pass", Result: "b", End: true } } },
          ],
          End: true,
        },
      },
    });
    const sim = new Simulator(def, { inc });
    sim.run({ n: 1 });
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: [{ n: 2 }, "b"] });
    expectSnapshotsAreFolds(sim);
  });

  it("fails with a failed branch's error, stops the other branches, and can be caught", () => {
    const def = machine({
      StartAt: "Both",
      States: {
        Both: {
          Type: "Parallel",
          Branches: [
            { StartAt: "A", States: { A: { Type: "Task", Resource: "bad", End: true } } },
            { StartAt: "B", States: { B: { Type: "Task", Resource: "hang", End: true } } },
          ],
          Catch: [{ ErrorEquals: ["Broken"], Next: "Compensate" }],
          End: true,
        },
        Compensate: { Type: "Pass", End: true },
      },
    });
    const sim = new Simulator(def, {
      bad: () => ({ error: "Broken", cause: "x" }),
      hang: () => ({ hang: true }),
    });
    sim.run({});
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { Error: "Broken", Cause: "x" } });
    const others = [...sim.executions.values()].filter(
      (e) => e.snapshot.parent && e.snapshot.parent.index === 1,
    );
    expect(others.map((e) => statusName(e.snapshot.status))).toEqual(["ABORTED"]);
  });
});

describe("Map", () => {
  const def = (extra: object = {}) =>
    machine({
      StartAt: "Each",
      States: {
        Each: {
          Type: "Map",
          ItemsPath: "$.items",
          ItemSelector: { "n.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index" },
          ItemProcessor: { StartAt: "Inc", States: { Inc: { Type: "Task", Resource: "inc", End: true } } },
          ResultPath: "$.results",
          End: true,
          ...extra,
        },
      },
    });

  it("runs the processor per item and outputs the results in item order", () => {
    const sim = new Simulator(def(), { inc });
    sim.run({ items: [10, 20, 30] });
    expect(result(sim)).toMatchObject({
      status: "SUCCEEDED",
      output: { items: [10, 20, 30], results: [{ n: 11 }, { n: 21 }, { n: 31 }] },
    });
    expect(sim.dispatched.map((t) => t.input)).toEqual([
      { n: 10, i: 0 },
      { n: 20, i: 1 },
      { n: 30, i: 2 },
    ]);
    expectSnapshotsAreFolds(sim);
  });

  it("outputs an empty array for no items", () => {
    const sim = new Simulator(def(), { inc });
    sim.run({ items: [] });
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { items: [], results: [] } });
  });

  it("never runs more than MaxConcurrency iterations at once", () => {
    let running = 0;
    let most = 0;
    const sim = new Simulator(def({ MaxConcurrency: 2 }), {
      inc: (input) => {
        running++;
        most = Math.max(most, running);
        return { hang: true, input } as never;
      },
    });
    sim.run({ items: [1, 2, 3, 4, 5] });
    expect(most).toBe(2);
    expect(sim.dispatched).toHaveLength(2);
  });

  it("launches a large map in bounded slices and keeps the parent snapshot small", () => {
    const items = Array.from({ length: 1200 }, (_, i) => i);
    const sim = new Simulator(def(), { inc }, { maxChildrenPerTransition: 500 });
    sim.run({ items });
    const { snapshot, events } = sim.get("exec-1");
    expect(result(sim).status).toBe("SUCCEEDED");
    expect((result(sim).output as { results: { n: number }[] }).results.map((r) => r.n)).toEqual(
      items.map((i) => i + 1),
    );
    expect(types(events).filter((t) => t === "childLaunchPending")).toHaveLength(2);
    // The output holds every result by nature; the rest must not grow with the item count.
    const withoutOutput = ExecutionSnapshot.encode({ ...snapshot, outputJson: "", inputJson: "" }).finish();
    expect(withoutOutput.length).toBeLessThan(1_000);
  });

  it("evaluates a large Map's items once for all its launch slices when the adapter keeps them", () => {
    const items = Array.from({ length: 1600 }, (_, i) => i);
    const kept = new Simulator(def(), { inc }, { maxChildrenPerTransition: 500, rememberRoundItems: true });
    kept.run({ items });
    const plain = new Simulator(def(), { inc }, { maxChildrenPerTransition: 500 });
    plain.run({ items });
    // Four slices: the first evaluates the items itself, the other three ask the adapter once.
    expect(types(kept.get("exec-1").events).filter((t) => t === "childLaunchPending")).toHaveLength(3);
    expect(kept.roundItemsEvaluated).toBe(1);
    expect(result(kept)).toEqual(result(plain));
    expect(kept.dispatched.map((d) => d.input)).toEqual(plain.dispatched.map((d) => d.input));
  });

  it("launches children with large inputs in slices bounded by bytes", () => {
    const big = "x".repeat(100 * 1024);
    const items = Array.from({ length: 12 }, (_, i) => ({ i, big }));
    const sim = new Simulator(
      def({ ItemSelector: { "i.$": "$$.Map.Item.Value.i", "big.$": "$$.Map.Item.Value.big" } }),
      {
        inc: (input) => ({ output: (input as { i: number }).i }),
      },
    );
    sim.run({ items });
    const { events } = sim.get("exec-1");
    expect(result(sim)).toMatchObject({
      status: "SUCCEEDED",
      output: { results: items.map((item) => item.i) },
    });
    // 256 KiB per transition holds three 100 KiB inputs: 12 items need 3 continuations.
    expect(types(events).filter((t) => t === "childLaunchPending")).toHaveLength(3);
  });

  it("tolerates failures up to ToleratedFailureCount", () => {
    const sim = new Simulator(def({ ToleratedFailureCount: 1 }), {
      inc: (input) =>
        (input as { n: number }).n === 2
          ? { error: "Odd", cause: "two" }
          : inc(input, { attempt: 1, token: "", state: "" }),
    });
    sim.run({ items: [1, 2, 3] });
    expect(result(sim)).toMatchObject({
      status: "SUCCEEDED",
      output: { results: [{ n: 2 }, null, { n: 4 }] },
    });
  });

  it("fails with States.ExceedToleratedFailureThreshold beyond the tolerated failures", () => {
    const sim = new Simulator(def({ ToleratedFailureCount: 1 }), {
      inc: () => ({ error: "Nope", cause: "no" }),
    });
    sim.run({ items: [1, 2, 3] });
    expect(result(sim)).toMatchObject({
      status: "FAILED",
      error: "States.ExceedToleratedFailureThreshold",
      cause: "2 of 3 iterations failed, more than the 1 tolerated",
    });
  });

  it("runs a Map nested in a Parallel", () => {
    const sim = new Simulator(
      machine({
        StartAt: "P",
        States: {
          P: {
            Type: "Parallel",
            End: true,
            Branches: [
              {
                StartAt: "M",
                States: {
                  M: {
                    Type: "Map",
                    ItemProcessor: {
                      StartAt: "Inc",
                      States: { Inc: { Type: "Task", Resource: "inc", End: true } },
                    },
                    End: true,
                  },
                },
              },
            ],
          },
        },
      }),
      { inc },
    );
    sim.run([{ n: 1 }, { n: 5 }]);
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: [[{ n: 2 }, { n: 6 }]] });
    expectSnapshotsAreFolds(sim);
  });
});

describe("stopping and timing out", () => {
  const def = machine({
    StartAt: "T",
    TimeoutSeconds: 60,
    States: { T: { Type: "Task", Resource: "hang", End: true } },
  });

  it("aborts a running execution and cancels its task", () => {
    const sim = new Simulator(def, { hang: () => ({ hang: true }) });
    // Run without the execution timeout firing: stop first by sending before settling timers.
    sim.run({}, "exec-1", 0);
    sim.send({
      executionId: "exec-1",
      kind: { $case: "stop", value: { error: "Operator", cause: "no longer needed" } },
    });
    expect(result(sim)).toMatchObject({ status: "ABORTED", error: "Operator", cause: "no longer needed" });
    expect(sim.cancelledTasks).toHaveLength(1);
  });

  it("times out the execution after its TimeoutSeconds", () => {
    const sim = new Simulator(def, { hang: () => ({ hang: true }) });
    sim.run({}, "exec-1", 60);
    expect(result(sim)).toMatchObject({
      status: "TIMED_OUT",
      error: "States.Timeout",
      cause: "execution exceeded its TimeoutSeconds of 60",
    });
  });
});

describe("the context object in branches and iterations", () => {
  it("shows the top-level execution's Id, Input and StartTime inside a Map iteration and a Parallel branch", () => {
    const def = machine({
      StartAt: "Later",
      States: {
        // A Wait first, so that a child's own start time differs from the execution's.
        Later: { Type: "Wait", Seconds: 10, Next: "Each" },
        Each: {
          Type: "Map",
          ItemsPath: "$.items",
          ItemSelector: {
            "tag.$": "$$.Execution.Input.tag",
            "id.$": "$$.Execution.Id",
            "v.$": "$$.Map.Item.Value",
          },
          ItemProcessor: {
            StartAt: "Inside",
            States: {
              Inside: {
                Type: "Parallel",
                Branches: [
                  {
                    StartAt: "Look",
                    States: {
                      Look: {
                        Type: "Pass",
                        Parameters: {
                          "tag.$": "$$.Execution.Input.tag",
                          "id.$": "$$.Execution.Id",
                          "name.$": "$$.Execution.Name",
                          "start.$": "$$.Execution.StartTime",
                          "machine.$": "$$.StateMachine.Name",
                        },
                        End: true,
                      },
                    },
                  },
                ],
                End: true,
              },
            },
          },
          End: true,
        },
      },
    });
    const sim = new Simulator(def, {});
    const startedAt = new Date(sim.clockMs).toISOString();
    sim.run({ tag: "blue", items: [1, 2] });
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED" });
    const top = { tag: "blue", id: "exec-1", name: "exec-1", start: startedAt, machine: "wf" };
    expect(result(sim).output).toEqual([[top], [top]]);
    expectSnapshotsAreFolds(sim);
  });
});

describe("results that arrive after their task's deadline", () => {
  const def = (task: object) =>
    machine({
      StartAt: "Work",
      States: {
        Work: {
          Type: "Task",
          Resource: "slow",
          ...task,
          Catch: [{ ErrorEquals: ["States.Timeout", "States.HeartbeatTimeout"], Next: "Late" }],
          End: true,
        },
        Late: { Type: "Pass", End: true },
      },
    });

  /** Runs until the task is dispatched, then delivers its result as received at `receivedOffsetMs`. */
  function deliver(sim: Simulator, receivedOffsetMs: number) {
    sim.run({});
    const task = sim.dispatched[0];
    const scheduledMs = sim
      .get("exec-1")
      .events.find((e) => e.details?.$case === "taskScheduled")
      ?.timestamp?.getTime();
    sim.send({
      executionId: "exec-1",
      kind: {
        $case: "taskOutcome",
        value: {
          taskToken: task?.token ?? "",
          outcome: { $case: "outputJson", value: '{"done":true}' },
          workerId: "w",
          completedTime: undefined,
          receivedTime: new Date((scheduledMs ?? 0) + receivedOffsetMs),
        },
      },
    });
  }

  it("times the task out when the result was received after TimeoutSeconds, whatever order they arrive in", () => {
    const sim = new Simulator(
      def({ TimeoutSeconds: 1 }),
      { slow: () => ({ hang: true }) },
      { holdTimers: true },
    );
    // The result reaches the orchestrator before the timeout timer does, but was received late.
    deliver(sim, 1_005);
    sim.fireTimers();
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { Error: "States.Timeout" } });
    const types_ = types(sim.get("exec-1").events);
    expect(types_).toContain("taskTimedOut");
    expect(types_).not.toContain("taskSucceeded");
  });

  it("accepts a result received before the deadline", () => {
    const sim = new Simulator(
      def({ TimeoutSeconds: 1 }),
      { slow: () => ({ hang: true }) },
      { holdTimers: true },
    );
    deliver(sim, 999);
    // The timeout timer, fired afterwards, finds the task finished.
    sim.fireTimers();
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { done: true } });
  });

  it("applies HeartbeatSeconds to a result received with no heartbeat in time", () => {
    const sim = new Simulator(
      def({ HeartbeatSeconds: 2 }),
      { slow: () => ({ hang: true }) },
      { holdTimers: true },
    );
    deliver(sim, 2_500);
    expect(result(sim)).toMatchObject({ output: { Error: "States.HeartbeatTimeout" } });
  });
});

describe("lateness", () => {
  const scheduled = new Date("2030-01-01T00:00:00Z");
  const task = {
    taskToken: "e.3",
    activity: "a",
    scheduledTime: scheduled,
    timeoutSeconds: 0,
    heartbeatSeconds: 10,
  };
  const outcomeAt = (ms: number) => ({
    taskToken: "e.3",
    outcome: undefined,
    workerId: "",
    completedTime: undefined,
    receivedTime: new Date(scheduled.getTime() + ms),
  });

  it("counts from the last heartbeat when one was recorded", () => {
    const beatAt = scheduled.getTime() + 8_000;
    expect(lateness(task, outcomeAt(15_000), { lastHeartbeatMs: () => beatAt })).toBeUndefined();
    expect(lateness(task, outcomeAt(18_001), { lastHeartbeatMs: () => beatAt })?.error).toBe(
      "States.HeartbeatTimeout",
    );
  });

  it("decides nothing when the receipt time is unknown", () => {
    expect(lateness(task, { ...outcomeAt(0), receivedTime: undefined }, {})).toBeUndefined();
  });
});
