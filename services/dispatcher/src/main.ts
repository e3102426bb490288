#!/usr/bin/env node
import { runService } from "@jetflow/service-runtime";
import { loadConfig } from "./config";
import { createDispatcher } from "./dispatcher";
import { instrumentDispatcher } from "./metrics";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  await runService("dispatcher", config, async ({ nc, log, metrics }) => {
    const dispatcher = createDispatcher({ nc, log, config });
    await dispatcher.start();
    // Nobody can scrape without the health port: then the backlog is not read at all.
    const stopMetrics =
      config.healthPort > 0
        ? instrumentDispatcher({
            registry: metrics,
            stats: () => dispatcher.stats(),
            nc,
            log: log.child({ component: "metrics" }),
            intervalMs: config.backlogSampleIntervalMs,
          })
        : () => {};
    return {
      ...dispatcher,
      stop: async () => {
        stopMetrics();
        await dispatcher.stop();
      },
    };
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`dispatcher: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
