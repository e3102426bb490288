import type { ExecutionSnapshot } from "@jetflow/contracts";
import type { Identity } from "../auth";
import { METHOD_ROLES } from "../auth";
import { OPERATION_PERMISSIONS, createSfnAuthorizer } from "./authorize";
import { SfnError } from "./errors";
import { operations } from "./operations";

const scope = { region: "us-east-1", account: "000000000000" };
const key = (name: string, role: Identity["role"], workflowPrefixes?: string[]): Identity => ({
  name,
  role,
  workflowPrefixes,
  via: "sigv4",
});
const executions = {
  load: (id: string) =>
    Promise.resolve(
      id === "n-other" ? ({ workflowName: "other-flow" } as unknown as ExecutionSnapshot) : undefined,
    ),
};
const authorize = createSfnAuthorizer({
  keyIdentities: new Map([
    ["READ", key("reader-bot", "reader")],
    ["OPS", key("ops", "operator")],
    ["TEAM", key("team-a-ci", "operator", ["team-a-"])],
    ["ROOT", key("root", "admin")],
  ]),
  executions,
  scope,
});
const signer = (accessKeyId: string) => ({ accessKeyId, region: "us-east-1", service: "states" });
const machine = (name: string) => `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`;
const execution = (name: string) => `arn:aws:states:us-east-1:000000000000:execution:${name}:e1`;

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SfnError);
    expect((err as SfnError).type).toBe("AccessDeniedException");
    return (err as SfnError).message;
  }
  throw new Error("expected a refusal");
}

describe("the Step Functions authorizer", () => {
  it("gives every operation a permission of the gRPC API's role table", () => {
    for (const name of Object.keys(operations)) {
      expect(OPERATION_PERMISSIONS[name]).toBeDefined();
      expect(METHOD_ROLES[OPERATION_PERMISSIONS[name]?.method ?? "RegisterWorkflow"]).toBeDefined();
    }
  });

  it("lets a reader describe and list, and refuses it anything that changes an execution", async () => {
    for (const operation of [
      "DescribeStateMachine",
      "ListStateMachines",
      "DescribeExecution",
      "ListExecutions",
    ]) {
      await expect(
        authorize(signer("READ"), operation, { stateMachineArn: machine("m"), executionArn: execution("m") }),
      ).resolves.toMatchObject({ name: "reader-bot" });
    }
    expect(
      await refusal(authorize(signer("READ"), "StartExecution", { stateMachineArn: machine("m") })),
    ).toBe(
      "User: arn:aws:iam::000000000000:user/reader-bot is not authorized to perform: states:StartExecution " +
        `on resource: ${machine("m")} because states:StartExecution needs the role "operator" and ` +
        '"reader-bot" has "reader"',
    );
    for (const operation of [
      "StopExecution",
      "SendTaskSuccess",
      "SendTaskFailure",
      "SendTaskHeartbeat",
      "GetActivityTask",
    ]) {
      expect(await refusal(authorize(signer("READ"), operation, { taskToken: "n-other.3" }))).toContain(
        'needs the role "operator"',
      );
    }
    expect(await refusal(authorize(signer("OPS"), "CreateStateMachine", { name: "m" }))).toContain(
      'needs the role "admin"',
    );
    await expect(authorize(signer("ROOT"), "CreateActivity", { name: "a" })).resolves.toMatchObject({
      role: "admin",
    });
  });

  it("limits a scoped key to its workflow prefixes, whatever names the workflow", async () => {
    await expect(
      authorize(signer("TEAM"), "StartExecution", { stateMachineArn: machine("team-a-pay") }),
    ).resolves.toMatchObject({ name: "team-a-ci" });
    expect(
      await refusal(authorize(signer("TEAM"), "StartExecution", { stateMachineArn: machine("other") })),
    ).toBe(
      "User: arn:aws:iam::000000000000:user/team-a-ci is not authorized to perform: states:StartExecution " +
        `on resource: ${machine("other")} because "team-a-ci" is limited to the workflow prefixes ["team-a-"]`,
    );
    await refusal(authorize(signer("TEAM"), "DescribeExecution", { executionArn: execution("other") }));
    await refusal(authorize(signer("TEAM"), "SendTaskSuccess", { taskToken: "n-other.3" }));
    await refusal(
      authorize(signer("TEAM"), "GetActivityTask", { activityArn: "arn:aws:states:us-east-1:0:activity:a" }),
    );
    // What names no workflow (or one that does not exist) is left to the operation's own answer.
    await expect(authorize(signer("TEAM"), "ListStateMachines", {})).resolves.toBeDefined();
    await expect(
      authorize(signer("TEAM"), "SendTaskSuccess", { taskToken: "n-missing.3" }),
    ).resolves.toBeDefined();
  });

  it("lets everyone do everything in the local mode", async () => {
    const local = createSfnAuthorizer({ keyIdentities: undefined, executions, scope });
    await expect(local(undefined, "DeleteActivity", {})).resolves.toMatchObject({
      name: "anonymous",
      via: "none",
    });
  });
});
