/**
 * When a durable timer fires, decided without I/O or a clock of its own: the caller passes `now`.
 * A timer not yet due is handed back to JetStream with a delay (NAK with delay), so a restart of
 * anything recomputes the delay from the fire time in the message.
 */
import type { Timer } from "@jetflow/contracts";
import { Command, TimerKind, encode, parseHeartbeatRecord, subjects } from "@jetflow/contracts";
import { commandMsgIds, isExecutionId, parseTaskToken } from "../model";
import type { PublishEffect } from "./effects";

/** Thrown when a timer message is not one the dispatcher could have armed; it is dead-lettered. */
export class InvalidTimerError extends Error {
  override readonly name = "InvalidTimerError";
  constructor(
    readonly timerId: string,
    readonly reason: string,
  ) {
    super(`invalid timer "${timerId.slice(0, 200)}": ${reason}`);
  }
}

/** What to do with a timer message now. */
export type TimerDecision =
  /** Due: send TimerFired, then ack. */
  | { readonly action: "fire" }
  /** Not due: NAK with this delay and look again then. */
  | { readonly action: "delay"; readonly delayMs: number }
  /** A heartbeat timeout at its nominal time: read the last heartbeat, then decide again. */
  | { readonly action: "read-heartbeat" };

/** Inputs of {@link decideTimer} besides the timer. */
export interface TimerClock {
  /** The current time, in epoch milliseconds. */
  readonly nowMs: number;
  /**
   * The longest single delay, in milliseconds: a longer wait is cut into several, each re-checked
   * against the clock when it ends (so a clock change never defers a timer by more than this).
   */
  readonly maxDelayMs: number;
  /**
   * For a heartbeat timeout: the outcome of reading the heartbeat bucket, with the last
   * heartbeat in epoch milliseconds (`lastMs` undefined when none is recorded). Absent when not
   * read yet.
   */
  readonly heartbeat?: { readonly lastMs: number | undefined };
  /**
   * How long after its deadline a task or heartbeat timeout fires, in milliseconds, so that a
   * result received in time (which the orchestrator judges by its receipt time) reaches the
   * orchestrator first. Default 0.
   */
  readonly timeoutGraceMs?: number;
}

/**
 * Checks that a timer received on `subject` can be acted on.
 * @throws InvalidTimerError naming what is missing or inconsistent
 */
export function validateTimer(timer: Timer, subject: string): void {
  const fail = (reason: string) => new InvalidTimerError(timer.timerId, reason);
  if (!timer.timerId) throw fail("it has no id");
  if (!isExecutionId(timer.executionId)) throw fail("its execution id is not a valid id");
  if (subject !== subjects.timer(timer.executionId)) {
    throw fail(`received on "${subject}", not on its execution's timer subject`);
  }
  if (timer.fireTime === undefined || Number.isNaN(timer.fireTime.getTime()))
    throw fail("it has no fire time");
  switch (timer.kind) {
    case TimerKind.TIMER_KIND_WAIT:
    case TimerKind.TIMER_KIND_RETRY:
    case TimerKind.TIMER_KIND_EXECUTION_TIMEOUT:
      return;
    case TimerKind.TIMER_KIND_TASK_TIMEOUT:
      if (!isTaskToken(timer.taskToken)) throw fail("a task timeout needs a task token");
      return;
    case TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT:
      // The token is also the key read in the heartbeat bucket: it must be one the engine issued.
      if (!isTaskToken(timer.taskToken)) throw fail("a heartbeat timeout needs a task token");
      if (timer.heartbeatSeconds <= 0) throw fail("a heartbeat timeout needs a heartbeat interval");
      return;
    default:
      throw fail(`unknown kind ${String(timer.kind)}`);
  }
}

function isTaskToken(token: string): boolean {
  try {
    parseTaskToken(token);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decides whether a (validated) timer fires now. A heartbeat timeout is due at its nominal fire
 * time or one interval after the last heartbeat, whichever is later; a last heartbeat in the
 * future (a clock ahead of ours) counts as now, so bad data cannot postpone a timeout forever.
 */
export function decideTimer(timer: Timer, clock: TimerClock): TimerDecision {
  const taskTimeout =
    timer.kind === TimerKind.TIMER_KIND_TASK_TIMEOUT || timer.kind === TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT;
  const graceMs = taskTimeout ? (clock.timeoutGraceMs ?? 0) : 0;
  const fireMs = timer.fireTime?.getTime() ?? 0;
  let dueMs = fireMs;
  if (timer.kind === TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT && fireMs + graceMs <= clock.nowMs) {
    if (!clock.heartbeat) return { action: "read-heartbeat" };
    const lastMs = clock.heartbeat.lastMs;
    if (lastMs !== undefined) {
      dueMs = Math.max(fireMs, Math.min(lastMs, clock.nowMs) + timer.heartbeatSeconds * 1000);
    }
  }
  dueMs += graceMs;
  if (dueMs <= clock.nowMs) return { action: "fire" };
  return { action: "delay", delayMs: Math.min(Math.ceil(dueMs - clock.nowMs), clock.maxDelayMs) };
}

/**
 * True for a timer that belongs to one state of its execution (a wait, a retry back-off, a task
 * or heartbeat timeout) and records the batch that armed it. Such a state ends with the
 * execution's next batch, so a later batch makes the timer stale. An execution timeout belongs
 * to the whole execution and never goes stale this way.
 */
export function canGoStale(timer: Timer): boolean {
  if (timer.armedBatchSeq <= 0) return false;
  switch (timer.kind) {
    case TimerKind.TIMER_KIND_WAIT:
    case TimerKind.TIMER_KIND_RETRY:
    case TimerKind.TIMER_KIND_TASK_TIMEOUT:
    case TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT:
      return true;
    default:
      return false;
  }
}

/** Whether a due timer is stale, given whether its execution appended a batch since arming it. */
export function isStale(timer: Timer, appendedSince: boolean): boolean {
  return canGoStale(timer) && appendedSince;
}

/** The last heartbeat time in a heartbeat bucket value (see contracts' heartbeat record). */
export const parseHeartbeatMs = parseHeartbeatRecord;

/** The TimerFired command of a due timer, de-duplicated by the timer id. */
export function timerFiredEffect(timer: Timer): PublishEffect {
  return {
    kind: "publish",
    subject: subjects.command(timer.executionId),
    msgId: commandMsgIds.timerFired(timer.timerId),
    bytes: encode(Command, {
      executionId: timer.executionId,
      kind: { $case: "timerFired", value: { timer } },
    }),
    label: "command",
  };
}
