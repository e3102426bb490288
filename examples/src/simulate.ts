/**
 * What the example activities use instead of real services: latency and failures that depend only
 * on the input (a hash of a business key) and the attempt number, so a run is repeatable and tests
 * can predict it.
 */

/** A 32-bit FNV-1a hash of `text`: stable across processes and releases. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** An error whose `name` is the ASL error name that Retry and Catch match. */
export function aslError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

/** Sleeps `ms` milliseconds, returning early when `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Simulated latency of the external systems the activities stand for. */
export interface Latency {
  /**
   * Waits about `baseMs` (between half and one and a half times it, fixed per `key`), scaled by the
   * worker's latency factor; returns early when `signal` fires.
   */
  wait(baseMs: number, key: string, signal?: AbortSignal): Promise<void>;
}

/** Latency scaled by `factor` (0 turns it off, 1 is the realistic default). */
export function createLatency(factor: number): Latency {
  return {
    wait(baseMs, key, signal) {
      const spread = 0.5 + (stableHash(key) % 1000) / 1000;
      return sleep(Math.round(baseMs * spread * factor), signal);
    },
  };
}

/** Rounds an amount of money to cents. */
export function cents(amount: number): number {
  return Math.round(amount * 100) / 100;
}
