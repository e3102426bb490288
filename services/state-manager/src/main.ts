#!/usr/bin/env node
import { runService } from "@jetflow/service-runtime";
import { loadConfig } from "./config";
import { instrumentStateManager } from "./metrics";
import { SERVICE_NAME, createStateManager } from "./nats-adapter";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  await runService(SERVICE_NAME, config, async ({ nc, log, metrics }) => {
    // Read at each scrape, once the state-manager exists.
    const observe = instrumentStateManager(metrics, () => stateManager.stats());
    const stateManager = createStateManager({
      nc,
      log: log.child({ component: "state-manager" }),
      config,
      onCommitAnswered: observe,
    });
    await stateManager.start();
    return stateManager;
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`state-manager: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
