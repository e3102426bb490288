/**
 * The HTTP/JSON API as the console uses it: the proto3 JSON shapes of the messages it reads (fields
 * at their default value are absent) and one function per call. Every call carries the signed-in
 * token (auth.ts); a 401 asks for it again.
 */
import { authHeaders, requireSignIn } from "./auth";

export type ExecutionStatus =
  | "EXECUTION_STATUS_RUNNING"
  | "EXECUTION_STATUS_SUCCEEDED"
  | "EXECUTION_STATUS_FAILED"
  | "EXECUTION_STATUS_TIMED_OUT"
  | "EXECUTION_STATUS_ABORTED";

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  "EXECUTION_STATUS_RUNNING",
  "EXECUTION_STATUS_SUCCEEDED",
  "EXECUTION_STATUS_FAILED",
  "EXECUTION_STATUS_TIMED_OUT",
  "EXECUTION_STATUS_ABORTED",
];

/** "EXECUTION_STATUS_TIMED_OUT" → "timed out". */
export function statusLabel(status: string | undefined): string {
  return (status ?? "").replace("EXECUTION_STATUS_", "").replace("_", " ").toLowerCase() || "unknown";
}

export interface WorkflowSummary {
  name: string;
  version: number;
  description?: string;
  createdTime?: string;
}

export interface ExecutionSummary {
  executionId: string;
  executionName?: string;
  workflowName: string;
  workflowVersion: number;
  status?: ExecutionStatus;
  startTime?: string;
  stopTime?: string;
}

export interface Execution {
  execution: ExecutionSummary;
  inputJson?: string;
  outputJson?: string;
  error?: string;
  cause?: string;
  activeStates?: string[];
}

/** One history event: the common fields and exactly one details field (executionStarted, ...). */
export interface HistoryEvent {
  eventId: number;
  executionId: string;
  timestamp?: string;
  stateName?: string;
  [details: string]: unknown;
}

export interface DefinitionProblem {
  path?: string;
  message: string;
  line?: number;
  column?: number;
}

/** gRPC status codes the console tells apart. */
export const Code = { PERMISSION_DENIED: 7, UNAUTHENTICATED: 16 } as const;

/** A failed call: the gRPC status code and message the API answered with. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The body of a failed response as {code, message}, whatever answered (the API or a proxy). */
function errorOf(res: Response, text: string): ApiError {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // A proxy's HTML page, say: the HTTP status says enough.
  }
  const fallback =
    res.status === 401 ? Code.UNAUTHENTICATED : res.status === 403 ? Code.PERMISSION_DENIED : 2;
  return new ApiError(res.status, Number(body.code ?? fallback), String(body.message ?? res.statusText));
}

/** Turns a refusal into what the user sees: 401 brings up the sign-in. */
export function noteRefusal(err: ApiError): void {
  if (err.httpStatus === 401) requireSignIn(err.message);
}

async function call<T>(path: string, init?: { method: string; body: unknown }): Promise<T> {
  const res = await fetch(path, {
    method: init?.method ?? "GET",
    headers: { ...authHeaders(), ...(init ? { "content-type": "application/json" } : {}) },
    body: init ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) {
    const err = errorOf(res, text);
    noteRefusal(err);
    throw err;
  }
  return (text === "" ? {} : JSON.parse(text)) as T;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== "") q.set(key, String(value));
  const text = q.toString();
  return text === "" ? "" : `?${text}`;
}

const enc = encodeURIComponent;

export const api = {
  listWorkflows: (pageToken?: string) =>
    call<{ workflows?: WorkflowSummary[]; nextPageToken?: string }>(
      `/v1/workflows${query({ pageSize: 100, pageToken })}`,
    ),
  getWorkflow: (name: string, version = 0) =>
    call<{ workflow: WorkflowSummary; definition: string }>(
      `/v1/workflows/${enc(name)}${query({ version })}`,
    ),
  validateWorkflow: (definition: string) =>
    call<{ valid?: boolean; problems?: DefinitionProblem[] }>("/v1/workflows:validate", {
      method: "POST",
      body: { definition },
    }),
  registerWorkflow: (name: string, definition: string) =>
    call<{ name: string; version: number; created?: boolean }>("/v1/workflows", {
      method: "POST",
      body: { name, definition },
    }),
  startExecution: (workflowName: string, workflowVersion: number, inputJson: string, executionName: string) =>
    call<{ executionId: string }>("/v1/executions", {
      method: "POST",
      body: { workflowName, workflowVersion, inputJson, executionName },
    }),
  listExecutions: (filter: {
    workflowName?: string;
    status?: string;
    namePrefix?: string;
    startedAfter?: string;
    startedBefore?: string;
    pageSize?: number;
    pageToken?: string;
  }) => call<{ executions?: ExecutionSummary[]; nextPageToken?: string }>(`/v1/executions${query(filter)}`),
  describeExecution: (id: string) => call<Execution>(`/v1/executions/${enc(id)}`),
  history: (id: string, pageToken?: string) =>
    call<{ events?: HistoryEvent[]; nextPageToken?: string }>(
      `/v1/executions/${enc(id)}/history${query({ pageSize: 1000, pageToken })}`,
    ),
  stopExecution: (id: string, error: string, cause: string) =>
    call<{ stopTime?: string }>(`/v1/executions/${enc(id)}:stop`, { method: "POST", body: { error, cause } }),
  sendTaskSuccess: (taskToken: string, outputJson: string) =>
    call<object>("/v1/tasks:sendSuccess", { method: "POST", body: { taskToken, outputJson } }),
  sendTaskFailure: (taskToken: string, error: string, cause: string) =>
    call<object>("/v1/tasks:sendFailure", { method: "POST", body: { taskToken, error, cause } }),
  /** The URL of the execution's Server-Sent Events (WatchExecution) from `fromEventId`; see sse-reader.ts. */
  watchUrl: (id: string, fromEventId: number) => `/v1/executions/${enc(id)}/watch${query({ fromEventId })}`,
};

/** Every event of an execution's history, page by page. */
export async function readHistory(id: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let token: string | undefined;
  do {
    const page = await api.history(id, token);
    events.push(...(page.events ?? []));
    token = page.nextPageToken;
  } while (token);
  return events;
}

/** The name of an event's details field, e.g. "taskScheduled". */
export function eventType(event: HistoryEvent): string {
  for (const key of Object.keys(event)) {
    if (key !== "eventId" && key !== "executionId" && key !== "timestamp" && key !== "stateName") return key;
  }
  return "unknown";
}

/** The details object of an event. */
export function eventDetails(event: HistoryEvent): Record<string, unknown> {
  return (event[eventType(event)] ?? {}) as Record<string, unknown>;
}
