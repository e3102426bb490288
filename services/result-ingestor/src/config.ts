import { DEFAULT_ACK_WAIT_MS } from "@jetflow/contracts";
import { EnvReader, readBaseConfig } from "@jetflow/service-runtime";
import type { BaseConfig } from "@jetflow/service-runtime";

/** Default bound on a task's output: 256 KiB, the payload limit of Step Functions. */
export const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024;

/** Default number of results processed at once (publishes in flight). */
export const DEFAULT_MAX_IN_FLIGHT = 256;

/** Configuration of the result-ingestor. */
export interface Config extends BaseConfig {
  /**
   * RESULT_MAX_OUTPUT_BYTES: largest task output (UTF-8 bytes of its JSON) passed on; a bigger one
   * becomes a `States.DataLimitExceeded` failure. Default 262144 (256 KiB).
   */
  maxOutputBytes: number;
  /** RESULT_MAX_IN_FLIGHT: results processed concurrently (their command publishes pipelined). Default 256. */
  maxInFlight: number;
  /** RESULT_ACK_WAIT_MS: ack wait of the results consumer, in milliseconds. Default 3000 (held messages are kept alive with in-progress acks, so only a dead holder's wait out the ack wait). */
  ackWaitMs: number;
}

/**
 * Reads the result-ingestor's configuration from `env` (never from process.env directly).
 * @throws ConfigError naming every variable that is wrong
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const reader = new EnvReader(env);
  const config: Config = {
    ...readBaseConfig(reader),
    // 64 MiB is the largest max_payload a nats-server accepts.
    maxOutputBytes: reader.integer("RESULT_MAX_OUTPUT_BYTES", DEFAULT_MAX_OUTPUT_BYTES, 1, 64 * 1024 * 1024),
    maxInFlight: reader.integer("RESULT_MAX_IN_FLIGHT", DEFAULT_MAX_IN_FLIGHT, 1, 100_000),
    ackWaitMs: reader.integer("RESULT_ACK_WAIT_MS", DEFAULT_ACK_WAIT_MS, 1_000, 3_600_000),
  };
  reader.done();
  return config;
}
