/** The figures of one run of a workload, computed the same way for the engine and the floor. */
import { percentiles, perSecond } from "./stats";
import type { Percentiles } from "./stats";

/** One execution as the measurement saw it; times in ms since the epoch, sub-millisecond. */
export interface ExecutionTiming {
  /** When the start was issued. */
  startMs: number;
  /** When the end was seen (the terminal event, or the floor's last write), if it ended. */
  endMs?: number;
  /** Whether it ended as it should (succeeded, with the expected output). */
  ok?: boolean;
  /** When each step's task was scheduled, in order (recorded for W3 only). */
  scheduledMs?: number[];
}

/** What a workload run produced. */
export interface RunFigures {
  executions: number;
  succeeded: number;
  /** Executions that failed, ended with a wrong output, or did not end in time. */
  failed: number;
  /** Of those, the executions that did not end within the run's bound. */
  unfinished: number;
  /** Task steps run: ended executions × Task states per execution (+ the join of a fan-out). */
  steps: number;
  /** From the first start issued to the last end seen, in ms. */
  wallMs: number;
  stepsPerSecond: number;
  executionsPerSecond: number;
  /** End seen − start issued, per execution, in ms. */
  latencyMs: Percentiles;
  /** Time from one step's task being scheduled to the next one's (or to the end), in ms. */
  stepLatencyMs?: Percentiles;
  /** The largest snapshot of the measured execution seen while it ran, in bytes (W2, W5). */
  snapshotBytesMax?: number;
  /** The largest event batch (message on the events stream) seen while it ran, in bytes (W2, W5). */
  batchBytesMax?: number;
}

/** Folds the timings of a run into its figures. */
export function toFigures(
  timings: readonly ExecutionTiming[],
  stepsPerExecution: number,
  firstStartMs: number,
  extraSteps = 0,
): RunFigures {
  const ended = timings.filter((t) => t.endMs !== undefined);
  const succeeded = ended.filter((t) => t.ok === true).length;
  const unfinished = timings.length - ended.length;
  // A run cut short by its bound lasted until now; only the steps of ended executions count.
  const lastEnd =
    unfinished > 0 ? nowMs() : ended.reduce((last, t) => Math.max(last, t.endMs as number), firstStartMs);
  const wallMs = lastEnd - firstStartMs;
  const steps = ended.length * stepsPerExecution + (unfinished === 0 ? extraSteps : 0);
  const stepSamples: number[] = [];
  for (const t of timings) {
    if (!t.scheduledMs || t.endMs === undefined) continue;
    const marks = [...t.scheduledMs, t.endMs];
    for (let i = 1; i < marks.length; i++) stepSamples.push((marks[i] as number) - (marks[i - 1] as number));
  }
  return {
    executions: timings.length,
    succeeded,
    failed: timings.length - succeeded,
    unfinished,
    steps,
    wallMs,
    stepsPerSecond: perSecond(steps, wallMs),
    executionsPerSecond: perSecond(ended.length, wallMs),
    latencyMs: percentiles(ended.map((t) => (t.endMs as number) - t.startMs)),
    ...(stepSamples.length > 0 ? { stepLatencyMs: percentiles(stepSamples) } : {}),
  };
}

/**
 * A promise that resolves to undefined after `ms`, for racing waits against a run's bound;
 * `cancel()` clears its timer.
 */
export function deadline(ms: number): { expired: Promise<undefined>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return { expired, cancel: () => clearTimeout(timer) };
}

/** Milliseconds since the epoch with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
