import { ExecutionStatus } from "@jetflow/contracts";
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
