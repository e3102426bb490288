#!/usr/bin/env node
/**
 * The example worker process: runs the activities of the example workflows (all of them, or those
 * named in ACTIVITIES) until SIGTERM or SIGINT. Configuration: see config.ts.
 */
import { runWorker } from "@jetflow/worker-sdk";
import pino from "pino";
import { EXAMPLE_ACTIVITIES, Ledger, createExampleActivities } from "./activities";
import { loadWorkerConfig } from "./config";
import { createLatency } from "./simulate";

async function main(): Promise<void> {
  const config = loadWorkerConfig(process.env, EXAMPLE_ACTIVITIES);
  const log = pino({ level: config.logLevel, base: { service: "examples-worker" } });
  const all = createExampleActivities({
    log,
    latency: createLatency(config.latencyFactor),
    ledger: new Ledger(),
  });
  const names = config.activities ?? Object.keys(all);
  const handlers = Object.fromEntries(names.map((name) => [name, all[name]!]));
  const running = await runWorker(handlers, {
    servers: config.natsServers,
    connectionName: "jetflow-examples-worker",
    concurrency: config.concurrency,
    logger: log,
    handleSignals: false,
  });
  log.info({ activities: names, workerId: running.worker.workerId }, "worker started");
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info({ signal }, "worker stopping");
    running.shutdown().then(
      () => {
        log.info("worker stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "worker stop failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`examples worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
