/**
 * @jetflow/execution-model: the NATS clients that read an execution's model (the pure model
 * itself, evolve and ids, is in @jetflow/engine): the state-manager's request/reply client and
 * the history reader.
 */
export { readEventBatches, readEventBatchesWith, lastBatchSeq, HistoryReadError } from "./history";
export type { StoredBatch, ReadBatchesOptions } from "./history";
export { StateClient, StateManagerError } from "./state-client";
export type { CommitResult } from "./state-client";
