import { connect } from "@nats-io/transport-node";
import type { NatsConnection, NodeConnectionOptions } from "@nats-io/transport-node";

/**
 * Connects to one server URL or to any of several (a cluster) with defaults suited to tests: name
 * "jetflow-test", unlimited reconnect attempts (`maxReconnectAttempts: -1`) 100 ms apart, so a connection
 * survives a server restart. `options` override any of these. Close or drain the connection in `afterAll`.
 */
export function connectTo(
  servers: string | readonly string[],
  options: Partial<NodeConnectionOptions> = {},
): Promise<NatsConnection> {
  return connect({
    servers: typeof servers === "string" ? servers : [...servers],
    name: "jetflow-test",
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
    ...options,
  });
}
