import { readFile } from "node:fs/promises";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { connectionOptions, watchConnection } from "@jetflow/contracts/internal";
import type { BaseConfig } from "./config";
import { natsTlsOptions } from "./nats-tls";

/**
 * Connects to NATS with the service's credentials and reconnects forever: a service outlives a
 * NATS restart or a node loss and picks up where it was. Pings every 3 s find a silently dead
 * connection in under 10 s (see `connectionOptions`); disconnects and reconnects are logged at warn.
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
    ...connectionOptions(),
    tls: await natsTlsOptions(config.natsTls),
    // Keep publishing through a short outage: the client buffers while it reconnects.
    waitOnFirstConnect: true,
    // nats.js builds an Error with a stack for every request and publish to report where a
    // timeout came from; measured at a quarter of a busy service's CPU. Our logs name the call.
    noAsyncTraces: true,
  });
  watchConnection(nc, log, name);
  return nc;
}
