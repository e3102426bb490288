import { OverlapPolicy, Schedule } from "@jetflow/contracts";
import { RequestProblems } from "../errors";
import { checkSchedule, executionNameOf, fireTimesBetween, jitterMs, nextFireTime, planTick } from "./plan";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function schedule(fields: Partial<Schedule>): Schedule {
  return Schedule.fromPartial({ scheduleId: "s1", workflowName: "w", createdTime: new Date(T0), ...fields });
}

function problemsOf(s: Schedule): string[] {
  const problems = new RequestProblems();
  checkSchedule(s, problems);
  return problems.lines();
}

describe("checkSchedule", () => {
  it("accepts a cron or an interval schedule and lists every problem", () => {
    expect(problemsOf(schedule({ cron: "*/5 * * * *", timezone: "Europe/Paris" }))).toEqual([]);
    expect(problemsOf(schedule({ intervalSeconds: 30 }))).toEqual([]);
    expect(
      problemsOf(schedule({ scheduleId: "a b", cron: "nope", intervalSeconds: 5, timezone: "Mars/Base" })),
    ).toEqual([
      "schedule.schedule_id: must be 1 to 64 characters: letters, digits, '-' and '_'",
      "schedule: needs exactly one of cron and interval_seconds",
      expect.stringMatching(/^schedule\.cron: is not a cron expression/),
      'schedule.timezone: is not an IANA time zone: "Mars/Base"',
    ]);
    expect(problemsOf(schedule({}))).toEqual(["schedule: needs exactly one of cron and interval_seconds"]);
  });
});

describe("fire times", () => {
  it("steps a fixed interval from the creation time", () => {
    const s = schedule({ intervalSeconds: 10 });
    expect(fireTimesBetween(s, T0, T0 + 35_000, 100)).toEqual([T0 + 10_000, T0 + 20_000, T0 + 30_000]);
    expect(fireTimesBetween(s, T0 + 20_000, T0 + 30_000, 100)).toEqual([T0 + 30_000]);
    expect(nextFireTime(s, T0 + 25_000)).toBe(T0 + 30_000);
  });

  it("follows a cron expression in its time zone", () => {
    const utc = schedule({ cron: "0 * * * *" });
    expect(fireTimesBetween(utc, T0, T0 + 3 * 3_600_000, 100)).toEqual([
      T0 + 3_600_000,
      T0 + 2 * 3_600_000,
      T0 + 3 * 3_600_000,
    ]);
    // 09:00 in Paris is 08:00 UTC in January.
    const paris = schedule({ cron: "0 9 * * *", timezone: "Europe/Paris" });
    expect(new Date(nextFireTime(paris, T0) ?? 0).toISOString()).toBe("2026-01-02T08:00:00.000Z");
    // Six fields: seconds first.
    expect(fireTimesBetween(schedule({ cron: "*/20 * * * * *" }), T0, T0 + 60_000, 100)).toHaveLength(3);
  });

  it("delays each start by the same jitter everywhere, within the bound", () => {
    const s = schedule({ intervalSeconds: 60, jitterSeconds: 30 });
    const delays = [1, 2, 3, 4, 5].map((k) => jitterMs(s, T0 + k * 60_000));
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(0);
    for (const d of delays) expect(d).toBeLessThan(30_000);
    expect(new Set(delays).size).toBeGreaterThan(1);
    expect(jitterMs(s, T0 + 60_000)).toBe(delays[0]);
    expect(jitterMs(schedule({ intervalSeconds: 60 }), T0 + 60_000)).toBe(0);
  });

  it("names each fire time's execution the same way every time", () => {
    expect(executionNameOf("s1", T0)).toBe("s1@2026-01-01T12:00:00.000Z");
  });
});

describe("planTick", () => {
  const idle = () => false;
  const busy = () => true;

  it("starts each fire time that has come, once", () => {
    const s = schedule({ intervalSeconds: 10 });
    expect(planTick(s, T0 + 5_000, idle)).toMatchObject({ starts: [], changed: false });
    const plan = planTick(s, T0 + 10_000, idle);
    expect(plan).toMatchObject({ starts: [T0 + 10_000], lastFireMs: T0 + 10_000, skipped: 0, changed: true });
    const after = schedule({ intervalSeconds: 10, lastFireTime: new Date(T0 + 10_000) });
    expect(planTick(after, T0 + 15_000, idle)).toMatchObject({ starts: [], changed: false });
  });

  it("does nothing while paused", () => {
    expect(planTick(schedule({ intervalSeconds: 10, paused: true }), T0 + 60_000, idle).changed).toBe(false);
  });

  it("after downtime, starts the fire times within the catch-up window and skips older ones", () => {
    const s = schedule({
      intervalSeconds: 10,
      catchupWindowSeconds: 25,
      overlapPolicy: OverlapPolicy.OVERLAP_POLICY_ALLOW_ALL,
    });
    const plan = planTick(s, T0 + 60_000, idle);
    expect(plan.starts).toEqual([T0 + 40_000, T0 + 50_000, T0 + 60_000]);
    expect(plan.skipped).toBe(3);
    expect(plan.lastFireMs).toBe(T0 + 60_000);
  });

  it("jumps a very long downtime instead of walking it", () => {
    const s = schedule({
      intervalSeconds: 1,
      catchupWindowSeconds: 2,
      overlapPolicy: OverlapPolicy.OVERLAP_POLICY_ALLOW_ALL,
    });
    const plan = planTick(s, T0 + 86_400_000, idle);
    expect(plan.starts).toEqual([T0 + 86_398_000, T0 + 86_399_000, T0 + 86_400_000]);
  });

  it("SKIP: does not start while the last execution runs", () => {
    const s = schedule({
      intervalSeconds: 10,
      overlapPolicy: OverlapPolicy.OVERLAP_POLICY_SKIP,
      lastExecutionId: "e",
    });
    expect(planTick(s, T0 + 10_000, busy)).toMatchObject({ starts: [], skipped: 1, lastFireMs: T0 + 10_000 });
    expect(planTick(s, T0 + 10_000, idle)).toMatchObject({ starts: [T0 + 10_000], skipped: 0 });
    // The default policy is SKIP; of two due fire times, the second overlaps the first.
    expect(planTick(schedule({ intervalSeconds: 10 }), T0 + 20_000, idle)).toMatchObject({
      starts: [T0 + 10_000],
      skipped: 1,
    });
  });

  it("BUFFER_ONE: keeps one fire time until the last execution has ended", () => {
    const s = schedule({ intervalSeconds: 10, overlapPolicy: OverlapPolicy.OVERLAP_POLICY_BUFFER_ONE });
    const first = planTick(s, T0 + 30_000, busy);
    expect(first).toMatchObject({ starts: [], bufferedMs: T0 + 10_000, skipped: 2, lastFireMs: T0 + 30_000 });
    const waiting = schedule({
      intervalSeconds: 10,
      overlapPolicy: OverlapPolicy.OVERLAP_POLICY_BUFFER_ONE,
      lastFireTime: new Date(T0 + 30_000),
      bufferedFireTime: new Date(T0 + 10_000),
    });
    expect(planTick(waiting, T0 + 35_000, busy)).toMatchObject({
      starts: [],
      changed: false,
      bufferedMs: T0 + 10_000,
    });
    expect(planTick(waiting, T0 + 35_000, idle)).toMatchObject({
      starts: [T0 + 10_000],
      bufferedMs: undefined,
      changed: true,
    });
    // The buffered start makes the next due fire time wait in the buffer in turn.
    expect(planTick(waiting, T0 + 40_000, idle)).toMatchObject({
      starts: [T0 + 10_000],
      bufferedMs: T0 + 40_000,
    });
  });

  it("ALLOW_ALL: starts every fire time whatever runs", () => {
    const s = schedule({ intervalSeconds: 10, overlapPolicy: OverlapPolicy.OVERLAP_POLICY_ALLOW_ALL });
    expect(planTick(s, T0 + 30_000, busy).starts).toEqual([T0 + 10_000, T0 + 20_000, T0 + 30_000]);
  });

  it("waits for a fire time's jitter before starting it and the ones after it", () => {
    const s = schedule({ intervalSeconds: 60, jitterSeconds: 30 });
    const delay = jitterMs(s, T0 + 60_000);
    expect(planTick(s, T0 + 60_000 + delay - 1, idle).changed).toBe(false);
    expect(planTick(s, T0 + 60_000 + delay, idle).starts).toEqual([T0 + 60_000]);
  });
});
