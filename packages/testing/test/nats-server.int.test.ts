import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectTo, startNatsServer, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";

// Restarts take a second or two on a busy machine; the default 5 s leaves too little room.
jest.setTimeout(60_000);

let server: NatsServer | undefined;

beforeAll(async () => {
  server = await startNatsServer();
});

afterAll(async () => {
  await server?.dispose();
});

function started(): NatsServer {
  if (server === undefined) throw new Error("the server did not start");
  return server;
}

/**
 * Runs `fn` with a new connection. Tests that restart the server connect anew on each side of the
 * restart: nats.js drops what a connection sends while it is reconnecting.
 */
async function withConnection<T>(fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connectTo(started().url);
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

/** Creates a stream and a durable consumer and publishes `bodies`, each acknowledged by the server. */
function streamWith(bodies: string[]): Promise<{ stream: string; consumer: string }> {
  return withConnection(async (nc) => {
    const stream = uniqueName("runs");
    const consumer = uniqueName("reader");
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    await jsm.consumers.add(stream, { durable_name: consumer, ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    for (const body of bodies) await js.publish(`${stream}.created`, body);
    return { stream, consumer };
  });
}

/** Reads `count` messages through the durable consumer, acknowledging each. */
function readAll(stream: string, consumer: string, count: number): Promise<string[]> {
  return withConnection(async (nc) => {
    const reader = await jetstream(nc).consumers.get(stream, consumer);
    const bodies: string[] = [];
    while (bodies.length < count) {
      const m = await waitFor(() => reader.next({ expires: 2_000 }), { message: "the next message" });
      bodies.push(m.string());
      await m.ackAck();
    }
    expect((await reader.info()).num_pending).toBe(0);
    return bodies;
  });
}

describe("startNatsServer", () => {
  it("serves clients on a loopback url and keeps config, log and store in its temp dir", async () => {
    const s = started();
    expect(s.url).toBe(`nats://127.0.0.1:${s.port}`);
    expect(s.monitorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.pid).toEqual(expect.any(Number));
    expect(s.running).toBe(true);
    expect(await readFile(s.logFile, "utf8")).toContain("Server is ready");
    expect(await readFile(s.configFile, "utf8")).toContain(`store_dir: "${s.storeDir}"`);
  });

  it("delivers a published message to a subscriber", async () => {
    await withConnection(async (nc) => {
      const subject = `${uniqueName("ping")}.hello`;
      const sub = nc.subscribe(subject, { max: 1 });
      nc.publish(subject, "hi");
      const received: string[] = [];
      for await (const m of sub) received.push(m.string());
      expect(received).toEqual(["hi"]);
    });
  });

  it("keeps JetStream messages across restart() on the same port", async () => {
    const s = started();
    const { stream, consumer } = await streamWith(["a", "b", "c"]);
    const before = { port: s.port, pid: s.pid };
    await s.restart();
    expect(s.port).toBe(before.port);
    expect(s.pid).not.toBe(before.pid);
    expect(await readAll(stream, consumer, 3)).toEqual(["a", "b", "c"]);
  });

  it("keeps acknowledged messages when killed like a crash and restarted", async () => {
    const s = started();
    const { stream, consumer } = await streamWith(["x", "y"]);
    const pid = s.pid;
    await s.kill();
    expect(s.running).toBe(false);
    expect(s.pid).toBeUndefined();
    await s.restart();
    expect(s.pid).not.toBe(pid);
    expect(await readAll(stream, consumer, 2)).toEqual(["x", "y"]);
  });

  it("reconnects a connection made before the restart", async () => {
    const s = started();
    const nc = await connectTo(s.url);
    try {
      await s.restart();
      const subject = uniqueName("after");
      // The subscription is resent on reconnect; until then a request goes nowhere, so keep asking.
      nc.subscribe(subject, { callback: (_err, m) => void m.respond("pong") });
      const reply = await waitFor(async () => (await nc.request(subject, "ping", { timeout: 500 })).string());
      expect(reply).toBe("pong");
    } finally {
      await nc.close();
    }
  });

  it("does nothing when stopped twice and removes its temp dir on dispose", async () => {
    const other = await startNatsServer({ jetstream: false });
    try {
      await other.stop();
      await other.stop();
      expect(other.running).toBe(false);
    } finally {
      await other.dispose();
    }
    expect(existsSync(other.logFile)).toBe(false);
    await other.dispose();
  });
});
