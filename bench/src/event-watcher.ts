/**
 * Sees executions end without asking the engine: a core NATS subscription on the events subjects
 * receives every batch the state-manager appends (the server copies stream publishes to plain
 * subscribers), so measuring costs the engine no request. Only top-level executions are decoded;
 * Map and Parallel children (ids with `_`) are skipped by subject.
 */
import { EventBatch, decode, subjects } from "@jetflow/contracts";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { nowMs } from "./figures";

/** How an execution ended, as the watcher saw it. */
export interface SeenEnd {
  /** When the terminal batch arrived here, ms since the epoch. */
  seenMs: number;
  succeeded: boolean;
  /** The execution's output JSON when it succeeded. */
  outputJson?: string;
  /** The error and cause when it did not. */
  error?: string;
}

interface Tracked {
  end?: SeenEnd;
  scheduledMs: number[];
  waiters: ((end: SeenEnd) => void)[];
}

/** Watches the events of top-level executions; `close()` when done. */
export class EventWatcher {
  private readonly executions = new Map<string, Tracked>();
  private readonly prefix = subjects.events("");
  private readonly sub: Subscription;
  /** Batches this watcher could not decode (should stay 0). */
  undecodable = 0;

  constructor(nc: NatsConnection) {
    this.sub = nc.subscribe(subjects.allEvents, {
      callback: (err, msg) => {
        if (!err) this.onBatch(msg.subject, msg.data);
      },
    });
  }

  private entry(executionId: string): Tracked {
    let tracked = this.executions.get(executionId);
    if (!tracked) this.executions.set(executionId, (tracked = { scheduledMs: [], waiters: [] }));
    return tracked;
  }

  /** The largest event batch seen (children's included) since `resetLargest()`, in bytes. */
  largestBatchBytes = 0;

  /** Starts measuring the largest batch anew. */
  resetLargest(): void {
    this.largestBatchBytes = 0;
  }

  private onBatch(subject: string, data: Uint8Array): void {
    if (data.length > this.largestBatchBytes) this.largestBatchBytes = data.length;
    const executionId = subject.slice(this.prefix.length);
    if (executionId.includes("_")) return;
    const seenMs = nowMs();
    let batch: EventBatch;
    try {
      batch = decode(EventBatch, "EventBatch", data, subject);
    } catch {
      this.undecodable++;
      return;
    }
    const tracked = this.entry(executionId);
    for (const event of batch.events) {
      const details = event.details;
      if (!details) continue;
      let end: SeenEnd | undefined;
      switch (details.$case) {
        case "taskScheduled":
          tracked.scheduledMs.push(seenMs);
          break;
        case "executionSucceeded":
          end = { seenMs, succeeded: true, outputJson: details.value.outputJson };
          break;
        case "executionFailed":
          end = { seenMs, succeeded: false, error: `${details.value.error}: ${details.value.cause}` };
          break;
        case "executionTimedOut":
          end = { seenMs, succeeded: false, error: "timed out" };
          break;
        case "executionAborted":
          end = { seenMs, succeeded: false, error: "aborted" };
          break;
        default:
          break;
      }
      if (end && !tracked.end) {
        tracked.end = end;
        for (const wake of tracked.waiters.splice(0)) wake(end);
      }
    }
  }

  /** Resolves when `executionId` ends (at once if it already has). */
  ended(executionId: string): Promise<SeenEnd> {
    const tracked = this.entry(executionId);
    if (tracked.end) return Promise.resolve(tracked.end);
    return new Promise((resolve) => tracked.waiters.push(resolve));
  }

  /** When each task of `executionId` was seen scheduled, ms since the epoch. */
  scheduled(executionId: string): number[] {
    return [...(this.executions.get(executionId)?.scheduledMs ?? [])];
  }

  /** Forgets executions that are over, so a long run does not keep them all. */
  forget(executionIds: Iterable<string>): void {
    for (const id of executionIds) this.executions.delete(id);
  }

  /** Stops watching. */
  close(): void {
    this.sub.unsubscribe();
  }
}
