/**
 * Reads an execution's history (its EventBatches on jetflow.events.<executionId>) from
 * JETFLOW_EVENTS and folds it into a snapshot. It needs only a JetStream manager, so it can move
 * to a shared package as is: the api-gateway (GetExecutionHistory), the orchestrator (child
 * outputs) and the tests read histories the same way.
 *
 * Reads go through the stream leader (`STREAM.MSG.GET`, `next_by_subj`, nats-server 2.9+), not
 * direct get, so a read right after an append sees it.
 */
import { EventBatch, decode, streams, subjects } from "@jetflow/contracts";
import type { ExecutionSnapshot } from "@jetflow/contracts";
import { evolve, replay } from "@jetflow/execution-model";
import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager, MsgRequest } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/** One batch of a history with its stream sequence. */
export interface StoredBatch {
  batch: EventBatch;
  seq: number;
}

/** Thrown when a message on an execution's event subject is not one of its batches. */
export class HistoryReadError extends Error {
  override readonly name = "HistoryReadError";
  constructor(
    readonly executionId: string,
    readonly seq: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot read the history of execution "${executionId}" at sequence ${seq}: ${message}`, options);
  }
}

/** Options of `readEventBatches`. */
export interface ReadBatchesOptions {
  /** First stream sequence to look at. Default 1. */
  fromSeq?: number;
  /** Last stream sequence to return; later batches are left out. Default: up to the end. */
  toSeq?: number;
}

/**
 * Yields the batches of `executionId` in stream order, one request per batch.
 * @throws HistoryReadError when a stored message is not a batch of this execution
 */
export async function* readEventBatches(
  jsm: JetStreamManager,
  executionId: string,
  options: ReadBatchesOptions = {},
): AsyncGenerator<StoredBatch> {
  const subject = subjects.events(executionId);
  const toSeq = options.toSeq ?? Number.POSITIVE_INFINITY;
  let seq = Math.max(options.fromSeq ?? 1, 1);
  while (seq <= toSeq) {
    // STREAM.MSG.GET has answered next_by_subj since nats-server 2.9; nats.js types it only for
    // direct get, which may read a lagging replica.
    const request = { seq, next_by_subj: subject } as unknown as MsgRequest;
    const message = await jsm.streams.getMessage(streams.events, request);
    if (message === null || message.seq > toSeq) return;
    let batch: EventBatch;
    try {
      batch = decode(EventBatch, "EventBatch", message.data, subject);
    } catch (err) {
      throw new HistoryReadError(executionId, message.seq, "not an EventBatch", { cause: err });
    }
    if (batch.executionId !== executionId) {
      throw new HistoryReadError(executionId, message.seq, `batch of execution "${batch.executionId}"`);
    }
    yield { batch, seq: message.seq };
    seq = message.seq + 1;
  }
}

/** Every batch of `executionId`, in order. */
export async function readExecutionHistory(
  jsm: JetStreamManager,
  executionId: string,
): Promise<StoredBatch[]> {
  const batches: StoredBatch[] = [];
  for await (const stored of readEventBatches(jsm, executionId)) batches.push(stored);
  return batches;
}

/** The stream sequence of the last batch of `executionId`; 0 when it has none. */
export async function lastBatchSeq(jsm: JetStreamManager, executionId: string): Promise<number> {
  const message = await jsm.streams.getMessage(streams.events, {
    last_by_subj: subjects.events(executionId),
  });
  return message?.seq ?? 0;
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
  for await (const { batch, seq } of readEventBatches(jsm, executionId, { fromSeq, toSeq })) {
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
