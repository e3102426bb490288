/**
 * The one pair of helpers that turn a thrown value into an ASL error on the wire and back.
 * A handler signals an ASL error by throwing an Error whose `name` is the ASL error name
 * (`PaymentDeclined`); anything unnamed becomes `States.TaskFailed`.
 */
import type { TaskFailure } from "./gen/jetflow/v1/task";

/** The error name given to failures that carry no ASL error name of their own. */
export const TASK_FAILED = "States.TaskFailed";

/** Maximum length of an error name and of a cause on the wire, as in Step Functions. */
export const MAX_ERROR_NAME_LENGTH = 256;
export const MAX_CAUSE_LENGTH = 32_768;

/** An error received from a task, carrying its ASL error name. */
export class TaskError extends Error {
  override readonly name: string;
  /** The ASL error name matched by Retry and Catch. */
  readonly error: string;
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
    this.error = error;
  }
}

/** The names JavaScript gives its own errors: they say nothing an ASL Retry should match on. */
const GENERIC_NAMES = new Set([
  "Error",
  "TypeError",
  "RangeError",
  "SyntaxError",
  "ReferenceError",
  "EvalError",
  "URIError",
  "AggregateError",
]);

/** Converts anything a handler threw into a wire TaskFailure `{ error, cause }`. */
export function toTaskFailure(thrown: unknown): TaskFailure {
  if (thrown instanceof Error) {
    const named = thrown.name && !GENERIC_NAMES.has(thrown.name);
    return {
      error: truncate(named ? thrown.name : TASK_FAILED, MAX_ERROR_NAME_LENGTH),
      cause: truncate(thrown.message, MAX_CAUSE_LENGTH),
    };
  }
  return { error: TASK_FAILED, cause: truncate(stringify(thrown), MAX_CAUSE_LENGTH) };
}

/** Converts a wire TaskFailure back into a TaskError. */
export function fromTaskFailure(failure: TaskFailure): TaskError {
  return new TaskError(failure.error || TASK_FAILED, failure.cause);
}

function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max);
}
