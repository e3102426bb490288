/**
 * The activities' task outcomes of GetEngineStats, read from a real events stream: attempts
 * counted by the activity they were scheduled for, one scheduled before the read found in its
 * execution's history, and a window holding more transitions than one read takes.
 */
import { EventBatch, TaskScheduled, encode, ensureStream, streamConfigs, subjects } from "@jetflow/contracts";
import type { HistoryEvent } from "@jetflow/contracts";
import { connectTo, startNatsServer, uniqueName } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { readTaskOutcomes } from "../src/task-outcomes";

let server: NatsServer | undefined;
let nc: NatsConnection | undefined;
const nextEventId = new Map<string, number>();

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  await ensureStream(await jetstreamManager(nc), streamConfigs.events());
});

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

type Details = HistoryEvent["details"];

/** Appends one batch of `executionId` with these events (ids following its last); returns its first event id. */
async function append(
  executionId: string,
  ...details: ((eventId: number, executionId: string) => Details)[]
): Promise<number> {
  const first = (nextEventId.get(executionId) ?? 0) + 1;
  const events = details.map((d, i) => ({
    eventId: first + i,
    executionId,
    timestamp: new Date(),
    stateName: "",
    details: d(first + i, executionId),
  }));
  nextEventId.set(executionId, first + events.length - 1);
  await jetstream(nc!).publish(
    subjects.events(executionId),
    encode(EventBatch, { executionId, events, parent: undefined }),
  );
  return first;
}

const scheduled =
  (activity: string) =>
  (eventId: number, executionId: string): Details => ({
    $case: "taskScheduled",
    value: TaskScheduled.fromPartial({ taskToken: `${executionId}.${eventId}`, activity }),
  });
const ended = (kind: "ok" | "fail", token: string): Details =>
  kind === "ok"
    ? { $case: "taskSucceeded", value: { taskToken: token, outputJson: "{}" } }
    : { $case: "taskFailed", value: { taskToken: token, error: "Boom", cause: "" } };

/** Schedules a task of `activity` in `executionId` and returns its token. */
async function schedule(executionId: string, activity: string): Promise<string> {
  const id = await append(executionId, scheduled(activity));
  return `${executionId}.${id}`;
}

it("counts each activity's attempts that ended in the window, by the activity they were scheduled for", async () => {
  const since = new Date(Date.now() - 60_000);
  const a = uniqueName("exec");
  const b = uniqueName("exec");
  const charge = await schedule(a, "charge");
  await append(a, () => ended("ok", charge));
  const ship = await schedule(b, "ship");
  await append(b, () => ended("fail", ship));
  const retry = await schedule(b, "ship");
  await append(b, () => ended("ok", retry));

  const outcomes = await readTaskOutcomes(nc!, since);
  expect(outcomes.since).toEqual(since);
  expect(Object.fromEntries(outcomes.byActivity)).toEqual({
    charge: { succeeded: 1, failed: 0 },
    ship: { succeeded: 1, failed: 1 },
  });
  // Nothing stored after the window's start: nothing to count, and no wait for a next batch.
  const empty = await readTaskOutcomes(nc!, new Date(Date.now() + 60_000));
  expect(empty.byActivity.size).toBe(0);
});

it("reads the newest transitions only when the window holds more, finding older schedulings in the histories", async () => {
  const since = new Date(Date.now() - 60_000);
  const c = uniqueName("exec");
  const pack = await schedule(c, "pack");
  // Three more transitions: a read of the newest two misses the scheduling of "pack".
  await append(uniqueName("exec"), scheduled("filler"));
  const before = Date.now();
  await append(uniqueName("exec"), scheduled("filler"));
  await append(c, () => ended("fail", pack));

  const outcomes = await readTaskOutcomes(nc!, since, { maxBatches: 2 });
  expect(outcomes.byActivity.get("pack")).toEqual({ succeeded: 0, failed: 1 });
  // The counts say they start at the first transition read, later than the window's start.
  expect(outcomes.since.getTime()).toBeGreaterThanOrEqual(before - 1_000);
  expect(outcomes.since.getTime()).toBeGreaterThan(since.getTime());
});
