/**
 * @jetflow/service-runtime: the shell around every jetflow service.
 *
 * ```ts
 * const config = loadConfig(process.env);          // EnvReader + readBaseConfig, throws ConfigError
 * await runService("dispatcher", config, async ({ nc, log }) => createDispatcher({ nc, log, config }));
 * ```
 */
export { ConfigError, EnvReader, readBaseConfig } from "./config";
export type { BaseConfig } from "./config";
export { createLogger } from "./logger";
export type { Logger } from "./logger";
export { connectNats } from "./nats";
export { startHealthServer } from "./health";
export type { HealthServer, ReadinessCheck } from "./health";
export { runService } from "./run-service";
export { createServiceMetrics, exposeStats, watchConnectionMetrics } from "./metrics";
export type { StatCounter } from "./metrics";
export { startBacklogSampler } from "./backlog";
export type { BacklogSampler, BacklogSamplerOptions } from "./backlog";
export { Counter, Gauge, Histogram, Registry } from "prom-client";
export { watchStreamLeaders, STREAM_PROBE_INTERVAL_MS } from "./stream-leaders";
export type { StreamLeaderWatch } from "./stream-leaders";
export type { Component, ServiceContext, RunningService } from "./run-service";
