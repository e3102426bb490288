/**
 * `createClient`: the WorkflowService over gRPC as promises and async iterables, with per-call
 * deadlines, and retries of idempotent calls on UNAVAILABLE until their deadline. The client
 * never logs unless given a logger.
 */
import { randomUUID } from "node:crypto";
import { Metadata, credentials } from "@grpc/grpc-js";
import type { ChannelCredentials, ClientReadableStream, ServiceError } from "@grpc/grpc-js";
import { ExecutionStatus, Schedule, WorkflowServiceClient } from "@jetflow/contracts";
import type {
  BulkFilter,
  BulkOperation,
  DescribeExecutionResponse,
  ListBulkOperationsResponse,
  StartBulkRedriveResponse,
  StartBulkStopResponse,
  GetDeadLetterResponse,
  ListDeadLettersResponse,
  ReplayDeadLetterResponse,
  GetEngineStatsResponse,
  GetExecutionHistoryResponse,
  GetWorkflowResponse,
  HistoryEvent,
  ListExecutionsResponse,
  ListWorkflowsResponse,
  RegisterWorkflowResponse,
  StartExecutionResponse,
  StopExecutionResponse,
  RedriveExecutionResponse,
  WatchExecutionResponse,
} from "@jetflow/contracts";
import { Code, JetflowError, codeName } from "./errors";
import { MAX_BACKOFF_MS, backoffMs, withRetries } from "./retry";
import type { RetryEvent } from "./retry";

/** The logger the client reports retries to (pino's `warn` fits). */
export interface ClientLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Options of `createClient`. */
export interface ClientOptions {
  /** host:port of the api-gateway. Default `process.env.JETFLOW_ADDR`, else `127.0.0.1:50051`. */
  address?: string;
  /**
   * Deadline of each unary call, retries and waits included, in ms. Default 30000: long enough to
   * ride out the restart of the gateway or of a service behind it. Streams have none, but a
   * broken watch is resumed for at most this long.
   */
  deadlineMs?: number;
  /**
   * Most retries of a call that failed with UNAVAILABLE (exponential back-off from 100 ms to 2 s,
   * with jitter). Default Infinity: retried until the deadline. Every call is retried this way
   * (all are idempotent: `startExecution` sends a request id, see there); 0 turns retries off.
   */
  retries?: number;
  /** Told of each retry (method, attempt, code, wait) at `warn`. Default none: silent. */
  logger?: ClientLogger;
  /**
   * Bearer token sent as `authorization` on every call (a static API token or a JWT); a function
   * is asked before each call, so that a short-lived JWT can be refreshed. Default
   * `process.env.JETFLOW_TOKEN`, else none.
   */
  token?: string | (() => string | Promise<string>);
  /**
   * TLS to the gateway: `true` trusts the system's CAs; an object sets a CA bundle (`ca`, PEM)
   * and, for mutual TLS, a client certificate and key (PEM). Default plaintext.
   */
  tls?: boolean | ClientTlsOptions;
}

/** TLS settings of a client; every field is PEM text or bytes. */
export interface ClientTlsOptions {
  /** CA bundle that signed the gateway's certificate. Default: the system's CAs. */
  ca?: string | Buffer;
  /** Client certificate chain, for gateways that require mutual TLS (with `key`). */
  cert?: string | Buffer;
  /** Private key of `cert`. */
  key?: string | Buffer;
}

function toBuffer(pem: string | Buffer | undefined): Buffer | null {
  return pem === undefined ? null : Buffer.isBuffer(pem) ? pem : Buffer.from(pem);
}

function channelCredentials(tls: ClientOptions["tls"]): ChannelCredentials {
  if (tls === undefined || tls === false) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TypeError("tls.cert and tls.key must be given together");
  }
  return credentials.createSsl(toBuffer(tls.ca), toBuffer(tls.key), toBuffer(tls.cert));
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
   * given, else `JSON.stringify(input)`, else `{}`. Always idempotent, so always retried: an
   * `executionName` is the key, else `requestId`, else a UUID generated once for this call and sent
   * with every retry; the gateway turns the key into the execution id, so a retried start never
   * makes a second execution (`created: false` on the retry that finds it). Pass your own
   * `requestId` to keep that guarantee across process restarts; unlike a name it is not listed.
   */
  startExecution(req: {
    workflowName: string;
    workflowVersion?: number;
    input?: unknown;
    inputJson?: string;
    executionName?: string;
    requestId?: string;
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
   * Breaking out of the loop cancels the stream. A lost connection (UNAVAILABLE) is resumed after
   * the last event received, with back-off, for up to `deadlineMs` (and `retries` times) in a row.
   */
  watchExecution(req: { executionId: string; fromEventId?: number }): AsyncIterable<HistoryEvent>;
  /**
   * Asks a running execution to stop (ABORTED); its in-flight tasks are told to abort. Retried:
   * when an earlier attempt's stop went through unanswered, the retry finds the execution ABORTED
   * with this error and cause and resolves with its stop time instead of FAILED_PRECONDITION.
   */
  stopExecution(req: { executionId: string; error?: string; cause?: string }): Promise<StopExecutionResponse>;
  /**
   * Redrives an execution that failed, timed out or was aborted: it runs again from the state
   * that failed (docs/redrive.md). Resolves when the redrive is accepted (the execution becomes
   * RUNNING a moment later), with the redrive count it will have. Retried: when an earlier
   * attempt went through unanswered, the retry finds the execution redriven and resolves with it.
   */
  redriveExecution(executionId: string): Promise<RedriveExecutionResponse>;
  /**
   * Schedules (docs/schedules.md). Creating one that exists is ALREADY_EXISTS (a retry of an
   * unanswered create resolves with the stored schedule when it is the same one).
   */
  createSchedule(
    schedule: Partial<Schedule> & { scheduleId: string; workflowName: string },
  ): Promise<Schedule>;
  describeSchedule(scheduleId: string): Promise<Schedule>;
  listSchedules(workflowName?: string): Promise<Schedule[]>;
  pauseSchedule(scheduleId: string): Promise<Schedule>;
  resumeSchedule(scheduleId: string): Promise<Schedule>;
  deleteSchedule(scheduleId: string): Promise<void>;
  /**
   * Completes a task by its token with `output` (sent as JSON). Retried: the engine applies one
   * outcome per task attempt, so a repeat changes nothing (but the retry of an attempt that went
   * through unanswered rejects with NOT_FOUND: the task is no longer running).
   */
  sendTaskSuccess(taskToken: string, output: unknown): Promise<void>;
  /** Fails a task by its token with an ASL error name (matched by Retry and Catch); retried likewise. */
  sendTaskFailure(taskToken: string, error: string, cause?: string): Promise<void>;
  /**
   * Keeps a task alive; `cancelRequested` tells that its execution stopped or the attempt is over.
   * Retried (a heartbeat recorded twice is one heartbeat).
   */
  sendTaskHeartbeat(taskToken: string): Promise<{ cancelRequested: boolean }>;
  /**
   * Each activity's task backlog and idle worker pulls, and each workflow's executions running and
   * ended in the last `windowSeconds` (default 300) with their failure rate. Retried.
   */
  getEngineStats(windowSeconds?: number): Promise<GetEngineStatsResponse>;
  /**
   * Resolves with the description once the execution is no longer RUNNING.
   * @throws JetflowError DEADLINE_EXCEEDED when still running after `timeoutMs` (default: no limit)
   */
  waitForExecution(executionId: string, options?: { timeoutMs?: number }): Promise<DescribeExecutionResponse>;
  /** Parked messages of the dead-letter stream, oldest first, a page at a time. */
  listDeadLetters(req?: {
    /** Only letters parked by this service. */
    service?: string;
    /** Only letters whose original subject starts with this. */
    subjectPrefix?: string;
    /** Only letters whose reason contains this. */
    reasonContains?: string;
    pageSize?: number;
    pageToken?: string;
  }): Promise<ListDeadLettersResponse>;
  /** One dead letter by its sequence, its payload decoded where its kind is known. */
  getDeadLetter(sequence: number): Promise<GetDeadLetterResponse>;
  /**
   * Publishes a dead letter again on its original subject and deletes it. Retried: a repeat within
   * two minutes is dropped as a duplicate; a retry of an attempt that went through unanswered
   * rejects with NOT_FOUND (the letter is gone).
   */
  replayDeadLetter(sequence: number): Promise<ReplayDeadLetterResponse>;
  /** Deletes a dead letter without replaying it. */
  discardDeadLetter(sequence: number): Promise<void>;
  /**
   * Starts a bulk stop of every RUNNING top-level execution matching `filter`, tracked as one
   * operation. Always retried: the request id (generated once per call unless given) makes a
   * retry return the operation the first attempt created.
   */
  startBulkStop(req: {
    filter: Partial<BulkFilter>;
    error?: string;
    cause?: string;
    requestId?: string;
  }): Promise<StartBulkStopResponse>;
  /**
   * Starts a bulk redrive of every FAILED, TIMED_OUT or ABORTED top-level execution matching
   * `filter` (its status, when set, must be one of those), tracked as one operation. An execution
   * that cannot be redriven is counted as skipped (last_skip_reason says why). Always retried, as
   * startBulkStop.
   */
  startBulkRedrive(req: {
    filter: Partial<BulkFilter>;
    requestId?: string;
  }): Promise<StartBulkRedriveResponse>;
  /** A bulk operation's state and progress. */
  describeBulkOperation(operationId: string): Promise<BulkOperation>;
  /** Bulk operations, newest first. */
  listBulkOperations(req?: { pageSize?: number; pageToken?: string }): Promise<ListBulkOperationsResponse>;
  /** Closes the connection; later calls fail. */
  close(): void;
}

/** How `unary` runs one method. */
interface UnaryOptions {
  /** False to never retry. Default true. */
  idempotent?: boolean;
  /** Told the number (from 1) of each attempt as it starts. */
  onAttempt?: (attemptNumber: number) => void;
}

type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: unknown) => void,
) => unknown;

/** An event id past any real one: a watch from it sends nothing and ends with the execution. */
const PAST_EVERY_EVENT = Number.MAX_SAFE_INTEGER;

/** A bulk operation's filter with every field present (unset ones match everything). */
function bulkFilter(filter: Partial<BulkFilter>): BulkFilter {
  return {
    workflowName: filter.workflowName ?? "",
    status: filter.status ?? ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
    namePrefix: filter.namePrefix ?? "",
    startedAfter: filter.startedAfter,
    startedBefore: filter.startedBefore,
  };
}

const DEFAULT_ADDRESS = "127.0.0.1:50051";
/** Default deadline of a unary call, retries included: rides out a restart of a few seconds. */
const DEFAULT_DEADLINE_MS = 30_000;

/** Connects (lazily, on the first call) to the api-gateway. */
export function createClient(options: ClientOptions = {}): JetflowClient {
  const address = options.address ?? process.env.JETFLOW_ADDR ?? DEFAULT_ADDRESS;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const retries = options.retries ?? Infinity;
  const logger = options.logger;
  const token = options.token ?? process.env.JETFLOW_TOKEN;
  // The token goes in each call's metadata rather than as call credentials, which grpc-js only
  // sends over TLS: a token on a plaintext loopback port is the caller's choice to make.
  async function callMetadata(): Promise<Metadata> {
    const metadata = new Metadata();
    const value = typeof token === "function" ? await token() : token;
    if (value) metadata.set("authorization", `Bearer ${value}`);
    return metadata;
  }
  const raw = new WorkflowServiceClient(address, channelCredentials(options.tls), {
    // History pages and descriptions carry JSON payloads of up to a few MiB.
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
    "grpc.max_send_message_length": 64 * 1024 * 1024,
    // grpc-js waits 1 s, then up to 120 s, between attempts to reconnect, failing calls at once in
    // between: after a gateway restart that would leave our retries failing long after it is back.
    "grpc.initial_reconnect_backoff_ms": 250,
    "grpc.max_reconnect_backoff_ms": MAX_BACKOFF_MS,
  });

  const reportRetry = (method: string) => (event: RetryEvent) =>
    logger?.warn(
      {
        method,
        retry: event.retry,
        code: codeName(event.error.code),
        waitMs: event.waitMs,
        err: event.error,
      },
      "call failed; retrying",
    );

  /** One unary call with the client's deadline and retries. */
  function unary<Res>(
    method: keyof WorkflowServiceClient,
    request: unknown,
    unaryOptions: UnaryOptions = {},
  ): Promise<Res> {
    const fn = (raw[method] as unknown as UnaryMethod).bind(raw);
    return withRetries(
      async (deadline, attemptNumber) => {
        const metadata = await callMetadata();
        return new Promise<Res>((resolve, reject) => {
          unaryOptions.onAttempt?.(attemptNumber);
          fn(request, metadata, { deadline }, (err, response) =>
            err ? reject(err) : resolve(response as Res),
          );
        });
      },
      {
        retries,
        deadlineMs,
        idempotent: unaryOptions.idempotent ?? true,
        onRetry: reportRetry(method),
      },
    );
  }

  /** One watch stream; `signal` cancels it (the iteration then ends without error). */
  async function* watch(
    req: { executionId: string; fromEventId?: number },
    signal?: AbortSignal,
  ): AsyncGenerator<HistoryEvent> {
    let from = req.fromEventId ?? 0;
    let failures = 0;
    // When the stream last broke after working: resumption gives up `deadlineMs` after that.
    let brokenSince: number | undefined;
    for (;;) {
      if (signal?.aborted) return;
      const opened = Date.now();
      const call: ClientReadableStream<WatchExecutionResponse> = raw.watchExecution(
        { executionId: req.executionId, fromEventId: from },
        await callMetadata(),
      );
      // After cancel() the stream reports CANCELLED; the loop below has already left by then.
      call.on("error", () => undefined);
      const cancel = () => call.cancel();
      signal?.addEventListener("abort", cancel);
      try {
        for await (const response of call as AsyncIterable<WatchExecutionResponse>) {
          failures = 0;
          brokenSince = undefined;
          const event = response.event;
          if (event === undefined) continue;
          from = Math.max(from, event.eventId + 1);
          yield event;
        }
        return;
      } catch (thrown) {
        if (signal?.aborted) return;
        const err = JetflowError.from(thrown);
        const failedAt = Date.now();
        // A stream that stayed open longer than any back-off was connected: a fresh break.
        if (failedAt - opened > MAX_BACKOFF_MS) {
          failures = 0;
          brokenSince = undefined;
        }
        brokenSince ??= failedAt;
        if (err.code !== Code.UNAVAILABLE || failures >= retries) throw err;
        failures += 1;
        const waitMs = backoffMs(failures);
        if (failedAt + waitMs - brokenSince > deadlineMs) throw err;
        reportRetry("watchExecution")({ error: err, retry: failures, waitMs });
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      } finally {
        signal?.removeEventListener("abort", cancel);
        call.cancel();
      }
    }
  }

  /**
   * StopExecution, retried. The stop command is de-duplicated by the engine, but the retry of an
   * attempt that went through unanswered finds the execution no longer running: when it ended
   * ABORTED with our error and cause, that is our stop, answered late.
   */
  async function stopExecution(req: {
    executionId: string;
    error?: string;
    cause?: string;
  }): Promise<StopExecutionResponse> {
    const request = { executionId: req.executionId, error: req.error ?? "", cause: req.cause ?? "" };
    let attempts = 0;
    try {
      return await unary<StopExecutionResponse>("stopExecution", request, {
        onAttempt: (n) => (attempts = n),
      });
    } catch (thrown) {
      const err = JetflowError.from(thrown);
      if (err.code !== Code.FAILED_PRECONDITION || attempts < 2) throw err;
      const described = await client.describeExecution(req.executionId);
      const ours =
        described.execution?.status === ExecutionStatus.EXECUTION_STATUS_ABORTED &&
        described.error === request.error &&
        described.cause === request.cause;
      if (!ours) throw err;
      return { stopTime: described.execution?.stopTime };
    }
  }

  /** RedriveExecution, retried; a retry refused because an unanswered attempt redrove it resolves. */
  async function redriveExecution(executionId: string): Promise<RedriveExecutionResponse> {
    let attempts = 0;
    const before = await client.describeExecution(executionId);
    const seen = before.execution?.redriveCount ?? 0;
    try {
      return await unary<RedriveExecutionResponse>(
        "redriveExecution",
        { executionId },
        { onAttempt: (n) => (attempts = n) },
      );
    } catch (thrown) {
      const err = JetflowError.from(thrown);
      if (err.code !== Code.FAILED_PRECONDITION || attempts < 2) throw err;
      const described = await client.describeExecution(executionId);
      const count = described.execution?.redriveCount ?? 0;
      if (count <= seen) throw err;
      return { redriveCount: count, redriveTime: undefined };
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
      // Generated once per logical call, not per attempt: every retry carries the same key, so
      // the gateway finds the execution an unanswered attempt created instead of making another.
      const requestId = executionName === "" ? (req.requestId ?? randomUUID()) : undefined;
      return unary("startExecution", {
        workflowName: req.workflowName,
        workflowVersion: req.workflowVersion ?? 0,
        inputJson,
        executionName,
        ...(requestId === undefined ? {} : { requestId }),
      });
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
    stopExecution: (req) => stopExecution(req),
    redriveExecution: (executionId) => redriveExecution(executionId),
    createSchedule: async (schedule) => {
      const request = Schedule.fromPartial(schedule);
      let attempts = 0;
      try {
        const res = await unary<{ schedule?: Schedule }>(
          "createSchedule",
          { schedule: request },
          { onAttempt: (n) => (attempts = n) },
        );
        return res.schedule ?? request;
      } catch (thrown) {
        const err = JetflowError.from(thrown);
        if (err.code !== Code.ALREADY_EXISTS || attempts < 2) throw err;
        const stored = await client.describeSchedule(request.scheduleId);
        const same =
          stored.workflowName === request.workflowName &&
          stored.cron === request.cron.trim() &&
          stored.intervalSeconds === request.intervalSeconds &&
          stored.inputJson === request.inputJson;
        if (!same) throw err;
        return stored;
      }
    },
    describeSchedule: async (scheduleId) =>
      (await unary<{ schedule?: Schedule }>("describeSchedule", { scheduleId })).schedule ??
      Schedule.fromPartial({ scheduleId }),
    listSchedules: async (workflowName = "") =>
      (await unary<{ schedules: Schedule[] }>("listSchedules", { workflowName })).schedules,
    pauseSchedule: async (scheduleId) =>
      (await unary<{ schedule?: Schedule }>("pauseSchedule", { scheduleId })).schedule ??
      Schedule.fromPartial({ scheduleId }),
    resumeSchedule: async (scheduleId) =>
      (await unary<{ schedule?: Schedule }>("resumeSchedule", { scheduleId })).schedule ??
      Schedule.fromPartial({ scheduleId }),
    deleteSchedule: async (scheduleId) => {
      let attempts = 0;
      try {
        await unary("deleteSchedule", { scheduleId }, { onAttempt: (n) => (attempts = n) });
      } catch (thrown) {
        const err = JetflowError.from(thrown);
        // A retry of a delete that went through unanswered finds nothing left to delete.
        if (err.code !== Code.NOT_FOUND || attempts < 2) throw err;
      }
    },
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
    getEngineStats: (windowSeconds = 0) => unary<GetEngineStatsResponse>("getEngineStats", { windowSeconds }),
    waitForExecution: (executionId, waitOptions = {}) =>
      waitForExecution(client, watch, executionId, waitOptions.timeoutMs),
    listDeadLetters: (req = {}) =>
      unary<ListDeadLettersResponse>("listDeadLetters", {
        service: req.service ?? "",
        subjectPrefix: req.subjectPrefix ?? "",
        reasonContains: req.reasonContains ?? "",
        pageSize: req.pageSize ?? 0,
        pageToken: req.pageToken ?? "",
      }),
    getDeadLetter: (sequence) => unary<GetDeadLetterResponse>("getDeadLetter", { sequence }),
    replayDeadLetter: (sequence) => unary<ReplayDeadLetterResponse>("replayDeadLetter", { sequence }),
    discardDeadLetter: async (sequence) => {
      await unary("discardDeadLetter", { sequence });
    },
    startBulkStop: (req) =>
      unary<StartBulkStopResponse>("startBulkStop", {
        filter: bulkFilter(req.filter),
        error: req.error ?? "",
        cause: req.cause ?? "",
        requestId: req.requestId ?? randomUUID(),
      }),
    startBulkRedrive: (req) =>
      unary<StartBulkRedriveResponse>("startBulkRedrive", {
        filter: bulkFilter(req.filter),
        requestId: req.requestId ?? randomUUID(),
      }),
    describeBulkOperation: async (operationId) => {
      const response = await unary<{ operation?: BulkOperation }>("describeBulkOperation", { operationId });
      if (response.operation === undefined)
        throw new Error(`bulk operation "${operationId}" came back empty`);
      return response.operation;
    },
    listBulkOperations: (req = {}) =>
      unary<ListBulkOperationsResponse>("listBulkOperations", {
        pageSize: req.pageSize ?? 0,
        pageToken: req.pageToken ?? "",
      }),
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
