import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NodeConnectionOptions } from "@nats-io/transport-node";

/** Bound on one readiness attempt, in milliseconds; the caller retries until its own deadline. */
const attemptTimeoutMs = 2_000;

/**
 * Connects to `url` once, without reconnecting, and if `jetstream` is set asks for the JetStream account
 * info, which in a cluster only succeeds once a meta leader is elected. Throws whatever went wrong.
 */
export async function probeServer(
  url: string,
  jetstream: boolean,
  connectOptions: Partial<NodeConnectionOptions> = {},
): Promise<void> {
  const nc = await connect({
    name: "jetflow-testing-probe",
    timeout: attemptTimeoutMs,
    ...connectOptions,
    servers: url,
    reconnect: false,
  });
  try {
    if (jetstream) {
      const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: attemptTimeoutMs });
      await jsm.getAccountInfo();
    }
  } finally {
    await nc.close();
  }
}

/**
 * Asks the monitoring endpoint's `/healthz`, which answers 200 once the server is up and, with JetStream in
 * a cluster, has contact with the meta leader and its streams and consumers are current.
 */
export async function checkHealthz(monitorUrl: string): Promise<void> {
  const response = await fetch(`${monitorUrl}/healthz`, { signal: AbortSignal.timeout(attemptTimeoutMs) });
  const body = await response.text();
  if (!response.ok) throw new Error(`healthz answered ${response.status}: ${body}`);
}
