/**
 * The execution index behind ListExecutions: the KV bucket jetflow_executions holds one small
 * ExecutionSummary per top-level execution (Parallel branches and Map iterations are not listed).
 *
 * The index is written before each snapshot write (`withExecutionIndex` wraps the snapshot store),
 * so every path that stores a snapshot keeps the index up to date: a commit, its retry (a
 * duplicate append writes the snapshot again), and the repair of a lagging snapshot on load. A
 * process that dies between the append and the snapshot write leaves the snapshot lagging, and
 * the load that repairs it writes the index too. Both writes are idempotent and can never move an
 * entry backwards: a RUNNING summary is only ever created (never overwrites), a terminal one is
 * final and always the same, until a redrive (docs/redrive.md) makes the execution RUNNING again:
 * then its summary (redrive count > 0) replaces the entry.
 *
 * Each process remembers (LRU) which status it already indexed per execution, so a step of a
 * running execution costs no index write; a process that has not seen the execution before pays
 * one `create` that finds the entry there.
 */
import { snapshotLogFields } from "@jetflow/service-runtime";
import { ExecutionStatus, encode, ExecutionSummary } from "@jetflow/contracts";
import { toExecutionSummary } from "@jetflow/engine";
import type { ExecutionSnapshot } from "@jetflow/contracts";
import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";
import { isWrongLastSequence } from "./errors";
import type { SnapshotStore } from "./kv-store";
import type { LruCache } from "@jetflow/service-runtime";

/** What to write to the index for a snapshot, if anything. */
export type IndexWrite = { op: "create" | "put"; summary: ExecutionSummary };

/**
 * Decides the index write for `snapshot`, given the status this process last indexed for it
 * (undefined: unknown). Pure.
 */
export function indexWriteFor(
  snapshot: ExecutionSnapshot,
  indexed: ExecutionStatus | undefined,
): IndexWrite | undefined {
  if (snapshot.parent !== undefined) return undefined;
  switch (snapshot.status) {
    case ExecutionStatus.EXECUTION_STATUS_RUNNING:
      // A redriven execution is RUNNING again: its entry (final until then) is replaced.
      if (snapshot.redriveCount > 0) {
        return indexed === snapshot.status ? undefined : { op: "put", summary: toExecutionSummary(snapshot) };
      }
      return indexed === undefined ? { op: "create", summary: toExecutionSummary(snapshot) } : undefined;
    case ExecutionStatus.EXECUTION_STATUS_SUCCEEDED:
    case ExecutionStatus.EXECUTION_STATUS_FAILED:
    case ExecutionStatus.EXECUTION_STATUS_TIMED_OUT:
    case ExecutionStatus.EXECUTION_STATUS_ABORTED:
      return indexed === snapshot.status ? undefined : { op: "put", summary: toExecutionSummary(snapshot) };
    case ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED:
    case ExecutionStatus.UNRECOGNIZED:
      return undefined;
  }
}

/** Options of `createExecutionIndex`. */
export interface ExecutionIndexOptions {
  /** The opened jetflow_executions bucket. */
  kv: KV;
  /** Which status this process already indexed, per execution id. */
  cache: LruCache<string, ExecutionStatus>;
  log: Logger;
}

/** Writes index entries. */
export interface ExecutionIndex {
  /**
   * Brings the entry of `snapshot`'s execution up to its status. Idempotent.
   * @throws NATS errors as they come; the caller answers with an error and is retried
   */
  update(snapshot: ExecutionSnapshot): Promise<void>;
}

/** Creates the index writer over an opened jetflow_executions bucket. */
export function createExecutionIndex({ kv, cache, log }: ExecutionIndexOptions): ExecutionIndex {
  return {
    async update(snapshot) {
      const id = snapshot.executionId;
      const write = indexWriteFor(snapshot, cache.get(id));
      if (write === undefined) return;
      const bytes = encode(ExecutionSummary, write.summary);
      if (write.op === "put") {
        await kv.put(id, bytes);
      } else {
        try {
          await kv.create(id, bytes);
        } catch (err) {
          // Already indexed: by another replica, an earlier attempt, or already finished.
          if (!isWrongLastSequence(err)) throw err;
          log.debug(snapshotLogFields(snapshot), "execution already indexed");
        }
      }
      cache.set(id, snapshot.status);
    },
  };
}

/** The snapshot store with the index written before each snapshot write. */
export function withExecutionIndex(store: SnapshotStore, index: ExecutionIndex): SnapshotStore {
  return {
    read: (executionId) => store.read(executionId),
    mayDefer: (executionId, snapshot, began) => store.mayDefer(executionId, snapshot, began),
    async putMonotonic(executionId, snapshot, fallback) {
      await index.update(snapshot);
      return store.putMonotonic(executionId, snapshot, fallback);
    },
  };
}
