/**
 * @jetflow/service-runtime: the shell around every jetflow service.
 *
 * ```ts
 * const config = loadConfig(process.env);          // EnvReader + readBaseConfig, throws ConfigError
 * await runService("dispatcher", config, async ({ nc, log }) => createDispatcher({ nc, log, config }));
 * ```
 */
export { ConfigError, EnvReader, readBaseConfig } from "./config";
export type { BaseConfig, NatsTlsFiles } from "./config";
export { natsTlsOptions } from "./nats-tls";
export { createLogger } from "./logger";
export type { Logger } from "./logger";
export { connectNats } from "./nats";
export { startHealthServer } from "./health";
export type { HealthServer, ReadinessCheck } from "./health";
export { runService } from "./run-service";
export type { Component, ServiceContext, RunningService } from "./run-service";
