import { startTraceSpan } from "@jetflow/contracts/internal";
import type { EventBatch, ExecutionSnapshot } from "@jetflow/contracts";

/**
 * Records a committed transition as a span of its execution's trace (a child of the execution's
 * StartExecution span), from its first event's time to now, naming the state it entered and the
 * events it appended. Nothing happens for an execution started without tracing.
 */
export function traceTransition(
  _before: ExecutionSnapshot | undefined,
  batch: EventBatch,
  after: ExecutionSnapshot,
): void {
  if (after.traceParent === undefined) return;
  const kinds = batch.events.map((event) => event.details?.$case ?? "");
  const span = startTraceSpan(`transition ${after.active?.name ?? after.workflowName}`, {
    parent: after.traceParent,
    startTime: batch.events[0]?.timestamp,
    attributes: {
      "jetflow.workflow": after.workflowName,
      "jetflow.execution_id": after.executionId,
      "jetflow.first_event_id": batch.events[0]?.eventId ?? 0,
      "jetflow.events": kinds,
    },
  });
  span.end();
}
