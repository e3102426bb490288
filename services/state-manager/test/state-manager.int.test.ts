import {
  CommitBatchReply,
  CommitBatchRequest,
  CommitReply,
  CommitRequest,
  DeadLetter,
  EventBatch,
  ExecutionSnapshot,
  ExecutionStatus,
  LoadReply,
  decode,
  encode,
  streams,
  subjects,
} from "@jetflow/contracts";
import { eventBatchMsgId, evolve, namedExecutionId } from "@jetflow/engine";
import { connectTo, startNatsServer, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { readExecutionHistory, replayExecution, replayExecutionFrom } from "../src/history-reader";
import { commit, commitOk, load, openInstances, startStateManager, storedSnapshot } from "./harness";
import type { RunningStateManager } from "./harness";
import { commitRequest, makeBatch } from "@jetflow/engine/test-support";

const MAX_SNAPSHOT_BYTES = 64 * 1024;

let server: NatsServer | undefined;
let service: RunningStateManager | undefined;
let nc: NatsConnection | undefined;
let js: JetStreamClient;
let jsm: JetStreamManager;
let kv: KV;
/** What the state-manager logged (at debug level, whatever TEST_LOG_LEVEL says), as parsed JSON lines. */
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  service = await startStateManager(
    server.url,
    { maxSnapshotBytes: MAX_SNAPSHOT_BYTES },
    pino(
      { level: "debug" },
      { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) },
    ),
  );
  nc = await connectTo(server.url);
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  kv = await openInstances(nc);
});

afterAll(async () => {
  await nc?.close();
  await service?.stop();
  await server?.dispose();
});

function client(): NatsConnection {
  if (nc === undefined) throw new Error("no connection");
  return nc;
}

function stats() {
  if (service === undefined) throw new Error("no state-manager");
  return service.stateManager.stats();
}

/** Commits `counts.length` batches of the given sizes and returns the last snapshot. */
async function commitBatches(executionId: string, counts: number[]): Promise<ExecutionSnapshot> {
  let snapshot: ExecutionSnapshot | undefined;
  let next = 1;
  for (const count of counts) {
    const request = commitRequest(snapshot, makeBatch(executionId, next, count));
    const ok = await commitOk(client(), request);
    snapshot = { ...request.snapshot!, lastEventSeq: ok.eventSeq };
    next += count;
  }
  if (snapshot === undefined) throw new Error("no batches");
  return snapshot;
}

/** Appends a batch straight to the stream, as a process that died before its snapshot write would have. */
async function appendBehindTheBack(batch: EventBatch, expectedLastEventSeq: number): Promise<number> {
  const ack = await js.publish(subjects.events(batch.executionId), encode(EventBatch, batch), {
    msgID: eventBatchMsgId(batch.executionId, batch.events[0]!.eventId),
    expect: { lastSubjectSequence: expectedLastEventSeq },
  });
  return ack.seq;
}

describe("state-manager commit", () => {
  it("appends batches in order without gaps and stores the snapshot they fold to", async () => {
    const id = uniqueName("exec");
    const sizes = [1, 3, 1, 4, 2, 5, 1, 1, 2, 3];
    const last = await commitBatches(id, sizes);

    const history = await readExecutionHistory(jsm, id);
    expect(history.map((b) => b.batch.events.length)).toEqual(sizes);
    const eventIds = history.flatMap((b) => b.batch.events.map((e) => e.eventId));
    expect(eventIds).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    const seqs = history.map((b) => b.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    const stored = await storedSnapshot(kv, id);
    expect(stored?.snapshot).toEqual(last);
    expect(stored?.snapshot.lastEventSeq).toBe(seqs[seqs.length - 1]);
    expect(stored?.snapshot).toEqual(await replayExecution(jsm, id));
    expect(await replayExecutionFrom(client(), id)).toEqual(last);
  });

  it("refuses a commit with a stale expected sequence and writes nothing", async () => {
    const id = uniqueName("exec");
    const first = commitRequest(undefined, makeBatch(id, 1, 2));
    const firstOk = await commitOk(client(), first);
    const afterFirst = { ...first.snapshot!, lastEventSeq: firstOk.eventSeq };
    const second = await commitOk(client(), commitRequest(afterFirst, makeBatch(id, 3, 2)));
    const before = await storedSnapshot(kv, id);

    // Decided from the first snapshot, as a replica that missed the second commit would.
    const stale = commitRequest(afterFirst, makeBatch(id, 3, 4, "stale"));

    // nats-server 2.11+ checks the expected sequence before the msg id (2.10 answered a duplicate
    // of a different batch, which the state-manager also turns into a conflict).
    const reply = await commit(client(), stale);
    expect(reply.result).toEqual({
      $case: "conflict",
      value: {
        message: `execution "${id}" has moved past sequence ${firstOk.eventSeq}: wrong last sequence: ${second.eventSeq}`,
      },
    });
    const wrongSeq = await commit(client(), {
      ...commitRequest({ ...afterFirst, lastEventId: 4 }, makeBatch(id, 5, 1, "stale")),
    });
    expect(wrongSeq.result).toEqual({
      $case: "conflict",
      value: {
        message: `execution "${id}" has moved past sequence ${firstOk.eventSeq}: wrong last sequence: ${second.eventSeq}`,
      },
    });

    expect((await readExecutionHistory(jsm, id)).map((b) => b.seq)).toEqual([
      firstOk.eventSeq,
      second.eventSeq,
    ]);
    expect(await storedSnapshot(kv, id)).toEqual(before);
  });

  it("answers a retried commit as a duplicate with the original sequence and appends it once", async () => {
    const id = uniqueName("exec");
    const first = commitRequest(undefined, makeBatch(id, 1, 2));
    const original = await commitOk(client(), first);
    const retried = await commitOk(client(), first);
    expect(retried).toEqual({ eventSeq: original.eventSeq, duplicate: true });

    // A retry that arrives after later batches were appended leaves the newer snapshot alone.
    const later = await commitOk(
      client(),
      commitRequest({ ...first.snapshot!, lastEventSeq: original.eventSeq }, makeBatch(id, 3, 2)),
    );
    expect(await commitOk(client(), first)).toEqual({ eventSeq: original.eventSeq, duplicate: true });

    expect((await readExecutionHistory(jsm, id)).map((b) => b.seq)).toEqual([
      original.eventSeq,
      later.eventSeq,
    ]);
    expect((await storedSnapshot(kv, id))?.snapshot.lastEventSeq).toBe(later.eventSeq);
    expect((await storedSnapshot(kv, id))?.snapshot).toEqual(await replayExecution(jsm, id));
  });

  it("lets exactly one of two concurrent starts of a named execution succeed", async () => {
    const id = namedExecutionId("wf", uniqueName("order"));
    const other = await connectTo(server!.url);
    try {
      const a = commitRequest(undefined, makeBatch(id, 1, 1, "a"));
      const b = commitRequest(undefined, makeBatch(id, 1, 1, "b"));
      const replies = await Promise.all([commit(client(), a), commit(other, b)]);
      const cases = replies.map((r) => r.result?.$case).sort();
      expect(cases).toEqual(["conflict", "ok"]);
      const winner = replies[0]!.result?.$case === "ok" ? a : b;
      const history = await readExecutionHistory(jsm, id);
      expect(history.map((h) => h.batch)).toEqual([winner.batch]);
      expect((await storedSnapshot(kv, id))?.snapshot).toEqual(await replayExecution(jsm, id));
    } finally {
      await other.close();
    }
  });

  it("never replaces a newer snapshot with an older one", async () => {
    const id = uniqueName("exec");
    const afterTwo = await commitBatches(id, [2, 2]);
    const next = commitRequest(afterTwo, makeBatch(id, 5, 2));
    // Another instance appended further and stored its snapshot first; this instance's cached
    // revision is stale, so its compare-and-set fails and it must look at what is stored.
    const newer: ExecutionSnapshot = { ...next.snapshot!, executionName: "newer", lastEventSeq: 1_000_000 };
    await kv.put(id, encode(ExecutionSnapshot, newer));
    const keptBefore = stats().snapshotsKept;

    const ok = await commitOk(client(), next);
    expect(ok.duplicate).toBe(false);
    expect((await storedSnapshot(kv, id))?.snapshot).toEqual(newer);
    expect(stats().snapshotsKept).toBe(keptBefore + 1);
  });

  it("refuses a snapshot over the size limit before writing anything", async () => {
    const id = uniqueName("exec");
    const request = commitRequest(undefined, makeBatch(id, 1, 1));
    request.snapshot = { ...request.snapshot!, inputJson: JSON.stringify("x".repeat(MAX_SNAPSHOT_BYTES)) };
    const reply = await commit(client(), request);
    expect(reply.result?.$case).toBe("error");
    expect(reply.result?.value).toMatch(
      new RegExp(
        `^snapshot of execution "${id}" is \\d+ bytes, over the limit of ${MAX_SNAPSHOT_BYTES} bytes$`,
      ),
    );
    expect(await readExecutionHistory(jsm, id)).toEqual([]);
    expect(await storedSnapshot(kv, id)).toBeUndefined();
  });

  it("logs a conflict with the execution's id, workflow, state and trace id", async () => {
    const id = uniqueName("exec");
    const first = commitRequest(undefined, makeBatch(id, 1, 2));
    const firstOk = await commitOk(client(), first);
    const afterFirst = { ...first.snapshot!, lastEventSeq: firstOk.eventSeq };
    await commitOk(client(), commitRequest(afterFirst, makeBatch(id, 3, 2)));
    // Decided from the first snapshot by a replica that missed the second commit.
    const stale = commitRequest({ ...afterFirst, lastEventId: 4 }, makeBatch(id, 5, 2, "stale"));
    stale.snapshot = {
      ...stale.snapshot!,
      traceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    };
    expect((await commit(client(), stale)).result?.$case).toBe("conflict");
    expect(logLines.find((l) => l["msg"] === "commit conflict" && l["executionId"] === id)).toMatchObject({
      workflow: stale.snapshot.workflowName,
      state: stale.snapshot.active?.name,
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    });
    expect(stale.snapshot.workflowName).not.toBe("");
    expect(stale.snapshot.active?.name).toMatch(/step/);
  });
});

describe("state-manager commit batch (jetflow.state.commits)", () => {
  async function commitBatch(commits: Uint8Array[]): Promise<CommitBatchReply> {
    const reply = await client().request(subjects.stateCommitBatch, encode(CommitBatchRequest, { commits }), {
      timeout: 30_000,
    });
    return decode(CommitBatchReply, "CommitBatchReply", reply.data, "reply");
  }

  it("applies each commit as if sent alone and answers every one, in order", async () => {
    const [a, b, c] = [uniqueName("exec"), uniqueName("exec"), uniqueName("exec")];
    const before = stats();
    // c has moved on already: a commit decided from its first snapshot is a conflict.
    const cFirst = commitRequest(undefined, makeBatch(c, 1, 1));
    const cFirstOk = await commitOk(client(), cFirst);
    const cAfterFirst = { ...cFirst.snapshot!, lastEventSeq: cFirstOk.eventSeq };
    await commitOk(client(), commitRequest(cAfterFirst, makeBatch(c, 2, 1)));
    const requests = [
      commitRequest(undefined, makeBatch(a, 1, 2)),
      commitRequest(undefined, makeBatch(b, 1, 3)),
      commitRequest(cAfterFirst, makeBatch(c, 2, 2, "stale")),
    ];
    const answer = await commitBatch(requests.map((r) => encode(CommitRequest, r)));
    expect(answer.error).toBe("");
    expect(answer.replies.map((r) => r.result?.$case)).toEqual(["ok", "ok", "conflict"]);
    for (const [i, id] of [a, b].entries()) {
      const ok = answer.replies[i]?.result;
      if (ok?.$case !== "ok") throw new Error("not ok");
      expect(ok.value.duplicate).toBe(false);
      const stored = await storedSnapshot(kv, id);
      expect(stored?.snapshot).toEqual({ ...requests[i]!.snapshot!, lastEventSeq: ok.value.eventSeq });
      expect((await readExecutionHistory(jsm, id)).map((h) => h.seq)).toEqual([ok.value.eventSeq]);
    }
    expect((await readExecutionHistory(jsm, c)).map((h) => h.batch.events.length)).toEqual([1, 1]);
    expect(stats().commits - before.commits).toBe(2 + 2);

    // The same request again (a resend whose answer was lost): duplicates, nothing appended twice.
    const again = await commitBatch(requests.slice(0, 2).map((r) => encode(CommitRequest, r)));
    expect(again.replies.map((r) => r.result)).toEqual(
      answer.replies.slice(0, 2).map((r) => ({
        $case: "ok",
        value: { eventSeq: r.result?.$case === "ok" ? r.result.value.eventSeq : -1, duplicate: true },
      })),
    );
    expect((await readExecutionHistory(jsm, a)).length).toBe(1);
  });

  it("refuses and parks a commit it cannot read alone, and applies the others", async () => {
    const id = uniqueName("exec");
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
    const malformedBefore = stats().malformed;
    const good = commitRequest(undefined, makeBatch(id, 1, 1));
    const answer = await commitBatch([garbage, encode(CommitRequest, good)]);
    expect(answer.replies[0]?.result?.$case).toBe("error");
    expect(answer.replies[0]?.result?.value).toMatch(
      /^commit 1 of 2: cannot decode CommitRequest received on "jetflow.state.commits": /,
    );
    expect(answer.replies[1]?.result?.$case).toBe("ok");
    expect((await storedSnapshot(kv, id))?.snapshot.lastEventId).toBe(1);
    expect(stats().malformed).toBe(malformedBefore + 1);
    const subject = subjects.deadLetter("state-manager");
    const parked = await waitFor(async () => {
      const message = await jsm.streams.getMessage(streams.deadLetters, { last_by_subj: subject });
      const letter = message === null ? undefined : decode(DeadLetter, "DeadLetter", message.data, subject);
      return letter !== undefined && Buffer.from(letter.data).equals(Buffer.from(garbage))
        ? letter
        : undefined;
    }, 30_000);
    expect(parked.subject).toBe(subjects.stateCommitBatch);
    expect(parked.reason).toBe(answer.replies[0]?.result?.value);

    // A request that is not a batch at all fails as a whole.
    const whole = await client().request(subjects.stateCommitBatch, garbage, { timeout: 30_000 });
    const refused = decode(CommitBatchReply, "CommitBatchReply", whole.data, "reply");
    expect(refused.replies).toEqual([]);
    expect(refused.error).toMatch(/^cannot decode CommitBatchRequest received on "jetflow.state.commits": /);
  });
});

describe("state-manager load", () => {
  it("answers an unknown execution with no snapshot", async () => {
    expect(await load(client(), uniqueName("missing"))).toEqual({ snapshot: undefined, error: "" });
  });

  it("returns the stored snapshot when it is up to date", async () => {
    const id = uniqueName("exec");
    const last = await commitBatches(id, [1, 2]);
    expect(await load(client(), id)).toEqual({ snapshot: last, error: "" });
  });

  it("folds batches appended behind the snapshot's back and repairs the stored entry", async () => {
    const id = uniqueName("exec");
    const last = await commitBatches(id, [1, 3]);
    const seq3 = await appendBehindTheBack(makeBatch(id, 5, 2), last.lastEventSeq);
    await appendBehindTheBack(makeBatch(id, 7, 3), seq3);
    const repairsBefore = stats().repairs;

    const reply = await load(client(), id);
    const replayed = await replayExecution(jsm, id);
    expect(replayed?.lastEventId).toBe(9);
    expect(reply).toEqual({ snapshot: replayed, error: "" });
    expect((await storedSnapshot(kv, id))?.snapshot).toEqual(replayed);
    expect(stats().repairs).toBe(repairsBefore + 1);

    // The repaired snapshot is what the next commit builds on.
    const ok = await commitOk(client(), commitRequest(reply.snapshot, makeBatch(id, 10, 1)));
    expect((await storedSnapshot(kv, id))?.snapshot).toEqual(await replayExecution(jsm, id));
    expect((await storedSnapshot(kv, id))?.snapshot.lastEventSeq).toBe(ok.eventSeq);
  });

  it("rebuilds a snapshot missing from the bucket from the whole history", async () => {
    const id = uniqueName("exec");
    const seq1 = await appendBehindTheBack(makeBatch(id, 1, 2), 0);
    await appendBehindTheBack(makeBatch(id, 3, 2), seq1);

    const reply = await load(client(), id);
    const replayed = await replayExecution(jsm, id);
    expect(reply.snapshot?.lastEventId).toBe(4);
    expect(reply).toEqual({ snapshot: replayed, error: "" });
    expect((await storedSnapshot(kv, id))?.snapshot).toEqual(replayed);
  });

  it("replaces a stored snapshot that does not match the history with its replay", async () => {
    const id = uniqueName("exec");
    const last = await commitBatches(id, [2]);
    await appendBehindTheBack(makeBatch(id, 3, 1), last.lastEventSeq);
    // A snapshot that claims the wrong last event: the batch after it does not follow.
    await kv.put(id, encode(ExecutionSnapshot, { ...last, lastEventId: 7 }));

    const reply = await load(client(), id);
    expect(reply).toEqual({ snapshot: await replayExecution(jsm, id), error: "" });
    expect(reply.snapshot?.lastEventId).toBe(3);
  });
});

describe("state-manager with bad input", () => {
  async function lastDeadLetter(): Promise<DeadLetter | undefined> {
    const subject = subjects.deadLetter("state-manager");
    const message = await jsm.streams.getMessage(streams.deadLetters, { last_by_subj: subject });
    return message === null ? undefined : decode(DeadLetter, "DeadLetter", message.data, subject);
  }

  async function deadLetterCount(): Promise<number> {
    return (await jsm.streams.info(streams.deadLetters)).state.messages;
  }

  it("answers malformed requests with an error, parks them and keeps serving", async () => {
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
    const malformedBefore = stats().malformed;
    const parkedBefore = await deadLetterCount();

    const commitReply = await client().request(subjects.stateCommit, garbage, { timeout: 30_000 });
    const decodedCommit = decode(CommitReply, "CommitReply", commitReply.data, "reply");
    expect(decodedCommit.result?.$case).toBe("error");
    expect(decodedCommit.result?.value).toMatch(
      /^cannot decode CommitRequest received on "jetflow.state.commit": /,
    );

    const id = uniqueName("exec");
    const empty: CommitRequest = { ...commitRequest(undefined, makeBatch(id, 1, 1)) };
    empty.batch = { ...empty.batch!, events: [] };
    expect((await commit(client(), empty)).result).toEqual({
      $case: "error",
      value: `batch of execution "${id}" has no events`,
    });

    expect(await load(client(), "not.an.id")).toEqual({
      snapshot: undefined,
      error: 'invalid execution id "not.an.id"',
    });
    const loadReply = await client().request(subjects.stateLoad, garbage, { timeout: 30_000 });
    const decodedLoad = decode(LoadReply, "LoadReply", loadReply.data, "reply");
    expect(decodedLoad.error).toMatch(/^cannot decode LoadRequest received on "jetflow.state.load": /);
    expect(stats().malformed).toBe(malformedBefore + 4);

    await waitFor(async () => (await deadLetterCount()) === parkedBefore + 4, 30_000);
    const parked = await lastDeadLetter();
    expect(parked?.subject).toBe(subjects.stateLoad);
    expect(parked?.reason).toBe(decodedLoad.error);
    expect(Buffer.from(parked?.data ?? [])).toEqual(Buffer.from(garbage));

    // The service still works.
    await commitBatches(id, [1, 1]);
    expect((await load(client(), id)).snapshot?.lastEventId).toBe(2);
  });

  it("parks a commit sent without a reply subject and applies nothing", async () => {
    const id = uniqueName("exec");
    const request = encode(CommitRequest, commitRequest(undefined, makeBatch(id, 1, 1)));
    client().publish(subjects.stateCommit, request);
    const parked = await waitFor(async () => {
      const letter = await lastDeadLetter();
      return letter !== undefined && Buffer.from(letter.data).equals(Buffer.from(request))
        ? letter
        : undefined;
    }, 30_000);
    expect(parked).toMatchObject({
      service: "state-manager",
      subject: subjects.stateCommit,
      reason: "request without a reply subject",
    });
    expect(await readExecutionHistory(jsm, id)).toEqual([]);
  });
});

describe("replay", () => {
  it("equals the stored snapshot after a long sequence of commits", async () => {
    const id = uniqueName("exec");
    const sizes = Array.from({ length: 40 }, (_, i) => 1 + (i % 4));
    let folded: ExecutionSnapshot | undefined;
    let next = 1;
    for (const size of sizes) {
      const batch = makeBatch(id, next, size);
      const ok = await commitOk(client(), commitRequest(folded, batch));
      folded = evolve(folded, batch, ok.eventSeq);
      next += size;
    }
    const stored = await storedSnapshot(kv, id);
    expect(stored?.snapshot).toEqual(folded);
    expect(await replayExecution(jsm, id)).toEqual(stored?.snapshot);
  });
});

describe("state-manager with snapshot writes deferred (STATE_SNAPSHOT_EVERY_EVENTS)", () => {
  let deferringServer: NatsServer | undefined;
  let deferring: RunningStateManager | undefined;
  let dnc: NatsConnection;
  let dkv: KV;

  beforeAll(async () => {
    deferringServer = await startNatsServer();
    deferring = await startStateManager(deferringServer.url, { snapshotEveryEvents: 8 });
    dnc = await connectTo(deferringServer.url);
    dkv = await openInstances(dnc);
  });

  afterAll(async () => {
    await dnc?.close();
    await deferring?.stop();
    await deferringServer?.dispose();
  });

  /** Commits `batches` in order on the deferring state-manager; the last snapshot. */
  async function commitAll(batches: EventBatch[]): Promise<ExecutionSnapshot> {
    let snapshot: ExecutionSnapshot | undefined;
    for (const batch of batches) {
      const request = commitRequest(snapshot, batch);
      const ok = await commitOk(dnc, request);
      snapshot = { ...request.snapshot!, lastEventSeq: ok.eventSeq };
    }
    return snapshot!;
  }

  it("writes a running execution's snapshot once it lags 8 events; a load folds what it lacks", async () => {
    const id = uniqueName("exec");
    const before = deferring!.stateManager.stats().snapshotsDeferred;
    // Events 1 (a new execution: written), 2-3, 4-5, 6-7 (deferred), 8-10 (9 behind: written), 11-12.
    const sizes = [1, 2, 2, 2, 3, 2];
    let next = 1;
    const batches = sizes.map((n) => {
      const batch = makeBatch(id, next, n);
      next += n;
      return batch;
    });
    const last = await commitAll(batches);
    expect(deferring!.stateManager.stats().snapshotsDeferred - before).toBe(4);
    expect((await storedSnapshot(dkv, id))?.snapshot.lastEventId).toBe(10);
    // The history is the truth: a load answers the execution as of its last event...
    const loaded = await load(dnc, id);
    expect(loaded.snapshot).toEqual(last);
    // ...and stores what it folded.
    expect((await storedSnapshot(dkv, id))?.snapshot).toEqual(last);
  });

  /** The batches of a Map child of a made-up parent: events 1-3, 4-5, and its end at 6. */
  function childBatches(id: string): EventBatch[] {
    const first = makeBatch(id, 1, 3);
    const started = first.events[0]?.details;
    if (started?.$case !== "executionStarted") throw new Error("the first event starts the execution");
    started.value.parent = {
      executionId: uniqueName("parent"),
      stateName: "Each",
      index: 0,
      entryEventId: 5,
      redriveCount: 0,
    };
    const end: EventBatch = {
      executionId: id,
      parent: undefined,
      events: [
        {
          eventId: 6,
          executionId: id,
          timestamp: new Date(),
          stateName: "",
          details: { $case: "executionSucceeded", value: { outputJson: "{}" } },
        },
      ],
    };
    return [first, makeBatch(id, 4, 2), end];
  }

  it("leaves a Map child's first snapshot unwritten too, and writes the child when it ends", async () => {
    const id = `${uniqueName("exec")}_0`;
    const [first, second, end] = childBatches(id);
    const before = deferring!.stateManager.stats().snapshotsDeferred;
    const running = await commitAll([first!, second!]);
    expect(deferring!.stateManager.stats().snapshotsDeferred - before).toBe(2);
    // No entry at all while it runs (a top-level execution's first snapshot is always written).
    expect(await storedSnapshot(dkv, id)).toBeUndefined();
    const request = commitRequest(running, end!);
    const ok = await commitOk(dnc, request);
    const last = { ...request.snapshot!, lastEventSeq: ok.eventSeq };
    expect(last.status).toBe(ExecutionStatus.EXECUTION_STATUS_SUCCEEDED);
    expect((await storedSnapshot(dkv, id))?.snapshot).toEqual(last);
  });

  it("answers the load of a running child with nothing stored from its history, and stores it", async () => {
    const id = `${uniqueName("exec")}_0`;
    const [first, second] = childBatches(id);
    const running = await commitAll([first!, second!]);
    expect(await storedSnapshot(dkv, id)).toBeUndefined();
    expect((await load(dnc, id)).snapshot).toEqual(running);
    expect((await storedSnapshot(dkv, id))?.snapshot).toEqual(running);
  });

  it("always writes the snapshot of an execution that ended", async () => {
    const id = uniqueName("exec");
    const succeeded: EventBatch = {
      executionId: id,
      parent: undefined,
      events: [
        {
          eventId: 4,
          executionId: id,
          timestamp: new Date(),
          stateName: "",
          details: { $case: "executionSucceeded", value: { outputJson: "{}" } },
        },
      ],
    };
    const last = await commitAll([makeBatch(id, 1, 1), makeBatch(id, 2, 2), succeeded]);
    expect(last.status).toBe(ExecutionStatus.EXECUTION_STATUS_SUCCEEDED);
    expect((await storedSnapshot(dkv, id))?.snapshot).toEqual(last);
  });
});
