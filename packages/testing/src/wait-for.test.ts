import { WaitForTimeoutError } from "./errors";
import { waitFor } from "./wait-for";

describe("waitFor", () => {
  it("returns the first truthy value of a synchronous predicate", async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? `done after ${calls}` : undefined), { intervalMs: 1 });
    expect(value).toBe("done after 3");
  });

  it("treats a thrown error or a rejection as not yet", async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        calls++;
        if (calls === 1) throw new Error("not ready");
        if (calls === 2) return Promise.reject(new Error("still not ready"));
        return 42;
      },
      { intervalMs: 1 },
    );
    expect(value).toBe(42);
    expect(calls).toBe(3);
  });

  it("keeps polling on every falsy value", async () => {
    const falsy = [false, 0, "", null, undefined];
    const value = await waitFor(() => (falsy.length > 0 ? falsy.shift() : "truthy"), { intervalMs: 1 });
    expect(value).toBe("truthy");
  });

  it("times out with the message and the last error thrown", async () => {
    let calls = 0;
    const waiting = waitFor(
      () => {
        calls++;
        throw new Error(`attempt ${calls} failed`);
      },
      { timeoutMs: 60, intervalMs: 10, message: "the stream to exist" },
    );
    const err: unknown = await waiting.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitForTimeoutError);
    const timeout = err as WaitForTimeoutError;
    expect(timeout.message).toBe(
      `timed out after 60 ms waiting for the stream to exist: last error: attempt ${calls} failed`,
    );
    expect(timeout.timeoutMs).toBe(60);
    expect(timeout.cause).toBe(timeout.lastError);
    expect((timeout.lastError as Error).message).toBe(`attempt ${calls} failed`);
    expect(calls).toBeGreaterThan(1);
  });

  it("names the default condition and has no cause when the predicate never threw", async () => {
    const err: unknown = await waitFor(() => false, 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitForTimeoutError);
    expect((err as Error).message).toBe("timed out after 20 ms waiting for condition");
    expect((err as Error).cause).toBeUndefined();
  });

  it("does not let a predicate that never settles outlast the timeout", async () => {
    const started = Date.now();
    const err: unknown = await waitFor(() => new Promise<boolean>(() => {}), { timeoutMs: 50 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WaitForTimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("stops at once with the signal's reason when aborted", async () => {
    const aborter = new AbortController();
    const reason = new Error("server exited");
    const waiting = waitFor(() => false, { timeoutMs: 60_000, signal: aborter.signal });
    setTimeout(() => aborter.abort(reason), 10);
    await expect(waiting).rejects.toBe(reason);
  });
});
