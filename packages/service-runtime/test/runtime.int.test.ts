import { DeadLetter, decode, ensureStream, streamConfigs, streams, subjects } from "@jetflow/contracts";
import { connectTo, startNatsServer, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { createRequestServer, publishDeadLetter, reply } from "../src";

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  await ensureStream(await jetstreamManager(nc), streamConfigs.deadLetters({ replicas: 1 }));
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("createRequestServer", () => {
  it("answers requests, and on stop waits for a handler still running", async () => {
    const subject = uniqueName("req");
    const requests = createRequestServer({ nc, log, queue: uniqueName("group") });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let handlerStarted = false;
    let handlerDone = false;
    requests.serve(subject, async (msg) => {
      const text = decoder.decode(msg.data);
      if (text === "slow") {
        handlerStarted = true;
        await released;
      }
      reply(msg, encoder.encode(`re: ${text}`), log);
      if (text === "slow") handlerDone = true;
    });
    await requests.registered();
    const fast = await nc.request(subject, encoder.encode("fast"), { timeout: 10_000 });
    expect(decoder.decode(fast.data)).toBe("re: fast");

    const slow = nc.request(subject, encoder.encode("slow"), { timeout: 10_000 });
    let stopped = false;
    // The slow handler is running once its request reached it: only then stop.
    await waitFor(() => handlerStarted, 10_000);
    const stopping = requests.stop().then(() => (stopped = true));
    // Round trips after the drain's own: a stop that did not wait would have resolved by now.
    await nc.flush();
    await nc.flush();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(handlerDone).toBe(true);
    expect(decoder.decode((await slow).data)).toBe("re: slow");
  });

  it("keeps serving after a handler throws or rejects", async () => {
    const subject = uniqueName("req");
    const requests = createRequestServer({ nc, log, queue: uniqueName("group") });
    try {
      requests.serve(subject, (msg) => {
        const text = decoder.decode(msg.data);
        if (text === "throw") throw new Error("handler bug");
        if (text === "reject") return Promise.reject(new Error("handler failure"));
        reply(msg, encoder.encode("ok"), log);
        return undefined;
      });
      await requests.registered();
      nc.publish(subject, encoder.encode("throw"));
      nc.publish(subject, encoder.encode("reject"));
      const answer = await nc.request(subject, encoder.encode("again"), { timeout: 10_000 });
      expect(decoder.decode(answer.data)).toBe("ok");
    } finally {
      await requests.stop();
    }
  });
});

describe("publishDeadLetter", () => {
  it("stores the message and its reason on the service's dead-letter subject, once per msg id", async () => {
    const service = uniqueName("svc");
    const js = jetstream(nc);
    const letter = {
      service,
      subject: "jetflow.commands.x",
      data: encoder.encode("garbage"),
      reason: "not a Command",
      parkedTime: new Date(Date.UTC(2026, 0, 1)),
      msgId: `${service}.1`,
    };
    await publishDeadLetter(js, letter);
    await publishDeadLetter(js, letter);
    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage(streams.deadLetters, {
      last_by_subj: subjects.deadLetter(service),
    });
    const parked = decode(DeadLetter, "DeadLetter", stored?.data ?? new Uint8Array(), stored?.subject ?? "");
    expect(parked).toEqual({
      service,
      subject: "jetflow.commands.x",
      data: Buffer.from("garbage"),
      reason: "not a Command",
      parkedTime: new Date(Date.UTC(2026, 0, 1)),
    });
    const info = await jsm.streams.info(streams.deadLetters, {
      subjects_filter: subjects.deadLetter(service),
    });
    expect(info.state.subjects?.[subjects.deadLetter(service)]).toBe(1);
  });
});
