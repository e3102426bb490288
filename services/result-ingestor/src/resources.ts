import {
  STREAM_NAME_IN_USE,
  bucketConfigs,
  buckets,
  consumerConfigs,
  ensureConsumer,
  ensureStream,
  ensureStreamExists,
  isApiError,
  streamConfigs,
  streams,
} from "@jetflow/contracts";
import type { ResourceOptions } from "@jetflow/contracts";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";

/**
 * Creates what the result-ingestor owns (the results stream and its consumer, the heartbeat bucket;
 * the dead-letter stream, which every service ensures) with the configuration in contracts, and the
 * commands stream it publishes to only when missing (the orchestrator owns it, its configuration
 * wins). Idempotent; safe when replicas start together. Returns the heartbeat bucket.
 */
export async function ensureResources(
  jsm: JetStreamManager,
  js: JetStreamClient,
  options: ResourceOptions & { ackWaitMs: number },
): Promise<KV> {
  const o: ResourceOptions = { replicas: options.replicas };
  await ensureStream(jsm, streamConfigs.deadLetters(o));
  await ensureStream(jsm, streamConfigs.results(o));
  await ensureStreamExists(jsm, streamConfigs.commands(o));
  await ensureConsumer(jsm, streams.results, consumerConfigs.results(options.ackWaitMs));
  const kvm = new Kvm(js);
  try {
    // Opens the bucket when it exists, else creates it.
    return await kvm.create(buckets.heartbeats, bucketConfigs.heartbeats(o));
  } catch (err) {
    // The dispatcher created it between our look-up and our add.
    if (!isApiError(err, STREAM_NAME_IN_USE)) throw err;
    return kvm.open(buckets.heartbeats);
  }
}

export { isApiError };
