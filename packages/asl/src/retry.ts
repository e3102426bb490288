import type { EvaluationEnv } from "./context";
import { isJsonataState, jsonataCatchOutput } from "./jsonata-states";
import { applyResultPath, errorOutput } from "./data-flow";
import { ErrorNames, StatesError } from "./errors";
import type { Json } from "./json";
import type { MapState, ParallelState, TaskState } from "./types";

/** A state that may carry Retry and Catch. */
export type RecoverableState = TaskState | ParallelState | MapState;

/** Retrier defaults from the spec. */
export const RETRY_DEFAULTS = Object.freeze({ IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2.0 });

/**
 * Longest delay jetflow computes between two attempts when no MaxDelaySeconds caps it: one year
 * (the longest Step Functions standard execution), so huge backoffs cannot overflow a timer.
 */
export const MAX_RETRY_DELAY_SECONDS = 366 * 24 * 3600;

/** Errors that no Retry or Catch can handle: Step Functions always fails the execution on them. */
const UNHANDLEABLE: ReadonlySet<string> = new Set([ErrorNames.Runtime, "States.DataLimitExceeded"]);

/**
 * Reports whether an `ErrorEquals` list matches `errorName`. `States.ALL` matches everything
 * except `States.Runtime` (and `States.DataLimitExceeded`), which nothing matches, not even by
 * name. Like Step Functions, `States.TaskFailed` also matches any error a task reports with its
 * own (non-`States.`) name.
 */
export function errorMatches(errorEquals: readonly string[], errorName: string): boolean {
  if (UNHANDLEABLE.has(errorName)) return false;
  return errorEquals.some(
    (name) =>
      name === errorName ||
      name === ErrorNames.ALL ||
      (name === ErrorNames.TaskFailed && !errorName.startsWith("States.")),
  );
}

/** What to do about an error: retry after `delayMs` (and count it against `retrierIndex`), or not. */
export type RetryDecision = { retry: true; delayMs: number; retrierIndex: number } | { retry: false };

/**
 * Decides whether to retry after `errorName`. The first retrier whose ErrorEquals matches
 * decides alone: if its attempts (`retryCounts[index]`, 0 when absent) have reached MaxAttempts
 * (default 3; 0 never retries) there is no retry, even if a later retrier also matches. Otherwise
 * the delay is IntervalSeconds (default 1) × BackoffRate (default 2.0) ^ attempts, capped by
 * MaxDelaySeconds, and with JitterStrategy FULL scaled by `random()` ∈ [0, 1). The caller applies
 * the delay and increments `retryCounts[retrierIndex]`; counts reset when the state is left.
 */
export function decideRetry(
  state: RecoverableState,
  errorName: string,
  retryCounts: readonly number[],
  random: () => number,
): RetryDecision {
  const retriers = state.Retry ?? [];
  const index = retriers.findIndex((retrier) => errorMatches(retrier.ErrorEquals, errorName));
  if (index < 0) return { retry: false };
  const retrier = retriers[index] as NonNullable<TaskState["Retry"]>[number];
  const attempts = retryCounts[index] ?? 0;
  if (attempts >= (retrier.MaxAttempts ?? RETRY_DEFAULTS.MaxAttempts)) return { retry: false };
  const interval = retrier.IntervalSeconds ?? RETRY_DEFAULTS.IntervalSeconds;
  const backoff = retrier.BackoffRate ?? RETRY_DEFAULTS.BackoffRate;
  const cap = Math.min(retrier.MaxDelaySeconds ?? MAX_RETRY_DELAY_SECONDS, MAX_RETRY_DELAY_SECONDS);
  let delaySeconds = Math.min(interval * Math.pow(backoff, attempts), cap);
  if (retrier.JitterStrategy === "FULL") {
    const r = random();
    if (!(r >= 0 && r < 1)) throw new RangeError(`random() must return a number in [0, 1), got ${String(r)}`);
    delaySeconds *= r;
  }
  return { retry: true, delayMs: Math.round(delaySeconds * 1000), retrierIndex: index };
}

/** The first Catcher whose ErrorEquals matches `errorName`, with its index, or `undefined`. */
export function findCatcher(
  state: RecoverableState,
  errorName: string,
): { next: string; index: number } | undefined {
  const catchers = state.Catch ?? [];
  const index = catchers.findIndex((catcher) => errorMatches(catcher.ErrorEquals, errorName));
  if (index < 0) return undefined;
  return { next: (catchers[index] as NonNullable<TaskState["Catch"]>[number]).Next, index };
}

/**
 * The input for a Catcher's Next state: the Error Output `{ Error, Cause }` placed by the
 * Catcher's ResultPath (default `$`: the Error Output alone; `null`: the raw input) into the
 * state's raw input. No OutputPath applies. Throws `StatesError` `States.ResultPathMatchFailure`.
 */
export function catchOutput(
  state: RecoverableState,
  catcherIndex: number,
  rawInput: Json,
  error: { error: string; cause: string },
  env?: EvaluationEnv,
): Json {
  const catcher = state.Catch?.[catcherIndex];
  if (catcher === undefined) {
    throw new StatesError(ErrorNames.Runtime, `state has no Catcher at index ${catcherIndex}`);
  }
  if (isJsonataState(state))
    return jsonataCatchOutput(catcher, catcherIndex, rawInput, errorOutput(error), env);
  return applyResultPath(catcher.ResultPath, rawInput, errorOutput(error));
}
