/**
 * Reads an execution's history back from JETFLOW_EVENTS: every EventBatch of its subject, in
 * order, with its stream sequence. Uses an ordered consumer, which leaves no state on the server.
 */
import { EventBatch, decode, streams, subjects } from "@jetflow/contracts";
import type { JetStreamClient } from "@nats-io/jetstream";

/** One stored transition. */
export interface StoredBatch {
  batch: EventBatch;
  /** Stream sequence of the batch. */
  seq: number;
}

/**
 * Yields the batches of `executionId` with a stream sequence greater than `afterSeq` (default 0:
 * all), oldest first, and stops at the last one stored when called.
 * @throws DecodeError when a stored batch is not a valid EventBatch
 */
export async function* readEventBatches(
  js: JetStreamClient,
  executionId: string,
  afterSeq = 0,
): AsyncGenerator<StoredBatch> {
  const subject = subjects.events(executionId);
  const consumer = await js.consumers.get(streams.events, {
    // One subject as a string: nats-server 2.9 knows filter_subject only (arrays need 2.10).
    filter_subjects: subject,
    ...(afterSeq > 0 ? { opt_start_seq: afterSeq + 1 } : {}),
  });
  for (;;) {
    const messages = await consumer.fetch({ max_messages: 500, expires: 2000 });
    let received = 0;
    let pending = 0;
    for await (const msg of messages) {
      received++;
      pending = msg.info.pending;
      yield { batch: decode(EventBatch, "EventBatch", msg.data, msg.subject), seq: msg.seq };
    }
    if (received === 0 || pending === 0) return;
  }
}
