import { Counter } from "@jetflow/service-runtime";
import type { Registry } from "@jetflow/service-runtime";

/**
 * Registers the gateway's metrics and returns what counts a created execution. Counting point:
 * the gateway appends each top-level execution's `ExecutionStarted`; it counts the append answered
 * `ok` and not duplicate, so a repeated named start is not counted and none is counted twice.
 */
export function instrumentGateway(registry: Registry): (workflowName: string) => void {
  const started = new Counter({
    name: "jetflow_executions_started_total",
    help: "Executions started, by workflow and kind (root: started through the API, counted here; child: a Map iteration or Parallel branch, counted by the orchestrator)",
    labelNames: ["workflow", "kind"],
    registers: [registry],
  });
  return (workflow) => started.inc({ workflow, kind: "root" });
}
