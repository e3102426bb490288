/**
 * Crash tests: kill -9 each service in the middle of running executions, kill a worker mid-task,
 * restart nats-server itself, send duplicate and late results; every execution must still finish
 * with the right output, and every stored history must stay gapless and fold into its snapshot.
 */
import { join, resolve } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { TaskResult, consumers, encode, streams, subjects } from "@jetflow/contracts";
import { connectTo, waitFor } from "@jetflow/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  ManagedProcess,
  SERVICE_NAMES,
  checkStoredExecution,
  startEngine,
  statusOf,
  waitForEnd,
} from "../src";
import type { Engine, ServiceName } from "../src";

const STEPS = 6;
let engine: Engine;
let nc: NatsConnection;
let workers: ManagedProcess[] = [];
const workerLogs = mkdtempSync(join(tmpdir(), "jetflow-e2e-workers-"));

function workerProcess(index: number): ManagedProcess {
  return new ManagedProcess(
    `worker#${index}`,
    resolve(__dirname, "../dist/test-worker.js"),
    { PATH: process.env.PATH, NATS_URL: engine.natsUrl, ACK_WAIT_MS: "4000", CONCURRENCY: "50" },
    join(workerLogs, `worker-${index}.log`),
  );
}

async function startWorker(index: number): Promise<ManagedProcess> {
  const worker = workerProcess(index);
  worker.start();
  await worker.waitForLog("worker started");
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  engine = await startEngine();
  nc = await connectTo(engine.natsUrl);
  await startWorker(0);
  const chain: Record<string, object> = {};
  for (let i = 1; i <= STEPS; i++) {
    chain[`S${i}`] = {
      Type: "Task",
      Resource: "sleep-inc",
      ...(i < STEPS ? { Next: `S${i + 1}` } : { End: true }),
    };
  }
  await engine.client.registerWorkflow({
    name: "chain",
    definition: JSON.stringify({ StartAt: "S1", States: chain }),
    description: "",
  });
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await nc?.close();
  await engine?.stop();
});

async function startChains(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { executionId } = await engine.client.startExecution({
      workflowName: "chain",
      workflowVersion: 0,
      inputJson: JSON.stringify({ n: i * 100, ms: 150 }),
      executionName: "",
    });
    ids.push(executionId);
  }
  return ids;
}

async function taskEvents(executionId: string): Promise<number> {
  const { events } = await engine.client.getExecutionHistory({
    executionId,
    pageSize: 0,
    pageToken: "",
    reverseOrder: false,
  });
  return events.filter((e) => e.details?.$case === "taskSucceeded").length;
}

async function expectAllFinished(ids: string[]): Promise<void> {
  for (const [i, executionId] of ids.entries()) {
    const described = await waitForEnd(engine.client, executionId, 120_000);
    expect(statusOf(described.execution?.status)).toBe("SUCCEEDED");
    expect(JSON.parse(described.outputJson)).toEqual({ n: i * 100 + STEPS, ms: 150 });
    await checkStoredExecution(nc, executionId);
  }
}

/**
 * For each execution still running when the replacement became ready (`readyAtMs`), the time from
 * then to the next event appended to its history: how long the crash held it up.
 */
async function resumeDelaysMs(ids: string[], readyAtMs: number): Promise<number[]> {
  const delays: number[] = [];
  for (const executionId of ids) {
    const next = await waitFor(
      async () => {
        const { events } = await engine.client.getExecutionHistory({
          executionId,
          pageSize: 0,
          pageToken: "",
          reverseOrder: false,
        });
        const after = events.find((e) => (e.timestamp?.getTime() ?? 0) >= readyAtMs);
        if (after) return after;
        const last = events.at(-1)?.details?.$case;
        // Finished before the replacement was ready: nothing of it was held up.
        return last === "executionSucceeded" || last === "executionFailed" ? "finished" : undefined;
      },
      { timeoutMs: 120_000, message: `an event of "${executionId}" after the restart` },
    );
    if (next !== "finished") delays.push((next.timestamp?.getTime() ?? readyAtMs) - readyAtMs);
  }
  return delays;
}

/** Worst resume delay per killed service, printed at the end (issue 10 item 6 asks for it). */
const worstResumeMs = new Map<string, number>();

afterAll(() => {
  const figures = [...worstResumeMs].map(([service, ms]) => `${service} ${ms} ms`).join(", ");
  process.stdout.write(`worst resume delay after kill -9 (replacement ready -> next event): ${figures}\n`);
});

describe.each(SERVICE_NAMES.map((name) => [name]))("kill -9 of the %s", (service) => {
  it("leaves every running execution to finish with the right output, resuming within seconds", async () => {
    const ids = await startChains(8);
    // Crash once the executions are under way: some steps done, most to come.
    await waitFor(async () => (await taskEvents(ids[0] as string)) >= 2, { timeoutMs: 60_000 });
    await engine.crashAndRestart(service as ServiceName);
    const readyAtMs = Date.now();
    const delays = await resumeDelaysMs(ids, readyAtMs);
    const worst = Math.max(0, ...delays);
    worstResumeMs.set(service, worst);
    // The target is 5 s; the bound is generous because this machine is shared and noisy. Held
    // messages used to wait out a 30 s ack wait and a dead state-manager's 10 s timeout.
    expect(worst).toBeLessThan(15_000);
    await expectAllFinished(ids);
  });
});

it("re-delivers the task of a worker killed mid-task to another worker", async () => {
  const [executionId] = await startChains(1);
  const first = workers[0] as ManagedProcess;
  await waitFor(async () => (await taskEvents(executionId as string)) >= 1, { timeoutMs: 60_000 });
  await first.kill();
  workers = workers.filter((w) => w !== first);
  await startWorker(1);
  await expectAllFinished([executionId as string]);
});

it("ignores duplicate and late results", async () => {
  const [executionId] = await startChains(1);
  await expectAllFinished([executionId as string]);
  const { events } = await engine.client.getExecutionHistory({
    executionId: executionId as string,
    pageSize: 0,
    pageToken: "",
    reverseOrder: false,
  });
  const js = jetstream(nc);
  // A late result for every attempt, with another output, twice.
  for (const event of events) {
    if (event.details?.$case !== "taskScheduled") continue;
    const late = encode(TaskResult, {
      taskToken: event.details.value.taskToken,
      outcome: { $case: "outputJson", value: '{"n":-1}' },
      workerId: "late",
      completedTime: new Date(),
    });
    await js.publish(subjects.result("sleep-inc"), late);
    await js.publish(subjects.result("sleep-inc"), late);
  }
  // The ingestor must have taken them all (its stream drains) before we compare.
  const jsm = await jetstreamManager(nc);
  await waitFor(async () => (await jsm.streams.info(streams.results)).state.messages === 0);
  await waitFor(async () => {
    const info = await jsm.consumers.info(streams.commands, consumers.commands);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  });
  const after = await engine.client.getExecutionHistory({
    executionId: executionId as string,
    pageSize: 0,
    pageToken: "",
    reverseOrder: false,
  });
  expect(after.events.length).toBe(events.length);
  const described = await engine.client.describeExecution({ executionId: executionId as string });
  expect(JSON.parse(described.outputJson)).toEqual({ n: STEPS, ms: 150 });
});

it("loses nothing when nats-server itself restarts mid-run", async () => {
  const ids = await startChains(8);
  await waitFor(async () => (await taskEvents(ids[0] as string)) >= 2, { timeoutMs: 60_000 });
  await engine.nats.restart();
  await expectAllFinished(ids);
});
