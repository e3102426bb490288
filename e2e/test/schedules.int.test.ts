/**
 * Schedules (docs/schedules.md) with the services as processes and two api-gateway replicas, both
 * running the scheduler: executions start on time, one per fire time, none missed across a
 * restart of every service; each overlap policy; pause, resume and delete through the CLI.
 */
import { readFileSync } from "node:fs";
import { OverlapPolicy, Schedule, buckets } from "@jetflow/contracts";
import type { ExecutionSummary } from "@jetflow/contracts";
import { waitFor } from "@jetflow/testing";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { SERVICE_NAMES, checkStoredExecution, createTestClient, runJetflow, statusOf } from "../src";
import type { CliRun, TestClient } from "../src";
import { useEngine } from "./fixture";

const fixture = useEngine({
  replicas: { "api-gateway": 2 },
  serviceEnv: { "api-gateway": { SCHEDULER_TICK_MS: "100", SCHEDULER_LEASE_MS: "2000" } },
});

const client = () => fixture.engine.client;

beforeAll(async () => {
  const wf = (activity: string) =>
    JSON.stringify({ StartAt: "Run", States: { Run: { Type: "Task", Resource: activity, End: true } } });
  await client().registerWorkflow({ name: "sched-inc", definition: wf("inc"), description: "" });
  await client().registerWorkflow({ name: "sched-sleep", definition: wf("sleep"), description: "" });
});

async function create(
  fields: Partial<Schedule> & { scheduleId: string; workflowName: string },
): Promise<Schedule> {
  const { schedule } = await client().createSchedule({ schedule: Schedule.fromPartial(fields) });
  if (!schedule) throw new Error("no schedule returned");
  return schedule;
}

/** The executions a schedule started, oldest fire time first (asked of `via`, default any gateway). */
async function executionsOf(scheduleId: string, via: TestClient = client()): Promise<ExecutionSummary[]> {
  const { executions } = await via.listExecutions({
    workflowName: "",
    status: 0,
    pageSize: 1000,
    pageToken: "",
    namePrefix: `${scheduleId}@`,
    startedAfter: undefined,
    startedBefore: undefined,
  });
  return executions.sort((a, b) => a.executionName.localeCompare(b.executionName));
}

function fireTimeOf(e: ExecutionSummary): number {
  return Date.parse(e.executionName.slice(e.executionName.indexOf("@") + 1));
}

async function waitForStarts(
  scheduleId: string,
  count: number,
  via: TestClient = client(),
  timeoutMs = 60_000,
): Promise<ExecutionSummary[]> {
  return waitFor(
    async () => {
      const executions = await executionsOf(scheduleId, via);
      return executions.length >= count ? executions : undefined;
    },
    { timeoutMs, intervalMs: 100, message: `schedule ${scheduleId} did not start ${count} executions` },
  );
}

/** Every fire time from the first to the last, `stepMs` apart, started once. */
function expectConsecutive(executions: ExecutionSummary[], stepMs: number): void {
  const times = executions.map(fireTimeOf);
  expect(new Set(times).size).toBe(times.length);
  for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBe(stepMs);
}

/** Runs the jetflow CLI against the test engine. */
function jetflow(...args: string[]): Promise<CliRun> {
  return runJetflow(fixture.engine.grpcAddress.split(",")[0] ?? "", ...args);
}

it("starts an execution at each fire time, on time, once, naming its schedule", async () => {
  await create({
    scheduleId: "every-second",
    workflowName: "sched-inc",
    inputJson: '{"n":41}',
    intervalSeconds: 1,
    overlapPolicy: OverlapPolicy.OVERLAP_POLICY_ALLOW_ALL,
  });
  const executions = await waitForStarts("every-second", 4);
  expectConsecutive(executions, 1000);
  for (const e of executions) {
    expect(e.scheduleId).toBe("every-second");
    // Started within a generous bound of its fire time (ticks every 100 ms; a loaded machine).
    const late = (e.startTime?.getTime() ?? 0) - fireTimeOf(e);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(5_000);
  }
  const first = executions[0];
  if (!first) throw new Error("no execution");
  await waitFor(
    async () =>
      statusOf((await client().describeExecution({ executionId: first.executionId })).execution?.status) ===
      "SUCCEEDED",
    { timeoutMs: 30_000, intervalMs: 50, message: "the scheduled execution did not succeed" },
  );
  const described = await client().describeExecution({ executionId: first.executionId });
  expect(JSON.parse(described.outputJson)).toEqual({ n: 42 });
  expect(described.execution?.scheduleId).toBe("every-second");
  await checkStoredExecution(fixture.nc, first.executionId);
  const { schedule } = await client().describeSchedule({ scheduleId: "every-second" });
  expect(schedule?.nextFireTime).toBeDefined();
  expect(schedule?.lastExecutionId).not.toBe("");
  await client().deleteSchedule({ scheduleId: "every-second" });
});

it("misses no fire time and doubles none across a restart of every service", async () => {
  await create({
    scheduleId: "through-restart",
    workflowName: "sched-inc",
    inputJson: '{"n":0}',
    intervalSeconds: 1,
    overlapPolicy: OverlapPolicy.OVERLAP_POLICY_ALLOW_ALL,
    catchupWindowSeconds: 600,
  });
  await waitForStarts("through-restart", 2);
  // Every process of every service killed, then started again (the gateways one after the other
  // with the rest: whichever takes the lease carries on from the last fire time in KV).
  for (const name of SERVICE_NAMES) await fixture.engine.crashAndRestart(name);
  const before = (await executionsOf("through-restart")).length;
  const executions = await waitForStarts("through-restart", before + 3);
  expectConsecutive(executions, 1000);
  await client().pauseSchedule({ scheduleId: "through-restart" });
  const paused = await client().describeSchedule({ scheduleId: "through-restart" });
  // The schedule's own count agrees with what exists: every start created one execution.
  const all = await executionsOf("through-restart");
  expect(Number(paused.schedule?.startedCount)).toBe(all.length);
  expectConsecutive(all, 1000);
  await client().deleteSchedule({ scheduleId: "through-restart" });
});

it("two replicas: the lease holder frozen mid-tick, the other takes over, the first wakes up; no fire time starts twice", async () => {
  await create({
    scheduleId: "race",
    workflowName: "sched-inc",
    inputJson: '{"n":0}',
    intervalSeconds: 1,
    overlapPolicy: OverlapPolicy.OVERLAP_POLICY_ALLOW_ALL,
    catchupWindowSeconds: 600,
  });
  await waitForStarts("race", 2);
  const lease = await new Kvm(jetstream(fixture.nc)).open(buckets.schedulerLease);
  const holder = async () => (await lease.get("leader"))?.string() ?? "";
  const first = await holder();
  const gateways = fixture.engine.services["api-gateway"];
  const frozen = gateways.find((g) => readFileSync(g.logPath, "utf8").includes(first));
  if (!frozen || first === "") throw new Error("no gateway holds the scheduler lease");
  // While it is frozen, ask the other gateway: the test's client may be connected to this one.
  const awakeAddress = gateways.find((g) => g !== frozen)?.grpcAddress;
  if (awakeAddress === undefined) throw new Error("no second gateway address");
  const awake = createTestClient(awakeAddress);
  frozen.signal("SIGSTOP");
  try {
    await waitFor(async () => (await holder()) !== "" && (await holder()) !== first, {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: "the other replica did not take the lease over",
    });
    const before = (await executionsOf("race", awake)).length;
    await waitForStarts("race", before + 2, awake);
  } finally {
    // It wakes up believing it holds the lease, in the middle of a tick on an old state.
    frozen.signal("SIGCONT");
    awake.close();
  }
  const woke = (await executionsOf("race")).length;
  await waitForStarts("race", woke + 3);
  await client().pauseSchedule({ scheduleId: "race" });
  const all = await executionsOf("race");
  expectConsecutive(all, 1000);
  const { schedule } = await client().describeSchedule({ scheduleId: "race" });
  expect(Number(schedule?.startedCount)).toBe(all.length);
  await client().deleteSchedule({ scheduleId: "race" });
});

/** Waits until `count` executions of the schedule have ended, then deletes it. */
async function endedRuns(scheduleId: string, count: number): Promise<ExecutionSummary[]> {
  const runs = await waitFor(
    async () => {
      const executions = await executionsOf(scheduleId);
      const ended = executions.filter((e) => e.stopTime !== undefined);
      return ended.length >= count ? executions : undefined;
    },
    {
      timeoutMs: 60_000,
      intervalMs: 100,
      message: `schedule ${scheduleId}: ${count} executions did not end`,
    },
  );
  await client().deleteSchedule({ scheduleId });
  return runs;
}

function overlaps(runs: ExecutionSummary[]): boolean {
  const sorted = [...runs].sort((a, b) => (a.startTime?.getTime() ?? 0) - (b.startTime?.getTime() ?? 0));
  return sorted.some((run, i) => {
    const next = sorted[i + 1];
    return (
      next !== undefined &&
      (run.stopTime === undefined || (next.startTime?.getTime() ?? 0) < run.stopTime.getTime())
    );
  });
}

describe("overlap policies, with executions (2.5 s) longer than the interval (1 s)", () => {
  const slow = { workflowName: "sched-sleep", inputJson: '{"ms":2500}', intervalSeconds: 1 };

  it("SKIP: never two at once; the fire times in between are skipped", async () => {
    await create({ scheduleId: "skip", ...slow, overlapPolicy: OverlapPolicy.OVERLAP_POLICY_SKIP });
    const runs = await endedRuns("skip", 2);
    expect(overlaps(runs.filter((r) => r.stopTime !== undefined))).toBe(false);
    // Two consecutive starts are at least an execution's length apart: the times between were skipped.
    const times = runs.map(fireTimeOf);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(3000);
  });

  it("BUFFER_ONE: never two at once; the next starts when the last ends, with an earlier fire time", async () => {
    await create({
      scheduleId: "buffer-one",
      ...slow,
      overlapPolicy: OverlapPolicy.OVERLAP_POLICY_BUFFER_ONE,
    });
    const runs = await endedRuns("buffer-one", 2);
    const ended = runs.filter((r) => r.stopTime !== undefined);
    expect(overlaps(ended)).toBe(false);
    const [first, second] = runs;
    if (!first || !second) throw new Error("two runs expected");
    // The buffered fire time came while the first ran; it started after the first ended.
    expect(fireTimeOf(second)).toBeLessThan(first.stopTime?.getTime() ?? 0);
    expect(second.startTime?.getTime() ?? 0).toBeGreaterThanOrEqual(first.stopTime?.getTime() ?? 0);
    expect(fireTimeOf(second) - fireTimeOf(first)).toBe(1000);
  });

  it("ALLOW_ALL: starts at every fire time, running at once", async () => {
    await create({ scheduleId: "allow-all", ...slow, overlapPolicy: OverlapPolicy.OVERLAP_POLICY_ALLOW_ALL });
    const runs = await endedRuns("allow-all", 2);
    expect(overlaps(runs)).toBe(true);
    expectConsecutive(runs, 1000);
  });
});

it("creates, lists, pauses, resumes and deletes a schedule with the CLI", async () => {
  const created = await jetflow(
    "schedule",
    "create",
    "nightly",
    "--workflow",
    "sched-inc",
    "--cron",
    "0 3 * * *",
    "--timezone",
    "Europe/Paris",
    "--input",
    '{"n":1}',
    "--overlap",
    "buffer_one",
  );
  expect(created.stderr).toBe("");
  expect(created.code).toBe(0);
  expect(created.stdout).toMatch(/When\s+cron "0 3 \* \* \*" Europe\/Paris/);
  expect(created.stdout).toMatch(/Overlap\s+BUFFER_ONE/);

  const listed = await jetflow("--json", "schedule", "list", "--workflow", "sched-inc");
  const { schedules } = JSON.parse(listed.stdout) as {
    schedules: { scheduleId: string; nextFireTime: string }[];
  };
  const nightly = schedules.find((s) => s.scheduleId === "nightly");
  // 03:00 in Paris is 01:00 or 02:00 UTC.
  expect(nightly?.nextFireTime).toMatch(/T0[12]:00:00\.000Z$/);

  expect((await jetflow("schedule", "pause", "nightly")).stdout).toMatch(/State\s+PAUSED/);
  const described = JSON.parse((await jetflow("--json", "schedule", "describe", "nightly")).stdout) as {
    paused: boolean;
    nextFireTime: string | null;
  };
  expect(described).toMatchObject({ paused: true, nextFireTime: null });
  expect((await jetflow("schedule", "resume", "nightly")).stdout).toMatch(/State\s+ACTIVE/);

  const again = await jetflow("schedule", "create", "nightly", "--workflow", "sched-inc", "--every", "60");
  expect(again.code).toBe(5);
  expect(again.stderr).toMatch(/already exists/);
  const invalid = await jetflow(
    "schedule",
    "create",
    "bad",
    "--workflow",
    "sched-inc",
    "--cron",
    "61 * * * *",
  );
  expect(invalid.code).toBe(5);
  expect(invalid.stderr).toMatch(/schedule\.cron/);

  expect((await jetflow("schedule", "delete", "nightly")).code).toBe(0);
  const gone = await jetflow("schedule", "describe", "nightly");
  expect(gone.code).toBe(4);
});
