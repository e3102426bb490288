import { readFile } from "node:fs/promises";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { BaseConfig } from "./config";
import { natsTlsOptions } from "./nats-tls";

/**
 * Connects to NATS with the service's credentials and reconnects forever: a service outlives a
 * NATS restart or a node loss and picks up where it was.
 */
export async function connectNats(config: BaseConfig, name: string, log: Logger): Promise<NatsConnection> {
  const authenticator = config.natsCredsFile
    ? credsAuthenticator(await readFile(config.natsCredsFile))
    : undefined;
  const nc = await connect({
    servers: config.natsServers,
    name,
    authenticator,
    user: config.natsUser,
    pass: config.natsPassword,
    tls: await natsTlsOptions(config.natsTls),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // Keep publishing through a short outage: the client buffers while it reconnects.
    waitOnFirstConnect: true,
    // nats.js builds an Error with a stack for every request and publish to report where a
    // timeout came from; measured at a quarter of a busy service's CPU. Our logs name the call.
    noAsyncTraces: true,
  });
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect" || status.type === "reconnect") {
        log.warn(
          { status: status.type, server: "server" in status ? status.server : undefined },
          "nats connection status",
        );
      }
    }
  })();
  return nc;
}
