/**
 * Scale: a Map over 10,000 items and a Parallel of 100 branches run to completion on two replicas
 * of every service, the parent's snapshot stays far below NATS's 1 MiB payload limit, and results
 * arriving together are folded into few transitions.
 */
import { buckets } from "@jetflow/contracts";
import { readEventBatches } from "@jetflow/service-runtime";
import { connectTo } from "@jetflow/testing";
import { createWorker } from "@jetflow/worker-sdk";
import type { Worker } from "@jetflow/worker-sdk";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { checkStoredExecution, startEngine, statusOf, testActivities, waitForEnd } from "../src";
import type { Engine } from "../src";

let engine: Engine;
let nc: NatsConnection;
let worker: Worker;

const twoOfEach = {
  "state-manager": 2,
  orchestrator: 2,
  dispatcher: 2,
  "result-ingestor": 2,
  "api-gateway": 1,
} as const;

beforeAll(async () => {
  engine = await startEngine({ replicas: twoOfEach });
  nc = await connectTo(engine.natsUrl);
  worker = createWorker({ nc, handlers: testActivities, concurrency: 200 });
  await worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await nc?.close();
  await engine?.stop();
});

/** Polls the parent's stored snapshot size until the execution ends; returns the largest seen. */
async function largestSnapshot(executionId: string, done: () => boolean): Promise<number> {
  const kv = await new Kvm(jetstream(nc)).open(buckets.instances);
  let largest = 0;
  while (!done()) {
    const entry = await kv.get(executionId);
    largest = Math.max(largest, entry?.value.length ?? 0);
    await new Promise((r) => setTimeout(r, 100));
  }
  return largest;
}

async function batchesOf(executionId: string): Promise<number> {
  let count = 0;
  for await (const _ of readEventBatches(nc, executionId)) count++;
  return count;
}

it("runs a Map over 10,000 items with a small snapshot and batched transitions", async () => {
  const items = Array.from({ length: 10_000 }, (_, i) => i);
  await engine.client.registerWorkflow({
    name: "big-map",
    definition: JSON.stringify({
      StartAt: "Each",
      States: {
        Each: {
          Type: "Map",
          ItemSelector: { "n.$": "$$.Map.Item.Value" },
          ItemProcessor: { StartAt: "Inc", States: { Inc: { Type: "Task", Resource: "inc", End: true } } },
          ResultSelector: { "count.$": "States.ArrayLength($)", "last.$": "$[9999].n" },
          End: true,
        },
      },
    }),
    description: "",
  });
  const { executionId } = await engine.client.startExecution({
    workflowName: "big-map",
    workflowVersion: 0,
    inputJson: JSON.stringify(items),
    executionName: "",
  });
  let finished = false;
  const sizes = largestSnapshot(executionId, () => finished);
  const described = await waitForEnd(engine.client, executionId, 600_000).finally(() => (finished = true));
  expect(statusOf(described.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(described.outputJson)).toEqual({ count: 10_000, last: 10_000 });
  // The input (the 10,000 items) is part of the snapshot; everything per item stays outside it.
  expect(await sizes).toBeLessThan(256 * 1024);
  // 10,000 launches and 10,000 completions, folded into far fewer transitions of the parent.
  expect(await batchesOf(executionId)).toBeLessThan(2_000);
  await checkStoredExecution(nc, executionId);
}, 900_000);

it("runs a Parallel of 100 branches", async () => {
  const branches = Array.from({ length: 100 }, (_, i) => ({
    StartAt: `B${i}`,
    States: {
      [`B${i}`]: {
        Type: "Task",
        Resource: "inc",
        Parameters: { [`n.$`]: `States.MathAdd($.n, ${i})` },
        End: true,
      },
    },
  }));
  await engine.client.registerWorkflow({
    name: "wide-parallel",
    definition: JSON.stringify({
      StartAt: "All",
      States: { All: { Type: "Parallel", Branches: branches, End: true } },
    }),
    description: "",
  });
  const { executionId } = await engine.client.startExecution({
    workflowName: "wide-parallel",
    workflowVersion: 0,
    inputJson: '{"n":1}',
    executionName: "",
  });
  const described = await waitForEnd(engine.client, executionId, 300_000);
  expect(statusOf(described.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(described.outputJson)).toEqual(branches.map((_, i) => ({ n: 2 + i })));
  await checkStoredExecution(nc, executionId);
}, 600_000);

it("keeps many concurrent executions consistent with two replicas of every service", async () => {
  await engine.client.registerWorkflow({
    name: "three-steps",
    definition: JSON.stringify({
      StartAt: "A",
      States: {
        A: { Type: "Task", Resource: "inc", Next: "B" },
        B: { Type: "Task", Resource: "inc", Next: "C" },
        C: { Type: "Task", Resource: "inc", End: true },
      },
    }),
    description: "",
  });
  const ids = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      engine.client
        .startExecution({
          workflowName: "three-steps",
          workflowVersion: 0,
          inputJson: JSON.stringify({ n: i }),
          executionName: "",
        })
        .then((r) => r.executionId),
    ),
  );
  for (const [i, id] of ids.entries()) {
    const d = await waitForEnd(engine.client, id, 300_000);
    expect(JSON.parse(d.outputJson)).toEqual({ n: i + 3 });
    await checkStoredExecution(nc, id);
  }
}, 600_000);
