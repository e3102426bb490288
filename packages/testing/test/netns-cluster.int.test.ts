import { execFileSync } from "node:child_process";
import { createConnection } from "node:net";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectTo, startNetnsCluster, uniqueName, waitFor } from "@jetflow/testing";
import type { NetnsCluster } from "@jetflow/testing";

// Elections after a partition take a few seconds; more on a busy machine.
jest.setTimeout(120_000);

let cluster: NetnsCluster | undefined;
let nc: NatsConnection | undefined;

beforeAll(async () => {
  cluster = await startNetnsCluster();
  // Pings every second: a connection to an isolated node is given up within seconds, not minutes.
  nc = await connectTo(cluster.urls, { pingInterval: 1_000, maxPingOut: 2 });
});

afterAll(async () => {
  await nc?.close();
  await cluster?.dispose();
});

function ready(): { cluster: NetnsCluster; nc: NatsConnection } {
  if (cluster === undefined || nc === undefined) throw new Error("the cluster did not start");
  return { cluster, nc };
}

/** Opens a TCP connection to node `i`'s client port and closes it; throws when it cannot be reached in 2 s. */
function probeNode(cluster: NetnsCluster, i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: cluster.network.address(i), port: 4222, timeout: 2_000 });
    // Destroyed on every outcome: a SYN left pending to a cut node would keep jest alive for minutes.
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("timeout", () => {
      socket.destroy();
      reject(new Error(`node ${i} did not answer within 2 s`));
    });
    socket.once("error", (err) => {
      socket.destroy();
      reject(err);
    });
  });
}

function namespaces(): string {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
}

describe("startNetnsCluster", () => {
  it("runs each node in its own namespace at its own address", () => {
    const { cluster } = ready();
    const { network } = cluster;
    expect(cluster.urls).toEqual([0, 1, 2].map((i) => `nats://${network.address(i)}:4222`));
    for (let i = 0; i < 3; i++) expect(namespaces()).toContain(network.namespace(i));
    for (const server of cluster.servers) {
      const ns = execFileSync("ip", ["netns", "identify", String(server.pid)], { encoding: "utf8" });
      expect(ns.trim()).toBe(network.namespace(cluster.indexOf(server.name)));
    }
  });

  it("cuts the host off one node, then heals", async () => {
    const { cluster } = ready();
    await cluster.network.cutFromHost(1);
    try {
      await expect(probeNode(cluster, 1)).rejects.toThrow();
      await probeNode(cluster, 0);
    } finally {
      await cluster.network.heal();
    }
    await waitFor(() => probeNode(cluster, 1).then(() => true), { timeoutMs: 10_000 });
  });

  it("keeps an R3 stream writable while its leader is isolated, and the node catches up after", async () => {
    const { cluster, nc } = ready();
    const jsm = await jetstreamManager(nc, { timeout: 2_000 });
    const js = jetstream(nc, { timeout: 2_000 });
    const stream = uniqueName("orders");
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], num_replicas: 3 });
    const publish = (i: number): Promise<unknown> =>
      waitFor(() => js.publish(`${stream}.created`, `order ${i}`, { msgID: `${stream}-${i}` }), {
        timeoutMs: 60_000,
        message: `order ${i} to be stored`,
      });
    await publish(1);
    const leader = cluster.indexOf((await jsm.streams.info(stream)).cluster?.leader ?? "");
    expect(leader).toBeGreaterThanOrEqual(0);
    await cluster.network.isolate(leader);
    try {
      for (let i = 2; i <= 5; i++) await publish(i);
      const info = await waitFor(() => jsm.streams.info(stream), { timeoutMs: 30_000 });
      expect(info.cluster?.leader).not.toBe(cluster.servers[leader]?.name);
    } finally {
      await cluster.network.heal();
    }
    await waitFor(
      async () => {
        const info = await jsm.streams.info(stream);
        return info.state.messages === 5 && info.cluster?.replicas?.every((r) => r.current) === true;
      },
      { timeoutMs: 60_000, message: "the isolated node to catch up" },
    );
  });
});

describe("dispose", () => {
  it("removes the namespaces and the bridge, and is safe to call twice", async () => {
    const { cluster, nc } = ready();
    const { network } = cluster;
    // Clients go first: once the bridge is gone, a reconnecting client's packets would follow the default route.
    await nc.close();
    await cluster.dispose();
    await cluster.dispose();
    expect(namespaces()).not.toContain(network.prefix);
    // The kernel removes a deleted namespace's veth peers a moment later, on its own.
    await waitFor(
      () => !execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" }).includes(network.prefix),
      { timeoutMs: 15_000, message: "the veth links gone" },
    );
  });
});
