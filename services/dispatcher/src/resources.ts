import { JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  bucketConfigs,
  buckets,
  consumerConfigs,
  ensureConsumer,
  ensureStream,
  streamConfigs,
  streams,
} from "@jetflow/contracts";
import type { ResourceOptions } from "@jetflow/contracts";

/** JetStream API error code of "stream name already in use" (not among nats.js's named codes). */
const STREAM_NAME_IN_USE = 10058;

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
    await addStreamIfMissing(jsm, config);
  }
  await ensureConsumer(jsm, streams.events, consumerConfigs.eventEffects(options.ackWaitMs));
  await ensureConsumer(jsm, streams.timers, consumerConfigs.timers(options.ackWaitMs));
  return { heartbeats: await openHeartbeats(nc, o) };
}

async function addStreamIfMissing(jsm: JetStreamManager, config: Partial<StreamConfig>): Promise<void> {
  const name = config.name ?? "";
  try {
    await jsm.streams.info(name);
    return;
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
  }
  try {
    await jsm.streams.add({ ...config, name });
  } catch (err) {
    // Its owner (or another replica) created it between our info and add.
    if (!isApiError(err, STREAM_NAME_IN_USE)) throw err;
  }
}

async function openHeartbeats(nc: NatsConnection, o: ResourceOptions): Promise<KV> {
  const kvm = new Kvm(jetstream(nc));
  try {
    // Opens the bucket when it exists (the result-ingestor's configuration stays), else creates it.
    return await kvm.create(buckets.heartbeats, bucketConfigs.heartbeats(o));
  } catch (err) {
    if (!isApiError(err, STREAM_NAME_IN_USE)) throw err;
    return kvm.open(buckets.heartbeats);
  }
}

function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}
