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
