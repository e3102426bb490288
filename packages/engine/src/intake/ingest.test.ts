import { TaskResult, encode, subjects } from "@jetflow/contracts";
import type { Command } from "@jetflow/contracts";
import { ingestBytes, ingestResult, normaliseFailure } from "./ingest";
import type { Ingested } from "./ingest";

const limits = { maxOutputBytes: 64 };
const now = new Date("2025-01-02T03:04:05.000Z");
const completed = new Date("2025-01-02T03:04:00.000Z");
const token = "exec-1.7";

function result(outcome: TaskResult["outcome"], overrides: Partial<TaskResult> = {}): TaskResult {
  return { taskToken: token, outcome, workerId: "w-1", completedTime: completed, ...overrides };
}

function outcomeOf(ingested: Ingested): Command["kind"] {
  if (ingested.kind !== "outcome") throw new Error(`expected an outcome, got ${JSON.stringify(ingested)}`);
  return ingested.command.kind;
}

describe("ingestResult", () => {
  it("turns an output into a TaskOutcome command for the token's execution", () => {
    expect(ingestResult(result({ $case: "outputJson", value: '{"ok":true}' }), limits, now)).toEqual({
      kind: "outcome",
      executionId: "exec-1",
      msgId: "r.exec-1.7",
      command: {
        executionId: "exec-1",
        kind: {
          $case: "taskOutcome",
          value: {
            taskToken: token,
            outcome: { $case: "outputJson", value: '{"ok":true}' },
            workerId: "w-1",
            completedTime: completed,
            receivedTime: now,
          },
        },
      },
    });
  });

  it("passes a failure on and names an unnamed one States.TaskFailed", () => {
    const named = ingestResult(
      result({ $case: "failure", value: { error: "Declined", cause: "no" } }),
      limits,
      now,
    );
    expect(outcomeOf(named)).toMatchObject({
      value: { outcome: { $case: "failure", value: { error: "Declined", cause: "no" } } },
    });
    const unnamed = ingestResult(
      result({ $case: "failure", value: { error: "", cause: "boom" } }),
      limits,
      now,
    );
    expect(outcomeOf(unnamed)).toMatchObject({
      value: { outcome: { $case: "failure", value: { error: "States.TaskFailed", cause: "boom" } } },
    });
  });

  it("makes an output that is not JSON a States.Runtime failure", () => {
    const ingested = ingestResult(result({ $case: "outputJson", value: "{oops" }), limits, now);
    const kind = outcomeOf(ingested);
    if (kind?.$case !== "taskOutcome" || kind.value.outcome?.$case !== "failure")
      throw new Error("not a failure");
    expect(kind.value.outcome.value.error).toBe("States.Runtime");
    expect(kind.value.outcome.value.cause).toMatch(/^task output is not valid JSON: /);
  });

  it("makes an empty output a States.Runtime failure: it is not a JSON document", () => {
    const kind = outcomeOf(ingestResult(result({ $case: "outputJson", value: "" }), limits, now));
    expect(kind).toMatchObject({
      value: { outcome: { $case: "failure", value: { error: "States.Runtime" } } },
    });
  });

  it("makes an output over the limit a States.DataLimitExceeded failure, counting UTF-8 bytes", () => {
    const fits = JSON.stringify("é".repeat(31)); // 62 bytes of é plus 2 quotes = 64
    expect(outcomeOf(ingestResult(result({ $case: "outputJson", value: fits }), limits, now))).toMatchObject({
      value: { outcome: { $case: "outputJson", value: fits } },
    });
    const over = JSON.stringify("é".repeat(32));
    expect(outcomeOf(ingestResult(result({ $case: "outputJson", value: over }), limits, now))).toMatchObject({
      value: {
        outcome: {
          $case: "failure",
          value: {
            error: "States.DataLimitExceeded",
            cause: "task output is 66 bytes, more than the limit of 64 bytes",
          },
        },
      },
    });
  });

  it("stamps a result without completion time with now", () => {
    const kind = outcomeOf(
      ingestResult(result({ $case: "outputJson", value: "1" }, { completedTime: undefined }), limits, now),
    );
    expect(kind).toMatchObject({ value: { completedTime: now } });
  });

  it("reports a heartbeat with its execution and attempt", () => {
    expect(ingestResult(result({ $case: "heartbeat", value: {} }), limits, now)).toEqual({
      kind: "heartbeat",
      taskToken: token,
      executionId: "exec-1",
      scheduledEventId: 7,
    });
  });

  it("rejects a malformed token and a result without outcome", () => {
    expect(
      ingestResult(result({ $case: "outputJson", value: "1" }, { taskToken: "nope" }), limits, now),
    ).toEqual({
      kind: "rejected",
      reason: 'malformed task token "nope"',
    });
    expect(ingestResult(result(undefined), limits, now)).toEqual({
      kind: "rejected",
      reason: 'task result for "exec-1.7" has neither output, failure nor heartbeat',
    });
  });
});

describe("ingestBytes", () => {
  it("decodes a result", () => {
    const bytes = encode(TaskResult, result({ $case: "outputJson", value: "[1]" }));
    expect(ingestBytes(bytes, subjects.result("a"), limits, now).kind).toBe("outcome");
  });

  it("rejects bytes that are not a TaskResult, naming the subject", () => {
    expect(ingestBytes(Buffer.from([0xff, 0xff, 0xff]), subjects.result("a"), limits, now)).toEqual({
      kind: "rejected",
      reason: `cannot decode jetflow.v1.TaskResult received on "${subjects.result("a")}": premature EOF`,
    });
  });
});

describe("normaliseFailure", () => {
  it("truncates names and causes to the Step Functions limits", () => {
    const long = normaliseFailure({ error: "E".repeat(300), cause: "c".repeat(40_000) });
    expect(long.error).toHaveLength(256);
    expect(long.cause).toHaveLength(32_768);
  });
});
