import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeConnectionOptions } from "@nats-io/transport-node";
import { findNatsServer } from "./find-nats-server";
import { probeServer } from "./probe";
import { renderServerConfig } from "./server-config";
import { ServerProcess } from "./server-process";
import type { NatsServer } from "./types";
import { uniqueName } from "./unique-name";

/** Options of {@link startNatsServer}. */
export interface StartNatsServerOptions {
  /** Enable JetStream, with its store in the server's temp dir. Default true. */
  jetstream?: boolean;
  /** Config text appended last, e.g. an `authorization { users: [...] }` block. Default none. */
  extraConfig?: string;
  /**
   * A config file to start from. Its `listen`, `http`, `ports_file_dir`, `server_name` and `jetstream`
   * settings are replaced (the whole `jetstream` block), and `include`s in it resolve against the temp dir.
   * Default none.
   */
  configFile?: string;
  /** Turn on the server's `debug` and `trace` logging, written to `logFile`. Default false. */
  debug?: boolean;
  /** The `server_name`. Default `uniqueName("jetflow")`. */
  name?: string;
  /**
   * Connection options for the readiness check, e.g. `{ user, pass }` when `extraConfig` requires
   * authentication; that user needs to be allowed `$JS.API.INFO`. Default none.
   */
  connectOptions?: Partial<NodeConnectionOptions>;
  /** Bound on each start and restart, in milliseconds. Default 30_000. */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL, in milliseconds. Default 10_000. */
  stopTimeoutMs?: number;
  /** Where `NATS_SERVER_BIN` and `PATH` are looked up. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Variables set in the server's own environment over this process's, e.g.
   * `{ GOMEMLIMIT: "240MiB" }` to bound the Go heap as the Kubernetes manifests do. Default none.
   */
  serverEnv?: Readonly<Record<string, string>>;
}

/**
 * Starts a nats-server on a random 127.0.0.1 port with JetStream in a fresh temp dir, and resolves once it
 * accepts clients and answers JetStream requests. Call `dispose()` in `afterAll`. On a failed start the temp
 * dir is kept for inspection.
 *
 * @throws {NatsServerNotFoundError} when no nats-server binary is installed
 * @throws {NatsServerStartError} when it exits early or is not ready within `startTimeoutMs` (30_000)
 */
export async function startNatsServer(options: StartNatsServerOptions = {}): Promise<NatsServer> {
  const bin = await findNatsServer(options.env);
  const base = options.configFile === undefined ? undefined : await readFile(options.configFile, "utf8");
  const jetstream = options.jetstream ?? true;
  const name = options.name ?? uniqueName("jetflow");
  const dir = await mkdtemp(join(tmpdir(), "jetflow-nats-"));
  const storeDir = join(dir, "store");
  const server = new ServerProcess({
    bin,
    env: options.serverEnv,
    name,
    dir,
    storeDir,
    render: (port) =>
      renderServerConfig({
        serverName: name,
        port,
        portsFileDir: dir,
        storeDir: jetstream ? storeDir : undefined,
        base,
        debug: options.debug,
        extraConfig: options.extraConfig,
      }),
    ready: (started) => probeServer(started.url, jetstream, options.connectOptions),
    startTimeoutMs: options.startTimeoutMs ?? 30_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
  });
  await server.start();
  return server;
}
