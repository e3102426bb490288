import { ExecutionStatus, WorkerPresence, encode } from "@jetflow/contracts";
import type { ExecutionSummary } from "@jetflow/contracts";
import { countWorkers, statsWindowSeconds, summarizeWorkflows, withWorkers } from "./engine-stats";

const now = Date.parse("2026-06-01T12:00:00Z");
const summary = (
  workflowName: string,
  status: ExecutionStatus,
  stoppedSecondsAgo?: number,
): ExecutionSummary => ({
  executionId: `${workflowName}-${Math.random()}`,
  executionName: "",
  workflowName,
  workflowVersion: 1,
  status,
  startTime: new Date(now - 3_600_000),
  stopTime: stoppedSecondsAgo === undefined ? undefined : new Date(now - stoppedSecondsAgo * 1000),
  redriveCount: 0,
  scheduleId: "",
});

describe("summarizeWorkflows", () => {
  it("counts running executions and those that ended in the window, with the failure rate", () => {
    const { RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED } = {
      RUNNING: ExecutionStatus.EXECUTION_STATUS_RUNNING,
      SUCCEEDED: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
      FAILED: ExecutionStatus.EXECUTION_STATUS_FAILED,
      TIMED_OUT: ExecutionStatus.EXECUTION_STATUS_TIMED_OUT,
      ABORTED: ExecutionStatus.EXECUTION_STATUS_ABORTED,
    };
    const stats = summarizeWorkflows(
      [
        summary("orders", RUNNING),
        summary("orders", SUCCEEDED, 10),
        summary("orders", SUCCEEDED, 299),
        summary("orders", FAILED, 20),
        summary("orders", TIMED_OUT, 30),
        // Ended before the window: not counted.
        summary("orders", FAILED, 301),
        summary("billing", ABORTED, 5),
        summary("old", SUCCEEDED, 4000),
      ],
      300_000,
      now,
    );
    expect(stats).toEqual([
      { workflowName: "billing", running: 0, succeeded: 0, failed: 1, failureRate: 1 },
      { workflowName: "orders", running: 1, succeeded: 2, failed: 2, failureRate: 0.5 },
    ]);
  });
});

describe("statsWindowSeconds", () => {
  it("defaults to 300 s and refuses more than a day, naming the field", () => {
    expect(statsWindowSeconds(0)).toBe(300);
    expect(statsWindowSeconds(60)).toBe(60);
    expect(() => statsWindowSeconds(86_401)).toThrow(
      "invalid request:\nwindow_seconds: must be at most 86400, got 86401",
    );
  });
});

describe("countWorkers", () => {
  const presence = (workerId: string, activities: string[]): Uint8Array =>
    encode(WorkerPresence, { workerId, activities, concurrency: 10, inFlight: 0, sdk: "typescript" });

  it("counts each replying worker once per activity it runs, skipping malformed replies", () => {
    const debug = jest.fn();
    const log = { debug, info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const counts = countWorkers(
      [
        presence("w1", ["charge", "ship"]),
        presence("w2", ["charge"]),
        presence("w3", ["charge", "charge"]),
        Uint8Array.of(0xff, 0xff, 0xff),
      ],
      log as never,
    );
    expect([...counts].sort()).toEqual([
      ["charge", 3],
      ["ship", 1],
    ]);
    expect(debug).toHaveBeenCalledTimes(1);
  });

  it("counts nothing without replies", () => {
    expect(countWorkers([]).size).toBe(0);
  });
});

describe("withWorkers", () => {
  it("sets the workers of known activities and adds activities that only have workers", () => {
    const queue = {
      activity: "charge",
      pending: 4,
      running: 1,
      waitingPulls: 0,
      redelivered: 0,
      lastActiveTime: undefined,
      succeeded: 0,
      failed: 0,
      failureRate: 0,
      workersConnected: 0,
    };
    const stats = withWorkers(
      [queue, { ...queue, activity: "idle" }],
      new Map([
        ["charge", 2],
        ["new", 1],
      ]),
    );
    expect(stats.map((a) => [a.activity, a.pending, a.workersConnected])).toEqual([
      ["charge", 4, 2],
      ["idle", 4, 0],
      ["new", 0, 1],
    ]);
  });
});
