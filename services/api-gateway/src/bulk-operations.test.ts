import { BulkAction, ExecutionStatus } from "@jetflow/contracts";
import type { ExecutionSummary } from "@jetflow/contracts";
import { ApiError } from "./errors";
import {
  bulkDecision,
  bulkOperationId,
  checkRedriveFilter,
  checkStopFilter,
  redriveDecision,
  stopDecision,
} from "./bulk-operations";

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

describe("redriveDecision", () => {
  const before = new Date(now.getTime() - 1);
  const any = ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED;
  it("redrives a FAILED, TIMED_OUT or ABORTED execution that ended before the operation was created", () => {
    for (const status of [
      ExecutionStatus.EXECUTION_STATUS_FAILED,
      ExecutionStatus.EXECUTION_STATUS_TIMED_OUT,
      ExecutionStatus.EXECUTION_STATUS_ABORTED,
    ]) {
      expect(redriveDecision(summary(status, before), any, now.getTime())).toBe("apply");
    }
  });
  it("keeps to the filter's status when one is set", () => {
    const failed = ExecutionStatus.EXECUTION_STATUS_FAILED;
    const aborted = summary(ExecutionStatus.EXECUTION_STATUS_ABORTED, before);
    expect(redriveDecision(aborted, failed, now.getTime())).toBe("ignore");
    expect(redriveDecision(summary(failed, before), failed, now.getTime())).toBe("apply");
  });
  it("ignores running and succeeded executions, and one that ended after the operation was created", () => {
    expect(redriveDecision(summary(ExecutionStatus.EXECUTION_STATUS_RUNNING), any, now.getTime())).toBe(
      "ignore",
    );
    expect(
      redriveDecision(summary(ExecutionStatus.EXECUTION_STATUS_SUCCEEDED, before), any, now.getTime()),
    ).toBe("ignore");
    // Running when the operation was created (or redriven since, and failed again): never twice.
    const later = summary(ExecutionStatus.EXECUTION_STATUS_FAILED, new Date(now.getTime() + 1));
    expect(redriveDecision(later, any, now.getTime())).toBe("ignore");
  });
});

describe("bulkDecision", () => {
  const filter = { ...blank, workflowName: "w" };
  it("is the decision of the operation's action", () => {
    const running = summary(ExecutionStatus.EXECUTION_STATUS_RUNNING);
    const failed = summary(ExecutionStatus.EXECUTION_STATUS_FAILED, new Date(now.getTime() - 1));
    const stop = { action: BulkAction.BULK_ACTION_STOP, filter };
    const redrive = { action: BulkAction.BULK_ACTION_REDRIVE, filter };
    expect([bulkDecision(stop, running, now.getTime()), bulkDecision(stop, failed, now.getTime())]).toEqual([
      "apply",
      "ignore",
    ]);
    expect([
      bulkDecision(redrive, running, now.getTime()),
      bulkDecision(redrive, failed, now.getTime()),
    ]).toEqual(["ignore", "apply"]);
  });
  it("applies nothing for an action it does not know", () => {
    const running = summary(ExecutionStatus.EXECUTION_STATUS_RUNNING);
    expect(bulkDecision({ action: BulkAction.UNRECOGNIZED, filter }, running, now.getTime())).toBe("ignore");
  });
});

describe("checkRedriveFilter", () => {
  it("bounds the filter by the creation time and keeps an unset status unset", () => {
    const filter = checkRedriveFilter({ ...blank, namePrefix: "n-" }, now);
    expect(filter.startedBefore).toEqual(now);
    expect(filter.status).toBe(ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED);
    const timedOut = ExecutionStatus.EXECUTION_STATUS_TIMED_OUT;
    expect(checkRedriveFilter({ ...blank, workflowName: "w", status: timedOut }, now).status).toBe(timedOut);
  });
  it("refuses a status a redrive does not apply to and an empty filter", () => {
    for (const status of [
      ExecutionStatus.EXECUTION_STATUS_RUNNING,
      ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
    ]) {
      expect(() => checkRedriveFilter({ ...blank, workflowName: "w", status }, now)).toThrow(
        new ApiError(
          3,
          "invalid request:\nfilter.status: a redrive applies to FAILED, TIMED_OUT or ABORTED executions only: leave it unset (all three) or name one",
        ),
      );
    }
    expect(() => checkRedriveFilter(blank, now)).toThrow(/a redrive of everything/);
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
  it("differs between a stop and a redrive with the same request id", () => {
    expect(bulkOperationId("r1", BulkAction.BULK_ACTION_REDRIVE)).toBe(
      bulkOperationId("r1", BulkAction.BULK_ACTION_REDRIVE),
    );
    expect(bulkOperationId("r1", BulkAction.BULK_ACTION_REDRIVE)).not.toBe(bulkOperationId("r1"));
  });
});
