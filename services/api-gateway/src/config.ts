import { EnvReader, readBaseConfig } from "@jetflow/service-runtime";
import type { BaseConfig } from "@jetflow/service-runtime";

/** Configuration of the api-gateway. */
export type Config = BaseConfig;

/**
 * Reads the api-gateway's configuration from `env` (never from process.env directly).
 * @throws ConfigError naming every variable that is wrong
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const reader = new EnvReader(env);
  const config = readBaseConfig(reader);
  reader.done();
  return config;
}
