/**
 * WatchExecution: the history events of one execution from a given event id, live until the
 * execution ends. An ordered consumer (no server state left behind, resumed by nats.js after a
 * reconnect) reads jetflow.events.<id>, filtered by that one subject (nats-server 2.9 has no
 * filter arrays). A watch from past the last stored event starts at the next batch, so waiting for
 * the end of a long execution reads nothing old.
 */
import { once } from "node:events";
import { EventBatch, ExecutionStatus, decode, streams, subjects } from "@jetflow/contracts";
import { DEFAULT_IDLE_HEARTBEAT_MS, DEFAULT_PULL_EXPIRES_MS } from "@jetflow/contracts/internal";
import type { ServerWritableStream } from "@grpc/grpc-js";
import type { ExecutionSnapshot, WatchExecutionRequest, WatchExecutionResponse } from "@jetflow/contracts";
import { jetstream } from "@nats-io/jetstream";
import type { ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/** The gRPC server stream of a WatchExecution call. */
export type EventSink = ServerWritableStream<WatchExecutionRequest, WatchExecutionResponse>;

const TERMINAL = new Set(["executionSucceeded", "executionFailed", "executionTimedOut", "executionAborted"]);

/**
 * Streams the events of the execution `snapshot` describes, with id ≥ `fromEventId`, into `sink`,
 * and ends it after the terminal event. Resolves when the stream ended or the client cancelled.
 * @throws NATS errors and DecodeError; the caller maps them to a status
 */
export async function watchEvents(
  nc: NatsConnection,
  snapshot: ExecutionSnapshot,
  fromEventId: number,
  sink: EventSink,
): Promise<void> {
  const from = Math.max(1, fromEventId);
  const caughtUp = from > snapshot.lastEventId;
  if (caughtUp && snapshot.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) {
    sink.end();
    return;
  }
  const consumer = await jetstream(nc).consumers.get(streams.events, {
    filter_subjects: subjects.events(snapshot.executionId),
    // Past the last stored event only new batches matter; else read from the start and skip.
    ...(caughtUp ? { opt_start_seq: snapshot.lastEventSeq + 1 } : {}),
  });
  if (sink.cancelled) return;
  // The short pull expiry of the engine's own loops: a pull lost to a leader change is replaced
  // (and the ordered consumer recreated) within seconds, not after the 30 s default.
  const messages: ConsumerMessages = await consumer.consume({
    max_messages: 100,
    expires: DEFAULT_PULL_EXPIRES_MS,
    idle_heartbeat: DEFAULT_IDLE_HEARTBEAT_MS,
  });
  const stop = () => void messages.stop();
  sink.on("cancelled", stop);
  sink.on("close", stop);
  try {
    for await (const msg of messages) {
      if (sink.cancelled) return;
      const batch = decode(EventBatch, "EventBatch", msg.data, msg.subject);
      let ended = false;
      for (const event of batch.events) {
        if (event.details !== undefined && TERMINAL.has(event.details.$case)) ended = true;
        if (event.eventId < from) continue;
        if (!sink.write({ event })) {
          await Promise.race([once(sink, "drain"), once(sink, "close")]);
          if (sink.cancelled) return;
        }
      }
      if (ended) {
        sink.end();
        return;
      }
    }
  } finally {
    sink.removeListener("cancelled", stop);
    sink.removeListener("close", stop);
    await messages.close().catch(() => undefined);
  }
}
