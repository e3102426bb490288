/**
 * The NATS connection settings every jetflow process uses, and the warn-level log of its
 * disconnects and reconnects. A connection whose peer died silently (a cut cable, a partition,
 * a frozen node) sends no FIN: only missed pings reveal it.
 */
import type { ConnectionOptions, NatsConnection } from "@nats-io/transport-node";
import type { LoopLogger } from "./durable-consumer";

/** A ping every 3 s... */
export const PING_INTERVAL_MS = 3_000;
/**
 * ...and the connection is declared dead when 2 are unanswered at the next ping: a silently dead
 * peer is found 6 to 9 s after its last answer (the client default is 2 × 2 minutes).
 */
export const MAX_PINGS_OUT = 2;

/**
 * How long one connection attempt may take (TCP, TLS, the server's first pong). nats.js waits
 * 20 s by default, and a node that is cut off answers nothing: a reconnect that happened to dial
 * it first waited out the partition instead of moving on to the nodes that answer.
 */
export const CONNECT_TIMEOUT_MS = 3_000;

/**
 * The connection options that keep a jetflow process connected: dead-peer detection in under
 * 10 s, reconnecting forever, to every server of the cluster it learns of, with jitter, giving
 * up on a server that does not answer within 3 s.
 */
export function connectionOptions(): Pick<
  ConnectionOptions,
  "pingInterval" | "maxPingOut" | "maxReconnectAttempts" | "reconnectTimeWait" | "reconnectJitter" | "timeout"
> {
  return {
    pingInterval: PING_INTERVAL_MS,
    maxPingOut: MAX_PINGS_OUT,
    timeout: CONNECT_TIMEOUT_MS,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 250,
  };
}

/**
 * Logs the connection's trouble at warn (disconnected, reconnected, stale) until it closes.
 * `name` says which connection, for processes with more than one.
 */
export function watchConnection(nc: NatsConnection, log: LoopLogger, name: string): void {
  void (async () => {
    let lostAt: number | undefined;
    for await (const status of nc.status()) {
      const server = "server" in status ? status.server : undefined;
      switch (status.type) {
        case "disconnect":
          lostAt = Date.now();
          log.warn({ connection: name, server }, "nats connection lost; reconnecting");
          break;
        case "staleConnection":
          log.warn({ connection: name }, "nats server stopped answering pings; dropping the connection");
          break;
        case "reconnect":
          log.warn(
            { connection: name, server, downMs: lostAt === undefined ? undefined : Date.now() - lostAt },
            "nats connection restored",
          );
          lostAt = undefined;
          break;
        default:
          break;
      }
    }
  })();
}
