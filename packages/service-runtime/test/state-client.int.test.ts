/**
 * The state-manager client sends a call again when it gets no answer: a request held by a
 * state-manager that was just killed must not cost the whole timeout. With batching on, the
 * commits of one turn of the event loop travel in one request and each gets its own answer.
 */
import {
  CommitBatchReply,
  CommitBatchRequest,
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

describe("commit batching", () => {
  let batchSubscription: Subscription | undefined;
  afterEach(() => {
    batchSubscription?.unsubscribe();
    batchSubscription = undefined;
  });

  /** Answers each commit of a batch ok, with its expected sequence + 1000 as the event sequence. */
  async function serveBatches(answer?: (commits: CommitRequest[]) => CommitBatchReply): Promise<number[]> {
    const sizes: number[] = [];
    batchSubscription = responder.subscribe(subjects.stateCommitBatch, {
      callback: (_err, msg) => {
        const commits = decode(CommitBatchRequest, "CommitBatchRequest", msg.data, msg.subject).commits.map(
          (bytes) => decode(CommitRequest, "CommitRequest", bytes, msg.subject),
        );
        sizes.push(commits.length);
        const reply =
          answer?.(commits) ??
          CommitBatchReply.fromPartial({
            replies: commits.map((c) => ({
              result: { $case: "ok", value: { eventSeq: c.expectedLastEventSeq + 1000, duplicate: false } },
            })),
          });
        msg.respond(encode(CommitBatchReply, reply));
      },
    });
    await responder.flush();
    return sizes;
  }

  const request = (seq: number) => CommitRequest.fromPartial({ expectedLastEventSeq: seq });

  it("sends the commits of one turn together, at most maxCommitBatch a request, each its own answer", async () => {
    const sizes = await serveBatches();
    const client = new StateClient(nc, 10_000, 300, 8);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => client.commit(request(i))));
    expect(results).toEqual(
      Array.from({ length: 20 }, (_, i) => ({ kind: "ok", eventSeq: i + 1000, duplicate: false })),
    );
    expect(sizes).toEqual([8, 8, 4]);
    // A lone commit goes out at the end of its turn, alone.
    await expect(client.commit(request(50))).resolves.toEqual({
      kind: "ok",
      eventSeq: 1050,
      duplicate: false,
    });
    expect(sizes).toEqual([8, 8, 4, 1]);
  });

  it("sends a commit too large for a batch alone on jetflow.state.commit", async () => {
    const sizes = await serveBatches();
    let single = 0;
    subscription = responder.subscribe(subjects.stateCommit, {
      callback: (_err, msg) => {
        single++;
        msg.respond(
          encode(CommitReply, CommitReply.fromPartial({ result: { $case: "conflict", value: {} } })),
        );
      },
    });
    await responder.flush();
    const client = new StateClient(nc, 10_000, 300, 8);
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    const large = CommitRequest.fromPartial({
      snapshot: { executionId: "x", inputJson: "y".repeat(Math.ceil(maxPayload / 2) + 1) },
    });
    const [alone, batched] = await Promise.all([client.commit(large), client.commit(request(1))]);
    expect(alone).toEqual({ kind: "conflict" });
    expect(batched).toEqual({ kind: "ok", eventSeq: 1001, duplicate: false });
    expect(single).toBe(1);
    expect(sizes).toEqual([1]);
  });

  it("fails every commit of a batch whose answer does not account for each", async () => {
    await serveBatches((commits) =>
      CommitBatchReply.fromPartial({ replies: commits.slice(1).map(() => ({})) }),
    );
    const client = new StateClient(nc, 10_000, 300, 8);
    const errors = await Promise.all(
      [0, 1, 2].map((i) => client.commit(request(i)).catch((err: unknown) => err)),
    );
    for (const error of errors) {
      expect(error).toBeInstanceOf(StateManagerError);
      expect((error as Error).message).toBe("commit batch failed: commit batch answered 2 of 3 commits");
    }
  });

  it("answers each commit of a batch with its own outcome", async () => {
    await serveBatches((commits) =>
      CommitBatchReply.fromPartial({
        replies: commits.map((c) =>
          c.expectedLastEventSeq === 1
            ? { result: { $case: "conflict", value: {} } }
            : c.expectedLastEventSeq === 2
              ? { result: { $case: "error", value: "disk full" } }
              : { result: { $case: "ok", value: { eventSeq: 7, duplicate: true } } },
        ),
      }),
    );
    const client = new StateClient(nc, 10_000, 300, 8);
    const outcomes = await Promise.all(
      [0, 1, 2].map((i) => client.commit(request(i)).catch((err: unknown) => (err as Error).message)),
    );
    expect(outcomes).toEqual([
      { kind: "ok", eventSeq: 7, duplicate: true },
      { kind: "conflict" },
      "commit refused: disk full",
    ]);
  });
});
