/**
 * jetflow's HistoryEvent → Step Functions' HistoryEvent (`id`, `previousEventId`, `type`,
 * `timestamp` and the per-type details). Every jetflow event becomes exactly one Step Functions
 * event, so ids are jetflow's event ids, contiguous from 1 as AWS's are, and `previousEventId` is
 * the event before (0 for the first). Events with a Step Functions counterpart take its type
 * (a task cancelled → `TaskStateAborted`, the children of a Map or Parallel cancelled →
 * `MapStateAborted`/`ParallelStateAborted`); those Step Functions has no type for keep jetflow's
 * name ({@link JETFLOW_ONLY_TYPES}), which every AWS SDK passes through as an unknown type.
 */
import type { HistoryEvent } from "@jetflow/contracts";
import type { ArnScope } from "./arns";
import { activityArn } from "./arns";
import { epochSeconds } from "./shapes";

/** A Step Functions history event (the subset of fields this endpoint fills). */
export interface SfnHistoryEvent {
  timestamp: number;
  type: string;
  id: number;
  previousEventId: number;
  [details: string]: unknown;
}

/** What the mapping needs besides the event. */
export interface HistoryContext {
  scope: ArnScope;
  /** The ASL type of each state name of the execution's machine ("Task", "Pass"...). */
  stateTypes: ReadonlyMap<string, string>;
  /** False leaves input and output out, as AWS's `includeExecutionData: false`. */
  includeData: boolean;
  roleArn: string;
}

/**
 * The types of jetflow events Step Functions has no counterpart for, by jetflow's event kind:
 * retry back-offs, Wait timers, Parallel branches, child launches, stop requests and the
 * children a redrive resumes or relaunches.
 */
export const JETFLOW_ONLY_TYPES = {
  taskRetryScheduled: "TaskRetryScheduled",
  waitStarted: "WaitTimerStarted",
  waitFinished: "WaitTimerFinished",
  parallelBranchStarted: "ParallelBranchStarted",
  parallelBranchSucceeded: "ParallelBranchSucceeded",
  parallelBranchFailed: "ParallelBranchFailed",
  childLaunchPending: "ChildLaunchPending",
  executionStopRequested: "ExecutionStopRequested",
  childrenRedriven: "ChildrenRedriven",
  childResultReported: "ChildResultReported",
} as const;

/** The type of an event this gateway's contracts do not know (written by a newer engine). */
export const UNKNOWN_EVENT_TYPE = "Unknown";

/** One jetflow event in Step Functions' shape: every event maps to exactly one. */
export function toSfnHistoryEvent(event: HistoryEvent, context: HistoryContext): SfnHistoryEvent {
  const [type, detailsKey, details] = typeAndDetails(event, context);
  const result: SfnHistoryEvent = {
    timestamp: epochSeconds(event.timestamp),
    type,
    id: event.eventId,
    previousEventId: event.eventId - 1,
  };
  if (detailsKey !== undefined) result[detailsKey] = details;
  return result;
}

const dataDetails = (context: HistoryContext, key: "input" | "output", json: string) =>
  context.includeData ? { [key]: json, [`${key}Details`]: { truncated: false } } : {};

function stateTypeName(context: HistoryContext, stateName: string): string {
  return context.stateTypes.get(stateName) ?? "Task";
}

function typeAndDetails(event: HistoryEvent, context: HistoryContext): [string, string | undefined, unknown] {
  const details = event.details;
  if (details === undefined) return [UNKNOWN_EVENT_TYPE, undefined, undefined];
  const errorCause = (v: { error: string; cause: string }) => ({ error: v.error, cause: v.cause });
  switch (details.$case) {
    case "executionStarted":
      return [
        "ExecutionStarted",
        "executionStartedEventDetails",
        {
          ...dataDetails(context, "input", details.value.inputJson),
          roleArn: context.roleArn,
        },
      ];
    case "executionSucceeded":
      return [
        "ExecutionSucceeded",
        "executionSucceededEventDetails",
        dataDetails(context, "output", details.value.outputJson),
      ];
    case "executionFailed":
      return ["ExecutionFailed", "executionFailedEventDetails", errorCause(details.value)];
    case "executionTimedOut":
      return ["ExecutionTimedOut", "executionTimedOutEventDetails", errorCause(details.value)];
    case "executionAborted":
      return ["ExecutionAborted", "executionAbortedEventDetails", errorCause(details.value)];
    case "executionRedriven":
      return [
        "ExecutionRedriven",
        "executionRedrivenEventDetails",
        { redriveCount: details.value.redriveCount },
      ];
    case "stateEntered":
      return [
        `${details.value.stateType || stateTypeName(context, details.value.stateName)}StateEntered`,
        "stateEnteredEventDetails",
        { name: details.value.stateName, ...dataDetails(context, "input", details.value.inputJson) },
      ];
    case "stateExited":
      return [
        `${stateTypeName(context, details.value.stateName)}StateExited`,
        "stateExitedEventDetails",
        { name: details.value.stateName, ...dataDetails(context, "output", details.value.outputJson) },
      ];
    case "taskScheduled":
      return [
        "ActivityScheduled",
        "activityScheduledEventDetails",
        {
          resource: activityArn(context.scope, details.value.activity),
          ...dataDetails(context, "input", details.value.inputJson),
          ...(details.value.timeoutSeconds > 0 ? { timeoutInSeconds: details.value.timeoutSeconds } : {}),
          ...(details.value.heartbeatSeconds > 0
            ? { heartbeatInSeconds: details.value.heartbeatSeconds }
            : {}),
        },
      ];
    case "taskStarted":
      return ["ActivityStarted", "activityStartedEventDetails", { workerName: details.value.workerId }];
    case "taskSucceeded":
      return [
        "ActivitySucceeded",
        "activitySucceededEventDetails",
        dataDetails(context, "output", details.value.outputJson),
      ];
    case "taskFailed":
      return ["ActivityFailed", "activityFailedEventDetails", errorCause(details.value)];
    case "taskTimedOut":
      return ["ActivityTimedOut", "activityTimedOutEventDetails", errorCause(details.value)];
    case "mapStarted":
      return ["MapStateStarted", "mapStateStartedEventDetails", { length: details.value.itemCount }];
    case "mapIterationStarted":
      return [
        "MapIterationStarted",
        "mapIterationStartedEventDetails",
        { name: event.stateName, index: details.value.index },
      ];
    case "mapIterationSucceeded":
      return [
        "MapIterationSucceeded",
        "mapIterationSucceededEventDetails",
        { name: event.stateName, index: details.value.index },
      ];
    case "mapIterationFailed":
      return [
        "MapIterationFailed",
        "mapIterationFailedEventDetails",
        { name: event.stateName, index: details.value.index },
      ];
    case "mapSucceeded":
      return ["MapStateSucceeded", undefined, undefined];
    case "mapFailed":
      return ["MapStateFailed", undefined, undefined];
    case "parallelStarted":
      return ["ParallelStateStarted", undefined, undefined];
    case "parallelSucceeded":
      return ["ParallelStateSucceeded", undefined, undefined];
    case "parallelFailed":
      return ["ParallelStateFailed", undefined, undefined];
    case "taskCancelled":
      // AWS's event for a task state cut short by a stop or a failed sibling branch.
      return ["TaskStateAborted", undefined, undefined];
    case "childrenCancelled":
      return [
        stateTypeName(context, event.stateName) === "Parallel" ? "ParallelStateAborted" : "MapStateAborted",
        undefined,
        undefined,
      ];
    case "taskRetryScheduled":
    case "waitStarted":
    case "waitFinished":
    case "parallelBranchStarted":
    case "parallelBranchSucceeded":
    case "parallelBranchFailed":
    case "childLaunchPending":
    case "executionStopRequested":
    case "childrenRedriven":
    case "childResultReported":
      return [JETFLOW_ONLY_TYPES[details.$case], undefined, undefined];
    default: {
      // Exhaustive: a new kind of event must be mapped above.
      const unmapped: never = details;
      return [UNKNOWN_EVENT_TYPE, undefined, unmapped];
    }
  }
}

/**
 * The ASL type of every state of a machine, nested ones (Parallel branches, Map iterators)
 * included. A name used twice in different branches keeps the first type found.
 */
export function stateTypesOf(machine: unknown): Map<string, string> {
  const types = new Map<string, string>();
  const visit = (node: unknown): void => {
    if (typeof node !== "object" || node === null) return;
    const states = (node as { States?: unknown }).States;
    if (typeof states !== "object" || states === null) return;
    for (const [name, state] of Object.entries(states as Record<string, unknown>)) {
      if (typeof state !== "object" || state === null) continue;
      const s = state as { Type?: unknown; Branches?: unknown; Iterator?: unknown; ItemProcessor?: unknown };
      if (typeof s.Type === "string" && !types.has(name)) types.set(name, s.Type);
      if (Array.isArray(s.Branches)) s.Branches.forEach(visit);
      visit(s.Iterator);
      visit(s.ItemProcessor);
    }
  };
  visit(machine);
  return types;
}
