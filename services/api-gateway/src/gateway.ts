/**
 * The api-gateway component: the KV buckets it reads (definitions, the execution index), the
 * operations, and the gRPC server with the WorkflowService, the health service and reflection.
 */
import {
  bucketConfigs,
  buckets,
  ExecutionSummary,
  decode,
  ensureStream,
  ensureStreamExists,
  streamConfigs,
  streams,
} from "@jetflow/contracts";
import { DEFAULT_MAX_COMMIT_BATCH, StateClient } from "@jetflow/service-runtime";
import type { Component, Logger } from "@jetflow/service-runtime";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Server } from "@grpc/grpc-js";
import type { Config } from "./config";
import { trackConnection } from "./connection";
import { BulkOperations } from "./bulk-operations";
import { DeadLetters } from "./dead-letters";
import { DEFAULT_LIST_WINDOW, ExecutionIndex, createIndexScan } from "./execution-index";
import { ExecutionList } from "./execution-list";
import { Executions } from "./executions";
import { bindServer, createGrpcServer, workflowService } from "./grpc-server";
import type { GrpcServerOptions } from "./grpc-server";
import { closeHttp, createHttpServer, listenHttp } from "./http/http-server";
import type { Server as HttpServer } from "./http/http-server";
import { findConsoleDir } from "./http/static-files";
import { KvView } from "./kv-view";
import { PublicKeyFile, TokenFile, createAuthenticator } from "./auth";
import { sfnCallerAuthenticator } from "./sfn/authorize";
import { startSfnEndpoint } from "./sfn/endpoint";
import type { SfnEndpoint } from "./sfn/endpoint";
import { createRateLimiter } from "./rate-limit";
import { addHealth, addReflection, findProtoDir } from "./reflection";
import { activitiesOf, ensureTaskConsumers } from "./task-consumers";
import { createApiCredentials, reloadHttpsCertificates } from "./tls";
import { Schedules } from "./schedules/schedules";
import { startScheduler } from "./schedules/scheduler";
import type { Scheduler } from "./schedules/scheduler";
import { WorkflowNames, WorkflowStore } from "./workflows";

export interface GatewayOptions {
  nc: NatsConnection;
  log: Logger;
  config: Pick<
    Config,
    | "grpcAddress"
    | "maxPayloadBytes"
    | "maxDefinitionBytes"
    | "stateTimeoutMs"
    | "replicas"
    | "protoDir"
    | "httpHost"
    | "httpPort"
    | "consoleDir"
  > &
    Partial<
      Pick<Config, "bulk" | "schedulerTickMs" | "schedulerLeaseMs" | "executionListWindow" | "maxCommitBatch">
    > &
    Partial<Pick<Config, "auth" | "tls" | "httpTls" | "rateLimit" | "sfn">>;
  /** Told of each execution this gateway created (see `metrics.ts`). Must not throw. */
  onExecutionCreated?: (workflowName: string) => void;
}

/**
 * Creates the gateway; `start()` resolves with the bound gRPC port, and `httpPort` is the port of
 * the HTTP/JSON API and console.
 */
export function createGateway({ nc, log, config, onExecutionCreated }: GatewayOptions) {
  let server: Server | undefined;
  let http: HttpServer | undefined;
  let httpPort = 0;
  let stopCertificateReload: (() => void) | undefined;
  let tokenFile: TokenFile | undefined;
  let publicKeyFile: PublicKeyFile | undefined;
  let sfn: SfnEndpoint | undefined;
  let views: KvView[] = [];
  let bulk: BulkOperations | undefined;
  let schedules: Schedules | undefined;
  let scheduler: Scheduler | undefined;
  let ready = false;
  let port = 0;
  const component: Component & {
    start(): Promise<number>;
    readonly port: number;
    readonly httpPort: number;
    /** Port of the Step Functions API; 0 when SFN_PORT is unset. */
    readonly sfnPort: number;
  } = {
    async start() {
      // Bad certificate files stop the start here, before any NATS work.
      const credentials = createApiCredentials(config.tls);
      const auth = config.auth ?? { mode: "none", tokens: [] };
      tokenFile =
        auth.mode === "required" && auth.tokensFile !== undefined
          ? new TokenFile({
              file: auth.tokensFile,
              reloadIntervalMs: auth.tokensReloadMs ?? 10_000,
              log: log.child({ component: "auth" }),
            })
          : undefined;
      const keyFile = auth.mode === "required" ? auth.jwt?.publicKeyFile : undefined;
      publicKeyFile =
        keyFile !== undefined
          ? new PublicKeyFile({
              file: keyFile,
              reloadIntervalMs: auth.tokensReloadMs ?? 10_000,
              log: log.child({ component: "auth" }),
            })
          : undefined;
      const authenticator = createAuthenticator(auth, { tokenFile, publicKeyFile });
      tokenFile?.start();
      publicKeyFile?.start();
      if (!authenticator.enabled) {
        log.warn("API authentication is off: anyone who reaches the gRPC port has every right");
      }
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      const resources = { replicas: config.replicas };
      // Commands may be sent (stop, callbacks) before the orchestrator first starts.
      await ensureStream(jsm, streamConfigs.commands(resources));
      // Every service ensures the dead-letter stream; the gateway reads it (dead-letter API).
      await ensureStream(jsm, streamConfigs.deadLetters(resources));
      const kvm = new Kvm(js);
      const definitions = await kvm.create(buckets.definitions, bucketConfigs.definitions(resources));
      // Owned by the state-manager; created here too (same configuration) so that the gateway can
      // start first.
      const index = await kvm.create(buckets.executions, bucketConfigs.executions(resources));

      // Owned by the dispatcher; created here when missing so that registration can create the
      // activities' task consumers in it.
      await ensureStreamExists(jsm, streamConfigs.tasks(resources));
      const workflows = new WorkflowStore(definitions, config.maxDefinitionBytes, undefined, (machine) =>
        ensureTaskConsumers(jsm, activitiesOf(machine)),
      );
      const workflowNames = new WorkflowNames();
      // The newest executions only: older pages are read from the bucket (execution-index.ts).
      const executionList = new ExecutionList(config.executionListWindow ?? DEFAULT_LIST_WINDOW);
      views = [
        new KvView({
          kv: definitions,
          headersOnly: true,
          apply: (entry) => workflowNames.apply(entry),
          log,
        }),
        new KvView({
          kv: index,
          apply: (entry) => {
            if (entry.operation === "PUT") {
              executionList.upsert(decode(ExecutionSummary, "ExecutionSummary", entry.value, entry.key));
            } else {
              executionList.remove(entry.key);
            }
          },
          log,
        }),
      ];
      const [namesView, listView] = views as [KvView, KvView];
      await Promise.all(views.map((v) => v.start()));
      const executionIndex = new ExecutionIndex({
        list: executionList,
        view: listView,
        scan: createIndexScan(nc, log.child({ component: "execution-index" })),
        get: async (executionId) => {
          const entry = await index.get(executionId);
          return entry?.operation === "PUT"
            ? decode(ExecutionSummary, "ExecutionSummary", entry.value, executionId)
            : undefined;
        },
      });

      const connection = trackConnection(nc);
      const executions = new Executions({
        nc,
        js,
        state: new StateClient(
          nc,
          config.stateTimeoutMs,
          undefined,
          config.maxCommitBatch ?? DEFAULT_MAX_COMMIT_BATCH,
        ),
        workflows,
        maxPayloadBytes: config.maxPayloadBytes,
        requestTimeoutMs: config.stateTimeoutMs,
        onExecutionCreated,
      });
      const bulkKv = await kvm.create(buckets.bulkOperations, bucketConfigs.bulkOperations(resources));
      const bulkOperations = new BulkOperations({
        kv: bulkKv,
        executionIndex,
        stop: (executionId, error, cause, identity) => executions.stop(executionId, error, cause, identity),
        redrive: (executionId, identity) => executions.redrive(executionId, identity),
        config: config.bulk ?? { batchSize: 100, batchIntervalMs: 100, leaseMs: 15_000, pollMs: 1_000 },
        log: log.child({ component: "bulk" }),
      });
      const bulkView = new KvView({ kv: bulkKv, apply: (entry) => bulkOperations.apply(entry), log });
      views.push(bulkView);
      await bulkView.start();
      bulk = bulkOperations;
      const scheduleKv = await kvm.create(buckets.schedules, bucketConfigs.schedules(resources));
      const leaseKv = await kvm.create(
        buckets.schedulerLease,
        bucketConfigs.schedulerLease({ ...resources, leaseMs: config.schedulerLeaseMs ?? 10_000 }),
      );
      schedules = new Schedules({ kv: scheduleKv, executions, log: log.child({ component: "scheduler" }) });
      const serviceOptions: GrpcServerOptions = {
        address: config.grpcAddress,
        nc,
        workflows,
        workflowNames: { list: workflowNames, view: namesView },
        executions,
        executionIndex,
        log,
        connected: connection.connected,
        authenticator,
        // One limiter for both front doors: a caller's gRPC and HTTP calls share its bucket.
        rateLimiter: createRateLimiter(config.rateLimit),
        deadLetters: new DeadLetters(js, jsm),
        bulkOperations,
        schedules,
      };
      const grpc = createGrpcServer(serviceOptions);
      const health = addHealth(grpc);
      try {
        addReflection(grpc, findProtoDir(config.protoDir));
      } catch (err) {
        log.warn({ err }, "server reflection disabled");
      }
      server = grpc;
      port = await bindServer(grpc, config.grpcAddress, credentials);
      ready = true;
      health.setServing(connection.connected());
      connection.onChange((connected) => health.setServing(ready && connected));
      log.info(
        {
          port,
          tls: config.tls ? (config.tls.clientCaFile ? "mutual" : "server") : "off",
          auth: authenticator.enabled,
          rateLimitPerS: serviceOptions.rateLimiter?.config.perSecond ?? "off",
        },
        "grpc server listening",
      );
      const consoleDir = findConsoleDir(config.consoleDir);
      const service = workflowService(serviceOptions);
      // The HTTP port is as locked as the gRPC port unless HTTP_TLS=off (see config.ts).
      const httpTls = config.httpTls === "off" ? undefined : config.tls;
      http = createHttpServer({ service, log, consoleDir, tls: httpTls });
      if (httpTls !== undefined && "setSecureContext" in http) {
        stopCertificateReload = reloadHttpsCertificates(http, httpTls, log);
      }
      httpPort = await listenHttp(http, config.httpHost, config.httpPort);
      log.info(
        {
          port: httpPort,
          host: config.httpHost,
          tls: httpTls ? (httpTls.clientCaFile ? "mutual" : "server") : "off",
          console: consoleDir !== undefined,
        },
        "http server listening",
      );
      bulkOperations.start(bulkView);
      const sfnPort = config.sfn?.port;
      if (config.sfn !== undefined && sfnPort !== undefined) {
        sfn = await startSfnEndpoint({
          js,
          jsm,
          // Its callers are authenticated by their SigV4 access keys (required when the API's own
          // authentication is on, see config.ts), each an identity with a role. This instance is
          // called in-process only, as the Step Functions caller's identity (sfn/authorize.ts).
          service: workflowService({
            ...serviceOptions,
            authenticator: sfnCallerAuthenticator,
            rateLimiter: undefined,
          }),
          workflows,
          executions,
          config: { ...config.sfn, port: sfnPort },
          replicas: config.replicas,
          log: log.child({ component: "sfn" }),
        });
      }
      scheduler = startScheduler({
        lease: leaseKv,
        schedules,
        log: log.child({ component: "scheduler" }),
        tickMs: config.schedulerTickMs ?? 1000,
      });
      return port;
    },
    get port() {
      return port;
    },
    get httpPort() {
      return httpPort;
    },
    get sfnPort() {
      return sfn?.port ?? 0;
    },
    ready: () => ready,
    // Histories are read from the events stream; definitions from their bucket.
    requiredStreams: [streams.events, `KV_${buckets.definitions}`],
    async stop() {
      ready = false;
      await bulk?.stop();
      await scheduler?.stop();
      for (const view of views) view.stop();
      stopCertificateReload?.();
      tokenFile?.stop();
      publicKeyFile?.stop();
      if (http !== undefined) await closeHttp(http);
      await sfn?.stop();
      const s = server;
      if (!s) return;
      await new Promise<void>((resolve) => s.tryShutdown(() => resolve()));
    },
  };
  return component;
}
