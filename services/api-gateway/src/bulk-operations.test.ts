import { ExecutionStatus } from "@jetflow/contracts";
import type { ExecutionSummary } from "@jetflow/contracts";
import { ApiError } from "./errors";
import { bulkOperationId, checkStopFilter, stopDecision } from "./bulk-operations";

const now = new Date("2026-12-03T12:00:00Z");
const blank = {
  workflowName: "",
  status: ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
  namePrefix: "",
  startedAfter: undefined,
  startedBefore: undefined,
};

function summary(status: ExecutionStatus, stopTime?: Date): ExecutionSummary {
  return {
    executionId: "e",
    executionName: "",
    workflowName: "w",
    workflowVersion: 1,
    status,
    startTime: new Date(0),
    stopTime,
    redriveCount: 0,
    scheduleId: "",
  };
}

describe("stopDecision", () => {
  it("stops a running execution", () => {
    expect(stopDecision(summary(ExecutionStatus.EXECUTION_STATUS_RUNNING), now.getTime())).toBe("apply");
  });
  it("skips one that ended after the operation was created, and ignores one that ended before", () => {
    const ended = ExecutionStatus.EXECUTION_STATUS_SUCCEEDED;
    expect(stopDecision(summary(ended, new Date(now.getTime() + 1)), now.getTime())).toBe("skip");
    expect(stopDecision(summary(ended, new Date(now.getTime() - 1)), now.getTime())).toBe("ignore");
  });
});

describe("checkStopFilter", () => {
  it("bounds the filter by the creation time and sets the status to RUNNING", () => {
    const filter = checkStopFilter({ ...blank, workflowName: "w" }, "", "", now);
    expect(filter.startedBefore).toEqual(now);
    expect(filter.status).toBe(ExecutionStatus.EXECUTION_STATUS_RUNNING);
  });
  it("refuses an empty filter, a status other than RUNNING and reversed bounds, all at once", () => {
    expect(() =>
      checkStopFilter(
        {
          ...blank,
          status: ExecutionStatus.EXECUTION_STATUS_FAILED,
          startedAfter: new Date(2),
          startedBefore: new Date(1),
        },
        "",
        "",
        now,
      ),
    ).toThrow(
      new ApiError(
        3,
        "invalid request:\nfilter.status: a stop applies to RUNNING executions only: leave it unset or RUNNING\nfilter.started_before: must be later than started_after",
      ),
    );
    expect(() => checkStopFilter(blank, "", "", now)).toThrow(/set at least one of workflow_name/);
  });
});

describe("bulkOperationId", () => {
  it("is the same for the same request id", () => {
    expect(bulkOperationId("r1")).toBe(bulkOperationId("r1"));
    expect(bulkOperationId("r1")).not.toBe(bulkOperationId("r2"));
  });
});
