import type { ExecutionSnapshot, ExecutionSummary } from "@jetflow/contracts";

/** The summary of an execution, as ListExecutions and DescribeExecution show it. */
export function toExecutionSummary(s: ExecutionSnapshot): ExecutionSummary {
  return {
    executionId: s.executionId,
    executionName: s.executionName,
    workflowName: s.workflowName,
    workflowVersion: s.workflowVersion,
    status: s.status,
    startTime: s.startTime,
    stopTime: s.stopTime,
    redriveCount: s.redriveCount,
    scheduleId: s.scheduleId,
  };
}
