/**
 * Builders of valid histories for the state-manager's tests: consecutive events that `evolve`
 * accepts whatever the batch boundaries, and the commit requests an orchestrator would send.
 */
import type { CommitRequest, EventBatch, ExecutionSnapshot, HistoryEvent } from "@jetflow/contracts";
import { evolve } from "../model";

const epoch = Date.UTC(2025, 0, 1);

/**
 * The event with id `eventId` of a made-up execution: ExecutionStarted at 1, then a cycle of
 * StateEntered, TaskScheduled, TaskSucceeded, StateExited. `tag` changes the content (not the
 * ids), to make a different batch with the same event ids.
 */
export function makeEvent(executionId: string, eventId: number, tag = "a"): HistoryEvent {
  const timestamp = new Date(epoch + eventId * 1000);
  if (eventId === 1) {
    return {
      eventId,
      executionId,
      timestamp,
      stateName: "",
      details: {
        $case: "executionStarted",
        value: {
          workflowName: "wf",
          workflowVersion: 1,
          inputJson: `{"tag":"${tag}"}`,
          executionName: "",
          machinePath: "",
          parent: undefined,
          rootExecutionId: "",
          timeoutSeconds: 0,
          timeoutTimerId: "",
          redriveCount: 0,
          scheduleId: "",
        },
      },
    };
  }
  const step = Math.floor((eventId - 2) / 4);
  const stateName = `${tag}-step-${step}`;
  const token = `${executionId}.${2 + step * 4 + 1}`;
  const base = { eventId, executionId, timestamp, stateName };
  switch ((eventId - 2) % 4) {
    case 0:
      return {
        ...base,
        details: { $case: "stateEntered", value: { stateName, stateType: "Task", inputJson: "{}" } },
      };
    case 1:
      return {
        ...base,
        details: {
          $case: "taskScheduled",
          value: {
            taskToken: token,
            activity: "work",
            attempt: 1,
            inputJson: "{}",
            timeoutSeconds: 60,
            heartbeatSeconds: 0,
            stateName,
            workflowName: "wf",
          },
        },
      };
    case 2:
      return {
        ...base,
        details: { $case: "taskSucceeded", value: { taskToken: token, outputJson: `"${tag}"` } },
      };
    default:
      return { ...base, details: { $case: "stateExited", value: { stateName, outputJson: `"${tag}"` } } };
  }
}

/** A batch of `count` consecutive events of `executionId` starting at `firstEventId`. */
export function makeBatch(executionId: string, firstEventId: number, count: number, tag = "a"): EventBatch {
  const events = Array.from({ length: count }, (_, i) => makeEvent(executionId, firstEventId + i, tag));
  return { executionId, events, parent: undefined };
}

/**
 * The commit request that appends `batch` after `previous` (undefined for a new execution), with
 * the snapshot folded the way the orchestrator does it.
 */
export function commitRequest(previous: ExecutionSnapshot | undefined, batch: EventBatch): CommitRequest {
  const expectedLastEventSeq = previous?.lastEventSeq ?? 0;
  return { batch, expectedLastEventSeq, snapshot: evolve(previous, batch, expectedLastEventSeq) };
}
