/**
 * @jetflow/engine: the engine's pure core, shared by every service. No I/O, no NATS, no clock:
 * a service's adapter reads messages, calls the core, and performs what it returns.
 *
 * ```ts
 * const snapshot = evolve(previous, batch, seq);             // the fold of events
 * const decision = decideTransition(executionId, snapshot, commands, env);  // the ASL semantics
 * // decision.kind: "decided" (a Transition to commit), "needs" (read it, decide again), "failed"
 * ```
 */
export {
  evolve,
  replay,
  applyEventsInPlace,
  EventSequenceError,
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
  emptyBitmap,
  hasBit,
  withBit,
  toExecutionSummary,
} from "./model";
export { applyCommand, decideTransition, isDecisionNeed } from "./decide/decide";
export type { TransitionDecision } from "./decide/decide";
export type { DecideEnv, DecisionNeed, Ignored } from "./decide/env";
export { lateness } from "./decide/task";
export { Transition } from "./decide/transition";
export type { EventDetails } from "./decide/transition";
export { MachinePathError, resolveMachine, childMachinePath, completeChildStart } from "./decide/machine";
export { evaluationEnv, isChildExecution, rootExecutionOf } from "./decide/context";
export type { Entropy, RootExecution } from "./decide/context";
export { provenEventId, isJudgedOnStaleSnapshot } from "./decide/evidence";
export {
  planEffects,
  START_BATCH_CARRY_MAX_BYTES,
  parseChildEntryEventId,
  InvalidBatchError,
  CHILD_STOP_ERROR,
  CHILD_STOP_CAUSE,
  TASK_CANCEL_REASON,
} from "./effects/effects";
export type { Effect, PublishEffect, CoreEffect, EffectLabel } from "./effects/effects";
export {
  validateTimer,
  decideTimer,
  canGoStale,
  isStale,
  parseHeartbeatMs,
  timerFiredEffect,
  InvalidTimerError,
} from "./effects/timers";
export type { TimerDecision, TimerClock } from "./effects/timers";
export {
  ingestBytes,
  ingestResult,
  normaliseFailure,
  STATES_RUNTIME,
  STATES_DATA_LIMIT_EXCEEDED,
} from "./intake/ingest";
export type { IngestLimits, Ingested } from "./intake/ingest";
export { parseHeartbeat, isCancelRequested } from "./intake/heartbeat";
export type { ParsedHeartbeat } from "./intake/heartbeat";
export { parseCommitRequest } from "./commit/commit-validation";
export type { ValidCommit, CommitParseResult, CommitLimits } from "./commit/commit-validation";
export { startBatch } from "./start/start-batch";
export { snapshotFromCarriedStart } from "./start/carried-start";
export type { ExecutionStart } from "./start/start-batch";
export { REDRIVE_WINDOW_MS, notRedrivableReason } from "./decide/redrive";
