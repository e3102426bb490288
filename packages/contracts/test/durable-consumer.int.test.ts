/**
 * The shared durable consume loop against a real nats-server: a deleted consumer, a bound on
 * messages in flight, the messages of one delivery handed over together, in-progress acks for
 * held messages, a handler that throws, and a connection whose peer goes silent (a TCP proxy on
 * loopback that stops forwarding).
 */
import { connect as netConnect, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import {
  AckPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { ConsumerConfig, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectTo, startNatsServer, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { connectionOptions, startDurableConsumer, watchConnection } from "../src/internal";
import type { DurableConsumer, LoopLogger } from "../src/internal";

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

interface Line {
  level: "debug" | "info" | "warn" | "error";
  obj: Record<string, unknown>;
  msg: string;
  /** The loop's ready() when the line was written. */
  ready: boolean | undefined;
}

/** A logger that keeps every line, with the loop's readiness at that moment. */
function recordingLogger(): {
  log: LoopLogger;
  lines: Line[];
  watch(loop: () => DurableConsumer | undefined): void;
} {
  const lines: Line[] = [];
  let loopOf: () => DurableConsumer | undefined = () => undefined;
  const write =
    (level: Line["level"]) =>
    (obj: Record<string, unknown>, msg: string): void => {
      lines.push({ level, obj, msg, ready: loopOf()?.ready() });
    };
  return {
    log: { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") },
    lines,
    watch: (fn) => {
      loopOf = fn;
    },
  };
}

async function newStream(): Promise<{ stream: string; subject: string; config: Partial<ConsumerConfig> }> {
  const stream = uniqueName("LOOP");
  const subject = `${stream}.work`;
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  const config: Partial<ConsumerConfig> = {
    durable_name: "loop",
    ack_policy: AckPolicy.Explicit,
    ack_wait: 1_000 * 1_000_000,
    max_deliver: -1,
  };
  return { stream, subject, config };
}

async function publish(subject: string, count: number, from = 0): Promise<void> {
  const js = jetstream(nc);
  for (let i = from; i < from + count; i++) await js.publish(subject, String(i));
}

async function deleteConsumer(stream: string, name: string): Promise<void> {
  // nats-server 2.9 sometimes fails a delete racing its own ack writes ("directory not empty"): retry.
  await waitFor(() =>
    jsm.consumers.delete(stream, name).catch((err: unknown) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return true;
      throw err;
    }),
  );
}

it("recreates a deleted consumer, says so at warn while not ready, and consumes again", async () => {
  const { stream, subject, config } = await newStream();
  const seen = new Set<string>();
  const { log, lines, watch } = recordingLogger();
  const loop = await startDurableConsumer({
    nc,
    stream,
    config,
    maxInFlight: 10,
    log,
    handle: (msg) => {
      seen.add(msg.string());
      msg.ack();
    },
  });
  watch(() => loop);
  try {
    await publish(subject, 5);
    await waitFor(() => seen.size === 5);
    expect(loop.ready()).toBe(true);

    await deleteConsumer(stream, "loop");
    await publish(subject, 5, 5);
    await waitFor(() => seen.size === 10, { message: "messages published after the delete were consumed" });

    const warned = lines.find((l) => l.level === "warn" && /recreating it$/.test(l.msg));
    expect(warned).toMatchObject({ obj: { stream, consumer: "loop" }, ready: false });
    expect(warned?.msg).toContain(`consumer "loop" on stream "${stream}"`);
    expect(
      lines.some((l) => l.level === "warn" && l.msg === "consumer recreated from its configuration"),
    ).toBe(true);
    await waitFor(() => loop.ready(), { message: "ready again" });
    process.stderr.write("started\n");
    expect((await jsm.consumers.info(stream, "loop")).config.ack_wait).toBe(config.ack_wait);
  } finally {
    process.stderr.write("stopping\n");
    await loop.stop();
    process.stderr.write("stopped\n");
  }
});

it("never holds more than maxInFlight messages and takes the rest as slots free up", async () => {
  const { stream, subject, config } = await newStream();
  const holding: JsMsg[] = [];
  let handled = 0;
  let most = 0;
  const loop = await startDurableConsumer({
    nc,
    stream,
    config,
    maxInFlight: 3,
    log: recordingLogger().log,
    handle: (msg) => {
      holding.push(msg);
      most = Math.max(most, loop.inFlight);
    },
  });
  try {
    await publish(subject, 20);
    while (handled < 20) {
      await waitFor(() => holding.length > 0);
      expect(loop.inFlight).toBeLessThanOrEqual(3);
      const msg = holding.shift() as JsMsg;
      msg.ack();
      handled++;
    }
    expect(most).toBe(3);
    await waitFor(() => loop.inFlight === 0);
  } finally {
    await loop.stop();
  }
});

it("hands the messages of one delivery to the handler in one run, so their publishes share a write", async () => {
  const { stream, subject, config } = await newStream();
  // Stored before the loop pulls, so the server delivers them in one burst.
  await publish(subject, 20);
  // A run is a series of handler calls with no microtask between them: what the handlers
  // publish in one run is flushed in one socket write (nats.js flushes on a microtask).
  const runs: number[] = [];
  let inRun = false;
  const loop = await startDurableConsumer({
    nc,
    stream,
    config,
    maxInFlight: 50,
    log: recordingLogger().log,
    handle: (msg) => {
      if (inRun) runs.push((runs.pop() ?? 0) + 1);
      else {
        runs.push(1);
        inRun = true;
        queueMicrotask(() => {
          inRun = false;
        });
      }
      msg.ack();
    },
  });
  try {
    await waitFor(() => runs.reduce((a, b) => a + b, 0) === 20);
    // Handed from the pull's iterator one at a time, every run had one message.
    expect(Math.max(...runs)).toBeGreaterThan(1);
  } finally {
    await loop.stop();
  }
});
it("keeps a held message alive past its ack wait with in-progress acks", async () => {
  const { stream, subject, config } = await newStream();
  const deliveries: JsMsg[] = [];
  const loop = await startDurableConsumer({
    nc,
    stream,
    config,
    maxInFlight: 5,
    log: recordingLogger().log,
    handle: (msg) => {
      deliveries.push(msg);
    },
  });
  try {
    await publish(subject, 1);
    await waitFor(() => deliveries.length === 1);
    // Three ack waits (1 s each) without an ack: only in-progress acks keep it from redelivery.
    const heldUntil = Date.now() + 3_000;
    await waitFor(() => Date.now() >= heldUntil, { timeoutMs: 5_000 });
    expect(deliveries.length).toBe(1);
    deliveries[0]?.ack();
    await waitFor(async () => (await jsm.consumers.info(stream, "loop")).num_ack_pending === 0);
  } finally {
    await loop.stop();
  }
});

it("NAKs the message of a handler that throws, so it comes back at once", async () => {
  const { stream, subject, config } = await newStream();
  const { log, lines } = recordingLogger();
  let attempts = 0;
  const loop = await startDurableConsumer({
    nc,
    stream,
    config: { ...config, ack_wait: 60_000 * 1_000_000 },
    maxInFlight: 5,
    log,
    handle: async (msg) => {
      attempts++;
      if (attempts === 1) throw new Error("first time unlucky");
      msg.ack();
      await Promise.resolve();
    },
  });
  try {
    await publish(subject, 1);
    // Far sooner than the 60 s ack wait.
    await waitFor(() => attempts === 2, { timeoutMs: 10_000 });
    expect(lines.find((l) => l.level === "error")).toMatchObject({
      obj: { stream, consumer: "loop" },
      msg: "message handler failed",
    });
  } finally {
    await loop.stop();
  }
});

/** A TCP proxy to the nats-server whose open connections can be frozen: a silently dead peer. */
class FreezableProxy {
  private readonly links = new Set<{ frozen: boolean; sockets: Socket[] }>();
  private server?: Server;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = netConnect(this.targetPort, "127.0.0.1");
      const link = { frozen: false, sockets: [client, upstream] };
      this.links.add(link);
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        from.on("data", (chunk: Buffer) => {
          // A frozen link drops everything, in both directions, and closes nothing.
          if (!link.frozen) to.write(chunk);
        });
        from.on("error", () => to.destroy());
        from.on("close", () => {
          this.links.delete(link);
          to.destroy();
        });
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  /** Stops forwarding on the connections open now; new connections are forwarded as usual. */
  freeze(): void {
    for (const link of this.links) link.frozen = true;
  }

  async stop(): Promise<void> {
    for (const link of this.links) for (const socket of link.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

it("finds a silently dead connection within 15 s, reconnects and consumes again", async () => {
  const natsPort = Number(new URL(server.url).port);
  const proxy = new FreezableProxy(natsPort);
  await proxy.start();
  const { log, lines, watch } = recordingLogger();
  const proxied = await connect({
    servers: `127.0.0.1:${proxy.port}`,
    name: "dead-peer-test",
    ...connectionOptions(),
  });
  watchConnection(proxied, log, "dead-peer-test");
  const { stream, subject, config } = await newStream();
  const seen = new Set<string>();
  let loop: DurableConsumer | undefined;
  try {
    loop = await startDurableConsumer({
      nc: proxied,
      stream,
      config,
      maxInFlight: 10,
      log,
      handle: (msg) => {
        seen.add(msg.string());
        msg.ack();
      },
    });
    watch(() => loop);
    await publish(subject, 3);
    await waitFor(() => seen.size === 3);

    const frozenAt = Date.now();
    proxy.freeze();
    await waitFor(() => lines.some((l) => l.msg === "nats connection lost; reconnecting"), {
      timeoutMs: 15_000,
      message: "the dead connection was noticed",
    });
    const detectedMs = Date.now() - frozenAt;
    expect(detectedMs).toBeLessThan(15_000);
    // The consume loop noticed first, from the missing idle heartbeats of its pull.
    expect(
      lines.some((l) => l.level === "warn" && /heartbeats missed/.test(l.msg) && l.ready === false),
    ).toBe(true);

    await waitFor(() => lines.some((l) => l.msg === "nats connection restored"), { timeoutMs: 15_000 });
    await publish(subject, 3, 3);
    await waitFor(() => seen.size === 6, {
      timeoutMs: 15_000,
      message: "consuming again after the reconnect",
    });
    await waitFor(() => loop?.ready() === true);
  } finally {
    await loop?.stop();
    await proxied.close();
    await proxy.stop();
  }
});

it("applies a changed ack wait to an existing durable consumer at start, and stops at once", async () => {
  const { stream, config } = await newStream();
  await jsm.consumers.add(stream, { ...config, ack_wait: 30_000 * 1_000_000 });
  const loop = await startDurableConsumer({
    nc,
    stream,
    config,
    maxInFlight: 1,
    log: recordingLogger().log,
    handle: (msg) => msg.ack(),
  });
  try {
    expect((await jsm.consumers.info(stream, "loop")).config.ack_wait).toBe(config.ack_wait);
  } finally {
    // Right after start, before any message: the pull may still be opening.
    await loop.stop();
  }
});
