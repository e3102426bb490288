/**
 * @jetflow/client: drive jetflow over gRPC: register workflows, start, describe, list, watch and
 * stop executions, and complete tasks by token (the callback pattern).
 *
 * ```ts
 * import { createClient, JetflowError, Code } from "@jetflow/client";
 *
 * const client = createClient({ address: "127.0.0.1:50051" });
 * await client.registerWorkflow({ name: "hello", definition: '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}' });
 * const { executionId } = await client.startExecution({ workflowName: "hello", input: { who: "world" } });
 * for await (const event of client.watchExecution({ executionId })) console.log(event.details?.$case);
 * const done = await client.waitForExecution(executionId);
 * client.close();
 * ```
 */
export { createClient } from "./client";
export type { ClientLogger, ClientOptions, ClientTlsOptions, JetflowClient } from "./client";
export { JetflowError, Code, codeName } from "./errors";
export { BulkAction, BulkOperationState, ExecutionStatus } from "@jetflow/contracts";
export type {
  ActivityStats,
  BulkFilter,
  BulkOperation,
  ListBulkOperationsResponse,
  StartBulkRedriveResponse,
  StartBulkStopResponse,
  DeadLetterInfo,
  GetDeadLetterResponse,
  ListDeadLettersResponse,
  ReplayDeadLetterResponse,
  DescribeExecutionResponse,
  ExecutionSummary,
  GetEngineStatsResponse,
  GetExecutionHistoryResponse,
  GetWorkflowResponse,
  HistoryEvent,
  ListExecutionsResponse,
  ListWorkflowsResponse,
  RegisterWorkflowResponse,
  StartExecutionResponse,
  StopExecutionResponse,
  RedriveExecutionResponse,
  Schedule,
  WorkflowStats,
  WorkflowSummary,
} from "@jetflow/contracts";
