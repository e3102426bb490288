import { ExecutionSnapshot, ExecutionStatus } from "@jetflow/contracts";
import { indexWriteFor } from "./execution-index";

const { RUNNING, SUCCEEDED, FAILED, ABORTED } = {
  RUNNING: ExecutionStatus.EXECUTION_STATUS_RUNNING,
  SUCCEEDED: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
  FAILED: ExecutionStatus.EXECUTION_STATUS_FAILED,
  ABORTED: ExecutionStatus.EXECUTION_STATUS_ABORTED,
};

function snapshot(status: ExecutionStatus, parent = false): ExecutionSnapshot {
  return ExecutionSnapshot.fromPartial({
    executionId: "e1",
    executionName: "nightly",
    workflowName: "billing",
    workflowVersion: 3,
    status,
    startTime: new Date(1_000),
    stopTime: status === RUNNING ? undefined : new Date(2_000),
    inputJson: '{"big":"input stays out of the index"}',
    parent: parent
      ? { executionId: "p", stateName: "Fan", index: 0, entryEventId: 4, redriveCount: 0 }
      : undefined,
  });
}

describe("indexWriteFor", () => {
  it("creates the entry of a running execution this process has not indexed", () => {
    expect(indexWriteFor(snapshot(RUNNING), undefined)).toEqual({
      op: "create",
      summary: {
        executionId: "e1",
        executionName: "nightly",
        workflowName: "billing",
        workflowVersion: 3,
        status: RUNNING,
        startTime: new Date(1_000),
        stopTime: undefined,
        redriveCount: 0,
        scheduleId: "",
      },
    });
  });

  it("replaces the final entry of a redriven execution, running again, once", () => {
    const redriven = { ...snapshot(RUNNING), redriveCount: 1 };
    expect(indexWriteFor(redriven, FAILED)).toMatchObject({
      op: "put",
      summary: { status: RUNNING, redriveCount: 1 },
    });
    expect(indexWriteFor(redriven, undefined)).toMatchObject({ op: "put" });
    expect(indexWriteFor(redriven, RUNNING)).toBeUndefined();
  });

  it("writes nothing for the further steps of a running execution already indexed", () => {
    expect(indexWriteFor(snapshot(RUNNING), RUNNING)).toBeUndefined();
  });

  it("puts the final summary once when the execution ends", () => {
    expect(indexWriteFor(snapshot(FAILED), RUNNING)).toMatchObject({
      op: "put",
      summary: { status: FAILED, stopTime: new Date(2_000) },
    });
    expect(indexWriteFor(snapshot(ABORTED), undefined)).toMatchObject({ op: "put" });
    expect(indexWriteFor(snapshot(SUCCEEDED), SUCCEEDED)).toBeUndefined();
  });

  it("never indexes a Parallel branch or Map iteration", () => {
    expect(indexWriteFor(snapshot(RUNNING, true), undefined)).toBeUndefined();
    expect(indexWriteFor(snapshot(SUCCEEDED, true), RUNNING)).toBeUndefined();
  });
});
