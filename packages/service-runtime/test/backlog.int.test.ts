/**
 * The backlog sampler reads the server's consumer info and dead-letter counts into gauges: a task
 * consumer's pending messages appear under its activity, a deleted consumer disappears, and the
 * dead letters are counted by the service that parked them.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { Registry } from "prom-client";
import {
  consumerConfigs,
  ensureConsumer,
  ensureStream,
  streamConfigs,
  streams,
  subjects,
} from "@jetflow/contracts";
import { startBacklogSampler } from "@jetflow/service-runtime";
import type { BacklogSampler } from "@jetflow/service-runtime";
import { connectTo, startNatsServer } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
});

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

async function gauge(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
    ?.value;
}

it("reports each consumer's backlog under its activity, and the stored dead letters per service", async () => {
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, streamConfigs.tasks());
  await ensureStream(jsm, streamConfigs.deadLetters());
  await ensureConsumer(jsm, streams.tasks, consumerConfigs.task("billing.charge"));
  const js = jetstream(nc);
  for (let i = 0; i < 3; i++) await js.publish(subjects.task("billing.charge"), new Uint8Array([i]));
  await js.publish(subjects.deadLetter("orchestrator"), new Uint8Array([1]));
  await js.publish(subjects.deadLetter("orchestrator"), new Uint8Array([2]));

  const registry = new Registry();
  let sampler: BacklogSampler | undefined;
  try {
    sampler = startBacklogSampler({ nc, registry, log: pino({ level: "silent" }), intervalMs: 100 });
    await sampler.sampled();
    const consumer = consumerConfigs.task("billing.charge").durable_name ?? "";
    const labels = { stream: streams.tasks, consumer, activity: "billing.charge" };
    expect(await gauge(registry, "jetflow_consumer_pending_messages", labels)).toBe(3);
    expect(await gauge(registry, "jetflow_consumer_ack_pending_messages", labels)).toBe(0);
    expect(await gauge(registry, "jetflow_dead_letters_stored_messages", { parked_by: "orchestrator" })).toBe(
      2,
    );

    await jsm.consumers.delete(streams.tasks, consumer);
    await sampler.sampled();
    await sampler.sampled();
    expect(await gauge(registry, "jetflow_consumer_pending_messages", labels)).toBeUndefined();
  } finally {
    sampler?.stop();
  }
});
