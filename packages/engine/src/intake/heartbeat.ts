/**
 * Heartbeat requests: what they name and whether the worker should stop. Pure: the adapter reads
 * the snapshot and records the heartbeat.
 */
import { ExecutionStatus, TaskResult, decode } from "@jetflow/contracts";
import type { ExecutionSnapshot } from "@jetflow/contracts";
import { MalformedIdError, parseTaskToken } from "../model";

/** A heartbeat request, understood; or why it cannot be. */
export type ParsedHeartbeat =
  | { kind: "heartbeat"; taskToken: string; executionId: string; scheduledEventId: number }
  | { kind: "undecodable"; reason: string }
  | { kind: "bad-token"; taskToken: string; reason: string };

/**
 * Decodes a heartbeat request (a TaskResult; its outcome is ignored, the subject says it is a
 * heartbeat) and parses its task token.
 */
export function parseHeartbeat(bytes: Uint8Array, subject: string): ParsedHeartbeat {
  let result: TaskResult;
  try {
    result = decode(TaskResult, "jetflow.v1.TaskResult", bytes, subject);
  } catch (err) {
    return { kind: "undecodable", reason: err instanceof Error ? err.message : String(err) };
  }
  try {
    const { executionId, scheduledEventId } = parseTaskToken(result.taskToken);
    return { kind: "heartbeat", taskToken: result.taskToken, executionId, scheduledEventId };
  } catch (err) {
    if (err instanceof MalformedIdError)
      return { kind: "bad-token", taskToken: result.taskToken, reason: err.message };
    throw err;
  }
}

/**
 * Whether the worker running attempt `taskToken` should stop: the execution is gone or finished,
 * or its active attempt is another one. A snapshot older than the attempt (its last event id is
 * below the attempt's scheduling event, the snapshot write lags the dispatch) cannot tell: no.
 */
export function isCancelRequested(
  snapshot: ExecutionSnapshot | undefined,
  taskToken: string,
  scheduledEventId: number,
): boolean {
  if (snapshot === undefined) return true;
  if (snapshot.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) return true;
  const phase = snapshot.active?.phase;
  if (phase?.$case === "task" && phase.value.taskToken === taskToken) return false;
  return snapshot.lastEventId >= scheduledEventId;
}
