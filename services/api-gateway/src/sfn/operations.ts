/**
 * The Step Functions operations, each over the gateway's own handler layer (the WorkflowService
 * implementation the gRPC and HTTP routes run, and the same WorkflowStore and Executions), so the
 * validation and behaviour are jetflow's; this file maps names, shapes and errors.
 */
import { randomUUID } from "node:crypto";
import { Metadata, status } from "@grpc/grpc-js";
import { ExecutionStatus } from "@jetflow/contracts";
import type { ExecutionSnapshot, WorkflowServiceServer } from "@jetflow/contracts";
import { isExecutionId, namedExecutionId } from "@jetflow/engine";
import { isActivityName } from "@jetflow/contracts";
import { ApiError } from "../errors";
import type { Executions } from "../executions";
import type { WorkflowStore } from "../workflows";
import { WORKFLOW_NAME_RULE, canonicalJson, isWorkflowName } from "../workflows";
import type { ActivityTasks } from "./activity-tasks";
import type { ArnScope } from "./arns";
import {
  activityArn,
  executionArn,
  parseActivityArn,
  parseExecutionArn,
  parseStateMachineArn,
  stateMachineArn,
} from "./arns";
import { SfnError, toSfnError } from "./errors";
import type { CodeMeaning } from "./errors";
import { stateTypesOf, toSfnHistoryEvent } from "./history-map";
import type { ActivityRegistry, DeletedStateMachines } from "./registry";
import type { SfnRequest } from "./shapes";
import {
  decodePageToken,
  encodePageToken,
  epochSeconds,
  isSfnName,
  maxResultsOf,
  optionalBoolean,
  optionalString,
  requiredString,
  statusFilterOf,
  statusName,
} from "./shapes";

/** What the operations run on. */
export interface SfnContext {
  scope: ArnScope;
  /** The WorkflowService implementation shared with gRPC and HTTP. */
  service: WorkflowServiceServer;
  workflows: WorkflowStore;
  executions: Executions;
  activities: ActivityRegistry;
  deleted: DeletedStateMachines;
  tasks: ActivityTasks;
  now: () => Date;
}

/** Per-request facts an operation may need. */
export interface CallInfo {
  /** True once the client closed its connection (a long poll stops then). */
  gone: () => boolean;
  /**
   * Registers `settle`, told once the exchange is over whether the successful answer was written
   * to the client (false: an error answered instead, or the client left first).
   */
  afterResponse: (settle: (sent: boolean) => void) => void;
}

/** One operation: the request body in, the response body out. */
export type Operation = (ctx: SfnContext, request: SfnRequest, call: CallInfo) => Promise<object>;

type UnaryHandler = (
  call: { request: unknown; metadata: Metadata },
  callback: (err: { code?: number; details?: string } | null, response?: unknown) => void,
) => void;

/** Calls a WorkflowService method as the HTTP layer does; failures come back as ApiError. */
function invoke<Res>(ctx: SfnContext, method: keyof WorkflowServiceServer, request: object): Promise<Res> {
  const handler = ctx.service[method] as unknown as UnaryHandler;
  return new Promise<Res>((resolve, reject) =>
    handler({ request, metadata: new Metadata() }, (err, response) => {
      if (err) reject(new ApiError(err.code ?? status.INTERNAL, err.details ?? "internal error"));
      else resolve(response as Res);
    }),
  );
}

/** Runs `work`, mapping the gateway's errors to Step Functions' by `meaning`. */
async function mapped<T>(meaning: CodeMeaning, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toSfnError(err, meaning);
  }
}

/** AWS requires a role; jetflow runs no IAM, so every machine reports this one. */
function roleArnOf(scope: ArnScope): string {
  return `arn:aws:iam::${scope.account}:role/jetflow`;
}

const DEFINITION_LIMIT = 1024 * 1024;

/** The workflow name of a new state machine. @throws SfnError InvalidName */
function stateMachineName(request: SfnRequest): string {
  const name = requiredString(request, "name", 80);
  if (!isWorkflowName(name))
    throw new SfnError("InvalidName", `Invalid Name: '${name}' (jetflow: ${WORKFLOW_NAME_RULE})`);
  return name;
}

function checkType(request: SfnRequest): void {
  const type = optionalString(request, "type", 16);
  if (type !== "" && type !== "STANDARD") {
    throw new SfnError("ValidationException", `jetflow runs STANDARD state machines only, not '${type}'`);
  }
}

/** A workflow of an existing, not deleted state machine. @throws SfnError StateMachineDoesNotExist */
async function liveWorkflow(ctx: SfnContext, name: string, version = 0) {
  const arn = stateMachineArn(ctx.scope, name);
  if (version === 0 && (await ctx.deleted.isDeleted(name))) {
    throw new SfnError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`);
  }
  return mapped({ [status.NOT_FOUND]: "StateMachineDoesNotExist" }, () =>
    ctx.workflows.get(name, version),
  ).catch((err: unknown) => {
    if (err instanceof SfnError && err.type === "StateMachineDoesNotExist") {
      throw new SfnError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`);
    }
    throw err;
  });
}

/** The definition as JSON text (a workflow registered as YAML through jetflow's API is converted). */
function definitionJson(text: string, machine: unknown): string {
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(machine);
  }
}

/** Registers a definition, with validation problems as InvalidDefinition. */
function register(ctx: SfnContext, name: string, definition: string) {
  return mapped(
    { [status.INVALID_ARGUMENT]: "InvalidDefinition", [status.RESOURCE_EXHAUSTED]: "InvalidDefinition" },
    () =>
      invoke<{ version: number; created: boolean }>(ctx, "registerWorkflow", {
        name,
        definition,
        description: "",
      }),
  );
}

/**
 * The snapshot an execution ARN names: the execution of that workflow with that name, or (for one
 * started through jetflow's API without a name) with that id.
 * @throws SfnError ExecutionDoesNotExist
 */
async function resolveExecution(ctx: SfnContext, request: SfnRequest): Promise<ExecutionSnapshot> {
  const arn = requiredString(request, "executionArn", 2048);
  const { workflow, name } = parseExecutionArn(arn);
  const candidates = isWorkflowName(workflow) ? [namedExecutionId(workflow, name)] : [];
  if (isExecutionId(name)) candidates.push(name);
  for (const id of candidates) {
    const snapshot = await mapped({}, () => ctx.executions.load(id));
    if (snapshot !== undefined && snapshot.workflowName === workflow && snapshot.parent === undefined)
      return snapshot;
  }
  throw new SfnError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
}

function executionArnOf(
  ctx: SfnContext,
  s: { workflowName: string; executionName: string; executionId: string },
) {
  return executionArn(ctx.scope, s.workflowName, s.executionName || s.executionId);
}

function stopDateOf(s: { status: ExecutionStatus; stopTime?: Date }) {
  return s.status === ExecutionStatus.EXECUTION_STATUS_RUNNING || s.stopTime === undefined
    ? {}
    : { stopDate: epochSeconds(s.stopTime) };
}

/** A task token field. @throws SfnError ValidationException */
function taskTokenOf(request: SfnRequest): string {
  return requiredString(request, "taskToken", 2048);
}

const createStateMachine: Operation = async (ctx, request) => {
  const name = stateMachineName(request);
  const definition = requiredString(request, "definition", DEFINITION_LIMIT);
  requiredString(request, "roleArn", 256);
  checkType(request);
  const arn = stateMachineArn(ctx.scope, name);
  const wasDeleted = await ctx.deleted.isDeleted(name);
  if (!wasDeleted) {
    const existing = await ctx.workflows.get(name).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === status.NOT_FOUND) return undefined;
      throw toSfnError(err);
    });
    if (existing !== undefined) {
      if (!sameDefinition(existing.record.definition, definition)) {
        throw new SfnError("StateMachineAlreadyExists", `State Machine Already Exists: '${arn}'`);
      }
      return { stateMachineArn: arn, creationDate: epochSeconds(existing.record.createdTime) };
    }
  }
  await register(ctx, name, definition);
  if (wasDeleted) await ctx.deleted.restore(name);
  const created = await ctx.workflows.get(name);
  return { stateMachineArn: arn, creationDate: epochSeconds(created.record.createdTime) };
};

function sameDefinition(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return canonicalJson(JSON.parse(a)) === canonicalJson(JSON.parse(b));
  } catch {
    return false;
  }
}

const updateStateMachine: Operation = async (ctx, request) => {
  const name = parseStateMachineArn(requiredString(request, "stateMachineArn", 2048));
  const definition = optionalString(request, "definition", DEFINITION_LIMIT);
  const current = await liveWorkflow(ctx, name);
  if (definition === "") {
    return { updateDate: ctx.now().getTime() / 1000, revisionId: String(current.record.version) };
  }
  const { version } = await register(ctx, name, definition);
  return { updateDate: ctx.now().getTime() / 1000, revisionId: String(version) };
};

const describeStateMachine: Operation = async (ctx, request) => {
  const name = parseStateMachineArn(requiredString(request, "stateMachineArn", 2048));
  const { record, machine } = await liveWorkflow(ctx, name);
  return {
    stateMachineArn: stateMachineArn(ctx.scope, name),
    name,
    status: "ACTIVE",
    definition: definitionJson(record.definition, machine),
    roleArn: roleArnOf(ctx.scope),
    type: "STANDARD",
    creationDate: epochSeconds(record.createdTime),
    revisionId: String(record.version),
    ...(record.description ? { description: record.description } : {}),
  };
};

const listStateMachines: Operation = async (ctx, request) => {
  const pageToken = decodePageToken(request, "ListStateMachines");
  const page = await mapped({ [status.INVALID_ARGUMENT]: "InvalidToken" }, () =>
    invoke<{ workflows: { name: string; createdTime?: Date }[]; nextPageToken: string }>(
      ctx,
      "listWorkflows",
      {
        pageSize: maxResultsOf(request),
        pageToken,
      },
    ),
  );
  const deleted = await Promise.all(page.workflows.map((w) => ctx.deleted.isDeleted(w.name)));
  return {
    stateMachines: page.workflows
      .filter((_, i) => !deleted[i])
      .map((w) => ({
        stateMachineArn: stateMachineArn(ctx.scope, w.name),
        name: w.name,
        type: "STANDARD",
        creationDate: epochSeconds(w.createdTime),
      })),
    nextToken: encodePageToken("ListStateMachines", page.nextPageToken),
  };
};

const deleteStateMachine: Operation = async (ctx, request) => {
  const name = parseStateMachineArn(requiredString(request, "stateMachineArn", 2048));
  // Deleting what does not exist succeeds, as in AWS; jetflow keeps the versions (executions
  // still running finish, and their history stays readable).
  const exists = await ctx.workflows.get(name).then(
    () => true,
    (err: unknown) => {
      if (err instanceof ApiError && err.code === status.NOT_FOUND) return false;
      throw toSfnError(err);
    },
  );
  if (exists) await ctx.deleted.delete(name, ctx.now());
  return {};
};

const validateStateMachineDefinition: Operation = async (ctx, request) => {
  const definition = requiredString(request, "definition", DEFINITION_LIMIT);
  checkType(request);
  const result = await mapped({}, () =>
    invoke<{ valid: boolean; problems: { path: string; message: string }[] }>(ctx, "validateWorkflow", {
      definition,
    }),
  );
  return {
    result: result.valid ? "OK" : "FAIL",
    diagnostics: result.problems.map((p) => ({
      severity: "ERROR",
      code: "SCHEMA_VALIDATION_FAILED",
      message: p.message,
      ...(p.path ? { location: `/${p.path.split(".").join("/")}` } : {}),
    })),
    truncated: false,
  };
};

const startExecution: Operation = async (ctx, request) => {
  const workflowName = parseStateMachineArn(requiredString(request, "stateMachineArn", 2048));
  const given = optionalString(request, "name", 80);
  if (given !== "" && !isSfnName(given)) throw new SfnError("InvalidName", `Invalid Name: '${given}'`);
  // AWS names every execution; an unnamed start gets a UUID, and the name makes retries idempotent.
  const executionName = given || randomUUID();
  const input = optionalString(request, "input", 256 * 1024);
  if (input !== "") {
    try {
      JSON.parse(input);
    } catch (err) {
      throw new SfnError(
        "InvalidExecutionInput",
        `Invalid State Machine Execution Input: '${(err as Error).message}'`,
      );
    }
  }
  await liveWorkflow(ctx, workflowName);
  const started = await mapped(
    {
      [status.NOT_FOUND]: "StateMachineDoesNotExist",
      [status.ALREADY_EXISTS]: "ExecutionAlreadyExists",
      [status.RESOURCE_EXHAUSTED]: "InvalidExecutionInput",
    },
    () =>
      invoke<{ executionId: string; startTime?: Date }>(ctx, "startExecution", {
        workflowName,
        workflowVersion: 0,
        inputJson: input || "{}",
        executionName,
        requestId: "",
      }),
  );
  return {
    executionArn: executionArn(ctx.scope, workflowName, executionName),
    startDate: epochSeconds(started.startTime),
  };
};

const describeExecution: Operation = async (ctx, request) => {
  const s = await resolveExecution(ctx, request);
  const ended = s.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING;
  return {
    executionArn: executionArnOf(ctx, s),
    stateMachineArn: stateMachineArn(ctx.scope, s.workflowName),
    name: s.executionName || s.executionId,
    status: statusName(s.status),
    startDate: epochSeconds(s.startTime),
    ...stopDateOf(s),
    input: s.inputJson,
    inputDetails: { included: true },
    ...(s.status === ExecutionStatus.EXECUTION_STATUS_SUCCEEDED
      ? { output: s.outputJson, outputDetails: { included: true } }
      : {}),
    ...(ended && s.error ? { error: s.error } : {}),
    ...(ended && s.cause ? { cause: s.cause } : {}),
  };
};

const listExecutions: Operation = async (ctx, request) => {
  if (request.mapRunArn !== undefined && request.mapRunArn !== null) {
    throw new SfnError("ValidationException", "jetflow has no map runs: list executions by stateMachineArn");
  }
  const workflowName = parseStateMachineArn(requiredString(request, "stateMachineArn", 2048));
  const statusFilter = statusFilterOf(request);
  const pageToken = decodePageToken(request, "ListExecutions");
  const pageSize = maxResultsOf(request);
  await liveWorkflow(ctx, workflowName);
  if (statusFilter === "none") return { executions: [] };
  const page = await mapped({ [status.INVALID_ARGUMENT]: "InvalidToken" }, () =>
    invoke<{
      executions: {
        executionId: string;
        executionName: string;
        workflowName: string;
        status: ExecutionStatus;
        startTime?: Date;
        stopTime?: Date;
      }[];
      nextPageToken: string;
    }>(ctx, "listExecutions", { workflowName, status: statusFilter, pageSize, pageToken, namePrefix: "" }),
  );
  return {
    executions: page.executions.map((e) => ({
      executionArn: executionArnOf(ctx, e),
      stateMachineArn: stateMachineArn(ctx.scope, e.workflowName),
      name: e.executionName || e.executionId,
      status: statusName(e.status),
      startDate: epochSeconds(e.startTime),
      ...stopDateOf(e),
    })),
    nextToken: encodePageToken("ListExecutions", page.nextPageToken),
  };
};

const getExecutionHistory: Operation = async (ctx, request) => {
  const s = await resolveExecution(ctx, request);
  const pageToken = decodePageToken(request, "GetExecutionHistory");
  const reverseOrder = optionalBoolean(request, "reverseOrder", false);
  const includeData = optionalBoolean(request, "includeExecutionData", true);
  const pageSize = maxResultsOf(request);
  const { machine } = await mapped({}, () => ctx.workflows.get(s.workflowName, s.workflowVersion));
  const page = await mapped(
    { [status.INVALID_ARGUMENT]: "InvalidToken", [status.NOT_FOUND]: "ExecutionDoesNotExist" },
    () =>
      invoke<{ events: Parameters<typeof toSfnHistoryEvent>[0][]; nextPageToken: string }>(
        ctx,
        "getExecutionHistory",
        {
          executionId: s.executionId,
          pageSize,
          pageToken,
          reverseOrder,
        },
      ),
  );
  const context = {
    scope: ctx.scope,
    stateTypes: stateTypesOf(machine),
    includeData,
    roleArn: roleArnOf(ctx.scope),
  };
  return {
    events: page.events.map((e) => toSfnHistoryEvent(e, context)),
    nextToken: encodePageToken("GetExecutionHistory", page.nextPageToken),
  };
};

const stopExecution: Operation = async (ctx, request) => {
  const s = await resolveExecution(ctx, request);
  const error = optionalString(request, "error", 256);
  const cause = optionalString(request, "cause", 32_768);
  // Stopping an execution that already ended changes nothing: answer with its stop time.
  if (s.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING)
    return { stopDate: epochSeconds(s.stopTime ?? ctx.now()) };
  const stopped = await mapped({}, () =>
    invoke<{ stopTime?: Date }>(ctx, "stopExecution", { executionId: s.executionId, error, cause }),
  ).catch((err: unknown) => {
    // It ended between our look and the stop.
    if (err instanceof SfnError && err.type === "ValidationException") return { stopTime: ctx.now() };
    throw err;
  });
  return { stopDate: epochSeconds(stopped.stopTime ?? ctx.now()) };
};

const describeStateMachineForExecution: Operation = async (ctx, request) => {
  const s = await resolveExecution(ctx, request);
  const { record, machine } = await mapped({}, () => ctx.workflows.get(s.workflowName, s.workflowVersion));
  return {
    stateMachineArn: stateMachineArn(ctx.scope, s.workflowName),
    name: s.workflowName,
    definition: definitionJson(record.definition, machine),
    roleArn: roleArnOf(ctx.scope),
    updateDate: epochSeconds(record.createdTime),
    revisionId: String(record.version),
  };
};

const redriveExecution: Operation = async (ctx, request) => {
  const s = await resolveExecution(ctx, request);
  // WorkflowService.RedriveExecution (docs/redrive.md); its refusals say why.
  const redriven = await mapped({ [status.FAILED_PRECONDITION]: "ExecutionNotRedrivable" }, () =>
    invoke<{ redriveTime?: Date }>(ctx, "redriveExecution", { executionId: s.executionId }),
  ).catch((err: unknown) => {
    if (err instanceof SfnError && err.type === "ExecutionNotRedrivable") {
      throw new SfnError(
        "ExecutionNotRedrivable",
        `Execution Not Redrivable: '${executionArnOf(ctx, s)}' (${err.message})`,
      );
    }
    throw err;
  });
  return { redriveDate: epochSeconds(redriven.redriveTime ?? ctx.now()) };
};

/** An activity name from a request field. @throws SfnError InvalidName */
function activityNameOf(request: SfnRequest): string {
  const name = requiredString(request, "name", 80);
  if (!isActivityName(name) || !isSfnName(name)) throw new SfnError("InvalidName", `Invalid Name: '${name}'`);
  return name;
}

/** The declared activity an ARN names. @throws SfnError ActivityDoesNotExist, InvalidArn */
async function declaredActivity(ctx: SfnContext, request: SfnRequest) {
  const arn = requiredString(request, "activityArn", 256);
  const name = parseActivityArn(arn);
  const activity = await mapped({}, () => ctx.activities.get(name));
  if (activity === undefined) throw new SfnError("ActivityDoesNotExist", `Activity Does Not Exist: '${arn}'`);
  return activity;
}

const createActivity: Operation = async (ctx, request) => {
  const name = activityNameOf(request);
  const activity = await mapped({}, () => ctx.activities.create(name, ctx.now()));
  return { activityArn: activityArn(ctx.scope, name), creationDate: epochSeconds(activity.creationDate) };
};

const describeActivity: Operation = async (ctx, request) => {
  const activity = await declaredActivity(ctx, request);
  return {
    activityArn: activityArn(ctx.scope, activity.name),
    name: activity.name,
    creationDate: epochSeconds(activity.creationDate),
  };
};

const listActivities: Operation = async (ctx, request) => {
  const after = decodePageToken(request, "ListActivities");
  const pageSize = maxResultsOf(request);
  const all = await mapped({}, () => ctx.activities.list());
  const rest = after === "" ? all : all.filter((a) => a.name > after);
  const page = rest.slice(0, pageSize);
  const last = page[page.length - 1];
  return {
    activities: page.map((a) => ({
      activityArn: activityArn(ctx.scope, a.name),
      name: a.name,
      creationDate: epochSeconds(a.creationDate),
    })),
    nextToken:
      rest.length > pageSize && last !== undefined ? encodePageToken("ListActivities", last.name) : undefined,
  };
};

const deleteActivity: Operation = async (ctx, request) => {
  const name = parseActivityArn(requiredString(request, "activityArn", 256));
  await mapped({}, () => ctx.activities.delete(name));
  return {};
};

const getActivityTask: Operation = async (ctx, request, call) => {
  const activity = await declaredActivity(ctx, request);
  const workerName = optionalString(request, "workerName", 80);
  return mapped({}, () => ctx.tasks.next(activity.name, workerName, call.gone, call.afterResponse));
};

const sendTaskSuccess: Operation = async (ctx, request) => {
  const taskToken = taskTokenOf(request);
  const output = requiredString(request, "output", 256 * 1024);
  try {
    JSON.parse(output);
  } catch (err) {
    throw new SfnError("InvalidOutput", `Invalid Output: '${(err as Error).message}'`);
  }
  await mapped({}, () => ctx.tasks.complete(taskToken, { $case: "outputJson", value: output }));
  return {};
};

const sendTaskFailure: Operation = async (ctx, request) => {
  const taskToken = taskTokenOf(request);
  const error = optionalString(request, "error", 256);
  const cause = optionalString(request, "cause", 32_768);
  await mapped({}, () =>
    ctx.tasks.complete(taskToken, {
      $case: "failure",
      value: { error: error || "States.TaskFailed", cause },
    }),
  );
  return {};
};

const sendTaskHeartbeat: Operation = async (ctx, request) => {
  await mapped({}, () => ctx.tasks.heartbeat(taskTokenOf(request)));
  return {};
};

/** Every supported operation by its name in `X-Amz-Target: AWSStepFunctions.<name>`. */
export const operations: Readonly<Record<string, Operation>> = {
  CreateStateMachine: createStateMachine,
  UpdateStateMachine: updateStateMachine,
  DescribeStateMachine: describeStateMachine,
  ListStateMachines: listStateMachines,
  DeleteStateMachine: deleteStateMachine,
  ValidateStateMachineDefinition: validateStateMachineDefinition,
  StartExecution: startExecution,
  DescribeExecution: describeExecution,
  ListExecutions: listExecutions,
  GetExecutionHistory: getExecutionHistory,
  StopExecution: stopExecution,
  DescribeStateMachineForExecution: describeStateMachineForExecution,
  RedriveExecution: redriveExecution,
  CreateActivity: createActivity,
  DescribeActivity: describeActivity,
  ListActivities: listActivities,
  DeleteActivity: deleteActivity,
  GetActivityTask: getActivityTask,
  SendTaskSuccess: sendTaskSuccess,
  SendTaskFailure: sendTaskFailure,
  SendTaskHeartbeat: sendTaskHeartbeat,
};
