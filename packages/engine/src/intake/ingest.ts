/**
 * What a message on the results stream becomes: a TaskOutcome command for the orchestrator, a
 * heartbeat to record, or a reason to park it. Pure: no NATS, no clock (the caller passes `now`).
 */
import { MAX_CAUSE_LENGTH, MAX_ERROR_NAME_LENGTH, TASK_FAILED, TaskResult, decode } from "@jetflow/contracts";
import type { Command, TaskFailure } from "@jetflow/contracts";
import { MalformedIdError, commandMsgIds, parseTaskToken } from "../model";

/** The ASL error of an output that is not JSON. */
export const STATES_RUNTIME = "States.Runtime";
/** The ASL error of an output over the size limit. */
export const STATES_DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded";

/** Limits applied to results. */
export interface IngestLimits {
  /** Largest output passed on, in UTF-8 bytes. */
  maxOutputBytes: number;
}

/** The decision for one message of the results stream. */
export type Ingested =
  | {
      kind: "outcome";
      executionId: string;
      /** The command's `Nats-Msg-Id`: the same result twice makes one command. */
      msgId: string;
      command: Command;
    }
  | { kind: "heartbeat"; taskToken: string; executionId: string; scheduledEventId: number }
  | { kind: "rejected"; reason: string };

/**
 * Decodes a message of the results stream and decides what it becomes (see {@link ingestResult}).
 * `receivedTime` is when the stream stored the message.
 */
export function ingestBytes(
  bytes: Uint8Array,
  subject: string,
  limits: IngestLimits,
  receivedTime: Date,
): Ingested {
  let result: TaskResult;
  try {
    result = decode(TaskResult, "jetflow.v1.TaskResult", bytes, subject);
  } catch (err) {
    return { kind: "rejected", reason: err instanceof Error ? err.message : String(err) };
  }
  return ingestResult(result, limits, receivedTime);
}

/**
 * Turns a TaskResult into the orchestrator's TaskOutcome command. A malformed token or a missing
 * outcome is rejected (to be parked); an output that is not JSON becomes a `States.Runtime` failure
 * and one over `maxOutputBytes` a `States.DataLimitExceeded` failure, so the execution still moves on.
 * `receivedTime` (when the results stream stored it) is what the task's deadline is checked against.
 */
export function ingestResult(result: TaskResult, limits: IngestLimits, receivedTime: Date): Ingested {
  const token = result.taskToken;
  let executionId: string;
  let scheduledEventId: number;
  try {
    ({ executionId, scheduledEventId } = parseTaskToken(token));
  } catch (err) {
    if (err instanceof MalformedIdError) return { kind: "rejected", reason: err.message };
    throw err;
  }
  const outcome = result.outcome;
  if (outcome === undefined) {
    return {
      kind: "rejected",
      reason: `task result for "${token}" has neither output, failure nor heartbeat`,
    };
  }
  if (outcome.$case === "heartbeat")
    return { kind: "heartbeat", taskToken: token, executionId, scheduledEventId };
  const validated =
    outcome.$case === "outputJson"
      ? validateOutput(outcome.value, limits)
      : ({ $case: "failure", value: normaliseFailure(outcome.value) } as const);
  return {
    kind: "outcome",
    executionId,
    msgId: commandMsgIds.taskOutcome(token),
    command: {
      executionId,
      kind: {
        $case: "taskOutcome",
        value: {
          taskToken: token,
          outcome: validated,
          workerId: result.workerId,
          completedTime: result.completedTime ?? receivedTime,
          receivedTime,
        },
      },
    },
  };
}

type ValidatedOutcome = { $case: "outputJson"; value: string } | { $case: "failure"; value: TaskFailure };

function validateOutput(json: string, limits: IngestLimits): ValidatedOutcome {
  // Measured before parsing: a huge output is refused without the cost of reading it.
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes > limits.maxOutputBytes) {
    return failure(
      STATES_DATA_LIMIT_EXCEEDED,
      `task output is ${bytes} bytes, more than the limit of ${limits.maxOutputBytes} bytes`,
    );
  }
  try {
    JSON.parse(json);
  } catch (err) {
    return failure(
      STATES_RUNTIME,
      `task output is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return { $case: "outputJson", value: json };
}

/** A failure as the orchestrator expects it: a non-empty error name, both fields within limits. */
export function normaliseFailure(failure: TaskFailure): TaskFailure {
  return {
    error: (failure.error === "" ? TASK_FAILED : failure.error).slice(0, MAX_ERROR_NAME_LENGTH),
    cause: failure.cause.slice(0, MAX_CAUSE_LENGTH),
  };
}

function failure(error: string, cause: string): ValidatedOutcome {
  return { $case: "failure", value: { error, cause } };
}
