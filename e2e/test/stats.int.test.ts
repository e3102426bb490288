/**
 * `jetflow stats` against a running engine: each activity's backlog and idle worker pulls come
 * from JetStream (an activity nobody serves shows its waiting tasks and a warning), its recent
 * task outcomes from the executions' histories, its connected workers from the workers' answers
 * to a presence ping, each workflow's recent failure rate from the execution index.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connectTo, waitFor } from "@jetflow/testing";
import type { GetEngineStatsResponse } from "@jetflow/client";
import { createWorker } from "@jetflow/worker-sdk";
import { ManagedProcess, runJetflow, statusOf, waitForEnd } from "../src";
import type { CliRun } from "../src";
import { useEngine } from "./fixture";

const fixture = useEngine();

/** Runs the jetflow CLI against the test engine. */
function jetflow(...args: string[]): Promise<CliRun> {
  return runJetflow(fixture.engine.grpcAddress, ...args);
}

it("shows backlog per activity, idle worker pulls, a queue nobody serves and recent failure rates per activity and workflow", async () => {
  const { client } = fixture.engine;
  const one = (resource: string) =>
    JSON.stringify({ StartAt: "A", States: { A: { Type: "Task", Resource: resource, End: true } } });
  await client.registerWorkflow({ name: "stats-inc", definition: one("inc"), description: "" });
  await client.registerWorkflow({ name: "stats-fail", definition: one("fail"), description: "" });
  await client.registerWorkflow({ name: "stats-orphan", definition: one("stats-nobody"), description: "" });
  const start = (workflowName: string) =>
    client.startExecution({ workflowName, workflowVersion: 0, inputJson: '{"n":1}', executionName: "" });
  const done = await Promise.all([
    start("stats-inc"),
    start("stats-inc"),
    start("stats-inc"),
    start("stats-fail"),
  ]);
  const ended = await Promise.all(done.map(({ executionId }) => waitForEnd(client, executionId)));
  expect(ended.map((d) => statusOf(d.execution?.status))).toEqual([
    "SUCCEEDED",
    "SUCCEEDED",
    "SUCCEEDED",
    "FAILED",
  ]);
  await start("stats-orphan");
  await start("stats-orphan");

  // The orphan tasks are published by the dispatcher shortly after the starts.
  let stats: GetEngineStatsResponse | undefined;
  await waitFor(async () => {
    const run = await jetflow("--json", "stats");
    if (run.code !== 0) throw new Error(run.stderr);
    stats = JSON.parse(run.stdout) as GetEngineStatsResponse;
    return stats.activities.find((a) => a.activity === "stats-nobody")?.pending === 2;
  });
  const inc = stats?.activities.find((a) => a.activity === "inc");
  // Each activity's task attempts in the window, read from the executions' histories.
  expect(inc).toMatchObject({
    activity: "inc",
    pending: 0,
    running: 0,
    succeeded: 3,
    failed: 0,
    failureRate: 0,
  });
  expect(stats?.activities.find((a) => a.activity === "fail")).toMatchObject({
    succeeded: 0,
    failed: 1,
    failureRate: 1,
  });
  // The fixture's worker keeps a pull open on each of its activities.
  expect(inc?.waitingPulls).toBeGreaterThanOrEqual(1);
  expect(stats?.activities.find((a) => a.activity === "stats-nobody")).toMatchObject({
    pending: 2,
    waitingPulls: 0,
    succeeded: 0,
    failed: 0,
  });
  // The window held little: the task counts cover all of it.
  expect(stats?.taskCountsStartTime).toBe(
    new Date(Date.parse(String(stats?.readTime)) - 300_000).toISOString(),
  );
  expect(stats?.windowSeconds).toBe(300);
  expect(stats?.workflows).toEqual(
    expect.arrayContaining([
      { workflowName: "stats-inc", running: 0, succeeded: 3, failed: 0, failureRate: 0 },
      { workflowName: "stats-fail", running: 0, succeeded: 0, failed: 1, failureRate: 1 },
      { workflowName: "stats-orphan", running: 2, succeeded: 0, failed: 0, failureRate: 0 },
    ]),
  );

  const text = await jetflow("stats", "--window", "600");
  expect(text.code).toBe(0);
  const lines = text.stdout.split("\n");
  expect(lines[0]).toMatch(
    /^ACTIVITY +WORKERS +PENDING +RUNNING +IDLE PULLS +REDELIVERED +LAST ACTIVE +SUCCEEDED \(10m 00s\) +FAILED \(10m 00s\) +FAILURE RATE$/,
  );
  expect(lines.find((l) => l.startsWith("stats-nobody "))).toMatch(
    /^stats-nobody +0 +2 +0 +0 +0 +- +0 +0 +-$/,
  );
  // The fixture's worker runs "inc".
  expect(lines.find((l) => l.startsWith("inc "))).toMatch(/^inc +1 /);
  expect(lines.find((l) => l.startsWith("fail "))).toMatch(/ +0 +1 +100\.0%$/);
  expect(lines.find((l) => l.startsWith("inc "))).toMatch(/ +3 +0 +0\.0%$/);
  expect(text.stdout).toContain('! no worker is asking for tasks of "stats-nobody" (2 waiting)');
  expect(text.stdout).toMatch(
    /^WORKFLOW +RUNNING +SUCCEEDED \(10m 00s\) +FAILED \(10m 00s\) +FAILURE RATE$/m,
  );
  expect(text.stdout).toMatch(/^stats-fail +0 +0 +1 +100\.0%$/m);

  const tooLong = await jetflow("stats", "--window", "100000");
  expect(tooLong.code).toBe(5);
  expect(tooLong.stderr).toContain("window_seconds: must be at most 86400, got 100000");
});

it("counts the workers connected per activity, and stops counting them once they stop", async () => {
  const { client } = fixture.engine;
  const workersOf = (stats: GetEngineStatsResponse, activity: string): number | undefined =>
    stats.activities.find((a) => a.activity === activity)?.workersConnected;
  // Two worker processes running "echo" and "sleep", next to the fixture's in-process worker
  // (which runs every test activity).
  const logs = mkdtempSync(join(tmpdir(), "jetflow-stats-"));
  const processes = [1, 2].map(
    (n) =>
      new ManagedProcess(
        `worker-${n}`,
        resolve(__dirname, "../dist/test-worker.js"),
        { PATH: process.env.PATH, NATS_URL: fixture.engine.natsUrl, ACTIVITIES: "echo,sleep" },
        join(logs, `worker-${n}.log`),
      ),
  );
  // Two instances on connections of their own, of an activity no other worker runs.
  const connections = await Promise.all([1, 2].map(() => connectTo(fixture.engine.natsUrl)));
  const lonely = connections.map((nc) =>
    createWorker({ nc, handlers: { "stats-lonely": (input: unknown) => input }, concurrency: 2 }),
  );
  try {
    for (const worker of processes) worker.start();
    await Promise.all(processes.map((worker) => worker.waitForLog("worker started")));
    await Promise.all(lonely.map((worker) => worker.start()));

    const stats = await client.getEngineStats({ windowSeconds: 0 });
    expect(workersOf(stats, "echo")).toBe(3);
    expect(workersOf(stats, "sleep")).toBe(3);
    expect(workersOf(stats, "inc")).toBe(1);
    expect(workersOf(stats, "stats-lonely")).toBe(2);
    // No worker answers for an activity nobody runs.
    expect(workersOf(stats, "stats-nobody")).toBe(0);

    const run = await jetflow("--json", "stats");
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as GetEngineStatsResponse;
    expect(workersOf(printed, "echo")).toBe(3);
    expect(workersOf(printed, "stats-lonely")).toBe(2);

    await Promise.all(processes.map((worker) => worker.stop()));
    await Promise.all(lonely.map((worker) => worker.stop()));
    let after: GetEngineStatsResponse | undefined;
    await waitFor(
      async () => {
        after = await client.getEngineStats({ windowSeconds: 0 });
        return workersOf(after, "echo") === 1 && workersOf(after, "stats-lonely") === 0;
      },
      { intervalMs: 200, message: "the stopped workers to be counted no longer" },
    );
    expect(workersOf(after as GetEngineStatsResponse, "sleep")).toBe(1);
  } finally {
    await Promise.all(processes.map((worker) => worker.stop()));
    await Promise.all(lonely.map((worker) => worker.stop()));
    await Promise.all(connections.map((nc) => nc.close()));
  }
});
