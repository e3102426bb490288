/**
 * Reads an execution's history back from JETFLOW_EVENTS: every EventBatch of its subject, in
 * order, with its stream sequence. One `STREAM.MSG.GET` with `next_by_subj` per batch, answered
 * by the stream leader (nats-server 2.9+): a read right after an append sees it, nothing is left
 * on the server afterwards, and a cluster that lost a follower still answers.
 */
import { EventBatch, decode, streams, subjects } from "@jetflow/contracts";
import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager, MsgRequest } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/** One stored transition. */
export interface StoredBatch {
  batch: EventBatch;
  /** Stream sequence of the batch. */
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

/** Which part of a history `readEventBatchesWith` reads. */
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
export async function* readEventBatchesWith(
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

/**
 * Yields the batches of `executionId` with a stream sequence greater than `afterSeq` (default 0:
 * all), oldest first.
 * @throws HistoryReadError when a stored message is not a batch of this execution
 */
export async function* readEventBatches(
  nc: NatsConnection,
  executionId: string,
  afterSeq = 0,
): AsyncGenerator<StoredBatch> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  yield* readEventBatchesWith(jsm, executionId, { fromSeq: afterSeq + 1 });
}

/** The stream sequence of the last batch of `executionId`; 0 when it has none. */
export async function lastBatchSeq(jsm: JetStreamManager, executionId: string): Promise<number> {
  const message = await jsm.streams.getMessage(streams.events, {
    last_by_subj: subjects.events(executionId),
  });
  return message?.seq ?? 0;
}
