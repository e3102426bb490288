/**
 * Starting, describing and stopping executions, and reading their history. The gateway writes
 * only the first event of an execution (through the state-manager, with expected sequence 0, which
 * makes named starts race-free) and commands; the orchestrator does everything else.
 */
import { Command, ExecutionStatus, encode, subjects } from "@jetflow/contracts";
import type { ExecutionSnapshot, HistoryEvent } from "@jetflow/contracts";
import type { StateClient } from "@jetflow/execution-model";
import {
  commandMsgIds,
  evolve,
  isExecutionId,
  namedExecutionId,
  newExecutionId,
  parseTaskToken,
  readEventBatches,
  timerIds,
} from "@jetflow/execution-model";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ApiError } from "./errors";
import type { WorkflowStore } from "./workflows";
import { canonicalJson } from "./workflows";

export interface ExecutionsOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  state: StateClient;
  workflows: WorkflowStore;
  maxPayloadBytes: number;
  now?: () => Date;
}

const MAX_NAME_LENGTH = 80;

export class Executions {
  private readonly now: () => Date;
  constructor(private readonly o: ExecutionsOptions) {
    this.now = o.now ?? (() => new Date());
  }

  /**
   * Starts an execution. A given execution name makes the call idempotent: the same name and
   * input return the existing execution (`created: false`); another input is ALREADY_EXISTS.
   */
  async start(
    workflowName: string,
    version: number,
    inputJson: string,
    executionName: string,
  ): Promise<{ executionId: string; startTime: Date; created: boolean }> {
    const input = this.parsePayload("input", inputJson === "" ? "{}" : inputJson);
    if (executionName.length > MAX_NAME_LENGTH || hasControlCharacter(executionName)) {
      throw ApiError.invalid(`execution name must be at most ${MAX_NAME_LENGTH} printable characters`);
    }
    const workflow = await this.o.workflows.get(workflowName, version);
    const executionId = executionName ? namedExecutionId(workflowName, executionName) : newExecutionId();
    const startTime = this.now();
    const timeoutSeconds = workflow.machine.TimeoutSeconds ?? 0;
    const batch = {
      executionId,
      parent: undefined,
      events: [
        {
          eventId: 1,
          executionId,
          timestamp: startTime,
          stateName: "",
          details: {
            $case: "executionStarted" as const,
            value: {
              workflowName,
              workflowVersion: workflow.record.version,
              inputJson: JSON.stringify(input),
              executionName,
              machinePath: "",
              parent: undefined,
              rootExecutionId: executionId,
              timeoutSeconds,
              timeoutTimerId: timeoutSeconds > 0 ? timerIds.executionTimeout(executionId) : "",
            },
          },
        },
      ],
    };
    const result = await this.o.state.commit({
      batch,
      expectedLastEventSeq: 0,
      snapshot: evolve(undefined, batch, 0),
    });
    if (result.kind === "ok" && !result.duplicate) return { executionId, startTime, created: true };
    // The id exists: a named start seen before (or a duplicate of this very call).
    const existing = await this.o.state.load(executionId);
    if (!existing) throw ApiError.unavailable(`execution "${executionId}" is being created; try again`);
    const same =
      existing.workflowName === workflowName &&
      canonicalJson(JSON.parse(existing.inputJson || "null")) === canonicalJson(input);
    if (!same) {
      throw ApiError.exists(
        `an execution named "${executionName}" of workflow "${workflowName}" already exists with another input`,
      );
    }
    return { executionId, startTime: existing.startTime ?? startTime, created: false };
  }

  /** The snapshot of an execution. @throws ApiError NOT_FOUND */
  async describe(executionId: string): Promise<ExecutionSnapshot> {
    this.checkId(executionId);
    const snapshot = await this.o.state.load(executionId);
    if (!snapshot) throw ApiError.notFound(`execution "${executionId}" does not exist`);
    return snapshot;
  }

  /** Every event of an execution, oldest first. @throws ApiError NOT_FOUND */
  async history(executionId: string): Promise<HistoryEvent[]> {
    this.checkId(executionId);
    const events: HistoryEvent[] = [];
    for await (const { batch } of readEventBatches(this.o.nc, executionId)) events.push(...batch.events);
    if (events.length === 0) throw ApiError.notFound(`execution "${executionId}" does not exist`);
    return events;
  }

  /** Asks the orchestrator to abort a running execution. @throws ApiError NOT_FOUND, FAILED_PRECONDITION */
  async stop(executionId: string, error: string, cause: string): Promise<Date> {
    const snapshot = await this.describe(executionId);
    if (snapshot.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) {
      throw ApiError.precondition(`execution "${executionId}" is not running`);
    }
    await this.sendCommand(
      { executionId, kind: { $case: "stop", value: { error, cause } } },
      commandMsgIds.stop(executionId),
    );
    return this.now();
  }

  /** Completes a task by token, as a worker would (the callback pattern). */
  async completeTask(
    taskToken: string,
    outcome:
      { $case: "outputJson"; value: string } | { $case: "failure"; value: { error: string; cause: string } },
  ): Promise<void> {
    let executionId: string;
    try {
      executionId = parseTaskToken(taskToken).executionId;
    } catch {
      throw ApiError.invalid(`invalid task token "${taskToken.slice(0, 200)}"`);
    }
    if (outcome.$case === "outputJson") this.parsePayload("output", outcome.value);
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
          value: { taskToken, outcome, workerId: "api-gateway", completedTime: this.now() },
        },
      },
      commandMsgIds.taskOutcome(taskToken),
    );
  }

  private async sendCommand(command: Command, msgID: string): Promise<void> {
    await this.o.js.publish(subjects.command(command.executionId), encode(Command, command), { msgID });
  }

  private checkId(executionId: string): void {
    if (!isExecutionId(executionId))
      throw ApiError.invalid(`invalid execution id "${executionId.slice(0, 200)}"`);
  }

  private parsePayload(what: string, json: string): unknown {
    if (Buffer.byteLength(json) > this.o.maxPayloadBytes) {
      throw ApiError.tooLarge(
        `${what} is ${Buffer.byteLength(json)} bytes, more than the limit of ${this.o.maxPayloadBytes}`,
      );
    }
    try {
      return JSON.parse(json);
    } catch (err) {
      throw ApiError.invalid(`${what} is not valid JSON: ${(err as Error).message}`);
    }
  }
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}
