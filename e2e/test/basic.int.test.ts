import { ExecutionStatus } from "@jetflow/contracts";
import { connectTo } from "@jetflow/testing";
import { createWorker } from "@jetflow/worker-sdk";
import type { Worker } from "@jetflow/worker-sdk";
import type { NatsConnection } from "@nats-io/transport-node";
import { checkStoredExecution, startEngine, statusOf, testActivities, waitForEnd } from "../src";
import type { Engine } from "../src";

let engine: Engine;
let nc: NatsConnection;
let worker: Worker;

beforeAll(async () => {
  engine = await startEngine();
  nc = await connectTo(engine.natsUrl);
  worker = createWorker({ nc, handlers: testActivities });
  await worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await nc?.close();
  await engine?.stop();
});

it("runs a sequence of tasks to completion over gRPC", async () => {
  const definition = JSON.stringify({
    StartAt: "One",
    States: {
      One: { Type: "Task", Resource: "inc", Next: "Two" },
      Two: { Type: "Task", Resource: "inc", End: true },
    },
  });
  const registered = await engine.client.registerWorkflow({ name: "seq", definition, description: "" });
  expect(registered).toMatchObject({ name: "seq", version: 1, created: true });
  const { executionId } = await engine.client.startExecution({
    workflowName: "seq",
    workflowVersion: 0,
    inputJson: '{"n":1}',
    executionName: "",
  });
  const described = await waitForEnd(engine.client, executionId);
  expect(statusOf(described.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(described.outputJson)).toEqual({ n: 3 });
  expect(described.execution?.status).toBe(ExecutionStatus.EXECUTION_STATUS_SUCCEEDED);
  await checkStoredExecution(nc, executionId);
});
