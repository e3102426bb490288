/** The api-gateway component: KV bucket for definitions, the operations and the gRPC server. */
import { bucketConfigs, buckets, ensureStream, streamConfigs } from "@jetflow/contracts";
import { StateClient } from "@jetflow/execution-model";
import type { Component, Logger } from "@jetflow/service-runtime";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Server } from "@grpc/grpc-js";
import type { Config } from "./config";
import { Executions } from "./executions";
import { startGrpcServer } from "./grpc-server";
import { WorkflowStore } from "./workflows";

export interface GatewayOptions {
  nc: NatsConnection;
  log: Logger;
  config: Pick<Config, "grpcAddress" | "maxPayloadBytes" | "stateTimeoutMs" | "replicas">;
}

/** Creates the gateway; `start()` resolves with the bound gRPC port. */
export function createGateway({ nc, log, config }: GatewayOptions) {
  let server: Server | undefined;
  let ready = false;
  let port = 0;
  const component: Component & { start(): Promise<number>; readonly port: number } = {
    async start() {
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      // Commands may be sent (stop, callbacks) before the orchestrator first starts.
      await ensureStream(jsm, streamConfigs.commands({ replicas: config.replicas }));
      const kv = await new Kvm(js).create(
        buckets.definitions,
        bucketConfigs.definitions({ replicas: config.replicas }),
      );
      const workflows = new WorkflowStore(kv);
      const executions = new Executions({
        nc,
        js,
        state: new StateClient(nc, config.stateTimeoutMs),
        workflows,
        maxPayloadBytes: config.maxPayloadBytes,
      });
      const started = await startGrpcServer({
        address: config.grpcAddress,
        workflows,
        executions,
        log,
        connected: () => !nc.isClosed(),
      });
      server = started.server;
      port = started.port;
      ready = true;
      log.info({ port }, "grpc server listening");
      return port;
    },
    get port() {
      return port;
    },
    ready: () => ready,
    async stop() {
      ready = false;
      const s = server;
      if (!s) return;
      await new Promise<void>((resolve) => s.tryShutdown(() => resolve()));
    },
  };
  return component;
}
