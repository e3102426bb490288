/**
 * @jetflow/contracts/internal: what jetflow's services and the worker SDK share beyond the wire
 * contract: the one durable consume loop, the NATS connection settings and the words for
 * JetStream failures. Not for worker authors; it may change in any release.
 *
 * @internal
 */
export {
  startDurableConsumer,
  DEFAULT_PULL_EXPIRES_MS,
  DEFAULT_IDLE_HEARTBEAT_MS,
  DEFAULT_MAX_HOLD_MS,
} from "./consume/durable-consumer";
export type { DurableConsumer, DurableConsumerOptions, LoopLogger } from "./consume/durable-consumer";
export { decideOnNotification, decideOnFailure, reopenDelayMs } from "./consume/consume-decisions";
export type { LoopAction } from "./consume/consume-decisions";
export {
  describeJetStreamProblem,
  explainJetStreamError,
  StreamLeaderError,
} from "./consume/jetstream-problems";
export type { JetStreamProblem, JetStreamTarget } from "./consume/jetstream-problems";
export { connectionOptions, watchConnection, PING_INTERVAL_MS, MAX_PINGS_OUT } from "./consume/connection";
export { explainPublishError, streamForSubject } from "./consume/publish-errors";
export { deliveryCounts } from "./consume/delivery-counts";
export type { DeliveryCount } from "./consume/delivery-counts";
export {
  TRACEPARENT,
  contextFromTraceParent,
  formatTraceParent,
  parseTraceParent,
  startTraceSpan,
  traceHeaders,
  traceParentHeader,
  withTraceSpan,
} from "./consume/trace-context";
export type { TraceSpan } from "./consume/trace-context";
export { resultHeaders, resultNamesFromHeaders } from "./result-headers";
export type { ResultNames } from "./result-headers";
