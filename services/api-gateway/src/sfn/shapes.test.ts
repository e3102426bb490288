import { ExecutionStatus } from "@jetflow/contracts";
import { SfnError } from "./errors";
import {
  decodePageToken,
  encodePageToken,
  isSfnName,
  maxResultsOf,
  requiredString,
  statusFilterOf,
} from "./shapes";

function errorOf(fn: () => unknown): SfnError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SfnError) return err;
    throw err;
  }
  throw new Error("expected an error");
}

describe("request shapes", () => {
  it("words constraint failures as AWS does", () => {
    expect(errorOf(() => requiredString({ name: 3 }, "name"))).toMatchObject({
      type: "ValidationException",
      message:
        "1 validation error detected: Value 3 at 'name' failed to satisfy constraint: Member must be a string",
    });
    expect(errorOf(() => maxResultsOf({ maxResults: 1001 })).message).toBe(
      "1 validation error detected: Value 1001 at 'maxResults' failed to satisfy constraint: " +
        "Member must have value between 0 and 1000",
    );
    expect(maxResultsOf({})).toBe(100);
  });

  it("wraps page tokens so that one listing's token is refused by another", () => {
    const token = encodePageToken("ListExecutions", "abc") ?? "";
    expect(decodePageToken({ nextToken: token }, "ListExecutions")).toBe("abc");
    expect(errorOf(() => decodePageToken({ nextToken: token }, "ListStateMachines")).type).toBe(
      "InvalidToken",
    );
    expect(encodePageToken("ListExecutions", "")).toBeUndefined();
  });

  it("reads status filters, PENDING_REDRIVE matching nothing", () => {
    expect(statusFilterOf({ statusFilter: "TIMED_OUT" })).toBe(ExecutionStatus.EXECUTION_STATUS_TIMED_OUT);
    expect(statusFilterOf({})).toBe(ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED);
    expect(statusFilterOf({ statusFilter: "PENDING_REDRIVE" })).toBe("none");
    expect(errorOf(() => statusFilterOf({ statusFilter: "DONE" })).type).toBe("ValidationException");
  });

  it("accepts the names AWS accepts", () => {
    expect(isSfnName("order-42.retry_1")).toBe(true);
    for (const bad of ["", "a b", "a:b", "a*", "x".repeat(81), "tab\there"])
      expect(isSfnName(bad)).toBe(false);
  });
});
