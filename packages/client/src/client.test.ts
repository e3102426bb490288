// The client against a real in-process gRPC server whose handlers script failures: retries,
// deadlines and stream resumption, without an engine behind it.
import { Server, ServerCredentials, status } from "@grpc/grpc-js";
import type { ServerWritableStream } from "@grpc/grpc-js";
import { DescribeExecutionResponse, ExecutionStatus, WorkflowServiceService } from "@jetflow/contracts";
import type { HistoryEvent, WatchExecutionRequest, WatchExecutionResponse } from "@jetflow/contracts";
import { createClient } from "./client";
import type { JetflowClient } from "./client";
import { Code, JetflowError } from "./errors";

let server: Server;
let address: string;
// A handler's parameters are whatever its test needs: `never` accepts them all.
type Handler = (call: never, callback: never) => void;
let handlers: Record<string, Handler> = {};
const clients: JetflowClient[] = [];

// Every method delegates to `handlers`, which each test replaces.
const delegating = Object.fromEntries(
  Object.keys(WorkflowServiceService).map((name) => [
    name,
    (...args: unknown[]) => {
      const handler = handlers[name] as ((...a: unknown[]) => void) | undefined;
      if (handler) return handler(...args);
      const callback = args[1] as ((err: unknown) => void) | undefined;
      const error = { code: status.UNIMPLEMENTED, details: `${name} not scripted` };
      if (typeof callback === "function") callback(error);
      else (args[0] as { emit(e: string, v: unknown): void }).emit("error", error);
    },
  ]),
);

beforeAll(async () => {
  server = new Server();
  server.addService(WorkflowServiceService, delegating);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  address = `127.0.0.1:${port}`;
});

afterEach(() => {
  handlers = {};
  for (const c of clients.splice(0)) c.close();
});

afterAll(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));

function client(options: { deadlineMs?: number; retries?: number } = {}): JetflowClient {
  const c = createClient({ address, ...options });
  clients.push(c);
  return c;
}

const described = (status: ExecutionStatus) =>
  DescribeExecutionResponse.fromPartial({ execution: { executionId: "e1", status }, inputJson: "{}" });
const running = described(ExecutionStatus.EXECUTION_STATUS_RUNNING);

function event(eventId: number): HistoryEvent {
  return {
    eventId,
    executionId: "e1",
    timestamp: new Date(0),
    stateName: "",
    details: { $case: "waitFinished", value: {} },
  };
}

describe("unary calls", () => {
  it("retries UNAVAILABLE and returns the answer of the attempt that succeeds", async () => {
    let calls = 0;
    handlers.describeExecution = (_call: unknown, callback: (e: unknown, r?: unknown) => void) => {
      calls += 1;
      if (calls <= 2) callback({ code: status.UNAVAILABLE, details: "not connected to NATS; try again" });
      else callback(null, running);
    };
    const answer = await client({ retries: 3 }).describeExecution("e1");
    expect(answer.execution?.executionId).toBe("e1");
    expect(calls).toBe(3);
  });

  it("rejects with the server's code and message once the retries are spent", async () => {
    let calls = 0;
    handlers.describeExecution = (_call: unknown, callback: (e: unknown) => void) => {
      calls += 1;
      callback({ code: status.UNAVAILABLE, details: "the engine is unavailable; try again" });
    };
    const call = client({ retries: 1 }).describeExecution("e1");
    await expect(call).rejects.toBeInstanceOf(JetflowError);
    await expect(call).rejects.toThrow("UNAVAILABLE: the engine is unavailable; try again");
    expect(calls).toBe(2);
  });

  it("fails a call the server does not answer with DEADLINE_EXCEEDED at its deadline", async () => {
    handlers.describeExecution = () => undefined;
    const started = Date.now();
    await expect(client({ deadlineMs: 300 }).describeExecution("e1")).rejects.toMatchObject({
      code: Code.DEADLINE_EXCEEDED,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("retries an unnamed start with one request id per logical call, and a named one by its name", async () => {
    const requests: { executionName: string; requestId?: string }[] = [];
    handlers.startExecution = (
      call: { request: { executionName: string; requestId?: string } },
      callback: (e: unknown, r?: unknown) => void,
    ) => {
      requests.push(call.request);
      // Every first attempt of a logical call fails as if the gateway had gone away.
      const attempts = requests.filter(
        (r) => r.executionName === call.request.executionName && r.requestId === call.request.requestId,
      ).length;
      if (attempts === 1) callback({ code: status.UNAVAILABLE, details: "try again" });
      else callback(null, { executionId: "e1", startTime: new Date(0), created: true });
    };
    const c = client();
    await expect(c.startExecution({ workflowName: "w", input: { a: 1 } })).resolves.toMatchObject({
      executionId: "e1",
    });
    await c.startExecution({ workflowName: "w", input: { a: 1 } });
    await c.startExecution({ workflowName: "w", executionName: "once" });
    await c.startExecution({ workflowName: "w", requestId: "my-key" });
    const [first, firstRetry, second, secondRetry, named, namedRetry, own, ownRetry] = requests;
    expect(first?.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(firstRetry?.requestId).toBe(first?.requestId);
    expect(second?.requestId).not.toBe(first?.requestId);
    expect(secondRetry?.requestId).toBe(second?.requestId);
    expect([named, namedRetry]).toEqual([
      expect.objectContaining({ executionName: "once", requestId: undefined }),
      expect.objectContaining({ executionName: "once", requestId: undefined }),
    ]);
    expect([own?.requestId, ownRetry?.requestId]).toEqual(["my-key", "my-key"]);
    expect(requests).toHaveLength(8);
  });

  it("retries UNAVAILABLE until the deadline when no retry limit is given", async () => {
    let calls = 0;
    handlers.listWorkflows = (_call: unknown, callback: (e: unknown) => void) => {
      calls += 1;
      callback({ code: status.UNAVAILABLE, details: "the engine is unavailable; try again" });
    };
    const warnings: Record<string, unknown>[] = [];
    const c = createClient({
      address,
      deadlineMs: 1_500,
      logger: { warn: (fields) => warnings.push(fields) },
    });
    clients.push(c);
    const started = Date.now();
    await expect(c.listWorkflows()).rejects.toThrow("UNAVAILABLE: the engine is unavailable; try again");
    // Waits of 50-100, 100-200, 200-400 and 400-800 ms fit in 1.5 s: at least 5 attempts.
    expect(calls).toBeGreaterThanOrEqual(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(warnings).toHaveLength(calls - 1);
    expect(warnings[0]).toMatchObject({ method: "listWorkflows", retry: 1, code: "UNAVAILABLE" });
  });

  it("does not retry statuses other than UNAVAILABLE", async () => {
    let calls = 0;
    handlers.getWorkflow = (_call: unknown, callback: (e: unknown) => void) => {
      calls += 1;
      callback({ code: status.INTERNAL, details: "internal error" });
    };
    await expect(client().getWorkflow({ name: "w" })).rejects.toMatchObject({ code: Code.INTERNAL });
    expect(calls).toBe(1);
  });

  it("resolves a retried stop that finds the execution aborted with its error and cause", async () => {
    let stops = 0;
    handlers.stopExecution = (_call: unknown, callback: (e: unknown) => void) => {
      stops += 1;
      // The first stop went through but its answer was lost; the retry finds it not running.
      if (stops === 1) callback({ code: status.UNAVAILABLE, details: "connection dropped" });
      else callback({ code: status.FAILED_PRECONDITION, details: 'execution "e1" is not running' });
    };
    const stopTime = new Date(1_000);
    handlers.describeExecution = (_call: unknown, callback: (e: unknown, r?: unknown) => void) =>
      callback(
        null,
        DescribeExecutionResponse.fromPartial({
          execution: { executionId: "e1", status: ExecutionStatus.EXECUTION_STATUS_ABORTED, stopTime },
          error: "Cancelled",
          cause: "by hand",
        }),
      );
    const c = client();
    await expect(
      c.stopExecution({ executionId: "e1", error: "Cancelled", cause: "by hand" }),
    ).resolves.toEqual({ stopTime });
    stops = 0;
    await expect(c.stopExecution({ executionId: "e1", error: "Other" })).rejects.toThrow(
      'FAILED_PRECONDITION: execution "e1" is not running',
    );
  });

  it("rejects a first-attempt stop of an execution that is not running without a second look", async () => {
    handlers.stopExecution = (_call: unknown, callback: (e: unknown) => void) =>
      callback({ code: status.FAILED_PRECONDITION, details: 'execution "e1" is not running' });
    let describes = 0;
    handlers.describeExecution = (_call: unknown, callback: (e: unknown, r?: unknown) => void) => {
      describes += 1;
      callback(null, described(ExecutionStatus.EXECUTION_STATUS_ABORTED));
    };
    await expect(client().stopExecution({ executionId: "e1" })).rejects.toMatchObject({
      code: Code.FAILED_PRECONDITION,
    });
    expect(describes).toBe(0);
  });

  it("sends the input as JSON and the task output as JSON", async () => {
    const seen: unknown[] = [];
    handlers.startExecution = (call: { request: unknown }, callback: (e: unknown, r?: unknown) => void) => {
      seen.push(call.request);
      callback(null, { executionId: "e1", startTime: new Date(0), created: true });
    };
    handlers.sendTaskSuccess = (call: { request: unknown }, callback: (e: unknown, r?: unknown) => void) => {
      seen.push(call.request);
      callback(null, {});
    };
    const c = client();
    await c.startExecution({ workflowName: "w", input: { n: 1 } });
    await c.startExecution({ workflowName: "w", inputJson: '{"raw":true}', workflowVersion: 2 });
    await c.sendTaskSuccess("e1.5", { ok: true });
    expect(seen).toEqual([
      {
        workflowName: "w",
        workflowVersion: 0,
        inputJson: '{"n":1}',
        executionName: "",
        requestId: expect.any(String),
      },
      {
        workflowName: "w",
        workflowVersion: 2,
        inputJson: '{"raw":true}',
        executionName: "",
        requestId: expect.any(String),
      },
      { taskToken: "e1.5", outputJson: '{"ok":true}' },
    ]);
  });

  it("rejects with UNAVAILABLE when nothing listens at the address", async () => {
    const c = createClient({ address: "127.0.0.1:1", retries: 1, deadlineMs: 5_000 });
    clients.push(c);
    await expect(c.listWorkflows()).rejects.toMatchObject({ code: Code.UNAVAILABLE });
  });
});

describe("watchExecution", () => {
  it("resumes after the last event received when the stream fails with UNAVAILABLE", async () => {
    const requests: number[] = [];
    handlers.watchExecution = (call: ServerWritableStream<WatchExecutionRequest, WatchExecutionResponse>) => {
      const from = Math.max(1, call.request.fromEventId);
      requests.push(call.request.fromEventId);
      if (requests.length === 1) {
        call.write({ event: event(from) });
        call.write({ event: event(from + 1) });
        call.emit("error", { code: status.UNAVAILABLE, details: "gateway stopping" });
        return;
      }
      for (let id = from; id <= 5; id++) call.write({ event: event(id) });
      call.end();
    };
    const ids: number[] = [];
    for await (const e of client().watchExecution({ executionId: "e1" })) ids.push(e.eventId);
    expect(ids).toEqual([1, 2, 3, 4, 5]);
    expect(requests).toEqual([0, 3]);
  });

  it("cancels the server's stream when the caller leaves the loop", async () => {
    let cancelled!: () => void;
    const serverSawCancel = new Promise<void>((resolve) => (cancelled = resolve));
    handlers.watchExecution = (call: ServerWritableStream<WatchExecutionRequest, WatchExecutionResponse>) => {
      call.on("cancelled", () => cancelled());
      call.write({ event: event(1) });
    };
    for await (const e of client().watchExecution({ executionId: "e1" })) {
      expect(e.eventId).toBe(1);
      break;
    }
    await serverSawCancel;
  });

  it("gives up resuming a stream that keeps failing once the deadline has passed", async () => {
    let opened = 0;
    handlers.watchExecution = (call: ServerWritableStream<WatchExecutionRequest, WatchExecutionResponse>) => {
      opened += 1;
      call.emit("error", { code: status.UNAVAILABLE, details: "the engine is unavailable; try again" });
    };
    const consume = async () => {
      for await (const _e of client({ deadlineMs: 1_000 }).watchExecution({ executionId: "e1" })) {
        // no events expected
      }
    };
    const started = Date.now();
    await expect(consume()).rejects.toThrow("UNAVAILABLE: the engine is unavailable; try again");
    expect(opened).toBeGreaterThanOrEqual(4);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("rejects with the stream's error when it is not UNAVAILABLE", async () => {
    handlers.watchExecution = (call: ServerWritableStream<WatchExecutionRequest, WatchExecutionResponse>) =>
      call.emit("error", { code: status.NOT_FOUND, details: 'execution "e1" does not exist' });
    const consume = async () => {
      for await (const _e of client().watchExecution({ executionId: "e1" })) {
        // no events expected
      }
    };
    await expect(consume()).rejects.toThrow('NOT_FOUND: execution "e1" does not exist');
  });
});

describe("waitForExecution", () => {
  it("resolves with the description once the watch ends and the execution is no longer running", async () => {
    let describes = 0;
    handlers.describeExecution = (_call: unknown, callback: (e: unknown, r?: unknown) => void) => {
      describes += 1;
      callback(null, describes === 1 ? running : described(ExecutionStatus.EXECUTION_STATUS_SUCCEEDED));
    };
    handlers.watchExecution = (call: ServerWritableStream<WatchExecutionRequest, WatchExecutionResponse>) =>
      setTimeout(() => call.end(), 50);
    const done = await client().waitForExecution("e1");
    expect(done.execution?.status).toBe(ExecutionStatus.EXECUTION_STATUS_SUCCEEDED);
    expect(describes).toBe(2);
  });

  it("rejects with DEADLINE_EXCEEDED and cancels the watch when the timeout passes", async () => {
    handlers.describeExecution = (_call: unknown, callback: (e: unknown, r?: unknown) => void) =>
      callback(null, running);
    let cancelled!: () => void;
    const serverSawCancel = new Promise<void>((resolve) => (cancelled = resolve));
    handlers.watchExecution = (call: ServerWritableStream<WatchExecutionRequest, WatchExecutionResponse>) =>
      call.on("cancelled", () => cancelled());
    await expect(client().waitForExecution("e1", { timeoutMs: 200 })).rejects.toThrow(
      'DEADLINE_EXCEEDED: execution "e1" still running after 200 ms',
    );
    await serverSawCancel;
  });
});
