/**
 * WatchExecution: the history events of one execution from a given event id, live until the
 * execution ends. An ordered consumer (no server state left behind, resumed by nats.js after a
 * reconnect) reads jetflow.events.<id>, filtered by that one subject (nats-server 2.9 has no
 * filter arrays). A watch from past the last stored event starts at the next batch, so waiting for
 * the end of a long execution reads nothing old.
 *
 * A Parallel branch or Map iteration is announced in its parent's history (with its child
 * execution id) before the child itself is created, so a client following the parent asks for a
 * child that may not exist yet. While its parent runs, such a watch waits for the child's first
 * events instead of answering NOT_FOUND.
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

/** `<parent>_<entry event id>_<index>`: the form of a child execution id (see `childExecutionId` in @jetflow/engine). */
const CHILD_ID = /^(.+)_([1-9]\d*)_(\d+)$/;

/** The parent execution id of a Parallel branch or Map iteration id, or undefined for other ids. */
export function parentOfChildId(executionId: string): string | undefined {
  return CHILD_ID.exec(executionId)?.[1];
}

/**
 * What a watch starts from: the execution's snapshot, or `{ announced: true }` for a child that
 * its running parent announced but whose first events are not stored yet.
 */
export type WatchTarget = { snapshot: ExecutionSnapshot } | { announced: true; executionId: string };

/**
 * Resolves what to watch for `executionId`: its snapshot when it exists, else, when the id is a
 * child's and its parent is running, an announced child; else rethrows `notFound`.
 * @throws the error `load` or `describe` threw
 */
export async function resolveWatchTarget(
  executionId: string,
  describe: (id: string) => Promise<ExecutionSnapshot>,
  load: (id: string) => Promise<ExecutionSnapshot | undefined>,
  isNotFound: (err: unknown) => boolean,
): Promise<WatchTarget> {
  try {
    return { snapshot: await describe(executionId) };
  } catch (err) {
    if (!isNotFound(err)) throw err;
    const parentId = parentOfChildId(executionId);
    const parent = parentId === undefined ? undefined : await load(parentId);
    // A parent that ended creates no more children: the id names nothing that will exist.
    if (parent?.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) throw err;
    return { announced: true, executionId };
  }
}

/**
 * Streams the events of the execution `target` names, with id ≥ `fromEventId`, into `sink`, and
 * ends it after the terminal event (the last one: a redriven execution has ended before). Resolves when the stream ended or the client cancelled.
 * @throws NATS errors and DecodeError; the caller maps them to a status
 */
export async function watchEvents(
  nc: NatsConnection,
  target: WatchTarget,
  fromEventId: number,
  sink: EventSink,
): Promise<void> {
  const from = Math.max(1, fromEventId);
  let startSeq: number | undefined;
  let executionId: string;
  if ("snapshot" in target) {
    const snapshot = target.snapshot;
    executionId = snapshot.executionId;
    const caughtUp = from > snapshot.lastEventId;
    if (caughtUp && snapshot.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) {
      sink.end();
      return;
    }
    // Past the last stored event only new batches matter; else read from the start and skip.
    if (caughtUp) startSeq = snapshot.lastEventSeq + 1;
  } else {
    // Nothing stored yet: the subject's first batch, whenever it comes, is the child's first.
    executionId = target.executionId;
  }
  const consumer = await jetstream(nc).consumers.get(streams.events, {
    filter_subjects: subjects.events(executionId),
    ...(startSeq !== undefined ? { opt_start_seq: startSeq } : {}),
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
        // A redriven execution runs on after its earlier end (docs/redrive.md).
        if (event.details?.$case === "executionRedriven") ended = false;
        if (event.eventId < from) continue;
        if (!sink.write({ event })) {
          await Promise.race([once(sink, "drain"), once(sink, "close")]);
          if (sink.cancelled) return;
        }
      }
      // An end followed by stored batches was redriven: read on.
      if (ended && msg.info.pending === 0) {
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
