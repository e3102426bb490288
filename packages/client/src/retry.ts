/**
 * Retries of idempotent calls that failed with a transient status (UNAVAILABLE: the gateway
 * restarting, NATS unreachable, a service behind the gateway not answering), with exponential
 * back-off and jitter, until the call's deadline.
 */
import { Code, JetflowError } from "./errors";

/** Back-off of the first retry, in ms; each further retry doubles it up to MAX_BACKOFF_MS. */
export const BASE_BACKOFF_MS = 100;
/** Longest wait between two attempts, in ms. */
export const MAX_BACKOFF_MS = 2_000;
/**
 * The least time worth starting one more attempt with, in ms: a wait is shortened so that a last
 * attempt still starts this long before the deadline, and no attempt starts later than that.
 */
export const MIN_ATTEMPT_MS = 100;

/**
 * The wait before retry number `retry` (1-based): BASE_BACKOFF_MS doubled per retry, capped at
 * MAX_BACKOFF_MS, then a random point in its upper half (so clients that failed together spread).
 */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * True for the statuses worth retrying an idempotent call on: UNAVAILABLE is the only one the
 * gateway answers for a transient failure (NATS or a service behind it not answering) and the
 * one grpc-js reports while it cannot reach the gateway. DEADLINE_EXCEEDED is not retried: the
 * deadline is the whole call's.
 */
export function isRetryable(err: JetflowError): boolean {
  return err.code === Code.UNAVAILABLE;
}

/** What `withRetries` tells `onRetry` before it waits. */
export interface RetryEvent {
  /** The error of the attempt that just failed. */
  error: JetflowError;
  /** The number of the retry about to be made, from 1. */
  retry: number;
  /** How long it waits before that retry, in ms. */
  waitMs: number;
}

/** Options of `withRetries`. */
export interface RetryOptions {
  /** Time for the whole call, attempts and waits included, in ms. */
  deadlineMs: number;
  /** False for calls that must not run twice: then no retry at all. */
  idempotent: boolean;
  /** Most retries after the first attempt. Default Infinity: only the deadline limits them. */
  retries?: number;
  /** Called before each wait, e.g. to log the retry. Default none. */
  onRetry?: (event: RetryEvent) => void;
  /** The clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** Waits `ms`. Default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Random numbers in [0, 1) for the jitter. Default Math.random. */
  random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` (given the absolute deadline of the whole call and its attempt number, from 1)
 * until it succeeds, fails with a status that is not retryable, runs out of retries, or the
 * deadline leaves no time for another attempt. A wait that would end too close to the deadline is
 * shortened, so the last attempt is made just before it.
 * @throws JetflowError the last attempt's error, normalised
 */
export async function withRetries<T>(
  attempt: (deadline: Date, attemptNumber: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const maxRetries = options.retries ?? Infinity;
  const deadline = now() + options.deadlineMs;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(new Date(deadline), retry + 1);
    } catch (thrown) {
      const error = JetflowError.from(thrown);
      if (!options.idempotent || !isRetryable(error) || retry >= maxRetries) throw error;
      const room = deadline - MIN_ATTEMPT_MS - now();
      if (room <= 0) throw error;
      const waitMs = Math.min(backoffMs(retry + 1, options.random), room);
      options.onRetry?.({ error, retry: retry + 1, waitMs });
      await sleep(waitMs);
    }
  }
}
