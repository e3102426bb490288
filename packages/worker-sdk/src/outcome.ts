/**
 * Pure conversions between a handler's world (JSON values, thrown errors) and the wire's (JSON text,
 * TaskFailure). No I/O, so every rule here has a unit test.
 */
import { toTaskFailure } from "@jetflow/contracts";
import type { TaskFailure, TaskResult } from "@jetflow/contracts";

/** The ASL error of a failure the runtime detects (bad JSON), as in Step Functions. */
export const STATES_RUNTIME = "States.Runtime";
/** The ASL error of a result too large to carry, as in Step Functions. */
export const STATES_DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded";

/** What a TaskResult carries besides the token: an output or a failure. */
export type TaskOutcome = Exclude<TaskResult["outcome"], { $case: "heartbeat" } | undefined>;

/** The parsed input of a task, or the failure to report when it is not JSON. */
export type ParsedInput = { ok: true; value: unknown } | { ok: false; failure: TaskFailure };

/** Parses a task's input JSON; a task whose input is not JSON fails with `States.Runtime`. */
export function parseInput(inputJson: string): ParsedInput {
  try {
    return { ok: true, value: JSON.parse(inputJson) as unknown };
  } catch (err) {
    return {
      ok: false,
      failure: { error: STATES_RUNTIME, cause: `task input is not valid JSON: ${messageOf(err)}` },
    };
  }
}

/**
 * The outcome of a handler that returned `value`: its JSON text (`undefined` becomes `null`), or a
 * `States.Runtime` failure when it cannot be serialised (a BigInt, a cycle, a function).
 */
export function successOutcome(value: unknown): TaskOutcome {
  let json: string | undefined;
  try {
    json = JSON.stringify(value ?? null);
  } catch (err) {
    return runtimeFailure(`task output is not JSON-serialisable: ${messageOf(err)}`);
  }
  if (json === undefined) {
    return runtimeFailure(`task output is not JSON-serialisable: a ${typeof value} has no JSON form`);
  }
  return { $case: "outputJson", value: json };
}

/** The outcome of a handler that threw `thrown`: its ASL error name, or `States.TaskFailed`. */
export function failureOutcome(thrown: unknown): TaskOutcome {
  return { $case: "failure", value: toTaskFailure(thrown) };
}

/** The outcome sent instead of a result whose encoding exceeds the server's max payload. */
export function tooLargeOutcome(resultBytes: number, maxPayloadBytes: number): TaskOutcome {
  return {
    $case: "failure",
    value: {
      error: STATES_DATA_LIMIT_EXCEEDED,
      cause: `task result of ${resultBytes} bytes exceeds the server's max payload of ${maxPayloadBytes} bytes`,
    },
  };
}

function runtimeFailure(cause: string): TaskOutcome {
  return { $case: "failure", value: { error: STATES_RUNTIME, cause } };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
