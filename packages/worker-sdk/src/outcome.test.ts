import { failureOutcome, parseInput, successOutcome, tooLargeOutcome } from "./outcome";

describe("parseInput", () => {
  it("parses JSON documents of every kind", () => {
    expect(parseInput('{"a":[1,2]}')).toEqual({ ok: true, value: { a: [1, 2] } });
    expect(parseInput("null")).toEqual({ ok: true, value: null });
    expect(parseInput('"x"')).toEqual({ ok: true, value: "x" });
  });

  it("fails with States.Runtime on text that is not JSON", () => {
    const parsed = parseInput("{nope");
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.failure.error).toBe("States.Runtime");
    expect(parsed.failure.cause).toMatch(/^task input is not valid JSON: /);
  });

  it("fails on an empty input: a task always carries a JSON document", () => {
    expect(parseInput("").ok).toBe(false);
  });
});

describe("successOutcome", () => {
  it("serialises the handler's value", () => {
    expect(successOutcome({ sent: true })).toEqual({ $case: "outputJson", value: '{"sent":true}' });
    expect(successOutcome(0)).toEqual({ $case: "outputJson", value: "0" });
    expect(successOutcome("")).toEqual({ $case: "outputJson", value: '""' });
  });

  it("turns undefined and null into the JSON null", () => {
    expect(successOutcome(undefined)).toEqual({ $case: "outputJson", value: "null" });
    expect(successOutcome(null)).toEqual({ $case: "outputJson", value: "null" });
  });

  it("fails with States.Runtime on values JSON cannot carry", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    for (const value of [10n, cyclic, () => 1, Symbol("s")]) {
      const outcome = successOutcome(value);
      expect(outcome.$case).toBe("failure");
      if (outcome.$case !== "failure") continue;
      expect(outcome.value.error).toBe("States.Runtime");
      expect(outcome.value.cause).toMatch(/^task output is not JSON-serialisable: /);
    }
    expect(successOutcome(() => 1)).toEqual({
      $case: "failure",
      value: {
        error: "States.Runtime",
        cause: "task output is not JSON-serialisable: a function has no JSON form",
      },
    });
  });
});

describe("failureOutcome", () => {
  it("keeps an ASL error name and classifies the rest as States.TaskFailed", () => {
    class PaymentDeclined extends Error {
      override name = "PaymentDeclined";
    }
    expect(failureOutcome(new PaymentDeclined("card expired"))).toEqual({
      $case: "failure",
      value: { error: "PaymentDeclined", cause: "card expired" },
    });
    expect(failureOutcome(new TypeError("x is undefined"))).toEqual({
      $case: "failure",
      value: { error: "States.TaskFailed", cause: "x is undefined" },
    });
    expect(failureOutcome("plain string")).toEqual({
      $case: "failure",
      value: { error: "States.TaskFailed", cause: "plain string" },
    });
  });
});

describe("tooLargeOutcome", () => {
  it("names both sizes", () => {
    expect(tooLargeOutcome(2_000_000, 1_048_576)).toEqual({
      $case: "failure",
      value: {
        error: "States.DataLimitExceeded",
        cause: "task result of 2000000 bytes exceeds the server's max payload of 1048576 bytes",
      },
    });
  });
});
