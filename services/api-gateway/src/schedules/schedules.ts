/**
 * Schedules (docs/schedules.md): the API's operations on the jetflow_schedules bucket, and the
 * scheduler's tick, which starts the executions that have come due. Every write of a schedule is
 * a compare-and-set on its KV revision. A start is a named start (`executionNameOf`), so starting
 * the same fire time twice (two replicas, a crash between the start and the state write) returns
 * the execution the first start created: no fire time starts two executions, and since the state
 * (the last fire time) is written only after its starts, none is lost across restarts.
 */
import { ExecutionStatus, OverlapPolicy, Schedule, decode, encode } from "@jetflow/contracts";
import { status } from "@grpc/grpc-js";
import type { KV, KvEntry } from "@nats-io/kv";
import type { Logger } from "pino";
import { ApiError, RequestProblems, isUnavailable } from "../errors";
import type { Executions } from "../executions";
import { WORKFLOW_NAME_RULE, isWorkflowName } from "../workflows";
import { checkSchedule, executionNameOf, isScheduleId, nextFireTime, planTick } from "./plan";

/** What the scheduler counts, for logs and tests. */
export interface SchedulerCounters {
  ticks: number;
  started: number;
  skipped: number;
  conflicts: number;
  errors: number;
}

export interface SchedulesOptions {
  kv: KV;
  executions: Executions;
  log: Logger;
  now?: () => Date;
}

const MAX_CAS_ATTEMPTS = 10;

export class Schedules {
  readonly counters: SchedulerCounters = { ticks: 0, started: 0, skipped: 0, conflicts: 0, errors: 0 };
  private readonly now: () => Date;

  constructor(private readonly o: SchedulesOptions) {
    this.now = o.now ?? (() => new Date());
  }

  /** Creates a schedule. @throws ApiError INVALID_ARGUMENT, NOT_FOUND (workflow), ALREADY_EXISTS */
  async create(input: Schedule | undefined, identity?: string): Promise<Schedule> {
    const problems = new RequestProblems();
    if (!input) {
      problems.add("schedule", "is required");
      problems.check();
    }
    const given = input as Schedule;
    checkSchedule(given, problems);
    if (!isWorkflowName(given.workflowName)) problems.add("schedule.workflow_name", WORKFLOW_NAME_RULE);
    problems.check();
    // The workflow (and version) must exist, and the input must be one it can start with.
    await this.o.executions.checkStartable(given.workflowName, given.workflowVersion, given.inputJson);
    const schedule: Schedule = {
      ...Schedule.fromPartial({}),
      scheduleId: given.scheduleId,
      workflowName: given.workflowName,
      workflowVersion: given.workflowVersion,
      inputJson: given.inputJson,
      cron: given.cron.trim(),
      timezone: given.timezone,
      intervalSeconds: given.intervalSeconds,
      overlapPolicy: given.overlapPolicy,
      catchupWindowSeconds: given.catchupWindowSeconds,
      jitterSeconds: given.jitterSeconds,
      paused: given.paused,
      description: given.description,
      createdTime: this.now(),
      createdBy: identity,
    };
    try {
      await this.o.kv.create(schedule.scheduleId, encode(Schedule, schedule));
    } catch (err) {
      if (isUnavailable(err)) throw err;
      throw ApiError.exists(`schedule "${schedule.scheduleId}" already exists`);
    }
    return this.withNext(schedule);
  }

  /** A schedule, with its next fire time. @throws ApiError NOT_FOUND */
  async describe(scheduleId: string): Promise<Schedule> {
    return this.withNext((await this.read(scheduleId)).schedule);
  }

  /** Every schedule (of `workflowName` when given), by id. */
  async list(workflowName: string): Promise<Schedule[]> {
    const schedules: Schedule[] = [];
    for (const key of await this.keys()) {
      const entry = await this.o.kv.get(key);
      if (entry?.operation !== "PUT") continue;
      const schedule = decode(Schedule, "Schedule", entry.value, key);
      if (workflowName === "" || schedule.workflowName === workflowName)
        schedules.push(this.withNext(schedule));
    }
    return schedules;
  }

  /** Pauses a schedule: no fire time starts anything until it is resumed. */
  pause(scheduleId: string): Promise<Schedule> {
    return this.change(scheduleId, (s) => (s.paused ? undefined : { ...s, paused: true }));
  }

  /** Resumes a schedule; the fire times that passed while it was paused are not started. */
  resume(scheduleId: string): Promise<Schedule> {
    return this.change(scheduleId, (s) => {
      if (!s.paused) return undefined;
      const now = this.now();
      const last = s.lastFireTime && s.lastFireTime > now ? s.lastFireTime : now;
      return { ...s, paused: false, lastFireTime: last, bufferedFireTime: undefined };
    });
  }

  /** Deletes a schedule (the executions it started are kept). @throws ApiError NOT_FOUND */
  async delete(scheduleId: string): Promise<void> {
    const { revision } = await this.read(scheduleId);
    await this.o.kv.delete(scheduleId, { previousSeq: revision }).catch(async (err: unknown) => {
      if (isUnavailable(err)) throw err;
      // Written meanwhile (a tick): delete what is there now.
      await this.read(scheduleId);
      await this.o.kv.delete(scheduleId);
    });
  }

  /**
   * One pass of the scheduler over every schedule: starts what has come due. Called by the
   * replica holding the scheduler lease; safe to run anywhere (see the file's comment).
   */
  async tick(): Promise<void> {
    this.counters.ticks++;
    for (const key of await this.keys()) {
      try {
        await this.tickOne(key);
      } catch (err) {
        this.counters.errors++;
        this.o.log.warn({ err, scheduleId: key }, "schedule tick failed; tried again at the next tick");
      }
    }
  }

  private async tickOne(scheduleId: string): Promise<void> {
    const entry = await this.o.kv.get(scheduleId);
    if (entry?.operation !== "PUT") return;
    const schedule = decode(Schedule, "Schedule", entry.value, scheduleId);
    const nowMs = this.now().getTime();
    // Most ticks find nothing due: decide first as if nothing ran, and load the last execution's
    // status only when a start depends on it.
    const probe = planTick(schedule, nowMs, () => false);
    if (!probe.changed) return;
    const needsStatus =
      schedule.lastExecutionId !== "" &&
      schedule.overlapPolicy !== OverlapPolicy.OVERLAP_POLICY_ALLOW_ALL &&
      probe.starts.length > 0;
    let plan = probe;
    if (needsStatus) {
      const last = await this.o.executions.load(schedule.lastExecutionId);
      const running = last?.status === ExecutionStatus.EXECUTION_STATUS_RUNNING;
      plan = planTick(schedule, nowMs, () => running);
    }
    if (!plan.changed) return;
    let lastExecutionId = schedule.lastExecutionId;
    let started = 0;
    let skipped = plan.skipped;
    for (const fireMs of plan.starts) {
      try {
        const result = await this.o.executions.start(
          schedule.workflowName,
          schedule.workflowVersion,
          schedule.inputJson,
          executionNameOf(schedule.scheduleId, fireMs),
          "",
          schedule.createdBy,
          undefined,
          schedule.scheduleId,
        );
        lastExecutionId = result.executionId;
        // Counted whether or not this start created it: every fire time planned here is after the
        // stored last fire time, so the stored count does not include it yet. An execution found
        // (`created: false`) was made by a tick whose state write lost its compare-and-set (a
        // replica frozen mid-tick, a crash before the write), which therefore never counted it.
        started++;
        this.o.log.info(
          {
            scheduleId,
            executionId: result.executionId,
            fireTime: new Date(fireMs),
            created: result.created,
          },
          "schedule started an execution",
        );
      } catch (err) {
        // The engine unreachable: try again at the next tick, nothing written. Anything else (the
        // workflow deleted, an input it refuses) would fail every time: skip that fire time.
        if (isUnavailable(err) || (err instanceof ApiError && err.code === status.UNAVAILABLE)) throw err;
        skipped++;
        this.o.log.warn({ err, scheduleId, fireTime: new Date(fireMs) }, "schedule could not start; skipped");
      }
    }
    const next: Schedule = {
      ...schedule,
      lastFireTime: plan.lastFireMs === undefined ? schedule.lastFireTime : new Date(plan.lastFireMs),
      bufferedFireTime: plan.bufferedMs === undefined ? undefined : new Date(plan.bufferedMs),
      lastExecutionId,
      startedCount: schedule.startedCount + started,
      skippedCount: schedule.skippedCount + skipped,
      nextFireTime: undefined,
    };
    try {
      await this.o.kv.update(scheduleId, encode(Schedule, next), entry.revision);
    } catch (err) {
      if (isUnavailable(err)) throw err;
      // Changed meanwhile (paused, deleted, another replica's tick): the next tick decides again;
      // its starts of the same fire times find the executions started here.
      this.counters.conflicts++;
      return;
    }
    this.counters.started += started;
    this.counters.skipped += skipped;
  }

  private async read(scheduleId: string): Promise<{ schedule: Schedule; revision: number; entry: KvEntry }> {
    const problems = new RequestProblems();
    if (!isScheduleId(scheduleId)) problems.add("schedule_id", "is not a schedule id");
    problems.check();
    const entry = await this.o.kv.get(scheduleId);
    if (entry?.operation !== "PUT") throw ApiError.notFound(`schedule "${scheduleId}" does not exist`);
    return {
      schedule: decode(Schedule, "Schedule", entry.value, scheduleId),
      revision: entry.revision,
      entry,
    };
  }

  private async change(scheduleId: string, edit: (s: Schedule) => Schedule | undefined): Promise<Schedule> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const { schedule, revision } = await this.read(scheduleId);
      const next = edit(schedule);
      if (!next) return this.withNext(schedule);
      try {
        await this.o.kv.update(scheduleId, encode(Schedule, { ...next, nextFireTime: undefined }), revision);
        return this.withNext(next);
      } catch (err) {
        if (isUnavailable(err)) throw err;
      }
    }
    throw ApiError.unavailable(`schedule "${scheduleId}" is changing too often; try again`);
  }

  private async keys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.o.kv.keys()) keys.push(key);
    return keys.sort();
  }

  private withNext(s: Schedule): Schedule {
    if (s.paused) return { ...s, nextFireTime: undefined };
    const after = Math.max(
      s.lastFireTime?.getTime() ?? 0,
      s.createdTime?.getTime() ?? 0,
      this.now().getTime() - 1,
    );
    const next = nextFireTime(s, after);
    return { ...s, nextFireTime: next === undefined ? undefined : new Date(next) };
  }
}
