import { WaitForTimeoutError } from "./errors";

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** How long to keep trying, in milliseconds. Default 30_000: generous, for a busy machine. */
  timeoutMs?: number;
  /** Pause between two attempts, in milliseconds. Default 25. */
  intervalMs?: number;
  /** What is awaited, for the timeout error: `timed out after 30000 ms waiting for <message>`. Default "condition". */
  message?: string;
  /** Stops waiting at once when aborted; `waitFor` then rejects with the signal's reason. Default none. */
  signal?: AbortSignal;
}

/** The values `waitFor` keeps polling on. */
type Falsy = false | 0 | 0n | "" | null | undefined;

/**
 * Calls `fn` until it returns (or resolves to) a truthy value and returns that value. A throw counts as
 * "not yet". Every attempt is bounded by the remaining time, so a hung `fn` cannot outlast the timeout.
 * A number as second argument is shorthand for `{ timeoutMs }`.
 *
 * @throws {WaitForTimeoutError} after `timeoutMs` (default 30_000), quoting the last error `fn` threw
 */
export async function waitFor<T>(
  fn: () => T | PromiseLike<T>,
  options: WaitForOptions | number = {},
): Promise<Exclude<Awaited<T>, Falsy>> {
  const opts = typeof options === "number" ? { timeoutMs: options } : options;
  const { timeoutMs = 30_000, intervalMs = 25, message = "condition", signal } = opts;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await within(Promise.resolve().then(fn), deadline - Date.now(), signal);
      if (value !== timedOut && value) return value as Exclude<Awaited<T>, Falsy>;
    } catch (err) {
      signal?.throwIfAborted();
      lastError = err;
    }
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) throw new WaitForTimeoutError(message, timeoutMs, lastError);
    await within(never, Math.min(intervalMs, remainingMs), signal);
  }
}

const timedOut: unique symbol = Symbol("timed out");
const never = new Promise<never>(() => {});

/** Settles like `promise`, or resolves to `timedOut` after `ms`, or rejects when `signal` aborts. */
function within<T>(
  promise: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<T | typeof timedOut> {
  // A late rejection of an abandoned attempt must not surface as an unhandled rejection.
  promise.catch(() => {});
  return new Promise<T | typeof timedOut>((resolve, reject) => {
    const onAbort = (): void => {
      settle();
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        settle();
        resolve(timedOut);
      },
      Math.max(ms, 0),
    );
    const settle = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        settle();
        resolve(value);
      },
      (err: unknown) => {
        settle();
        reject(err);
      },
    );
  });
}
