/**
 * With OTEL_EXPORTER_OTLP_ENDPOINT set, every service and the worker export spans over OTLP to a
 * receiver in the test, which decodes the protobuf: one execution is one connected trace, from
 * the api-gateway's StartExecution through the orchestrator's transitions, each task attempt in
 * the worker (the handler's active span) and each result as the orchestrator reads it.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Metadata, credentials } from "@grpc/grpc-js";
import { WorkflowServiceClient } from "@jetflow/contracts";
import { waitFor } from "@jetflow/testing";
import { ManagedProcess, startEngine, statusOf, waitForEnd } from "../src";
import type { Engine } from "../src";
import { startOtlpReceiver } from "./otlp-receiver";
import type { OtlpReceiver, ReceivedSpan } from "./otlp-receiver";

let receiver: OtlpReceiver;
let engine: Engine;
let worker: ManagedProcess;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  engine = await startEngine({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
  worker = new ManagedProcess(
    "worker",
    resolve(__dirname, "../dist/test-worker.js"),
    {
      PATH: process.env.PATH,
      NATS_URL: engine.natsUrl,
      ACTIVITIES: "traced-flaky",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    },
    join(mkdtempSync(join(tmpdir(), "jetflow-traces-")), "worker.log"),
  );
  worker.start();
  await worker.waitForLog("worker started");
});

afterAll(async () => {
  await worker?.stop();
  await engine?.stop();
  await receiver?.close();
});

it("makes one connected trace of an execution across every service and the worker, retried task included", async () => {
  const definition = JSON.stringify({
    StartAt: "Flaky",
    States: {
      Flaky: {
        Type: "Task",
        Resource: "traced-flaky",
        Retry: [{ ErrorEquals: ["Flaky"], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1 }],
        End: true,
      },
    },
  });
  await engine.client.registerWorkflow({ name: "traced", definition, description: "" });
  const { executionId } = await engine.client.startExecution({
    workflowName: "traced",
    workflowVersion: 0,
    inputJson: '{"succeedOn":2}',
    executionName: "",
  });
  const ended = await waitForEnd(engine.client, executionId);
  expect(statusOf(ended.execution?.status)).toBe("SUCCEEDED");
  const { activeSpanId } = JSON.parse(ended.outputJson) as { activeSpanId: string };

  const root = await waitFor(() =>
    receiver.spans.find(
      (s) => s.name === "StartExecution traced" && s.attributes["jetflow.execution_id"] === executionId,
    ),
  );
  const inTrace = () => receiver.spans.filter((s) => s.traceId === root.traceId);
  const of = (service: string, prefix: string) =>
    inTrace().filter((s) => s.service === service && s.name.startsWith(prefix));
  // Spans are exported in batches every second by each process.
  await waitFor(
    () => of("jetflow-worker", "task ").length === 2 && of("orchestrator", "result ").length === 2,
    {
      message: "two task attempts and their results in the trace",
    },
  );
  // The execution's end is the last transition: Begin, the failed attempt, the retry's timer, the success.
  await waitFor(
    () =>
      of("orchestrator", "transition ").some((s) =>
        (s.attributes["jetflow.events"] as string[] | undefined)?.includes("executionSucceeded"),
      ),
    { message: "the final transition in the trace" },
  );

  expect(root).toMatchObject({ service: "api-gateway", parentSpanId: "" });
  // Connected: every span's parent is in the trace, up to the root.
  const ids = new Set(inTrace().map((s) => s.spanId));
  const orphans = inTrace().filter((s) => s !== root && !ids.has(s.parentSpanId));
  expect(orphans.map((s: ReceivedSpan) => `${s.service} ${s.name}`)).toEqual([]);

  const transitions = of("orchestrator", "transition ");
  expect(transitions.length).toBeGreaterThanOrEqual(4);
  for (const transition of transitions) expect(transition.parentSpanId).toBe(root.spanId);

  const attempts = of("jetflow-worker", "task ").sort(
    (a, b) => Number(a.attributes["jetflow.attempt"]) - Number(b.attributes["jetflow.attempt"]),
  );
  expect(
    attempts.map((s) => [s.name, s.attributes["jetflow.attempt"], s.parentSpanId, s.statusCode]),
  ).toEqual([
    ["task traced-flaky", 1, root.spanId, 2],
    ["task traced-flaky", 2, root.spanId, 0],
  ]);
  expect(attempts.map((s) => s.attributes["jetflow.execution_id"])).toEqual([executionId, executionId]);
  // The handler ran with its attempt's span active.
  expect(activeSpanId).toBe(attempts[1]?.spanId);
  // Each result is recorded under the attempt that produced it.
  expect(
    of("orchestrator", "result ")
      .map((s) => s.parentSpanId)
      .sort(),
  ).toEqual(attempts.map((s) => s.spanId).sort());
});

it("puts the transitions and tasks of a Map's iterations in their parent's trace", async () => {
  const definition = JSON.stringify({
    StartAt: "Each",
    States: {
      Each: {
        Type: "Map",
        ItemsPath: "$.items",
        ItemProcessor: {
          StartAt: "Work",
          States: { Work: { Type: "Task", Resource: "traced-flaky", End: true } },
        },
        End: true,
      },
    },
  });
  await engine.client.registerWorkflow({ name: "traced-map", definition, description: "" });
  const { executionId } = await engine.client.startExecution({
    workflowName: "traced-map",
    workflowVersion: 0,
    inputJson: '{"items":[{"succeedOn":1},{"succeedOn":1},{"succeedOn":1}]}',
    executionName: "",
  });
  const ended = await waitForEnd(engine.client, executionId);
  expect(statusOf(ended.execution?.status)).toBe("SUCCEEDED");
  const root = await waitFor(() =>
    receiver.spans.find(
      (s) => s.name === "StartExecution traced-map" && s.attributes["jetflow.execution_id"] === executionId,
    ),
  );
  const tasks = await waitFor(() => {
    const found = receiver.spans.filter((s) => s.traceId === root.traceId && s.name === "task traced-flaky");
    return found.length === 3 ? found : undefined;
  });
  // Each task ran in an iteration, a child execution of its own, under the same root span.
  expect(new Set(tasks.map((s) => s.attributes["jetflow.execution_id"])).size).toBe(3);
  for (const task of tasks) {
    expect(task.attributes["jetflow.execution_id"]).not.toBe(executionId);
    expect(task.parentSpanId).toBe(root.spanId);
  }
  await waitFor(() =>
    receiver.spans.some(
      (s) =>
        s.traceId === root.traceId &&
        s.service === "orchestrator" &&
        s.attributes["jetflow.execution_id"] !== executionId &&
        (s.attributes["jetflow.events"] as string[] | undefined)?.includes("executionSucceeded"),
    ),
  );
});

it("makes the StartExecution span a child of the caller's span when the gRPC call carries a traceparent", async () => {
  await engine.client.registerWorkflow({
    name: "traced-caller",
    definition: JSON.stringify({ StartAt: "Done", States: { Done: { Type: "Pass", End: true } } }),
    description: "",
  });
  // The caller's own trace: its ids are the test's, as an instrumented client's would be.
  const callerTraceId = randomBytes(16).toString("hex");
  const callerSpanId = randomBytes(8).toString("hex");
  const metadata = new Metadata();
  metadata.set("traceparent", `00-${callerTraceId}-${callerSpanId}-01`);
  const stub = new WorkflowServiceClient(engine.grpcAddress, credentials.createInsecure());
  let executionId: string;
  try {
    executionId = await new Promise<string>((resolvePromise, reject) =>
      stub.startExecution(
        { workflowName: "traced-caller", workflowVersion: 0, inputJson: "{}", executionName: "" },
        metadata,
        { deadline: Date.now() + 15_000 },
        (err, res) => (err ? reject(err) : resolvePromise(res.executionId)),
      ),
    );
  } finally {
    stub.close();
  }
  const ended = await waitForEnd(engine.client, executionId);
  expect(statusOf(ended.execution?.status)).toBe("SUCCEEDED");

  const start = await waitFor(() =>
    receiver.spans.find(
      (s) =>
        s.name === "StartExecution traced-caller" && s.attributes["jetflow.execution_id"] === executionId,
    ),
  );
  expect(start).toMatchObject({ traceId: callerTraceId, parentSpanId: callerSpanId });
  // The execution's transitions continue the caller's trace.
  const transition = await waitFor(() =>
    receiver.spans.find((s) => s.service === "orchestrator" && s.traceId === callerTraceId),
  );
  expect(transition.parentSpanId).toBe(start.spanId);
});
