import { jetstreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  bucketConfigs,
  buckets,
  consumerConfigs,
  ensureConsumer,
  ensureStream,
  ensureStreamExists,
  openOrCreateBucket,
  streamConfigs,
  streams,
} from "@jetflow/contracts";
import type { ResourceOptions } from "@jetflow/contracts";

/** What the dispatcher binds to once its resources exist. */
export interface DispatcherResources {
  /** The heartbeat bucket, read before a heartbeat timeout fires. */
  readonly heartbeats: KV;
}

/**
 * Creates what the dispatcher owns (the task and timer streams, its two consumers; the dead-letter
 * stream, which every service ensures) with the configuration in contracts, and what it uses but
 * others own (events, commands, the heartbeat bucket) only when missing: services start in any
 * order, and the owner's configuration wins. Idempotent; safe when replicas start together.
 */
export async function ensureResources(
  nc: NatsConnection,
  options: ResourceOptions & { ackWaitMs: number },
): Promise<DispatcherResources> {
  const jsm = await jetstreamManager(nc);
  const o: ResourceOptions = { replicas: options.replicas };
  for (const config of [streamConfigs.deadLetters(o), streamConfigs.tasks(o), streamConfigs.timers(o)]) {
    await ensureStream(jsm, config);
  }
  for (const config of [streamConfigs.events(o), streamConfigs.commands(o)]) {
    await ensureStreamExists(jsm, config);
  }
  await ensureConsumer(jsm, streams.events, consumerConfigs.eventEffects(options.ackWaitMs));
  await ensureConsumer(jsm, streams.timers, consumerConfigs.timers(options.ackWaitMs));
  return { heartbeats: await openOrCreateBucket(nc, buckets.heartbeats, bucketConfigs.heartbeats(o)) };
}
