/**
 * On a three-node cluster that loses two nodes, a replicated stream and its consumer have no
 * leader: the stream watch and the consume loop report not ready and warn naming them, and both
 * are ready again once the nodes are back, without a restart.
 */
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { startDurableConsumer } from "@jetflow/contracts/internal";
import type { DurableConsumer } from "@jetflow/contracts/internal";
import { watchStreamLeaders } from "@jetflow/service-runtime";
import type { StreamLeaderWatch } from "@jetflow/service-runtime";
import { connectTo, startNatsCluster, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsCluster } from "@jetflow/testing";

let cluster: NatsCluster;
let nc: NatsConnection;

beforeAll(async () => {
  cluster = await startNatsCluster();
  // Only node 0: the connection must stay up while the other two are gone.
  nc = await connectTo(cluster.urls[0] as string);
}, 90_000);

afterAll(async () => {
  await nc?.close();
  await cluster?.dispose();
});

it("is not ready while a needed stream and its consumer have no leader, and ready again after", async () => {
  const stream = uniqueName("R3");
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], num_replicas: 3 });
  const lines: Array<{ level: number; msg: string; stream?: string; consumer?: string }> = [];
  const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const seen: string[] = [];
  let watch: StreamLeaderWatch | undefined;
  let loop: DurableConsumer | undefined;
  try {
    watch = watchStreamLeaders(nc, [stream], log, 500);
    loop = await startDurableConsumer({
      nc,
      stream,
      config: { durable_name: "c", ack_policy: AckPolicy.Explicit, ack_wait: 5_000_000_000, max_deliver: -1 },
      maxInFlight: 10,
      log,
      handle: (msg) => {
        seen.push(msg.string());
        msg.ack();
      },
    });
    await waitFor(() => watch?.ready() === true && loop?.ready() === true);

    await Promise.all([cluster.stopNode(1), cluster.stopNode(2)]);
    // If node 0 led the stream it keeps answering until it notices that it lost its quorum:
    // nats-server checks every 10 s for peers silent for 10 s, so that takes up to 20 s (plus
    // two probes, and a busy machine).
    await waitFor(() => watch?.ready() === false, { timeoutMs: 45_000, message: "stream watch not ready" });
    expect(watch.leaderless()).toEqual([stream]);
    // The watch's own warning (the consume loop may warn about the same stream first).
    const leaderless = new RegExp(`^stream "${stream}" (has no leader|did not answer in time)`);
    expect(lines.some((l) => l.level === 40 && l.stream === stream && leaderless.test(l.msg))).toBe(true);
    // Two missed idle heartbeats, then a pull that cannot be answered: slower on a busy machine.
    await waitFor(() => loop?.ready() === false, { timeoutMs: 60_000, message: "consume loop not ready" });
    expect(lines.some((l) => l.level === 40 && l.consumer === "c" && l.stream === stream)).toBe(true);

    await Promise.all([cluster.restartNode(1), cluster.restartNode(2)]);
    await waitFor(() => watch?.ready() === true, { timeoutMs: 30_000, message: "stream watch ready again" });
    // The returning nodes may start another election (no pre-vote in nats-server's Raft): the
    // stream can answer its info and then be leaderless again for a moment, so publish until stored.
    const js = jetstream(nc);
    await waitFor(
      () =>
        js.publish(`${stream}.x`, "after", { msgID: "after" }).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 30_000, message: "a publish stored again" },
    );
    await waitFor(() => seen.includes("after"), { timeoutMs: 30_000, message: "consuming again" });
    await waitFor(() => loop?.ready() === true);
  } finally {
    watch?.stop();
    await loop?.stop();
  }
}, 240_000);
