import type { ContextObject, EvaluationEnv } from "./context";

/** A fixed context object for tests. @internal */
export const testContext: ContextObject = {
  Execution: { Id: "exec-1", Input: { start: true }, Name: "run-9", StartTime: "2024-05-01T10:00:00Z" },
  State: { EnteredTime: "2024-05-01T10:00:01Z", Name: "Step", RetryCount: 0 },
  StateMachine: { Id: "machine-1", Name: "orders" },
  Task: { Token: "token-1" },
};

/** A deterministic evaluation environment for tests. @internal */
export function testEnv(overrides: Partial<EvaluationEnv> = {}): EvaluationEnv {
  return {
    context: testContext,
    random: () => 0.25,
    uuid: () => "00000000-0000-4000-8000-000000000000",
    ...overrides,
  };
}
