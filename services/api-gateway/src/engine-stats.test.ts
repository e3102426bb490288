import { ExecutionStatus } from "@jetflow/contracts";
import type { ExecutionSummary } from "@jetflow/contracts";
import { statsWindowSeconds, summarizeWorkflows } from "./engine-stats";

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
