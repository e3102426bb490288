import { DEFAULT_ACK_WAIT_MS } from "@jetflow/contracts";
import { EnvReader, readBaseConfig } from "@jetflow/service-runtime";
import type { BaseConfig } from "@jetflow/service-runtime";

/** Configuration of the dispatcher. */
export interface Config extends BaseConfig {
  /**
   * DISPATCH_CONCURRENCY: event batches whose effects are performed at once (each batch's
   * publishes are pipelined too). Default 64.
   */
  dispatchConcurrency: number;
  /** TIMER_CONCURRENCY: timer messages handled at once (most are only NAKed). Default 256. */
  timerConcurrency: number;
  /**
   * TIMER_MAX_DELAY_MS: longest single NAK delay of a timer not yet due; a longer wait is re-checked
   * against the clock this often. Default 3600000 (one hour).
   */
  timerMaxDelayMs: number;
  /**
   * DISPATCH_ACK_WAIT_MS: ack wait of the dispatcher's consumers, i.e. how long a message handed
   * to a dispatcher that died stays invisible to the others. Default 3000 (held messages are kept alive with in-progress acks, so only a dead holder's wait out the ack wait).
   */
  ackWaitMs: number;
  /** DISPATCH_RETRY_DELAY_MS: delay before a message whose effects failed is tried again. Default 1000. */
  retryDelayMs: number;
  /**
   * TASK_TIMEOUT_GRACE_MS: how long after a task's deadline its timeout (TimeoutSeconds or
   * HeartbeatSeconds) fires. The orchestrator judges a result by when the results stream received
   * it, so a result received in time still wins if it reaches the orchestrator within this grace.
   * Default 1000.
   */
  timeoutGraceMs: number;
}

/**
 * Reads the dispatcher's configuration from `env` (never from process.env directly).
 * @throws ConfigError naming every variable that is wrong
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const reader = new EnvReader(env);
  const config: Config = {
    ...readBaseConfig(reader),
    dispatchConcurrency: reader.integer("DISPATCH_CONCURRENCY", 64, 1, 10_000),
    timerConcurrency: reader.integer("TIMER_CONCURRENCY", 256, 1, 10_000),
    timerMaxDelayMs: reader.integer("TIMER_MAX_DELAY_MS", 3_600_000, 1_000, 7 * 24 * 3_600_000),
    ackWaitMs: reader.integer("DISPATCH_ACK_WAIT_MS", DEFAULT_ACK_WAIT_MS, 1_000, 3_600_000),
    retryDelayMs: reader.integer("DISPATCH_RETRY_DELAY_MS", 1_000, 1, 600_000),
    timeoutGraceMs: reader.integer("TASK_TIMEOUT_GRACE_MS", 1_000, 0, 600_000),
  };
  reader.done();
  return config;
}
