import { Code, JetflowError } from "./errors";
import { MAX_BACKOFF_MS, backoffMs, withRetries } from "./retry";

/** A fake clock whose sleep advances time and records each wait. */
function fakeTime() {
  let now = 1_000_000;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const unavailable = () => new JetflowError(Code.UNAVAILABLE, "not connected to NATS; try again");

describe("backoffMs", () => {
  it("doubles from 100 ms and stays in the upper half of each step", () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, () => 0))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((n) => backoffMs(n, () => 0.999999))).toEqual([100, 200, 400, 800]);
  });

  it("never waits longer than the cap", () => {
    expect(backoffMs(30, () => 0.999999)).toBe(MAX_BACKOFF_MS);
  });
});

describe("withRetries", () => {
  it("retries UNAVAILABLE with growing waits until an attempt succeeds", async () => {
    const time = fakeTime();
    let attempts = 0;
    const result = await withRetries(
      async () => {
        attempts += 1;
        if (attempts < 3) throw unavailable();
        return "ok";
      },
      { retries: 3, deadlineMs: 30_000, idempotent: true, ...time, random: () => 0 },
    );
    expect(result).toBe("ok");
    expect(attempts).toBe(3);
    expect(time.waits).toEqual([50, 100]);
  });

  it("gives up after the configured number of retries with the last error", async () => {
    const time = fakeTime();
    let attempts = 0;
    const call = withRetries(
      async () => {
        attempts += 1;
        throw unavailable();
      },
      { retries: 2, deadlineMs: 30_000, idempotent: true, ...time },
    );
    await expect(call).rejects.toThrow("UNAVAILABLE: not connected to NATS; try again");
    expect(attempts).toBe(3);
  });

  it("does not retry other codes", async () => {
    let attempts = 0;
    const call = withRetries(
      async () => {
        attempts += 1;
        throw new JetflowError(Code.NOT_FOUND, 'execution "x" does not exist');
      },
      { retries: 3, deadlineMs: 30_000, idempotent: true, ...fakeTime() },
    );
    await expect(call).rejects.toMatchObject({ code: Code.NOT_FOUND });
    expect(attempts).toBe(1);
  });

  it("does not retry a call that is not idempotent", async () => {
    let attempts = 0;
    const call = withRetries(
      async () => {
        attempts += 1;
        throw unavailable();
      },
      { retries: 3, deadlineMs: 30_000, idempotent: false, ...fakeTime() },
    );
    await expect(call).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    expect(attempts).toBe(1);
  });

  it("stops retrying when the next wait would pass the deadline, and gives every attempt the same deadline", async () => {
    const time = fakeTime();
    const deadlines: number[] = [];
    const call = withRetries(
      async (deadline) => {
        deadlines.push(deadline.getTime());
        time.advance(400);
        throw unavailable();
      },
      { retries: 10, deadlineMs: 1_000, idempotent: true, ...time, random: () => 0 },
    );
    await expect(call).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    // Attempts end at 400, 850 and 1 350 ms (after waits of 50 and 100): no time for a 4th.
    expect(deadlines).toEqual([1_001_000, 1_001_000, 1_001_000]);
    expect(time.waits).toEqual([50, 100]);
  });

  it("normalises a thrown gRPC error into a JetflowError", async () => {
    const grpcError = Object.assign(new Error("5 NOT_FOUND: gone"), { code: 5, details: "gone" });
    const call = withRetries(
      async () => {
        throw grpcError;
      },
      { retries: 0, deadlineMs: 1_000, idempotent: true },
    );
    await expect(call).rejects.toBeInstanceOf(JetflowError);
    await expect(call).rejects.toMatchObject({ code: 5, details: "gone", message: "NOT_FOUND: gone" });
  });
});
