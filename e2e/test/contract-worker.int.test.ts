/**
 * A worker built from the task protocol alone (e2e/contract-worker/worker.js: plain JavaScript,
 * protobufjs loading task.proto at run time, NATS.js; no @jetflow package) runs the example
 * workflows to SUCCEEDED. If the protocol document or the .proto files stopped describing what
 * the engine does, this worker would stop working.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { connectTo } from "@jetflow/testing";
import type { NatsConnection } from "@nats-io/transport-node";
import { ManagedProcess, checkStoredExecution, startEngine, statusOf, waitForEnd } from "../src";
import type { Engine } from "../src";

const ROOT = resolve(__dirname, "../..");
const EXAMPLES = join(ROOT, "examples");
const WORKER = join(ROOT, "e2e/contract-worker/worker.js");

let engine: Engine;
let nc: NatsConnection;
let worker: ManagedProcess;

beforeAll(async () => {
  engine = await startEngine();
  nc = await connectTo(engine.natsUrl);
  for (const file of readdirSync(join(EXAMPLES, "workflows"))) {
    await engine.client.registerWorkflow({
      name: file.replace(".asl.yaml", ""),
      definition: readFileSync(join(EXAMPLES, "workflows", file), "utf8"),
      description: "",
    });
  }
  worker = new ManagedProcess(
    "contract-worker",
    WORKER,
    {
      PATH: process.env.PATH,
      NATS_URL: engine.natsUrl,
      PROTO_DIR: join(ROOT, "proto"),
      HANDLERS: join(ROOT, "e2e/contract-worker/example-handlers.js"),
    },
    join(engine.logDir, "contract-worker.log"),
  );
  worker.start();
  await waitForPrinted("contract worker started");
}, 60_000);

afterAll(async () => {
  const code = await worker?.stop();
  await nc?.close();
  await engine?.stop();
  expect(code).toBe(0);
});

async function waitForPrinted(text: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!worker.printed.includes(text)) {
    if (!worker.running) throw new Error(`the contract worker exited:\n${worker.printed}`);
    if (Date.now() > deadline)
      throw new Error(`the contract worker did not print "${text}":\n${worker.printed}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cases: Array<[string, Record<string, unknown>]> = [
  ["order-fulfilment", {}],
  ["monthly-invoicing", {}],
  ["subscription-renewal", {}],
  // Under the auto-approval limit, so no human answer is needed.
  ["expense-approval", { amount: 42 }],
];

test.each(cases)("the contract worker runs the %s example to SUCCEEDED", async (workflowName, overrides) => {
  const input = JSON.parse(readFileSync(join(EXAMPLES, "inputs", `${workflowName}.json`), "utf8")) as object;
  const { executionId } = await engine.client.startExecution({
    workflowName,
    workflowVersion: 0,
    inputJson: JSON.stringify({ ...input, ...overrides }),
    executionName: "",
  });
  const described = await waitForEnd(engine.client, executionId, 90_000);
  expect({ status: statusOf(described.execution?.status), error: described.error }).toEqual({
    status: "SUCCEEDED",
    error: "",
  });
  await checkStoredExecution(nc, executionId);
});
