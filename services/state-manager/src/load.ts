/**
 * Answers a load: the stored snapshot, brought up to date with any batches appended after it (a
 * process died between the append and the snapshot write), and the KV entry repaired.
 */
import type { ExecutionSnapshot, LoadReply } from "@jetflow/contracts";
import { EventSequenceError } from "@jetflow/engine";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { snapshotLogFields } from "@jetflow/service-runtime";
import { errorMessage } from "./errors";
import { foldNewBatches, lastBatchSeq } from "./history-reader";
import type { SnapshotStore } from "./kv-store";
import type { StateManagerStats } from "./stats";

/** Dependencies of `createLoader`. */
export interface LoaderOptions {
  jsm: JetStreamManager;
  store: SnapshotStore;
  stats: StateManagerStats;
  log: Logger;
}

/** Loads an execution's up-to-date snapshot and returns the reply; never throws. */
export type Loader = (executionId: string) => Promise<LoadReply>;

/** Creates the load procedure over the events stream and the snapshot store. */
export function createLoader({ jsm, store, stats, log }: LoaderOptions): Loader {
  return async function load(executionId: string): Promise<LoadReply> {
    try {
      const read = await store.read(executionId);
      const lastSeq = await lastBatchSeq(jsm, executionId);
      const stored = read.snapshot;
      stats.loads += 1;
      if (lastSeq === 0 || (stored !== undefined && stored.lastEventSeq >= lastSeq)) {
        return { snapshot: stored, error: "" };
      }
      const snapshot = await catchUp(executionId, stored, lastSeq);
      if (snapshot === undefined) return { snapshot: stored, error: "" };
      stats.repairs += 1;
      // Usually a load racing a commit between its append and its snapshot write; after a crash,
      // the repair of a snapshot that would otherwise stay behind.
      const elog = log.child(snapshotLogFields(snapshot));
      elog.debug(
        { storedSeq: stored?.lastEventSeq ?? 0, lastSeq: snapshot.lastEventSeq },
        "lagging snapshot repaired from the history",
      );
      try {
        await store.putMonotonic(executionId, snapshot, read.known);
      } catch (err) {
        elog.warn({ err }, "repaired snapshot not stored");
      }
      return { snapshot, error: "" };
    } catch (err) {
      stats.failures += 1;
      log.warn({ err, executionId }, "load failed");
      return { snapshot: undefined, error: `cannot load execution "${executionId}": ${errorMessage(err)}` };
    }
  };

  async function catchUp(
    executionId: string,
    stored: ExecutionSnapshot | undefined,
    lastSeq: number,
  ): Promise<ExecutionSnapshot | undefined> {
    try {
      return (await foldNewBatches(jsm, executionId, stored, lastSeq)).snapshot;
    } catch (err) {
      if (!(err instanceof EventSequenceError) || stored === undefined) throw err;
      // The stored snapshot does not fit the history after it: trust the history, replay it all.
      log
        .child(snapshotLogFields(stored))
        .warn({ err }, "stored snapshot does not match the history; replaying it");
      return (await foldNewBatches(jsm, executionId, undefined, lastSeq)).snapshot;
    }
  }
}
