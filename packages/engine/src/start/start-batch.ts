/**
 * The first transition of a top-level execution: the one ExecutionStarted event that the
 * api-gateway appends (with expected sequence 0, which makes named and retried starts race-free),
 * and the snapshot it folds into.
 */
import type { EventBatch, ExecutionSnapshot } from "@jetflow/contracts";
import { evolve, timerIds } from "../model";

/** What starts a top-level execution. */
export interface ExecutionStart {
  executionId: string;
  workflowName: string;
  workflowVersion: number;
  /** The execution's input, as JSON text. */
  inputJson: string;
  /** The name the client gave; "" when none was given. */
  executionName: string;
  /** The workflow's TimeoutSeconds; 0 for none (then no execution timeout timer is armed). */
  timeoutSeconds: number;
  /** The start time, carried by the event. */
  startTime: Date;
  /** Who started it, when the API authenticates callers (recorded in the event). */
  identity?: string;
  /** The W3C traceparent of the span that started it, when traced (see trace-context). */
  traceParent?: string;
  /** The schedule that started it (docs/schedules.md). */
  scheduleId?: string;
}

/** The batch of a top-level execution's start (event 1, ExecutionStarted) and its snapshot. */
export function startBatch(start: ExecutionStart): { batch: EventBatch; snapshot: ExecutionSnapshot } {
  const { executionId, timeoutSeconds } = start;
  const batch: EventBatch = {
    executionId,
    parent: undefined,
    traceParent: start.traceParent,
    events: [
      {
        eventId: 1,
        executionId,
        timestamp: start.startTime,
        stateName: "",
        details: {
          $case: "executionStarted",
          value: {
            workflowName: start.workflowName,
            workflowVersion: start.workflowVersion,
            inputJson: start.inputJson,
            executionName: start.executionName,
            machinePath: "",
            parent: undefined,
            rootExecutionId: executionId,
            timeoutSeconds,
            redriveCount: 0,
            scheduleId: start.scheduleId ?? "",
            timeoutTimerId: timeoutSeconds > 0 ? timerIds.executionTimeout(executionId) : "",
            identity: start.identity,
            traceParent: start.traceParent,
          },
        },
      },
    ],
  };
  return { batch, snapshot: evolve(undefined, batch, 0) };
}
