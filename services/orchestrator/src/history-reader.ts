/**
 * Reads an execution's own history back: the outputs of a Parallel/Map round's children, which
 * travel in the parent's events instead of its snapshot (to keep the snapshot small).
 */
import { readEventBatches } from "@jetflow/service-runtime";
import type { NatsConnection } from "@nats-io/transport-node";

/** Outputs of the succeeded children of the round started by event `startedEventId`, by index. */
export async function readChildOutputs(
  nc: NatsConnection,
  executionId: string,
  startedEventId: number,
): Promise<Map<number, string>> {
  const outputs = new Map<number, string>();
  for await (const { batch } of readEventBatches(nc, executionId)) {
    for (const event of batch.events) {
      if (event.eventId <= startedEventId) continue;
      const d = event.details;
      if (d?.$case === "mapIterationSucceeded" || d?.$case === "parallelBranchSucceeded") {
        outputs.set(d.value.index, d.value.outputJson);
      }
    }
  }
  return outputs;
}
