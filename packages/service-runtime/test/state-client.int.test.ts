/**
 * The state-manager client sends a call again when it gets no answer: a request held by a
 * state-manager that was just killed must not cost the whole timeout.
 */
import {
  CommitReply,
  CommitRequest,
  LoadReply,
  LoadRequest,
  decode,
  encode,
  subjects,
} from "@jetflow/contracts";
import { StateClient, StateManagerError } from "@jetflow/service-runtime";
import { connectTo, startNatsServer, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";

let server: NatsServer;
let nc: NatsConnection;
let responder: NatsConnection;
let subscription: Subscription | undefined;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  responder = await connectTo(server.url);
});

afterEach(() => {
  subscription?.unsubscribe();
  subscription = undefined;
});

afterAll(async () => {
  await nc?.close();
  await responder?.close();
  await server?.dispose();
});

/** Answers loads with an empty snapshot, except that it swallows the first `swallow` requests. */
async function serveLoads(swallow: number): Promise<{ received: () => number }> {
  let received = 0;
  subscription = responder.subscribe(subjects.stateLoad, {
    callback: (_err, msg) => {
      received++;
      if (received <= swallow) return;
      decode(LoadRequest, "LoadRequest", msg.data, msg.subject);
      msg.respond(encode(LoadReply, { snapshot: undefined, error: "" }));
    },
  });
  await responder.flush();
  return { received: () => received };
}

it("sends a request that got no answer again after the attempt timeout, not the whole timeout", async () => {
  const served = await serveLoads(1);
  const client = new StateClient(nc, 10_000, 300);
  const started = Date.now();
  await expect(client.load("exec-1")).resolves.toBeUndefined();
  expect(served.received()).toBe(2);
  expect(Date.now() - started).toBeLessThan(3_000);
});

it("keeps asking while no state-manager is subscribed, and gets the answer once one is", async () => {
  const client = new StateClient(nc, 10_000, 300);
  const sentBefore = nc.stats().outMsgs;
  const call = client.commit(CommitRequest.fromPartial({ expectedLastEventSeq: 0 }));
  // Let a few attempts find no responders first.
  await waitFor(() => nc.stats().outMsgs >= sentBefore + 3, { timeoutMs: 5_000 });
  subscription = responder.subscribe(subjects.stateCommit, {
    callback: (_err, msg) => {
      msg.respond(encode(CommitReply, CommitReply.fromPartial({ result: { $case: "conflict", value: {} } })));
    },
  });
  await responder.flush();
  await expect(call).resolves.toEqual({ kind: "conflict" });
});

it("gives up with a StateManagerError once the whole timeout has passed", async () => {
  await serveLoads(Number.MAX_SAFE_INTEGER);
  const client = new StateClient(nc, 1_000, 300);
  const started = Date.now();
  const error = await client.load("exec-3").catch((err: unknown) => err);
  expect(error).toBeInstanceOf(StateManagerError);
  expect((error as Error).message).toMatch(
    /^state-manager request on "jetflow\.state\.load" failed after [2-4] attempt\(s\)$/,
  );
  expect(Date.now() - started).toBeGreaterThanOrEqual(900);
});

it("takes a slow answer instead of throwing it away, sending at most one extra request", async () => {
  let received = 0;
  subscription = responder.subscribe(subjects.stateLoad, {
    callback: (_err, msg) => {
      received++;
      // Slower than the attempt timeout, as a large load is.
      setTimeout(() => msg.respond(encode(LoadReply, { snapshot: undefined, error: "" })), 1_000);
    },
  });
  await responder.flush();
  const client = new StateClient(nc, 10_000, 300);
  const started = Date.now();
  await expect(client.load("exec-4")).resolves.toBeUndefined();
  expect(Date.now() - started).toBeLessThan(2_000);
  expect(received).toBe(2);
});
