import { EnvReader, readBaseConfig } from "@jetflow/service-runtime";
import type { BaseConfig } from "@jetflow/service-runtime";

/**
 * Configuration of the result-ingestor: the settings every service shares. (Its former
 * RESULT_MAX_OUTPUT_BYTES is now the orchestrator's ORCH_MAX_OUTPUT_BYTES, which still reads the
 * old name; RESULT_MAX_IN_FLIGHT and RESULT_ACK_WAIT_MS went with the results consumer.)
 */
export type Config = BaseConfig;

/**
 * Reads the result-ingestor's configuration from `env` (never from process.env directly).
 * @throws ConfigError naming every variable that is wrong
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const reader = new EnvReader(env);
  const config: Config = readBaseConfig(reader);
  reader.done();
  return config;
}
