import { ExecutionStatus } from "@jetflow/contracts";
import type { ExecutionSummary } from "@jetflow/contracts";
import { isExpired, keepsEverything, parseDuration, parseRetention, retentionOf } from "./retention";

function summary(workflowName: string, status: ExecutionStatus, stopMs?: number): ExecutionSummary {
  return {
    executionId: "e",
    executionName: "",
    workflowName,
    workflowVersion: 1,
    status,
    startTime: new Date(0),
    stopTime: stopMs === undefined ? undefined : new Date(stopMs),
    redriveCount: 0,
    scheduleId: "",
  };
}

describe("parseDuration", () => {
  it.each([
    ["0", 0],
    ["500ms", 500],
    ["10s", 10_000],
    ["15m", 900_000],
    ["12h", 43_200_000],
    ["30d", 2_592_000_000],
  ])("reads %s", (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(["", "10", "1w", "-1d", "d"])("refuses %p", (text) => expect(parseDuration(text)).toBeUndefined());
});

describe("parseRetention", () => {
  it("reads a default and per-workflow overrides", () => {
    const problems: string[] = [];
    const policy = parseRetention("30d", "orders=7d, audit=0", problems);
    expect(problems).toEqual([]);
    expect(retentionOf(policy, "orders")).toBe(7 * 86_400_000);
    expect(retentionOf(policy, "audit")).toBe(0);
    expect(retentionOf(policy, "other")).toBe(30 * 86_400_000);
  });
  it("names every malformed part", () => {
    const problems: string[] = [];
    parseRetention("forever", "orders,=1d", problems);
    expect(problems).toEqual([
      'RETENTION_DEFAULT must be a duration such as 30d, 12h or 0 (forever), got "forever"',
      'RETENTION_WORKFLOWS must be name=duration pairs separated by commas, got "orders"',
      'RETENTION_WORKFLOWS must be name=duration pairs separated by commas, got "=1d"',
    ]);
  });
  it("keeps everything by default", () => {
    expect(keepsEverything(parseRetention("0", "", []))).toBe(true);
    expect(keepsEverything(parseRetention("0", "a=1d", []))).toBe(false);
  });
});

describe("isExpired", () => {
  const policy = parseRetention("10s", "forever=0,short=1s", []);
  const ended = ExecutionStatus.EXECUTION_STATUS_SUCCEEDED;
  it("expires an ended execution once its workflow's retention has passed", () => {
    expect(isExpired(summary("short", ended, 1000), policy, 2000)).toBe(true);
    expect(isExpired(summary("short", ended, 1000), policy, 1999)).toBe(false);
    expect(isExpired(summary("other", ended, 1000), policy, 10_999)).toBe(false);
    expect(isExpired(summary("other", ExecutionStatus.EXECUTION_STATUS_FAILED, 1000), policy, 11_000)).toBe(
      true,
    );
  });
  it("never expires a running execution, one without a stop time, or one kept forever", () => {
    expect(isExpired(summary("short", ExecutionStatus.EXECUTION_STATUS_RUNNING, 0), policy, 1e12)).toBe(
      false,
    );
    expect(isExpired(summary("short", ended), policy, 1e12)).toBe(false);
    expect(isExpired(summary("forever", ended, 0), policy, 1e12)).toBe(false);
  });
});
