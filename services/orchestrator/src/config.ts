import { DEFAULT_ACK_WAIT_MS } from "@jetflow/contracts";
import { DEFAULT_MAX_COMMIT_BATCH, EnvReader, readBaseConfig } from "@jetflow/service-runtime";
import type { BaseConfig } from "@jetflow/service-runtime";

/** Configuration of the orchestrator. */
export interface Config extends BaseConfig {
  /** ORCH_MAX_CHILDREN_PER_TRANSITION: children launched by one transition at most. Default 500. */
  maxChildrenPerTransition: number;
  /** ORCH_MAX_STATES_PER_TRANSITION: states entered by one transition at most (loop guard). Default 1000. */
  maxStatesPerTransition: number;
  /** ORCH_CACHE_ENTRIES: snapshots kept in memory. Default 20000. */
  cacheEntries: number;
  /** ORCH_MAX_IN_FLIGHT: commands held at once (fetched, not yet acked). Default 1000. */
  maxInFlight: number;
  /**
   * ORCH_MAX_RESULTS_IN_FLIGHT: task results held at once (fetched, not yet acked). Default 256.
   * Apart from the commands' bound: a held message waiting behind the transitions in flight gets
   * an in-progress ack every second, so holding far more than can be decided soon costs messages
   * and CPU (W4 in docs/performance.md).
   */
  maxResultsInFlight: number;
  /** ORCH_MAX_CONCURRENT_TRANSITIONS: transitions being decided and committed at once. Default 64. */
  maxConcurrentTransitions: number;
  /** ORCH_STATE_TIMEOUT_MS: how long to wait for the state-manager. Default 10000. */
  stateTimeoutMs: number;
  /**
   * ORCH_MAX_COMMIT_BATCH: commits sent to the state-manager in one request at most
   * (`jetflow.state.commits`); the transitions decided in the same turn of the event loop travel
   * together. Default 64 (at most ORCH_MAX_CONCURRENT_TRANSITIONS are in flight anyway); 1 sends
   * each alone on `jetflow.state.commit`, as a state-manager older than the batch subject needs.
   */
  maxCommitBatch: number;
  /** ORCH_ACK_WAIT_MS: ack wait of the command consumer. Default 3000 (held messages are kept alive with in-progress acks, so only a dead holder's wait out the ack wait). */
  ackWaitMs: number;
  /**
   * ORCH_BEHIND_MAX_DELIVERIES: deliveries of a command that names an event its execution's
   * snapshot does not have (the snapshot lags the stream, or the command is forged) before it is
   * parked on the dead-letter subject. Retried with a doubling delay capped at 10 s, so the
   * default 60 rides out about nine minutes of a lagging stream.
   */
  behindMaxDeliveries: number;
  /**
   * ORCH_MAX_OUTPUT_BYTES: largest task output (UTF-8 bytes of its JSON) a result may carry; a
   * bigger one becomes a `States.DataLimitExceeded` failure of the task. Default 262144 (256 KiB,
   * the payload limit of Step Functions). RESULT_MAX_OUTPUT_BYTES, its name when the
   * result-ingestor applied it, is read when this is not set.
   */
  maxOutputBytes: number;
}

/** Default bound on a task's output: 256 KiB, the payload limit of Step Functions. */
export const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024;

const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/**
 * Reads the orchestrator's configuration from `env` (never from process.env directly).
 * @throws ConfigError naming every variable that is wrong
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const reader = new EnvReader(env);
  const config: Config = {
    ...readBaseConfig(reader),
    maxChildrenPerTransition: reader.integer("ORCH_MAX_CHILDREN_PER_TRANSITION", 500, 1, 10_000),
    maxStatesPerTransition: reader.integer("ORCH_MAX_STATES_PER_TRANSITION", 1000, 10, 100_000),
    cacheEntries: reader.integer("ORCH_CACHE_ENTRIES", 20_000, 0, 10_000_000),
    maxInFlight: reader.integer("ORCH_MAX_IN_FLIGHT", 1000, 1, 100_000),
    maxResultsInFlight: reader.integer("ORCH_MAX_RESULTS_IN_FLIGHT", 256, 1, 100_000),
    maxConcurrentTransitions: reader.integer("ORCH_MAX_CONCURRENT_TRANSITIONS", 64, 1, 10_000),
    stateTimeoutMs: reader.integer("ORCH_STATE_TIMEOUT_MS", 10_000, 100, 600_000),
    maxCommitBatch: reader.integer("ORCH_MAX_COMMIT_BATCH", DEFAULT_MAX_COMMIT_BATCH, 1, 1_000),
    ackWaitMs: reader.integer("ORCH_ACK_WAIT_MS", DEFAULT_ACK_WAIT_MS, 1000, 3_600_000),
    behindMaxDeliveries: reader.integer("ORCH_BEHIND_MAX_DELIVERIES", 60, 1, 100_000),
    // 64 MiB is the largest max_payload a nats-server accepts.
    maxOutputBytes: reader.integer(
      "ORCH_MAX_OUTPUT_BYTES",
      reader.integer("RESULT_MAX_OUTPUT_BYTES", DEFAULT_MAX_OUTPUT_BYTES, 1, MAX_PAYLOAD_BYTES),
      1,
      MAX_PAYLOAD_BYTES,
    ),
  };
  reader.done();
  return config;
}
