/**
 * The effects of an EventBatch, decided without I/O: which messages the dispatcher publishes when a
 * transition of an execution has become durable. Every JetStream effect carries a `Nats-Msg-Id`
 * derived from the event, so performing the effects of a batch twice publishes nothing new.
 */
import {
  Command,
  ExecutionStatus,
  Task,
  TaskCancellation,
  Timer,
  TimerKind,
  encode,
  isActivityName,
  subjects,
} from "@jetflow/contracts";
import type { EventBatch, HistoryEvent, ParentRef } from "@jetflow/contracts";
import { commandMsgIds, isExecutionId, rootExecutionIdOf, timerIds } from "../model";

/** A JetStream publish, de-duplicated by the server through `msgId`; its ack is awaited. */
export interface PublishEffect {
  readonly kind: "publish";
  readonly subject: string;
  readonly msgId: string;
  readonly bytes: Uint8Array;
  /** What the message is, for logs and tests: "task", "timer", "command". */
  readonly label: EffectLabel;
}

/** A best-effort core NATS publish (no ack exists to wait for). */
export interface CoreEffect {
  readonly kind: "core";
  readonly subject: string;
  readonly bytes: Uint8Array;
  readonly label: EffectLabel;
}

/** One message the dispatcher sends because of an event. */
export type Effect = PublishEffect | CoreEffect;

/** The kinds of messages effects carry. */
export type EffectLabel = "task" | "timer" | "command" | "task-cancellation";

/** Thrown when a batch is not one the engine could have written; the batch is dead-lettered. */
export class InvalidBatchError extends Error {
  override readonly name = "InvalidBatchError";
  constructor(
    readonly executionId: string,
    readonly reason: string,
  ) {
    super(`invalid event batch of execution "${executionId.slice(0, 200)}": ${reason}`);
  }
}

/** The error name of a StopRequested sent to children whose parent state ended. */
export const CHILD_STOP_ERROR = "States.Aborted";
/** Cause of a child's stop when the batch records no reason of its own. */
export const CHILD_STOP_CAUSE = "parent state ended";
/** Reason of a TaskCancellation when the batch records no reason of its own. */
export const TASK_CANCEL_REASON = "task abandoned by its execution";

/**
 * The largest first batch of a top-level execution that its BeginExecution carries (see
 * `BeginExecution.start_batch`): enough for the inputs of almost every start, small enough that
 * the command stays a small message. A larger one is loaded by the orchestrator instead.
 */
export const START_BATCH_CARRY_MAX_BYTES = 64 * 1024;

/**
 * The effects of one batch received on `subject`, in event order. Events without an effect
 * (StateEntered, TaskSucceeded...) contribute nothing; an unknown event kind (from a newer
 * writer) is skipped too.
 * `batchSeq` (the batch's stream sequence, 0 when unknown) is recorded in the timers it arms.
 * `batchBytes`, the batch as stored, travels in the BeginExecution of a top-level execution's
 * first batch (with `batchSeq`, when both are known and the batch is at most
 * START_BATCH_CARRY_MAX_BYTES), so that the orchestrator need not load what it has just been sent.
 * @throws InvalidBatchError when the batch does not belong to `subject` or an event lacks what
 *   its effect needs (a timestamp, a fire time, a usable activity or child id)
 */
export function planEffects(
  batch: EventBatch,
  subject: string,
  batchSeq = 0,
  batchBytes?: Uint8Array,
): Effect[] {
  const executionId = batch.executionId;
  if (!isExecutionId(executionId)) {
    throw new InvalidBatchError(executionId, "the execution id is not a valid id");
  }
  if (subject !== subjects.events(executionId)) {
    throw new InvalidBatchError(executionId, `received on "${subject}", not on its own events subject`);
  }
  if (batch.events.length === 0) throw new InvalidBatchError(executionId, "the batch has no events");
  if (batch.parent && !isExecutionId(batch.parent.executionId)) {
    throw new InvalidBatchError(executionId, "the parent's execution id is not a valid id");
  }
  const context: BatchContext = {
    batch,
    batchSeq,
    batchBytes,
    fail: (reason) => new InvalidBatchError(executionId, reason),
  };
  return batch.events.flatMap((event) => eventEffects(context, event));
}

interface BatchContext {
  readonly batch: EventBatch;
  /** The batch's sequence in JETFLOW_EVENTS (0 when unknown). */
  readonly batchSeq: number;
  /** The batch as stored, when known. */
  readonly batchBytes: Uint8Array | undefined;
  fail(reason: string): InvalidBatchError;
}

function eventEffects(ctx: BatchContext, event: HistoryEvent): Effect[] {
  const details = event.details;
  if (!details) return [];
  const executionId = ctx.batch.executionId;
  switch (details.$case) {
    case "taskScheduled":
      return taskScheduledEffects(ctx, event, details.value);
    case "waitStarted":
      return [
        timerEffect(ctx, event, {
          kind: TimerKind.TIMER_KIND_WAIT,
          timerId: details.value.timerId,
          fireTime: details.value.fireTime,
        }),
      ];
    case "taskRetryScheduled":
      return [
        timerEffect(ctx, event, {
          kind: TimerKind.TIMER_KIND_RETRY,
          timerId: details.value.timerId,
          fireTime: details.value.fireTime,
        }),
      ];
    case "executionStarted": {
      // A child's first batch already enters its first state: it needs neither a Begin nor an
      // execution timeout (TimeoutSeconds exists at the top level only).
      if (ctx.batch.parent || details.value.parent) return [];
      const effects: Effect[] = [
        commandEffect(executionId, commandMsgIds.begin(executionId), {
          $case: "begin",
          value: { child: undefined, ...carriedStartBatch(ctx, event) },
        }),
      ];
      if (details.value.timeoutSeconds > 0) {
        effects.push(
          timerEffect(ctx, event, {
            kind: TimerKind.TIMER_KIND_EXECUTION_TIMEOUT,
            timerId: details.value.timeoutTimerId || timerIds.executionTimeout(executionId),
            fireTime: addSeconds(requireTimestamp(ctx, event), details.value.timeoutSeconds),
          }),
        );
      }
      return effects;
    }
    case "mapIterationStarted":
    case "parallelBranchStarted":
      return [childBeginEffect(ctx, event, details.value)];
    case "executionSucceeded":
      return childCompletedEffects(ctx, event, ExecutionStatus.EXECUTION_STATUS_SUCCEEDED, {
        outputJson: details.value.outputJson,
        error: "",
        cause: "",
      });
    case "childResultReported":
      return childCompletedEffects(ctx, event, ExecutionStatus.EXECUTION_STATUS_SUCCEEDED, {
        outputJson: details.value.outputJson,
        error: "",
        cause: "",
      });
    case "executionFailed":
      return childCompletedEffects(ctx, event, ExecutionStatus.EXECUTION_STATUS_FAILED, {
        outputJson: "",
        ...details.value,
      });
    case "executionTimedOut":
      return childCompletedEffects(ctx, event, ExecutionStatus.EXECUTION_STATUS_TIMED_OUT, {
        outputJson: "",
        ...details.value,
      });
    case "executionAborted":
      return childCompletedEffects(ctx, event, ExecutionStatus.EXECUTION_STATUS_ABORTED, {
        outputJson: "",
        ...details.value,
      });
    case "childLaunchPending": {
      const entryEventId = details.value.entryEventId || latestChildEntryEventId(ctx);
      if (!entryEventId) throw ctx.fail(`ChildLaunchPending (event ${event.eventId}) names no entry`);
      return [
        commandEffect(
          executionId,
          commandMsgIds.continueChildren(executionId, entryEventId, details.value.nextIndex),
          { $case: "continueChildren", value: { entryEventId } },
        ),
      ];
    }
    case "taskCancelled": {
      const { taskToken, activity } = details.value;
      if (!taskToken) throw ctx.fail(`TaskCancelled (event ${event.eventId}) has no task token`);
      if (!isActivityName(activity)) {
        throw ctx.fail(`TaskCancelled (event ${event.eventId}) has an invalid activity "${activity}"`);
      }
      const reason = batchStopReason(ctx.batch);
      return [
        {
          kind: "core",
          subject: subjects.taskCancel(activity),
          bytes: encode(TaskCancellation, {
            taskTokens: [taskToken],
            reason: reason ? [reason.error, reason.cause].filter(Boolean).join(": ") : TASK_CANCEL_REASON,
          }),
          label: "task-cancellation",
        },
      ];
    }
    case "childrenCancelled": {
      const reason = batchStopReason(ctx.batch);
      const stop = {
        error: reason?.error || CHILD_STOP_ERROR,
        cause: reason?.cause || CHILD_STOP_CAUSE,
      };
      return details.value.indices.map((index) => {
        const childId = `${details.value.idPrefix}${index}`;
        if (!isExecutionId(childId)) {
          throw ctx.fail(`ChildrenCancelled (event ${event.eventId}) names an invalid child "${childId}"`);
        }
        return commandEffect(childId, commandMsgIds.stop(childId, event.eventId), {
          $case: "stop",
          value: stop,
        });
      });
    }
    case "stateEntered":
    case "stateExited":
    case "taskStarted":
    case "taskSucceeded":
    case "taskFailed":
    case "taskTimedOut":
    case "waitFinished":
    case "mapStarted":
    case "mapIterationSucceeded":
    case "mapIterationFailed":
    case "mapSucceeded":
    case "mapFailed":
    case "parallelStarted":
    case "parallelSucceeded":
    case "parallelFailed":
    case "parallelBranchSucceeded":
    case "parallelBranchFailed":
    case "executionStopRequested":
    case "childrenRedriven":
      return [];
    case "executionRedriven": {
      // The execution timeout counts again from the redrive (top level only).
      const { timeoutSeconds, timeoutTimerId } = details.value;
      if (ctx.batch.parent || timeoutSeconds === 0 || !timeoutTimerId) return [];
      return [
        timerEffect(ctx, event, {
          kind: TimerKind.TIMER_KIND_EXECUTION_TIMEOUT,
          timerId: timeoutTimerId,
          fireTime: addSeconds(requireTimestamp(ctx, event), timeoutSeconds),
        }),
      ];
    }
    default: {
      const unknown: never = details;
      return unknown;
    }
  }
}

function taskScheduledEffects(
  ctx: BatchContext,
  event: HistoryEvent,
  scheduled: {
    taskToken: string;
    activity: string;
    attempt: number;
    inputJson: string;
    timeoutSeconds: number;
    heartbeatSeconds: number;
    stateName: string;
    workflowName: string;
  },
): Effect[] {
  const { taskToken, activity, timeoutSeconds, heartbeatSeconds } = scheduled;
  if (!taskToken) throw ctx.fail(`TaskScheduled (event ${event.eventId}) has no task token`);
  if (!isActivityName(activity)) {
    throw ctx.fail(`TaskScheduled (event ${event.eventId}) has an invalid activity "${activity}"`);
  }
  const scheduledTime = requireTimestamp(ctx, event);
  const task: Task = {
    taskToken,
    executionId: ctx.batch.executionId,
    stateName: scheduled.stateName || event.stateName,
    activity,
    attempt: scheduled.attempt,
    inputJson: scheduled.inputJson,
    scheduledTime,
    startToCloseDeadline: timeoutSeconds > 0 ? addSeconds(scheduledTime, timeoutSeconds) : undefined,
    heartbeatIntervalSeconds: heartbeatSeconds,
    workflowName: scheduled.workflowName,
    rootExecutionId: rootExecutionIdOf(ctx.batch.executionId),
  };
  const effects: Effect[] = [
    {
      kind: "publish",
      subject: subjects.task(activity),
      msgId: taskToken,
      bytes: encode(Task, task),
      label: "task",
    },
  ];
  if (timeoutSeconds > 0) {
    effects.push(
      timerEffect(ctx, event, {
        kind: TimerKind.TIMER_KIND_TASK_TIMEOUT,
        timerId: timerIds.taskTimeout(taskToken),
        fireTime: addSeconds(scheduledTime, timeoutSeconds),
        taskToken,
      }),
    );
  }
  if (heartbeatSeconds > 0) {
    effects.push(
      timerEffect(ctx, event, {
        kind: TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT,
        timerId: timerIds.heartbeatTimeout(taskToken),
        fireTime: addSeconds(scheduledTime, heartbeatSeconds),
        taskToken,
        heartbeatSeconds,
      }),
    );
  }
  return effects;
}

function timerEffect(
  ctx: BatchContext,
  event: HistoryEvent,
  timer: {
    kind: TimerKind;
    timerId: string;
    fireTime: Date | undefined;
    taskToken?: string;
    heartbeatSeconds?: number;
  },
): PublishEffect {
  if (!timer.timerId) throw ctx.fail(`event ${event.eventId} arms a timer without an id`);
  if (!isValidDate(timer.fireTime)) {
    throw ctx.fail(`event ${event.eventId} arms timer "${timer.timerId}" without a fire time`);
  }
  const executionId = ctx.batch.executionId;
  return {
    kind: "publish",
    subject: subjects.timer(executionId),
    msgId: timer.timerId,
    bytes: encode(Timer, {
      timerId: timer.timerId,
      executionId,
      fireTime: timer.fireTime,
      kind: timer.kind,
      taskToken: timer.taskToken ?? "",
      heartbeatSeconds: timer.heartbeatSeconds ?? 0,
      armedBatchSeq: ctx.batchSeq,
    }),
    label: "timer",
  };
}

/**
 * The first batch of a top-level execution, for its BeginExecution to carry: only a batch that
 * starts the history (its ExecutionStarted is event 1) whose stream sequence and bytes are known
 * and small; anything else leaves the orchestrator to load the snapshot, as it always could.
 */
function carriedStartBatch(
  ctx: BatchContext,
  started: HistoryEvent,
): { startBatch: Buffer; startBatchSeq: number } | undefined {
  const bytes = ctx.batchBytes;
  if (started.eventId !== 1 || ctx.batchSeq <= 0 || bytes === undefined) return undefined;
  if (bytes.byteLength > START_BATCH_CARRY_MAX_BYTES) return undefined;
  // A view, not a copy: the command is encoded at once (`commandEffect`), before `bytes` can change.
  return {
    startBatch: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    startBatchSeq: ctx.batchSeq,
  };
}

function commandEffect(executionId: string, msgId: string, kind: Command["kind"]): PublishEffect {
  return {
    kind: "publish",
    subject: subjects.command(executionId),
    msgId,
    bytes: encode(Command, { executionId, kind }),
    label: "command",
  };
}

/**
 * BeginExecution{child} for a new branch or iteration. The parent's events do not carry the
 * workflow, machine path or root of the child: the orchestrator fills them in from the parent.
 */
function childBeginEffect(
  ctx: BatchContext,
  event: HistoryEvent,
  started: { index: number; childExecutionId: string; inputJson: string; redriveCount: number },
): PublishEffect {
  const parentId = ctx.batch.executionId;
  const childId = started.childExecutionId;
  const entryEventId = parseChildEntryEventId(parentId, childId, started.index);
  if (entryEventId === undefined) {
    throw ctx.fail(
      `event ${event.eventId} starts child "${childId.slice(0, 200)}", which is not child ${started.index} of "${parentId}"`,
    );
  }
  if (!event.stateName) throw ctx.fail(`event ${event.eventId} starts a child but names no state`);
  const parent: ParentRef = {
    executionId: parentId,
    stateName: event.stateName,
    index: started.index,
    entryEventId,
    redriveCount: started.redriveCount,
  };
  return commandEffect(childId, commandMsgIds.begin(childId, started.redriveCount), {
    $case: "begin",
    value: {
      child: {
        parent,
        workflowName: "",
        workflowVersion: 0,
        machinePath: "",
        inputJson: started.inputJson,
        rootExecutionId: "",
        redriveCount: started.redriveCount,
      },
    },
  });
}

function childCompletedEffects(
  ctx: BatchContext,
  event: HistoryEvent,
  status: ExecutionStatus,
  result: { outputJson: string; error: string; cause: string },
): Effect[] {
  const parent = ctx.batch.parent;
  if (!parent) return [];
  const childId = ctx.batch.executionId;
  return [
    commandEffect(parent.executionId, commandMsgIds.childCompleted(childId, event.eventId), {
      $case: "childCompleted",
      value: { parent, childExecutionId: childId, status, ...result },
    }),
  ];
}

/**
 * The entry event id inside a child id `<parentId>_<entryEventId>_<index>` (see
 * `childExecutionId`), or undefined when `childId` is not child `index` of `parentId`.
 */
export function parseChildEntryEventId(parentId: string, childId: string, index: number): number | undefined {
  const head = `${parentId}_`;
  const tail = `_${index}`;
  if (!isExecutionId(childId) || !childId.startsWith(head) || !childId.endsWith(tail)) return undefined;
  const middle = childId.slice(head.length, childId.length - tail.length);
  return /^[1-9]\d{0,15}$/.test(middle) ? Number(middle) : undefined;
}

/** For a ChildLaunchPending from an older writer: the entry of the children started in the batch. */
function latestChildEntryEventId(ctx: BatchContext): number | undefined {
  for (let i = ctx.batch.events.length - 1; i >= 0; i--) {
    const details = ctx.batch.events[i]?.details;
    if (details?.$case === "mapIterationStarted" || details?.$case === "parallelBranchStarted") {
      return parseChildEntryEventId(
        ctx.batch.executionId,
        details.value.childExecutionId,
        details.value.index,
      );
    }
  }
  return undefined;
}

/** Why the batch abandons work (stop, timeout, failure), when it says so. */
function batchStopReason(batch: EventBatch): { error: string; cause: string } | undefined {
  for (const event of batch.events) {
    const details = event.details;
    switch (details?.$case) {
      case "executionStopRequested":
      case "executionTimedOut":
      case "executionFailed":
      case "executionAborted":
      case "mapFailed":
      case "parallelFailed":
        if (details.value.error || details.value.cause) {
          return { error: details.value.error, cause: details.value.cause };
        }
        break;
      default:
        break;
    }
  }
  return undefined;
}

function requireTimestamp(ctx: BatchContext, event: HistoryEvent): Date {
  if (!isValidDate(event.timestamp)) throw ctx.fail(`event ${event.eventId} has no timestamp`);
  return event.timestamp;
}

function isValidDate(date: Date | undefined): date is Date {
  return date !== undefined && !Number.isNaN(date.getTime());
}

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
