import { Command, TimerKind, subjects } from "@jetflow/contracts";
import type { Timer } from "@jetflow/contracts";
import { commandMsgIds, timerIds } from "../model";
import { InvalidTimerError, decideTimer, parseHeartbeatMs, timerFiredEffect, validateTimer } from "./timers";

const EXEC = "exec-1";
const NOW = Date.parse("2030-01-01T00:00:00.000Z");
const HOUR = 3_600_000;
const token = `${EXEC}.4`;

function timer(overrides: Partial<Timer> = {}): Timer {
  return {
    timerId: timerIds.wait(EXEC, 5),
    executionId: EXEC,
    fireTime: new Date(NOW),
    kind: TimerKind.TIMER_KIND_WAIT,
    taskToken: "",
    heartbeatSeconds: 0,
    armedBatchSeq: 0,
    ...overrides,
  };
}

const heartbeatTimer = (fireOffsetMs: number) =>
  timer({
    kind: TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT,
    timerId: timerIds.heartbeatTimeout(token),
    taskToken: token,
    heartbeatSeconds: 10,
    fireTime: new Date(NOW + fireOffsetMs),
  });

describe("decideTimer", () => {
  const clock = { nowMs: NOW, maxDelayMs: HOUR };

  it("fires a timer at or after its fire time", () => {
    expect(decideTimer(timer(), clock)).toEqual({ action: "fire" });
    expect(decideTimer(timer({ fireTime: new Date(NOW - 5) }), clock)).toEqual({ action: "fire" });
  });

  it("delays a timer not yet due by the time left, rounded up", () => {
    expect(decideTimer(timer({ fireTime: new Date(NOW + 1500) }), clock)).toEqual({
      action: "delay",
      delayMs: 1500,
    });
    expect(decideTimer(timer({ fireTime: new Date(NOW + 1) }), { ...clock, nowMs: NOW + 0.5 })).toEqual({
      action: "delay",
      delayMs: 1,
    });
  });

  it("cuts a long wait into delays of at most maxDelayMs", () => {
    expect(decideTimer(timer({ fireTime: new Date(NOW + 24 * HOUR) }), clock)).toEqual({
      action: "delay",
      delayMs: HOUR,
    });
  });

  it.each([
    TimerKind.TIMER_KIND_RETRY,
    TimerKind.TIMER_KIND_TASK_TIMEOUT,
    TimerKind.TIMER_KIND_EXECUTION_TIMEOUT,
  ])("fires timers of kind %s without looking at heartbeats", (kind) => {
    expect(decideTimer(timer({ kind, taskToken: token }), clock)).toEqual({ action: "fire" });
  });

  it("delays a heartbeat timeout not yet due without reading heartbeats", () => {
    expect(decideTimer(heartbeatTimer(2000), clock)).toEqual({ action: "delay", delayMs: 2000 });
  });

  it("asks for the last heartbeat when a heartbeat timeout is nominally due", () => {
    expect(decideTimer(heartbeatTimer(0), clock)).toEqual({ action: "read-heartbeat" });
  });

  it("postpones a heartbeat timeout to one interval after the last heartbeat", () => {
    expect(decideTimer(heartbeatTimer(0), { ...clock, heartbeat: { lastMs: NOW - 3000 } })).toEqual({
      action: "delay",
      delayMs: 7000,
    });
  });

  it("fires a heartbeat timeout when no heartbeat came within the interval", () => {
    expect(decideTimer(heartbeatTimer(0), { ...clock, heartbeat: { lastMs: NOW - 10_000 } })).toEqual({
      action: "fire",
    });
    expect(decideTimer(heartbeatTimer(-1), { ...clock, heartbeat: { lastMs: undefined } })).toEqual({
      action: "fire",
    });
  });

  it("counts a heartbeat from the future as now", () => {
    expect(decideTimer(heartbeatTimer(0), { ...clock, heartbeat: { lastMs: NOW + 99 * HOUR } })).toEqual({
      action: "delay",
      delayMs: 10_000,
    });
  });
});

describe("validateTimer", () => {
  const subject = subjects.timer(EXEC);
  const problem = (t: Timer, s = subject): string => {
    try {
      validateTimer(t, s);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidTimerError);
      return (err as Error).message;
    }
    return "valid";
  };

  it("accepts the timers the dispatcher arms", () => {
    expect(problem(timer())).toBe("valid");
    expect(problem(heartbeatTimer(0))).toBe("valid");
    expect(problem(timer({ kind: TimerKind.TIMER_KIND_TASK_TIMEOUT, taskToken: token }))).toBe("valid");
    expect(problem(timer({ kind: TimerKind.TIMER_KIND_RETRY }))).toBe("valid");
    expect(problem(timer({ kind: TimerKind.TIMER_KIND_EXECUTION_TIMEOUT }))).toBe("valid");
  });

  it("names what is wrong", () => {
    const id = timerIds.wait(EXEC, 5);
    expect(problem(timer({ timerId: "" }))).toBe('invalid timer "": it has no id');
    expect(problem(timer({ executionId: "a b" }))).toBe(
      `invalid timer "${id}": its execution id is not a valid id`,
    );
    expect(problem(timer(), subjects.timer("other"))).toBe(
      `invalid timer "${id}": received on "${subjects.timer("other")}", not on its execution's timer subject`,
    );
    expect(problem(timer({ fireTime: undefined }))).toBe(`invalid timer "${id}": it has no fire time`);
    expect(problem(timer({ kind: TimerKind.TIMER_KIND_UNSPECIFIED }))).toBe(
      `invalid timer "${id}": unknown kind 0`,
    );
    expect(problem(timer({ kind: TimerKind.TIMER_KIND_TASK_TIMEOUT }))).toBe(
      `invalid timer "${id}": a task timeout needs a task token`,
    );
    expect(problem(timer({ kind: TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT, heartbeatSeconds: 5 }))).toBe(
      `invalid timer "${id}": a heartbeat timeout needs a task token`,
    );
    expect(
      problem(
        timer({ kind: TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT, heartbeatSeconds: 5, taskToken: "x y.1" }),
      ),
    ).toBe(`invalid timer "${id}": a heartbeat timeout needs a task token`);
    expect(problem(timer({ kind: TimerKind.TIMER_KIND_TASK_TIMEOUT, taskToken: "no-event-id" }))).toBe(
      `invalid timer "${id}": a task timeout needs a task token`,
    );
    expect(problem(timer({ kind: TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT, taskToken: token }))).toBe(
      `invalid timer "${id}": a heartbeat timeout needs a heartbeat interval`,
    );
  });
});

describe("parseHeartbeatMs", () => {
  it("reads decimal epoch milliseconds and nothing else", () => {
    expect(parseHeartbeatMs(String(NOW))).toBe(NOW);
    expect(parseHeartbeatMs(` ${NOW}\n`)).toBe(NOW);
    expect(parseHeartbeatMs("")).toBeUndefined();
    expect(parseHeartbeatMs("-5")).toBeUndefined();
    expect(parseHeartbeatMs("1e12")).toBeUndefined();
    expect(parseHeartbeatMs("12.5")).toBeUndefined();
    expect(parseHeartbeatMs("99999999999999999")).toBeUndefined();
  });
});

describe("timerFiredEffect", () => {
  it("sends TimerFired to the timer's execution, de-duplicated by the timer id", () => {
    const t = heartbeatTimer(0);
    const effect = timerFiredEffect(t);
    expect(effect).toMatchObject({
      kind: "publish",
      label: "command",
      subject: subjects.command(EXEC),
      msgId: commandMsgIds.timerFired(t.timerId),
    });
    expect(Command.decode(effect.bytes)).toEqual({
      executionId: EXEC,
      kind: { $case: "timerFired", value: { timer: t } },
    });
  });
});
