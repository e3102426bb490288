/**
 * GetEngineStats: each activity's task queue from JetStream's consumer info, its recent task
 * outcomes from the events stream and its connected workers from a presence ping, and each
 * workflow's running and recent executions from the execution index (the gateway's window while it
 * holds every execution, else a scan of the bucket: counters per workflow, never the executions).
 * No new state: the numbers are the server's, the workers' and the index's, read per call.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { ConsumerInfo, JetStreamManager } from "@nats-io/jetstream";
import { NoRespondersError } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  ExecutionStatus,
  WorkerPresence,
  activityFromSubject,
  decode,
  streams,
  subjects,
} from "@jetflow/contracts";
import type { Logger } from "@jetflow/service-runtime";
import type {
  ActivityStats,
  ExecutionSummary,
  GetEngineStatsResponse,
  WorkflowStats,
} from "@jetflow/contracts";
import { RequestProblems } from "./errors";
import { readTaskOutcomes } from "./task-outcomes";
import type { ActivityOutcomes } from "./task-outcomes";

/**
 * How long the gateway collects presence replies: it stops 150 ms after the last reply, and
 * 600 ms after the ping at the latest.
 */
export const PRESENCE_STALL_MS = 150;
export const PRESENCE_MAX_WAIT_MS = 600;

/** The window of the failure rates when the request leaves it at 0, in seconds. */
export const DEFAULT_STATS_WINDOW_S = 300;
const MAX_STATS_WINDOW_S = 86_400;

/** The request's window in seconds. @throws ApiError INVALID_ARGUMENT when it is out of range */
export function statsWindowSeconds(requested: number): number {
  if (requested === 0) return DEFAULT_STATS_WINDOW_S;
  if (requested > MAX_STATS_WINDOW_S) {
    new RequestProblems()
      .add("window_seconds", `must be at most ${MAX_STATS_WINDOW_S}, got ${requested}`)
      .check();
  }
  return requested;
}

/**
 * Counts, per workflow, the executions running now and those that ended in the `windowMs` before
 * `nowMs` (succeeded; failed, timed out or aborted), one execution at a time: it holds a counter
 * per workflow, never the executions.
 */
export class WorkflowTally {
  private readonly byName = new Map<string, WorkflowStats>();

  constructor(
    private readonly windowMs: number,
    private readonly nowMs: number,
  ) {}

  /** Counts one execution. */
  add(summary: ExecutionSummary): void {
    if (summary.status === ExecutionStatus.EXECUTION_STATUS_RUNNING) {
      this.of(summary.workflowName).running += 1;
      return;
    }
    const stopMs = summary.stopTime?.getTime();
    if (stopMs === undefined || stopMs > this.nowMs || this.nowMs - stopMs > this.windowMs) return;
    if (summary.status === ExecutionStatus.EXECUTION_STATUS_SUCCEEDED)
      this.of(summary.workflowName).succeeded += 1;
    else this.of(summary.workflowName).failed += 1;
  }

  /** The counts so far, sorted by workflow name, with each workflow's failure rate. */
  stats(): WorkflowStats[] {
    const all = [...this.byName.values()]
      .map((stats) => ({ ...stats }))
      .sort((a, b) => (a.workflowName < b.workflowName ? -1 : 1));
    for (const stats of all) {
      const ended = stats.succeeded + stats.failed;
      stats.failureRate = ended === 0 ? 0 : stats.failed / ended;
    }
    return all;
  }

  private of(name: string): WorkflowStats {
    let stats = this.byName.get(name);
    if (!stats) {
      stats = { workflowName: name, running: 0, succeeded: 0, failed: 0, failureRate: 0 };
      this.byName.set(name, stats);
    }
    return stats;
  }
}

/** The `WorkflowTally` of `executions` (pure). */
export function summarizeWorkflows(
  executions: Iterable<ExecutionSummary>,
  windowMs: number,
  nowMs: number,
): WorkflowStats[] {
  const tally = new WorkflowTally(windowMs, nowMs);
  for (const summary of executions) tally.add(summary);
  return tally.stats();
}

/** One activity's queue from its task consumer's info. */
export function activityStatsOf(info: ConsumerInfo): ActivityStats | undefined {
  const activity = activityFromSubject(info.config.filter_subject ?? "");
  if (activity === undefined) return undefined;
  const last = [info.delivered.last_active, info.ack_floor.last_active]
    .map(toEpochMs)
    .filter((ms): ms is number => ms !== undefined);
  return {
    activity,
    pending: info.num_pending,
    running: info.num_ack_pending,
    waitingPulls: info.num_waiting,
    redelivered: info.num_redelivered,
    lastActiveTime: last.length > 0 ? new Date(Math.max(...last)) : undefined,
    succeeded: 0,
    failed: 0,
    failureRate: 0,
    workersConnected: 0,
  };
}

/**
 * Counts the workers of each activity among presence replies (raw WorkerPresence messages).
 * A reply that does not decode is skipped (logged at debug); a worker naming an activity twice
 * counts once.
 */
export function countWorkers(replies: Iterable<Uint8Array>, log?: Logger): Map<string, number> {
  const counts = new Map<string, number>();
  for (const data of replies) {
    let presence: WorkerPresence;
    try {
      presence = decode(WorkerPresence, "jetflow.v1.WorkerPresence", data, subjects.workersPing);
    } catch (err) {
      log?.debug({ err }, "malformed worker presence reply ignored");
      continue;
    }
    for (const activity of new Set(presence.activities)) {
      counts.set(activity, (counts.get(activity) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Sets each activity's connected workers from `workers`, adding an activity that has workers but
 * no queue yet (no task was ever sent to it).
 */
export function withWorkers(
  activities: ActivityStats[],
  workers: ReadonlyMap<string, number>,
): ActivityStats[] {
  const all = activities.map((stats) => ({ ...stats, workersConnected: workers.get(stats.activity) ?? 0 }));
  for (const [activity, count] of workers) {
    if (!all.some((a) => a.activity === activity))
      all.push({ ...emptyActivityStats(activity), workersConnected: count });
  }
  return all;
}

/**
 * Sends one presence ping and collects the replies until they stall (PRESENCE_STALL_MS after the
 * last one) or PRESENCE_MAX_WAIT_MS passes. No responders: no workers.
 */
async function pingWorkers(nc: NatsConnection, log?: Logger): Promise<Uint8Array[]> {
  const replies: Uint8Array[] = [];
  try {
    const iterator = await nc.requestMany(subjects.workersPing, undefined, {
      strategy: "stall",
      stall: PRESENCE_STALL_MS,
      maxWait: PRESENCE_MAX_WAIT_MS,
    });
    for await (const msg of iterator) replies.push(msg.data);
  } catch (err) {
    // The stats are still worth having without the workers: count those that answered.
    if (!(err instanceof NoRespondersError)) log?.warn({ err }, "worker presence ping failed");
  }
  return replies;
}

/**
 * Sets each activity's task outcomes and failure rate from `outcomes`, adding an activity that
 * has outcomes but no queue (its consumer was deleted) so that its failures still show.
 */
export function withTaskOutcomes(
  activities: ActivityStats[],
  outcomes: ReadonlyMap<string, ActivityOutcomes>,
): ActivityStats[] {
  const all = activities.map((stats) => ({ ...stats }));
  for (const [activity, counts] of outcomes) {
    let stats = all.find((a) => a.activity === activity);
    if (!stats) all.push((stats = emptyActivityStats(activity)));
    const ended = counts.succeeded + counts.failed;
    Object.assign(stats, {
      succeeded: counts.succeeded,
      failed: counts.failed,
      failureRate: ended === 0 ? 0 : counts.failed / ended,
    });
  }
  return all.sort((a, b) => (a.activity < b.activity ? -1 : 1));
}

function emptyActivityStats(activity: string): ActivityStats {
  return {
    activity,
    pending: 0,
    running: 0,
    waitingPulls: 0,
    redelivered: 0,
    lastActiveTime: undefined,
    succeeded: 0,
    failed: 0,
    failureRate: 0,
    workersConnected: 0,
  };
}

/** How many tasks the task stream holds per activity (unacknowledged ones included). */
async function storedTasksByActivity(jsm: JetStreamManager): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  try {
    const info = await jsm.streams.info(streams.tasks, { subjects_filter: subjects.allTasks });
    for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
      const activity = activityFromSubject(subject);
      if (activity !== undefined) counts.set(activity, count);
    }
  } catch (err) {
    if (!(err instanceof Error && /stream not found/i.test(err.message))) throw err;
  }
  return counts;
}

/**
 * A consumer's `last_active`: the server sends an RFC 3339 time (nats.js types it as nanoseconds),
 * absent or the zero time when never active.
 */
function toEpochMs(value: unknown): number | undefined {
  const ms =
    typeof value === "string" ? Date.parse(value) : typeof value === "number" ? value / 1e6 : Number.NaN;
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * Reads the engine's stats: every task consumer's info, the activities' task outcomes in the
 * window and connected workers, and the workflows' recent executions.
 */
export async function readEngineStats(options: {
  nc: NatsConnection;
  /** Visits every execution of the index (ExecutionIndex.forEach). */
  forEachExecution: (visit: (summary: ExecutionSummary) => void) => Promise<void>;
  windowSeconds: number;
  now?: () => Date;
  log?: Logger;
}): Promise<GetEngineStatsResponse> {
  const now = (options.now ?? (() => new Date()))();
  // The ping's replies come in while JetStream is asked for the rest.
  const presence = pingWorkers(options.nc, options.log);
  const jsm = await jetstreamManager(options.nc, { checkAPI: false });
  const activities: ActivityStats[] = [];
  try {
    for await (const info of jsm.consumers.list(streams.tasks)) {
      const stats = activityStatsOf(info);
      if (stats) activities.push(stats);
    }
  } catch (err) {
    // No task stream yet (the dispatcher has not started): no activities to show.
    if (!(err instanceof Error && /stream not found/i.test(err.message))) throw err;
  }
  // Tasks of an activity no worker ever pulled have no consumer: the stream's per-subject counts
  // (a work queue keeps a task until it is acknowledged) show them too.
  const stored = await storedTasksByActivity(jsm);
  for (const [activity, count] of stored) {
    if (!activities.some((a) => a.activity === activity)) {
      activities.push({ ...emptyActivityStats(activity), pending: count });
    }
  }
  const outcomes = await readTaskOutcomes(options.nc, new Date(now.getTime() - options.windowSeconds * 1000));
  const tally = new WorkflowTally(options.windowSeconds * 1000, now.getTime());
  await options.forEachExecution((summary) => tally.add(summary));
  const workers = countWorkers(await presence, options.log);
  return {
    activities: withTaskOutcomes(withWorkers(activities, workers), outcomes.byActivity),
    workflows: tally.stats(),
    windowSeconds: options.windowSeconds,
    readTime: now,
    taskCountsStartTime: outcomes.since,
  };
}
