/**
 * The WorkflowService over gRPC: request validation and mapping to the operations, and errors to
 * gRPC status codes. Unknown failures become INTERNAL with a generic message and are logged; no
 * stack trace reaches a client.
 */
import { Server, ServerCredentials, status } from "@grpc/grpc-js";
import type { ServerUnaryCall, ServiceError, sendUnaryData, handleUnaryCall } from "@grpc/grpc-js";
import { ExecutionStatus, WorkflowServiceService } from "@jetflow/contracts";
import type { WorkflowServiceServer } from "@jetflow/contracts";
import { toExecutionSummary } from "@jetflow/engine";
import type { Logger } from "@jetflow/service-runtime";
import type { NatsConnection } from "@nats-io/transport-node";
import { activeStateNames } from "./active-states";
import { ApiError, RequestProblems, isUnavailable } from "./errors";
import type { ExecutionList } from "./execution-list";
import { decodeListCursor, encodeListCursor } from "./execution-list";
import type { Executions } from "./executions";
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
}

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
const NOT_CONNECTED = "not connected to NATS; try again";

/** The gRPC status of anything a handler threw; unknown failures are logged, never sent. */
function toServiceError(err: unknown, log: Logger, method: string): Partial<ServiceError> {
  if (err instanceof ApiError) return { code: err.code, details: err.message };
  if (isUnavailable(err)) {
    log.warn({ err, method }, "engine unavailable");
    return { code: status.UNAVAILABLE, details: "the engine is unavailable; try again" };
  }
  log.error({ err, method }, "request failed");
  return { code: status.INTERNAL, details: "internal error" };
}

function unary<Req, Res>(
  method: string,
  options: GrpcServerOptions,
  handler: (request: Req) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    if (!options.connected()) {
      callback({ code: status.UNAVAILABLE, details: NOT_CONNECTED }, null);
      return;
    }
    handler(call.request).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toServiceError(err, options.log, method), null),
    );
  };
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

/** Builds the service implementation. */
export function workflowService(o: GrpcServerOptions): WorkflowServiceServer {
  return {
    registerWorkflow: unary("RegisterWorkflow", o, async (req) => {
      const { version, created } = await o.workflows.register(req.name, req.definition, req.description);
      return { name: req.name, version, created };
    }),
    getWorkflow: unary("GetWorkflow", o, async (req) => {
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
    }),
    listWorkflows: unary("ListWorkflows", o, async (req) => {
      const after = decodeNameToken(req.pageToken);
      await o.workflowNames.view.sync();
      const { names, more } = o.workflowNames.list.page(after, pageSize(req.pageSize));
      const records = await o.workflows.latestOf(names);
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
    startExecution: unary("StartExecution", o, async (req) =>
      o.executions.start(
        req.workflowName,
        req.workflowVersion,
        req.inputJson,
        req.executionName,
        req.requestId ?? "",
      ),
    ),
    describeExecution: unary("DescribeExecution", o, async (req) => {
      const s = await o.executions.describe(req.executionId);
      return {
        execution: toExecutionSummary(s),
        inputJson: s.inputJson,
        outputJson: s.outputJson,
        error: s.error,
        cause: s.cause,
        activeStates: await activeStateNames(s, (id) => o.executions.load(id)),
      };
    }),
    listExecutions: unary("ListExecutions", o, async (req) => {
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
    }),
    getExecutionHistory: unary("GetExecutionHistory", o, async (req) => {
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
    }),
    watchExecution: (call) => {
      const fail = (err: unknown) => {
        if (!call.cancelled) call.emit("error", toServiceError(err, o.log, "WatchExecution"));
      };
      if (!o.connected()) {
        fail(ApiError.unavailable(NOT_CONNECTED));
        return;
      }
      resolveWatchTarget(
        call.request.executionId,
        (id) => o.executions.describe(id),
        (id) => o.executions.load(id),
        (err) => err instanceof ApiError && err.code === status.NOT_FOUND,
      )
        .then((target) => watchEvents(o.nc, target, call.request.fromEventId, call))
        .catch(fail);
    },
    stopExecution: unary("StopExecution", o, async (req) => ({
      stopTime: await o.executions.stop(req.executionId, req.error, req.cause),
    })),
    sendTaskSuccess: unary("SendTaskSuccess", o, async (req) => {
      await o.executions.completeTask(req.taskToken, {
        $case: "outputJson",
        value: req.outputJson || "null",
      });
      return {};
    }),
    sendTaskFailure: unary("SendTaskFailure", o, async (req) => {
      await o.executions.completeTask(req.taskToken, {
        $case: "failure",
        value: { error: req.error || "States.TaskFailed", cause: req.cause },
      });
      return {};
    }),
    sendTaskHeartbeat: unary("SendTaskHeartbeat", o, async (req) => ({
      cancelRequested: await o.executions.heartbeat(req.taskToken),
    })),
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

/** Binds `server` to `address`; resolves with the bound port (useful with port 0). */
export function bindServer(server: Server, address: string): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
}
