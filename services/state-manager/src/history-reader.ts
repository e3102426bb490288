/**
 * Folds an execution's history (read with service-runtime's `readEventBatchesWith`, the reader
 * every service shares) into a snapshot: the load's repair and the replay tool.
 */
import type { ExecutionSnapshot } from "@jetflow/contracts";
import { evolve, replay } from "@jetflow/engine";
import { readEventBatchesWith } from "@jetflow/service-runtime";
import type { StoredBatch } from "@jetflow/service-runtime";
import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

export { lastBatchSeq } from "@jetflow/service-runtime";

/** Every batch of `executionId`, in order. */
export async function readExecutionHistory(
  jsm: JetStreamManager,
  executionId: string,
): Promise<StoredBatch[]> {
  const batches: StoredBatch[] = [];
  for await (const stored of readEventBatchesWith(jsm, executionId)) batches.push(stored);
  return batches;
}

/**
 * Folds the batches after `snapshot.lastEventSeq` (all of them when `snapshot` is undefined) up to
 * `toSeq` into the snapshot, and returns the result with how many batches it folded.
 * @throws EventSequenceError when a batch does not follow the snapshot
 */
export async function foldNewBatches(
  jsm: JetStreamManager,
  executionId: string,
  snapshot: ExecutionSnapshot | undefined,
  toSeq?: number,
): Promise<{ snapshot: ExecutionSnapshot | undefined; folded: number }> {
  let current = snapshot;
  let folded = 0;
  const fromSeq = (snapshot?.lastEventSeq ?? 0) + 1;
  for await (const { batch, seq } of readEventBatchesWith(jsm, executionId, { fromSeq, toSeq })) {
    current = evolve(current, batch, seq);
    folded += 1;
  }
  return { snapshot: current, folded };
}

/**
 * Rebuilds the snapshot of `executionId` from its whole history: what the stored snapshot must
 * equal. Undefined when the execution has no events.
 */
export async function replayExecution(
  jsm: JetStreamManager,
  executionId: string,
): Promise<ExecutionSnapshot | undefined> {
  return replay(await readExecutionHistory(jsm, executionId));
}

/** `replayExecution` for callers that hold only a connection. */
export async function replayExecutionFrom(
  nc: NatsConnection,
  executionId: string,
): Promise<ExecutionSnapshot | undefined> {
  return replayExecution(await jetstreamManager(nc), executionId);
}
