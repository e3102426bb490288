/**
 * Reads an execution's history back from JETFLOW_EVENTS: every EventBatch of its subject, in
 * order, with its stream sequence. Uses an ordered consumer, which leaves no state on the server.
 */
import { EventBatch, decode, streams, subjects } from "@jetflow/contracts";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/** One stored transition. */
export interface StoredBatch {
  batch: EventBatch;
  /** Stream sequence of the batch. */
  seq: number;
}

/**
 * Yields the batches of `executionId` with a stream sequence greater than `afterSeq` (default 0:
 * all), oldest first, up to the last one stored when called.
 * @throws DecodeError when a stored batch is not a valid EventBatch
 */
export async function* readEventBatches(
  nc: NatsConnection,
  executionId: string,
  afterSeq = 0,
): AsyncGenerator<StoredBatch> {
  const subject = subjects.events(executionId);
  // Where the history ends now: a fetch would otherwise wait for its expiry after the last batch.
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const js = jetstream(nc);
  const last = await jsm.streams.getMessage(streams.events, { last_by_subj: subject });
  if (!last || last.seq <= afterSeq) return;
  const consumer = await js.consumers.get(streams.events, {
    // One subject as a string: nats-server 2.9 knows filter_subject only (arrays need 2.10).
    filter_subjects: subject,
    ...(afterSeq > 0 ? { opt_start_seq: afterSeq + 1 } : {}),
  });
  for (;;) {
    const messages = await consumer.fetch({ max_messages: 500, expires: 5000 });
    let received = 0;
    for await (const msg of messages) {
      received++;
      yield { batch: decode(EventBatch, "EventBatch", msg.data, msg.subject), seq: msg.seq };
      // Leaving the loop stops the fetch (the iterator's return), which the ordered consumer ends.
      if (msg.seq >= last.seq) return;
    }
    if (received === 0) return;
  }
}
