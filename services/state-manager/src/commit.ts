/**
 * Applies one valid commit: append the batch with the server's ordering and de-duplication checks,
 * then store the snapshot it produces. The answer is `ok` only when both are stored; a failed
 * snapshot write answers an error, and the caller's retry stores it (see below).
 */
import { buckets, streams, subjects } from "@jetflow/contracts";
import { explainJetStreamError } from "@jetflow/contracts/internal";
import { lazyChild, snapshotLogFields } from "@jetflow/service-runtime";
import type { CommitReply, ExecutionSnapshot } from "@jetflow/contracts";
import { eventBatchMsgId } from "@jetflow/engine";
import type { JetStreamClient, JetStreamManager, MsgRequest, PubAck } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { ValidCommit } from "@jetflow/engine";
import { errorMessage, isWrongLastSequence } from "./errors";
import type { SnapshotStore } from "./kv-store";
import type { StateManagerStats } from "./stats";

/** Dependencies of `createCommitter`. */
export interface CommitterOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  store: SnapshotStore;
  stats: StateManagerStats;
  log: Logger;
}

/** Applies a commit and returns the reply for it; never throws. */
export type Committer = (commit: ValidCommit) => Promise<CommitReply>;

/** Creates the commit procedure over the events stream and the snapshot store. */
export function createCommitter({ js, jsm, store, stats, log }: CommitterOptions): Committer {
  function conflict(message: string): CommitReply {
    stats.conflicts += 1;
    return { result: { $case: "conflict", value: { message } } };
  }

  /** `stream`: what the failed call addressed, named in the error when it has no leader. */
  function failure(
    executionId: string,
    elog: Logger,
    cause: unknown,
    what: string,
    stream: string,
  ): CommitReply {
    stats.failures += 1;
    const err = explainJetStreamError(cause, stream);
    elog.warn({ err }, "commit failed");
    return {
      result: {
        $case: "error",
        value: `cannot commit execution "${executionId}": ${what}: ${errorMessage(err)}`,
      },
    };
  }

  return async function commit(c: ValidCommit): Promise<CommitReply> {
    const id = c.executionId;
    // Lines about this commit name the execution, its workflow, state and trace; the child is
    // made only when a line is written, which the common path never does.
    const elog = lazyChild(log, () => ({ ...snapshotLogFields(c.snapshot) }));
    let ack: Pick<PubAck, "seq" | "duplicate">;
    // True once the batch stored at ack.seq is known to be this very batch.
    let sameBatchStored = false;
    try {
      ack = await js.publish(subjects.events(id), c.batchBytes, {
        msgID: eventBatchMsgId(id, c.firstEventId),
        expect: { lastSubjectSequence: c.expectedLastEventSeq },
      });
    } catch (err) {
      if (!isWrongLastSequence(err)) {
        return failure(id, elog(), err, "cannot append the batch", streams.events);
      }
      // nats-server 2.11+ checks the expected sequence before the msg id, so the retry of a commit
      // that was stored (its answer lost) is refused here rather than answered as a duplicate: the
      // batch stored right after the expected sequence tells that retry from a real conflict.
      let next: { seq: number; data: Uint8Array } | null;
      try {
        next = await nextBatchAfter(id, c.expectedLastEventSeq);
      } catch (readErr) {
        return failure(id, elog(), readErr, "cannot read the batch appended before", streams.events);
      }
      if (next === null || !sameBytes(next.data, c.batchBytes)) {
        elog().debug({ expectedLastEventSeq: c.expectedLastEventSeq }, "commit conflict");
        return conflict(
          `execution "${id}" has moved past sequence ${c.expectedLastEventSeq}: ${errorMessage(err)}`,
        );
      }
      ack = { seq: next.seq, duplicate: true };
      sameBatchStored = true;
    }
    if (ack.duplicate && ack.seq === 0) {
      // A replicated stream answers a copy of a batch it is still storing (proposed, not yet
      // applied) as a duplicate at sequence 0 (nats-server 2.10): seen after a leader change, when
      // the first attempt timed out. Where it lands is unknown yet, so nothing is answered ok; the
      // caller's retry gets the real sequence.
      return failure(
        id,
        elog(),
        new Error("the same batch is still being stored"),
        "cannot append the batch",
        streams.events,
      );
    }
    if (ack.duplicate && !sameBatchStored) {
      // nats-server 2.10 checks the msg id before the expected sequence, so a different batch decided
      // from the same snapshot (another orchestrator replica) also comes back as a duplicate: only
      // the same bytes make it a retry of this commit.
      try {
        const stored = await jsm.streams.getMessage(streams.events, { seq: ack.seq });
        if (stored === null || !sameBytes(stored.data, c.batchBytes)) {
          elog().debug({ seq: ack.seq }, "commit conflict on a different batch");
          return conflict(
            `execution "${id}" already has a different batch starting at event ${c.firstEventId}, at sequence ${ack.seq}`,
          );
        }
      } catch (err) {
        return failure(id, elog(), err, "cannot read the batch appended before", streams.events);
      }
    }
    if (ack.duplicate) stats.duplicates += 1;
    const snapshot: ExecutionSnapshot = { ...c.snapshot, lastEventSeq: ack.seq };
    // A first batch that was not a duplicate began the execution here: its entry cannot exist yet.
    const began = c.firstEventId === 1 && !ack.duplicate;
    if (store.mayDefer(id, snapshot, began)) {
      // A running execution's snapshot close enough behind: the batch is the truth, and a load
      // folds it (docs/architecture.md, "The snapshot is a projection").
      stats.snapshotsDeferred += 1;
    } else {
      try {
        const fallback = began ? "absent" : "unknown";
        const outcome = await store.putMonotonic(id, snapshot, { kind: fallback });
        if (!outcome.written) {
          stats.snapshotsKept += 1;
          elog().debug({ seq: ack.seq, storedSeq: outcome.storedSeq }, "newer snapshot kept");
        }
      } catch (err) {
        // The batch is durable but the stored snapshot lags it. Answer with an error so the caller
        // retries: its retry is either a duplicate append (same bytes) that writes the snapshot
        // again, or a conflict whose reload folds the batch and repairs the entry. Answering ok here
        // would leave a finished execution's snapshot behind its history for good.
        stats.snapshotWriteFailures += 1;
        const snapshotStream = `KV_${buckets.instances}`;
        elog().warn(
          { err: explainJetStreamError(err, snapshotStream), seq: ack.seq },
          "batch appended but snapshot not stored",
        );
        return failure(id, elog(), err, "batch appended but the snapshot was not stored", snapshotStream);
      }
    }
    stats.commits += 1;
    return { result: { $case: "ok", value: { eventSeq: ack.seq, duplicate: ack.duplicate } } };
  };

  /** The first batch of the execution stored after stream sequence `afterSeq`, if any. */
  async function nextBatchAfter(
    executionId: string,
    afterSeq: number,
  ): Promise<{ seq: number; data: Uint8Array } | null> {
    // STREAM.MSG.GET answers next_by_subj (nats-server 2.9+); nats.js types it only for direct
    // get, which may read a lagging replica.
    const request = {
      seq: afterSeq + 1,
      next_by_subj: subjects.events(executionId),
    } as unknown as MsgRequest;
    return jsm.streams.getMessage(streams.events, request);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
