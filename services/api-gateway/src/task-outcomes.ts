/**
 * Each activity's task attempts that ended recently, for GetEngineStats: read from the events
 * stream (every execution's history, child executions' included), so the numbers are the same
 * whichever gateway replica answers and survive restarts. A task's end event names only its
 * token; its activity is in the TaskScheduled event the token points at, found in the same read
 * or, for an attempt scheduled before it, in its execution's history.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { EventBatch, decode, streams, subjects } from "@jetflow/contracts";
import { parseTaskToken } from "@jetflow/engine";
import { readEventBatchesWith } from "@jetflow/service-runtime";

/** The most transitions one call reads: past this, the counts cover the newest ones only. */
export const MAX_SCANNED_BATCHES = 50_000;
/** The most executions whose history is read to find the activity of an attempt scheduled before the scan. */
export const MAX_HISTORY_LOOKUPS = 100;
/** How long the scan may take before the call fails. */
const SCAN_TIMEOUT_MS = 30_000;

/** An activity's task attempts that ended: succeeded, and failed or timed out. */
export interface ActivityOutcomes {
  succeeded: number;
  failed: number;
}

/** What one pass over a run of batches found: attempts scheduled, and attempts that ended. */
export interface TaskEvents {
  /** Activity of each attempt scheduled, by task token. */
  scheduled: Map<string, string>;
  /** Each attempt that ended at or after the window's start, in order. */
  ended: { token: string; failed: boolean }[];
}

/** An empty {@link TaskEvents}, to fill with {@link collectTaskEvents}. */
export function emptyTaskEvents(): TaskEvents {
  return { scheduled: new Map(), ended: [] };
}

/**
 * Adds a batch's TaskScheduled events and its task ends at or after `sinceMs` (by the event's
 * time) to `into`. Succeeded counts as success, failed and timed out as failure; a cancelled
 * attempt (its execution stopped) is neither.
 */
export function collectTaskEvents(batch: EventBatch, sinceMs: number, into: TaskEvents): void {
  for (const event of batch.events) {
    const details = event.details;
    if (details === undefined) continue;
    if (details.$case === "taskScheduled") {
      into.scheduled.set(details.value.taskToken, details.value.activity);
      continue;
    }
    if (
      details.$case !== "taskSucceeded" &&
      details.$case !== "taskFailed" &&
      details.$case !== "taskTimedOut"
    )
      continue;
    if ((event.timestamp?.getTime() ?? 0) < sinceMs) continue;
    into.ended.push({ token: details.value.taskToken, failed: details.$case !== "taskSucceeded" });
  }
}

/** The tokens of ended attempts whose TaskScheduled `events` has not seen, by execution. */
export function unresolvedTokens(events: TaskEvents): Map<string, Set<number>> {
  const missing = new Map<string, Set<number>>();
  for (const { token } of events.ended) {
    if (events.scheduled.has(token)) continue;
    let parsed;
    try {
      parsed = parseTaskToken(token);
    } catch {
      continue;
    }
    let ids = missing.get(parsed.executionId);
    if (!ids) missing.set(parsed.executionId, (ids = new Set()));
    ids.add(parsed.scheduledEventId);
  }
  return missing;
}

/** Counts the ended attempts by activity; an attempt whose activity is unknown is left out. */
export function tallyByActivity(events: TaskEvents): Map<string, ActivityOutcomes> {
  const byActivity = new Map<string, ActivityOutcomes>();
  for (const { token, failed } of events.ended) {
    const activity = events.scheduled.get(token);
    if (activity === undefined) continue;
    let counts = byActivity.get(activity);
    if (!counts) byActivity.set(activity, (counts = { succeeded: 0, failed: 0 }));
    if (failed) counts.failed += 1;
    else counts.succeeded += 1;
  }
  return byActivity;
}

/** What {@link readTaskOutcomes} found: the counts by activity, and since when they count. */
export interface TaskOutcomes {
  byActivity: Map<string, ActivityOutcomes>;
  /** The window's start, or the time of the first batch read when the window held too many. */
  since: Date;
}

/**
 * Reads the task attempts that ended since `since` from the events stream, by activity: the
 * newest {@link MAX_SCANNED_BATCHES} transitions at most, through an ordered consumer (no state
 * left on the server), then up to {@link MAX_HISTORY_LOOKUPS} executions' histories for the
 * activities of attempts scheduled before what was read (further ones are not counted).
 *
 * @throws Error when the read takes longer than 30 s
 */
export async function readTaskOutcomes(
  nc: NatsConnection,
  since: Date,
  options: { maxBatches?: number } = {},
): Promise<TaskOutcomes> {
  const maxBatches = options.maxBatches ?? MAX_SCANNED_BATCHES;
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const events = emptyTaskEvents();
  let lastSeq: number;
  let lastMs: number;
  try {
    const info = await jsm.streams.info(streams.events);
    lastSeq = info.state.last_seq;
    lastMs = Date.parse(info.state.last_ts);
  } catch (err) {
    if (err instanceof Error && /stream not found/i.test(err.message))
      return { byActivity: new Map(), since };
    throw err;
  }
  // Nothing stored since the window's start: an ordered consumer would wait for the next batch.
  if (lastSeq === 0 || !(lastMs >= since.getTime())) return { byActivity: new Map(), since };
  let scan = await scanFrom(
    nc,
    { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() },
    lastSeq,
    maxBatches,
    since.getTime(),
    events,
  );
  let counted = since;
  if (scan.tooMany) {
    // Too much history in the window (seen at the first batch, before counting anything): read
    // the newest transitions only, and say from when.
    const from = lastSeq - maxBatches + 1;
    scan = await scanFrom(
      nc,
      { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from },
      lastSeq,
      maxBatches,
      since.getTime(),
      events,
    );
    counted = scan.firstTime ?? since;
  }
  await resolveFromHistories(jsm, events, scan.firstSeq);
  return { byActivity: tallyByActivity(events), since: counted };
}

interface Scan {
  tooMany: boolean;
  firstSeq: number;
  firstTime: Date | undefined;
}

/** Reads batches from where `start` says up to `lastSeq`; stops at once when more than `maxBatches` are left. */
async function scanFrom(
  nc: NatsConnection,
  start: { deliver_policy: DeliverPolicy; opt_start_time?: string; opt_start_seq?: number },
  lastSeq: number,
  maxBatches: number,
  sinceMs: number,
  events: TaskEvents,
): Promise<Scan> {
  const consumer = await jetstream(nc).consumers.get(streams.events, {
    filter_subjects: subjects.allEvents,
    ...start,
  });
  const messages = await consumer.consume({ max_messages: 1_000, expires: 5_000 });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void messages.stop();
  }, SCAN_TIMEOUT_MS);
  const scan: Scan = { tooMany: false, firstSeq: 0, firstTime: undefined };
  try {
    for await (const msg of messages) {
      if (scan.firstSeq === 0) {
        scan.firstSeq = msg.seq;
        scan.firstTime = new Date(Math.floor(msg.info.timestampNanos / 1_000_000));
        if (lastSeq - msg.seq + 1 > maxBatches) {
          scan.tooMany = true;
          break;
        }
      }
      try {
        collectTaskEvents(decode(EventBatch, "EventBatch", msg.data, msg.subject), sinceMs, events);
      } catch {
        // Not a batch: the state-manager parks what it cannot read; nothing to count here.
      }
      // Done at the last batch there was when the call began (or at the stream's end, should
      // that batch have been removed since): later ones belong to the next call.
      if (msg.seq >= lastSeq || msg.info.pending === 0) break;
    }
  } finally {
    clearTimeout(timer);
    await messages.close().catch(() => undefined);
  }
  if (timedOut) throw new Error(`reading the task outcomes took longer than ${SCAN_TIMEOUT_MS / 1000} s`);
  return scan;
}

/** Finds the activities of attempts scheduled before `beforeSeq` in their executions' histories. */
async function resolveFromHistories(
  jsm: JetStreamManager,
  events: TaskEvents,
  beforeSeq: number,
): Promise<void> {
  const missing = [...unresolvedTokens(events)].slice(0, MAX_HISTORY_LOOKUPS);
  await Promise.all(
    missing.map(async ([executionId, eventIds]) => {
      const found = emptyTaskEvents();
      for await (const { batch } of readEventBatchesWith(jsm, executionId, { toSeq: beforeSeq - 1 })) {
        collectTaskEvents(batch, Number.POSITIVE_INFINITY, found);
        for (const event of batch.events) eventIds.delete(event.eventId);
        if (eventIds.size === 0) break;
      }
      for (const [token, activity] of found.scheduled) events.scheduled.set(token, activity);
    }),
  );
}
