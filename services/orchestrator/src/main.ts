#!/usr/bin/env node
import { runService } from "@jetflow/service-runtime";
import { loadConfig } from "./config";
import { instrumentOrchestrator } from "./metrics";
import { createOrchestrator } from "./orchestrator";
import { traceTransition } from "./tracing";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  await runService("orchestrator", config, async ({ nc, log, metrics }) => {
    // Read at each scrape, once the orchestrator exists.
    const record = instrumentOrchestrator(metrics, () => orchestrator.counters);
    const orchestrator = createOrchestrator({
      nc,
      log: log.child({ component: "orchestrator" }),
      config,
      onCommitted: (before, batch, after) => {
        record(before, batch, after);
        traceTransition(before, batch, after);
      },
    });
    await orchestrator.start();
    return orchestrator;
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`orchestrator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
