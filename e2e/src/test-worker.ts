#!/usr/bin/env node
/** A worker process running the test activities; NATS_URL and ACTIVITIES (comma-separated) from env. */
import { runWorker } from "@jetflow/worker-sdk";
import type { TaskHandlers } from "@jetflow/worker-sdk";
import { testActivities } from "./activities";

const wanted = (process.env.ACTIVITIES ?? Object.keys(testActivities).join(",")).split(",");
const handlers: TaskHandlers = Object.fromEntries(
  Object.entries(testActivities).filter(([name]) => wanted.includes(name)),
);

/** JSON lines on stdout, pino's shape, so that tests can wait for what the worker says. */
const line =
  (level: number) =>
  (obj: Record<string, unknown>, msg: string): void => {
    const err = obj["err"] instanceof Error ? { message: obj["err"].message } : obj["err"];
    process.stdout.write(`${JSON.stringify({ level, time: Date.now(), ...obj, err, msg })}\n`);
  };

runWorker(handlers, {
  concurrency: Number(process.env.CONCURRENCY ?? 20),
  ackWaitMs: process.env.ACK_WAIT_MS ? Number(process.env.ACK_WAIT_MS) : undefined,
  logger: { debug: () => {}, info: line(30), warn: line(40), error: line(50) },
})
  .then(() => process.stdout.write(`${JSON.stringify({ msg: "worker started" })}\n`))
  .catch((err: unknown) => {
    process.stderr.write(`test-worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
