/**
 * The JetStream resources of the raw step floor. They mirror the engine's (file storage, one
 * replica, the same duplicate window, work-queue retention for tasks and results) under names of
 * their own, so the floor shares the engine's nats-server without touching its data.
 */
import { DUPLICATE_WINDOW_NS } from "@jetflow/contracts";
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { ConsumerConfig, JetStreamManager, StreamConfig } from "@nats-io/jetstream";

const ROOT = "bench.floor";

/** Stream, subject, consumer and bucket names of the floor. */
export const floor = {
  eventsStream: "BENCH_FLOOR_EVENTS",
  events: (executionId: string) => `${ROOT}.events.${executionId}`,
  tasksStream: "BENCH_FLOOR_TASKS",
  tasks: `${ROOT}.tasks.noop`,
  resultsStream: "BENCH_FLOOR_RESULTS",
  results: `${ROOT}.results.noop`,
  workerConsumer: "floor-workers",
  driverConsumer: "floor-driver",
  snapshots: "bench_floor_snapshots",
} as const;

/** A task of the floor, as JSON. */
export interface FloorTask {
  token: string;
  input: { n: number };
}

/** A result of the floor, as JSON. */
export interface FloorResult {
  token: string;
  output: { n: number };
}

function stream(
  name: string,
  subjects: string[],
  workQueue: boolean,
): Partial<StreamConfig> & { name: string } {
  return {
    name,
    subjects,
    storage: StorageType.File,
    num_replicas: 1,
    duplicate_window: DUPLICATE_WINDOW_NS,
    allow_direct: true,
    retention: workQueue ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
  };
}

function pullConsumer(name: string, filter: string): Partial<ConsumerConfig> {
  return {
    durable_name: name,
    filter_subject: filter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: 30_000_000_000,
    max_deliver: -1,
    max_ack_pending: 20_000,
  };
}

/**
 * Creates the floor's streams and consumers, replacing any left from an earlier run, and removes
 * the snapshot bucket (a KV bucket is the stream `KV_<bucket>`) so that the caller creates it anew.
 */
export async function createFloorResources(jsm: JetStreamManager): Promise<void> {
  for (const name of [floor.eventsStream, floor.tasksStream, floor.resultsStream, `KV_${floor.snapshots}`]) {
    await jsm.streams.delete(name).catch(() => false);
  }
  await jsm.streams.add(stream(floor.eventsStream, [`${ROOT}.events.>`], false));
  await jsm.streams.add(stream(floor.tasksStream, [floor.tasks], true));
  await jsm.streams.add(stream(floor.resultsStream, [floor.results], true));
  await jsm.consumers.add(floor.tasksStream, pullConsumer(floor.workerConsumer, floor.tasks));
  await jsm.consumers.add(floor.resultsStream, pullConsumer(floor.driverConsumer, floor.results));
}
