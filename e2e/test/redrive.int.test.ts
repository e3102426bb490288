/**
 * Redrive (docs/redrive.md) through the API and the CLI, with the services as processes: a failed
 * Task, a Map with failed iterations and a Parallel with a failed branch run again from what
 * failed, keeping their history; what cannot be redriven is refused with the reason.
 */
import { status } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import type { HistoryEvent } from "@jetflow/contracts";
import { readEventBatches } from "@jetflow/service-runtime";
import { waitFor } from "@jetflow/testing";
import { createWorker } from "@jetflow/worker-sdk";
import type { Worker } from "@jetflow/worker-sdk";
import { checkStoredExecution, runJetflow, statusOf, waitForEnd } from "../src";
import type { CliRun } from "../src";
import { useEngine } from "./fixture";

const fixture = useEngine();
let worker: Worker;

/** Items (by their JSON) that fail until repaired, and how often each was run. */
const broken = new Set<string>();
const runs = new Map<string, number>();

function named(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

beforeAll(async () => {
  worker = createWorker({
    nc: fixture.nc,
    handlers: {
      "redrive-item": (input: unknown) => {
        const key = JSON.stringify(input);
        runs.set(key, (runs.get(key) ?? 0) + 1);
        if (broken.has(key)) throw named("Broken", `item ${key} is broken`);
        return { done: input };
      },
    },
  });
  await worker.start();
});

afterAll(async () => {
  await worker?.stop();
});

const item = (extra: Record<string, unknown> = {}) => ({
  Type: "Task",
  Resource: "redrive-item",
  TimeoutSeconds: 60,
  ...extra,
});

async function register(name: string, definition: object): Promise<void> {
  await fixture.engine.client.registerWorkflow({
    name,
    definition: JSON.stringify(definition),
    description: "",
  });
}

async function start(workflowName: string, input: unknown): Promise<string> {
  const { executionId } = await fixture.engine.client.startExecution({
    workflowName,
    workflowVersion: 0,
    inputJson: JSON.stringify(input),
    executionName: "",
  });
  return executionId;
}

/** Waits until the redrive `count` was applied and the execution ended again. */
async function waitForRedriven(executionId: string, count: number) {
  await waitFor(
    async () =>
      ((await fixture.engine.client.describeExecution({ executionId })).execution?.redriveCount ?? 0) >=
      count,
    { timeoutMs: 60_000, intervalMs: 50, message: `redrive ${count} of ${executionId} not applied` },
  );
  return waitForEnd(fixture.engine.client, executionId);
}

async function historyOf(executionId: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  for await (const { batch } of readEventBatches(fixture.nc, executionId)) events.push(...batch.events);
  return events;
}

async function refusal(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error("expected a refusal");
}

/** Runs the jetflow CLI against the test engine. */
function jetflow(...args: string[]): Promise<CliRun> {
  return runJetflow(fixture.engine.grpcAddress, ...args);
}

it("redrives a failed Task from the failed state, keeping its history, once per request", async () => {
  await register("redrive-task", {
    StartAt: "First",
    States: {
      First: item({ Parameters: { step: "first" }, ResultPath: "$.first", Next: "Second" }),
      Second: item({ Parameters: { step: "second", "redrives.$": "$$.Execution.RedriveCount" }, End: true }),
    },
  });
  broken.add(JSON.stringify({ step: "second", redrives: 0 }));
  const id = await start("redrive-task", {});
  const failed = await waitForEnd(fixture.engine.client, id);
  expect(statusOf(failed.execution?.status)).toBe("FAILED");
  const before = (await historyOf(id)).length;

  const answer = await fixture.engine.client.redriveExecution({ executionId: id });
  expect(answer.redriveCount).toBe(1);
  const done = await waitForRedriven(id, 1);
  expect(statusOf(done.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(done.outputJson)).toEqual({ done: { step: "second", redrives: 1 } });
  expect(done.execution?.redriveCount).toBe(1);
  // The first task ran once; the history goes on after the failure.
  expect(runs.get(JSON.stringify({ step: "first" }))).toBe(1);
  const events = await historyOf(id);
  expect(events.slice(0, before).map((e) => e.details?.$case)).toContain("executionFailed");
  expect(events[before]?.details?.$case).toBe("executionRedriven");
  await checkStoredExecution(fixture.nc, id);

  // Succeeded now: not redrivable, and the listing shows it SUCCEEDED with its redrive.
  const again = await refusal(fixture.engine.client.redriveExecution({ executionId: id }));
  expect(again.code).toBe(status.FAILED_PRECONDITION);
  expect(again.details).toMatch(/cannot be redriven: it succeeded/);
  await waitFor(
    async () => {
      const { executions } = await fixture.engine.client.listExecutions({
        workflowName: "redrive-task",
        status: 0,
        pageSize: 10,
        pageToken: "",
        namePrefix: "",
        startedAfter: undefined,
        startedBefore: undefined,
      });
      const listed = executions.find((e) => e.executionId === id);
      return statusOf(listed?.status) === "SUCCEEDED" && listed?.redriveCount === 1;
    },
    { timeoutMs: 30_000, intervalMs: 50, message: "the listing does not show the redriven execution" },
  );
});

it("refuses to redrive a running or unknown execution, saying why", async () => {
  await register("redrive-wait", { StartAt: "W", States: { W: { Type: "Wait", Seconds: 3600, End: true } } });
  const id = await start("redrive-wait", {});
  const running = await refusal(fixture.engine.client.redriveExecution({ executionId: id }));
  expect(running.code).toBe(status.FAILED_PRECONDITION);
  expect(running.details).toMatch(/it is running/);
  const missing = await refusal(fixture.engine.client.redriveExecution({ executionId: "no-such-execution" }));
  expect(missing.code).toBe(status.NOT_FOUND);
  await fixture.engine.client.stopExecution({ executionId: id, error: "", cause: "" });
});

it("redrives a Map: only the iterations that failed run again", async () => {
  await register("redrive-map", {
    StartAt: "Each",
    States: {
      Each: {
        Type: "Map",
        ItemsPath: "$.items",
        MaxConcurrency: 3,
        ToleratedFailureCount: 1,
        ItemProcessor: { StartAt: "Work", States: { Work: item({ End: true }) } },
        End: true,
      },
    },
  });
  const items = [101, 102, 103, 104, 105, 106, 107, 108];
  broken.add("103");
  broken.add("106");
  const id = await start("redrive-map", { items });
  const failed = await waitForEnd(fixture.engine.client, id);
  expect(failed.error).toBe("States.ExceedToleratedFailureThreshold");
  const ranBefore = new Map(items.map((n) => [n, runs.get(String(n)) ?? 0]));
  const succeeded = new Set(
    (await historyOf(id)).flatMap((e) =>
      e.details?.$case === "mapIterationSucceeded" ? [e.details.value.index] : [],
    ),
  );

  broken.delete("103");
  broken.delete("106");
  await fixture.engine.client.redriveExecution({ executionId: id });
  const done = await waitForRedriven(id, 1);
  expect(statusOf(done.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(done.outputJson)).toEqual(items.map((n) => ({ done: n })));
  // Every item ran; the ones that had succeeded did not run again.
  for (const [index, n] of items.entries()) {
    const runsOf = runs.get(String(n)) ?? 0;
    if (succeeded.has(index)) expect(runsOf).toBe(ranBefore.get(n));
    expect(runsOf).toBeGreaterThanOrEqual(1);
  }
  expect(runs.get("103")).toBe(2);
  expect(runs.get("106")).toBe(2);
  await checkStoredExecution(fixture.nc, id);
});

it("redrives a Parallel's failed branch with the CLI, keeping the other branch's output", async () => {
  await register("redrive-parallel", {
    StartAt: "Both",
    States: {
      Both: {
        Type: "Parallel",
        Branches: [
          { StartAt: "Left", States: { Left: item({ Parameters: { side: "left" }, End: true }) } },
          {
            StartAt: "Right1",
            States: {
              Right1: item({ Parameters: { side: "right1" }, Next: "Right2" }),
              Right2: item({ Parameters: { side: "right2" }, End: true }),
            },
          },
        ],
        End: true,
      },
    },
  });
  const right2 = JSON.stringify({ side: "right2" });
  broken.add(right2);
  const id = await start("redrive-parallel", {});
  expect(statusOf((await waitForEnd(fixture.engine.client, id)).execution?.status)).toBe("FAILED");
  broken.delete(right2);

  const cli = await jetflow("redrive", id, "--wait");
  expect(cli.stderr).toBe("");
  expect(cli.stdout).toContain(`redrive 1 requested for execution ${id}`);
  expect(cli.stdout).toMatch(/ended\s+SUCCEEDED/);
  expect(cli.code).toBe(0);
  const done = await fixture.engine.client.describeExecution({ executionId: id });
  expect(JSON.parse(done.outputJson)).toEqual([{ done: { side: "left" } }, { done: { side: "right2" } }]);
  expect(runs.get(JSON.stringify({ side: "left" }))).toBe(1);
  expect(runs.get(JSON.stringify({ side: "right1" }))).toBe(1);
  expect(runs.get(right2)).toBe(2);
  await checkStoredExecution(fixture.nc, id);

  const refused = await jetflow("redrive", id);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/cannot be redriven: it succeeded/);
});

it("a redrive survives a kill -9 of the orchestrator and the dispatcher right after it is accepted", async () => {
  await register("redrive-crash", {
    StartAt: "Each",
    States: {
      Each: {
        Type: "Map",
        ItemsPath: "$.items",
        ItemProcessor: { StartAt: "Work", States: { Work: item({ End: true }) } },
        End: true,
      },
    },
  });
  const items = [201, 202, 203, 204];
  broken.add("202");
  broken.add("204");
  const id = await start("redrive-crash", { items });
  expect(statusOf((await waitForEnd(fixture.engine.client, id)).execution?.status)).toBe("FAILED");
  broken.delete("202");
  broken.delete("204");
  // Two requests at once: one redrive.
  await Promise.all([
    fixture.engine.client.redriveExecution({ executionId: id }),
    fixture.engine.client.redriveExecution({ executionId: id }).catch(() => undefined),
  ]);
  await fixture.engine.crashAndRestart("orchestrator");
  await fixture.engine.crashAndRestart("dispatcher");
  const done = await waitForRedriven(id, 1);
  expect(statusOf(done.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(done.outputJson)).toEqual(items.map((n) => ({ done: n })));
  expect(done.execution?.redriveCount).toBe(1);
  const redriven = (await historyOf(id)).filter((e) => e.details?.$case === "executionRedriven");
  expect(redriven).toHaveLength(1);
  await checkStoredExecution(fixture.nc, id);
});
