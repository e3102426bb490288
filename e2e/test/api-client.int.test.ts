// Every RPC of the WorkflowService and every error code, through @jetflow/client against the
// engine running as processes. The last block stops nats-server: it must stay last.
import { Code, ExecutionStatus, JetflowError, createClient } from "@jetflow/client";
import type { HistoryEvent, JetflowClient } from "@jetflow/client";
import { connectTo, waitFor } from "@jetflow/testing";
import { createWorker } from "@jetflow/worker-sdk";
import type { TaskHandlers, Worker } from "@jetflow/worker-sdk";
import type { NatsConnection } from "@nats-io/transport-node";
import { checkStoredExecution, startEngine, testActivities } from "../src";
import type { Engine } from "../src";

let engine: Engine;
let nc: NatsConnection;
let worker: Worker;
let client: JetflowClient;
/** Tokens of tasks whose handler saw its AbortSignal fire. */
const aborted = new Set<string>();

const handlers: TaskHandlers = {
  ...testActivities,
  /** Runs until aborted, then records it. */
  "wait-for-abort": async (_input: unknown, ctx) => {
    await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
    aborted.add(ctx.taskToken);
    return {};
  },
};

beforeAll(async () => {
  engine = await startEngine();
  nc = await connectTo(engine.natsUrl);
  worker = createWorker({ nc, handlers });
  await worker.start();
  client = createClient({ address: engine.grpcAddress, retries: 0 });
});

afterAll(async () => {
  client?.close();
  await worker?.stop();
  await nc?.close();
  await engine?.stop();
});

const pass = JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", End: true } } });
const task = (resource: string) =>
  JSON.stringify({ StartAt: "T", States: { T: { Type: "Task", Resource: resource, End: true } } });

/** The rejection of `promise`, which must reject with a JetflowError. */
async function failure(promise: Promise<unknown>): Promise<JetflowError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof JetflowError)) throw new Error(`expected a JetflowError, got ${String(err)}`);
  return err;
}

async function allEvents(executionId: string): Promise<HistoryEvent[]> {
  const { events } = await client.getExecutionHistory({ executionId, pageSize: 1000 });
  return events;
}

/** The token of the task the execution is waiting on (from its TaskScheduled event). */
async function activeToken(executionId: string): Promise<string> {
  return waitFor(async () => {
    const scheduled = (await allEvents(executionId)).filter((e) => e.details?.$case === "taskScheduled");
    const last = scheduled[scheduled.length - 1]?.details;
    return last?.$case === "taskScheduled" ? last.value.taskToken : undefined;
  });
}

describe("workflows", () => {
  it("registers versions, gets them, and lists the latest of each by pages", async () => {
    const v1 = await client.registerWorkflow({ name: "wf-a", definition: pass, description: "first" });
    const same = await client.registerWorkflow({ name: "wf-a", definition: pass });
    const v2 = await client.registerWorkflow({
      name: "wf-a",
      definition: task("inc"),
      description: "second",
    });
    expect([v1, same, v2]).toEqual([
      { name: "wf-a", version: 1, created: true },
      { name: "wf-a", version: 1, created: false },
      { name: "wf-a", version: 2, created: true },
    ]);
    await client.registerWorkflow({ name: "wf-b", definition: pass });
    await client.registerWorkflow({ name: "wf-c", definition: pass });

    expect(await client.getWorkflow({ name: "wf-a" })).toMatchObject({
      workflow: { name: "wf-a", version: 2, description: "second" },
      definition: task("inc"),
    });
    expect((await client.getWorkflow({ name: "wf-a", version: 1 })).definition).toBe(pass);

    const page1 = await client.listWorkflows({ pageSize: 2 });
    const page2 = await client.listWorkflows({ pageSize: 2, pageToken: page1.nextPageToken });
    expect(page1.workflows.map((w) => [w.name, w.version])).toEqual([
      ["wf-a", 2],
      ["wf-b", 1],
    ]);
    expect(page2.workflows.map((w) => w.name)).toEqual(["wf-c"]);
    expect(page2.nextPageToken).toBe("");
  });
});

describe("executions", () => {
  it("starts, waits for and describes an execution, and checks what it stored", async () => {
    await client.registerWorkflow({ name: "inc", definition: task("inc") });
    const { executionId, created } = await client.startExecution({ workflowName: "inc", input: { n: 41 } });
    expect(created).toBe(true);
    const done = await client.waitForExecution(executionId, { timeoutMs: 60_000 });
    expect(done).toMatchObject({
      execution: {
        executionId,
        workflowName: "inc",
        workflowVersion: 1,
        status: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
      },
      inputJson: '{"n":41}',
      outputJson: '{"n":42}',
      activeStates: [],
    });
    expect(done.execution?.stopTime?.getTime()).toBeGreaterThanOrEqual(
      done.execution?.startTime?.getTime() ?? 0,
    );
    await checkStoredExecution(nc, executionId);
  });

  it("makes a named start idempotent and answers ALREADY_EXISTS for another input", async () => {
    await client.registerWorkflow({ name: "named", definition: pass });
    const first = await client.startExecution({
      workflowName: "named",
      executionName: "order-1",
      input: { a: 1 },
    });
    const again = await client.startExecution({
      workflowName: "named",
      executionName: "order-1",
      inputJson: '{ "a": 1 }',
    });
    expect(again).toMatchObject({ executionId: first.executionId, created: false });
    const err = await failure(
      client.startExecution({ workflowName: "named", executionName: "order-1", input: { a: 2 } }),
    );
    expect(err.code).toBe(Code.ALREADY_EXISTS);
    expect(err.details).toBe(
      'an execution named "order-1" of workflow "named" already exists with another input',
    );
  });

  it("lists executions newest first, by workflow and by status, a page at a time", async () => {
    await client.registerWorkflow({ name: "list-pass", definition: pass });
    await client.registerWorkflow({ name: "list-hang", definition: task("wait-for-abort") });
    const passed: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { executionId } = await client.startExecution({ workflowName: "list-pass", input: { i } });
      passed.push(executionId);
    }
    const { executionId: hanging } = await client.startExecution({ workflowName: "list-hang" });
    for (const id of passed) await client.waitForExecution(id);

    const pages: string[][] = [];
    let pageToken = "";
    do {
      const page = await client.listExecutions({ workflowName: "list-pass", pageSize: 2, pageToken });
      pages.push(page.executions.map((e) => e.executionId));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(pages).toEqual([passed.slice(3).reverse(), passed.slice(1, 3).reverse(), [passed[0]]]);

    const running = await client.listExecutions({ status: ExecutionStatus.EXECUTION_STATUS_RUNNING });
    expect(running.executions.map((e) => e.executionId)).toContain(hanging);
    expect(running.executions.map((e) => e.executionId)).not.toContain(passed[0]);
    const succeeded = await client.listExecutions({
      workflowName: "list-pass",
      status: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
    });
    expect(succeeded.executions).toHaveLength(5);
    expect(succeeded.executions[0]).toMatchObject({ workflowName: "list-pass", workflowVersion: 1 });

    await client.stopExecution({ executionId: hanging });
    await client.waitForExecution(hanging);
    const stopped = await client.listExecutions({ status: ExecutionStatus.EXECUTION_STATUS_ABORTED });
    expect(stopped.executions.map((e) => e.executionId)).toEqual([hanging]);
  });

  it("pages the history forward and in reverse without losing or repeating an event", async () => {
    await client.registerWorkflow({
      name: "chain",
      definition: JSON.stringify({
        StartAt: "A",
        States: {
          A: { Type: "Task", Resource: "inc", Next: "B" },
          B: { Type: "Task", Resource: "inc", Next: "C" },
          C: { Type: "Task", Resource: "inc", End: true },
        },
      }),
    });
    const { executionId } = await client.startExecution({ workflowName: "chain", input: { n: 0 } });
    await client.waitForExecution(executionId);
    const all = (await allEvents(executionId)).map((e) => e.eventId);
    expect(all).toEqual(all.map((_, i) => i + 1));

    const collect = async (reverseOrder: boolean) => {
      const ids: number[] = [];
      let pageToken = "";
      do {
        const page = await client.getExecutionHistory({ executionId, pageSize: 4, pageToken, reverseOrder });
        expect(page.events.length).toBeLessThanOrEqual(4);
        ids.push(...page.events.map((e) => e.eventId));
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      return ids;
    };
    expect(await collect(false)).toEqual(all);
    expect(await collect(true)).toEqual([...all].reverse());

    const forwardToken = (await client.getExecutionHistory({ executionId, pageSize: 2 })).nextPageToken;
    const err = await failure(
      client.getExecutionHistory({ executionId, pageToken: forwardToken, reverseOrder: true }),
    );
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
  });

  it("watches an execution live from a given event until it ends", async () => {
    await client.registerWorkflow({
      name: "slow-chain",
      definition: JSON.stringify({
        StartAt: "A",
        States: {
          A: { Type: "Task", Resource: "sleep-inc", Next: "B" },
          B: { Type: "Task", Resource: "sleep-inc", End: true },
        },
      }),
    });
    const { executionId } = await client.startExecution({
      workflowName: "slow-chain",
      input: { n: 0, ms: 300 },
    });
    const seen: HistoryEvent[] = [];
    for await (const event of client.watchExecution({ executionId })) seen.push(event);
    expect(seen.map((e) => e.eventId)).toEqual(seen.map((_, i) => i + 1));
    expect(seen[seen.length - 1]?.details?.$case).toBe("executionSucceeded");
    expect(seen.map((e) => e.details?.$case)).toEqual(
      (await allEvents(executionId)).map((e) => e.details?.$case),
    );

    const tail: number[] = [];
    for await (const event of client.watchExecution({ executionId, fromEventId: seen.length - 1 })) {
      tail.push(event.eventId);
    }
    expect(tail).toEqual([seen.length - 1, seen.length]);
  });

  it("stops a running execution: its task sees the AbortSignal, and a second stop is FAILED_PRECONDITION", async () => {
    await client.registerWorkflow({ name: "stoppable", definition: task("wait-for-abort") });
    const { executionId } = await client.startExecution({ workflowName: "stoppable" });
    const token = await activeToken(executionId);
    const described = await client.describeExecution(executionId);
    expect(described.activeStates).toEqual(["T"]);
    await client.stopExecution({ executionId, error: "Operator", cause: "no longer needed" });
    const done = await client.waitForExecution(executionId);
    expect(done).toMatchObject({
      execution: { status: ExecutionStatus.EXECUTION_STATUS_ABORTED },
      error: "Operator",
      cause: "no longer needed",
    });
    await waitFor(() => aborted.has(token), { message: "the task's AbortSignal did not fire" });
    const err = await failure(client.stopExecution({ executionId }));
    expect(err.code).toBe(Code.FAILED_PRECONDITION);
    expect(err.details).toBe(`execution "${executionId}" is not running`);
  });

  it("lists the active states inside running Parallel branches", async () => {
    const branch = (state: string) => ({
      StartAt: state,
      States: { [state]: { Type: "Task", Resource: "wait-for-abort", End: true } },
    });
    await client.registerWorkflow({
      name: "fan",
      definition: JSON.stringify({
        StartAt: "Fan",
        States: { Fan: { Type: "Parallel", Branches: [branch("Left"), branch("Right")], End: true } },
      }),
    });
    const { executionId } = await client.startExecution({ workflowName: "fan" });
    const active = await waitFor(async () => {
      const names = (await client.describeExecution(executionId)).activeStates;
      return names.length === 3 ? names : undefined;
    });
    expect([...active].sort()).toEqual(["Fan", "Left", "Right"]);
    await client.stopExecution({ executionId });
    await client.waitForExecution(executionId);
  });
});

describe("the callback pattern", () => {
  it("completes a task by token with SendTaskSuccess after heartbeats, and says afterwards that it is over", async () => {
    // No worker serves "external": the task waits for a system outside jetflow.
    await client.registerWorkflow({ name: "approval", definition: task("external") });
    const { executionId } = await client.startExecution({ workflowName: "approval", input: { order: 7 } });
    const token = await activeToken(executionId);
    expect(await client.sendTaskHeartbeat(token)).toEqual({ cancelRequested: false });
    await client.sendTaskSuccess(token, { approved: true });
    const done = await client.waitForExecution(executionId);
    expect(done).toMatchObject({
      execution: { status: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED },
      outputJson: '{"approved":true}',
    });
    expect(await client.sendTaskHeartbeat(token)).toEqual({ cancelRequested: true });
    const late = await failure(client.sendTaskSuccess(token, {}));
    expect(late.code).toBe(Code.NOT_FOUND);
    expect(late.details).toBe(`task "${token}" is not running (it finished, timed out or was stopped)`);
  });

  it("fails a task by token with SendTaskFailure and an ASL error name", async () => {
    const { executionId } = await client.startExecution({ workflowName: "approval", input: { order: 8 } });
    const token = await activeToken(executionId);
    await client.sendTaskFailure(token, "Rejected", "over budget");
    expect(await client.waitForExecution(executionId)).toMatchObject({
      execution: { status: ExecutionStatus.EXECUTION_STATUS_FAILED },
      error: "Rejected",
      cause: "over budget",
    });
  });

  it("answers NOT_FOUND for the token of an unknown execution and INVALID_ARGUMENT for a malformed one", async () => {
    const unknown = await failure(client.sendTaskHeartbeat("no-such-execution.3"));
    expect(unknown).toMatchObject({
      code: Code.NOT_FOUND,
      details: 'execution "no-such-execution" does not exist',
    });
    const malformed = await failure(client.sendTaskSuccess("not a token", {}));
    expect(malformed).toMatchObject({
      code: Code.INVALID_ARGUMENT,
      details: 'invalid request:\ntask_token: invalid task token "not a token"',
    });
  });
});

describe("errors", () => {
  it("lists every problem of a request with its field path (INVALID_ARGUMENT)", async () => {
    const err = await failure(
      client.startExecution({ workflowName: "bad name!", inputJson: "{oops", executionName: "x".repeat(81) }),
    );
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.details.split("\n")).toEqual([
      "invalid request:",
      'workflow_name: use 1 to 80 letters, digits, "-" or "_"',
      expect.stringMatching(/^input_json: is not valid JSON: /),
      "execution_name: must be at most 80 printable characters",
    ]);
    const definition = JSON.stringify({ StartAt: "Missing", States: { A: { Type: "Task", End: true } } });
    const invalid = await failure(client.registerWorkflow({ name: "broken", definition }));
    expect(invalid.code).toBe(Code.INVALID_ARGUMENT);
    expect(invalid.details).toMatch(/^invalid workflow definition:\n/);
    expect(invalid.details).toContain("StartAt");
    expect(invalid.details).toContain("States.A");
  });

  it("answers NOT_FOUND for unknown workflows, versions and executions", async () => {
    expect(await failure(client.getWorkflow({ name: "nobody" }))).toMatchObject({
      code: Code.NOT_FOUND,
      details: 'workflow "nobody" does not exist',
    });
    expect(await failure(client.getWorkflow({ name: "wf-a", version: 9 }))).toMatchObject({
      code: Code.NOT_FOUND,
      details: 'workflow "wf-a" has no version 9',
    });
    expect(await failure(client.startExecution({ workflowName: "nobody" }))).toMatchObject({
      code: Code.NOT_FOUND,
    });
    for (const call of [
      client.describeExecution("no-such-execution"),
      client.getExecutionHistory({ executionId: "no-such-execution" }),
      client.stopExecution({ executionId: "no-such-execution" }),
    ]) {
      expect(await failure(call)).toMatchObject({
        code: Code.NOT_FOUND,
        details: 'execution "no-such-execution" does not exist',
      });
    }
    const watching = (async () => {
      for await (const _event of client.watchExecution({ executionId: "no-such-execution" })) {
        // none expected
      }
    })();
    expect(await failure(watching)).toMatchObject({ code: Code.NOT_FOUND });
  });

  it("answers RESOURCE_EXHAUSTED for an oversized input, output or definition", async () => {
    const big = "x".repeat(300 * 1024);
    const input = await failure(client.startExecution({ workflowName: "inc", input: { big } }));
    expect(input.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(input.details).toMatch(/^input_json is \d+ bytes, more than the limit of 262144$/);
    const output = await failure(client.sendTaskSuccess("some-execution.3", { big }));
    expect(output.code).toBe(Code.RESOURCE_EXHAUSTED);
    const definition = await failure(
      client.registerWorkflow({
        name: "huge",
        definition: JSON.stringify({ Comment: "x".repeat(600 * 1024) }),
      }),
    );
    expect(definition.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(definition.details).toMatch(/^definition is \d+ bytes, more than the limit of 524288$/);
  });
});

describe("while NATS is unreachable", () => {
  it("answers UNAVAILABLE, then serves again once NATS is back", async () => {
    await engine.nats.stop();
    try {
      const err = await waitFor(
        async () => {
          const e = await failure(client.describeExecution("any-execution"));
          return e.code === Code.UNAVAILABLE ? e : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(err.details).toBe("not connected to NATS; try again");
      expect(err.message).not.toMatch(/\n\s+at /);
    } finally {
      await engine.nats.restart();
    }
    const again = createClient({ address: engine.grpcAddress, retries: 10, deadlineMs: 60_000 });
    try {
      await expect(again.getWorkflow({ name: "wf-a" })).resolves.toMatchObject({ workflow: { version: 2 } });
    } finally {
      again.close();
    }
  });
});
