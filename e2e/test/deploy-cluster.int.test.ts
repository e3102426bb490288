/**
 * The production topology on loopback: a three-node NATS JetStream cluster running the deploy's
 * auth.conf, R3 streams and buckets (JETFLOW_REPLICAS=3), two replicas of every service and two
 * workers, each on its own NATS user. Mid-run, one NATS node (the leader of the event history)
 * and one replica of every service are killed; every execution still completes with the right
 * output, and every stored history stays gapless and folds into its snapshot.
 */
import { streams } from "@jetflow/contracts";
import { connectTo, startNatsCluster, waitFor } from "@jetflow/testing";
import type { NatsCluster } from "@jetflow/testing";
import { createWorker } from "@jetflow/worker-sdk";
import type { Worker } from "@jetflow/worker-sdk";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { credentialsOf, natsAuthConfig, testPassword } from "../../deploy/test/support/nats-auth";
import {
  SERVICE_NAMES,
  checkStoredExecutionRepaired,
  startEngine,
  statusOf,
  testActivities,
  waitForEnd,
} from "../src";
import type { Engine, EngineOptions } from "../src";

const STEPS = 5;
const EXECUTIONS = 8;

let cluster: NatsCluster;
let engine: Engine;
let reader: NatsConnection;
const workerConnections: NatsConnection[] = [];
const workers: Worker[] = [];

beforeAll(async () => {
  // The fixture's readiness probe logs in anonymously: the test adds a user that may only ask
  // for the JetStream account info, as no_auth_user.
  cluster = await startNatsCluster({ nodes: 3, extraConfig: natsAuthConfig({ probeUser: true }) });
  const serviceEnv: EngineOptions["serviceEnv"] = Object.fromEntries(
    SERVICE_NAMES.map((name) => [name, { NATS_USER: name, NATS_PASSWORD: testPassword(name) }]),
  );
  const options: EngineOptions = {
    nats: cluster,
    serviceEnv,
    env: {
      JETFLOW_REPLICAS: "3",
      // What a killed replica held (commands and results; events and timers) comes back to the
      // survivors after this long.
      ORCH_ACK_WAIT_MS: "4000",
      DISPATCH_ACK_WAIT_MS: "4000",
    },
  };
  // A first deployment: one replica of each creates the R3 streams and buckets. Two replicas that
  // race to create (and update) one R3 stream on a fresh nats-server 2.9 cluster both time out,
  // and only a restart (Kubernetes does it) gets them going; the engine harness does not restart.
  await (await startEngine(options)).stop();
  engine = await startEngine({
    ...options,
    replicas: Object.fromEntries(SERVICE_NAMES.map((name) => [name, 2])),
  });
  reader = await connectTo(cluster.urls, credentialsOf("api-gateway"));
  for (let i = 0; i < 2; i++) {
    const nc = await connectTo(cluster.urls, { ...credentialsOf("worker-examples"), name: `worker-${i}` });
    workerConnections.push(nc);
    const worker = createWorker({
      nc,
      // "ship-order" is an activity of the role: a chain step that sleeps `ms`, then increments `n`.
      handlers: { "ship-order": testActivities["sleep-inc"] as never },
      concurrency: 20,
      ackWaitMs: 4_000,
    });
    await worker.start();
    workers.push(worker);
  }
  const states: Record<string, object> = {};
  for (let i = 1; i <= STEPS; i++) {
    states[`S${i}`] = {
      Type: "Task",
      Resource: "ship-order",
      ...(i < STEPS ? { Next: `S${i + 1}` } : { End: true }),
    };
  }
  await engine.client.registerWorkflow({
    name: "cluster-chain",
    definition: JSON.stringify({ StartAt: "S1", States: states }),
    description: "",
  });
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(workerConnections.map((nc) => nc.close()));
  await reader?.close();
  await engine?.stop();
  await cluster?.dispose();
});

async function succeededTasks(executionId: string): Promise<number> {
  const { events } = await engine.client.getExecutionHistory({
    executionId,
    pageSize: 0,
    pageToken: "",
    reverseOrder: false,
  });
  return events.filter((e) => e.details?.$case === "taskSucceeded").length;
}

it("replicates every stream and bucket three times", async () => {
  // The api-gateway may look at these; a worker at the task stream.
  const gateway = await jetstreamManager(reader);
  for (const name of [
    streams.events,
    streams.commands,
    streams.results,
    "KV_jetflow_instances",
    "KV_jetflow_defs",
  ]) {
    const info = await gateway.streams.info(name);
    expect([name, info.config.num_replicas, info.cluster?.replicas?.length]).toEqual([name, 3, 2]);
  }
  const worker = await jetstreamManager(workerConnections[0] as NatsConnection);
  expect((await worker.streams.info(streams.tasks)).config.num_replicas).toBe(3);
});

it("finishes every execution when a NATS node and a replica of each service die mid-run", async () => {
  const ids: string[] = [];
  for (let i = 0; i < EXECUTIONS; i++) {
    const { executionId } = await engine.client.startExecution({
      workflowName: "cluster-chain",
      workflowVersion: 0,
      inputJson: JSON.stringify({ n: i * 100, ms: 200 }),
      executionName: "",
    });
    ids.push(executionId);
  }
  await waitFor(async () => (await succeededTasks(ids[0] as string)) >= 2, { timeoutMs: 60_000 });

  // The node leading the event history: its loss forces a leader election under load.
  const jsm = await jetstreamManager(reader);
  const leader = (await jsm.streams.info(streams.events)).cluster?.leader;
  const victim = Math.max(
    0,
    cluster.servers.findIndex((server) => server.name === leader),
  );
  await Promise.all([
    cluster.killNode(victim),
    ...SERVICE_NAMES.map((name) => engine.services[name][0]?.kill()),
  ]);

  for (const [i, executionId] of ids.entries()) {
    const described = await waitForEnd(engine.client, executionId, 90_000);
    expect([executionId, statusOf(described.execution?.status)]).toEqual([executionId, "SUCCEEDED"]);
    expect(JSON.parse(described.outputJson)).toEqual({ n: i * 100 + STEPS, ms: 200 });
  }
  // With the node still down, every history reads back whole (through the reader and through the
  // API) and folds into its snapshot: reads must not depend on the lost node. A snapshot whose
  // write failed while the bucket had no leader is repaired when its commit is retried.
  for (const executionId of ids) await checkStoredExecutionRepaired(reader, executionId);
  const history = await engine.client.getExecutionHistory({
    executionId: ids[0] as string,
    pageSize: 1000,
    pageToken: "",
    reverseOrder: false,
  });
  expect(history.events.at(-1)?.details?.$case).toBe("executionSucceeded");
  // The node comes back and catches up; the histories still check.
  await cluster.restartNode(victim);
  for (const executionId of ids) await checkStoredExecutionRepaired(reader, executionId);
  // The survivors did the work: the killed replicas stayed down.
  for (const name of SERVICE_NAMES) {
    expect(engine.services[name].map((p) => p.running)).toEqual([false, true]);
  }
});
