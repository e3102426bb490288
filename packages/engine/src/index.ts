/**
 * @jetflow/engine: the engine's pure core, shared by every service. No I/O, no NATS, no clock:
 * a service's adapter reads messages, calls the core, and performs what it returns.
 *
 * ```ts
 * const snapshot = evolve(previous, batch, seq);             // the fold of events
 * const t = new Transition(executionId, snapshot, now);
 * const ignored = applyCommand(t, command, env);             // the ASL semantics
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
export { applyCommand, ChildOutputsNeeded, lateness } from "./decide/decide";
export type { DecideEnv, Ignored } from "./decide/decide";
export { Transition } from "./decide/transition";
export type { EventDetails } from "./decide/transition";
export { MachinePathError, resolveMachine, childMachinePath, completeChildStart } from "./decide/machine";
export { evaluationEnv, isChildExecution, rootExecutionOf } from "./decide/context";
export type { Entropy, RootExecution } from "./decide/context";
export { provenEventId, isJudgedOnStaleSnapshot } from "./decide/evidence";
