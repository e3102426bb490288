import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServer } from "./find-nats-server";
import { freePorts } from "./free-port";
import { checkHealthz, probeServer } from "./probe";
import { renderServerConfig } from "./server-config";
import { ServerProcess } from "./server-process";
import type { NatsCluster } from "./types";
import { uniqueName } from "./unique-name";
import { waitFor } from "./wait-for";

/** Options of {@link startNatsCluster}. */
export interface StartNatsClusterOptions {
  /** Number of nodes, at least 2. Default 3, the smallest cluster that keeps R3 streams writable with one node down. */
  nodes?: number;
  /** The cluster name; nodes are named `<name>-n0`, `<name>-n1`, .... Default `uniqueName("jetflow")`. */
  name?: string;
  /** Config text appended to every node's config. Default none. */
  extraConfig?: string;
  /** Turn on `debug` and `trace` logging in every node's log file. Default false. */
  debug?: boolean;
  /** Bound on the cluster start and on each `restartNode()`, in milliseconds. Default 60_000. */
  startTimeoutMs?: number;
  /** How long stopping a node waits after SIGTERM before SIGKILL, in milliseconds. Default 10_000. */
  stopTimeoutMs?: number;
  /** Where `NATS_SERVER_BIN` and `PATH` are looked up. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a JetStream cluster of `nodes` (3) nats-servers on loopback, each with its own client and route
 * port and store, and resolves once every node answers JetStream requests (a meta leader is elected) and
 * reports healthy. Call `dispose()` in `afterAll`.
 *
 * @throws {NatsServerNotFoundError} when no nats-server binary is installed
 * @throws {NatsServerStartError} when a node exits early or is not ready in time; the others are stopped
 */
export async function startNatsCluster(options: StartNatsClusterOptions = {}): Promise<NatsCluster> {
  const nodes = options.nodes ?? 3;
  if (!Number.isInteger(nodes) || nodes < 2) {
    throw new RangeError(`a cluster needs an integer number of nodes of at least 2, got ${nodes}`);
  }
  const bin = await findNatsServer(options.env);
  const name = options.name ?? uniqueName("jetflow");
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  // Routes must be known before any node starts, so every port is picked up front.
  const ports = await freePorts(nodes * 2);
  const clientPort = (i: number): number => ports[i] as number;
  const routePort = (i: number): number => ports[nodes + i] as number;
  const root = await mkdtemp(join(tmpdir(), "jetflow-cluster-"));
  const servers: ServerProcess[] = [];
  for (let i = 0; i < nodes; i++) {
    const dir = join(root, `n${i}`);
    await mkdir(dir);
    const nodeName = `${name}-n${i}`;
    const storeDir = join(dir, "store");
    const routes = [...Array(nodes).keys()]
      .filter((j) => j !== i)
      .map((j) => `nats://127.0.0.1:${routePort(j)}`);
    servers.push(
      new ServerProcess({
        bin,
        name: nodeName,
        dir,
        storeDir,
        render: () =>
          renderServerConfig({
            serverName: nodeName,
            port: clientPort(i),
            portsFileDir: dir,
            storeDir,
            cluster: { name, port: routePort(i), routes },
            debug: options.debug,
            extraConfig: options.extraConfig,
          }),
        // A lone node cannot answer JetStream requests before a quorum elects a meta leader; see rejoined().
        ready: (started) => probeServer(started.url, false),
        startTimeoutMs,
        stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
      }),
    );
  }

  const cluster = new Cluster(name, servers, root, startTimeoutMs);
  try {
    // allSettled, not all: a node still starting when another fails must be running before it is killed.
    const starts = await Promise.allSettled(servers.map((server) => server.start()));
    const failed = starts.find((start) => start.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    await Promise.all(servers.map((server) => cluster.rejoined(server)));
  } catch (err) {
    await Promise.all(servers.map((server) => server.kill()));
    throw err;
  }
  return cluster;
}

/** A started cluster: the nodes, their shared temp dir, restart and disposal. @internal */
export class Cluster implements NatsCluster {
  readonly name: string;
  readonly servers: readonly ServerProcess[];
  /** The temp dir holding every node's dir (config, log, store); removed by `dispose()`. */
  readonly root: string;
  private readonly startTimeoutMs: number;
  private disposed = false;

  constructor(name: string, servers: readonly ServerProcess[], root: string, startTimeoutMs: number) {
    this.name = name;
    this.servers = servers;
    this.root = root;
    this.startTimeoutMs = startTimeoutMs;
  }

  get urls(): readonly string[] {
    return this.servers.map((server) => server.url);
  }

  stopNode(index: number): Promise<void> {
    return this.node(index).stop();
  }

  killNode(index: number): Promise<void> {
    return this.node(index).kill();
  }

  async restartNode(index: number): Promise<void> {
    const server = this.node(index);
    await server.restart();
    await this.rejoined(server);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(this.servers.map((server) => server.dispose()));
    await rm(this.root, { recursive: true, force: true });
  }

  /** Waits until `server` answers JetStream requests through the cluster and reports healthy. */
  async rejoined(server: ServerProcess): Promise<void> {
    await waitFor(
      async () => {
        await probeServer(server.url, true);
        await checkHealthz(server.monitorUrl);
        return true;
      },
      { timeoutMs: this.startTimeoutMs, message: `node "${server.name}" to join cluster "${this.name}"` },
    );
  }

  private node(index: number): ServerProcess {
    const server = this.servers[index];
    if (server === undefined) {
      throw new RangeError(`no node ${index} in cluster "${this.name}" of ${this.servers.length} nodes`);
    }
    return server;
  }
}
