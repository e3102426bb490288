import { ExecutionSnapshot } from "@jetflow/contracts";
import { evaluationEnv, rootExecutionOf } from "./context";

const entropy = { random: () => 0.5, uuid: () => "00000000-0000-4000-8000-000000000000" };
const entered = new Date("2026-12-04T10:00:00.000Z");

function snapshot(): ExecutionSnapshot {
  return ExecutionSnapshot.fromPartial({
    executionId: "exec-1",
    executionName: "order-42",
    workflowName: "orders",
    workflowVersion: 3,
    inputJson: '{"id":42}',
    startTime: new Date("2026-12-04T09:59:59.000Z"),
    redriveCount: 1,
  });
}

describe("evaluationEnv", () => {
  it("gives the $$ context object of the state", () => {
    const s = snapshot();
    const env = evaluationEnv(s, rootExecutionOf(s), "Charge", entered, 2, entropy, "token-1");
    expect(JSON.parse(JSON.stringify(env.context))).toEqual({
      Execution: {
        Id: "exec-1",
        Name: "order-42",
        StartTime: "2026-12-04T09:59:59.000Z",
        RedriveCount: 1,
        Input: { id: 42 },
      },
      State: { EnteredTime: "2026-12-04T10:00:00.000Z", Name: "Charge", RetryCount: 2 },
      StateMachine: { Id: "orders:3", Name: "orders" },
      Task: { Token: "token-1" },
    });
  });

  it("builds the context once, with the snapshot as it was when the state was entered", () => {
    const s = snapshot();
    const env = evaluationEnv(s, rootExecutionOf(s), "Charge", entered, 0, entropy);
    // The decision moves the snapshot on before anything reads `$$`.
    s.redriveCount = 2;
    s.workflowVersion = 4;
    expect(env.context.Execution.RedriveCount).toBe(1);
    expect(env.context.StateMachine.Id).toBe("orders:3");
    expect(env.context).toBe(env.context);
    expect(env.context.Task).toBeUndefined();
  });
});
