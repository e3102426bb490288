import { cp, mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServer } from "./find-nats-server";
import { Cluster } from "./nats-cluster";
import { createNetnsNetwork } from "./netns";
import type { NetnsNetwork } from "./netns";
import { probeServer } from "./probe";
import { renderServerConfig } from "./server-config";
import { ServerProcess } from "./server-process";
import type { NatsCluster } from "./types";
import { uniqueName } from "./unique-name";

/** Client and route ports: every node has a network namespace, so all can use the usual ones. */
const clientPort = 4222;
const routePort = 6222;

/** Options of {@link startNetnsCluster}. */
export interface StartNetnsClusterOptions {
  /** Number of nodes, 2 to 9. Default 3. */
  nodes?: number;
  /** The cluster name; nodes are named `<name>-n0`, `<name>-n1`, .... Default `uniqueName("jetflow")`. */
  name?: string;
  /** Config text appended to every node's config. Default none. */
  extraConfig?: string;
  /** Bound on the cluster start and on each `restartNode()`, in milliseconds. Default 60_000. */
  startTimeoutMs?: number;
  /** How long stopping a node waits after SIGTERM before SIGKILL, in milliseconds. Default 10_000. */
  stopTimeoutMs?: number;
  /** Where `NATS_SERVER_BIN` and `PATH` are looked up. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A JetStream cluster whose nodes each run in a network namespace of their own: see {@link startNetnsCluster}. */
export interface NetnsCluster extends NatsCluster {
  /** The network the nodes are on; node `i` of the cluster is node `i` of the network. Faults are made here. */
  readonly network: NetnsNetwork;
  /** The index of the node named `serverName` (as in `streamInfo().cluster.leader`), -1 if none. */
  indexOf(serverName: string): number;
  /**
   * Stops every node (so that its store is complete on disk) and copies each node's config, log and
   * JetStream store to `dest`, for diagnosing a failed run from the stream contents.
   */
  saveArtifacts(dest: string): Promise<void>;
}

/**
 * Starts a JetStream cluster of `nodes` (3) nats-servers, each in its own Linux network namespace joined
 * to a bridge (see {@link createNetnsNetwork}), so that a test can isolate a node, cut the link between two
 * nodes or cut the host off one node while the rest keeps running. Clients in the root namespace (the
 * test, the services it starts) reach node `i` at `network.address(i)`. Needs root and iproute2. Resolves
 * once every node answers JetStream requests and reports healthy; call `dispose()` in `afterAll`: it stops
 * the nodes and removes the namespaces, the bridge and the routes. Close every client of the cluster
 * before: once the bridge is gone, a client still reconnecting would send its packets to the default route.
 *
 * @throws {NetnsUnavailableError} when namespaces cannot be made here
 * @throws {NatsServerStartError} when a node exits early or is not ready in time; everything is removed
 */
export async function startNetnsCluster(options: StartNetnsClusterOptions = {}): Promise<NetnsCluster> {
  const nodes = options.nodes ?? 3;
  if (!Number.isInteger(nodes) || nodes < 2 || nodes > 9) {
    throw new RangeError(`a netns cluster needs 2 to 9 nodes, got ${nodes}`);
  }
  const bin = await findNatsServer(options.env);
  const name = options.name ?? uniqueName("jetflow");
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const network = await createNetnsNetwork({ nodes });
  const root = await mkdtemp(join(tmpdir(), "jetflow-netns-cluster-"));
  const servers: ServerProcess[] = [];
  for (let i = 0; i < nodes; i++) {
    const dir = join(root, `n${i}`);
    await mkdir(dir);
    const nodeName = `${name}-n${i}`;
    const storeDir = join(dir, "store");
    const routes = [...Array(nodes).keys()]
      .filter((j) => j !== i)
      .map((j) => `nats://${network.address(j)}:${routePort}`);
    servers.push(
      new ServerProcess({
        bin,
        wrapper: ["ip", "netns", "exec", network.namespace(i)],
        host: network.address(i),
        name: nodeName,
        dir,
        storeDir,
        render: () =>
          renderServerConfig({
            serverName: nodeName,
            host: network.address(i),
            port: clientPort,
            portsFileDir: dir,
            storeDir,
            cluster: { name, port: routePort, routes },
            extraConfig: options.extraConfig,
          }),
        ready: (started) => probeServer(started.url, false),
        startTimeoutMs,
        stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
      }),
    );
  }
  const cluster = new Cluster(name, servers, root, startTimeoutMs);
  try {
    const starts = await Promise.allSettled(servers.map((server) => server.start()));
    const failed = starts.find((start) => start.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    await Promise.all(servers.map((server) => cluster.rejoined(server)));
  } catch (err) {
    await cluster.dispose();
    await network.dispose();
    throw err;
  }
  return {
    get name() {
      return cluster.name;
    },
    get servers() {
      return cluster.servers;
    },
    get urls() {
      return cluster.urls;
    },
    network,
    indexOf: (serverName) => cluster.servers.findIndex((server) => server.name === serverName),
    stopNode: (index) => cluster.stopNode(index),
    killNode: (index) => cluster.killNode(index),
    restartNode: (index) => cluster.restartNode(index),
    async saveArtifacts(dest) {
      await Promise.all(cluster.servers.map((server) => server.stop()));
      await cp(cluster.root, dest, { recursive: true });
    },
    async dispose() {
      // The network goes even when stopping a node fails: namespaces left behind would outlive the run.
      try {
        await cluster.dispose();
      } finally {
        await network.dispose();
      }
    },
  };
}
