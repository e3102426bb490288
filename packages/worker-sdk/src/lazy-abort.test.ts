import { LazyAbort } from "./lazy-abort";

describe("LazyAbort", () => {
  it("fires a signal taken before the abort, with the reason", () => {
    const abort = new LazyAbort();
    const signal = abort.signal;
    const seen: unknown[] = [];
    signal.addEventListener("abort", () => seen.push(signal.reason));
    const reason = new Error("deadline");
    abort.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(seen).toEqual([reason]);
    expect(abort.reason).toBe(reason);
  });

  it("gives an aborted signal when asked for after the abort", () => {
    const abort = new LazyAbort();
    const reason = new Error("cancelled");
    abort.abort(reason);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(reason);
  });

  it("keeps the first reason, and no reason until aborted", () => {
    const abort = new LazyAbort();
    expect(abort.reason).toBeUndefined();
    expect(abort.signal.aborted).toBe(false);
    abort.abort("first");
    abort.abort("second");
    expect(abort.reason).toBe("first");
    expect(abort.signal.reason).toBe("first");
  });
});
