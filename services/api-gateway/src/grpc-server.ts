/**
 * The WorkflowService over gRPC: request validation and mapping to the operations, and errors to
 * gRPC status codes. Unknown failures become INTERNAL with a generic message and are logged; no
 * stack trace reaches a client.
 */
import { Metadata, Server, status } from "@grpc/grpc-js";
import type {
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
import type { BulkOperations } from "./bulk-operations";
import type { DeadLetters } from "./dead-letters";
import { readEngineStats, statsWindowSeconds } from "./engine-stats";
import { ApiError, RequestProblems, isUnavailable } from "./errors";
import type { ExecutionIndex } from "./execution-index";
import { decodeListCursor, encodeListCursor } from "./execution-list";
import type { Executions } from "./executions";
import type { Schedules } from "./schedules/schedules";
import { tokenExecutionId } from "./executions";
import { readHistoryPage } from "./history";
import type { KvView } from "./kv-view";
import { RateLimitedError, addressOfPeer } from "./rate-limit";
import type { RateLimiter } from "./rate-limit";
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
  /** The execution index: ListExecutions and the engine stats' workflow counts. */
  executionIndex: ExecutionIndex;
  log: Logger;
  /** True while NATS is connected; else calls fail with UNAVAILABLE. */
  connected: () => boolean;
  /** Largest encoded page of history events, in bytes. Default 3 MiB (gRPC's default limit is 4). */
  maxPageBytes?: number;
  /** Who may call what. Default: no authentication (every caller is admin). */
  authenticator?: Authenticator;
  /** Calls per caller (identity, or address without one). Default: no limit. */
  rateLimiter?: RateLimiter | undefined;
  /** The dead-letter operations. */
  deadLetters: DeadLetters;
  /** Bulk operations (StartBulkStop and the rest). */
  bulkOperations: BulkOperations;
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
  if (err instanceof RateLimitedError) {
    log.debug({ method, retryAfterMs: err.retryAfterMs }, "call rate-limited");
    // Seconds, as HTTP's Retry-After (the HTTP layer copies it there); at least 1.
    const metadata = new Metadata();
    metadata.set("retry-after", String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
    return { code: status.RESOURCE_EXHAUSTED, details: err.message, metadata };
  }
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

/** Charges one call to `key`. @throws RateLimitedError when its bucket is empty */
function charge(limiter: RateLimiter, key: string): void {
  const decision = limiter.take(key);
  if (!decision.allowed) throw new RateLimitedError(decision.retryAfterMs, limiter.config);
}

/** The caller's part of a call: its credentials and where it comes from. */
interface Caller {
  metadata: Metadata;
  /** grpc-js's peer (`ipv4:1.2.3.4:5678`); the HTTP layer gives the socket's address. */
  getPeer?: () => string;
}

/**
 * Authenticates a call, charges it to the caller's rate limit, and checks its role, then its
 * workflow scope. Runs before anything else so that an unauthenticated caller learns nothing,
 * not even whether NATS is up. Refused credentials count against the caller's address, so that
 * guessing tokens is rate-limited too.
 * @throws AuthError, RateLimitedError
 */
async function admit<Req>(
  method: ApiMethod,
  o: GrpcServerOptions,
  caller: Caller,
  request: Req,
  workflowOf?: WorkflowOf<Req>,
): Promise<Identity> {
  const authenticator = o.authenticator ?? NO_AUTH;
  const limiter = o.rateLimiter;
  const addressKey = () => `address:${addressOfPeer(caller.getPeer?.() ?? "unknown")}`;
  let identity: Identity;
  try {
    identity = await authenticator.authenticate(caller.metadata.getMap());
  } catch (err) {
    if (limiter && err instanceof AuthError) charge(limiter, addressKey());
    throw err;
  }
  if (limiter) {
    charge(limiter, identity.via === "none" ? addressKey() : `identity:${identity.via}:${identity.name}`);
  }
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
    admit(method, options, call, call.request, workflowOf)
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

/** Dead letters are not an execution's: an identity limited to workflow prefixes may not see them. */
function unscopedOnly(method: ApiMethod): () => Promise<string | undefined> {
  return () => {
    throw new AuthError(
      "permission-denied",
      `${method} is not available to an identity limited to workflow prefixes`,
    );
  };
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
        const page = await o.executionIndex.page(
          req.workflowName,
          req.status,
          pageSize(req.pageSize),
          cursor,
          {
            namePrefix: req.namePrefix,
            startedAfterMs: req.startedAfter?.getTime(),
            startedBeforeMs: req.startedBefore?.getTime(),
          },
        );
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
      admit("WatchExecution", o, call, call.request, (req) => workflowOfExecution(req.executionId, o))
        .then(() => {
          if (!o.connected()) throw ApiError.unavailable(NOT_CONNECTED);
          return resolveWatchTarget(
            call.request.executionId,
            (id) => o.executions.describe(id),
            (id) => o.executions.load(id),
            (err) => err instanceof ApiError && err.code === status.NOT_FOUND,
          );
        })
        .then((target) => {
          // Over HTTP, send the SSE headers now that the watch is allowed and its target exists:
          // a client then knows it is following before the next event, which may be far off.
          (call as { open?: () => void }).open?.();
          return watchEvents(o.nc, target, call.request.fromEventId, call);
        })
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
        return readEngineStats({
          nc: o.nc,
          forEachExecution: (visit) => o.executionIndex.forEach(visit),
          windowSeconds,
          log: o.log,
        });
      },
      () => {
        // Activities are shared by workflows: the stats cannot be cut to a workflow scope.
        throw new AuthError(
          "permission-denied",
          "GetEngineStats is not available to an identity limited to workflow prefixes",
        );
      },
    ),
    // --- Operations (issue 17): dead letters ---
    listDeadLetters: unary(
      "ListDeadLetters",
      o,
      (req) =>
        o.deadLetters.list(
          { service: req.service, subjectPrefix: req.subjectPrefix, reasonContains: req.reasonContains },
          pageSize(req.pageSize),
          req.pageToken,
        ),
      unscopedOnly("ListDeadLetters"),
    ),
    getDeadLetter: unary(
      "GetDeadLetter",
      o,
      (req) => o.deadLetters.get(req.sequence),
      unscopedOnly("GetDeadLetter"),
    ),
    replayDeadLetter: unary(
      "ReplayDeadLetter",
      o,
      async (req, identity) => {
        const replayed = await o.deadLetters.replay(req.sequence);
        o.log.info(
          { identity: identity.name, sequence: req.sequence, subject: replayed.subject },
          "dead letter replayed",
        );
        return replayed;
      },
      unscopedOnly("ReplayDeadLetter"),
    ),
    discardDeadLetter: unary(
      "DiscardDeadLetter",
      o,
      async (req, identity) => {
        await o.deadLetters.discard(req.sequence);
        o.log.info({ identity: identity.name, sequence: req.sequence }, "dead letter discarded");
        return {};
      },
      unscopedOnly("DiscardDeadLetter"),
    ),
    // --- Operations (issue 17): bulk operations ---
    startBulkStop: unary(
      "StartBulkStop",
      o,
      (req, identity) =>
        o.bulkOperations.startStop(
          { filter: req.filter, error: req.error, cause: req.cause, requestId: req.requestId },
          recorded(identity),
        ),
      (req) => {
        const workflowName = req.filter?.workflowName ?? "";
        if (workflowName === "") {
          throw new AuthError(
            "permission-denied",
            "StartBulkStop by an identity limited to workflow prefixes needs filter.workflow_name",
          );
        }
        return Promise.resolve(workflowName);
      },
    ),
    startBulkRedrive: unary(
      "StartBulkRedrive",
      o,
      (req, identity) =>
        o.bulkOperations.startRedrive({ filter: req.filter, requestId: req.requestId }, recorded(identity)),
      (req) => {
        const workflowName = req.filter?.workflowName ?? "";
        if (workflowName === "") {
          throw new AuthError(
            "permission-denied",
            "StartBulkRedrive by an identity limited to workflow prefixes needs filter.workflow_name",
          );
        }
        return Promise.resolve(workflowName);
      },
    ),
    describeBulkOperation: unary(
      "DescribeBulkOperation",
      o,
      async (req) => ({ operation: await o.bulkOperations.describe(req.operationId) }),
      async (req) => (await o.bulkOperations.describe(req.operationId)).filter?.workflowName ?? "",
    ),
    listBulkOperations: unary("ListBulkOperations", o, (req, identity) =>
      o.bulkOperations.list(pageSize(req.pageSize), req.pageToken, (op) =>
        identity.workflowPrefixes === undefined
          ? true
          : op.filter?.workflowName !== "" && inScope(identity, op.filter?.workflowName ?? ""),
      ),
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
