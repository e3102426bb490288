/**
 * Schedules, pure: validating a schedule, its fire times (cron through `cron-parser`, or a fixed
 * interval), the jitter of each start, the execution name of each fire time, and what one tick
 * of the scheduler does with a schedule (start, skip, buffer) under its overlap policy and
 * catch-up window. No I/O and no clock: the scheduler (scheduler.ts) performs the plan.
 */
import { createHash } from "node:crypto";
import { CronExpressionParser } from "cron-parser";
import type { CronExpression } from "cron-parser";
import { OverlapPolicy } from "@jetflow/contracts";
import type { Schedule } from "@jetflow/contracts";
import type { RequestProblems } from "../errors";

/** The catch-up window when a schedule sets none. */
export const DEFAULT_CATCHUP_SECONDS = 60;
/** At most this many fire times are looked at per schedule and tick (a long downtime is jumped). */
export const MAX_FIRE_TIMES_PER_TICK = 1000;
const SCHEDULE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_JITTER_SECONDS = 24 * 60 * 60;
const MAX_INTERVAL_SECONDS = 366 * 24 * 60 * 60;

/** True when `id` can name a schedule (it is a KV key and part of execution names). */
export function isScheduleId(id: string): boolean {
  return SCHEDULE_ID.test(id);
}

/** Records every problem of a schedule to create. */
export function checkSchedule(s: Schedule, problems: RequestProblems): void {
  if (!isScheduleId(s.scheduleId)) {
    problems.add("schedule.schedule_id", "must be 1 to 64 characters: letters, digits, '-' and '_'");
  }
  const hasCron = s.cron.trim() !== "";
  if (hasCron === s.intervalSeconds > 0) {
    problems.add("schedule", "needs exactly one of cron and interval_seconds");
  }
  if (hasCron) {
    try {
      CronExpressionParser.parse(s.cron, { tz: s.timezone || "UTC", strict: false });
    } catch (err) {
      problems.add(
        "schedule.cron",
        `is not a cron expression: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (s.timezone !== "" && !isTimeZone(s.timezone)) {
      problems.add("schedule.timezone", `is not an IANA time zone: "${s.timezone}"`);
    }
  } else if (s.timezone !== "") {
    problems.add("schedule.timezone", "applies to cron schedules only");
  }
  if (s.intervalSeconds > MAX_INTERVAL_SECONDS) {
    problems.add("schedule.interval_seconds", `must be at most ${MAX_INTERVAL_SECONDS}`);
  }
  if (s.jitterSeconds > MAX_JITTER_SECONDS) {
    problems.add("schedule.jitter_seconds", `must be at most ${MAX_JITTER_SECONDS}`);
  }
  if (s.overlapPolicy === OverlapPolicy.UNRECOGNIZED) {
    problems.add("schedule.overlap_policy", "is not a known policy");
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The fire times of `s` strictly after `afterMs` and at most `untilMs`, in order, at most `limit`. */
export function fireTimesBetween(s: Schedule, afterMs: number, untilMs: number, limit: number): number[] {
  const times: number[] = [];
  if (s.intervalSeconds > 0) {
    const anchor = s.createdTime?.getTime() ?? 0;
    const step = s.intervalSeconds * 1000;
    let k = Math.max(1, Math.floor((afterMs - anchor) / step) + 1);
    for (let t = anchor + k * step; t <= untilMs && times.length < limit; t = anchor + ++k * step) {
      if (t > afterMs) times.push(t);
    }
    return times;
  }
  const cron = parseCron(s, afterMs);
  while (times.length < limit) {
    const next = cron.next().getTime();
    if (next > untilMs) break;
    if (next > afterMs) times.push(next);
  }
  return times;
}

/** The first fire time of `s` after `afterMs`. */
export function nextFireTime(s: Schedule, afterMs: number): number | undefined {
  if (s.intervalSeconds > 0) return fireTimesBetween(s, afterMs, Number.MAX_SAFE_INTEGER, 1)[0];
  try {
    return parseCron(s, afterMs).next().getTime();
  } catch {
    return undefined;
  }
}

function parseCron(s: Schedule, afterMs: number): CronExpression {
  return CronExpressionParser.parse(s.cron, { currentDate: new Date(afterMs), tz: s.timezone || "UTC" });
}

/**
 * The delay of the start of fire time `fireMs`, in [0, jitter_seconds): derived from the schedule
 * id and the fire time, so every replica computes the same.
 */
export function jitterMs(s: Schedule, fireMs: number): number {
  if (s.jitterSeconds === 0) return 0;
  const digest = createHash("sha256").update(`${s.scheduleId}\0${fireMs}`).digest();
  return Math.floor((digest.readUInt32BE(0) / 2 ** 32) * s.jitterSeconds * 1000);
}

/**
 * The execution name of the start for fire time `fireMs`: the same on every replica and after
 * every restart, so that the engine's idempotent named start makes a second start of one fire
 * time return the first.
 */
export function executionNameOf(scheduleId: string, fireMs: number): string {
  return `${scheduleId}@${new Date(fireMs).toISOString()}`;
}

/** What one tick does with one schedule. */
export interface TickPlan {
  /** Fire times to start now, in order. */
  readonly starts: number[];
  /** Fire times skipped (overlap policy SKIP, a full buffer, or older than the catch-up window). */
  readonly skipped: number;
  /** The schedule's new last fire time (undefined: unchanged). */
  readonly lastFireMs: number | undefined;
  /** The new buffered fire time (undefined: none). */
  readonly bufferedMs: number | undefined;
  /** True when anything changed (the state must be written). */
  readonly changed: boolean;
}

/**
 * One tick for schedule `s` at `nowMs`. `running` says whether the execution it started last is
 * still running (asked only when the overlap policy needs it).
 */
export function planTick(s: Schedule, nowMs: number, running: () => boolean): TickPlan {
  const none: TickPlan = {
    starts: [],
    skipped: 0,
    lastFireMs: undefined,
    bufferedMs: s.bufferedFireTime?.getTime(),
    changed: false,
  };
  if (s.paused) return none;
  const policy =
    s.overlapPolicy === OverlapPolicy.OVERLAP_POLICY_UNSPECIFIED
      ? OverlapPolicy.OVERLAP_POLICY_SKIP
      : s.overlapPolicy;
  const catchupMs = (s.catchupWindowSeconds || DEFAULT_CATCHUP_SECONDS) * 1000;
  const starts: number[] = [];
  let skipped = 0;
  let buffered = s.bufferedFireTime?.getTime();
  let changed = false;
  let busy: boolean | undefined;
  const isBusy = () => (busy ??= running());
  if (buffered !== undefined && !isBusy()) {
    starts.push(buffered);
    buffered = undefined;
    busy = true;
    changed = true;
  }
  let after = s.lastFireTime?.getTime() ?? s.createdTime?.getTime() ?? nowMs;
  let last: number | undefined;
  // After a long downtime, jump to the catch-up window rather than walk every missed time (the
  // jumped times count as one skip).
  const windowStart = nowMs - catchupMs - 1;
  if (
    windowStart > after &&
    fireTimesBetween(s, after, windowStart, MAX_FIRE_TIMES_PER_TICK).length === MAX_FIRE_TIMES_PER_TICK
  ) {
    after = windowStart;
    last = windowStart;
    skipped += 1;
    changed = true;
  }
  for (const t of fireTimesBetween(s, after, nowMs, MAX_FIRE_TIMES_PER_TICK)) {
    if (t + jitterMs(s, t) > nowMs) break;
    last = t;
    changed = true;
    if (nowMs - t > catchupMs) {
      skipped++;
      continue;
    }
    if (policy === OverlapPolicy.OVERLAP_POLICY_ALLOW_ALL || !isBusy()) {
      starts.push(t);
      busy = true;
    } else if (policy === OverlapPolicy.OVERLAP_POLICY_BUFFER_ONE && buffered === undefined) {
      buffered = t;
    } else {
      skipped++;
    }
  }
  return { starts, skipped, lastFireMs: last, bufferedMs: buffered, changed };
}
