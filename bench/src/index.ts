/**
 * @jetflow/bench: the benchmark behind `pnpm bench` (see docs/performance.md). Exported for tools
 * that read or re-render its JSON results.
 */
export { loadBenchConfig, scaleSizes, BenchConfigError, WORKLOAD_IDS } from "./config";
export type { BenchConfig, WorkloadId, WorkloadSizes } from "./config";
export { runBench } from "./run-bench";
export { renderReport } from "./report";
export type { BenchResult, MachineInfo, MeasuredRun, TargetCheck, WorkloadResult } from "./report";
export type { RunFigures } from "./figures";
export type { Resources, ProcessUsage, Backlog } from "./sampler";
export type { ProfileSummary, ProfileLine } from "./profile";
