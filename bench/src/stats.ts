/** Small statistics over latency samples. */

/** p50, p99 and max of a set of samples, in their unit (milliseconds here). */
export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * The nearest-rank percentiles of `samples` (not modified). An empty set gives zeros with
 * `count: 0`, so a report can still be printed.
 */
export function percentiles(samples: readonly number[]): Percentiles {
  if (samples.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number): number =>
    sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
  return { count: sorted.length, p50: rank(0.5), p99: rank(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

/** `count` per second over `ms` milliseconds; 0 for an empty interval. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : 0;
}

/** Runs `fn` on every item with at most `limit` calls in flight; resolves to the results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
