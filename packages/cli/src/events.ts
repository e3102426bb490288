/** History events as the CLI shows them: a type name, a one-line summary, a JSON shape for scripts. */
import type { HistoryEvent } from "@jetflow/contracts";
import { formatDuration, formatTime, previewJson } from "./format";

type Details = NonNullable<HistoryEvent["details"]>;
/** The `$case` of an event's details: `taskScheduled`, `stateEntered`... */
export type EventKind = Details["$case"];

/** `TaskScheduled` for a `taskScheduled` event (the proto message name); `Unknown` without details. */
export function eventType(event: HistoryEvent): string {
  const kind = event.details?.$case;
  return kind === undefined ? "Unknown" : kind.charAt(0).toUpperCase() + kind.slice(1);
}

function errorText(error: string, cause: string): string {
  return cause === "" ? error : `${error}: ${cause}`;
}

/** What an event says, on one line (`activity charge-payment, attempt 2`); JSON cut to `jsonMax`. */
export function summarizeEvent(event: HistoryEvent, jsonMax = 80): string {
  const d = event.details;
  if (d === undefined) return "";
  const json = (text: string) => previewJson(text, jsonMax);
  switch (d.$case) {
    case "executionStarted":
      return `${d.value.workflowName} v${d.value.workflowVersion}, input ${json(d.value.inputJson)}`;
    case "executionSucceeded":
      return `output ${json(d.value.outputJson)}`;
    case "executionFailed":
    case "executionTimedOut":
    case "executionAborted":
    case "executionStopRequested":
    case "taskFailed":
    case "taskTimedOut":
    case "mapFailed":
    case "parallelFailed":
      return errorText(d.value.error, d.value.cause);
    case "stateEntered":
      return `${d.value.stateType}, input ${json(d.value.inputJson)}`;
    case "executionRedriven":
      return `redrive ${d.value.redriveCount}, from state ${d.value.stateName}`;
    case "childrenRedriven":
      return `${d.value.succeededCount} of ${d.value.total} kept, the others run again`;
    case "childResultReported":
      return `redrive ${d.value.redriveCount}, output ${json(d.value.outputJson)}`;
    case "stateExited":
      return `output ${json(d.value.outputJson)}`;
    case "taskScheduled": {
      const limits = [
        d.value.timeoutSeconds > 0 ? `timeout ${d.value.timeoutSeconds}s` : "",
        d.value.heartbeatSeconds > 0 ? `heartbeat ${d.value.heartbeatSeconds}s` : "",
      ].filter((s) => s !== "");
      return [
        `activity ${d.value.activity}`,
        `attempt ${d.value.attempt}`,
        ...limits,
        `token ${d.value.taskToken}`,
      ].join(", ");
    }
    case "taskStarted":
      return `worker ${d.value.workerId}`;
    case "taskSucceeded":
      return `output ${json(d.value.outputJson)}`;
    case "taskRetryScheduled":
      return `after ${d.value.error}, attempt ${d.value.nextAttempt} in ${formatDuration(d.value.delayMs)}`;
    case "taskCancelled":
      return `activity ${d.value.activity}, token ${d.value.taskToken}`;
    case "waitStarted":
      return `until ${formatTime(d.value.fireTime)}`;
    case "waitFinished":
    case "mapSucceeded":
    case "parallelSucceeded":
      return "";
    case "mapStarted":
      return [
        `${d.value.itemCount} items`,
        d.value.maxConcurrency > 0 ? `at most ${d.value.maxConcurrency} at a time` : "",
        d.value.toleratedFailures > 0 ? `${d.value.toleratedFailures} failures tolerated` : "",
      ]
        .filter((s) => s !== "")
        .join(", ");
    case "mapIterationStarted":
      return `item ${d.value.index}, execution ${d.value.childExecutionId}`;
    case "mapIterationSucceeded":
      return `item ${d.value.index}, output ${json(d.value.outputJson)}`;
    case "mapIterationFailed":
      return `item ${d.value.index}: ${errorText(d.value.error, d.value.cause)}`;
    case "parallelStarted":
      return `${d.value.branchCount} branches`;
    case "parallelBranchStarted":
      return `branch ${d.value.index}, execution ${d.value.childExecutionId}`;
    case "parallelBranchSucceeded":
      return `branch ${d.value.index}, output ${json(d.value.outputJson)}`;
    case "parallelBranchFailed":
      return `branch ${d.value.index}: ${errorText(d.value.error, d.value.cause)}`;
    case "childLaunchPending":
      return `next child ${d.value.nextIndex}`;
    case "childrenCancelled":
      return `${d.value.indices.length} children`;
  }
}

function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      // JSON payloads travel as text; scripts get them parsed (`inputJson` → `input`).
      if (key.endsWith("Json") && typeof field === "string") {
        let parsed: unknown;
        try {
          parsed = field === "" ? null : JSON.parse(field);
        } catch {
          parsed = field;
        }
        out[key.slice(0, -4)] = parsed;
      } else {
        out[key] = plain(field);
      }
    }
    return out;
  }
  return value;
}

/**
 * An event as `--json` prints it: `{ eventId, executionId, timestamp, stateName, type, ...details }`
 * with timestamps as ISO text and JSON payloads parsed (`outputJson` becomes `output`).
 */
export function eventToJson(event: HistoryEvent): Record<string, unknown> {
  return {
    eventId: event.eventId,
    executionId: event.executionId,
    timestamp: event.timestamp?.toISOString() ?? null,
    stateName: event.stateName,
    type: eventType(event),
    ...(plain(event.details?.value ?? {}) as Record<string, unknown>),
  };
}

/** A value as `--json` prints it: dates as ISO text, `...Json` fields parsed. */
export function toPlainJson(value: unknown): unknown {
  return plain(value);
}
