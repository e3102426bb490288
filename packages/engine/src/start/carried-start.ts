/**
 * The first snapshot of a top-level execution, folded from the start batch its BeginExecution
 * carries (`BeginExecution.start_batch`, sent by the dispatcher), so that the orchestrator need
 * not load from the state-manager the one batch it has just been sent.
 *
 * The result is a guess like any cached snapshot: another transition (a stop, a redelivered
 * Begin's first transition) may have followed the start. The commit's expected sequence refuses a
 * transition decided on it if so, and the orchestrator then loads.
 */
import { EventBatch, decode } from "@jetflow/contracts";
import type { Command, ExecutionSnapshot } from "@jetflow/contracts";
import { evolve } from "../model";

/**
 * The snapshot the start batch carried by `command` folds into, or undefined when the command
 * carries none or one that cannot be the first batch of `executionId` (wrong execution, not
 * starting at event 1, bytes that do not decode): the caller then loads, as it always could.
 */
export function snapshotFromCarriedStart(
  executionId: string,
  command: Command,
): ExecutionSnapshot | undefined {
  const kind = command.kind;
  if (kind?.$case !== "begin" || kind.value.child !== undefined) return undefined;
  const { startBatch: bytes, startBatchSeq: seq } = kind.value;
  if (bytes === undefined || bytes.length === 0 || seq === undefined || seq <= 0) return undefined;
  let batch: EventBatch;
  try {
    batch = decode(EventBatch, "EventBatch", bytes, executionId);
  } catch {
    return undefined;
  }
  const first = batch.events[0];
  if (
    batch.executionId !== executionId ||
    first?.details?.$case !== "executionStarted" ||
    first.eventId !== 1
  ) {
    return undefined;
  }
  try {
    return evolve(undefined, batch, seq);
  } catch {
    return undefined;
  }
}
