/**
 * The optional headers of a task result naming the workflow and state of the task it answers, so
 * that the result-ingestor's log lines about a result carry them without reading the execution's
 * snapshot. The SDKs send them; a worker written from the .proto files alone may not, and a worker
 * may send anything: they are for log lines only, never for a decision (the task token is what
 * names the task).
 */
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { MsgHdrs } from "@nats-io/transport-node";
import { TRACEPARENT } from "./consume/trace-context";

/** Header of a task result: the `workflow_name` of the Task it answers. Optional, for logs only. */
export const RESULT_WORKFLOW_HEADER = "Jetflow-Workflow";
/** Header of a task result: the `state_name` of the Task it answers. Optional, for logs only. */
export const RESULT_STATE_HEADER = "Jetflow-State";
/**
 * The longest value of either header, in UTF-8 bytes: a longer name is not sent (and not read),
 * so that a header never makes a result too large to publish.
 */
export const MAX_RESULT_NAME_HEADER_BYTES = 1024;

/** What a result's headers name: each only when sent. */
export interface ResultNames {
  workflowName?: string;
  stateName?: string;
}

/**
 * True when `value` can travel as one of the names' header values: not empty, no line break (a
 * NATS header value cannot hold one), no surrounding space (NATS clients trim it) and not longer
 * than {@link MAX_RESULT_NAME_HEADER_BYTES}.
 */
function sendable(value: string): boolean {
  return (
    value !== "" &&
    value.length <= MAX_RESULT_NAME_HEADER_BYTES &&
    Buffer.byteLength(value, "utf8") <= MAX_RESULT_NAME_HEADER_BYTES &&
    !/[\r\n]/.test(value) &&
    value.trim() === value
  );
}

/**
 * The headers of a task result: the task's workflow and state (each left out when it cannot be
 * sent as a header value, see {@link MAX_RESULT_NAME_HEADER_BYTES}) and the `traceparent` of the
 * attempt's span when it is traced.
 */
export function resultHeaders(task: {
  workflowName: string;
  stateName: string;
  traceParent?: string | undefined;
}): MsgHdrs {
  const h = natsHeaders();
  if (sendable(task.workflowName)) h.set(RESULT_WORKFLOW_HEADER, task.workflowName);
  if (sendable(task.stateName)) h.set(RESULT_STATE_HEADER, task.stateName);
  if (task.traceParent !== undefined) h.set(TRACEPARENT, task.traceParent);
  return h;
}

/**
 * The workflow and state a result's headers name, each only when present and not longer than
 * {@link MAX_RESULT_NAME_HEADER_BYTES}. Any worker can send any value: use them in log lines
 * only, never to decide anything.
 */
export function resultNamesFromHeaders(headers: MsgHdrs | undefined): ResultNames {
  const names: ResultNames = {};
  if (!headers) return names;
  const workflowName = headers.get(RESULT_WORKFLOW_HEADER);
  if (sendable(workflowName)) names.workflowName = workflowName;
  const stateName = headers.get(RESULT_STATE_HEADER);
  if (sendable(stateName)) names.stateName = stateName;
  return names;
}
