#!/usr/bin/env node
/** A worker process of the engine: the worker SDK running the no-op. NATS_URL and CONCURRENCY from env. */
import { runWorker } from "@jetflow/worker-sdk";
import { NOOP_ACTIVITY, noop } from "./workflows";

runWorker(
  { [NOOP_ACTIVITY]: noop },
  { concurrency: Number(process.env.CONCURRENCY ?? 256), connectionName: "bench-worker" },
)
  .then(() => process.stdout.write(`${JSON.stringify({ msg: "worker started" })}\n`))
  .catch((err: unknown) => {
    process.stderr.write(`bench-worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
