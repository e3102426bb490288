import { Code, JetflowError } from "./errors";
import { MAX_BACKOFF_MS, MIN_ATTEMPT_MS, backoffMs, isRetryable, withRetries } from "./retry";

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

describe("isRetryable", () => {
  it("retries UNAVAILABLE only: not a passed deadline, an internal error or a refusal", () => {
    const retryable = [Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED, Code.INTERNAL, Code.ALREADY_EXISTS]
      .map((code) => new JetflowError(code, "x"))
      .map(isRetryable);
    expect(retryable).toEqual([true, false, false, false]);
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
      { deadlineMs: 30_000, idempotent: true, ...time, random: () => 0 },
    );
    expect(result).toBe("ok");
    expect(attempts).toBe(3);
    expect(time.waits).toEqual([50, 100]);
  });

  it("gives up after the given number of retries with the last error", async () => {
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

  it("shortens the last wait so that a last attempt starts just before the deadline, then gives up", async () => {
    const time = fakeTime();
    const deadlines: number[] = [];
    const call = withRetries(
      async (deadline) => {
        deadlines.push(deadline.getTime());
        time.advance(400);
        throw unavailable();
      },
      { deadlineMs: 1_000, idempotent: true, ...time, random: () => 0 },
    );
    await expect(call).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    // Attempts start at 0, 450 and 900 ms: the second wait is cut from 100 to 50 ms so that the
    // third starts MIN_ATTEMPT_MS before the deadline; after it there is no room left.
    expect(deadlines).toEqual([1_001_000, 1_001_000, 1_001_000]);
    expect(time.waits).toEqual([50, 50]);
  });

  it("retries until the deadline when no retry limit is given, numbering the attempts", async () => {
    const time = fakeTime();
    const started = time.now();
    const attemptStarts: number[] = [];
    const numbers: number[] = [];
    const call = withRetries(
      async (_deadline, attemptNumber) => {
        numbers.push(attemptNumber);
        attemptStarts.push(time.now() - started);
        throw unavailable();
      },
      { deadlineMs: 5_000, idempotent: true, ...time, random: () => 0 },
    );
    await expect(call).rejects.toThrow("UNAVAILABLE: not connected to NATS; try again");
    expect(time.waits).toEqual([50, 100, 200, 400, 800, 1_000, 1_000, 1_000, 350]);
    expect(attemptStarts[attemptStarts.length - 1]).toBe(5_000 - MIN_ATTEMPT_MS);
    expect(numbers).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("tells onRetry of each retry before waiting", async () => {
    const events: { retry: number; waitMs: number; code: number }[] = [];
    let attempts = 0;
    await withRetries(
      async () => {
        attempts += 1;
        if (attempts < 3) throw unavailable();
        return "ok";
      },
      {
        deadlineMs: 30_000,
        idempotent: true,
        ...fakeTime(),
        random: () => 0,
        onRetry: (e) => events.push({ retry: e.retry, waitMs: e.waitMs, code: e.error.code }),
      },
    );
    expect(events).toEqual([
      { retry: 1, waitMs: 50, code: Code.UNAVAILABLE },
      { retry: 2, waitMs: 100, code: Code.UNAVAILABLE },
    ]);
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
