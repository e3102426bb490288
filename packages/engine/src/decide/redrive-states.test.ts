/**
 * Redrive resuming at each kind of state an execution can end unsuccessfully in (issue 17): Wait,
 * Choice, Pass, Fail, JSONata states, variables, and a Task nested in a Parallel in a Map. The
 * Task, Map and Parallel basics are in redrive.test.ts. Step Functions' behaviour per state:
 * https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html#redrive-behavior-states
 */
import { assertValidDefinition } from "@jetflow/asl";
import type { Json, StateMachine } from "@jetflow/asl";
import { ExecutionSnapshot } from "@jetflow/contracts";
import type { HistoryEvent } from "@jetflow/contracts";
import { replay } from "../model";
import { Simulator, statusName } from "../test-support/simulator";
import type { SimulatedHandler } from "../test-support/simulator";
import { notRedrivableReason } from "./redrive";

function machine(definition: object): StateMachine {
  return assertValidDefinition(JSON.stringify(definition));
}

/** Each event as "type" or "type:state" (for the events a state records). */
function described(events: readonly HistoryEvent[]): string[] {
  return events.map((e) => {
    const type = e.details?.$case ?? "?";
    return e.stateName ? `${type}:${e.stateName}` : type;
  });
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

/** Every stored snapshot must equal the fold of its own history. */
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

/** Redrives `id` and returns the events it appended (from `ExecutionRedriven` on). */
function redriveAndCollect(sim: Simulator, id = "exec-1"): HistoryEvent[] {
  const before = sim.get(id).events.length;
  sim.redrive(id);
  const { events } = sim.get(id);
  // The history is kept: only appended to, with consecutive ids.
  expect(events.map((e) => e.eventId)).toEqual(events.map((_, i) => i + 1));
  return events.slice(before);
}

/** A handler recording its inputs, answering `fn(input)`. */
function recording(fn: (input: Json) => Json = (input) => input) {
  const calls: Json[] = [];
  const handler: SimulatedHandler = (input) => {
    calls.push(input);
    return { output: fn(input) };
  };
  return { calls, handler };
}

const SECOND = 1000;

describe("redrive of a Wait state", () => {
  const def = machine({
    StartAt: "A",
    States: {
      A: { Type: "Task", Resource: "a", Next: "Pause" },
      Pause: { Type: "Wait", Seconds: 100, Next: "B" },
      B: { Type: "Task", Resource: "b", End: true },
    },
  });

  it("stopped while waiting: re-enters the Wait, which waits its full Seconds again", () => {
    const a = recording();
    const b = recording((input) => ({ ...(input as object), b: true }));
    const sim = new Simulator(def, { a: a.handler, b: b.handler }, { holdTimers: true });
    const t0 = sim.clockMs;
    sim.run({ n: 1 });
    sim.clockMs = t0 + 40 * SECOND;
    sim.send({ executionId: "exec-1", kind: { $case: "stop", value: { error: "Stopped", cause: "" } } });
    expect(result(sim).status).toBe("ABORTED");
    expect(sim.get("exec-1").snapshot.redriveState?.name).toBe("Pause");

    sim.clockMs = t0 + 60 * SECOND;
    const appended = redriveAndCollect(sim);
    expect(described(appended)).toEqual(["executionRedriven", "stateEntered:Pause", "waitStarted:Pause"]);
    // The full 100 seconds again, counted from the redrive (not what was left of the first wait).
    expect(appended[2]?.details).toMatchObject({
      $case: "waitStarted",
      value: { fireTime: new Date(t0 + 160 * SECOND) },
    });
    expect(appended[1]?.details).toMatchObject({ value: { inputJson: '{"n":1}' } });
    expect(result(sim).status).toBe("RUNNING");

    // The first wait's timer (due at t0 + 100s) fires first: it must not end the new wait.
    sim.fireTimers();
    const { events } = sim.get("exec-1");
    const finished = events.filter((e) => e.details?.$case === "waitFinished");
    expect(finished.map((e) => e.timestamp)).toEqual([new Date(t0 + 160 * SECOND)]);
    expect(described(events.slice(events.length - 8))).toEqual([
      "waitFinished:Pause",
      "stateExited:Pause",
      "stateEntered:B",
      "taskScheduled:B",
      "taskStarted:B",
      "taskSucceeded:B",
      "stateExited:B",
      "executionSucceeded",
    ]);
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { n: 1, b: true } });
    expect(a.calls).toHaveLength(1);
    expect(sim.get("exec-1").snapshot.redriveCount).toBe(1);
    expectSnapshotsAreFolds(sim);
  });

  it("timed out while waiting: re-enters the Wait with the execution timeout counting again", () => {
    // A fails once and is retried after 40s, so the 30s Wait is cut short by the 60s timeout.
    const timed = machine({
      StartAt: "A",
      States: {
        A: {
          Type: "Task",
          Resource: "a",
          Retry: [{ ErrorEquals: ["Flaky"], IntervalSeconds: 40, MaxAttempts: 1 }],
          Next: "Pause",
        },
        Pause: { Type: "Wait", Seconds: 30, Next: "B" },
        B: { Type: "Task", Resource: "b", End: true },
      },
    });
    let aCalls = 0;
    const b = recording();
    const sim = new Simulator(timed, {
      a: (input) => (++aCalls === 1 ? { error: "Flaky" } : { output: input }),
      b: b.handler,
    });
    const t0 = sim.clockMs;
    sim.run({ n: 1 }, "exec-1", 60);
    expect(result(sim)).toMatchObject({ status: "TIMED_OUT", error: "States.Timeout" });
    expect(sim.get("exec-1").snapshot.redriveState?.name).toBe("Pause");
    expect(b.calls).toHaveLength(0);

    const redriveAt = sim.clockMs;
    expect(redriveAt).toBe(t0 + 70 * SECOND); // the stale Wait timer advanced the clock
    const appended = redriveAndCollect(sim);
    expect(described(appended.slice(0, 3))).toEqual([
      "executionRedriven",
      "stateEntered:Pause",
      "waitStarted:Pause",
    ]);
    expect(appended[0]?.details).toMatchObject({
      value: { redriveCount: 1, stateName: "Pause", timeoutSeconds: 60 },
    });
    expect(appended[2]?.details).toMatchObject({ value: { fireTime: new Date(redriveAt + 30 * SECOND) } });
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { n: 1 } });
    expect(aCalls).toBe(2);
    expect(b.calls).toEqual([{ n: 1 }]);
    expectSnapshotsAreFolds(sim);
  });

  it("a Wait until a Timestamp that has passed by the redrive is left at once (as in Step Functions)", () => {
    const until = machine({
      StartAt: "Pause",
      States: {
        Pause: { Type: "Wait", TimestampPath: "$.at", Next: "B" },
        B: { Type: "Task", Resource: "b", End: true },
      },
    });
    const b = recording();
    const sim = new Simulator(until, { b: b.handler }, { holdTimers: true });
    const at = new Date(sim.clockMs + 100 * SECOND).toISOString();
    sim.run({ at });
    sim.send({ executionId: "exec-1", kind: { $case: "stop", value: { error: "Stopped", cause: "" } } });
    expect(result(sim).status).toBe("ABORTED");
    sim.clockMs += 200 * SECOND;
    const appended = redriveAndCollect(sim);
    expect(described(appended)).toEqual([
      "executionRedriven",
      "stateEntered:Pause",
      "stateExited:Pause",
      "stateEntered:B",
      "taskScheduled:B",
      "taskStarted:B",
      "taskSucceeded:B",
      "stateExited:B",
      "executionSucceeded",
    ]);
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { at } });
    expectSnapshotsAreFolds(sim);
  });
});

describe("redrive of a Choice state", () => {
  it("re-evaluates the rules: with the same input it fails again the same way, and counts the redrive", () => {
    const def = machine({
      StartAt: "A",
      States: {
        A: { Type: "Task", Resource: "a", Next: "Route" },
        Route: {
          Type: "Choice",
          Choices: [{ Variable: "$.kind", StringEquals: "known", Next: "Done" }],
        },
        Done: { Type: "Succeed" },
      },
    });
    const a = recording();
    const sim = new Simulator(def, { a: a.handler });
    sim.run({ kind: "other" });
    const failure = result(sim);
    expect(failure).toMatchObject({ status: "FAILED", error: "States.NoChoiceMatched" });
    expect(notRedrivableReason(sim.get("exec-1").snapshot, new Date(sim.clockMs))).toBeUndefined();

    for (const count of [1, 2]) {
      const appended = redriveAndCollect(sim);
      expect(described(appended)).toEqual(["executionRedriven", "stateEntered:Route", "executionFailed"]);
      expect(appended[0]?.details).toMatchObject({ value: { redriveCount: count, stateName: "Route" } });
      expect(appended[1]?.details).toMatchObject({ value: { inputJson: '{"kind":"other"}' } });
      expect(result(sim)).toEqual(failure);
      expect(sim.get("exec-1").snapshot.redriveCount).toBe(count);
      expect(sim.get("exec-1").snapshot.redriveState?.name).toBe("Route");
    }
    expect(a.calls).toHaveLength(1);
    expectSnapshotsAreFolds(sim);
  });

  it("a rule on the context object (the redrive count) can choose differently after a redrive", () => {
    const def = machine({
      StartAt: "Route",
      States: {
        Route: {
          Type: "Choice",
          Choices: [{ Variable: "$$.Execution.RedriveCount", NumericGreaterThan: 0, Next: "Done" }],
        },
        Done: { Type: "Pass", Result: "chosen", End: true },
      },
    });
    const sim = new Simulator(def, {});
    sim.run({});
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "States.NoChoiceMatched" });
    const appended = redriveAndCollect(sim);
    expect(described(appended)).toEqual([
      "executionRedriven",
      "stateEntered:Route",
      "stateExited:Route",
      "stateEntered:Done",
      "stateExited:Done",
      "executionSucceeded",
    ]);
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: "chosen" });
    expectSnapshotsAreFolds(sim);
  });

  it("a Choice that failed on a path error fails again on redrive", () => {
    const def = machine({
      StartAt: "Route",
      States: {
        Route: {
          Type: "Choice",
          Choices: [{ Variable: "$.missing", NumericEquals: 1, Next: "Done" }],
        },
        Done: { Type: "Succeed" },
      },
    });
    const sim = new Simulator(def, {});
    sim.run({ n: 1 });
    const failure = result(sim);
    expect(failure).toMatchObject({ status: "FAILED", error: "States.Runtime" });
    expect(failure.cause).toMatch(/"\$\.missing" matches nothing/);
    const appended = redriveAndCollect(sim);
    expect(described(appended)).toEqual(["executionRedriven", "stateEntered:Route", "executionFailed"]);
    expect(result(sim)).toEqual(failure);
    expect(sim.get("exec-1").snapshot.redriveCount).toBe(1);
    expectSnapshotsAreFolds(sim);
  });
});

describe("an execution that ended between states", () => {
  it("a Pass/Choice loop stopped by the guard on states per transition is not redrivable", () => {
    const def = machine({
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
    });
    const sim = new Simulator(def, {});
    sim.run({});
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "States.Runtime" });
    const { snapshot, events } = sim.get("exec-1");
    expect(snapshot.redriveState).toBeUndefined();
    expect(notRedrivableReason(snapshot, new Date(sim.clockMs))).toMatch(/no state to resume/);
    // A redrive command (were one sent anyway) is ignored.
    sim.redrive();
    expect(sim.get("exec-1").events).toHaveLength(events.length);
  });
});

describe("redrive of a Pass state", () => {
  it("a Pass that failed on a path re-enters the Pass with its input (and fails the same way again)", () => {
    const def = machine({
      StartAt: "A",
      States: {
        A: { Type: "Task", Resource: "a", Next: "Shape" },
        Shape: { Type: "Pass", Parameters: { "x.$": "$.missing" }, Next: "B" },
        B: { Type: "Task", Resource: "b", End: true },
      },
    });
    const a = recording((input) => ({ ...(input as object), a: 1 }));
    const b = recording();
    const sim = new Simulator(def, { a: a.handler, b: b.handler });
    sim.run({ n: 1 });
    const failure = result(sim);
    expect(failure).toMatchObject({ status: "FAILED", error: "States.ParameterPathFailure" });
    expect(failure.cause).toMatch(/\$\.missing/);
    const appended = redriveAndCollect(sim);
    expect(described(appended)).toEqual(["executionRedriven", "stateEntered:Shape", "executionFailed"]);
    expect(appended[1]?.details).toMatchObject({ value: { inputJson: '{"n":1,"a":1}' } });
    expect(result(sim)).toEqual(failure);
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(0);
    expectSnapshotsAreFolds(sim);
  });

  it("a Pass whose Parameters read the redrive count gets past its failure after a redrive", () => {
    const def = machine({
      StartAt: "Shape",
      States: {
        // Parses texts[RedriveCount]: the first is not JSON, the second is.
        Shape: {
          Type: "Pass",
          Parameters: {
            "x.$": "States.StringToJson(States.ArrayGetItem($.texts, $$.Execution.RedriveCount))",
          },
          End: true,
        },
      },
    });
    const sim = new Simulator(def, {});
    sim.run({ texts: ["{not json", '{"ok":1}'] });
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "States.IntrinsicFailure" });
    const appended = redriveAndCollect(sim);
    expect(described(appended)).toEqual([
      "executionRedriven",
      "stateEntered:Shape",
      "stateExited:Shape",
      "executionSucceeded",
    ]);
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { x: { ok: 1 } } });
    expectSnapshotsAreFolds(sim);
  });
});

describe("redrive of an execution failed by a Fail state", () => {
  const def = machine({
    StartAt: "Work",
    States: {
      Work: {
        Type: "Task",
        Resource: "work",
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "GiveUp" }],
        End: true,
      },
      GiveUp: { Type: "Fail", ErrorPath: "$.error.Error", Cause: "gave up" },
    },
  });

  it("re-enters the Fail state and fails again, without running the caught Task again", () => {
    let broken = true;
    const calls: Json[] = [];
    const sim = new Simulator(def, {
      work: (input) => {
        calls.push(input);
        return broken ? { error: "Broken", cause: "x" } : { output: input };
      },
    });
    sim.run({ n: 1 });
    const failure = result(sim);
    expect(failure).toEqual({ status: "FAILED", output: undefined, error: "Broken", cause: "gave up" });
    expect(sim.get("exec-1").snapshot.redriveState?.name).toBe("GiveUp");
    expect(notRedrivableReason(sim.get("exec-1").snapshot, new Date(sim.clockMs))).toBeUndefined();

    broken = false;
    const appended = redriveAndCollect(sim);
    expect(described(appended)).toEqual(["executionRedriven", "stateEntered:GiveUp", "executionFailed"]);
    expect(appended[0]?.details).toMatchObject({ value: { redriveCount: 1, stateName: "GiveUp" } });
    // The Fail state's input is what the Catch made of the error: its Error is read from it again.
    expect(appended[1]?.details).toMatchObject({
      value: { inputJson: JSON.stringify({ n: 1, error: { Error: "Broken", Cause: "x" } }) },
    });
    expect(result(sim)).toEqual(failure);
    expect(calls).toHaveLength(1);
    expect(sim.get("exec-1").snapshot.redriveCount).toBe(1);
    expectSnapshotsAreFolds(sim);
  });
});

describe("redrive of nested states", () => {
  it("a Fail state in a Map iteration fails it again; the iterations stopped while waiting wait again", () => {
    const def = machine({
      StartAt: "Fan",
      States: {
        Fan: {
          Type: "Map",
          ItemsPath: "$.items",
          ItemProcessor: {
            StartAt: "Check",
            States: {
              Check: {
                Type: "Choice",
                Choices: [{ Variable: "$", NumericEquals: 2, Next: "Bad" }],
                Default: "Pause",
              },
              Bad: { Type: "Fail", Error: "Two", Cause: "item 2" },
              Pause: { Type: "Wait", Seconds: 10, End: true },
            },
          },
          End: true,
        },
      },
    });
    const sim = new Simulator(def, {}, { holdTimers: true });
    sim.run({ items: [1, 2, 3] });
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "Two", cause: "item 2" });
    const child = (index: number) => sim.get(`exec-1_3_${index}`);
    expect([0, 1, 2].map((i) => statusName(child(i).snapshot.status))).toEqual([
      "ABORTED",
      "FAILED",
      "ABORTED",
    ]);
    const lengths = [0, 1, 2].map((i) => child(i).events.length);

    const appended = redriveAndCollect(sim);
    expect(described(appended)).toEqual([
      "executionRedriven",
      "stateEntered:Fan",
      "childrenRedriven:Fan",
      "mapIterationStarted:Fan",
      "mapIterationStarted:Fan",
      "mapIterationStarted:Fan",
      "mapIterationFailed:Fan",
      "childrenCancelled:Fan",
      "mapFailed:Fan",
      "executionFailed",
    ]);
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "Two", cause: "item 2" });
    // Each iteration resumed where it had ended: the Fail state, or the Wait (stopped again).
    expect(described(child(1).events.slice(lengths[1]))).toEqual([
      "executionRedriven",
      "stateEntered:Bad",
      "executionFailed",
    ]);
    for (const i of [0, 2]) {
      expect(described(child(i).events.slice(lengths[i]))).toEqual([
        "executionRedriven",
        "stateEntered:Pause",
        "waitStarted:Pause",
        "executionAborted",
      ]);
    }
    expect([0, 1, 2].map((i) => child(i).snapshot.redriveCount)).toEqual([1, 1, 1]);
    expectSnapshotsAreFolds(sim);
  });

  it("a Wait in a Parallel branch, stopped: the branch re-enters its Wait; a branch ended by Succeed is kept", () => {
    const def = machine({
      StartAt: "Both",
      States: {
        Both: {
          Type: "Parallel",
          Branches: [
            { StartAt: "Quick", States: { Quick: { Type: "Succeed" } } },
            {
              StartAt: "Pause",
              States: {
                Pause: { Type: "Wait", Seconds: 100, Next: "Work" },
                Work: { Type: "Task", Resource: "work", End: true },
              },
            },
          ],
          End: true,
        },
      },
    });
    const work = recording(() => "worked");
    const sim = new Simulator(def, { work: work.handler }, { holdTimers: true });
    const t0 = sim.clockMs;
    sim.run({ n: 1 });
    sim.send({ executionId: "exec-1", kind: { $case: "stop", value: { error: "Stopped", cause: "" } } });
    expect(result(sim).status).toBe("ABORTED");
    const quick = sim.get("exec-1_3_0");
    const waiting = sim.get("exec-1_3_1");
    expect(statusName(quick.snapshot.status)).toBe("SUCCEEDED");
    expect(statusName(waiting.snapshot.status)).toBe("ABORTED");
    const quickEvents = quick.events.length;
    const waitingEvents = waiting.events.length;

    sim.clockMs = t0 + 50 * SECOND;
    const appended = redriveAndCollect(sim);
    expect(described(appended)).toEqual([
      "executionRedriven",
      "stateEntered:Both",
      "childrenRedriven:Both",
      "parallelBranchStarted:Both",
    ]);
    expect(appended[2]?.details).toMatchObject({ value: { succeededCount: 1 } });
    expect(described(sim.get("exec-1_3_1").events.slice(waitingEvents))).toEqual([
      "executionRedriven",
      "stateEntered:Pause",
      "waitStarted:Pause",
    ]);
    expect(sim.get("exec-1_3_1").events.at(-1)?.details).toMatchObject({
      value: { fireTime: new Date(t0 + 150 * SECOND) },
    });
    sim.fireTimers();
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: [{ n: 1 }, "worked"] });
    expect(work.calls).toHaveLength(1);
    // The Succeed branch was not run again.
    expect(sim.get("exec-1_3_0").events).toHaveLength(quickEvents);
    expectSnapshotsAreFolds(sim);
  });

  it("a Map or Parallel that failed on its own output after every child succeeded runs none of them again", () => {
    // All iterations/branches succeed, then the state's ResultSelector fails on their results:
    // the redrive resumes the round (nothing to relaunch) and evaluates the output again.
    const selector = { "first.$": "$[0].missing" };
    for (const fan of [
      {
        Type: "Map",
        ItemsPath: "$.items",
        ResultSelector: selector,
        ItemProcessor: { StartAt: "W", States: { W: { Type: "Task", Resource: "work", End: true } } },
        End: true,
      },
      {
        Type: "Parallel",
        ResultSelector: selector,
        Branches: [1, 2].map((n) => ({
          StartAt: `W${n}`,
          States: { [`W${n}`]: { Type: "Task", Resource: "work", End: true } },
        })),
        End: true,
      },
    ]) {
      const def = machine({ StartAt: "Fan", States: { Fan: fan } });
      const work = recording();
      const sim = new Simulator(def, { work: work.handler });
      sim.run({ items: [1, 2] });
      const failure = result(sim);
      expect(failure).toMatchObject({ status: "FAILED", error: "States.ParameterPathFailure" });
      expect(work.calls).toHaveLength(2);
      const succeeded = fan.Type === "Map" ? "mapSucceeded:Fan" : "parallelSucceeded:Fan";

      const appended = redriveAndCollect(sim);
      expect(described(appended)).toEqual([
        "executionRedriven",
        "stateEntered:Fan",
        "childrenRedriven:Fan",
        succeeded,
        "executionFailed",
      ]);
      expect(appended[2]?.details).toMatchObject({ value: { succeededCount: 2, total: 2 } });
      expect(work.calls).toHaveLength(2);
      expect(result(sim)).toEqual(failure);
      expect(sim.get("exec-1").snapshot.redriveCount).toBe(1);
      expectSnapshotsAreFolds(sim);
    }
  });

  it("a Task in a Parallel branch in a Map iteration: only that Task runs again", () => {
    const def = machine({
      StartAt: "Fan",
      States: {
        Fan: {
          Type: "Map",
          ItemsPath: "$.items",
          ItemProcessor: {
            StartAt: "Both",
            States: {
              Both: {
                Type: "Parallel",
                Branches: [
                  { StartAt: "L", States: { L: { Type: "Task", Resource: "left", End: true } } },
                  {
                    StartAt: "R1",
                    States: {
                      R1: { Type: "Task", Resource: "right1", Next: "R2" },
                      R2: { Type: "Task", Resource: "right2", End: true },
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
    const left = recording((n) => `L${String(n)}`);
    const right1 = recording((n) => n);
    let broken = true;
    const right2Calls: Json[] = [];
    const right2: SimulatedHandler = (n) => {
      right2Calls.push(n);
      return broken && n === 2 ? { error: "Broken", cause: "item 2" } : { output: `R${String(n)}` };
    };
    const sim = new Simulator(def, { left: left.handler, right1: right1.handler, right2 });
    sim.run({ items: [1, 2, 3] });
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "Broken", cause: "item 2" });
    const leftBefore = left.calls.length;
    const right1Before = right1.calls.length;
    const right2Before = right2Calls.length;

    broken = false;
    const appended = redriveAndCollect(sim);
    expect(described(appended.slice(0, 3))).toEqual([
      "executionRedriven",
      "stateEntered:Fan",
      "childrenRedriven:Fan",
    ]);
    expect(result(sim)).toEqual({
      status: "SUCCEEDED",
      output: [
        ["L1", "R1"],
        ["L2", "R2"],
        ["L3", "R3"],
      ],
      error: "",
      cause: "",
    });
    // Only R2 of item 2 ran again; L and R1 of every item kept their results.
    expect(left.calls).toHaveLength(leftBefore);
    expect(right1.calls).toHaveLength(right1Before);
    expect(right2Calls.slice(right2Before)).toEqual([2]);
    // The redrive went down: item 2's iteration, then its second branch, were redriven (same ids).
    const redriven = [...sim.executions.values()]
      .filter((s) => s.events.some((e) => e.details?.$case === "executionRedriven"))
      .map((s) => [s.snapshot.executionId, s.snapshot.redriveCount]);
    expect(redriven).toEqual([
      ["exec-1", 1],
      ["exec-1_3_1", 1],
      ["exec-1_3_1_3_1", 1],
    ]);
    const branch = described(sim.get("exec-1_3_1_3_1").events);
    expect(branch.slice(branch.indexOf("executionRedriven"))).toEqual([
      "executionRedriven",
      "stateEntered:R2",
      "taskScheduled:R2",
      "taskStarted:R2",
      "taskSucceeded:R2",
      "stateExited:R2",
      "executionSucceeded",
    ]);
    expectSnapshotsAreFolds(sim);
  });
});

describe("redrive of JSONata states and variables", () => {
  it("a JSONata Task is redriven with its Arguments evaluated again ($states.context sees the redrive)", () => {
    const def = machine({
      QueryLanguage: "JSONata",
      StartAt: "Work",
      States: {
        Work: {
          Type: "Task",
          Resource: "work",
          Arguments: {
            n: "{% $states.input.n %}",
            redrives: "{% $states.context.Execution.RedriveCount %}",
          },
          Output: "{% $states.result %}",
          End: true,
        },
      },
    });
    const calls: Json[] = [];
    let broken = true;
    const sim = new Simulator(def, {
      work: (input) => {
        calls.push(input);
        return broken ? { error: "Broken" } : { output: input };
      },
    });
    sim.run({ n: 1 });
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "Broken" });
    broken = false;
    const appended = redriveAndCollect(sim);
    expect(described(appended.slice(0, 3))).toEqual([
      "executionRedriven",
      "stateEntered:Work",
      "taskScheduled:Work",
    ]);
    expect(calls).toEqual([
      { n: 1, redrives: 0 },
      { n: 1, redrives: 1 },
    ]);
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { n: 1, redrives: 1 } });
    expectSnapshotsAreFolds(sim);
  });

  it("a JSONata Pass that failed (States.QueryEvaluationError) is entered again", () => {
    const def = machine({
      QueryLanguage: "JSONata",
      StartAt: "Shape",
      States: {
        Shape: {
          Type: "Pass",
          Output:
            "{% $states.context.Execution.RedriveCount > 0 ? 'ok' : $states.input.a + $states.input.b %}",
          End: true,
        },
      },
    });
    const sim = new Simulator(def, {});
    sim.run({ a: 1, b: "x" });
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "States.QueryEvaluationError" });
    const appended = redriveAndCollect(sim);
    expect(described(appended)).toEqual([
      "executionRedriven",
      "stateEntered:Shape",
      "stateExited:Shape",
      "executionSucceeded",
    ]);
    expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: "ok" });
    expectSnapshotsAreFolds(sim);
  });

  it("variables assigned before the failure are seen after the redrive, in the state and after it", () => {
    for (const language of ["JSONPath", "JSONata"] as const) {
      const jsonata = language === "JSONata";
      const def = machine({
        QueryLanguage: language,
        StartAt: "Remember",
        States: {
          Remember: {
            Type: "Pass",
            Assign: jsonata ? { who: "{% $states.input.who %}", step: 1 } : { "who.$": "$.who", step: 1 },
            Next: "Work",
          },
          Work: {
            Type: "Task",
            Resource: "work",
            ...(jsonata
              ? { Arguments: { who: "{% $who %}", step: "{% $step %}" }, Assign: { step: 2 } }
              : { Parameters: { "who.$": "$who", "step.$": "$step" }, Assign: { step: 2 } }),
            Next: "Report",
          },
          Report: jsonata
            ? { Type: "Pass", Output: { who: "{% $who %}", step: "{% $step %}" }, End: true }
            : { Type: "Pass", Parameters: { "who.$": "$who", "step.$": "$step" }, End: true },
        },
      });
      const calls: Json[] = [];
      let broken = true;
      const sim = new Simulator(def, {
        work: (input) => {
          calls.push(input);
          return broken ? { error: "Broken" } : { output: input };
        },
      });
      sim.run({ who: "ada" });
      expect(result(sim).status).toBe("FAILED");
      // The failed Task assigned nothing: the variables are those of the failure.
      expect(JSON.parse(sim.get("exec-1").snapshot.variablesJson ?? "{}")).toEqual({ who: "ada", step: 1 });
      broken = false;
      redriveAndCollect(sim);
      expect(calls).toEqual([
        { who: "ada", step: 1 },
        { who: "ada", step: 1 },
      ]);
      expect(result(sim)).toMatchObject({ status: "SUCCEEDED", output: { who: "ada", step: 2 } });
      expectSnapshotsAreFolds(sim);
    }
  });

  it("variables assigned before a Map, and in the iteration before its failure, are seen after the redrive", () => {
    const def = machine({
      StartAt: "Remember",
      States: {
        Remember: { Type: "Pass", Assign: { "tag.$": "$.tag" }, Next: "Fan" },
        Fan: {
          Type: "Map",
          ItemsPath: "$.items",
          ItemProcessor: {
            StartAt: "Mark",
            States: {
              Mark: { Type: "Pass", Assign: { "mark.$": "States.Format('m{}', $)" }, Next: "Work" },
              Work: {
                Type: "Task",
                Resource: "work",
                Parameters: { "item.$": "$", "tag.$": "$tag", "mark.$": "$mark" },
                End: true,
              },
            },
          },
          End: true,
        },
      },
    });
    let broken = true;
    const calls: Json[] = [];
    const sim = new Simulator(def, {
      work: (input) => {
        calls.push(input);
        return broken && (input as { item: number }).item === 2 ? { error: "Broken" } : { output: input };
      },
    });
    sim.run({ tag: "t", items: [1, 2] });
    expect(result(sim).status).toBe("FAILED");
    broken = false;
    const before = calls.length;
    redriveAndCollect(sim);
    expect(calls.slice(before)).toEqual([{ item: 2, tag: "t", mark: "m2" }]);
    expect(result(sim)).toMatchObject({
      status: "SUCCEEDED",
      output: [
        { item: 1, tag: "t", mark: "m1" },
        { item: 2, tag: "t", mark: "m2" },
      ],
    });
    // The iteration was redriven at Work (Mark did not run again): "mark" came from its history.
    const iteration = described(sim.get("exec-1_5_1").events); // the round started at event 5
    expect(
      iteration.slice(iteration.indexOf("executionRedriven"), iteration.indexOf("executionRedriven") + 2),
    ).toEqual(["executionRedriven", "stateEntered:Work"]);
    expectSnapshotsAreFolds(sim);
  });
});
