import { assertValidDefinition } from "@jetflow/asl";
import type { Json, StateMachine } from "@jetflow/asl";
import { ExecutionSnapshot, ExecutionStatus } from "@jetflow/contracts";
import type { HistoryEvent } from "@jetflow/contracts";
import { replay } from "../model";
import { Simulator, statusName } from "../test-support/simulator";
import type { SimulatedHandler } from "../test-support/simulator";
import { REDRIVE_WINDOW_MS, notRedrivableReason } from "./redrive";

function machine(definition: object): StateMachine {
  return assertValidDefinition(JSON.stringify(definition));
}

function types(events: readonly HistoryEvent[]): string[] {
  return events.map((e) => e.details?.$case ?? "?");
}

function result(sim: Simulator, id = "exec-1") {
  const { snapshot } = sim.get(id);
  return {
    status: statusName(snapshot.status),
    output: snapshot.outputJson ? (JSON.parse(snapshot.outputJson) as Json) : undefined,
    error: snapshot.error,
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

/** A handler that fails while `broken` says so, and records what it saw. */
function switchable(fn: (input: Json, redriveCount: number) => Json) {
  const state = { broken: new Set<string>(), calls: [] as Json[] };
  const handler: SimulatedHandler = (input) => {
    state.calls.push(input);
    const key = JSON.stringify(input);
    if (state.broken.has(key) || state.broken.has("*")) return { error: "Broken", cause: key };
    return { output: fn(input, 0) };
  };
  return { state, handler };
}

describe("redrive of a Task state", () => {
  const def = machine({
    StartAt: "A",
    States: {
      A: { Type: "Task", Resource: "a", Next: "B" },
      B: {
        Type: "Task",
        Resource: "b",
        Parameters: { "n.$": "$.n", "redrives.$": "$$.Execution.RedriveCount" },
        Retry: [{ ErrorEquals: ["Broken"], MaxAttempts: 1, IntervalSeconds: 1 }],
        End: true,
      },
    },
  });

  it("resumes at the failed state with the same input, keeps the history, counts redrives", () => {
    const a = switchable((input) => ({ n: (input as { n: number }).n + 1 }));
    const b = switchable((input) => input);
    b.state.broken.add("*");
    const sim = new Simulator(def, { a: a.handler, b: b.handler });
    sim.run({ n: 1 });
    expect(result(sim).status).toBe("FAILED");
    const before = sim.get("exec-1").events.length;
    expect(b.state.calls).toEqual([
      { n: 2, redrives: 0 },
      { n: 2, redrives: 0 },
    ]);

    b.state.broken.clear();
    sim.redrive();
    const { snapshot, events } = sim.get("exec-1");
    expect(result(sim)).toEqual({ status: "SUCCEEDED", output: { n: 2, redrives: 1 }, error: "" });
    expect(snapshot.redriveCount).toBe(1);
    // A ran once: the succeeded step is not run again.
    expect(a.state.calls).toHaveLength(1);
    // The history is kept and continues with the redrive, then B entered again.
    expect(events.slice(0, before).map((e) => e.eventId)).toEqual(
      events.slice(0, before).map((_, i) => i + 1),
    );
    expect(types(events.slice(before, before + 3))).toEqual([
      "executionRedriven",
      "stateEntered",
      "taskScheduled",
    ]);
    expect(events[before]?.details).toEqual({
      $case: "executionRedriven",
      value: { redriveCount: 1, identity: undefined, timeoutTimerId: "", stateName: "B", timeoutSeconds: 0 },
    });
    expect(events.map((e) => e.eventId)).toEqual(events.map((_, i) => i + 1));
    expectSnapshotsAreFolds(sim);
  });

  it("counts Retry attempts afresh after a redrive, and can redrive again", () => {
    const a = switchable((input) => input);
    const b = switchable((input) => input);
    b.state.broken.add("*");
    const sim = new Simulator(def, { a: a.handler, b: b.handler });
    sim.run({ n: 1 });
    sim.redrive();
    expect(result(sim).status).toBe("FAILED");
    // 2 attempts (1 retry) before, 2 again after the redrive.
    expect(b.state.calls).toHaveLength(4);
    b.state.broken.clear();
    sim.redrive();
    expect(result(sim)).toEqual({ status: "SUCCEEDED", output: { n: 1, redrives: 2 }, error: "" });
    expectSnapshotsAreFolds(sim);
  });

  it("redrives once however often the same request arrives", () => {
    const b = switchable((input) => input);
    b.state.broken.add("*");
    const sim = new Simulator(def, { a: switchable((i) => i).handler, b: b.handler });
    sim.run({ n: 1 });
    const request = {
      executionId: "exec-1",
      kind: { $case: "redrive" as const, value: { expectedRedriveCount: 0 } },
    };
    b.state.broken.clear();
    sim.send(request);
    sim.send(request);
    expect(sim.get("exec-1").snapshot.redriveCount).toBe(1);
    expect(types(sim.get("exec-1").events).filter((t) => t === "executionRedriven")).toHaveLength(1);
    expect(result(sim).status).toBe("SUCCEEDED");
  });

  it("redrives an aborted execution from the state it was stopped in, and a timed-out one", () => {
    let hang = true;
    const handlers: Record<string, SimulatedHandler> = {
      a: (input) => ({ output: input }),
      b: (input) => (hang ? { hang: true } : { output: input }),
    };
    const sim = new Simulator(def, handlers);
    sim.run({ n: 1 });
    sim.send({ executionId: "exec-1", kind: { $case: "stop", value: { error: "Stopped", cause: "" } } });
    expect(result(sim).status).toBe("ABORTED");
    hang = false;
    sim.redrive();
    expect(result(sim)).toEqual({ status: "SUCCEEDED", output: { n: 1, redrives: 1 }, error: "" });

    hang = true;
    const timed = new Simulator(def, handlers);
    timed.run({ n: 1 }, "exec-2", 60);
    expect(result(timed, "exec-2").status).toBe("TIMED_OUT");
    hang = false;
    timed.redrive("exec-2");
    expect(result(timed, "exec-2").status).toBe("SUCCEEDED");
    // The timeout restarted at the redrive with a timer of its own.
    const redriven = timed.get("exec-2").events.find((e) => e.details?.$case === "executionRedriven");
    expect(redriven?.details).toMatchObject({
      value: { timeoutSeconds: 60, timeoutTimerId: "exec-2.execution-timeout.r1" },
    });
    expectSnapshotsAreFolds(timed);
  });

  it("a redriven execution whose timeout passes again times out again", () => {
    const sim = new Simulator(def, { a: (input) => ({ output: input }), b: () => ({ hang: true }) });
    sim.run({ n: 1 }, "exec-3", 60);
    sim.redrive("exec-3");
    expect(result(sim, "exec-3").status).toBe("TIMED_OUT");
    expect(sim.get("exec-3").snapshot.redriveCount).toBe(1);
  });

  it("says why an execution cannot be redriven", () => {
    const sim = new Simulator(def, { a: (i) => ({ output: i }), b: (i) => ({ output: i }) });
    sim.run({ n: 1 });
    const { snapshot } = sim.get("exec-1");
    expect(notRedrivableReason(snapshot, new Date())).toBe("it succeeded");
    const running = { ...snapshot, status: ExecutionStatus.EXECUTION_STATUS_RUNNING };
    expect(notRedrivableReason(running, new Date())).toBe("it is running");
    const failed = {
      ...snapshot,
      status: ExecutionStatus.EXECUTION_STATUS_FAILED,
      redriveState: { ...emptyActive(), name: "B" },
      stopTime: new Date(0),
    };
    expect(notRedrivableReason(failed, new Date(REDRIVE_WINDOW_MS - 1))).toBeUndefined();
    expect(notRedrivableReason(failed, new Date(REDRIVE_WINDOW_MS + 1))).toMatch(/more than 14 days/);
    expect(notRedrivableReason({ ...failed, redriveState: undefined }, new Date(1))).toMatch(/no state/);
    expect(notRedrivableReason({ ...failed, rootExecutionId: "other" }, new Date(1))).toMatch(/top-level/);
    // A succeeded execution is not redriven by a command either.
    sim.redrive();
    expect(sim.get("exec-1").snapshot.redriveCount).toBe(0);
  });
});

function emptyActive() {
  return {
    name: "",
    enteredTime: undefined,
    inputJson: "",
    entryEventId: 0,
    retryCounts: [],
    attempt: 0,
    phase: undefined,
    failedChildren: undefined,
  };
}

describe("redrive of a Map state", () => {
  const def = machine({
    StartAt: "Fan",
    States: {
      Fan: {
        Type: "Map",
        ItemsPath: "$.items",
        ItemProcessor: {
          StartAt: "Work",
          States: { Work: { Type: "Task", Resource: "work", End: true } },
        },
        End: true,
      },
    },
  });

  it("re-runs only the iterations that did not succeed and keeps the others' outputs", () => {
    const work = switchable((input) => ({ done: input }));
    work.state.broken.add("3");
    const sim = new Simulator(def, { work: work.handler });
    sim.run({ items: [1, 2, 3, 4, 5] });
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "Broken" });
    const firstCalls = work.state.calls.length;
    const succeededBefore = new Set(
      sim
        .get("exec-1")
        .events.flatMap((e) => (e.details?.$case === "mapIterationSucceeded" ? [e.details.value.index] : [])),
    );
    expect(succeededBefore.size).toBeGreaterThan(0);

    work.state.broken.clear();
    sim.redrive();
    expect(result(sim)).toEqual({
      status: "SUCCEEDED",
      output: [1, 2, 3, 4, 5].map((n) => ({ done: n })),
      error: "",
    });
    // Only the failed iteration ran again: the ones that succeeded after the Map had failed
    // (their stop came too late) report their outputs again instead of running again.
    expect(work.state.calls.slice(firstCalls)).toEqual([3]);
    expect(succeededBefore).toEqual(new Set([0, 1]));
    const late = [...sim.executions.values()].filter((s) =>
      s.events.some((e) => e.details?.$case === "childResultReported"),
    );
    expect(late.map((s) => s.snapshot.executionId).sort()).toEqual(["exec-1_3_3", "exec-1_3_4"]);
    // The failed child was redriven (same id, its history kept), not replaced.
    const parent = sim.get("exec-1");
    const redriven = parent.events.find((e) => e.details?.$case === "childrenRedriven");
    expect(redriven).toBeDefined();
    const failedChild = [...sim.executions.values()].find(
      (s) => s.snapshot.parent && s.events.some((e) => e.details?.$case === "executionFailed"),
    );
    expect(failedChild?.snapshot.redriveCount).toBe(1);
    expect(statusName(failedChild?.snapshot.status ?? 0)).toBe("SUCCEEDED");
    expect(types(failedChild?.events ?? [])).toContain("executionRedriven");
    expectSnapshotsAreFolds(sim);
  });

  it("launches the iterations never started under MaxConcurrency", () => {
    const limited = machine({
      StartAt: "Fan",
      States: {
        Fan: {
          Type: "Map",
          ItemsPath: "$.items",
          MaxConcurrency: 1,
          ItemProcessor: { StartAt: "Work", States: { Work: { Type: "Task", Resource: "work", End: true } } },
          End: true,
        },
      },
    });
    const work = switchable((input) => input);
    work.state.broken.add("2");
    const sim = new Simulator(limited, { work: work.handler });
    sim.run({ items: [1, 2, 3, 4] });
    expect(result(sim).status).toBe("FAILED");
    expect(work.state.calls).toEqual([1, 2]);
    work.state.broken.clear();
    sim.redrive();
    expect(result(sim)).toEqual({ status: "SUCCEEDED", output: [1, 2, 3, 4], error: "" });
    expect(work.state.calls).toEqual([1, 2, 2, 3, 4]);
    expectSnapshotsAreFolds(sim);
  });

  it("with tolerated failures, redrives the failed iterations of an over-threshold round", () => {
    const tolerant = machine({
      StartAt: "Fan",
      States: {
        Fan: {
          Type: "Map",
          ItemsPath: "$.items",
          ToleratedFailureCount: 1,
          ItemProcessor: { StartAt: "Work", States: { Work: { Type: "Task", Resource: "work", End: true } } },
          End: true,
        },
      },
    });
    const work = switchable((input) => input);
    work.state.broken.add("1");
    work.state.broken.add("2");
    const sim = new Simulator(tolerant, { work: work.handler });
    sim.run({ items: [1, 2, 3] });
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "States.ExceedToleratedFailureThreshold" });
    work.state.broken.clear();
    sim.redrive();
    expect(result(sim)).toEqual({ status: "SUCCEEDED", output: [1, 2, 3], error: "" });
    expectSnapshotsAreFolds(sim);
  });
});

describe("redrive of a Parallel state", () => {
  const def = machine({
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
        Next: "After",
      },
      After: { Type: "Pass", End: true },
    },
  });

  it("re-runs only the failed branch, from its failed state, and keeps the other's output", () => {
    const left = switchable(() => "L");
    const right1 = switchable(() => "R1");
    const right2 = switchable(() => "R2");
    right2.state.broken.add("*");
    const sim = new Simulator(def, { left: left.handler, right1: right1.handler, right2: right2.handler });
    sim.run({ x: 1 });
    expect(result(sim)).toMatchObject({ status: "FAILED", error: "Broken" });
    right2.state.broken.clear();
    sim.redrive();
    expect(result(sim)).toEqual({ status: "SUCCEEDED", output: ["L", "R2"], error: "" });
    expect(left.state.calls).toHaveLength(1);
    // Inside the branch, R1 succeeded before: only R2 ran again.
    expect(right1.state.calls).toHaveLength(1);
    expect(right2.state.calls).toHaveLength(2);
    expectSnapshotsAreFolds(sim);
  });
});
