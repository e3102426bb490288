#!/usr/bin/env node
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureStream, streamConfigs } from "@jetflow/contracts";
import { runService } from "@jetflow/service-runtime";
import { loadConfig } from "./config";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  await runService("api-gateway", config, async ({ nc }) => {
    const jsm = await jetstreamManager(nc);
    const options = { replicas: config.replicas };
    for (const stream of [streamConfigs.deadLetters(options)]) {
      await ensureStream(jsm, stream);
    }
    return { ready: () => true, stop: async () => {} };
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`api-gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
