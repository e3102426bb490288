import { status as grpcStatus } from "@grpc/grpc-js";
import {
  ExecutionSnapshot,
  TaskHeartbeatReply,
  TaskResult,
  buckets,
  encode,
  subjects,
} from "@jetflow/contracts";
import type { HistoryEvent } from "@jetflow/contracts";
import { waitFor } from "@jetflow/testing";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { checkStoredExecution, statusOf, waitForEnd } from "../src";
import { useEngine } from "./fixture";
import type { Engine } from "../src";

const fixture = useEngine();
let engine: Engine;
let nc: NatsConnection;

beforeAll(async () => {
  ({ engine, nc } = fixture);
});

let counter = 0;

/** Registers `definition` under a fresh name and starts it with `input`; its execution id. */
async function startNew(definition: object, input: unknown = {}): Promise<string> {
  const name = `wf-${++counter}`;
  await engine.client.registerWorkflow({ name, definition: JSON.stringify(definition), description: "" });
  const { executionId } = await engine.client.startExecution({
    workflowName: name,
    workflowVersion: 0,
    inputJson: JSON.stringify(input),
    executionName: "",
  });
  return executionId;
}

/** The history of `executionId` (`pageSize` 0: the server's default page). */
async function historyOf(executionId: string, pageSize = 0): Promise<HistoryEvent[]> {
  const { events } = await engine.client.getExecutionHistory({
    executionId,
    pageSize,
    pageToken: "",
    reverseOrder: false,
  });
  return events;
}

/** Registers `definition` under a fresh name, runs it with `input` and waits for the end. */
async function run(definition: object, input: unknown = {}) {
  const executionId = await startNew(definition, input);
  const described = await waitForEnd(engine.client, executionId);
  const events = await historyOf(executionId, 1000);
  await checkStoredExecution(nc, executionId);
  return {
    executionId,
    status: statusOf(described.execution?.status),
    output: described.outputJson ? (JSON.parse(described.outputJson) as unknown) : undefined,
    error: described.error,
    cause: described.cause,
    events,
  };
}

function kinds(events: HistoryEvent[]): string[] {
  return events.map((e) => e.details?.$case ?? "?");
}

describe("state types", () => {
  it("runs Pass, Choice, Succeed and Fail states", async () => {
    const definition = {
      StartAt: "Classify",
      States: {
        Classify: {
          Type: "Choice",
          Choices: [{ Variable: "$.n", NumericGreaterThan: 10, Next: "Big" }],
          Default: "Small",
        },
        Big: { Type: "Fail", Error: "TooBig", Cause: "n over 10" },
        Small: { Type: "Pass", Result: "small", ResultPath: "$.size", Next: "Done" },
        Done: { Type: "Succeed" },
      },
    };
    await expect(run(definition, { n: 3 })).resolves.toMatchObject({
      status: "SUCCEEDED",
      output: { n: 3, size: "small" },
    });
    await expect(run(definition, { n: 30 })).resolves.toMatchObject({
      status: "FAILED",
      error: "TooBig",
      cause: "n over 10",
    });
  });

  it("waits in a Wait state for its duration", async () => {
    const started = Date.now();
    const result = await run(
      { StartAt: "W", States: { W: { Type: "Wait", Seconds: 1, End: true } } },
      { a: 1 },
    );
    expect(result).toMatchObject({ status: "SUCCEEDED", output: { a: 1 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(kinds(result.events)).toContain("waitFinished");
  });

  it("runs Parallel branches and joins their outputs in order", async () => {
    // State names are unique across the whole machine, branches included.
    const branch = (n: number) => ({
      StartAt: `B${n}`,
      States: {
        [`B${n}`]: {
          Type: "Task",
          Resource: "inc",
          Parameters: { "n.$": `States.MathAdd($.n, ${n})` },
          End: true,
        },
      },
    });
    const result = await run(
      {
        StartAt: "P",
        States: { P: { Type: "Parallel", Branches: [branch(0), branch(10), branch(100)], End: true } },
      },
      { n: 1 },
    );
    expect(result).toMatchObject({ status: "SUCCEEDED", output: [{ n: 2 }, { n: 12 }, { n: 102 }] });
  });

  it("runs a Map with MaxConcurrency and keeps item order", async () => {
    const result = await run(
      {
        StartAt: "M",
        States: {
          M: {
            Type: "Map",
            MaxConcurrency: 2,
            ItemsPath: "$.items",
            ItemSelector: { "n.$": "$$.Map.Item.Value" },
            ItemProcessor: { StartAt: "I", States: { I: { Type: "Task", Resource: "inc", End: true } } },
            End: true,
          },
        },
      },
      { items: [5, 4, 3, 2, 1, 0] },
    );
    expect(result).toMatchObject({ status: "SUCCEEDED", output: [6, 5, 4, 3, 2, 1].map((n) => ({ n })) });
  });
});

describe("recovery", () => {
  it("retries a flaky task with back-off until it succeeds", async () => {
    const result = await run(
      {
        StartAt: "Pay",
        States: {
          Pay: {
            Type: "Task",
            Resource: "flaky",
            Retry: [{ ErrorEquals: ["Flaky"], IntervalSeconds: 1, BackoffRate: 1, MaxAttempts: 3 }],
            End: true,
          },
        },
      },
      { succeedOn: 3 },
    );
    expect(result).toMatchObject({ status: "SUCCEEDED", output: { attempt: 3 } });
    expect(kinds(result.events).filter((k) => k === "taskRetryScheduled")).toHaveLength(2);
  });

  it("catches a named error and continues at the catcher's state", async () => {
    const result = await run(
      {
        StartAt: "Charge",
        States: {
          Charge: {
            Type: "Task",
            Resource: "fail",
            Catch: [{ ErrorEquals: ["PaymentDeclined"], ResultPath: "$.failure", Next: "Compensate" }],
            End: true,
          },
          Compensate: { Type: "Pass", End: true },
        },
      },
      { error: "PaymentDeclined", cause: "card expired" },
    );
    expect(result).toMatchObject({
      status: "SUCCEEDED",
      output: { error: "PaymentDeclined", failure: { Error: "PaymentDeclined", Cause: "card expired" } },
    });
  });

  it("fails an unclassified handler error as States.TaskFailed", async () => {
    const result = await run(
      { StartAt: "T", States: { T: { Type: "Task", Resource: "fail", End: true } } },
      { cause: "plain" },
    );
    expect(result).toMatchObject({ status: "FAILED", error: "States.TaskFailed", cause: "plain" });
  });

  it("times a task out with States.Timeout", async () => {
    const result = await run({
      StartAt: "T",
      States: {
        T: {
          Type: "Task",
          Resource: "hang",
          TimeoutSeconds: 1,
          Catch: [{ ErrorEquals: ["States.Timeout"], Next: "Late" }],
          End: true,
        },
        Late: { Type: "Pass", End: true },
      },
    });
    expect(result).toMatchObject({ status: "SUCCEEDED", output: { Error: "States.Timeout" } });
  });

  it("times a task out with States.HeartbeatTimeout when heartbeats stop", async () => {
    const result = await run({
      StartAt: "T",
      States: { T: { Type: "Task", Resource: "hang", TimeoutSeconds: 60, HeartbeatSeconds: 1, End: true } },
    });
    expect(result).toMatchObject({ status: "FAILED", error: "States.HeartbeatTimeout" });
  });

  it("times the whole execution out after its TimeoutSeconds", async () => {
    const result = await run({
      StartAt: "T",
      TimeoutSeconds: 1,
      States: { T: { Type: "Task", Resource: "hang", End: true } },
    });
    expect(result).toMatchObject({ status: "TIMED_OUT", error: "States.Timeout" });
  });
});

describe("heartbeats", () => {
  it("tell the worker of an attempt that timed out to stop, while its execution waits to retry", async () => {
    const executionId = await startNew({
      StartAt: "T",
      States: {
        T: {
          Type: "Task",
          Resource: "hang",
          TimeoutSeconds: 1,
          Retry: [{ ErrorEquals: ["States.Timeout"], IntervalSeconds: 3600, MaxAttempts: 1 }],
          End: true,
        },
      },
    });
    const events = await waitFor(
      async () => {
        const events = await historyOf(executionId);
        return kinds(events).includes("taskRetryScheduled") ? events : undefined;
      },
      { timeoutMs: 30_000, message: "the attempt timed out and a retry was scheduled" },
    );
    const scheduled = events.find((e) => e.details?.$case === "taskScheduled")?.details;
    const token = scheduled?.$case === "taskScheduled" ? scheduled.value.taskToken : "";
    // The state-manager left the running execution's snapshot behind its history (it is written
    // every STATE_SNAPSHOT_EVERY_EVENTS events): the answer must come from the history.
    const stored = await (await new Kvm(jetstream(nc)).open(buckets.instances)).get(executionId);
    const storedLastEventId = stored ? ExecutionSnapshot.decode(stored.value).lastEventId : 0;
    expect(storedLastEventId).toBeLessThan(events.at(-1)?.eventId ?? 0);
    const reply = await nc.request(
      subjects.heartbeat("hang"),
      encode(TaskResult, {
        taskToken: token,
        outcome: { $case: "heartbeat", value: {} },
        workerId: "test",
        completedTime: new Date(),
      }),
      { timeout: 10_000 },
    );
    expect(TaskHeartbeatReply.decode(reply.data).cancelRequested).toBe(true);
    await engine.client.stopExecution({ executionId, error: "Test", cause: "done" });
  });
});

describe("the API", () => {
  it("stops a running execution", async () => {
    const executionId = await startNew({
      StartAt: "T",
      States: { T: { Type: "Task", Resource: "hang", End: true } },
    });
    const history = () => historyOf(executionId);
    // Stop once the task is out, so the worker sees its signal.
    for (let i = 0; i < 600 && !kinds(await history()).includes("taskScheduled"); i++)
      await new Promise((r) => setTimeout(r, 50));
    await engine.client.stopExecution({ executionId, error: "Operator", cause: "not needed" });
    const described = await waitForEnd(engine.client, executionId);
    expect(statusOf(described.execution?.status)).toBe("ABORTED");
    expect(described).toMatchObject({ error: "Operator", cause: "not needed" });
    expect(kinds(await history())).toContain("taskCancelled");
    await checkStoredExecution(nc, executionId);
  });

  it("completes a task by token with SendTaskSuccess (the callback pattern)", async () => {
    const executionId = await startNew({
      StartAt: "Approve",
      States: { Approve: { Type: "Task", Resource: "human-approval", End: true } },
    });
    let token = "";
    for (let i = 0; i < 600 && !token; i++) {
      const events = await historyOf(executionId);
      const scheduled = events.find((e) => e.details?.$case === "taskScheduled");
      if (scheduled?.details?.$case === "taskScheduled") token = scheduled.details.value.taskToken;
      else await new Promise((r) => setTimeout(r, 50));
    }
    await engine.client.sendTaskSuccess({ taskToken: token, outputJson: '{"approved":true}' });
    const described = await waitForEnd(engine.client, executionId);
    expect(JSON.parse(described.outputJson)).toEqual({ approved: true });
    await expect(engine.client.sendTaskSuccess({ taskToken: token, outputJson: "{}" })).rejects.toMatchObject(
      {
        code: grpcStatus.NOT_FOUND,
      },
    );
  });

  it("makes a named start idempotent and refuses the same name with another input", async () => {
    const name = `wf-${++counter}`;
    await engine.client.registerWorkflow({
      name,
      definition: JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", End: true } } }),
      description: "",
    });
    const start = (input: string) =>
      engine.client.startExecution({
        workflowName: name,
        workflowVersion: 0,
        inputJson: input,
        executionName: "order-42",
      });
    const first = await start('{"a":1}');
    const again = await start('{ "a" : 1 }');
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ executionId: first.executionId, created: false });
    await expect(start('{"a":2}')).rejects.toMatchObject({
      code: grpcStatus.ALREADY_EXISTS,
      details: `an execution named "order-42" of workflow "${name}" already exists with another input`,
    });
  });

  it("returns the existing version for identical content and a new one for a change", async () => {
    const name = `wf-${++counter}`;
    const v1 = { StartAt: "P", States: { P: { Type: "Pass", End: true } } };
    const r1 = await engine.client.registerWorkflow({
      name,
      definition: JSON.stringify(v1),
      description: "",
    });
    const yaml = "StartAt: P\nStates:\n  P:\n    Type: Pass\n    End: true\n";
    const r2 = await engine.client.registerWorkflow({ name, definition: yaml, description: "" });
    const r3 = await engine.client.registerWorkflow({
      name,
      definition: JSON.stringify({ ...v1, Comment: "changed" }),
      description: "",
    });
    expect([r1.version, r1.created, r2.version, r2.created, r3.version, r3.created]).toEqual([
      1,
      true,
      1,
      false,
      2,
      true,
    ]);
  });

  it("rejects an invalid definition with every problem and its path", async () => {
    const definition = JSON.stringify({ StartAt: "Missing", States: { A: { Type: "Task", End: true } } });
    const err = await engine.client
      .registerWorkflow({ name: "broken", definition, description: "" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: grpcStatus.INVALID_ARGUMENT });
    const details = (err as { details: string }).details;
    expect(details).toMatch(/^invalid workflow definition:/);
    expect(details).toContain("StartAt");
    expect(details).toContain("States.A");
  });

  it("answers NOT_FOUND for an unknown execution and INVALID_ARGUMENT for bad input JSON", async () => {
    await expect(engine.client.describeExecution({ executionId: "no-such-execution" })).rejects.toMatchObject(
      {
        code: grpcStatus.NOT_FOUND,
        details: 'execution "no-such-execution" does not exist',
      },
    );
    await engine.client.registerWorkflow({
      name: "json-check",
      definition: JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", End: true } } }),
      description: "",
    });
    await expect(
      engine.client.startExecution({
        workflowName: "json-check",
        workflowVersion: 0,
        inputJson: "{oops",
        executionName: "",
      }),
    ).rejects.toMatchObject({ code: grpcStatus.INVALID_ARGUMENT });
  });
});
