/**
 * Test helpers of the engine, for tests only (excluded from the build, so never in dist/):
 * `import { Simulator } from "@jetflow/engine/test-support"`.
 */
export { Simulator, statusName } from "./simulator";
export type { SimulatedHandler, SimulatedOutcome } from "./simulator";
export { makeEvent, makeBatch, commitRequest } from "./history-builders";
export { deepFreeze } from "./deep-freeze";
