import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectTo, startNatsCluster, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsCluster } from "@jetflow/testing";

// A leader election after a node stops takes a few seconds; more on a busy machine.
jest.setTimeout(120_000);

let cluster: NatsCluster | undefined;
let nc: NatsConnection | undefined;

beforeAll(async () => {
  cluster = await startNatsCluster();
  nc = await connectTo(cluster.urls);
});

afterAll(async () => {
  await nc?.close();
  await cluster?.dispose();
});

function ready(): { cluster: NatsCluster; nc: NatsConnection } {
  if (cluster === undefined || nc === undefined) throw new Error("the cluster did not start");
  return { cluster, nc };
}

describe("startNatsCluster", () => {
  it("starts three named nodes on distinct loopback ports", () => {
    const { cluster } = ready();
    expect(cluster.servers.map((s) => s.name)).toEqual([0, 1, 2].map((i) => `${cluster.name}-n${i}`));
    expect(new Set(cluster.urls).size).toBe(3);
    for (const url of cluster.urls) expect(url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
  });

  it("keeps an R3 stream writable and complete while its leader node is down", async () => {
    const { cluster, nc } = ready();
    // Short API timeouts: a request caught by a leader change or a reconnect is lost, and is retried.
    const jsm = await jetstreamManager(nc, { timeout: 2_000 });
    const js = jetstream(nc, { timeout: 2_000 });
    const stream = uniqueName("orders");
    const consumer = uniqueName("reader");
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], num_replicas: 3 });
    await jsm.consumers.add(stream, { durable_name: consumer, ack_policy: AckPolicy.Explicit });
    // The message id makes a retried publish that did land the first time a no-op.
    const publish = (i: number): Promise<unknown> =>
      waitFor(() => js.publish(`${stream}.created`, `order ${i}`, { msgID: `${stream}-${i}` }), {
        message: `order ${i} to be stored`,
      });
    for (let i = 1; i <= 5; i++) await publish(i);

    const leader = (await jsm.streams.info(stream)).cluster?.leader;
    const down = cluster.servers.findIndex((s) => s.name === leader);
    expect(down).toBeGreaterThanOrEqual(0);
    await cluster.stopNode(down);
    expect(cluster.servers[down]?.running).toBe(false);

    for (let i = 6; i <= 10; i++) await publish(i);
    const reader = await waitFor(() => js.consumers.get(stream, consumer));
    const bodies: string[] = [];
    while (bodies.length < 10) {
      const m = await waitFor(() => reader.next({ expires: 2_000 }), { message: "the next order" });
      bodies.push(m.string());
      await waitFor(() => m.ackAck());
    }
    expect(bodies).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => `order ${i}`));
    const during = await jsm.streams.info(stream);
    expect(during.cluster?.leader).not.toBe(leader);

    await cluster.restartNode(down);
    const after = await waitFor(
      async () => {
        const info = await jsm.streams.info(stream);
        const replicas = info.cluster?.replicas ?? [];
        const caughtUp = replicas.length === 2 && replicas.every((r) => r.current && r.offline !== true);
        return caughtUp && info;
      },
      { message: `every replica of stream "${stream}" to be current` },
    );
    expect(after.state.messages).toBe(10);
    expect(after.state.last_seq).toBe(10);
    const members = [after.cluster?.leader, ...(after.cluster?.replicas ?? []).map((r) => r.name)];
    expect(members.sort()).toEqual(cluster.servers.map((s) => s.name).sort());
  });

  it("brings a killed node back with its store, caught up on what it missed", async () => {
    const { cluster, nc } = ready();
    const jsm = await jetstreamManager(nc, { timeout: 2_000 });
    const js = jetstream(nc, { timeout: 2_000 });
    const stream = uniqueName("events");
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], num_replicas: 3 });
    const publish = (i: number): Promise<unknown> =>
      waitFor(() => js.publish(`${stream}.e`, `event ${i}`, { msgID: `${stream}-${i}` }));
    await publish(1);

    const leader = (await jsm.streams.info(stream)).cluster?.leader;
    const victim = cluster.servers.findIndex((s) => s.name !== leader);
    const port = cluster.servers[victim]?.port;
    await cluster.killNode(victim);
    for (let i = 2; i <= 4; i++) await publish(i);
    await cluster.restartNode(victim);
    expect(cluster.servers[victim]?.port).toBe(port);

    const info = await waitFor(async () => {
      const current = await jsm.streams.info(stream);
      const replica = current.cluster?.replicas?.find((r) => r.name === cluster.servers[victim]?.name);
      return replica?.current === true && current;
    });
    expect(info.state.messages).toBe(4);
  });
});
