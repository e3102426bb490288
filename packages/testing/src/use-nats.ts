import { existsSync } from "node:fs";
import { connect as connectSocket } from "node:net";
import type * as TestcontainersNats from "@testcontainers/nats";
import { NatsServerNotFoundError } from "./errors";
import { startNatsServer } from "./nats-server";
import type { StartNatsServerOptions } from "./nats-server";
import type { NatsServer } from "./types";

/** Options of {@link useNats}. */
export interface UseNatsOptions {
  /** Where `NATS_URL`, `NATS_SERVER_BIN`, `PATH` and `DOCKER_HOST` are looked up. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Options for the local nats-server, when one is started. Default none. */
  server?: Omit<StartNatsServerOptions, "env">;
  /** The image run when only Docker is available. Default "nats:2.10". */
  dockerImage?: string;
}

/** A NATS server for a test file, from {@link useNats}. */
export interface UsedNats {
  /** The client URL. */
  url: string;
  /** Stops what `useNats` started; a no-op for a server given by `NATS_URL`. */
  stop(): Promise<void>;
  /** The local nats-server, when `useNats` started one. */
  server?: NatsServer;
}

const dockerSocket = "/var/run/docker.sock";

/**
 * Provides a JetStream-enabled NATS server, in this order: the one at `NATS_URL` if set (left running);
 * else a local nats-server (see `startNatsServer`); else, if a Docker engine is reachable, a `nats`
 * container through `@testcontainers/nats`. That last branch is untested on our machines, which have no
 * Docker; note that `@testcontainers/nats` 12 fails to load on Node 20 (its undici needs zlib zstd).
 *
 * @throws {NatsServerNotFoundError} when there is neither a nats-server binary nor a Docker engine
 */
export async function useNats(options: UseNatsOptions = {}): Promise<UsedNats> {
  const env = options.env ?? process.env;
  const given = env["NATS_URL"];
  if (given !== undefined && given !== "") return { url: given, stop: async () => {} };
  let notFound: NatsServerNotFoundError;
  try {
    const server = await startNatsServer({ ...options.server, env });
    return { url: server.url, stop: () => server.dispose(), server };
  } catch (err) {
    if (!(err instanceof NatsServerNotFoundError) || !(await isDockerReachable(env))) throw err;
    notFound = err;
  }
  let testcontainers: typeof TestcontainersNats;
  try {
    // Required only here so that machines without Docker never load the testcontainers dependency tree.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    testcontainers = require("@testcontainers/nats") as typeof TestcontainersNats;
  } catch (loadError) {
    throw new NatsServerNotFoundError(
      `${notFound.reason}, and Docker is reachable but "@testcontainers/nats" failed to load`,
      notFound.searched,
      { cause: loadError },
    );
  }
  return startNatsContainer(testcontainers, options.dockerImage ?? "nats:2.10");
}

async function startNatsContainer(
  { NatsContainer }: typeof TestcontainersNats,
  image: string,
): Promise<UsedNats> {
  const container = await new NatsContainer(image).withJetStream().start();
  return {
    url: `nats://${container.getHost()}:${container.getMappedPort(4222)}`,
    stop: async () => {
      await container.stop();
    },
  };
}

/** `DOCKER_HOST` counts as reachable; otherwise the default socket must accept a connection. */
async function isDockerReachable(env: NodeJS.ProcessEnv): Promise<boolean> {
  if (env["DOCKER_HOST"] !== undefined && env["DOCKER_HOST"] !== "") return true;
  if (!existsSync(dockerSocket)) return false;
  return new Promise<boolean>((resolve) => {
    const socket = connectSocket(dockerSocket);
    socket.setTimeout(1_000);
    const done = (reachable: boolean): void => {
      socket.destroy();
      resolve(reachable);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}
