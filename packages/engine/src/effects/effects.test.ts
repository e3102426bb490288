import {
  Command,
  EventBatch,
  ExecutionStatus,
  Task,
  TaskCancellation,
  Timer,
  TimerKind,
  encode,
  subjects,
} from "@jetflow/contracts";
import type { HistoryEvent, ParentRef } from "@jetflow/contracts";
import { childExecutionId, commandMsgIds, taskToken, timerIds } from "../model";
import {
  CHILD_STOP_CAUSE,
  CHILD_STOP_ERROR,
  InvalidBatchError,
  START_BATCH_CARRY_MAX_BYTES,
  TASK_CANCEL_REASON,
  parseChildEntryEventId,
  planEffects,
} from "./effects";
import type { Effect } from "./effects";

const EXEC = "exec-1";
const T0 = new Date("2030-01-01T00:00:00.000Z");
const at = (offsetMs: number) => new Date(T0.getTime() + offsetMs);

type Details = NonNullable<HistoryEvent["details"]>;

function event(eventId: number, details: Details, stateName = ""): HistoryEvent {
  return { eventId, executionId: EXEC, timestamp: T0, stateName, details };
}

function batch(events: HistoryEvent[], parent?: ParentRef, executionId = EXEC): EventBatch {
  return { executionId, events, parent };
}

const msgIdOf = (effect: Effect | undefined): string => (effect?.kind === "publish" ? effect.msgId : "");

/** The stream sequence the planned batches pretend to have: it is recorded in their timers. */
const BATCH_SEQ = 42;

function plan(b: EventBatch): Effect[] {
  return planEffects(b, subjects.events(b.executionId), BATCH_SEQ);
}

/** Effects with their bytes decoded, for readable assertions. */
function decoded(effects: Effect[]) {
  return effects.map((effect) => {
    const { bytes, ...rest } = effect;
    switch (effect.label) {
      case "task":
        return { ...rest, message: Task.decode(bytes) };
      case "timer":
        return { ...rest, message: Timer.decode(bytes) };
      case "command":
        return { ...rest, message: Command.decode(bytes) };
      case "task-cancellation":
        return { ...rest, message: TaskCancellation.decode(bytes) };
    }
  });
}

function invalid(b: EventBatch, subject = subjects.events(b.executionId)): InvalidBatchError {
  try {
    planEffects(b, subject);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidBatchError);
    return err as InvalidBatchError;
  }
  throw new Error("expected planEffects to throw");
}

const token = taskToken(EXEC, 4);
const scheduled = (overrides: Partial<Extract<Details, { $case: "taskScheduled" }>["value"]> = {}) =>
  event(
    4,
    {
      $case: "taskScheduled",
      value: {
        taskToken: token,
        activity: "send-email",
        attempt: 1,
        inputJson: '{"to":"a@b"}',
        timeoutSeconds: 0,
        heartbeatSeconds: 0,
        stateName: "Send",
        workflowName: "onboarding",
        ...overrides,
      },
    },
    "Send",
  );

describe("planEffects: tasks", () => {
  it("publishes a TaskScheduled's task on its activity, de-duplicated by the token", () => {
    expect(decoded(plan(batch([scheduled()])))).toEqual([
      {
        kind: "publish",
        label: "task",
        subject: subjects.task("send-email"),
        msgId: token,
        message: {
          taskToken: token,
          executionId: EXEC,
          stateName: "Send",
          activity: "send-email",
          attempt: 1,
          inputJson: '{"to":"a@b"}',
          scheduledTime: T0,
          startToCloseDeadline: undefined,
          heartbeatIntervalSeconds: 0,
          workflowName: "onboarding",
          rootExecutionId: EXEC,
        },
      },
    ]);
  });

  it("names the top-level execution and the attempt in a task of a child execution", () => {
    const grandchild = childExecutionId(childExecutionId(EXEC, 7, 2), 5, 9);
    const effects = decoded(
      plan(batch([scheduled({ taskToken: taskToken(grandchild, 4), attempt: 3 })], undefined, grandchild)),
    );
    expect(effects[0]?.message).toMatchObject({ executionId: grandchild, rootExecutionId: EXEC, attempt: 3 });
  });

  it("arms the task timeout and the heartbeat timeout and sets the deadline", () => {
    const effects = decoded(plan(batch([scheduled({ timeoutSeconds: 30, heartbeatSeconds: 5 })])));
    expect(effects.map((e) => e.label)).toEqual(["task", "timer", "timer"]);
    expect(effects[0]?.message).toMatchObject({
      startToCloseDeadline: at(30_000),
      heartbeatIntervalSeconds: 5,
    });
    expect(effects[1]).toEqual({
      kind: "publish",
      label: "timer",
      subject: subjects.timer(EXEC),
      msgId: timerIds.taskTimeout(token),
      message: {
        timerId: timerIds.taskTimeout(token),
        executionId: EXEC,
        fireTime: at(30_000),
        kind: TimerKind.TIMER_KIND_TASK_TIMEOUT,
        taskToken: token,
        heartbeatSeconds: 0,
        armedBatchSeq: BATCH_SEQ,
      },
    });
    expect(effects[2]).toEqual({
      kind: "publish",
      label: "timer",
      subject: subjects.timer(EXEC),
      msgId: timerIds.heartbeatTimeout(token),
      message: {
        timerId: timerIds.heartbeatTimeout(token),
        executionId: EXEC,
        fireTime: at(5_000),
        kind: TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT,
        taskToken: token,
        heartbeatSeconds: 5,
        armedBatchSeq: BATCH_SEQ,
      },
    });
  });

  it("takes the state name from the event when the TaskScheduled has none", () => {
    const [task] = decoded(plan(batch([scheduled({ stateName: "" })])));
    expect(task?.message).toMatchObject({ stateName: "Send" });
  });

  it("refuses a TaskScheduled without token, with a bad activity or without timestamp", () => {
    expect(invalid(batch([scheduled({ taskToken: "" })])).message).toBe(
      'invalid event batch of execution "exec-1": TaskScheduled (event 4) has no task token',
    );
    expect(invalid(batch([scheduled({ activity: "a b" })])).reason).toBe(
      'TaskScheduled (event 4) has an invalid activity "a b"',
    );
    expect(invalid(batch([{ ...scheduled(), timestamp: undefined }])).reason).toBe(
      "event 4 has no timestamp",
    );
  });

  it("publishes and cancels tasks of any Step Functions activity name on its encoded subject", () => {
    const [task] = plan(batch([scheduled({ activity: "billing.charge-card" })]));
    expect(task?.subject).toBe("jetflow.tasks.billing~2Echarge-card");
    const cancelled = event(9, {
      $case: "taskCancelled",
      value: { taskToken: token, activity: "envoyer-reçu" },
    });
    expect(plan(batch([cancelled]))[0]?.subject).toBe("jetflow.cancel.envoyer-re~C3~A7u");
  });

  it("broadcasts a TaskCancelled with the batch's reason, or a default one", () => {
    const cancelled = event(9, {
      $case: "taskCancelled",
      value: { taskToken: token, activity: "send-email" },
    });
    const stop = event(8, {
      $case: "executionStopRequested",
      value: { error: "Halt", cause: "by operator" },
    });
    expect(decoded(plan(batch([stop, cancelled])))).toEqual([
      {
        kind: "core",
        label: "task-cancellation",
        subject: subjects.taskCancel("send-email"),
        message: { taskTokens: [token], reason: "Halt: by operator" },
      },
    ]);
    const [alone] = decoded(plan(batch([cancelled])));
    expect(alone?.message).toEqual({ taskTokens: [token], reason: TASK_CANCEL_REASON });
    expect(
      invalid(batch([event(9, { $case: "taskCancelled", value: { taskToken: token, activity: "" } })]))
        .reason,
    ).toBe('TaskCancelled (event 9) has an invalid activity ""');
    expect(
      invalid(batch([event(9, { $case: "taskCancelled", value: { taskToken: "", activity: "x" } })])).reason,
    ).toBe("TaskCancelled (event 9) has no task token");
  });
});

describe("planEffects: timers", () => {
  it("arms a Wait timer at the event's fire time", () => {
    const wait = event(5, {
      $case: "waitStarted",
      value: { timerId: timerIds.wait(EXEC, 5), fireTime: at(86_400_000) },
    });
    expect(decoded(plan(batch([wait])))).toEqual([
      {
        kind: "publish",
        label: "timer",
        subject: subjects.timer(EXEC),
        msgId: timerIds.wait(EXEC, 5),
        message: {
          timerId: timerIds.wait(EXEC, 5),
          executionId: EXEC,
          fireTime: at(86_400_000),
          kind: TimerKind.TIMER_KIND_WAIT,
          taskToken: "",
          heartbeatSeconds: 0,
          armedBatchSeq: BATCH_SEQ,
        },
      },
    ]);
  });

  it("arms a retry back-off timer", () => {
    const retry = event(6, {
      $case: "taskRetryScheduled",
      value: {
        error: "Boom",
        nextAttempt: 2,
        delayMs: 1500,
        timerId: timerIds.retry(EXEC, 6),
        fireTime: at(1500),
        retrierIndex: 0,
      },
    });
    const [timer] = decoded(plan(batch([retry])));
    expect(timer).toMatchObject({
      msgId: timerIds.retry(EXEC, 6),
      message: { kind: TimerKind.TIMER_KIND_RETRY, fireTime: at(1500), timerId: timerIds.retry(EXEC, 6) },
    });
  });

  it("refuses a timer without id or fire time", () => {
    expect(
      invalid(batch([event(5, { $case: "waitStarted", value: { timerId: "", fireTime: T0 } })])).reason,
    ).toBe("event 5 arms a timer without an id");
    expect(
      invalid(batch([event(5, { $case: "waitStarted", value: { timerId: "w", fireTime: undefined } })]))
        .reason,
    ).toBe('event 5 arms timer "w" without a fire time');
    expect(
      invalid(
        batch([event(5, { $case: "waitStarted", value: { timerId: "w", fireTime: new Date(Number.NaN) } })]),
      ).reason,
    ).toBe('event 5 arms timer "w" without a fire time');
  });
});

describe("planEffects: execution start", () => {
  const started = (timeoutSeconds: number, parent?: ParentRef) =>
    event(1, {
      $case: "executionStarted",
      value: {
        workflowName: "wf",
        workflowVersion: 1,
        inputJson: "{}",
        executionName: "",
        machinePath: "",
        parent,
        rootExecutionId: "",
        timeoutSeconds,
        timeoutTimerId: timeoutSeconds > 0 ? timerIds.executionTimeout(EXEC) : "",
        redriveCount: 0,
        scheduleId: "",
      },
    });

  it("begins a top-level execution", () => {
    expect(decoded(plan(batch([started(0)])))).toEqual([
      {
        kind: "publish",
        label: "command",
        subject: subjects.command(EXEC),
        msgId: commandMsgIds.begin(EXEC),
        message: { executionId: EXEC, kind: { $case: "begin", value: { child: undefined } } },
      },
    ]);
  });

  /** The BeginExecution of the first effect, decoded. */
  const beginOf = (effects: Effect[]) => {
    const kind = effects[0]?.label === "command" ? Command.decode(effects[0].bytes).kind : undefined;
    return kind?.$case === "begin" ? kind.value : undefined;
  };

  it("sends the start batch with the Begin when its bytes and sequence are known and small", () => {
    const first = batch([started(0)]);
    const bytes = encode(EventBatch, first);
    const value = beginOf(planEffects(first, subjects.events(EXEC), BATCH_SEQ, bytes));
    expect(value?.child).toBeUndefined();
    expect(Buffer.from(value?.startBatch ?? []).equals(Buffer.from(bytes))).toBe(true);
    expect(value?.startBatchSeq).toBe(BATCH_SEQ);
  });

  it("sends no start batch when it is large, or its sequence or bytes are unknown", () => {
    const carried = (effects: Effect[]) => beginOf(effects)?.startBatch;
    const small = batch([started(0)]);
    const bytes = encode(EventBatch, small);
    const subject = subjects.events(EXEC);
    expect(carried(planEffects(small, subject, BATCH_SEQ))).toBeUndefined();
    expect(carried(planEffects(small, subject, 0, bytes))).toBeUndefined();
    const large = batch([{ ...started(0), details: { ...started(0).details! } }]);
    const details = large.events[0]?.details;
    if (details?.$case === "executionStarted") {
      details.value = {
        ...details.value,
        inputJson: JSON.stringify("x".repeat(START_BATCH_CARRY_MAX_BYTES)),
      };
    }
    const largeBytes = encode(EventBatch, large);
    expect(largeBytes.byteLength).toBeGreaterThan(START_BATCH_CARRY_MAX_BYTES);
    expect(carried(planEffects(large, subject, BATCH_SEQ, largeBytes))).toBeUndefined();
  });

  it("arms the execution timeout of a top-level execution", () => {
    const effects = decoded(plan(batch([started(60)])));
    expect(effects[1]).toEqual({
      kind: "publish",
      label: "timer",
      subject: subjects.timer(EXEC),
      msgId: timerIds.executionTimeout(EXEC),
      message: {
        timerId: timerIds.executionTimeout(EXEC),
        executionId: EXEC,
        fireTime: at(60_000),
        kind: TimerKind.TIMER_KIND_EXECUTION_TIMEOUT,
        taskToken: "",
        heartbeatSeconds: 0,
        armedBatchSeq: BATCH_SEQ,
      },
    });
  });

  it("uses the engine's timer id when the event has none", () => {
    const e = started(60);
    if (e.details?.$case === "executionStarted") e.details.value.timeoutTimerId = "";
    expect(msgIdOf(plan(batch([e]))[1])).toBe(timerIds.executionTimeout(EXEC));
  });

  it("does nothing for a child's start, which already entered its first state", () => {
    const parent: ParentRef = {
      executionId: "p",
      stateName: "Fan",
      index: 0,
      entryEventId: 3,
      redriveCount: 0,
    };
    expect(plan(batch([started(60)], parent))).toEqual([]);
    expect(plan(batch([started(60, parent)]))).toEqual([]);
  });
});

describe("planEffects: children", () => {
  const childId = childExecutionId(EXEC, 7, 2);

  it.each(["mapIterationStarted", "parallelBranchStarted"] as const)(
    "begins the child of a %s, parent ref taken from the event and the child id",
    ($case) => {
      const e = event(
        9,
        { $case, value: { index: 2, childExecutionId: childId, inputJson: '{"n":2}', redriveCount: 0 } },
        "Fan",
      );
      expect(decoded(plan(batch([e])))).toEqual([
        {
          kind: "publish",
          label: "command",
          subject: subjects.command(childId),
          msgId: commandMsgIds.begin(childId),
          message: {
            executionId: childId,
            kind: {
              $case: "begin",
              value: {
                child: {
                  parent: { executionId: EXEC, stateName: "Fan", index: 2, entryEventId: 7, redriveCount: 0 },
                  workflowName: "",
                  workflowVersion: 0,
                  machinePath: "",
                  inputJson: '{"n":2}',
                  rootExecutionId: "",
                  redriveCount: 0,
                },
              },
            },
          },
        },
      ]);
    },
  );

  it("refuses a child that is not the parent's, or a child start without state name", () => {
    const other = event(
      9,
      {
        $case: "mapIterationStarted",
        value: {
          index: 2,
          childExecutionId: childExecutionId("other", 7, 2),
          inputJson: "{}",
          redriveCount: 0,
        },
      },
      "Fan",
    );
    expect(invalid(batch([other])).reason).toBe(
      'event 9 starts child "other_7_2", which is not child 2 of "exec-1"',
    );
    const noState = event(9, {
      $case: "mapIterationStarted",
      value: { index: 2, childExecutionId: childId, inputJson: "{}", redriveCount: 0 },
    });
    expect(invalid(batch([noState])).reason).toBe("event 9 starts a child but names no state");
  });

  it.each([
    [
      "executionSucceeded",
      { outputJson: "[1]" },
      ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
      { outputJson: "[1]", error: "", cause: "" },
    ],
    [
      "executionFailed",
      { error: "E", cause: "c" },
      ExecutionStatus.EXECUTION_STATUS_FAILED,
      { outputJson: "", error: "E", cause: "c" },
    ],
    [
      "executionTimedOut",
      { error: "States.Timeout", cause: "" },
      ExecutionStatus.EXECUTION_STATUS_TIMED_OUT,
      { outputJson: "", error: "States.Timeout", cause: "" },
    ],
    [
      "executionAborted",
      { error: "X", cause: "y" },
      ExecutionStatus.EXECUTION_STATUS_ABORTED,
      { outputJson: "", error: "X", cause: "y" },
    ],
  ] as const)("reports a child's %s to its parent", ($case, value, status, result) => {
    const parent: ParentRef = {
      executionId: "parent-1",
      stateName: "Fan",
      index: 2,
      entryEventId: 7,
      redriveCount: 0,
    };
    const child = childExecutionId("parent-1", 7, 2);
    const terminal = {
      eventId: 12,
      executionId: child,
      timestamp: T0,
      stateName: "",
      details: { $case, value },
    } as HistoryEvent;
    expect(decoded(plan(batch([terminal], parent, child)))).toEqual([
      {
        kind: "publish",
        label: "command",
        subject: subjects.command("parent-1"),
        msgId: commandMsgIds.childCompleted(child, 12),
        message: {
          executionId: "parent-1",
          kind: { $case: "childCompleted", value: { parent, childExecutionId: child, status, ...result } },
        },
      },
    ]);
    // The end of a top-level execution has no effect.
    expect(plan(batch([terminal], undefined, child))).toEqual([]);
  });

  it("continues launching children of the entry named by ChildLaunchPending", () => {
    const pending = event(20, { $case: "childLaunchPending", value: { nextIndex: 100, entryEventId: 7 } });
    expect(decoded(plan(batch([pending])))).toEqual([
      {
        kind: "publish",
        label: "command",
        subject: subjects.command(EXEC),
        msgId: commandMsgIds.continueChildren(EXEC, 7, 100),
        message: {
          executionId: EXEC,
          kind: { $case: "continueChildren", value: { entryEventId: 7 } },
        },
      },
    ]);
  });

  it("falls back to the entry of the batch's child starts when ChildLaunchPending has none", () => {
    const startedChild = event(
      19,
      {
        $case: "mapIterationStarted",
        value: {
          index: 99,
          childExecutionId: childExecutionId(EXEC, 7, 99),
          inputJson: "{}",
          redriveCount: 0,
        },
      },
      "Fan",
    );
    const pending = event(20, { $case: "childLaunchPending", value: { nextIndex: 100, entryEventId: 0 } });
    expect(msgIdOf(plan(batch([startedChild, pending]))[1])).toBe(
      commandMsgIds.continueChildren(EXEC, 7, 100),
    );
    expect(invalid(batch([pending])).reason).toBe("ChildLaunchPending (event 20) names no entry");
  });

  it("stops each cancelled child, with the batch's reason or a default one", () => {
    const prefix = `${EXEC}_7_`;
    const cancelled = event(30, { $case: "childrenCancelled", value: { idPrefix: prefix, indices: [0, 5] } });
    expect(decoded(plan(batch([cancelled])))).toEqual(
      [0, 5].map((i) => ({
        kind: "publish",
        label: "command",
        subject: subjects.command(`${prefix}${i}`),
        msgId: commandMsgIds.stop(`${prefix}${i}`, 30),
        message: {
          executionId: `${prefix}${i}`,
          kind: { $case: "stop", value: { error: CHILD_STOP_ERROR, cause: CHILD_STOP_CAUSE } },
        },
      })),
    );
    const failed = event(29, {
      $case: "mapFailed",
      value: { error: "States.ExceedToleratedFailureThreshold", cause: "3 failed" },
    });
    const [first] = decoded(plan(batch([failed, cancelled])));
    expect(first?.message).toMatchObject({
      kind: { $case: "stop", value: { error: "States.ExceedToleratedFailureThreshold", cause: "3 failed" } },
    });
    expect(
      invalid(batch([event(30, { $case: "childrenCancelled", value: { idPrefix: "a.b_", indices: [1] } })]))
        .reason,
    ).toBe('ChildrenCancelled (event 30) names an invalid child "a.b_1"');
  });
});

describe("planEffects: batches", () => {
  it("performs the effects of every event of a transition, in order", () => {
    const wait = event(5, {
      $case: "waitStarted",
      value: { timerId: timerIds.wait(EXEC, 5), fireTime: at(10) },
    });
    const effects = plan(
      batch([
        event(2, { $case: "taskSucceeded", value: { taskToken: "t", outputJson: "{}" } }),
        event(3, { $case: "stateExited", value: { stateName: "A", outputJson: "{}" } }),
        event(4, { $case: "stateEntered", value: { stateName: "Send", stateType: "Task", inputJson: "{}" } }),
        scheduled({ timeoutSeconds: 10 }),
        wait,
      ]),
    );
    expect(effects.map((e) => [e.label, msgIdOf(e)])).toEqual([
      ["task", token],
      ["timer", timerIds.taskTimeout(token)],
      ["timer", timerIds.wait(EXEC, 5)],
    ]);
  });

  it("skips events of a kind it does not know", () => {
    expect(plan(batch([{ ...event(2, { $case: "waitFinished", value: {} }), details: undefined }]))).toEqual(
      [],
    );
  });

  it("refuses a batch without events, with a bad id or a bad parent, or on another subject", () => {
    expect(invalid(batch([])).message).toBe(
      'invalid event batch of execution "exec-1": the batch has no events',
    );
    expect(invalid(batch([scheduled()], undefined, "")).reason).toBe("the execution id is not a valid id");
    expect(invalid(batch([scheduled()]), subjects.events("exec-2")).reason).toBe(
      `received on "${subjects.events("exec-2")}", not on its own events subject`,
    );
    const parent: ParentRef = { executionId: "", stateName: "", index: 0, entryEventId: 0, redriveCount: 0 };
    expect(invalid(batch([scheduled()], parent)).reason).toBe("the parent's execution id is not a valid id");
  });

  it("plans the same effects, byte for byte, each time (so redelivery is de-duplicated)", () => {
    const b = batch([scheduled({ timeoutSeconds: 3, heartbeatSeconds: 1 })]);
    const again = EventBatch.decode(encode(EventBatch, b));
    expect(plan(again)).toEqual(plan(b));
  });
});

describe("parseChildEntryEventId", () => {
  it("reads the entry id of a child id built by childExecutionId", () => {
    expect(parseChildEntryEventId("p_1", childExecutionId("p_1", 42, 10), 10)).toBe(42);
    expect(parseChildEntryEventId("p", "p_42_10", 1)).toBeUndefined();
    expect(parseChildEntryEventId("p", "q_42_10", 10)).toBeUndefined();
    expect(parseChildEntryEventId("p", "p_x_10", 10)).toBeUndefined();
    expect(parseChildEntryEventId("p", "p_0_10", 10)).toBeUndefined();
    expect(parseChildEntryEventId("p", "p__10", 10)).toBeUndefined();
  });
});
