import {
  activityArn,
  executionArn,
  parseActivityArn,
  parseExecutionArn,
  parseStateMachineArn,
  stateMachineArn,
} from "./arns";
import { SfnError } from "./errors";

const scope = { region: "eu-west-3", account: "123456789012" };

function errorOf(fn: () => unknown): SfnError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SfnError) return err;
    throw err;
  }
  throw new Error("expected an error");
}

describe("ARNs", () => {
  it("builds the ARNs of state machines, executions and activities in the configured scope", () => {
    expect(stateMachineArn(scope, "orders")).toBe(
      "arn:aws:states:eu-west-3:123456789012:stateMachine:orders",
    );
    expect(executionArn(scope, "orders", "run-1")).toBe(
      "arn:aws:states:eu-west-3:123456789012:execution:orders:run-1",
    );
    expect(activityArn(scope, "billing.charge")).toBe(
      "arn:aws:states:eu-west-3:123456789012:activity:billing.charge",
    );
  });

  it("reads names back from ARNs of any partition, region and account", () => {
    expect(parseStateMachineArn("arn:aws-cn:states:cn-north-1:000000000000:stateMachine:orders")).toBe(
      "orders",
    );
    expect(parseExecutionArn(executionArn(scope, "orders", "run-1"))).toEqual({
      workflow: "orders",
      name: "run-1",
    });
    expect(parseActivityArn(activityArn(scope, "billing.charge"))).toBe("billing.charge");
  });

  it("refuses what is not an ARN of the expected kind with InvalidArn", () => {
    expect(errorOf(() => parseStateMachineArn("orders"))).toMatchObject({
      type: "InvalidArn",
      message: "Invalid Arn: 'orders'",
    });
    expect(errorOf(() => parseStateMachineArn(activityArn(scope, "a"))).type).toBe("InvalidArn");
    expect(errorOf(() => parseStateMachineArn(`${stateMachineArn(scope, "orders")}:3`)).type).toBe(
      "InvalidArn",
    );
    expect(errorOf(() => parseExecutionArn(stateMachineArn(scope, "orders"))).type).toBe("InvalidArn");
    expect(errorOf(() => parseActivityArn(activityArn(scope, "has space"))).type).toBe("InvalidArn");
  });

  it("asks for a missing ARN with ValidationException", () => {
    expect(errorOf(() => parseExecutionArn(undefined))).toMatchObject({
      type: "ValidationException",
      message: "1 validation error detected: executionArn must not be null",
    });
  });
});
