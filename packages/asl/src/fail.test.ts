import { failDetails } from "./fail";
import { isTerminal, nextOf } from "./flow";
import { testEnv } from "./test-env.test-helper";

describe("failDetails", () => {
  it("returns the static Error and Cause, the spec's Kaiju example", () => {
    expect(failDetails({ Type: "Fail", Error: "ErrorA", Cause: "Kaiju attack" }, {})).toEqual({
      error: "ErrorA",
      cause: "Kaiju attack",
    });
  });

  it("gives empty strings for missing fields", () => {
    expect(failDetails({ Type: "Fail" }, {})).toEqual({ error: "", cause: "" });
  });

  it("reads ErrorPath and CausePath from the raw input", () => {
    expect(
      failDetails({ Type: "Fail", ErrorPath: "$.Error", CausePath: "$.Cause" }, { Error: "E", Cause: "C" }),
    ).toEqual({ error: "E", cause: "C" });
  });

  it("evaluates intrinsic functions and context paths", () => {
    const state = {
      Type: "Fail" as const,
      ErrorPath: "States.Format('{}.Failed', $.step)",
      CausePath: "$$.Execution.Name",
    };
    expect(failDetails(state, { step: "Charge" }, testEnv())).toEqual({
      error: "Charge.Failed",
      cause: "run-9",
    });
  });

  it("fails with States.Runtime when a path misses or yields no string", () => {
    expect(() => failDetails({ Type: "Fail", ErrorPath: "$.e" }, {})).toThrow(
      `States.Runtime: ErrorPath "$.e" matches nothing in the state's input`,
    );
    expect(() => failDetails({ Type: "Fail", CausePath: "$.c" }, { c: { x: 1 } })).toThrow(
      'States.Runtime: CausePath "$.c" gave an object, not a string',
    );
    expect(() => failDetails({ Type: "Fail", CausePath: "States.UUID()" }, {})).toThrow(
      "States.IntrinsicFailure: no UUID source is available here",
    );
  });
});

describe("isTerminal and nextOf", () => {
  it("knows which states end a machine", () => {
    expect(isTerminal({ Type: "Succeed" })).toBe(true);
    expect(isTerminal({ Type: "Fail" })).toBe(true);
    expect(isTerminal({ Type: "Pass", End: true })).toBe(true);
    expect(isTerminal({ Type: "Pass", Next: "B" })).toBe(false);
    expect(isTerminal({ Type: "Choice", Choices: [] })).toBe(false);
  });

  it("returns the unconditional successor", () => {
    expect(nextOf({ Type: "Task", Resource: "x", Next: "B" })).toBe("B");
    expect(nextOf({ Type: "Task", Resource: "x", End: true })).toBeUndefined();
    expect(nextOf({ Type: "Choice", Choices: [], Default: "D" })).toBeUndefined();
    expect(nextOf({ Type: "Succeed" })).toBeUndefined();
  });
});
