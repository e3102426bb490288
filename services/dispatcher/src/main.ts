#!/usr/bin/env node
import { runService } from "@jetflow/service-runtime";
import { loadConfig } from "./config";
import { createDispatcher } from "./dispatcher";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  await runService("dispatcher", config, async ({ nc, log }) => {
    const dispatcher = createDispatcher({ nc, log, config });
    await dispatcher.start();
    return dispatcher;
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`dispatcher: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
