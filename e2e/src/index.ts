/** End-to-end test harness: the engine as processes, a gRPC test client, stored-state checks. */
export { startEngine, ManagedProcess, SERVICE_NAMES } from "./engine";
export type { Engine, EngineOptions, ServiceName } from "./engine";
export { createTestClient } from "./client";
export type { TestClient } from "./client";
export { checkStoredExecution, checkStoredExecutionRepaired, waitForEnd, statusOf } from "./checks";
export { testActivities } from "./activities";
export { findPrometheus, startPrometheus } from "./prometheus";
export type { Prometheus, ScrapeJob } from "./prometheus";
export { createTestCa } from "./certs";
export type { CertFiles, TestCa } from "./certs";
export { buildGoExampleWorker, GO_EXAMPLE_WORKER } from "./go-worker";
export { JETFLOW_CLI, runJetflow } from "./cli";
export type { CliRun } from "./cli";
