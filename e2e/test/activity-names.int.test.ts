/**
 * Activities named as Step Functions allows (`billing.charge-card`, `envoyer-reçu`) run end to end:
 * their tasks, results, heartbeats and cancellations travel on encoded subject tokens, and a
 * worker built with @jetflow/worker-sdk never sees the encoding.
 */
import { ExecutionStatus, consumers, streams } from "@jetflow/contracts";
import { connectTo, waitFor } from "@jetflow/testing";
import { TaskAbortedError, createWorker } from "@jetflow/worker-sdk";
import type { TaskContext, Worker } from "@jetflow/worker-sdk";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { checkStoredExecution, startEngine, statusOf, waitForEnd } from "../src";
import type { Engine } from "../src";

let engine: Engine;
let nc: NatsConnection;
let worker: Worker;
const seen: Array<{ activity: string; stateName: string }> = [];
const aborts: string[] = [];

beforeAll(async () => {
  engine = await startEngine();
  nc = await connectTo(engine.natsUrl);
  worker = createWorker({
    nc,
    handlers: {
      "billing.charge-card": async (input: { amount: number }, ctx: TaskContext) => {
        seen.push({ activity: ctx.activity, stateName: ctx.stateName });
        // a heartbeat goes out on the encoded heartbeat subject and must be answered
        await ctx.heartbeat();
        return { charged: input.amount };
      },
      "envoyer-reçu": async (input: { charged?: number; hang?: boolean }, ctx: TaskContext) => {
        seen.push({ activity: ctx.activity, stateName: ctx.stateName });
        if (input.hang === true) {
          await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
          const reason: unknown = ctx.signal.reason;
          aborts.push(reason instanceof TaskAbortedError ? reason.kind : String(reason));
          return null;
        }
        return { sent: `reçu pour ${input.charged}` };
      },
    },
  });
  await worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await nc?.close();
  await engine?.stop();
});

it("runs Tasks whose activities are billing.charge-card and envoyer-reçu to SUCCEEDED", async () => {
  const definition = JSON.stringify({
    StartAt: "Charge",
    States: {
      Charge: {
        Type: "Task",
        Resource: "billing.charge-card",
        HeartbeatSeconds: 10,
        TimeoutSeconds: 30,
        Next: "Receipt",
      },
      Receipt: {
        Type: "Task",
        Resource: "arn:aws:states:eu-west-3:123456789012:activity:envoyer-reçu",
        ResultPath: "$.receipt",
        End: true,
      },
    },
  });
  await engine.client.registerWorkflow({ name: "named-activities", definition, description: "" });
  const { executionId } = await engine.client.startExecution({
    workflowName: "named-activities",
    workflowVersion: 0,
    inputJson: '{"amount":42}',
    executionName: "",
  });
  const described = await waitForEnd(engine.client, executionId);
  expect(statusOf(described.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(described.outputJson)).toEqual({ charged: 42, receipt: { sent: "reçu pour 42" } });
  expect(seen).toEqual([
    { activity: "billing.charge-card", stateName: "Charge" },
    { activity: "envoyer-reçu", stateName: "Receipt" },
  ]);
  await checkStoredExecution(nc, executionId);

  // The subjects and the shared consumers carry the encoded tokens of the contract.
  const jsm = await jetstreamManager(nc);
  expect(consumers.task("billing.charge-card")).toBe("tasks-billing~2Echarge-card");
  expect(consumers.task("envoyer-reçu")).toBe("tasks-envoyer-re~C3~A7u");
  const charge = await jsm.consumers.info(streams.tasks, "tasks-billing~2Echarge-card");
  expect(charge.config.filter_subject).toBe("jetflow.tasks.billing~2Echarge-card");
  expect(charge.delivered.stream_seq).toBeGreaterThan(0);
  const receipt = await jsm.consumers.info(streams.tasks, "tasks-envoyer-re~C3~A7u");
  expect(receipt.config.filter_subject).toBe("jetflow.tasks.envoyer-re~C3~A7u");
  expect(receipt.delivered.stream_seq).toBeGreaterThan(0);
});

it("delivers the cancellation of a stopped execution to the worker of envoyer-reçu", async () => {
  const definition = JSON.stringify({
    StartAt: "Receipt",
    States: { Receipt: { Type: "Task", Resource: "envoyer-reçu", End: true } },
  });
  await engine.client.registerWorkflow({ name: "named-cancel", definition, description: "" });
  const before = seen.length;
  const { executionId } = await engine.client.startExecution({
    workflowName: "named-cancel",
    workflowVersion: 0,
    inputJson: '{"hang":true}',
    executionName: "",
  });
  await waitFor(() => seen.length > before, { message: "the envoyer-reçu task to start" });
  await engine.client.stopExecution({ executionId, error: "Operator", cause: "test" });
  const described = await waitForEnd(engine.client, executionId);
  expect(described.execution?.status).toBe(ExecutionStatus.EXECUTION_STATUS_ABORTED);
  // No heartbeats here: only the broadcast on jetflow.cancel.envoyer-re~C3~A7u can abort the handler.
  await waitFor(() => aborts.length === 1, { message: "the handler to be aborted" });
  expect(aborts).toEqual(["cancelled"]);
});
