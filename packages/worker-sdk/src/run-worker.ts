import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import type { TaskHandlers, Worker, WorkerOptions } from "./types";
import { createWorker } from "./worker";

/** Options of {@link runWorker}: the worker's, minus the connection, plus how to connect. */
export interface RunWorkerOptions extends Omit<WorkerOptions, "nc" | "handlers"> {
  /** NATS server URLs. Default: `NATS_URL` (comma-separated), else `nats://127.0.0.1:4222`. */
  servers?: string | string[];
  /** The connection's name, as servers show it. Default "jetflow-worker". */
  connectionName?: string;
  /** Stop and drain on SIGTERM and SIGINT. Default true. */
  handleSignals?: boolean;
}

/** A worker started by {@link runWorker}, with the connection it owns. */
export interface RunningWorker {
  readonly worker: Worker;
  readonly nc: NatsConnection;
  /** Stops the worker, then drains and closes the connection. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * The whole `main` of a worker process: connects to NATS (reconnecting forever), starts a worker
 * with `handlers` and, unless told otherwise, shuts down gracefully on SIGTERM or SIGINT.
 *
 * @throws WorkerError when the worker cannot start (the connection is closed again)
 */
export async function runWorker(
  handlers: TaskHandlers,
  options: RunWorkerOptions = {},
): Promise<RunningWorker> {
  const { servers, connectionName, handleSignals = true, ...workerOptions } = options;
  const nc = await connect({
    servers: servers ?? (process.env["NATS_URL"] ?? "nats://127.0.0.1:4222").split(",").map((s) => s.trim()),
    name: connectionName ?? "jetflow-worker",
    maxReconnectAttempts: -1,
  });
  const worker = createWorker({ ...workerOptions, nc, handlers });
  try {
    await worker.start();
  } catch (err) {
    await nc.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= worker.stop().then(() => nc.drain());
    return stopping;
  };
  if (handleSignals) {
    const onSignal = (): void => {
      shutdown().catch((err: unknown) => {
        options.logger?.error({ err }, "worker shutdown failed");
        process.exitCode = 1;
      });
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }
  return { worker, nc, shutdown };
}
