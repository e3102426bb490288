/** The execution model: the snapshot as a fold of its events, and the engine's id formats. */
export { evolve, replay, applyEventsInPlace, copyForFold, EventSequenceError } from "./evolve";
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
export { toExecutionSummary } from "./summary";
