/**
 * Retries of calls that failed with UNAVAILABLE (the gateway restarting, NATS unreachable), with
 * exponential back-off and jitter, all within the call's deadline.
 */
import { Code, JetflowError } from "./errors";

/** Back-off of the first retry, in ms; each further retry doubles it up to MAX_BACKOFF_MS. */
export const BASE_BACKOFF_MS = 100;
/** Longest wait between two attempts, in ms. */
export const MAX_BACKOFF_MS = 2_000;

/**
 * The wait before retry number `retry` (1-based): BASE_BACKOFF_MS doubled per retry, capped at
 * MAX_BACKOFF_MS, then a random point in its upper half (so clients that failed together spread).
 */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Options of `withRetries`. */
export interface RetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** Time for the whole call, attempts and waits included, in ms. */
  deadlineMs: number;
  /** False for calls that must not run twice: then no retry at all. */
  idempotent: boolean;
  /** The clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** Waits `ms`. Default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Random numbers in [0, 1) for the jitter. Default Math.random. */
  random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` (given the absolute deadline of the whole call) until it succeeds, fails with
 * anything but UNAVAILABLE, runs out of retries, or the next wait would pass the deadline.
 * @throws JetflowError the last attempt's error, normalised
 */
export async function withRetries<T>(
  attempt: (deadline: Date) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const deadline = now() + options.deadlineMs;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(new Date(deadline));
    } catch (thrown) {
      const err = JetflowError.from(thrown);
      if (!options.idempotent || err.code !== Code.UNAVAILABLE || retry >= options.retries) throw err;
      const wait = backoffMs(retry + 1, options.random);
      if (now() + wait >= deadline) throw err;
      await sleep(wait);
    }
  }
}
