/**
 * What a command proves about its execution's history. Every command the engine sends was caused
 * by an event already appended: a task result by its TaskScheduled, a timer by the event that
 * armed it, a child's completion by the round's MapStarted/ParallelStarted. So a snapshot whose
 * last event id is lower than that event is provably behind the stream, and a decision that a
 * command is stale or names an unknown execution, taken on it, proves nothing: the command must
 * be tried again, never acknowledged as changing nothing.
 */
import { ExecutionStatus, TimerKind } from "@jetflow/contracts";
import type { Command, ExecutionSnapshot, Timer } from "@jetflow/contracts";
import { MalformedIdError, parseTaskToken } from "../model";
import type { Ignored } from "./env";

/**
 * The id of an event that must exist in the history of `command.executionId` for the command to
 * have been sent; 0 when the command proves nothing (a child's Begin, which creates it).
 * @throws MalformedIdError when a token or timer id in the command is not one the engine issued
 */
export function provenEventId(command: Command): number {
  const kind = command.kind;
  switch (kind?.$case) {
    case undefined:
      return 0;
    case "begin":
      // A top-level Begin follows the ExecutionStarted the gateway appended.
      return kind.value.child?.parent ? 0 : 1;
    case "taskOutcome":
      return scheduledEventOf(kind.value.taskToken, command.executionId);
    case "timerFired":
      return kind.value.timer ? timerEvent(kind.value.timer, command.executionId) : 0;
    case "childCompleted":
      return kind.value.parent?.entryEventId ?? 0;
    case "continueChildren":
      return kind.value.entryEventId;
    case "stop":
      // A stop may name a child that was launched but never began (its round ended first).
      return 0;
    case "redrive":
      // Sent by the api-gateway for an execution it found ended.
      return 1;
    default: {
      const never: never = kind;
      throw new Error(`unknown command ${JSON.stringify(never)}`);
    }
  }
}

/**
 * True when ignoring `command` for `reason` is only an artefact of a snapshot behind the stream:
 * the command names an event the snapshot does not have yet.
 */
export function isJudgedOnStaleSnapshot(
  command: Command,
  reason: Ignored,
  snapshot: ExecutionSnapshot | undefined,
): boolean {
  if (reason !== "stale" && reason !== "unknown-execution") return false;
  // A child relaunched by a redriven parent while its stop is still being applied: try again
  // once it has ended.
  const child = command.kind?.$case === "begin" ? command.kind.value.child : undefined;
  if (reason === "stale" && snapshot && child?.parent && child.redriveCount > snapshot.redriveCount) {
    return snapshot.status === ExecutionStatus.EXECUTION_STATUS_RUNNING;
  }
  return provenEventId(command) > (snapshot?.lastEventId ?? 0);
}

function scheduledEventOf(token: string, executionId: string): number {
  const parsed = parseTaskToken(token);
  if (parsed.executionId !== executionId) throw new MalformedIdError("task token", token);
  return parsed.scheduledEventId;
}

/** Wait and retry timer ids are `<executionId>.<eventId>.<purpose>`; timeouts name their task. */
function timerEvent(timer: Timer, executionId: string): number {
  switch (timer.kind) {
    case TimerKind.TIMER_KIND_TASK_TIMEOUT:
    case TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT:
      return scheduledEventOf(timer.taskToken, executionId);
    case TimerKind.TIMER_KIND_EXECUTION_TIMEOUT:
      return 1;
    case TimerKind.TIMER_KIND_WAIT:
    case TimerKind.TIMER_KIND_RETRY: {
      const prefix = `${executionId}.`;
      const rest = timer.timerId.startsWith(prefix) ? timer.timerId.slice(prefix.length) : "";
      const eventPart = rest.slice(0, rest.indexOf("."));
      if (!/^[1-9]\d{0,15}$/.test(eventPart)) throw new MalformedIdError("timer id", timer.timerId);
      return Number(eventPart);
    }
    default:
      return 0;
  }
}
