/**
 * Reads an execution's own history back: the outputs of a Parallel/Map round's children, which
 * travel in the parent's events instead of its snapshot (to keep the snapshot small).
 */
import { EventBatch, decode, streams, subjects } from "@jetflow/contracts";
import type { JetStreamClient } from "@nats-io/jetstream";

/**
 * Outputs of the succeeded children of the round started by event `startedEventId`, by index.
 * Reads every batch of the execution with an ordered consumer (no server-side state left behind).
 */
export async function readChildOutputs(
  js: JetStreamClient,
  executionId: string,
  startedEventId: number,
): Promise<Map<number, string>> {
  const subject = subjects.events(executionId);
  const consumer = await js.consumers.get(streams.events, { filter_subjects: [subject] });
  const outputs = new Map<number, string>();
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
    let received = 0;
    let pending = 0;
    for await (const msg of batch) {
      received++;
      pending = msg.info.pending;
      const decoded = decode(EventBatch, "EventBatch", msg.data, msg.subject);
      for (const event of decoded.events) {
        if (event.eventId <= startedEventId) continue;
        const d = event.details;
        if (d?.$case === "mapIterationSucceeded" || d?.$case === "parallelBranchSucceeded") {
          outputs.set(d.value.index, d.value.outputJson);
        }
      }
    }
    if (received === 0 || pending === 0) break;
  }
  return outputs;
}
