import { ExecutionSnapshot, TimerKind } from "@jetflow/contracts";
import type { Command, Timer } from "@jetflow/contracts";
import { MalformedIdError, taskToken, timerIds } from "../model";
import { isJudgedOnStaleSnapshot, provenEventId } from "./evidence";

const EXEC = "exec-1";

function outcome(token: string): Command {
  return {
    executionId: EXEC,
    kind: {
      $case: "taskOutcome",
      value: {
        taskToken: token,
        outcome: { $case: "outputJson", value: "{}" },
        workerId: "w",
        completedTime: undefined,
        receivedTime: undefined,
      },
    },
  };
}

function fired(timer: Partial<Timer>): Command {
  return {
    executionId: EXEC,
    kind: {
      $case: "timerFired",
      value: {
        timer: {
          timerId: "",
          executionId: EXEC,
          fireTime: new Date(),
          kind: TimerKind.TIMER_KIND_WAIT,
          taskToken: "",
          heartbeatSeconds: 0,
          armedBatchSeq: 0,
          ...timer,
        },
      },
    },
  };
}

function snapshotAt(lastEventId: number): ExecutionSnapshot {
  return { ...ExecutionSnapshot.fromPartial({ executionId: EXEC }), lastEventId };
}

describe("provenEventId", () => {
  it("reads the scheduling event from a task result's token", () => {
    expect(provenEventId(outcome(taskToken(EXEC, 7)))).toBe(7);
  });

  it("reads the arming event from wait and retry timers and the task from timeouts", () => {
    expect(provenEventId(fired({ timerId: timerIds.wait(EXEC, 12) }))).toBe(12);
    expect(provenEventId(fired({ kind: TimerKind.TIMER_KIND_RETRY, timerId: timerIds.retry(EXEC, 9) }))).toBe(
      9,
    );
    expect(
      provenEventId(
        fired({
          kind: TimerKind.TIMER_KIND_TASK_TIMEOUT,
          timerId: timerIds.taskTimeout(taskToken(EXEC, 4)),
          taskToken: taskToken(EXEC, 4),
        }),
      ),
    ).toBe(4);
    expect(provenEventId(fired({ kind: TimerKind.TIMER_KIND_EXECUTION_TIMEOUT }))).toBe(1);
  });

  it("proves the ExecutionStarted for a top-level Begin and nothing for a child's", () => {
    expect(provenEventId({ executionId: EXEC, kind: { $case: "begin", value: { child: undefined } } })).toBe(
      1,
    );
    const child: Command = {
      executionId: `${EXEC}_3_0`,
      kind: {
        $case: "begin",
        value: {
          child: {
            parent: { executionId: EXEC, stateName: "S", index: 0, entryEventId: 3, redriveCount: 0 },
            workflowName: "",
            workflowVersion: 0,
            machinePath: "",
            inputJson: "{}",
            rootExecutionId: "",
            redriveCount: 0,
          },
        },
      },
    };
    expect(provenEventId(child)).toBe(0);
  });

  it("reads the round of a child's completion", () => {
    const done: Command = {
      executionId: EXEC,
      kind: {
        $case: "childCompleted",
        value: {
          parent: { executionId: EXEC, stateName: "S", index: 2, entryEventId: 15, redriveCount: 0 },
          childExecutionId: `${EXEC}_15_2`,
          status: 2,
          outputJson: "{}",
          error: "",
          cause: "",
        },
      },
    };
    expect(provenEventId(done)).toBe(15);
  });

  it("refuses a token of another execution", () => {
    expect(() => provenEventId(outcome(taskToken("other", 3)))).toThrow(MalformedIdError);
  });
});

describe("isJudgedOnStaleSnapshot", () => {
  const result = outcome(taskToken(EXEC, 5));

  it("flags a result judged stale on a snapshot that lacks the event that scheduled its task", () => {
    expect(isJudgedOnStaleSnapshot(result, "stale", snapshotAt(4))).toBe(true);
    expect(isJudgedOnStaleSnapshot(result, "unknown-execution", undefined)).toBe(true);
  });

  it("accepts the judgement of a snapshot that has that event", () => {
    expect(isJudgedOnStaleSnapshot(result, "stale", snapshotAt(5))).toBe(false);
    expect(isJudgedOnStaleSnapshot(result, "stale", snapshotAt(9))).toBe(false);
  });

  it("never questions a duplicate or an ended execution", () => {
    expect(isJudgedOnStaleSnapshot(result, "duplicate", snapshotAt(1))).toBe(false);
    expect(isJudgedOnStaleSnapshot(result, "not-running", snapshotAt(1))).toBe(false);
  });
});
