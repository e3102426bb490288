/**
 * The activities the end-to-end tests run, shared by in-process workers and the worker process
 * (`test-worker.ts`). Each mirrors a situation a real worker meets.
 */
import { trace } from "@opentelemetry/api";
import type { TaskContext, TaskHandlers } from "@jetflow/worker-sdk";

function named(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Handlers by activity name. */
export const testActivities: TaskHandlers = {
  /** `{n}` → `{n: n+1}`. */
  inc: (input: { n: number }) => ({ n: input.n + 1 }),
  /** Throws the error named in the input. */
  fail: (input: { error?: string; cause?: string }) => {
    throw input.error ? named(input.error, input.cause ?? "failed") : new Error(input.cause ?? "failed");
  },
  /** Fails with `Flaky` until attempt `succeedOn`. */
  flaky: (input: { succeedOn: number }, ctx: TaskContext) => {
    if (ctx.attempt < input.succeedOn) throw named("Flaky", `attempt ${ctx.attempt} failed`);
    return { attempt: ctx.attempt };
  },
  /** Sleeps `ms` (returns early when aborted), then `{slept: ms}`. */
  sleep: async (input: { ms: number }, ctx: TaskContext) => {
    await sleep(input.ms, ctx.signal);
    return { slept: input.ms, aborted: ctx.signal.aborted };
  },
  /** Never finishes on its own; ends when aborted. */
  hang: async (_input: unknown, ctx: TaskContext) => {
    await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
    return { aborted: true };
  },
  /** Sleeps `ms`, then `{n: n+1, ms}`: a step of a chain that takes a while. */
  "sleep-inc": async (input: { n: number; ms: number }, ctx: TaskContext) => {
    await sleep(input.ms, ctx.signal);
    return { n: input.n + 1, ms: input.ms };
  },
  /** Echoes its input. */
  echo: (input: unknown) => input,
  /**
   * Fails with `Flaky` until attempt `succeedOn`, then returns the id of the span active in the
   * handler (the worker's task span when tracing is on, "" otherwise).
   */
  "traced-flaky": (input: { succeedOn: number }, ctx: TaskContext) => {
    if (ctx.attempt < input.succeedOn) throw named("Flaky", `attempt ${ctx.attempt} failed`);
    return { activeSpanId: trace.getActiveSpan()?.spanContext().spanId ?? "" };
  },
};
