/**
 * @jetflow/service-runtime: the shell around every jetflow service, and the NATS clients of the
 * execution model (the state-manager's request/reply client, the history reader).
 *
 * ```ts
 * const config = loadConfig(process.env);          // EnvReader + readBaseConfig, throws ConfigError
 * await runService("dispatcher", config, async ({ nc, log }) => createDispatcher({ nc, log, config }));
 * ```
 */
export { ConfigError, EnvReader, readBaseConfig } from "./config";
export type { BaseConfig, NatsTlsFiles } from "./config";
export { natsTlsOptions } from "./nats-tls";
export { ExecutionLog, createLogger, executionLogFields, lazyChild, snapshotLogFields } from "./logger";
export type { ExecutionLogContext, ExecutionLogFields, Logger } from "./logger";
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
export { LruCache } from "./lru-cache";
export { Semaphore } from "./semaphore";
export { publishDeadLetter, deadLetterMsgId } from "./dead-letter";
export type { DeadLetterInput } from "./dead-letter";
export { createRequestServer, reply } from "./request-server";
export { DEFAULT_MAX_COMMIT_BATCH, StateClient, StateManagerError } from "./state-client";
export type { CommitResult } from "./state-client";
export { readEventBatches, readEventBatchesWith, lastBatchSeq, HistoryReadError } from "./history";
export type { StoredBatch, ReadBatchesOptions } from "./history";
export type { RequestServer, RequestServerOptions, RequestHandler } from "./request-server";
