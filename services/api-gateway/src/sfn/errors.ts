/**
 * Errors of the Step Functions API in AWS's shape: a `__type` naming the error, a `message`, and
 * the HTTP status AWS answers with. Every modelled Step Functions error is a client error (400);
 * only an unavailable engine (503) and unknown failures (500) differ.
 */
import { status } from "@grpc/grpc-js";
import { ApiError, isUnavailable } from "../errors";

/** The error names this endpoint answers with (the `__type` of the body). */
export type SfnErrorType =
  | "AccessDeniedException"
  | "ActivityDoesNotExist"
  | "ExecutionAlreadyExists"
  | "ExecutionDoesNotExist"
  | "ExecutionNotRedrivable"
  | "InvalidArn"
  | "InvalidDefinition"
  | "InvalidExecutionInput"
  | "InvalidName"
  | "InvalidOutput"
  | "InvalidToken"
  | "StateMachineAlreadyExists"
  | "StateMachineDeleting"
  | "StateMachineDoesNotExist"
  | "TaskDoesNotExist"
  | "TaskTimedOut"
  | "ValidationException"
  | "UnknownOperationException"
  | "SerializationException"
  | "MissingAuthenticationTokenException"
  | "IncompleteSignatureException"
  | "InvalidSignatureException"
  | "UnrecognizedClientException"
  | "ServiceUnavailable"
  | "InternalFailure";

const HTTP_STATUS: Partial<Record<SfnErrorType, number>> = {
  ServiceUnavailable: 503,
  InternalFailure: 500,
};

/** A Step Functions error: `__type`, message and HTTP status. */
export class SfnError extends Error {
  override readonly name = "SfnError";
  /** The HTTP status: 400 for every client error, as AWS. */
  readonly httpStatus: number;
  constructor(
    readonly type: SfnErrorType,
    message: string,
  ) {
    super(message);
    this.httpStatus = HTTP_STATUS[type] ?? 400;
  }

  /** The JSON body AWS sends for this error. */
  toBody(): { __type: string; message: string } {
    return { __type: this.type, message: this.message };
  }
}

/**
 * How the gateway's gRPC status codes read in one operation: NOT_FOUND means
 * ExecutionDoesNotExist in DescribeExecution but StateMachineDoesNotExist in DescribeStateMachine.
 */
export type CodeMeaning = Partial<Record<status, SfnErrorType>>;

/**
 * Normalises anything a handler threw into an SfnError: SfnError as is, the gateway's ApiError by
 * `meaning` then by a default per code, an unreachable engine
 * as ServiceUnavailable, anything else as InternalFailure (the caller logs it; no details leak).
 */
export function toSfnError(err: unknown, meaning: CodeMeaning = {}): SfnError {
  if (err instanceof SfnError) return err;
  if (err instanceof ApiError) return new SfnError(meaning[err.code] ?? defaultType(err.code), err.message);
  if (isUnavailable(err)) return new SfnError("ServiceUnavailable", "the engine is unavailable; try again");
  return new SfnError("InternalFailure", "internal error");
}

function defaultType(code: status): SfnErrorType {
  switch (code) {
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return "ServiceUnavailable";
    case status.PERMISSION_DENIED:
      // The WorkflowService's own check of the caller (the same table as authorize.ts).
      return "AccessDeniedException";
    case status.INTERNAL:
    case status.UNKNOWN:
    case status.DATA_LOSS:
      return "InternalFailure";
    default:
      return "ValidationException";
  }
}
