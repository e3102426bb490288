/**
 * The usual end-to-end set-up in one call: the engine, a NATS connection for checks, and an
 * in-process worker running the test activities, all started in `beforeAll` and stopped in
 * `afterAll` (even when a test fails).
 */
import { connectTo } from "@jetflow/testing";
import { createWorker } from "@jetflow/worker-sdk";
import type { Worker } from "@jetflow/worker-sdk";
import type { NatsConnection } from "@nats-io/transport-node";
import { startEngine, testActivities } from "../src";
import type { Engine, EngineOptions } from "../src";

/** What `useEngine` gives a test file; the fields are set once `beforeAll` has run. */
export interface EngineFixture {
  engine: Engine;
  nc: NatsConnection;
  worker: Worker;
}

/** Registers jest hooks that start and stop the engine with a worker for the whole test file. */
export function useEngine(options: EngineOptions & { workerConcurrency?: number } = {}): EngineFixture {
  const fixture = {} as EngineFixture;
  beforeAll(async () => {
    fixture.engine = await startEngine(options);
    fixture.nc = await connectTo(fixture.engine.natsUrl);
    fixture.worker = createWorker({
      nc: fixture.nc,
      handlers: testActivities,
      concurrency: options.workerConcurrency ?? 10,
    });
    await fixture.worker.start();
  });
  afterAll(async () => {
    await fixture.worker?.stop();
    await fixture.nc?.close();
    await fixture.engine?.stop();
  });
  return fixture;
}
