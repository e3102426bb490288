import { EventBatch, ExecutionSnapshot } from "@jetflow/contracts";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager, PubAck, StoredMsg } from "@nats-io/jetstream";
import pino from "pino";
import { createCommitter } from "./commit";
import type { SnapshotStore } from "./kv-store";
import { emptyStats } from "./stats";

/**
 * A committer over a stream whose publish answers `ack` (or refuses with `ack` when it is an
 * error) and whose stored message, when asked, is `stored`; records what else it was asked.
 */
function committerAnswering(ack: Partial<PubAck> | Error, stored: Partial<StoredMsg> | null = null) {
  const asked = { getMessage: 0, putMonotonic: 0 };
  const js = {
    publish: () =>
      ack instanceof Error ? Promise.reject(ack) : Promise.resolve({ stream: "JETFLOW_EVENTS", ...ack }),
  } as unknown as JetStreamClient;
  const jsm = {
    streams: {
      getMessage: () => {
        asked.getMessage += 1;
        return Promise.resolve(stored);
      },
    },
  } as unknown as JetStreamManager;
  const store: SnapshotStore = {
    read: () => Promise.reject(new Error("not used")),
    mayDefer: () => false,
    putMonotonic: () => {
      asked.putMonotonic += 1;
      return Promise.resolve({ written: true, storedSeq: 0 });
    },
  } as unknown as SnapshotStore;
  const stats = emptyStats();
  const commit = createCommitter({ js, jsm, store, stats, log: pino({ level: "silent" }) });
  return { commit, asked, stats };
}

const commitOfExecution = {
  executionId: "e-1",
  batch: EventBatch.fromPartial({ executionId: "e-1" }),
  batchBytes: new Uint8Array([1, 2, 3]),
  firstEventId: 3,
  lastEventId: 4,
  expectedLastEventSeq: 10,
  snapshot: ExecutionSnapshot.fromPartial({ executionId: "e-1" }),
};

describe("createCommitter", () => {
  it("answers an error, not ok, when the batch is a duplicate still being stored (sequence 0)", async () => {
    const { commit, asked, stats } = committerAnswering({ seq: 0, duplicate: true });
    const reply = await commit(commitOfExecution);
    expect(reply.result?.$case).toBe("error");
    expect(reply.result?.$case === "error" && reply.result.value).toContain("still being stored");
    // Nothing was read at sequence 0 and no snapshot was stored with it.
    expect(asked).toEqual({ getMessage: 0, putMonotonic: 0 });
    expect(stats.failures).toBe(1);
  });

  it("stores the snapshot and answers ok for a fresh append", async () => {
    const { commit, asked } = committerAnswering({ seq: 42, duplicate: false });
    const reply = await commit(commitOfExecution);
    expect(reply.result).toEqual({ $case: "ok", value: { eventSeq: 42, duplicate: false } });
    expect(asked.putMonotonic).toBe(1);
  });

  // nats-server 2.11+ checks the expected sequence before the msg id: a retry of a stored commit
  // is refused as a wrong last sequence, and only the batch stored next tells it from a conflict.
  const wrongLastSequence = new JetStreamApiError({
    code: 400,
    err_code: JetStreamApiCodes.StreamWrongLastSequence,
    description: "wrong last sequence: 11",
  });

  it("answers a retry refused for its expected sequence as a duplicate when the same batch is stored next", async () => {
    const { commit, asked, stats } = committerAnswering(wrongLastSequence, {
      seq: 11,
      data: commitOfExecution.batchBytes,
    });
    const reply = await commit(commitOfExecution);
    expect(reply.result).toEqual({ $case: "ok", value: { eventSeq: 11, duplicate: true } });
    // The snapshot is stored again (the first attempt may have failed between the two writes).
    expect(asked).toEqual({ getMessage: 1, putMonotonic: 1 });
    expect(stats.duplicates).toBe(1);
  });

  it("answers a conflict when a different batch is stored after the expected sequence", async () => {
    const { commit, asked, stats } = committerAnswering(wrongLastSequence, {
      seq: 11,
      data: new Uint8Array([9, 9]),
    });
    const reply = await commit(commitOfExecution);
    expect(reply.result).toEqual({
      $case: "conflict",
      value: { message: 'execution "e-1" has moved past sequence 10: wrong last sequence: 11' },
    });
    expect(asked.putMonotonic).toBe(0);
    expect(stats.conflicts).toBe(1);
  });
});
