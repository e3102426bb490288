import { bucketConfigs, buckets, ensureStream, openOrCreateBucket, streamConfigs } from "@jetflow/contracts";
import type { ResourceOptions } from "@jetflow/contracts";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";

/**
 * Creates what the result-ingestor owns (the results stream, the heartbeat bucket; the dead-letter
 * stream, which every service ensures) with the configuration in contracts. The results stream's
 * consumer is the orchestrators'. Idempotent; safe when replicas start together. Returns the
 * heartbeat bucket.
 */
export async function ensureResources(
  nc: NatsConnection,
  jsm: JetStreamManager,
  o: ResourceOptions,
): Promise<KV> {
  await ensureStream(jsm, streamConfigs.deadLetters(o));
  await ensureStream(jsm, streamConfigs.results(o));
  return openOrCreateBucket(nc, buckets.heartbeats, bucketConfigs.heartbeats(o));
}
