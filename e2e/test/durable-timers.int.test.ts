/**
 * Timers live in JetStream, not in a process: a pending Wait and a pending retry back-off both
 * survive the crash of every service at once, and a restart of nats-server itself.
 */
import { waitFor } from "@jetflow/testing";
import type { NatsConnection } from "@nats-io/transport-node";
import { SERVICE_NAMES, checkStoredExecution, statusOf, waitForEnd } from "../src";
import { useEngine } from "./fixture";
import type { Engine } from "../src";

const fixture = useEngine();
let engine: Engine;
let nc: NatsConnection;

beforeAll(async () => {
  ({ engine, nc } = fixture);
  await engine.client.registerWorkflow({
    name: "pause-then-work",
    definition: JSON.stringify({
      StartAt: "Pause",
      States: {
        Pause: { Type: "Wait", Seconds: 3, Next: "Work" },
        Work: { Type: "Task", Resource: "inc", End: true },
      },
    }),
    description: "",
  });
  await engine.client.registerWorkflow({
    name: "retry-later",
    definition: JSON.stringify({
      StartAt: "Try",
      States: {
        Try: {
          Type: "Task",
          Resource: "flaky",
          Retry: [{ ErrorEquals: ["Flaky"], IntervalSeconds: 3, MaxAttempts: 2 }],
          End: true,
        },
      },
    }),
    description: "",
  });
});

async function hasEvent(executionId: string, kind: string): Promise<boolean> {
  const { events } = await engine.client.getExecutionHistory({
    executionId,
    pageSize: 0,
    pageToken: "",
    reverseOrder: false,
  });
  return events.some((e) => e.details?.$case === kind);
}

async function startBoth() {
  const waiting = await engine.client.startExecution({
    workflowName: "pause-then-work",
    workflowVersion: 0,
    inputJson: '{"n":41}',
    executionName: "",
  });
  const retrying = await engine.client.startExecution({
    workflowName: "retry-later",
    workflowVersion: 0,
    inputJson: '{"succeedOn":2}',
    executionName: "",
  });
  await waitFor(
    async () =>
      (await hasEvent(waiting.executionId, "waitStarted")) &&
      (await hasEvent(retrying.executionId, "taskRetryScheduled")),
    {
      timeoutMs: 30_000,
    },
  );
  return { waiting: waiting.executionId, retrying: retrying.executionId, startedAt: Date.now() };
}

async function expectBothDone(ids: { waiting: string; retrying: string; startedAt: number }) {
  const waited = await waitForEnd(engine.client, ids.waiting, 90_000);
  expect(statusOf(waited.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(waited.outputJson)).toEqual({ n: 42 });
  const retried = await waitForEnd(engine.client, ids.retrying, 90_000);
  expect(statusOf(retried.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(retried.outputJson)).toEqual({ attempt: 2 });
  // Neither fired early: the Wait was 3 s from its start, the back-off 3 s from the failure.
  const waitStart = waited.execution?.startTime?.getTime() ?? 0;
  expect((waited.execution?.stopTime?.getTime() ?? 0) - waitStart).toBeGreaterThanOrEqual(3000);
  await checkStoredExecution(nc, ids.waiting);
  await checkStoredExecution(nc, ids.retrying);
}

it("fires a pending Wait and a pending retry after every service was killed and restarted", async () => {
  const ids = await startBoth();
  await Promise.all(SERVICE_NAMES.map((name) => Promise.all(engine.services[name].map((p) => p.kill()))));
  for (const name of SERVICE_NAMES) await engine.startService(name);
  await expectBothDone(ids);
});

it("fires a pending Wait and a pending retry after nats-server restarted", async () => {
  const ids = await startBoth();
  await engine.nats.restart();
  await expectBothDone(ids);
});
