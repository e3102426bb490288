#!/usr/bin/env node
/** A worker process running the test activities; NATS_URL and ACTIVITIES (comma-separated) from env. */
import { runWorker } from "@jetflow/worker-sdk";
import type { TaskHandlers } from "@jetflow/worker-sdk";
import { testActivities } from "./activities";

const wanted = (process.env.ACTIVITIES ?? Object.keys(testActivities).join(",")).split(",");
const handlers: TaskHandlers = Object.fromEntries(
  Object.entries(testActivities).filter(([name]) => wanted.includes(name)),
);

runWorker(handlers, {
  concurrency: Number(process.env.CONCURRENCY ?? 20),
  ackWaitMs: Number(process.env.ACK_WAIT_MS ?? 30_000),
})
  .then(() => process.stdout.write(`${JSON.stringify({ msg: "worker started" })}\n`))
  .catch((err: unknown) => {
    process.stderr.write(`test-worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
