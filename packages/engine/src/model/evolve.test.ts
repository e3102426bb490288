import {
  ChildrenRedriven,
  ExecutionFailed,
  ExecutionRedriven,
  ExecutionStarted,
  ExecutionStatus,
  ExecutionSucceeded,
  HistoryEvent,
  MapFailed,
  MapIterationFailed,
  MapIterationStarted,
  MapIterationSucceeded,
  MapStarted,
  MapSucceeded,
  StateEntered,
  StateExited,
  TaskFailed,
  TaskRetryScheduled,
  TaskScheduled,
  WaitStarted,
} from "@jetflow/contracts";
import type { EventBatch, ExecutionSnapshot } from "@jetflow/contracts";
import { deepFreeze } from "../test-support/deep-freeze";
import { makeBatch, makeEvent } from "../test-support/history-builders";
import { EventSequenceError, copyForFold, evolve, replay } from "./evolve";

const EXEC = "exec-evolve";

function ended(eventId: number, how: "succeeded" | "failed"): HistoryEvent {
  return {
    eventId,
    executionId: EXEC,
    timestamp: new Date(Date.UTC(2025, 0, 1) + eventId * 1000),
    stateName: "",
    details:
      how === "succeeded"
        ? { $case: "executionSucceeded", value: { outputJson: "1" } }
        : { $case: "executionFailed", value: { error: "E", cause: "c" } },
  };
}

function batchOf(...events: HistoryEvent[]): EventBatch {
  return { executionId: EXEC, events, parent: undefined };
}

/** Runs `fold` and returns the EventSequenceError it throws (fails the test if it throws none). */
function sequenceError(fold: () => unknown): EventSequenceError {
  try {
    fold();
  } catch (err) {
    expect(err).toBeInstanceOf(EventSequenceError);
    return err as EventSequenceError;
  }
  throw new Error("expected an EventSequenceError");
}

describe("evolve", () => {
  it("folds consecutive batches, whatever their boundaries, into the same snapshot", () => {
    const whole = evolve(undefined, makeBatch(EXEC, 1, 9), 1);
    const first = evolve(undefined, makeBatch(EXEC, 1, 4), 1);
    const split = evolve(first, makeBatch(EXEC, 5, 5), 2);
    expect(split).toEqual({ ...whole, lastEventSeq: 2 });
    expect(split.lastEventId).toBe(9);
  });

  it("leaves the snapshot it is given unchanged", () => {
    const first = evolve(undefined, makeBatch(EXEC, 1, 3), 1);
    const copy = structuredClone(first);
    evolve(first, makeBatch(EXEC, 4, 2), 2);
    expect(first).toEqual(copy);
  });

  it("refuses a gap in the event ids", () => {
    const first = evolve(undefined, makeBatch(EXEC, 1, 3), 1);
    const err = sequenceError(() => evolve(first, makeBatch(EXEC, 5, 1), 2));
    expect(err.message).toBe(`execution "${EXEC}": event id 5 does not follow 3`);
    expect(err.executionId).toBe(EXEC);
  });

  it("refuses an event id seen before (a duplicate)", () => {
    const first = evolve(undefined, makeBatch(EXEC, 1, 3), 1);
    const err = sequenceError(() => evolve(first, makeBatch(EXEC, 3, 1), 2));
    expect(err.message).toBe(`execution "${EXEC}": event id 3 does not follow 3`);
  });

  it("refuses a second ExecutionStarted", () => {
    const first = evolve(undefined, makeBatch(EXEC, 1, 1), 1);
    const again = { ...makeEvent(EXEC, 1), eventId: 2 };
    const err = sequenceError(() => evolve(first, batchOf(again), 2));
    expect(err.message).toBe(`execution "${EXEC}": ExecutionStarted again at event 2`);
  });

  it("refuses a history that does not begin with ExecutionStarted at event 1", () => {
    const late = { ...makeEvent(EXEC, 1), eventId: 2 };
    expect(sequenceError(() => evolve(undefined, batchOf(late), 1)).message).toBe(
      `execution "${EXEC}": first event must have id 1, got 2`,
    );
    expect(sequenceError(() => evolve(undefined, makeBatch(EXEC, 2, 1), 1)).message).toBe(
      `execution "${EXEC}": history must begin with ExecutionStarted`,
    );
  });

  it("refuses an execution that ends twice", () => {
    const done = evolve(undefined, batchOf(makeEvent(EXEC, 1), ended(2, "succeeded")), 1);
    expect(done.status).toBe(ExecutionStatus.EXECUTION_STATUS_SUCCEEDED);
    const err = sequenceError(() => evolve(done, batchOf(ended(3, "failed")), 2));
    expect(err.message).toBe(`execution "${EXEC}": execution ended twice`);
  });

  it("refuses an empty first batch", () => {
    expect(sequenceError(() => evolve(undefined, batchOf(), 1)).message).toBe(
      `execution "${EXEC}": empty first batch`,
    );
  });
});

describe("replay", () => {
  it("rebuilds the snapshot that evolving batch by batch gives, with the last batch's sequence", () => {
    const batches = [
      { batch: makeBatch(EXEC, 1, 2), seq: 10 },
      { batch: makeBatch(EXEC, 3, 4), seq: 17 },
      { batch: makeBatch(EXEC, 7, 3), seq: 30 },
    ];
    let stepwise = undefined as ReturnType<typeof evolve> | undefined;
    for (const { batch, seq } of batches) stepwise = evolve(stepwise, batch, seq);
    expect(replay(batches)).toEqual(stepwise);
    expect(replay(batches)?.lastEventSeq).toBe(30);
  });

  it("is undefined for an empty history", () => {
    expect(replay([])).toBeUndefined();
  });
});

describe("copyForFold", () => {
  type Details = NonNullable<HistoryEvent["details"]>;
  const withId = (eventId: number, details: Details): HistoryEvent =>
    HistoryEvent.fromPartial({
      eventId,
      executionId: EXEC,
      timestamp: new Date(Date.UTC(2025, 0, 1)),
      details,
    });
  /** Every kind of event that changes an object of the snapshot in place, in an order evolve accepts. */
  const history: Details[] = [
    {
      $case: "executionStarted",
      value: ExecutionStarted.fromPartial({ workflowName: "wf", parent: { executionId: "p", index: 1 } }),
    },
    { $case: "stateEntered", value: StateEntered.fromPartial({ stateName: "Fan" }) },
    { $case: "taskScheduled", value: TaskScheduled.fromPartial({ taskToken: "t1", attempt: 1 }) },
    { $case: "taskRetryScheduled", value: TaskRetryScheduled.fromPartial({ retrierIndex: 1, timerId: "r" }) },
    { $case: "taskScheduled", value: TaskScheduled.fromPartial({ taskToken: "t2", attempt: 2 }) },
    { $case: "taskFailed", value: TaskFailed.fromPartial({ taskToken: "t2", error: "E" }) },
    { $case: "mapStarted", value: MapStarted.fromPartial({ itemCount: 3 }) },
    { $case: "mapIterationStarted", value: MapIterationStarted.fromPartial({ index: 0 }) },
    { $case: "mapIterationStarted", value: MapIterationStarted.fromPartial({ index: 1 }) },
    { $case: "mapIterationSucceeded", value: MapIterationSucceeded.fromPartial({ index: 0 }) },
    { $case: "mapIterationFailed", value: MapIterationFailed.fromPartial({ index: 1, error: "E" }) },
    { $case: "mapFailed", value: MapFailed.fromPartial({ error: "E" }) },
    { $case: "stateExited", value: StateExited.fromPartial({ stateName: "Fan", assignedJson: '{"a":1}' }) },
    { $case: "stateEntered", value: StateEntered.fromPartial({ stateName: "Fan" }) },
    { $case: "executionFailed", value: ExecutionFailed.fromPartial({ error: "E" }) },
    { $case: "executionRedriven", value: ExecutionRedriven.fromPartial({ redriveCount: 1 }) },
    { $case: "stateEntered", value: StateEntered.fromPartial({ stateName: "Fan" }) },
    {
      $case: "childrenRedriven",
      value: ChildrenRedriven.fromPartial({ startedEventId: 7, total: 3, succeeded: Buffer.from([1]) }),
    },
    { $case: "mapIterationSucceeded", value: MapIterationSucceeded.fromPartial({ index: 2 }) },
    { $case: "mapSucceeded", value: MapSucceeded.fromPartial({}) },
    { $case: "waitStarted", value: WaitStarted.fromPartial({ timerId: "w" }) },
    { $case: "waitFinished", value: {} },
    { $case: "executionSucceeded", value: ExecutionSucceeded.fromPartial({ outputJson: "1" }) },
  ];

  it("lets every event be folded into the copy while the original, frozen, stays as it was", () => {
    let previous: ExecutionSnapshot | undefined;
    for (const [index, details] of history.entries()) {
      const before = previous === undefined ? undefined : structuredClone(previous);
      // A change in place of anything the copy shares throws here: the original is frozen.
      const next = evolve(previous, batchOf(withId(index + 1, details)), index + 1);
      expect({ event: details.$case, original: previous }).toEqual({
        event: details.$case,
        original: before,
      });
      previous = deepFreeze(next);
    }
    expect(previous?.status).toBe(ExecutionStatus.EXECUTION_STATUS_SUCCEEDED);
    // The same history in one batch, folded in place from the start, ends in the same snapshot.
    const whole = evolve(undefined, batchOf(...history.map((d, i) => withId(i + 1, d))), history.length);
    expect(previous).toEqual(whole);
  });

  it("copies the objects a fold changes and shares the rest", () => {
    const started = evolve(
      undefined,
      batchOf(withId(1, history[0] as Details), withId(2, history[1] as Details)),
      1,
    );
    const copy = copyForFold(started);
    expect(copy).toEqual(started);
    expect(copy).not.toBe(started);
    expect(copy.active).not.toBe(started.active);
    expect(copy.active?.retryCounts).not.toBe(started.active?.retryCounts);
    expect(copy.parent).toBe(started.parent);
  });
});
