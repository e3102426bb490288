import type * as Asl from "./index";
import type { ChoiceState, PassState } from "./types";

/**
 * JSONPath workflows never load the jsonata package: loading, validating and evaluating them
 * must not require it (it is required on first use by a JSONata state).
 */
describe("the jsonata package", () => {
  it("is not loaded by JSONPath definitions, only by the first JSONata expression", () => {
    let loaded = 0;
    jest.isolateModules(() => {
      jest.doMock("jsonata", () => {
        loaded++;
        return jest.requireActual("jsonata");
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const asl = require("./index") as typeof Asl;
      const machine = asl.assertValidDefinition(
        JSON.stringify({
          StartAt: "A",
          States: {
            A: { Type: "Pass", Parameters: { "x.$": "$.x" }, Assign: { "y.$": "$.x" }, Next: "B" },
            B: { Type: "Choice", Choices: [{ Variable: "$y", NumericEquals: 1, Next: "C" }], Default: "C" },
            C: { Type: "Succeed" },
          },
        }),
      );
      const env = {
        context: {
          Execution: { Id: "e", Input: {}, Name: "e", StartTime: "2024-01-01T00:00:00Z" },
          State: { EnteredTime: "2024-01-01T00:00:00Z", Name: "A", RetryCount: 0 },
          StateMachine: { Id: "m", Name: "m" },
        },
        random: () => 0.5,
        uuid: () => "u",
        variables: { y: 1 },
      };
      const state = machine.States.A as PassState;
      expect(asl.passResult(state, { x: 1 }, env)).toEqual({ x: 1 });
      expect(asl.stateAssignments(state, { x: 1 }, { x: 1 }, env)).toEqual({ y: 1 });
      expect(asl.chooseRule(machine.States.B as ChoiceState, {}, env).ruleIndex).toBe(0);
      expect(loaded).toBe(0);
      expect(
        asl.evaluateJsonata("1 + 1", { states: { input: {}, context: env.context }, env }, "Output"),
      ).toBe(2);
      expect(loaded).toBe(1);
    });
  });
});
