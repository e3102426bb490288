/**
 * `jetflow stats` against a running engine: each activity's backlog and idle worker pulls come
 * from JetStream (an activity nobody serves shows its waiting tasks and a warning), its recent
 * task outcomes from the executions' histories, each workflow's recent failure rate from the
 * execution index.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { waitFor } from "@jetflow/testing";
import type { GetEngineStatsResponse } from "@jetflow/client";
import { statusOf, waitForEnd } from "../src";
import { useEngine } from "./fixture";

const CLI = resolve(__dirname, "../../packages/cli/dist/main.js");
const fixture = useEngine();

function jetflow(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, JETFLOW_ADDR: fixture.engine.grpcAddress },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolveRun({ code, stdout, stderr }));
  });
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
    /^ACTIVITY +PENDING +RUNNING +IDLE PULLS +REDELIVERED +LAST ACTIVE +SUCCEEDED \(10m 00s\) +FAILED \(10m 00s\) +FAILURE RATE$/,
  );
  expect(lines.find((l) => l.startsWith("stats-nobody "))).toMatch(/^stats-nobody +2 +0 +0 +0 +- +0 +0 +-$/);
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
