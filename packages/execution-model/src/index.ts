/**
 * @jetflow/execution-model: what an execution is, independent of any service.
 * `evolve`/`replay` fold EventBatches into an ExecutionSnapshot; `ids` defines the engine's token
 * and id formats.
 */
export { evolve, replay, applyEventsInPlace, EventSequenceError } from "./evolve";
export {
  MalformedIdError,
  isExecutionId,
  newExecutionId,
  namedExecutionId,
  childExecutionId,
  rootExecutionIdOf,
  childIdPrefix,
  taskToken,
  parseTaskToken,
  timerIds,
  commandMsgIds,
  eventBatchMsgId,
} from "./ids";
export { emptyBitmap, hasBit, withBit } from "./bitmap";
export { readEventBatches, readEventBatchesWith, lastBatchSeq, HistoryReadError } from "./history";
export type { StoredBatch, ReadBatchesOptions } from "./history";
export { StateClient, StateManagerError } from "./state-client";
export type { CommitResult } from "./state-client";
export { toExecutionSummary } from "./summary";
