/**
 * The Step Functions endpoint as a part of the gateway: its KV buckets, the activity-task hand-out
 * and the HTTP server, over the gateway's handler layer.
 */
import { bucketConfigs, buckets } from "@jetflow/contracts";
import type { WorkflowServiceServer } from "@jetflow/contracts";
import type { Logger } from "@jetflow/service-runtime";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { Server } from "node:http";
import type { Executions } from "../executions";
import { closeHttp, listenHttp } from "../http/http-server";
import type { WorkflowStore } from "../workflows";
import { ActivityTasks } from "./activity-tasks";
import { createSfnAuthorizer } from "./authorize";
import type { SfnConfig } from "./config";
import { ActivityRegistry, DeletedStateMachines } from "./registry";
import { createSfnServer } from "./server";
import type { SfnServerOptions } from "./server";

export interface SfnEndpointOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** The WorkflowService implementation the gRPC and HTTP servers run. */
  service: WorkflowServiceServer;
  workflows: WorkflowStore;
  executions: Executions;
  config: SfnConfig & { port: number };
  replicas: number;
  log: Logger;
  /** See SfnServerOptions.authorize. Default: the identities of SFN_ACCESS_KEYS and their roles. */
  authorize?: SfnServerOptions["authorize"];
}

/** A started endpoint: its bound port and `stop()`. */
export interface SfnEndpoint {
  readonly port: number;
  stop(): Promise<void>;
}

/** Creates the endpoint's buckets and starts listening. */
export async function startSfnEndpoint(o: SfnEndpointOptions): Promise<SfnEndpoint> {
  const kvm = new Kvm(o.js);
  const resources = { replicas: o.replicas };
  const activities = new ActivityRegistry(
    await kvm.create(buckets.sfnActivities, bucketConfigs.sfnActivities(resources)),
  );
  const deleted = new DeletedStateMachines(
    await kvm.create(buckets.sfnDeletedStateMachines, bucketConfigs.sfnDeletedStateMachines(resources)),
  );
  const tasks = new ActivityTasks({
    js: o.js,
    jsm: o.jsm,
    executions: o.executions,
    log: o.log,
    pollMs: o.config.activityPollMs,
  });
  const server: Server = createSfnServer({
    context: {
      scope: { region: o.config.region, account: o.config.account },
      service: o.service,
      workflows: o.workflows,
      executions: o.executions,
      activities,
      deleted,
      tasks,
      now: () => new Date(),
    },
    log: o.log,
    accessKeys: o.config.accessKeys,
    authorize:
      o.authorize ??
      createSfnAuthorizer({
        keyIdentities: o.config.keyIdentities,
        executions: o.executions,
        scope: { region: o.config.region, account: o.config.account },
      }),
  });
  const port = await listenHttp(server, o.config.host, o.config.port);
  o.log.info(
    { port, host: o.config.host, authentication: o.config.accessKeys !== undefined },
    "step functions api listening",
  );
  return {
    port,
    async stop() {
      tasks.stop();
      await closeHttp(server);
    },
  };
}
