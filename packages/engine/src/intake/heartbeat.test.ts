import { ExecutionStatus, TaskResult, encode, subjects } from "@jetflow/contracts";
import type { ActiveState, ExecutionSnapshot } from "@jetflow/contracts";
import { isCancelRequested, parseHeartbeat } from "./heartbeat";

function snapshot(overrides: Partial<ExecutionSnapshot>, phase?: ActiveState["phase"]): ExecutionSnapshot {
  return {
    executionId: "exec-1",
    executionName: "",
    workflowName: "wf",
    workflowVersion: 1,
    machinePath: "",
    parent: undefined,
    rootExecutionId: "exec-1",
    inputJson: "{}",
    status: ExecutionStatus.EXECUTION_STATUS_RUNNING,
    outputJson: "",
    error: "",
    cause: "",
    startTime: undefined,
    stopTime: undefined,
    lastEventId: 7,
    lastEventSeq: 3,
    active: {
      name: "Work",
      enteredTime: undefined,
      inputJson: "{}",
      entryEventId: 6,
      retryCounts: [],
      attempt: 1,
      failedChildren: undefined,
      phase: phase ?? {
        $case: "task",
        value: {
          taskToken: "exec-1.7",
          activity: "a",
          scheduledTime: undefined,
          timeoutSeconds: 0,
          heartbeatSeconds: 0,
        },
      },
    },
    timeoutSeconds: 0,
    timeoutTimerId: "",
    redriveCount: 0,
    redriveTime: undefined,
    redriveState: undefined,
    scheduleId: "",
    ...overrides,
  };
}

describe("isCancelRequested", () => {
  it("lets the active attempt of a running execution go on", () => {
    expect(isCancelRequested(snapshot({}), "exec-1.7", 7)).toBe(false);
  });

  it("stops the worker when the execution is gone or finished", () => {
    expect(isCancelRequested(undefined, "exec-1.7", 7)).toBe(true);
    for (const status of [
      ExecutionStatus.EXECUTION_STATUS_ABORTED,
      ExecutionStatus.EXECUTION_STATUS_FAILED,
      ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
      ExecutionStatus.EXECUTION_STATUS_TIMED_OUT,
    ]) {
      expect(isCancelRequested(snapshot({ status }), "exec-1.7", 7)).toBe(true);
    }
  });

  it("stops a stale attempt: the execution moved on to another attempt or state", () => {
    expect(isCancelRequested(snapshot({ lastEventId: 12 }), "exec-1.4", 4)).toBe(true);
    const waiting = snapshot(
      { lastEventId: 9 },
      { $case: "wait", value: { timerId: "t", fireTime: undefined } },
    );
    expect(isCancelRequested(waiting, "exec-1.7", 7)).toBe(true);
    expect(isCancelRequested(snapshot({ active: undefined, lastEventId: 9 }), "exec-1.7", 7)).toBe(true);
  });

  it("does not stop an attempt newer than the snapshot, whose write lags the dispatch", () => {
    expect(isCancelRequested(snapshot({ lastEventId: 7 }), "exec-1.9", 9)).toBe(false);
  });
});

describe("parseHeartbeat", () => {
  it("reads the token of a heartbeat", () => {
    const bytes = encode(TaskResult, {
      taskToken: "exec-1.7",
      outcome: { $case: "heartbeat", value: {} },
      workerId: "w",
      completedTime: undefined,
    });
    expect(parseHeartbeat(bytes, subjects.heartbeat("a"))).toEqual({
      kind: "heartbeat",
      taskToken: "exec-1.7",
      executionId: "exec-1",
      scheduledEventId: 7,
    });
  });

  it("tells undecodable bytes from a bad token", () => {
    expect(parseHeartbeat(Buffer.from([0xff, 0xff]), subjects.heartbeat("a")).kind).toBe("undecodable");
    const bytes = encode(TaskResult, {
      taskToken: "x",
      outcome: undefined,
      workerId: "",
      completedTime: undefined,
    });
    expect(parseHeartbeat(bytes, subjects.heartbeat("a"))).toEqual({
      kind: "bad-token",
      taskToken: "x",
      reason: 'malformed task token "x"',
    });
  });
});
