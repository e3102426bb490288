import { EnvReader } from "@jetflow/service-runtime";
import { RateLimiter, addressOfPeer, createRateLimiter, readRateLimitConfig } from "./rate-limit";

describe("readRateLimitConfig", () => {
  it("is off by default, with a burst of twice the rate once a rate is set", () => {
    expect(readRateLimitConfig(new EnvReader({}))).toEqual({ perSecond: 0, burst: 1, maxCallers: 10_000 });
    expect(createRateLimiter(readRateLimitConfig(new EnvReader({})))).toBeUndefined();
    expect(readRateLimitConfig(new EnvReader({ API_RATE_LIMIT_PER_S: "50" }))).toEqual({
      perSecond: 50,
      burst: 100,
      maxCallers: 10_000,
    });
  });

  it("names a bad value", () => {
    const reader = new EnvReader({ API_RATE_LIMIT_PER_S: "-1", API_RATE_LIMIT_BURST: "0" });
    readRateLimitConfig(reader);
    expect(reader.problems).toEqual([
      'API_RATE_LIMIT_PER_S must be an integer from 0 to 1000000, got "-1"',
      'API_RATE_LIMIT_BURST must be an integer from 1 to 10000000, got "0"',
    ]);
  });
});

describe("RateLimiter", () => {
  let now = 0;
  const limiter = () => new RateLimiter({ perSecond: 2, burst: 3, maxCallers: 2 }, () => now);

  beforeEach(() => {
    now = 1_000_000;
  });

  it("allows a burst, then one call per 1/rate seconds, and says how long to wait", () => {
    const l = limiter();
    expect([l.take("a"), l.take("a"), l.take("a")]).toEqual(Array(3).fill({ allowed: true }));
    expect(l.take("a")).toEqual({ allowed: false, retryAfterMs: 500 });
    now += 200;
    expect(l.take("a")).toEqual({ allowed: false, retryAfterMs: 300 });
    now += 300;
    expect(l.take("a")).toEqual({ allowed: true });
    expect(l.take("a")).toEqual({ allowed: false, retryAfterMs: 500 });
  });

  it("keeps callers apart and refills to the burst, not beyond", () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) l.take("a");
    expect(l.take("b")).toEqual({ allowed: true });
    now += 60_000;
    for (let i = 0; i < 3; i++) expect(l.take("a")).toEqual({ allowed: true });
    expect(l.take("a").allowed).toBe(false);
  });

  it("keeps at most maxCallers buckets, forgetting the least recently seen", () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) l.take("a");
    l.take("b");
    l.take("c");
    expect(l.size).toBe(2);
    // "a" was evicted: it starts again with a full bucket.
    expect(l.take("a")).toEqual({ allowed: true });
    expect(l.size).toBe(2);
  });

  it("refills nothing when the clock steps back", () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) l.take("a");
    now -= 10_000;
    expect(l.take("a").allowed).toBe(false);
  });
});

describe("addressOfPeer", () => {
  it("drops the scheme and the port", () => {
    expect(addressOfPeer("ipv4:10.1.2.3:5678")).toBe("10.1.2.3");
    expect(addressOfPeer("10.1.2.3:5678")).toBe("10.1.2.3");
    expect(addressOfPeer("ipv6:[::1]:5678")).toBe("::1");
    expect(addressOfPeer("[2001:db8::1]:443")).toBe("2001:db8::1");
    expect(addressOfPeer("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(addressOfPeer("::1")).toBe("::1");
  });
});
