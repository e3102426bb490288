/**
 * Worker results read straight from JETFLOW_RESULTS. Each becomes a TaskOutcome command in its
 * execution's queue, beside the commands of JETFLOW_COMMANDS, and is acknowledged only once the
 * transition that applied it is committed, exactly as a command is. Until December 2026 the
 * result-ingestor re-published every result as a command: a stream write, an ack, a consumer and
 * a process hop per step that only re-wrapped the message (F1 in docs/performance.md).
 */
import { activityFromSubject } from "@jetflow/contracts";
import type { Command } from "@jetflow/contracts";
import { resultNamesFromHeaders, startTraceSpan, traceParentHeader } from "@jetflow/contracts/internal";
import { ingestBytes } from "@jetflow/engine";
import type { IngestLimits } from "@jetflow/engine";
import { executionLogFields } from "@jetflow/service-runtime";
import type { Logger } from "@jetflow/service-runtime";
import type { JsMsg } from "@nats-io/jetstream";

/** How long a heartbeat result that could not be recorded waits before it is offered again. */
const RETRY_DELAY_MS = 1_000;

/** Counters of the results taken from the stream. */
export interface ResultCounters {
  /** Results received, redeliveries included. */
  results: number;
  /** Heartbeats recorded from the results stream. */
  heartbeats: number;
}

/** What {@link resultReceiver} needs from the orchestrator. */
export interface ResultReceiverOptions {
  limits: IngestLimits;
  log: Logger;
  /** The clock, for a message without a stream timestamp. */
  now: () => Date;
  counters: ResultCounters;
  /**
   * Queues an outcome for its execution's next transition. `settled` is called once, when the
   * message is acked, handed back or parked, with a reason unless it was acked.
   */
  enqueue(msg: JsMsg, command: Command, settled: (problem?: string) => void): void;
  /** Parks a message on the orchestrator's dead-letter subject (and acks it). */
  park(msg: JsMsg, err: Error): Promise<void>;
  /** Records a heartbeat a worker sent as a result. */
  recordHeartbeat(taskToken: string): Promise<void>;
}

/** The handler of the results consumer: validates each result and routes it. */
export function resultReceiver(o: ResultReceiverOptions): (msg: JsMsg) => void {
  return (msg) => {
    o.counters.results++;
    // The stream's own timestamp: the same on every redelivery, so the deadline check is too.
    const storedMs = Math.floor(msg.info.timestampNanos / 1_000_000);
    const ingested = ingestBytes(
      msg.data,
      msg.subject,
      o.limits,
      storedMs > 0 ? new Date(storedMs) : o.now(),
    );
    switch (ingested.kind) {
      case "outcome": {
        // A result from a traced task attempt continues its trace (the worker's span is the parent).
        const parent = traceParentHeader(msg.headers);
        const span =
          parent === undefined
            ? undefined
            : startTraceSpan(`result ${activityFromSubject(msg.subject) ?? ""}`, {
                parent,
                kind: "consumer",
              });
        if (o.log.isLevelEnabled("debug")) {
          // The SDKs name the workflow and state in headers, which a worker written from the
          // .proto files may leave out. Any worker can put anything there, so they go into log
          // lines and nowhere else: never trusted for a decision.
          const fields = executionLogFields({
            executionId: ingested.executionId,
            ...resultNamesFromHeaders(msg.headers),
            traceParent: parent,
          });
          o.log.debug({ ...fields, activity: activityFromSubject(msg.subject) }, "task result received");
        }
        o.enqueue(msg, ingested.command, (problem) => span?.end(problem));
        return;
      }
      case "heartbeat":
        o.recordHeartbeat(ingested.taskToken).then(
          () => {
            o.counters.heartbeats++;
            msg.ack();
          },
          (err: unknown) => {
            o.log.warn({ err, subject: msg.subject }, "heartbeat result not recorded, retrying later");
            msg.nak(RETRY_DELAY_MS);
          },
        );
        return;
      case "rejected":
        void o.park(msg, new Error(ingested.reason));
        return;
    }
  };
}
