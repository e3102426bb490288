import * as asl from "./index";

describe("the public API", () => {
  it("exports every function the engine calls", () => {
    const names = [
      "parseDefinition",
      "validateDefinition",
      "loadDefinition",
      "assertValidDefinition",
      "formatProblems",
      "activityName",
      "effectiveInput",
      "stateOutput",
      "passResult",
      "chooseNext",
      "choiceOutput",
      "waitUntilMs",
      "taskTimeouts",
      "failDetails",
      "decideRetry",
      "findCatcher",
      "catchOutput",
      "mapItems",
      "mapItemInput",
      "mapProcessor",
      "toleratedFailures",
      "maxConcurrency",
      "isTerminal",
      "nextOf",
      "errorMatches",
      "parsePath",
      "evaluatePath",
      "setAtReferencePath",
      "evaluateIntrinsic",
    ];
    for (const name of names) expect(typeof (asl as Record<string, unknown>)[name]).toBe("function");
  });

  it("exports named error classes", () => {
    const statesError = new asl.StatesError("States.Runtime", "boom");
    expect(statesError).toBeInstanceOf(Error);
    expect(statesError.name).toBe("StatesError");
    expect(statesError.message).toBe("States.Runtime: boom");
    expect([statesError.error, statesError.cause]).toEqual(["States.Runtime", "boom"]);
    expect(statesError.toErrorOutput()).toEqual({ Error: "States.Runtime", Cause: "boom" });
    expect(new asl.AslValidationError([]).name).toBe("AslValidationError");
    expect(new asl.ExpressionSyntaxError("path", "$x", 1, "why").name).toBe("ExpressionSyntaxError");
  });

  it("runs a small machine end to end with the pure functions", () => {
    const loaded = asl.loadDefinition(`
StartAt: Greet
States:
  Greet:
    Type: Pass
    Parameters:
      greeting.$: States.Format('Hello, {}!', $.name)
    Next: Check
  Check:
    Type: Choice
    Choices:
      - Variable: $.greeting
        StringMatches: "Hello, *!"
        Next: Done
  Done:
    Type: Succeed
`);
    if (!loaded.ok) throw new Error(asl.formatProblems(loaded.problems));
    const env = {
      context: {
        Execution: { Id: "e", Input: {}, Name: "n", StartTime: "2024-01-01T00:00:00Z" },
        State: { EnteredTime: "2024-01-01T00:00:00Z", Name: "Greet", RetryCount: 0 },
        StateMachine: { Id: "m", Name: "m" },
      },
      random: () => 0,
      uuid: () => "u",
    };
    const greet = loaded.machine.States.Greet;
    const check = loaded.machine.States.Check;
    if (greet?.Type !== "Pass" || check?.Type !== "Choice") throw new Error("unexpected types");
    const afterGreet = asl.passResult(greet, { name: "Ada" }, env);
    expect(afterGreet).toEqual({ greeting: "Hello, Ada!" });
    expect(asl.nextOf(greet)).toBe("Check");
    expect(asl.chooseNext(check, afterGreet)).toBe("Done");
    expect(asl.choiceOutput(check, afterGreet)).toEqual({ greeting: "Hello, Ada!" });
  });
});
