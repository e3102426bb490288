#!/usr/bin/env node
import { runService } from "@jetflow/service-runtime";
import { loadConfig } from "./config";
import { createGateway } from "./gateway";
import { instrumentGateway } from "./metrics";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  await runService("api-gateway", config, async ({ nc, log, metrics }) => {
    const gateway = createGateway({
      nc,
      log: log.child({ component: "grpc" }),
      config,
      onExecutionCreated: instrumentGateway(metrics),
    });
    await gateway.start();
    return gateway;
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`api-gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
