/**
 * Reading and checking the fields of a Step Functions request (a JSON object), with AWS's
 * wording for constraint failures (`ValidationException`), and the shapes of the answers:
 * timestamps as epoch seconds, status names, opaque page tokens.
 */
import { ExecutionStatus } from "@jetflow/contracts";
import { SfnError } from "./errors";

/** A request body: the operation's input shape. */
export type SfnRequest = Readonly<Record<string, unknown>>;

function invalid(field: string, constraint: string, value: unknown): SfnError {
  const shown = typeof value === "string" ? `'${value.slice(0, 100)}'` : JSON.stringify(value);
  return new SfnError(
    "ValidationException",
    `1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

/** A required string field. @throws SfnError ValidationException */
export function requiredString(request: SfnRequest, field: string, maxLength = 256): string {
  const value = request[field];
  if (value === undefined || value === null) {
    throw new SfnError("ValidationException", `1 validation error detected: ${field} must not be null`);
  }
  if (typeof value !== "string") throw invalid(field, "Member must be a string", value);
  if (value.length < 1 || value.length > maxLength) {
    throw invalid(field, `Member must have length between 1 and ${maxLength}`, value);
  }
  return value;
}

/** An optional string field; "" when absent. @throws SfnError ValidationException */
export function optionalString(request: SfnRequest, field: string, maxLength = 256): string {
  const value = request[field];
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw invalid(field, "Member must be a string", value);
  if (value.length > maxLength)
    throw invalid(field, `Member must have length less than or equal to ${maxLength}`, value);
  return value;
}

/** An optional boolean field. @throws SfnError ValidationException */
export function optionalBoolean(request: SfnRequest, field: string, fallback: boolean): boolean {
  const value = request[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") throw invalid(field, "Member must be a boolean", value);
  return value;
}

/** `maxResults`: 0 to 1000, 0 or absent meaning the default page of 100. @throws SfnError */
export function maxResultsOf(request: SfnRequest): number {
  const value = request.maxResults;
  if (value === undefined || value === null || value === 0) return 100;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 1000) {
    throw invalid("maxResults", "Member must have value between 0 and 1000", value);
  }
  return value;
}

/** A Date (or undefined) as AWS JSON's timestamp: epoch seconds with milliseconds. */
export function epochSeconds(date: Date | undefined): number {
  return date === undefined ? 0 : date.getTime() / 1000;
}

/**
 * An opaque page token of this API wrapping one of jetflow's: base64 of `<operation>:<token>`, so
 * that a token of one listing is refused by another.
 */
export function encodePageToken(operation: string, token: string): string | undefined {
  return token === "" ? undefined : Buffer.from(`${operation}:${token}`).toString("base64");
}

/** jetflow's page token inside `nextToken` ("" when absent). @throws SfnError InvalidToken */
export function decodePageToken(request: SfnRequest, operation: string): string {
  const token = optionalString(request, "nextToken", 1024);
  if (token === "") return "";
  const text = Buffer.from(token, "base64").toString();
  if (!text.startsWith(`${operation}:`) || text.length === operation.length + 1) {
    throw new SfnError("InvalidToken", `Invalid pagination token: '${token.slice(0, 100)}'`);
  }
  return text.slice(operation.length + 1);
}

const STATUS_NAMES: Record<string, ExecutionStatus> = {
  RUNNING: ExecutionStatus.EXECUTION_STATUS_RUNNING,
  SUCCEEDED: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
  FAILED: ExecutionStatus.EXECUTION_STATUS_FAILED,
  TIMED_OUT: ExecutionStatus.EXECUTION_STATUS_TIMED_OUT,
  ABORTED: ExecutionStatus.EXECUTION_STATUS_ABORTED,
};

/** Step Functions' name of an execution status. */
export function statusName(status: ExecutionStatus): string {
  for (const [name, value] of Object.entries(STATUS_NAMES)) if (value === status) return name;
  return "RUNNING";
}

/**
 * `statusFilter` of ListExecutions as jetflow's status (UNSPECIFIED: any).
 * PENDING_REDRIVE is accepted and matches nothing here, as no execution can be redriven.
 * @throws SfnError ValidationException for another value
 */
export function statusFilterOf(request: SfnRequest): ExecutionStatus | "none" {
  const value = optionalString(request, "statusFilter", 32);
  if (value === "") return ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED;
  if (value === "PENDING_REDRIVE") return "none";
  const status = STATUS_NAMES[value];
  if (status === undefined) {
    throw invalid(
      "statusFilter",
      "Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, FAILED, RUNNING, ABORTED]",
      value,
    );
  }
  return status;
}

/** Step Functions' name rule (1 to 80 characters, none of whitespace, brackets, wildcards...). */
export function isSfnName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/u.test(name);
}
