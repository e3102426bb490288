import type { HistoryEvent } from "./api";
import {
  aggregateIterations,
  applyEvent,
  countByStatus,
  emptyView,
  innerCountsText,
  iterationsToRead,
} from "./execution-state";
import type { ChildRun, ChildStatus } from "./execution-state";

let nextId = 1;
const event = (stateName: string, details: Record<string, unknown>): HistoryEvent => ({
  eventId: nextId++,
  executionId: "ex",
  stateName,
  ...details,
});

function fold(events: HistoryEvent[]) {
  const view = emptyView();
  for (const e of events) applyEvent(view, e);
  return view;
}

describe("an execution's history folded for the graph", () => {
  it("tells succeeded, caught, retrying and running states apart", () => {
    const view = fold([
      event("", { executionStarted: {} }),
      event("A", { stateEntered: {} }),
      event("A", { stateExited: {} }),
      event("Risky", { stateEntered: {} }),
      event("Risky", { taskScheduled: { taskToken: "t1", activity: "x", attempt: 1 } }),
      event("Risky", { taskFailed: { taskToken: "t1", error: "Boom" } }),
      event("Risky", { stateExited: {} }),
      event("Recover", { stateEntered: {} }),
      event("Recover", { stateExited: {} }),
      event("Flaky", { stateEntered: {} }),
      event("Flaky", { taskScheduled: { taskToken: "t2", activity: "y", attempt: 1 } }),
      event("Flaky", { taskFailed: { taskToken: "t2", error: "Flaky" } }),
      event("Flaky", { taskRetryScheduled: { nextAttempt: 2 } }),
    ]);
    expect(Object.fromEntries(view.status)).toEqual({
      A: "succeeded",
      Risky: "caught",
      Recover: "succeeded",
      Flaky: "retrying",
    });
    expect(view.openTasks.size).toBe(0);
    applyEvent(view, event("Flaky", { taskScheduled: { taskToken: "t3", activity: "y", attempt: 2 } }));
    expect(view.status.get("Flaky")).toBe("running");
    expect([...view.openTasks.keys()]).toEqual(["t3"]);
  });

  it("marks the state active when the execution fails or is stopped", () => {
    const failed = fold([event("F", { stateEntered: {} }), event("", { executionFailed: { error: "E" } })]);
    expect(failed.status.get("F")).toBe("failed");
    const stopped = fold([
      event("W", { stateEntered: {} }),
      event("W", { taskScheduled: { taskToken: "t", activity: "a", attempt: 1 } }),
      event("", { executionAborted: {} }),
    ]);
    expect(stopped.status.get("W")).toBe("aborted");
    expect(stopped.openTasks.size).toBe(0);
  });

  it("counts a Map's iterations by status, pending ones included", () => {
    const view = fold([
      event("M", { stateEntered: {} }),
      event("M", { mapStarted: { itemCount: 5 } }),
      event("M", { mapIterationStarted: { index: 0, childExecutionId: "c0" } }),
      event("M", { mapIterationStarted: { index: 1, childExecutionId: "c1" } }),
      event("M", { mapIterationStarted: { index: 2, childExecutionId: "c2" } }),
      event("M", { mapIterationSucceeded: { index: 0 } }),
      event("M", { mapIterationFailed: { index: 2 } }),
    ]);
    const children = view.children.get("M");
    expect(children && countByStatus(children)).toEqual({ running: 1, succeeded: 1, failed: 1, pending: 2 });
  });
});

describe("a Map's inner states from its iterations", () => {
  const iteration = (...events: [string, Record<string, unknown>][]) =>
    fold(events.map(([state, details]) => event(state, details)));
  const done = iteration(
    ["Echo", { stateEntered: {} }],
    ["Echo", { stateExited: {} }],
    ["Check", { stateEntered: {} }],
    ["Check", { stateExited: {} }],
  );
  const runningAtCheck = iteration(
    ["Echo", { stateEntered: {} }],
    ["Echo", { stateExited: {} }],
    ["Check", { stateEntered: {} }],
  );
  const failedAtEcho = iteration(
    ["Echo", { stateEntered: {} }],
    ["Echo", { taskScheduled: { taskToken: "t", activity: "echo", attempt: 1 } }],
    ["Echo", { taskFailed: { taskToken: "t", error: "Boom" } }],
    ["", { executionFailed: {} }],
  );

  it("colours a state running when any iteration runs there, failed when any failed, else succeeded", () => {
    const all = aggregateIterations([done, runningAtCheck, failedAtEcho, done]);
    expect(all.get("Echo")).toEqual({ status: "failed", counts: { succeeded: 3, failed: 1 } });
    expect(all.get("Check")).toEqual({ status: "running", counts: { succeeded: 2, running: 1 } });
    expect(aggregateIterations([done, done]).get("Check")).toEqual({
      status: "succeeded",
      counts: { succeeded: 2 },
    });
    expect(aggregateIterations([done]).has("Other")).toBe(false);
    expect(innerCountsText({ status: "running", counts: { succeeded: 2, running: 1 } })).toBe(
      "1 running · 2 succeeded",
    );
  });

  it("reads a bounded set of iterations: running first, with room kept for failed and succeeded ones", () => {
    const items = new Map<number, ChildRun>();
    const statuses: ChildStatus[] = ["running", "succeeded", "failed"];
    for (let i = 0; i < 10_000; i++)
      items.set(i, { index: i, executionId: `c${i}`, status: statuses[i % 3] ?? "running" });
    const picked = iterationsToRead({ kind: "map", total: 10_000, items }, 24);
    expect(picked).toHaveLength(24);
    expect(picked.filter((i) => i.status === "running")).toHaveLength(12);
    expect(picked.filter((i) => i.status === "failed")).toHaveLength(6);
    expect(picked.filter((i) => i.status === "succeeded").map((i) => i.index)).toEqual([1, 4, 7, 10, 13, 16]);

    const fewRunning = new Map<number, ChildRun>([
      [0, { index: 0, executionId: "a", status: "running" }],
      [1, { index: 1, executionId: "b", status: "succeeded" }],
      [2, { index: 2, executionId: "c", status: "succeeded" }],
    ]);
    expect(iterationsToRead({ kind: "map", total: 3, items: fewRunning }, 24).map((i) => i.index)).toEqual([
      0, 1, 2,
    ]);
  });
});
