/**
 * The WorkflowService over gRPC: request validation and mapping to the operations, and errors to
 * gRPC status codes. Unknown failures become INTERNAL with a generic message and are logged; no
 * stack trace reaches a client.
 */
import { Server, status } from "@grpc/grpc-js";
import type {
  Metadata,
  ServerCredentials,
  ServerUnaryCall,
  ServiceError,
  sendUnaryData,
  handleUnaryCall,
} from "@grpc/grpc-js";
import { ExecutionStatus, WorkflowServiceService } from "@jetflow/contracts";
import type { WorkflowServiceServer } from "@jetflow/contracts";
import { toExecutionSummary } from "@jetflow/engine";
import type { Logger } from "@jetflow/service-runtime";
import type { NatsConnection } from "@nats-io/transport-node";
import { TRACEPARENT } from "@jetflow/contracts/internal";
import { activeStateNames } from "./active-states";
import { ANONYMOUS, AuthError, authorize, createAuthenticator, inScope } from "./auth";
import type { ApiMethod, Authenticator, Identity } from "./auth";
import { readEngineStats, statsWindowSeconds } from "./engine-stats";
import { ApiError, RequestProblems, isUnavailable } from "./errors";
import type { ExecutionList } from "./execution-list";
import { decodeListCursor, encodeListCursor } from "./execution-list";
import type { Executions } from "./executions";
import type { Schedules } from "./schedules/schedules";
import { tokenExecutionId } from "./executions";
import { readHistoryPage } from "./history";
import type { KvView } from "./kv-view";
import { resolveWatchTarget, watchEvents } from "./watch";
import type { WorkflowNames, WorkflowStore } from "./workflows";
import { WORKFLOW_NAME_RULE, isWorkflowName } from "./workflows";

export interface GrpcServerOptions {
  address: string;
  nc: NatsConnection;
  workflows: WorkflowStore;
  /** Names of the registered workflows and the view that keeps them current. */
  workflowNames: { list: WorkflowNames; view: KvView };
  executions: Executions;
  /** The execution index (ListExecutions) and the view that keeps it current. */
  executionList: { list: ExecutionList; view: KvView };
  log: Logger;
  /** True while NATS is connected; else calls fail with UNAVAILABLE. */
  connected: () => boolean;
  /** Largest encoded page of history events, in bytes. Default 3 MiB (gRPC's default limit is 4). */
  maxPageBytes?: number;
  /** Who may call what. Default: no authentication (every caller is admin). */
  authenticator?: Authenticator;
  /** Schedules (docs/schedules.md); without them the schedule calls answer UNAVAILABLE. */
  schedules?: Schedules;
}

function schedulesOf(o: GrpcServerOptions): Schedules {
  if (!o.schedules) throw ApiError.unavailable("schedules are not available yet; try again");
  return o.schedules;
}

/** The workflow of a schedule, for scope checks (undefined: no such schedule, answered later). */
async function workflowOfSchedule(scheduleId: string, o: GrpcServerOptions): Promise<string | undefined> {
  try {
    return (await schedulesOf(o).describe(scheduleId)).workflowName;
  } catch (err) {
    if (err instanceof ApiError && err.code === status.NOT_FOUND) return undefined;
    throw err;
  }
}

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
const NOT_CONNECTED = "not connected to NATS; try again";

/** The gRPC status of anything a handler threw; unknown failures are logged, never sent. */
function toServiceError(err: unknown, log: Logger, method: string): Partial<ServiceError> {
  if (err instanceof ApiError) return { code: err.code, details: err.message };
  if (err instanceof AuthError) {
    if (err.kind === "permission-denied") {
      log.info({ method, reason: err.message }, "call refused");
      return { code: status.PERMISSION_DENIED, details: err.message };
    }
    log.info({ method, reason: err.reason }, "call unauthenticated");
    return { code: status.UNAUTHENTICATED, details: err.message };
  }
  if (isUnavailable(err)) {
    log.warn({ err, method }, "engine unavailable");
    return { code: status.UNAVAILABLE, details: "the engine is unavailable; try again" };
  }
  log.error({ err, method }, "request failed");
  return { code: status.INTERNAL, details: "internal error" };
}

const NO_AUTH = createAuthenticator({ mode: "none", tokens: [] });

/**
 * Which workflow a call concerns, for identities scoped to workflow name prefixes; undefined when
 * the call names none (the handler then filters, or the role alone decides).
 */
type WorkflowOf<Req> = (request: Req, o: GrpcServerOptions) => Promise<string | undefined>;

/**
 * Authenticates a call and checks its role, then its workflow scope. Runs before anything else
 * so that an unauthenticated caller learns nothing, not even whether NATS is up.
 * @throws AuthError
 */
async function admit<Req>(
  method: ApiMethod,
  o: GrpcServerOptions,
  metadata: Metadata,
  request: Req,
  workflowOf?: WorkflowOf<Req>,
): Promise<Identity> {
  const authenticator = o.authenticator ?? NO_AUTH;
  const identity = await authenticator.authenticate(metadata.getMap());
  authorize(identity, method);
  if (identity.workflowPrefixes !== undefined && workflowOf) {
    const workflowName = await workflowOf(request, o);
    if (workflowName !== undefined) authorize(identity, method, workflowName);
  }
  return identity;
}

function unary<Req, Res>(
  method: ApiMethod,
  options: GrpcServerOptions,
  handler: (request: Req, identity: Identity, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
  workflowOf?: WorkflowOf<Req>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    admit(method, options, call.metadata, call.request, workflowOf)
      .then((identity) => {
        if (!options.connected()) throw ApiError.unavailable(NOT_CONNECTED);
        return handler(call.request, identity, call);
      })
      .then(
        (response) => callback(null, response),
        (err: unknown) => callback(toServiceError(err, options.log, method), null),
      );
  };
}

/** The workflow of an execution, for scope checks; undefined when it does not exist. */
async function workflowOfExecution(executionId: string, o: GrpcServerOptions): Promise<string | undefined> {
  const problems = new RequestProblems();
  o.executions.checkId(executionId, problems);
  problems.check();
  return (await o.executions.load(executionId))?.workflowName;
}

async function workflowOfTask(taskToken: string, o: GrpcServerOptions): Promise<string | undefined> {
  const problems = new RequestProblems();
  const executionId = tokenExecutionId(taskToken, problems);
  problems.check();
  return (await o.executions.load(executionId))?.workflowName;
}

/** The identity to record in history: none when the API runs without auth. */
function recorded(identity: Identity): string | undefined {
  return identity.via === "none" ? undefined : identity.name;
}

function pageSize(requested: number): number {
  return requested === 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
}

function decodeNameToken(token: string): string {
  if (token === "") return "";
  const name = Buffer.from(token, "base64url").toString();
  if (!isWorkflowName(name))
    throw ApiError.invalid(`invalid request:\npage_token: invalid page token "${token.slice(0, 100)}"`);
  return name;
}

/** The caller's W3C `traceparent` (gRPC metadata); the HTTP routes pass no metadata. */
function callerTraceParent(call: { metadata?: Metadata }): string | undefined {
  const value = call.metadata?.get(TRACEPARENT)[0];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Builds the service implementation. */
export function workflowService(o: GrpcServerOptions): WorkflowServiceServer {
  return {
    registerWorkflow: unary(
      "RegisterWorkflow",
      o,
      async (req, identity) => {
        const { version, created } = await o.workflows.register(
          req.name,
          req.definition,
          req.description,
          recorded(identity),
        );
        if (created && identity !== ANONYMOUS) {
          o.log.info({ identity: identity.name, workflow: req.name, version }, "workflow registered");
        }
        return { name: req.name, version, created };
      },
      (req) => Promise.resolve(req.name),
    ),
    getWorkflow: unary(
      "GetWorkflow",
      o,
      async (req) => {
        const { record } = await o.workflows.get(req.name, req.version);
        return {
          workflow: {
            name: record.name,
            version: record.version,
            description: record.description,
            createdTime: record.createdTime,
          },
          definition: record.definition,
        };
      },
      (req) => Promise.resolve(req.name),
    ),
    listWorkflows: unary("ListWorkflows", o, async (req, identity) => {
      const after = decodeNameToken(req.pageToken);
      await o.workflowNames.view.sync();
      const { names, more } = o.workflowNames.list.page(after, pageSize(req.pageSize));
      // A scoped identity sees only its workflows (a page may then hold fewer than asked).
      const records = await o.workflows.latestOf(names.filter((name) => inScope(identity, name)));
      const last = names[names.length - 1];
      return {
        workflows: records.map((r) => ({
          name: r.name,
          version: r.version,
          description: r.description,
          createdTime: r.createdTime,
        })),
        nextPageToken: more && last !== undefined ? Buffer.from(last).toString("base64url") : "",
      };
    }),
    validateWorkflow: unary("ValidateWorkflow", o, async (req) => o.workflows.validate(req.definition)),
    startExecution: unary(
      "StartExecution",
      o,
      async (req, identity, call) => {
        const started = await o.executions.start(
          req.workflowName,
          req.workflowVersion,
          req.inputJson,
          req.executionName,
          req.requestId ?? "",
          recorded(identity),
          callerTraceParent(call),
        );
        if (started.created && identity !== ANONYMOUS) {
          o.log.info(
            { identity: identity.name, workflow: req.workflowName, executionId: started.executionId },
            "execution started",
          );
        }
        return started;
      },
      (req) => Promise.resolve(req.workflowName),
    ),
    describeExecution: unary(
      "DescribeExecution",
      o,
      async (req) => {
        const s = await o.executions.describe(req.executionId);
        return {
          execution: toExecutionSummary(s),
          inputJson: s.inputJson,
          outputJson: s.outputJson,
          error: s.error,
          cause: s.cause,
          activeStates: await activeStateNames(s, (id) => o.executions.load(id)),
        };
      },
      (req) => workflowOfExecution(req.executionId, o),
    ),
    listExecutions: unary(
      "ListExecutions",
      o,
      async (req) => {
        const problems = new RequestProblems();
        if (req.workflowName !== "" && !isWorkflowName(req.workflowName)) {
          problems.add("workflow_name", WORKFLOW_NAME_RULE);
        }
        if (ExecutionStatus[req.status] === undefined || req.status === ExecutionStatus.UNRECOGNIZED) {
          problems.add("status", `unknown status ${req.status}`);
        }
        let cursor;
        try {
          cursor = decodeListCursor(req.pageToken);
        } catch {
          problems.add("page_token", `invalid page token "${req.pageToken.slice(0, 100)}"`);
        }
        problems.check();
        await o.executionList.view.sync();
        const page = o.executionList.list.page(req.workflowName, req.status, pageSize(req.pageSize), cursor, {
          namePrefix: req.namePrefix,
          startedAfterMs: req.startedAfter?.getTime(),
          startedBeforeMs: req.startedBefore?.getTime(),
        });
        return {
          executions: page.executions,
          nextPageToken: page.next ? encodeListCursor(page.next) : "",
        };
      },
      (req) => {
        if (req.workflowName === "") {
          throw new AuthError(
            "permission-denied",
            "ListExecutions by an identity limited to workflow prefixes needs workflow_name",
          );
        }
        return Promise.resolve(req.workflowName);
      },
    ),
    getExecutionHistory: unary(
      "GetExecutionHistory",
      o,
      async (req) => {
        const problems = new RequestProblems();
        o.executions.checkId(req.executionId, problems);
        problems.check();
        return readHistoryPage(o.nc, {
          executionId: req.executionId,
          pageSize: pageSize(req.pageSize),
          pageToken: req.pageToken,
          reverse: req.reverseOrder,
          maxBytes: o.maxPageBytes ?? 3 * 1024 * 1024,
        });
      },
      (req) => workflowOfExecution(req.executionId, o),
    ),
    watchExecution: (call) => {
      const fail = (err: unknown) => {
        if (!call.cancelled) call.emit("error", toServiceError(err, o.log, "WatchExecution"));
      };
      admit("WatchExecution", o, call.metadata, call.request, (req) =>
        workflowOfExecution(req.executionId, o),
      )
        .then(() => {
          if (!o.connected()) throw ApiError.unavailable(NOT_CONNECTED);
          return resolveWatchTarget(
            call.request.executionId,
            (id) => o.executions.describe(id),
            (id) => o.executions.load(id),
            (err) => err instanceof ApiError && err.code === status.NOT_FOUND,
          );
        })
        .then((target) => watchEvents(o.nc, target, call.request.fromEventId, call))
        .catch(fail);
    },
    stopExecution: unary(
      "StopExecution",
      o,
      async (req, identity) => {
        const stopTime = await o.executions.stop(req.executionId, req.error, req.cause, recorded(identity));
        if (identity !== ANONYMOUS) {
          o.log.info({ identity: identity.name, executionId: req.executionId }, "execution stop requested");
        }
        return { stopTime };
      },
      (req) => workflowOfExecution(req.executionId, o),
    ),
    redriveExecution: unary(
      "RedriveExecution",
      o,
      async (req, identity) => {
        const redriven = await o.executions.redrive(req.executionId, recorded(identity));
        o.log.info(
          { identity: identity === ANONYMOUS ? undefined : identity.name, executionId: req.executionId },
          "execution redrive requested",
        );
        return redriven;
      },
      (req) => workflowOfExecution(req.executionId, o),
    ),
    createSchedule: unary(
      "CreateSchedule",
      o,
      async (req, identity) => ({ schedule: await schedulesOf(o).create(req.schedule, recorded(identity)) }),
      async (req) => req.schedule?.workflowName,
    ),
    describeSchedule: unary(
      "DescribeSchedule",
      o,
      async (req) => ({ schedule: await schedulesOf(o).describe(req.scheduleId) }),
      (req) => workflowOfSchedule(req.scheduleId, o),
    ),
    listSchedules: unary("ListSchedules", o, async (req, identity) => {
      const schedules = await schedulesOf(o).list(req.workflowName);
      return { schedules: schedules.filter((s) => inScope(identity, s.workflowName)) };
    }),
    pauseSchedule: unary(
      "PauseSchedule",
      o,
      async (req) => ({ schedule: await schedulesOf(o).pause(req.scheduleId) }),
      (req) => workflowOfSchedule(req.scheduleId, o),
    ),
    resumeSchedule: unary(
      "ResumeSchedule",
      o,
      async (req) => ({ schedule: await schedulesOf(o).resume(req.scheduleId) }),
      (req) => workflowOfSchedule(req.scheduleId, o),
    ),
    deleteSchedule: unary(
      "DeleteSchedule",
      o,
      async (req) => {
        await schedulesOf(o).delete(req.scheduleId);
        return {};
      },
      (req) => workflowOfSchedule(req.scheduleId, o),
    ),
    sendTaskSuccess: unary(
      "SendTaskSuccess",
      o,
      async (req) => {
        await o.executions.completeTask(req.taskToken, {
          $case: "outputJson",
          value: req.outputJson || "null",
        });
        return {};
      },
      (req) => workflowOfTask(req.taskToken, o),
    ),
    sendTaskFailure: unary(
      "SendTaskFailure",
      o,
      async (req) => {
        await o.executions.completeTask(req.taskToken, {
          $case: "failure",
          value: { error: req.error || "States.TaskFailed", cause: req.cause },
        });
        return {};
      },
      (req) => workflowOfTask(req.taskToken, o),
    ),
    sendTaskHeartbeat: unary(
      "SendTaskHeartbeat",
      o,
      async (req) => ({ cancelRequested: await o.executions.heartbeat(req.taskToken) }),
      (req) => workflowOfTask(req.taskToken, o),
    ),
    getEngineStats: unary(
      "GetEngineStats",
      o,
      async (req) => {
        const windowSeconds = statsWindowSeconds(req.windowSeconds);
        await o.executionList.view.sync();
        return readEngineStats({ nc: o.nc, executions: o.executionList.list.summaries(), windowSeconds });
      },
      () => {
        // Activities are shared by workflows: the stats cannot be cut to a workflow scope.
        throw new AuthError(
          "permission-denied",
          "GetEngineStats is not available to an identity limited to workflow prefixes",
        );
      },
    ),
  };
}

/** Creates the gRPC server with the WorkflowService; `bind` it to listen. */
export function createGrpcServer(o: GrpcServerOptions): Server {
  // Bigger than any payload the gateway accepts (inputs, outputs, definitions): those get
  // RESOURCE_EXHAUSTED with a message naming the field and the limit.
  const server = new Server({ "grpc.max_receive_message_length": 4 * 1024 * 1024 });
  server.addService(WorkflowServiceService, workflowService(o));
  return server;
}

/** Binds `server` to `address` with `credentials`; resolves with the bound port (useful with port 0). */
export function bindServer(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(address, credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
}
