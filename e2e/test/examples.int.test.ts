/**
 * The example workflows (examples/workflows) with their worker process (examples/dist/worker.js)
 * on the engine: each ends the way docs/examples.md says it does.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { connectTo, waitFor } from "@jetflow/testing";
import type { NatsConnection } from "@nats-io/transport-node";
import { ManagedProcess, checkStoredExecution, startEngine, statusOf, waitForEnd } from "../src";
import type { Engine } from "../src";
import { renewalOutages } from "../../examples/src/activities";

const EXAMPLES = resolve(__dirname, "../../examples");

let engine: Engine;
let worker: ManagedProcess;
let nc: NatsConnection;

function sampleInput(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(EXAMPLES, "inputs", `${name}.json`), "utf8")) as Record<
    string,
    unknown
  >;
}

async function run(workflowName: string, input: unknown) {
  const { executionId } = await engine.client.startExecution({
    workflowName,
    workflowVersion: 0,
    inputJson: JSON.stringify(input),
    executionName: "",
  });
  return executionId;
}

async function history(executionId: string) {
  const { events } = await engine.client.getExecutionHistory({
    executionId,
    pageSize: 0,
    pageToken: "",
    reverseOrder: false,
  });
  return events;
}

async function finish(executionId: string) {
  const described = await waitForEnd(engine.client, executionId, 90_000);
  return {
    status: statusOf(described.execution?.status),
    output: described.outputJson === "" ? undefined : (JSON.parse(described.outputJson) as unknown),
    error: described.error,
    cause: described.cause,
  };
}

/** Waits for the Task of `activity` to be scheduled and returns its token. */
async function tokenOf(executionId: string, activity: string): Promise<string> {
  return waitFor(async () => {
    const scheduled = (await history(executionId)).find(
      (e) => e.details?.$case === "taskScheduled" && e.details.value.activity === activity,
    );
    return scheduled?.details?.$case === "taskScheduled" ? scheduled.details.value.taskToken : undefined;
  });
}

beforeAll(async () => {
  engine = await startEngine();
  nc = await connectTo(engine.natsUrl);
  worker = new ManagedProcess(
    "examples-worker",
    join(EXAMPLES, "dist", "worker.js"),
    { PATH: process.env.PATH, NATS_URL: engine.natsUrl, SIMULATED_LATENCY_FACTOR: "0.05" },
    join(engine.logDir, "examples-worker.log"),
  );
  worker.start();
  await worker.waitForLog("worker started");
  for (const file of readdirSync(join(EXAMPLES, "workflows"))) {
    await engine.client.registerWorkflow({
      name: file.replace(".asl.yaml", ""),
      definition: readFileSync(join(EXAMPLES, "workflows", file), "utf8"),
      description: "",
    });
  }
});

afterAll(async () => {
  const code = await worker?.stop();
  await nc?.close();
  await engine?.stop();
  expect(code).toBe(0);
});

describe("order fulfilment", () => {
  it("ships an order: stock reserved and card charged in parallel, the gateway retried", async () => {
    const id = await run("order-fulfilment", sampleInput("order-fulfilment"));
    expect(await finish(id)).toMatchObject({
      status: "SUCCEEDED",
      output: { orderId: "ord-1001", status: "shipped", total: 64.9, carrier: "DHL" },
    });
    await checkStoredExecution(nc, id);
  });

  it("compensates and cancels an order whose stock is missing", async () => {
    const order = sampleInput("order-fulfilment");
    const items = [...(order["items"] as unknown[]), { sku: "backorder-lamp", quantity: 1, unitPrice: 80 }];
    const id = await run("order-fulfilment", { ...order, orderId: "ord-2001", items });
    const end = await finish(id);
    expect(end).toMatchObject({ status: "FAILED", error: "OrderCancelled" });
    expect(end.cause).toContain("not in stock: backorder-lamp");
    const entered = (await history(id)).flatMap((e) =>
      e.details?.$case === "stateEntered" ? [e.stateName] : [],
    );
    expect(entered).toEqual(expect.arrayContaining(["Compensate", "NotifyCancelled", "OrderCancelled"]));
    expect(entered).not.toContain("ShipOrder");
  });
});

it("bills every account of a month in a Map, recording those without an address", async () => {
  const id = await run("monthly-invoicing", sampleInput("monthly-invoicing"));
  expect(await finish(id)).toMatchObject({
    status: "SUCCEEDED",
    output: { billingPeriod: "2025-10", invoices: 40, delivered: 38, undeliverable: 2 },
  });
  const mapStarted = (await history(id)).find((e) => e.details?.$case === "mapStarted");
  expect(mapStarted?.details?.value).toMatchObject({ itemCount: 40, maxConcurrency: 8 });
});

it("renews a subscription through a flaky gateway, retrying with back-off", async () => {
  const input = sampleInput("subscription-renewal");
  const id = await run("subscription-renewal", input);
  const outages = renewalOutages(input["subscriptionId"] as string);
  expect(await finish(id)).toMatchObject({
    status: "SUCCEEDED",
    output: { status: "active", attempts: outages + 1 },
  });
  const retries = (await history(id)).flatMap((e) =>
    e.details?.$case === "taskRetryScheduled" ? [e.details.value] : [],
  );
  expect(retries.map((r) => [r.error, r.delayMs])).toEqual(
    Array.from({ length: outages }, (_, i) => ["PaymentGatewayUnavailable", 1000 * 2 ** i]),
  );
});

describe("expense approval", () => {
  it("waits for the manager's answer, sent with SendTaskSuccess", async () => {
    const id = await run("expense-approval", sampleInput("expense-approval"));
    const token = await tokenOf(id, "approve-expense");
    await engine.client.sendTaskSuccess({
      taskToken: token,
      outputJson: '{"approved":true,"decidedBy":"grace"}',
    });
    expect(await finish(id)).toMatchObject({
      status: "SUCCEEDED",
      output: { expenseId: "exp-2718", status: "reimbursed", decidedBy: "grace" },
    });
  });

  it("escalates when no answer comes in time", async () => {
    const id = await run("expense-approval", {
      ...sampleInput("expense-approval"),
      approvalTimeoutSeconds: 1,
    });
    expect(await finish(id)).toMatchObject({
      status: "SUCCEEDED",
      output: { status: "rejected", decidedBy: "finance" },
    });
  });

  it("approves small expenses without asking", async () => {
    const id = await run("expense-approval", { ...sampleInput("expense-approval"), amount: 42 });
    expect(await finish(id)).toMatchObject({
      status: "SUCCEEDED",
      output: { status: "reimbursed", decidedBy: "policy" },
    });
  });
});
