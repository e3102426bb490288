import { StatesError } from "./errors";
import { catchOutput, decideRetry, errorMatches, findCatcher } from "./retry";
import type { TaskState } from "./types";

const never = (): number => {
  throw new Error("random() should not be called");
};

describe("errorMatches", () => {
  it("matches names exactly and case-sensitively", () => {
    expect(errorMatches(["ErrorA", "ErrorB"], "ErrorB")).toBe(true);
    expect(errorMatches(["ErrorA"], "errora")).toBe(false);
  });

  it("lets States.ALL match any error except States.Runtime", () => {
    expect(errorMatches(["States.ALL"], "PaymentDeclined")).toBe(true);
    expect(errorMatches(["States.ALL"], "States.Timeout")).toBe(true);
    expect(errorMatches(["States.ALL"], "States.Runtime")).toBe(false);
    expect(errorMatches(["States.Runtime"], "States.Runtime")).toBe(false);
    expect(errorMatches(["States.ALL"], "States.DataLimitExceeded")).toBe(false);
  });

  it("lets States.TaskFailed match errors a task reports under its own name, but not States.Timeout", () => {
    expect(errorMatches(["States.TaskFailed"], "States.TaskFailed")).toBe(true);
    expect(errorMatches(["States.TaskFailed"], "PaymentDeclined")).toBe(true);
    expect(errorMatches(["States.TaskFailed"], "States.Timeout")).toBe(false);
    expect(errorMatches(["States.TaskFailed"], "States.HeartbeatTimeout")).toBe(false);
  });
});

describe("decideRetry, on the specification's complex retry scenario", () => {
  const state: TaskState = {
    Type: "Task",
    Resource: "x",
    Next: "Y",
    Retry: [
      { ErrorEquals: ["ErrorA", "ErrorB"], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 2 },
      { ErrorEquals: ["ErrorC"], IntervalSeconds: 5 },
    ],
    Catch: [{ ErrorEquals: ["States.ALL"], Next: "Z" }],
  };

  it("waits 1 s, 2 s, then 5 s, then gives up on the fourth error and catches it", () => {
    const counts = [0, 0];
    const steps: Array<{ error: string; decision: ReturnType<typeof decideRetry> }> = [];
    for (const error of ["ErrorA", "ErrorB", "ErrorC", "ErrorB"]) {
      const decision = decideRetry(state, error, counts, never);
      steps.push({ error, decision });
      if (decision.retry) counts[decision.retrierIndex] = (counts[decision.retrierIndex] ?? 0) + 1;
    }
    expect(steps.map((s) => s.decision)).toEqual([
      { retry: true, delayMs: 1000, retrierIndex: 0 },
      { retry: true, delayMs: 2000, retrierIndex: 0 },
      { retry: true, delayMs: 5000, retrierIndex: 1 },
      { retry: false },
    ]);
    expect(findCatcher(state, "ErrorB")).toEqual({ next: "Z", index: 0 });
  });

  it("does not fall through to a later retrier once the matching one is exhausted", () => {
    const chained: TaskState = {
      ...state,
      Retry: [
        { ErrorEquals: ["ErrorA"], MaxAttempts: 1 },
        { ErrorEquals: ["States.ALL"], MaxAttempts: 5 },
      ],
    };
    expect(decideRetry(chained, "ErrorA", [1, 0], never)).toEqual({ retry: false });
    expect(decideRetry(chained, "Other", [1, 0], never)).toEqual({
      retry: true,
      delayMs: 1000,
      retrierIndex: 1,
    });
  });
});

describe("decideRetry", () => {
  const task = (retry: TaskState["Retry"]): TaskState => ({
    Type: "Task",
    Resource: "x",
    End: true,
    Retry: retry,
  });

  it("uses the defaults: 1 s, backoff 2.0, three attempts", () => {
    const state = task([{ ErrorEquals: ["States.ALL"] }]);
    expect([0, 1, 2, 3].map((n) => decideRetry(state, "Boom", [n], never))).toEqual([
      { retry: true, delayMs: 1000, retrierIndex: 0 },
      { retry: true, delayMs: 2000, retrierIndex: 0 },
      { retry: true, delayMs: 4000, retrierIndex: 0 },
      { retry: false },
    ]);
  });

  it("never retries with MaxAttempts 0, as in the specification's all-but-timeout example", () => {
    const state = task([
      { ErrorEquals: ["States.Timeout"], MaxAttempts: 0 },
      { ErrorEquals: ["States.ALL"] },
    ]);
    expect(decideRetry(state, "States.Timeout", [], never)).toEqual({ retry: false });
    expect(decideRetry(state, "Other", [], never)).toEqual({ retry: true, delayMs: 1000, retrierIndex: 1 });
  });

  it("caps delays with MaxDelaySeconds, as the specification's 3 s / 4 s example", () => {
    const state = task([
      {
        ErrorEquals: ["States.Timeout"],
        IntervalSeconds: 3,
        MaxAttempts: 2,
        BackoffRate: 2.0,
        MaxDelaySeconds: 4,
      },
    ]);
    expect(decideRetry(state, "States.Timeout", [0], never)).toEqual({
      retry: true,
      delayMs: 3000,
      retrierIndex: 0,
    });
    expect(decideRetry(state, "States.Timeout", [1], never)).toEqual({
      retry: true,
      delayMs: 4000,
      retrierIndex: 0,
    });
    expect(decideRetry(state, "States.Timeout", [2], never)).toEqual({ retry: false });
  });

  it("draws FULL jitter from the injected random source", () => {
    const state = task([
      {
        ErrorEquals: ["States.ALL"],
        IntervalSeconds: 2,
        BackoffRate: 2,
        JitterStrategy: "FULL",
        MaxDelaySeconds: 5,
      },
    ]);
    expect(decideRetry(state, "Boom", [0], () => 0.5)).toEqual({
      retry: true,
      delayMs: 1000,
      retrierIndex: 0,
    });
    expect(decideRetry(state, "Boom", [1], () => 0.25)).toEqual({
      retry: true,
      delayMs: 1000,
      retrierIndex: 0,
    });
    expect(decideRetry(state, "Boom", [2], () => 0.5)).toEqual({
      retry: true,
      delayMs: 2500,
      retrierIndex: 0,
    });
    expect(decideRetry(state, "Boom", [0], () => 0)).toEqual({ retry: true, delayMs: 0, retrierIndex: 0 });
    expect(() => decideRetry(state, "Boom", [0], () => 1)).toThrow(
      "random() must return a number in [0, 1), got 1",
    );
  });

  it("keeps JitterStrategy NONE exact and fractional backoff rounded to milliseconds", () => {
    const state = task([
      { ErrorEquals: ["States.ALL"], IntervalSeconds: 3, BackoffRate: 1.5, JitterStrategy: "NONE" },
    ]);
    expect(decideRetry(state, "Boom", [1], never)).toEqual({ retry: true, delayMs: 4500, retrierIndex: 0 });
  });

  it("caps runaway backoff at one year", () => {
    const state = task([
      {
        ErrorEquals: ["States.ALL"],
        IntervalSeconds: 99_999_999,
        BackoffRate: 1000,
        MaxAttempts: 99_999_999,
      },
    ]);
    expect(decideRetry(state, "Boom", [5000], never)).toEqual({
      retry: true,
      delayMs: 366 * 24 * 3600 * 1000,
      retrierIndex: 0,
    });
  });

  it("never retries States.Runtime", () => {
    expect(decideRetry(task([{ ErrorEquals: ["States.ALL"] }]), "States.Runtime", [], never)).toEqual({
      retry: false,
    });
  });

  it("returns no retry without retriers", () => {
    expect(decideRetry(task(undefined), "Boom", [], never)).toEqual({ retry: false });
  });
});

describe("findCatcher and catchOutput", () => {
  const state: TaskState = {
    Type: "Task",
    Resource: "x",
    End: true,
    Catch: [
      { ErrorEquals: ["java.lang.Exception"], ResultPath: "$.error-info", Next: "RecoveryState" },
      { ErrorEquals: ["Discard"], ResultPath: null, Next: "Ignore" },
      { ErrorEquals: ["States.ALL"], Next: "EndMachine" },
    ],
  };
  const error = { error: "java.lang.Exception", cause: "boom" };

  it("scans catchers in order", () => {
    expect(findCatcher(state, "java.lang.Exception")).toEqual({ next: "RecoveryState", index: 0 });
    expect(findCatcher(state, "Other")).toEqual({ next: "EndMachine", index: 2 });
    expect(findCatcher(state, "States.Runtime")).toBeUndefined();
    expect(findCatcher({ ...state, Catch: undefined }, "Other")).toBeUndefined();
  });

  it("injects the Error Output at the catcher's ResultPath, as the specification's error-info example", () => {
    expect(catchOutput(state, 0, { order: 1 }, error)).toEqual({
      order: 1,
      "error-info": { Error: "java.lang.Exception", Cause: "boom" },
    });
  });

  it("outputs the Error Output alone by default, and the raw input for ResultPath null", () => {
    expect(catchOutput(state, 2, { order: 1 }, { error: "Other", cause: "" })).toEqual({
      Error: "Other",
      Cause: "",
    });
    expect(catchOutput(state, 1, { order: 1 }, error)).toEqual({ order: 1 });
  });

  it("fails with States.ResultPathMatchFailure when the input cannot hold the Error Output", () => {
    expect(() => catchOutput(state, 0, "text", error)).toThrow(StatesError);
    expect(() => catchOutput(state, 0, "text", error)).toThrow(
      'States.ResultPathMatchFailure: cannot apply ResultPath "$.error-info": the input is "text", not an object',
    );
  });

  it("rejects an index with no catcher", () => {
    expect(() => catchOutput(state, 7, {}, error)).toThrow("States.Runtime: state has no Catcher at index 7");
  });
});
