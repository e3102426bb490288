/**
 * `createClient`: the WorkflowService over gRPC as promises and async iterables, with per-call
 * deadlines and retries on UNAVAILABLE. The client never logs.
 */
import { Metadata, credentials } from "@grpc/grpc-js";
import type { ClientReadableStream, ServiceError } from "@grpc/grpc-js";
import { ExecutionStatus, WorkflowServiceClient } from "@jetflow/contracts";
import type {
  DescribeExecutionResponse,
  GetExecutionHistoryResponse,
  GetWorkflowResponse,
  HistoryEvent,
  ListExecutionsResponse,
  ListWorkflowsResponse,
  RegisterWorkflowResponse,
  StartExecutionResponse,
  StopExecutionResponse,
  WatchExecutionResponse,
} from "@jetflow/contracts";
import { Code, JetflowError } from "./errors";
import { backoffMs, withRetries } from "./retry";

/** Options of `createClient`. */
export interface ClientOptions {
  /** host:port of the api-gateway. Default `process.env.JETFLOW_ADDR`, else `127.0.0.1:50051`. */
  address?: string;
  /** Deadline of each unary call, retries included, in ms. Default 30000. Streams have none. */
  deadlineMs?: number;
  /**
   * Retries of a call that failed with UNAVAILABLE, with exponential back-off. Default 3. Not
   * applied to `startExecution` without an `executionName` (it is not idempotent).
   */
  retries?: number;
}

/** The WorkflowService of a jetflow api-gateway. Every rejection is a JetflowError. */
export interface JetflowClient {
  /** Registers an ASL definition (JSON or YAML); identical content returns the existing version. */
  registerWorkflow(req: {
    name: string;
    definition: string;
    description?: string;
  }): Promise<RegisterWorkflowResponse>;
  /** A version of a workflow with its definition; the latest when `version` is 0 or absent. */
  getWorkflow(req: { name: string; version?: number }): Promise<GetWorkflowResponse>;
  /** Workflows (latest version of each) by name, a page at a time. */
  listWorkflows(req?: { pageSize?: number; pageToken?: string }): Promise<ListWorkflowsResponse>;
  /**
   * Starts an execution of the latest version (or `workflowVersion`). The input is `inputJson` when
   * given, else `JSON.stringify(input)`, else `{}`. An `executionName` makes the call idempotent.
   */
  startExecution(req: {
    workflowName: string;
    workflowVersion?: number;
    input?: unknown;
    inputJson?: string;
    executionName?: string;
  }): Promise<StartExecutionResponse>;
  describeExecution(executionId: string): Promise<DescribeExecutionResponse>;
  /** Top-level executions, newest first, optionally of one workflow and in one status. */
  listExecutions(req?: {
    workflowName?: string;
    status?: ExecutionStatus;
    /** Only executions whose name starts with this. */
    namePrefix?: string;
    /** Only executions started at or after this time. */
    startedAfter?: Date;
    /** Only executions started before this time. */
    startedBefore?: Date;
    pageSize?: number;
    pageToken?: string;
  }): Promise<ListExecutionsResponse>;
  getExecutionHistory(req: {
    executionId: string;
    pageSize?: number;
    pageToken?: string;
    reverseOrder?: boolean;
  }): Promise<GetExecutionHistoryResponse>;
  /**
   * The history events from `fromEventId` (default: the first), live until the execution ends.
   * Breaking out of the loop cancels the stream. A lost connection is resumed after the last
   * event received (up to `retries` times in a row).
   */
  watchExecution(req: { executionId: string; fromEventId?: number }): AsyncIterable<HistoryEvent>;
  /** Asks a running execution to stop (ABORTED); its in-flight tasks are told to abort. */
  stopExecution(req: { executionId: string; error?: string; cause?: string }): Promise<StopExecutionResponse>;
  /** Completes a task by its token with `output` (sent as JSON). */
  sendTaskSuccess(taskToken: string, output: unknown): Promise<void>;
  /** Fails a task by its token with an ASL error name (matched by Retry and Catch). */
  sendTaskFailure(taskToken: string, error: string, cause?: string): Promise<void>;
  /** Keeps a task alive; `cancelRequested` tells that its execution stopped or the attempt is over. */
  sendTaskHeartbeat(taskToken: string): Promise<{ cancelRequested: boolean }>;
  /**
   * Resolves with the description once the execution is no longer RUNNING.
   * @throws JetflowError DEADLINE_EXCEEDED when still running after `timeoutMs` (default: no limit)
   */
  waitForExecution(executionId: string, options?: { timeoutMs?: number }): Promise<DescribeExecutionResponse>;
  /** Closes the connection; later calls fail. */
  close(): void;
}

type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: unknown) => void,
) => unknown;

/** An event id past any real one: a watch from it sends nothing and ends with the execution. */
const PAST_EVERY_EVENT = Number.MAX_SAFE_INTEGER;

const DEFAULT_ADDRESS = "127.0.0.1:50051";

/** Connects (lazily, on the first call) to the api-gateway. */
export function createClient(options: ClientOptions = {}): JetflowClient {
  const address = options.address ?? process.env.JETFLOW_ADDR ?? DEFAULT_ADDRESS;
  const deadlineMs = options.deadlineMs ?? 30_000;
  const retries = options.retries ?? 3;
  const raw = new WorkflowServiceClient(address, credentials.createInsecure(), {
    // History pages and descriptions carry JSON payloads of up to a few MiB.
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
    "grpc.max_send_message_length": 64 * 1024 * 1024,
  });

  function unary<Res>(
    method: keyof WorkflowServiceClient,
    request: unknown,
    idempotent = true,
  ): Promise<Res> {
    const fn = (raw[method] as unknown as UnaryMethod).bind(raw);
    return withRetries(
      (deadline) =>
        new Promise<Res>((resolve, reject) => {
          fn(request, new Metadata(), { deadline }, (err, response) =>
            err ? reject(err) : resolve(response as Res),
          );
        }),
      { retries, deadlineMs, idempotent },
    );
  }

  /** One watch stream; `signal` cancels it (the iteration then ends without error). */
  async function* watch(
    req: { executionId: string; fromEventId?: number },
    signal?: AbortSignal,
  ): AsyncGenerator<HistoryEvent> {
    let from = req.fromEventId ?? 0;
    let failures = 0;
    for (;;) {
      if (signal?.aborted) return;
      const call: ClientReadableStream<WatchExecutionResponse> = raw.watchExecution({
        executionId: req.executionId,
        fromEventId: from,
      });
      // After cancel() the stream reports CANCELLED; the loop below has already left by then.
      call.on("error", () => undefined);
      const cancel = () => call.cancel();
      signal?.addEventListener("abort", cancel);
      try {
        for await (const response of call as AsyncIterable<WatchExecutionResponse>) {
          failures = 0;
          const event = response.event;
          if (event === undefined) continue;
          from = Math.max(from, event.eventId + 1);
          yield event;
        }
        return;
      } catch (thrown) {
        if (signal?.aborted) return;
        const err = JetflowError.from(thrown);
        if (err.code !== Code.UNAVAILABLE || failures >= retries) throw err;
        failures += 1;
        await new Promise((resolve) => setTimeout(resolve, backoffMs(failures)));
      } finally {
        signal?.removeEventListener("abort", cancel);
        call.cancel();
      }
    }
  }

  const client: JetflowClient = {
    registerWorkflow: (req) =>
      unary("registerWorkflow", {
        name: req.name,
        definition: req.definition,
        description: req.description ?? "",
      }),
    getWorkflow: (req) => unary("getWorkflow", { name: req.name, version: req.version ?? 0 }),
    listWorkflows: (req = {}) =>
      unary("listWorkflows", { pageSize: req.pageSize ?? 0, pageToken: req.pageToken ?? "" }),
    startExecution: (req) => {
      const executionName = req.executionName ?? "";
      const inputJson = req.inputJson ?? (req.input === undefined ? "" : JSON.stringify(req.input));
      return unary(
        "startExecution",
        {
          workflowName: req.workflowName,
          workflowVersion: req.workflowVersion ?? 0,
          inputJson,
          executionName,
        },
        // Without a name a retried start could create a second execution.
        executionName !== "",
      );
    },
    describeExecution: (executionId) => unary("describeExecution", { executionId }),
    listExecutions: (req = {}) =>
      unary("listExecutions", {
        workflowName: req.workflowName ?? "",
        status: req.status ?? ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
        pageSize: req.pageSize ?? 0,
        pageToken: req.pageToken ?? "",
        namePrefix: req.namePrefix ?? "",
        startedAfter: req.startedAfter,
        startedBefore: req.startedBefore,
      }),
    getExecutionHistory: (req) =>
      unary("getExecutionHistory", {
        executionId: req.executionId,
        pageSize: req.pageSize ?? 0,
        pageToken: req.pageToken ?? "",
        reverseOrder: req.reverseOrder ?? false,
      }),
    watchExecution: (req) => watch(req),
    stopExecution: (req) =>
      unary("stopExecution", {
        executionId: req.executionId,
        error: req.error ?? "",
        cause: req.cause ?? "",
      }),
    sendTaskSuccess: async (taskToken, output) => {
      await unary("sendTaskSuccess", { taskToken, outputJson: JSON.stringify(output) ?? "null" });
    },
    sendTaskFailure: async (taskToken, error, cause) => {
      await unary("sendTaskFailure", { taskToken, error, cause: cause ?? "" });
    },
    sendTaskHeartbeat: async (taskToken) => {
      const response = await unary<{ cancelRequested: boolean }>("sendTaskHeartbeat", { taskToken });
      return { cancelRequested: response.cancelRequested };
    },
    waitForExecution: (executionId, waitOptions = {}) =>
      waitForExecution(client, watch, executionId, waitOptions.timeoutMs),
    close: () => raw.close(),
  };
  return client;
}

async function waitForExecution(
  client: JetflowClient,
  watch: (
    req: { executionId: string; fromEventId?: number },
    signal?: AbortSignal,
  ) => AsyncGenerator<HistoryEvent>,
  executionId: string,
  timeoutMs: number | undefined,
): Promise<DescribeExecutionResponse> {
  const controller = new AbortController();
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(), timeoutMs);
  try {
    for (;;) {
      const described = await client.describeExecution(executionId);
      if (described.execution?.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) return described;
      if (controller.signal.aborted) {
        throw new JetflowError(
          Code.DEADLINE_EXCEEDED,
          `execution "${executionId}" still running after ${timeoutMs} ms`,
        );
      }
      // A watch from past the last event sends nothing and ends when the execution does.
      for await (const _event of watch({ executionId, fromEventId: PAST_EVERY_EVENT }, controller.signal)) {
        // nothing to do: only the end of the stream matters
      }
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
