#!/usr/bin/env node
import { runService } from "@jetflow/service-runtime";
import { loadConfig } from "./config";
import { instrumentResultIngestor } from "./metrics";
import { SERVICE_NAME, createResultIngestor } from "./nats-adapter";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  await runService(SERVICE_NAME, config, async ({ nc, log, metrics }) => {
    const ingestor = createResultIngestor({ nc, log: log.child({ component: "result-ingestor" }), config });
    instrumentResultIngestor(metrics, () => ingestor.stats());
    await ingestor.start();
    return ingestor;
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`result-ingestor: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
