import { EventBatch, TaskScheduled } from "@jetflow/contracts";
import type { HistoryEvent } from "@jetflow/contracts";
import { withTaskOutcomes } from "./engine-stats";
import { collectTaskEvents, emptyTaskEvents, tallyByActivity, unresolvedTokens } from "./task-outcomes";

const SINCE = Date.parse("2026-06-01T12:00:00Z");
const at = (offsetMs: number) => new Date(SINCE + offsetMs);

function batch(executionId: string, events: Partial<HistoryEvent>[]): EventBatch {
  return EventBatch.fromPartial({ executionId, events });
}

const scheduled = (token: string, activity: string, ms = 0): Partial<HistoryEvent> => ({
  timestamp: at(ms),
  details: { $case: "taskScheduled", value: TaskScheduled.fromPartial({ taskToken: token, activity }) },
});
const succeeded = (token: string, ms: number): Partial<HistoryEvent> => ({
  timestamp: at(ms),
  details: { $case: "taskSucceeded", value: { taskToken: token, outputJson: "{}" } },
});
const failed = (token: string, ms: number): Partial<HistoryEvent> => ({
  timestamp: at(ms),
  details: { $case: "taskFailed", value: { taskToken: token, error: "Boom", cause: "" } },
});
const timedOut = (token: string, ms: number): Partial<HistoryEvent> => ({
  timestamp: at(ms),
  details: { $case: "taskTimedOut", value: { taskToken: token, error: "States.Timeout", cause: "" } },
});
const cancelled = (token: string, ms: number): Partial<HistoryEvent> => ({
  timestamp: at(ms),
  details: { $case: "taskCancelled", value: { taskToken: token, activity: "charge" } },
});

describe("task outcomes by activity", () => {
  it("counts attempts ended in the window by the activity they were scheduled for", () => {
    const events = emptyTaskEvents();
    collectTaskEvents(batch("e1", [scheduled("e1.2", "charge"), failed("e1.2", 10)]), SINCE, events);
    collectTaskEvents(batch("e1", [scheduled("e1.5", "charge"), succeeded("e1.5", 20)]), SINCE, events);
    collectTaskEvents(batch("e2", [scheduled("e2.2", "ship"), timedOut("e2.2", 30)]), SINCE, events);
    // Ended before the window: not counted. Cancelled: neither success nor failure.
    collectTaskEvents(batch("e3", [scheduled("e3.2", "ship", -5000), succeeded("e3.2", -1)]), SINCE, events);
    collectTaskEvents(batch("e4", [scheduled("e4.2", "charge"), cancelled("e4.2", 40)]), SINCE, events);
    expect(tallyByActivity(events)).toEqual(
      new Map([
        ["charge", { succeeded: 1, failed: 1 }],
        ["ship", { succeeded: 0, failed: 1 }],
      ]),
    );
    expect(unresolvedTokens(events)).toEqual(new Map());
  });

  it("names the attempts scheduled before what was read, by execution, and counts them once found", () => {
    const events = emptyTaskEvents();
    collectTaskEvents(batch("e1", [succeeded("e1.7", 10), failed("e1.9", 20)]), SINCE, events);
    collectTaskEvents(batch("e2", [failed("e2.3", 30), succeeded("not-a-token", 40)]), SINCE, events);
    expect(unresolvedTokens(events)).toEqual(
      new Map([
        ["e1", new Set([7, 9])],
        ["e2", new Set([3])],
      ]),
    );
    // Unknown activities are left out of the counts.
    expect(tallyByActivity(events)).toEqual(new Map());
    // What the executions' histories say.
    collectTaskEvents(
      batch("e1", [scheduled("e1.7", "charge"), scheduled("e1.9", "charge")]),
      Infinity,
      events,
    );
    expect(tallyByActivity(events)).toEqual(new Map([["charge", { succeeded: 1, failed: 1 }]]));
  });

  it("sets each activity's failure rate, and shows an activity with outcomes but no queue", () => {
    const queue = {
      activity: "charge",
      pending: 2,
      running: 1,
      waitingPulls: 0,
      redelivered: 0,
      lastActiveTime: undefined,
      succeeded: 0,
      failed: 0,
      failureRate: 0,
      workersConnected: 1,
    };
    const outcomes = new Map([
      ["charge", { succeeded: 3, failed: 1 }],
      ["archive", { succeeded: 0, failed: 2 }],
    ]);
    expect(withTaskOutcomes([queue], outcomes)).toEqual([
      {
        ...queue,
        activity: "archive",
        pending: 0,
        running: 0,
        succeeded: 0,
        failed: 2,
        failureRate: 1,
        workersConnected: 0,
      },
      { ...queue, succeeded: 3, failed: 1, failureRate: 0.25 },
    ]);
    // The queues given are left as they were.
    expect(queue.succeeded).toBe(0);
    expect(withTaskOutcomes([queue], new Map())).toEqual([queue]);
  });
});
