/**
 * The WorkflowService over gRPC: request validation and mapping to the operations, and errors to
 * gRPC status codes. Unknown failures become INTERNAL with a generic message and are logged; no
 * stack trace reaches a client.
 */
import { Server, ServerCredentials, status } from "@grpc/grpc-js";
import type { ServerUnaryCall, ServiceError, sendUnaryData, handleUnaryCall } from "@grpc/grpc-js";
import { WorkflowServiceService } from "@jetflow/contracts";
import type { ExecutionSnapshot, ExecutionSummary, WorkflowServiceServer } from "@jetflow/contracts";
import { StateManagerError } from "@jetflow/execution-model";
import type { Logger } from "@jetflow/service-runtime";
import { ApiError } from "./errors";
import type { Executions } from "./executions";
import type { WorkflowStore } from "./workflows";

export interface GrpcServerOptions {
  address: string;
  workflows: WorkflowStore;
  executions: Executions;
  log: Logger;
  /** True while NATS is connected; else calls fail with UNAVAILABLE. */
  connected: () => boolean;
}

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

function toServiceError(err: unknown, log: Logger, method: string): Partial<ServiceError> {
  if (err instanceof ApiError) return { code: err.code, details: err.message };
  if (err instanceof StateManagerError) {
    log.warn({ err, method }, "state-manager unavailable");
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
      callback({ code: status.UNAVAILABLE, details: "not connected to NATS; try again" }, null);
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

function pageStart(token: string): number {
  if (token === "") return 0;
  const n = Number(token);
  if (!Number.isSafeInteger(n) || n < 0) throw ApiError.invalid(`invalid page token "${token.slice(0, 50)}"`);
  return n;
}

/** The summary of an execution, as lists and descriptions show it. */
export function toSummary(s: ExecutionSnapshot): ExecutionSummary {
  return {
    executionId: s.executionId,
    executionName: s.executionName,
    workflowName: s.workflowName,
    workflowVersion: s.workflowVersion,
    status: s.status,
    startTime: s.startTime,
    stopTime: s.stopTime,
  };
}

function unimplemented<Req, Res>(method: string): handleUnaryCall<Req, Res> {
  return (_call, callback) =>
    callback({ code: status.UNIMPLEMENTED, details: `${method} is not implemented yet` }, null);
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
      const all = await o.workflows.listLatest();
      const start = pageStart(req.pageToken);
      const size = pageSize(req.pageSize);
      const page = all.slice(start, start + size);
      return {
        workflows: page.map((r) => ({
          name: r.name,
          version: r.version,
          description: r.description,
          createdTime: r.createdTime,
        })),
        nextPageToken: start + size < all.length ? String(start + size) : "",
      };
    }),
    startExecution: unary("StartExecution", o, async (req) => {
      if (req.workflowName === "") throw ApiError.invalid("workflow_name is required");
      return o.executions.start(req.workflowName, req.workflowVersion, req.inputJson, req.executionName);
    }),
    describeExecution: unary("DescribeExecution", o, async (req) => {
      const s = await o.executions.describe(req.executionId);
      return {
        execution: toSummary(s),
        inputJson: s.inputJson,
        outputJson: s.outputJson,
        error: s.error,
        cause: s.cause,
        activeStates: s.active ? [s.active.name] : [],
      };
    }),
    getExecutionHistory: unary("GetExecutionHistory", o, async (req) => {
      const events = await o.executions.history(req.executionId);
      if (req.reverseOrder) events.reverse();
      const start = pageStart(req.pageToken);
      const size = pageSize(req.pageSize);
      return {
        events: events.slice(start, start + size),
        nextPageToken: start + size < events.length ? String(start + size) : "",
      };
    }),
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
    listExecutions: unimplemented("ListExecutions"),
    sendTaskHeartbeat: unimplemented("SendTaskHeartbeat"),
    watchExecution: (call) => {
      call.emit("error", { code: status.UNIMPLEMENTED, details: "WatchExecution is not implemented yet" });
    },
  };
}

/** Starts the gRPC server; resolves with the bound port (useful with port 0). */
export async function startGrpcServer(o: GrpcServerOptions): Promise<{ port: number; server: Server }> {
  const server = new Server({ "grpc.max_receive_message_length": 4 * 1024 * 1024 });
  server.addService(WorkflowServiceService, workflowService(o));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(o.address, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  return { port, server };
}
