/**
 * @jetflow/worker-sdk: run your code on jetflow's tasks. A worker pulls the tasks of its activities
 * from NATS JetStream, runs one handler per task (at most `concurrency` at once per activity),
 * publishes the result, and only then acknowledges the task.
 *
 * ```ts
 * import { connect } from "@nats-io/transport-node";
 * import { createWorker } from "@jetflow/worker-sdk";
 *
 * const nc = await connect({ servers: "nats://127.0.0.1:4222" });
 * const worker = createWorker({
 *   nc,
 *   handlers: {
 *     "charge-card": async (input: { amount: number }, ctx) => {
 *       if (input.amount > 1000) throw Object.assign(new Error("over the limit"), { name: "PaymentDeclined" });
 *       return { charged: input.amount, attempt: ctx.attempt };
 *     },
 *   },
 * });
 * await worker.start();
 * process.once("SIGTERM", () => void worker.stop().then(() => nc.drain()));
 * ```
 */
export { createWorker } from "./worker";
export { runWorker, workerConnectionOptions } from "./run-worker";
export type { RunWorkerOptions, RunningWorker } from "./run-worker";
export { TaskAbortedError, WorkerError } from "./errors";
export type { TaskAbortKind } from "./errors";
export { silentLogger } from "./logger";
export type { Logger } from "./logger";
export { STATES_RUNTIME, STATES_DATA_LIMIT_EXCEEDED } from "./outcome";
export type { TaskContext, TaskHandler, TaskHandlers, Worker, WorkerOptions } from "./types";
