/**
 * Starting, describing and stopping executions, and reading their history. The gateway writes
 * only the first event of an execution (through the state-manager, with expected sequence 0, which
 * makes named starts race-free) and commands; the orchestrator does everything else.
 */
import { createHash } from "node:crypto";
import {
  Command,
  ExecutionStatus,
  TaskHeartbeatReply,
  TaskResult,
  decode,
  encode,
  subjects,
} from "@jetflow/contracts";
import type { ExecutionSnapshot } from "@jetflow/contracts";
import type { StateClient } from "@jetflow/service-runtime";
import {
  commandMsgIds,
  isExecutionId,
  namedExecutionId,
  newExecutionId,
  notRedrivableReason,
  parseTaskToken,
  startBatch,
} from "@jetflow/engine";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { startTraceSpan } from "@jetflow/contracts/internal";
import { ApiError, RequestProblems } from "./errors";
import { MAX_PAYLOAD_DEPTH, jsonNestingDepth } from "./json-depth";
import type { WorkflowStore } from "./workflows";
import { WORKFLOW_NAME_RULE, canonicalJson, isWorkflowName } from "./workflows";

export interface ExecutionsOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  state: StateClient;
  workflows: WorkflowStore;
  maxPayloadBytes: number;
  /** How long to wait for the result-ingestor to answer a heartbeat, in ms. */
  requestTimeoutMs: number;
  now?: () => Date;
  /** Told of each execution this gateway created (not of a repeated named start). Must not throw. */
  onExecutionCreated?: (workflowName: string) => void;
}

const MAX_NAME_LENGTH = 80;
/** Longest request id (an idempotency key such as a UUID) of an unnamed start. */
const MAX_REQUEST_ID_LENGTH = 128;
/** Step Functions' limits on an error name and a cause. */
export const MAX_ERROR_LENGTH = 256;
export const MAX_CAUSE_LENGTH = 32_768;

export class Executions {
  private readonly now: () => Date;
  constructor(private readonly o: ExecutionsOptions) {
    this.now = o.now ?? (() => new Date());
  }

  /**
   * Starts an execution. A given execution name, or else a request id, makes the call
   * idempotent: the same workflow, key and input return the existing execution
   * (`created: false`); another input is ALREADY_EXISTS. A request id only derives the execution
   * id: unlike a name it is not recorded as the execution's name, so listings do not show it.
   */
  async start(
    workflowName: string,
    version: number,
    inputJson: string,
    executionName: string,
    requestId = "",
    identity?: string,
    callerTraceParent?: string,
    scheduleId?: string,
  ): Promise<{ executionId: string; startTime: Date; created: boolean }> {
    const problems = new RequestProblems();
    if (workflowName === "") problems.add("workflow_name", "is required");
    else if (!isWorkflowName(workflowName)) problems.add("workflow_name", WORKFLOW_NAME_RULE);
    const input = this.parsePayload("input_json", inputJson === "" ? "{}" : inputJson, problems);
    if (executionName.length > MAX_NAME_LENGTH || hasControlCharacter(executionName)) {
      problems.add("execution_name", `must be at most ${MAX_NAME_LENGTH} printable characters`);
    }
    if (requestId.length > MAX_REQUEST_ID_LENGTH || hasControlCharacter(requestId)) {
      problems.add("request_id", `must be at most ${MAX_REQUEST_ID_LENGTH} printable characters`);
    }
    problems.check();
    const workflow = await this.o.workflows.get(workflowName, version);
    const executionId = executionName
      ? namedExecutionId(workflowName, executionName)
      : requestId
        ? requestExecutionId(workflowName, requestId)
        : newExecutionId();
    const startTime = this.now();
    const timeoutSeconds = workflow.machine.TimeoutSeconds ?? 0;
    // The execution's trace: every later span of it is a child of this one (see trace-context).
    const span = startTraceSpan(`StartExecution ${workflowName}`, {
      parent: callerTraceParent,
      kind: "server",
      attributes: { "jetflow.workflow": workflowName, "jetflow.execution_id": executionId },
    });
    try {
      const started = await this.commitStart({
        executionId,
        workflowName,
        workflowVersion: workflow.record.version,
        input,
        executionName,
        requestId,
        startTime,
        timeoutSeconds,
        identity,
        traceParent: span.traceParent,
        scheduleId,
      });
      span.end();
      return started;
    } catch (err) {
      span.end(err instanceof Error ? err.name : "Error");
      throw err;
    }
  }

  /**
   * Checks that `workflowName` (at `version`, 0: the latest) exists and `inputJson` is an input
   * it can be started with, as `start` would. @throws ApiError INVALID_ARGUMENT, NOT_FOUND
   */
  async checkStartable(workflowName: string, version: number, inputJson: string): Promise<void> {
    const problems = new RequestProblems();
    this.parsePayload("schedule.input_json", inputJson === "" ? "{}" : inputJson, problems);
    problems.check();
    await this.o.workflows.get(workflowName, version);
  }

  /** Appends the start (ExecutionStarted with expected sequence 0), or finds the same one. */
  private async commitStart(start: {
    executionId: string;
    workflowName: string;
    workflowVersion: number;
    input: unknown;
    executionName: string;
    requestId: string;
    startTime: Date;
    timeoutSeconds: number;
    identity: string | undefined;
    traceParent: string | undefined;
    scheduleId?: string;
  }): Promise<{ executionId: string; startTime: Date; created: boolean }> {
    const { executionId, workflowName, input, executionName, requestId, startTime } = start;
    const { batch, snapshot } = startBatch({
      executionId,
      workflowName,
      workflowVersion: start.workflowVersion,
      inputJson: JSON.stringify(input),
      executionName,
      timeoutSeconds: start.timeoutSeconds,
      startTime,
      identity: start.identity,
      traceParent: start.traceParent,
      scheduleId: start.scheduleId,
    });
    const result = await this.o.state.commit({
      batch,
      expectedLastEventSeq: 0,
      snapshot,
    });
    if (result.kind === "ok" && !result.duplicate) {
      this.o.onExecutionCreated?.(workflowName);
      return { executionId, startTime, created: true };
    }
    // The id exists: a named start seen before (or a duplicate of this very call).
    const existing = await this.o.state.load(executionId);
    if (!existing) throw ApiError.unavailable(`execution "${executionId}" is being created; try again`);
    const same =
      existing.workflowName === workflowName &&
      canonicalJson(JSON.parse(existing.inputJson || "null")) === canonicalJson(input);
    if (!same) {
      const key = executionName
        ? `named "${executionName}"`
        : `started with request id "${requestId.slice(0, MAX_REQUEST_ID_LENGTH)}"`;
      throw ApiError.exists(
        `an execution ${key} of workflow "${workflowName}" already exists with another input`,
      );
    }
    return { executionId, startTime: existing.startTime ?? startTime, created: false };
  }

  /** The snapshot of an execution. @throws ApiError NOT_FOUND */
  async describe(executionId: string): Promise<ExecutionSnapshot> {
    const problems = new RequestProblems();
    this.checkId(executionId, problems);
    problems.check();
    const snapshot = await this.o.state.load(executionId);
    if (!snapshot) throw ApiError.notFound(`execution "${executionId}" does not exist`);
    return snapshot;
  }

  /** The snapshot of an execution, or undefined when it does not exist (no checks). */
  load(executionId: string): Promise<ExecutionSnapshot | undefined> {
    return this.o.state.load(executionId);
  }

  /** Asks the orchestrator to abort a running execution. @throws ApiError NOT_FOUND, FAILED_PRECONDITION */
  async stop(executionId: string, error: string, cause: string, identity?: string): Promise<Date> {
    const problems = new RequestProblems();
    this.checkId(executionId, problems);
    checkErrorAndCause(error, cause, problems);
    problems.check();
    const snapshot = await this.describe(executionId);
    if (snapshot.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) {
      throw ApiError.precondition(`execution "${executionId}" is not running`);
    }
    await this.sendCommand(
      { executionId, kind: { $case: "stop", value: { error, cause, identity } } },
      commandMsgIds.stop(executionId, snapshot.redriveCount),
    );
    return this.now();
  }

  /**
   * Asks the orchestrator to redrive an execution that failed, timed out or was aborted (see
   * docs/redrive.md). The command names the redrive count seen here, so that a repeated or
   * concurrent request redrives once. Returns when the command is durable, with the redrive count
   * the execution will have.
   * @throws ApiError NOT_FOUND, FAILED_PRECONDITION saying why it cannot be redriven
   */
  async redrive(
    executionId: string,
    identity?: string,
  ): Promise<{ redriveTime: Date; redriveCount: number }> {
    const problems = new RequestProblems();
    this.checkId(executionId, problems);
    problems.check();
    const snapshot = await this.describe(executionId);
    const now = this.now();
    const reason = notRedrivableReason(snapshot, now);
    if (reason !== undefined) {
      throw ApiError.precondition(`execution "${executionId}" cannot be redriven: ${reason}`);
    }
    const expectedRedriveCount = snapshot.redriveCount;
    await this.sendCommand(
      { executionId, kind: { $case: "redrive", value: { expectedRedriveCount, identity } } },
      commandMsgIds.redrive(executionId, expectedRedriveCount),
    );
    return { redriveTime: now, redriveCount: expectedRedriveCount + 1 };
  }

  /** Completes a task by token, as a worker would (the callback pattern). */
  async completeTask(
    taskToken: string,
    outcome:
      { $case: "outputJson"; value: string } | { $case: "failure"; value: { error: string; cause: string } },
  ): Promise<void> {
    const problems = new RequestProblems();
    const executionId = tokenExecutionId(taskToken, problems);
    if (outcome.$case === "outputJson") this.parsePayload("output_json", outcome.value, problems);
    else checkErrorAndCause(outcome.value.error, outcome.value.cause, problems);
    problems.check();
    const snapshot = await this.describe(executionId);
    const phase = snapshot.active?.phase;
    if (phase?.$case !== "task" || phase.value.taskToken !== taskToken) {
      throw ApiError.notFound(`task "${taskToken}" is not running (it finished, timed out or was stopped)`);
    }
    await this.sendCommand(
      {
        executionId,
        kind: {
          $case: "taskOutcome",
          value: {
            taskToken,
            outcome,
            workerId: "api-gateway",
            completedTime: this.now(),
            receivedTime: this.now(),
          },
        },
      },
      commandMsgIds.taskOutcome(taskToken),
    );
  }

  /**
   * Records a heartbeat of a task by token, the way a worker does: a request to the
   * result-ingestor on the heartbeat subject of the task's activity. True when the task should be
   * abandoned (its execution stopped, or this attempt is no longer the current one).
   * @throws ApiError INVALID_ARGUMENT for a malformed token, NOT_FOUND for an unknown execution
   */
  async heartbeat(taskToken: string): Promise<boolean> {
    const problems = new RequestProblems();
    const executionId = tokenExecutionId(taskToken, problems);
    problems.check();
    const snapshot = await this.describe(executionId);
    const phase = snapshot.active?.phase;
    if (
      snapshot.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING ||
      phase?.$case !== "task" ||
      phase.value.taskToken !== taskToken
    ) {
      return true;
    }
    const request = encode(TaskResult, {
      taskToken,
      outcome: { $case: "heartbeat", value: {} },
      workerId: "api-gateway",
      completedTime: this.now(),
    });
    const subject = subjects.heartbeat(phase.value.activity);
    const reply = await this.o.nc.request(subject, request, { timeout: this.o.requestTimeoutMs });
    return decode(TaskHeartbeatReply, "TaskHeartbeatReply", reply.data, subject).cancelRequested;
  }

  private async sendCommand(command: Command, msgID: string): Promise<void> {
    await this.o.js.publish(subjects.command(command.executionId), encode(Command, command), { msgID });
  }

  /** Adds a problem unless `executionId` is one the engine could have issued. */
  checkId(executionId: string, problems: RequestProblems): void {
    if (executionId === "") problems.add("execution_id", "is required");
    else if (!isExecutionId(executionId))
      problems.add("execution_id", `invalid execution id "${executionId.slice(0, 200)}"`);
  }

  /**
   * Parses a JSON payload; a payload over the size limit is RESOURCE_EXHAUSTED at once, invalid
   * JSON a problem of the request.
   */
  private parsePayload(path: string, json: string, problems: RequestProblems): unknown {
    const bytes = Buffer.byteLength(json);
    if (bytes > this.o.maxPayloadBytes) {
      throw ApiError.tooLarge(`${path} is ${bytes} bytes, more than the limit of ${this.o.maxPayloadBytes}`);
    }
    if (jsonNestingDepth(json, MAX_PAYLOAD_DEPTH) > MAX_PAYLOAD_DEPTH) {
      problems.add(path, `nests objects and arrays more than ${MAX_PAYLOAD_DEPTH} levels deep`);
      return undefined;
    }
    try {
      return JSON.parse(json);
    } catch (err) {
      problems.add(path, `is not valid JSON: ${(err as Error).message}`);
      return undefined;
    }
  }
}

/**
 * The execution id of an unnamed start carrying a request id: the same workflow and key always
 * give the same id, which makes retries of the start idempotent. The `r-` prefix keeps these ids
 * apart from named ones (`n-`) and random ones (UUIDs, which start with a hex digit).
 */
export function requestExecutionId(workflowName: string, requestId: string): string {
  const digest = createHash("sha256").update(workflowName).update("\0").update(requestId).digest("hex");
  return `r-${digest.slice(0, 40)}`;
}

/** The execution id inside a task token, or "" after recording why the token is malformed. */
export function tokenExecutionId(taskToken: string, problems: RequestProblems): string {
  if (taskToken === "") {
    problems.add("task_token", "is required");
    return "";
  }
  try {
    return parseTaskToken(taskToken).executionId;
  } catch {
    problems.add("task_token", `invalid task token "${taskToken.slice(0, 200)}"`);
    return "";
  }
}

function checkErrorAndCause(error: string, cause: string, problems: RequestProblems): void {
  if (error.length > MAX_ERROR_LENGTH)
    problems.add("error", `must be at most ${MAX_ERROR_LENGTH} characters`);
  if (cause.length > MAX_CAUSE_LENGTH)
    problems.add("cause", `must be at most ${MAX_CAUSE_LENGTH} characters`);
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}
