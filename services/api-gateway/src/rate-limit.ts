/**
 * Per-caller rate limiting of the API: a token bucket per authenticated identity, or per remote
 * address for callers without one (authentication off, or credentials refused). Buckets live in
 * an LRU cache of bounded size, so a flood of distinct callers costs bounded memory; a caller
 * whose bucket was evicted starts again with a full one.
 */
import { LruCache } from "@jetflow/service-runtime";
import type { EnvReader } from "@jetflow/service-runtime";

/** How fast each caller may call. */
export interface RateLimitConfig {
  /** API_RATE_LIMIT_PER_S: calls per second each caller may sustain; 0 turns limiting off. Default 0. */
  perSecond: number;
  /** API_RATE_LIMIT_BURST: calls a caller may make at once after a quiet spell. Default 2 × perSecond. */
  burst: number;
  /** API_RATE_LIMIT_CALLERS: how many callers' buckets are kept (least recently seen go first). Default 10000. */
  maxCallers: number;
}

/** Reads API_RATE_LIMIT_*; problems go to `reader`. */
export function readRateLimitConfig(reader: EnvReader): RateLimitConfig {
  const perSecond = reader.integer("API_RATE_LIMIT_PER_S", 0, 0, 1_000_000);
  return {
    perSecond,
    burst: reader.integer("API_RATE_LIMIT_BURST", Math.max(1, 2 * perSecond), 1, 10_000_000),
    maxCallers: reader.integer("API_RATE_LIMIT_CALLERS", 10_000, 1, 10_000_000),
  };
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** The outcome of {@link RateLimiter.take}: allowed, or refused with the wait until the next call. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** Token buckets by caller key; see the module comment. Pure apart from the injected clock. */
export class RateLimiter {
  readonly #buckets: LruCache<string, Bucket>;

  constructor(
    readonly config: RateLimitConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.#buckets = new LruCache(config.maxCallers);
  }

  /** The number of callers tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one call from `key`'s bucket. */
  take(key: string): RateDecision {
    const { perSecond, burst } = this.config;
    const now = this.now();
    const bucket = this.#buckets.get(key) ?? { tokens: burst, updatedMs: now };
    // A clock that steps back refills nothing rather than draining.
    const elapsedMs = Math.max(0, now - bucket.updatedMs);
    bucket.tokens = Math.min(burst, bucket.tokens + (elapsedMs * perSecond) / 1000);
    bucket.updatedMs = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) * 1000) / perSecond) };
  }
}

/** A limiter for `config`, or undefined when limiting is off (API_RATE_LIMIT_PER_S=0). */
export function createRateLimiter(config: RateLimitConfig | undefined): RateLimiter | undefined {
  return config === undefined || config.perSecond <= 0 ? undefined : new RateLimiter(config);
}

/** The address part of a grpc-js peer (`ipv4:1.2.3.4:5678`, `[::1]:5678`) or of a socket address. */
export function addressOfPeer(peer: string): string {
  const withoutScheme = peer.replace(/^(ipv4|ipv6|unix):/, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(withoutScheme);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(withoutScheme);
  if (v4?.[1] !== undefined) return v4[1];
  // An IPv4-mapped IPv6 address as node:net reports it, or a bare IPv6 address.
  return withoutScheme.startsWith("::ffff:") ? withoutScheme.slice(7) : withoutScheme;
}

/** A call refused by the rate limiter: RESOURCE_EXHAUSTED, with the wait in `retryAfterMs`. */
export class RateLimitedError extends Error {
  override readonly name = "RateLimitedError";
  constructor(
    /** How long until the caller's next call is allowed, in ms. */
    readonly retryAfterMs: number,
    config: RateLimitConfig,
  ) {
    super(
      `rate limit exceeded: at most ${config.perSecond} calls per second (bursts of ${config.burst}); retry in ${retryAfterMs} ms`,
    );
  }
}
