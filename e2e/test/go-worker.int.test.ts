/**
 * The Go example worker (examples/go-worker, built here with `go build` from Debian's Go
 * libraries, no network) does the tasks of workflows run by the engine: a success, a failure
 * caught by Catch, a retry, a heartbeat timeout, and a stop that cancels the handler's context.
 * The engine is traced (OTLP to a receiver in the test): the Go worker's results carry their
 * tasks' `traceparent`, so the orchestrator's result spans join the execution's trace. The worker
 * answers the presence ping, so the engine's stats count it.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { subjects } from "@jetflow/contracts";
import { waitFor } from "@jetflow/testing";
import { connectTo } from "@jetflow/testing";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import {
  buildGoExampleWorker,
  checkStoredExecution,
  GO_EXAMPLE_WORKER as EXAMPLE,
  startEngine,
  statusOf,
  waitForEnd,
} from "../src";
import type { Engine } from "../src";
import { startOtlpReceiver } from "./otlp-receiver";
import type { OtlpReceiver } from "./otlp-receiver";

const buildDir = mkdtempSync(join(tmpdir(), "jetflow-go-worker-"));
const binary = join(buildDir, "go-worker");

let receiver: OtlpReceiver;
let engine: Engine;
let nc: NatsConnection;
let worker: ChildProcess | undefined;
let printed = "";
/** The `traceparent` header of every task and result published, by task token (their Nats-Msg-Id). */
const taskTraceParents = new Map<string, string | undefined>();
const resultTraceParents = new Map<string, string | undefined>();

function recordTraceParent(into: Map<string, string | undefined>) {
  return (err: Error | null, msg: Msg) => {
    const token = msg.headers?.get("Nats-Msg-Id");
    if (err === null && token) into.set(token, msg.headers?.get("traceparent") || undefined);
  };
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const [started, built] = await Promise.allSettled([
    startEngine({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } }),
    buildGoExampleWorker(binary),
  ]);
  if (started.status === "rejected") throw started.reason;
  engine = started.value;
  if (built.status === "rejected") throw built.reason;
  nc = await connectTo(engine.natsUrl);
  // Core subscriptions see every JetStream publish on these subjects, headers included.
  nc.subscribe(subjects.allTasks, { callback: recordTraceParent(taskTraceParents) });
  nc.subscribe(subjects.allResults, { callback: recordTraceParent(resultTraceParents) });
  await nc.flush();
  worker = spawn(binary, [], {
    env: { PATH: process.env.PATH, NATS_URL: engine.natsUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  worker.stdout?.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  worker.stderr?.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  await waitFor(() => printed.includes("worker") && printed.includes("started"), {
    timeoutMs: 20_000,
    message: "the Go worker did not start",
  });
  await engine.client.registerWorkflow({
    name: "go-payment",
    definition: readFileSync(join(EXAMPLE, "workflows/go-payment.asl.yaml"), "utf8"),
    description: "",
  });
}, 180_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((done) => worker?.once("exit", done));
    worker.kill("SIGTERM");
    await exited;
  }
  await nc?.close();
  await engine?.stop();
  await receiver?.close();
  rmSync(buildDir, { recursive: true, force: true });
});

async function start(workflowName: string, input: unknown): Promise<string> {
  const { executionId } = await engine.client.startExecution({
    workflowName,
    workflowVersion: 0,
    inputJson: JSON.stringify(input),
    executionName: "",
  });
  return executionId;
}

async function finish(executionId: string) {
  const described = await waitForEnd(engine.client, executionId, 60_000);
  await checkStoredExecution(nc, executionId);
  return {
    status: statusOf(described.execution?.status),
    output: described.outputJson === "" ? undefined : (JSON.parse(described.outputJson) as unknown),
    error: described.error,
  };
}

async function register(name: string, definition: object): Promise<void> {
  await engine.client.registerWorkflow({ name, definition: JSON.stringify(definition), description: "" });
}

test("the Go worker's tasks succeed, and a failing gateway is retried until it succeeds", async () => {
  const executionId = await start("go-payment", { who: "gopher", amount: 40 });
  expect(await finish(executionId)).toEqual({
    status: "SUCCEEDED",
    output: {
      who: "gopher",
      amount: 40,
      greet: { greeting: "hello gopher", execution: executionId },
      charge: { charged: 40 },
      notify: { attempts: 3 },
    },
    error: "",
  });
});

test("the Go worker's results carry their tasks' traceparent: the orchestrator continues the trace", async () => {
  const executionId = await start("go-payment", { who: "tracer", amount: 10 });
  expect((await finish(executionId)).status).toBe("SUCCEEDED");
  // Greet, Charge and three attempts of Notify.
  const tokens = [...taskTraceParents.keys()].filter((token) => token.startsWith(`${executionId}.`));
  await waitFor(() => tokens.every((token) => resultTraceParents.has(token)), {
    message: "a result of every task seen",
  });
  expect(tokens).toHaveLength(5);
  for (const token of tokens) {
    expect(taskTraceParents.get(token)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect([token, resultTraceParents.get(token)]).toEqual([token, taskTraceParents.get(token)]);
  }
  // The Go worker records no span: each result's span is a child of its task's parent, the
  // execution's StartExecution span.
  const root = await waitFor(() =>
    receiver.spans.find(
      (s) => s.name === "StartExecution go-payment" && s.attributes["jetflow.execution_id"] === executionId,
    ),
  );
  const results = await waitFor(
    () => {
      const found = receiver.spans.filter(
        (s) => s.traceId === root.traceId && s.service === "orchestrator" && s.name.startsWith("result "),
      );
      return found.length === tokens.length ? found : undefined;
    },
    { message: "an orchestrator span per Go result in the execution's trace" },
  );
  expect(results.map((s) => s.parentSpanId)).toEqual(tokens.map(() => root.spanId));
});

test("a Go error with an ASL name is caught by Catch", async () => {
  const executionId = await start("go-payment", { who: "big spender", amount: 5000 });
  const { status, output } = await finish(executionId);
  expect(status).toBe("SUCCEEDED");
  expect(output).toMatchObject({
    declined: { Error: "PaymentDeclined", Cause: "amount 5000 is over the limit of 1000" },
    notify: { attempts: 3 },
  });
});

test("a Go handler that does not heartbeat is timed out by HeartbeatSeconds", async () => {
  await register("go-silent", {
    StartAt: "Silent",
    States: {
      Silent: { Type: "Task", Resource: "go-silent", HeartbeatSeconds: 1, TimeoutSeconds: 60, End: true },
    },
  });
  const executionId = await start("go-silent", {});
  expect(await finish(executionId)).toMatchObject({ status: "FAILED", error: "States.HeartbeatTimeout" });
});

test("the engine's stats count the Go worker among the workers of each of its activities", async () => {
  const stats = await engine.client.getEngineStats({ windowSeconds: 0 });
  const workers = Object.fromEntries(stats.activities.map((a) => [a.activity, a.workersConnected]));
  expect(workers).toMatchObject({
    "go-greet": 1,
    "go-charge": 1,
    "go-flaky": 1,
    "go-silent": 1,
    "go-wait-for-stop": 1,
  });
});

test("stopping an execution cancels the Go handler's context", async () => {
  await register("go-stop", {
    StartAt: "Wait",
    States: { Wait: { Type: "Task", Resource: "go-wait-for-stop", HeartbeatSeconds: 10, End: true } },
  });
  const executionId = await start("go-stop", {});
  await waitFor(() => printed.includes(`waiting for a stop: task=${executionId}.`), {
    timeoutMs: 20_000,
    message: "the Go handler did not start",
  });
  await engine.client.stopExecution({ executionId, error: "Operator", cause: "test" });
  await waitFor(
    () =>
      new RegExp(
        `handler context cancelled: task=${executionId}\\.\\d+ execution=${executionId} cause=jetflow: task cancelled`,
      ).test(printed),
    {
      timeoutMs: 20_000,
      message: `the Go handler's context was not cancelled; the worker printed:\n${printed}`,
    },
  );
  expect((await finish(executionId)).status).toBe("ABORTED");
});
