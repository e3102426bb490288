/**
 * A durable consumer deleted while the engine runs: every service's consume loop (and the
 * worker's) notices, warns naming the stream and consumer, recreates the consumer from its
 * configuration and consumes again, without a restart; running executions finish, and /readyz
 * is 200 again.
 */
import { join, resolve } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { consumers, streams } from "@jetflow/contracts";
import { connectTo, waitFor } from "@jetflow/testing";
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ManagedProcess, checkStoredExecution, startEngine, statusOf, waitForEnd } from "../src";
import type { Engine, ServiceName } from "../src";

const STEPS = 4;
let engine: Engine;
let nc: NatsConnection;
let jsm: JetStreamManager;
let worker: ManagedProcess;

beforeAll(async () => {
  engine = await startEngine({ healthPorts: true });
  nc = await connectTo(engine.natsUrl);
  jsm = await jetstreamManager(nc);
  worker = new ManagedProcess(
    "worker",
    resolve(__dirname, "../dist/test-worker.js"),
    { PATH: process.env.PATH, NATS_URL: engine.natsUrl, ACTIVITIES: "sleep-inc" },
    join(mkdtempSync(join(tmpdir(), "jetflow-e2e-worker-")), "worker.log"),
  );
  worker.start();
  await worker.waitForLog("worker started");
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
  await worker?.stop();
  await nc?.close();
  await engine?.stop();
});

async function readyz(port: number | undefined): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port ?? 0}/readyz`)).status;
  } catch {
    return 0;
  }
}

async function deleteConsumer(stream: string, name: string): Promise<void> {
  // nats-server 2.9 sometimes fails a delete racing its own ack writes ("directory not empty"): retry.
  await waitFor(() =>
    jsm.consumers.delete(stream, name).catch((err: unknown) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return true;
      throw err;
    }),
  );
}

async function runChains(count: number, whileRunning: () => Promise<void>): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { executionId } = await engine.client.startExecution({
      workflowName: "chain",
      workflowVersion: 0,
      inputJson: JSON.stringify({ n: i * 100, ms: 100 }),
      executionName: "",
    });
    ids.push(executionId);
  }
  await whileRunning();
  for (const [i, executionId] of ids.entries()) {
    const described = await waitForEnd(engine.client, executionId, 60_000);
    expect(statusOf(described.execution?.status)).toBe("SUCCEEDED");
    expect(JSON.parse(described.outputJson)).toEqual({ n: i * 100 + STEPS, ms: 100 });
    await checkStoredExecution(nc, executionId);
  }
}

/** The pino lines a process printed since `from`, parsed. */
function linesOf(proc: ManagedProcess, from: number): Array<Record<string, unknown>> {
  return proc.printed
    .slice(from)
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * A warning that `consumer` is being or was recreated. Which one comes first depends on what the
 * pull after the deletion meets: a "consumer deleted" status ("...; recreating it"), or, when the
 * next pull reaches the server after the deletion, a 503 (logged as "no leader") followed by the
 * recreation ("consumer recreated from its configuration"), whose reason then goes at info only.
 */
function warnsOfRecreating(line: Record<string, unknown>, consumer: string): boolean {
  if (line["level"] !== 40 || line["consumer"] !== consumer) return false;
  const msg = String(line["msg"]);
  return /recreating it$/.test(msg) || msg === "consumer recreated from its configuration";
}

const cases: Array<[ServiceName, string, string]> = [
  ["orchestrator", streams.commands, consumers.commands],
  ["dispatcher", streams.events, consumers.eventEffects],
  ["dispatcher", streams.timers, consumers.timers],
  ["orchestrator", streams.results, consumers.results],
];

describe.each(cases)("deleting the %s's consumer on %s", (service, stream, consumer) => {
  it(`recreates "${consumer}", warns naming it, and every execution finishes`, async () => {
    const proc = engine.services[service][0] as ManagedProcess;
    const from = proc.printed.length;
    await runChains(4, async () => {
      await deleteConsumer(stream, consumer);
    });
    // The timers consumer sees no traffic from these chains: a timer makes it notice at once.
    await waitFor(
      () => linesOf(proc, from).some((l) => warnsOfRecreating(l, consumer) && l["stream"] === stream),
      // A pull on a deleted consumer may end in silence (no deletion status): then two missed
      // heartbeats and a re-pull find it gone, which a busy machine can stretch past 15 s.
      { timeoutMs: 45_000, message: `${service} warned that "${consumer}" was deleted` },
    );
    // "consuming again" is logged only on the way back from not ready.
    await waitFor(
      () => linesOf(proc, from).some((l) => l["consumer"] === consumer && l["msg"] === "consuming again"),
      { timeoutMs: 15_000, message: `${service} consuming "${consumer}" again` },
    );
    expect((await jsm.consumers.info(stream, consumer)).config.durable_name).toBe(consumer);
    await waitFor(async () => (await readyz(proc.healthPort)) === 200, { timeoutMs: 15_000 });
  });
});

it("the worker recreates its deleted task consumer and every execution finishes", async () => {
  const from = worker.printed.length;
  await runChains(4, async () => {
    await deleteConsumer(streams.tasks, consumers.task("sleep-inc"));
  });
  await waitFor(
    () => linesOf(worker, from).some((l) => warnsOfRecreating(l, consumers.task("sleep-inc"))),
    // As above: a pull that ends in silence is noticed after two missed heartbeats and a re-pull.
    { timeoutMs: 45_000, message: "the worker warned that its task consumer was deleted" },
  );
});
