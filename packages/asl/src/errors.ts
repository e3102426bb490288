import type { AslProblem } from "./problems";
import type { Json } from "./json";

/** The error names the States Language predefines (Appendix A), plus `States.Runtime` from Step Functions. */
export const ErrorNames = {
  ALL: "States.ALL",
  HeartbeatTimeout: "States.HeartbeatTimeout",
  Timeout: "States.Timeout",
  TaskFailed: "States.TaskFailed",
  Permissions: "States.Permissions",
  ResultPathMatchFailure: "States.ResultPathMatchFailure",
  ParameterPathFailure: "States.ParameterPathFailure",
  BranchFailed: "States.BranchFailed",
  NoChoiceMatched: "States.NoChoiceMatched",
  IntrinsicFailure: "States.IntrinsicFailure",
  ExceedToleratedFailureThreshold: "States.ExceedToleratedFailureThreshold",
  ItemReaderFailed: "States.ItemReaderFailed",
  ResultWriterFailed: "States.ResultWriterFailed",
  Runtime: "States.Runtime",
  QueryEvaluationError: "States.QueryEvaluationError",
} as const;

/** Every predefined `States.*` error name, for validating `ErrorEquals`. */
export const PREDEFINED_ERROR_NAMES: ReadonlySet<string> = new Set([
  ...Object.values(ErrorNames),
  // Step Functions reports this one when a payload is too large; jetflow keeps the name matchable.
  "States.DataLimitExceeded",
]);

/**
 * An ASL runtime error: `error` is the error name that Retry and Catch match (`States.Runtime`,
 * `States.IntrinsicFailure`...) and `cause` the human-readable text. `cause` deliberately overrides
 * `Error.cause` with the ASL string so the pair maps one-to-one onto the wire's `{ error, cause }`.
 */
export class StatesError extends Error {
  override readonly name = "StatesError";
  /** The ASL error name, e.g. `States.Runtime`. */
  readonly error: string;
  /** Human-readable text about the error (ASL's "Cause"). */
  override readonly cause: string;

  constructor(error: string, cause: string) {
    super(`${error}: ${cause}`);
    this.error = error;
    this.cause = cause;
  }

  /** The ASL Error Output object, `{ Error, Cause }`, as a Catcher passes it on. */
  toErrorOutput(): { Error: string; Cause: string } & { [key: string]: Json } {
    return { Error: this.error, Cause: this.cause };
  }
}

/** Thrown when a JSONPath or an intrinsic function call does not parse; `position` is 0-based. */
export class ExpressionSyntaxError extends Error {
  override readonly name = "ExpressionSyntaxError";
  /** The expression that failed to parse. */
  readonly expression: string;
  /** 0-based offset into `expression` where parsing stopped. */
  readonly position: number;
  /** The reason without the expression, e.g. `expected "]"`. */
  readonly reason: string;

  constructor(kind: "path" | "intrinsic function", expression: string, position: number, reason: string) {
    super(`invalid ${kind} ${JSON.stringify(expression)}: ${reason} at character ${position + 1}`);
    this.expression = expression;
    this.position = position;
    this.reason = reason;
  }
}

/** Thrown by `assertValidDefinition` (and `activityName` on a bad resource), carrying every problem found. */
export class AslValidationError extends Error {
  override readonly name = "AslValidationError";
  /** Every problem, each with its path and, when known, line and column. */
  readonly problems: AslProblem[];

  constructor(problems: AslProblem[]) {
    const shown = problems.map((p) => `${p.path === "" ? "(root)" : p.path}: ${p.message}`).join("; ");
    super(`invalid state machine definition: ${shown}`);
    this.problems = problems;
  }
}
