import type { HistoryEvent } from "./api";
import { applyEvent, countByStatus, emptyView } from "./execution-state";

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
