/**
 * Who may call which Step Functions operation: each verified access key stands for an identity
 * (SFN_ACCESS_KEYS), and each operation needs the permission of the jetflow RPC it corresponds to,
 * checked with the gRPC API's role table and workflow scopes (../auth). A refusal is AWS's
 * `AccessDeniedException`, naming the missing role.
 *
 * The identity of a call also travels, in-process, to the WorkflowService the operations invoke
 * ({@link sfnCaller}), which checks it again with the same table and records it in history and logs
 * as it does for a gRPC caller.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ANONYMOUS, METHOD_ROLES, inScope, roleIncludes } from "../auth";
import type { ApiMethod, Authenticator, Identity } from "../auth";
import type { Executions } from "../executions";
import type { ArnScope } from "./arns";
import { parseExecutionArn, parseStateMachineArn, stateMachineArn } from "./arns";
import { SfnError } from "./errors";
import type { SfnRequest } from "./shapes";
import type { SignedBy } from "./sigv4";
import { parseTaskToken } from "@jetflow/engine";

/**
 * What a Step Functions operation needs: the jetflow RPC whose permission it takes, and whether an
 * identity scoped to workflow prefixes may call it at all (activities are shared by workflows: a
 * scoped identity may not declare, delete or poll them, as it may not read the engine's stats).
 */
interface Permission {
  method: ApiMethod;
  /** False: refused to any identity limited to workflow prefixes. */
  scoped: boolean;
}

/** Each operation → the permission of the equivalent jetflow RPC. */
export const OPERATION_PERMISSIONS: Readonly<Record<string, Permission>> = {
  CreateStateMachine: { method: "RegisterWorkflow", scoped: true },
  UpdateStateMachine: { method: "RegisterWorkflow", scoped: true },
  // Deleting hides the state machine from this API (a tombstone): a registration-level change.
  DeleteStateMachine: { method: "RegisterWorkflow", scoped: true },
  DescribeStateMachine: { method: "GetWorkflow", scoped: true },
  ListStateMachines: { method: "ListWorkflows", scoped: true },
  ValidateStateMachineDefinition: { method: "ValidateWorkflow", scoped: true },
  StartExecution: { method: "StartExecution", scoped: true },
  DescribeExecution: { method: "DescribeExecution", scoped: true },
  ListExecutions: { method: "ListExecutions", scoped: true },
  GetExecutionHistory: { method: "GetExecutionHistory", scoped: true },
  StopExecution: { method: "StopExecution", scoped: true },
  DescribeStateMachineForExecution: { method: "DescribeExecution", scoped: true },
  // Redriving runs an execution again: an operator's right, like starting one.
  RedriveExecution: { method: "StartExecution", scoped: true },
  CreateActivity: { method: "RegisterWorkflow", scoped: false },
  DeleteActivity: { method: "RegisterWorkflow", scoped: false },
  DescribeActivity: { method: "GetWorkflow", scoped: true },
  ListActivities: { method: "ListWorkflows", scoped: true },
  // Taking a task is a worker's first step of answering it.
  GetActivityTask: { method: "SendTaskSuccess", scoped: false },
  SendTaskSuccess: { method: "SendTaskSuccess", scoped: true },
  SendTaskFailure: { method: "SendTaskFailure", scoped: true },
  SendTaskHeartbeat: { method: "SendTaskHeartbeat", scoped: true },
};

/**
 * The identity of the Step Functions call being served, for the WorkflowService instance the
 * operations invoke in-process (never one reachable from the network).
 */
export const sfnCaller = new AsyncLocalStorage<Identity>();

/** The authenticator of that WorkflowService: the caller of the current Step Functions call. */
export const sfnCallerAuthenticator: Authenticator = {
  enabled: true,
  authenticate: () => Promise.resolve(sfnCaller.getStore() ?? ANONYMOUS),
};

export interface SfnAuthorizerOptions {
  /** Access key id → identity; undefined: the local mode, every caller is anonymous and admin. */
  keyIdentities: ReadonlyMap<string, Identity> | undefined;
  executions: Pick<Executions, "load">;
  scope: ArnScope;
}

/** Decides who may call what; see SfnServerOptions.authorize. */
export type SfnAuthorizer = (
  signer: SignedBy | undefined,
  operation: string,
  request: SfnRequest,
) => Promise<Identity>;

/** Creates the authorizer: identity of the signer, then role, then workflow scope. */
export function createSfnAuthorizer(o: SfnAuthorizerOptions): SfnAuthorizer {
  return async (signer, operation, request) => {
    if (o.keyIdentities === undefined) return ANONYMOUS;
    const identity = signer === undefined ? undefined : o.keyIdentities.get(signer.accessKeyId);
    // verifySignature only lets configured keys through: no identity is a wiring mistake.
    if (identity === undefined)
      throw new SfnError(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
      );
    const user = `arn:aws:iam::${o.scope.account}:user/${identity.name}`;
    const action = `states:${operation}`;
    const permission = OPERATION_PERMISSIONS[operation];
    const denied = (resource: string, because: string) =>
      new SfnError(
        "AccessDeniedException",
        `User: ${user} is not authorized to perform: ${action} on resource: ${resource} because ${because}`,
      );
    const anyResource = `arn:aws:states:${o.scope.region}:${o.scope.account}:*`;
    if (permission === undefined) {
      // An operation added without a permission: admins only, until it has one.
      if (identity.role !== "admin") throw denied(anyResource, `${action} needs the role "admin"`);
      return identity;
    }
    const needed = METHOD_ROLES[permission.method];
    if (!roleIncludes(identity.role, needed)) {
      throw denied(
        resourceOf(request, o.scope) ?? anyResource,
        `${action} needs the role "${needed}" and "${identity.name}" has "${identity.role}"`,
      );
    }
    if (identity.workflowPrefixes === undefined) return identity;
    const prefixes = JSON.stringify(identity.workflowPrefixes);
    if (!permission.scoped) {
      throw denied(
        anyResource,
        `${action} concerns every workflow and "${identity.name}" is limited to the workflow prefixes ${prefixes}`,
      );
    }
    const workflow = await workflowOf(request, o.executions);
    if (workflow !== undefined && !inScope(identity, workflow)) {
      throw denied(
        resourceOf(request, o.scope) ?? stateMachineArn(o.scope, workflow),
        `"${identity.name}" is limited to the workflow prefixes ${prefixes}`,
      );
    }
    if (workflow === undefined && operation === "ListExecutions") {
      // Never reached through the SDKs (stateMachineArn is required); refused as the gRPC API does.
      throw denied(anyResource, `"${identity.name}" is limited to the workflow prefixes ${prefixes}`);
    }
    return identity;
  };
}

/** The ARN a request names, for the message of a refusal. */
function resourceOf(request: SfnRequest, scope: ArnScope): string | undefined {
  for (const field of ["stateMachineArn", "executionArn", "activityArn"]) {
    const value = request[field];
    if (typeof value === "string" && value !== "") return value.slice(0, 2048);
  }
  return typeof request.name === "string" && request.name !== ""
    ? stateMachineArn(scope, request.name.slice(0, 80))
    : undefined;
}

/**
 * The workflow a request concerns, for scoped identities: the state machine it names (by ARN, or
 * by `name` when creating one), the state machine of the execution it names, or the workflow of
 * the execution a task token belongs to. Undefined when it names none or what it names is
 * malformed or unknown: the operation then answers with its own error (InvalidArn,
 * TaskDoesNotExist...), which tells nothing about other workflows.
 */
async function workflowOf(
  request: SfnRequest,
  executions: Pick<Executions, "load">,
): Promise<string | undefined> {
  const tryParse = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch {
      return undefined;
    }
  };
  if (request.stateMachineArn !== undefined)
    return tryParse(() => parseStateMachineArn(request.stateMachineArn));
  if (request.executionArn !== undefined)
    return tryParse(() => parseExecutionArn(request.executionArn).workflow);
  if (typeof request.taskToken === "string") {
    const executionId = tryParse(() => parseTaskToken(request.taskToken as string).executionId);
    if (executionId === undefined) return undefined;
    return (await executions.load(executionId))?.workflowName;
  }
  if (typeof request.name === "string" && request.activityArn === undefined) return request.name;
  return undefined;
}
