/**
 * The result-ingestor component: answers workers' heartbeat requests (recording each and telling
 * the worker whether its attempt was cancelled), and owns the results stream and the heartbeat
 * bucket. The orchestrators read the results stream themselves (see docs/architecture.md): until
 * December 2026 this service re-published every result as a command, a hop per step that only
 * re-wrapped the message.
 */
import {
  ExecutionSnapshot,
  activityFromSubject,
  TaskHeartbeatReply,
  buckets,
  decode,
  encode,
  formatHeartbeatRecord,
  queueGroups,
  streams,
  subjects,
} from "@jetflow/contracts";
import {
  createRequestServer,
  executionLogFields,
  publishDeadLetter,
  snapshotLogFields,
} from "@jetflow/service-runtime";
import type { Component, Logger } from "@jetflow/service-runtime";
import { JetStreamApiCodes, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import type { Config } from "./config";
import { isCancelRequested, parseHeartbeat } from "@jetflow/engine";
import { ensureResources, isApiError } from "./resources";
import { emptyStats } from "./stats";
import type { IngestorStats } from "./stats";

/** The service name used in dead letters and logs. */
export const SERVICE_NAME = "result-ingestor";

/** Options of {@link createResultIngestor}. */
export interface ResultIngestorOptions {
  /** The connection; the ingestor never closes it. */
  nc: NatsConnection;
  log: Logger;
  config: Pick<Config, "replicas">;
  /** The clock, in ms since the epoch, of heartbeat records. Default Date.now. */
  now?: () => number;
}

/** A result-ingestor instance: `start()` once, then `stop()` once. */
export interface ResultIngestor extends Component {
  /** Ensures its streams and heartbeat bucket, then serves heartbeats. */
  start(): Promise<void>;
  /** Counters since start. */
  stats(): Readonly<IngestorStats>;
}

/** Creates a result-ingestor over `nc`; nothing happens until `start()`. */
export function createResultIngestor({
  nc,
  log,
  config,
  now = Date.now,
}: ResultIngestorOptions): ResultIngestor {
  const stats = emptyStats();
  let js: JetStreamClient | undefined;
  let kvm: Kvm | undefined;
  let heartbeatsKv: KV | undefined;
  let instances: KV | undefined;
  // Heartbeats are core request/reply, shared by the replicas through the queue group.
  const heartbeats = createRequestServer({ nc, log, queue: queueGroups.resultIngestor });
  let running = false;

  async function park(subject: string, data: Uint8Array, reason: string): Promise<void> {
    log.error({ subject, activity: activityFromSubject(subject), reason }, "message parked");
    await publishDeadLetter(js as JetStreamClient, {
      service: SERVICE_NAME,
      subject,
      data,
      reason,
      parkedTime: new Date(now()),
    });
    stats.deadLettered += 1;
  }

  async function recordHeartbeat(taskToken: string): Promise<void> {
    await (heartbeatsKv as KV).put(taskToken, formatHeartbeatRecord(now()));
    stats.heartbeats += 1;
  }

  /** Reads the execution's snapshot; the instances bucket is the state-manager's and may not exist yet. */
  async function readSnapshot(executionId: string): Promise<ExecutionSnapshot | undefined | "unknown"> {
    instances ??= await (kvm as Kvm).open(buckets.instances);
    let entry;
    try {
      entry = await instances.get(executionId);
    } catch (err) {
      if (isApiError(err, JetStreamApiCodes.StreamNotFound)) return "unknown";
      throw err;
    }
    if (!entry || entry.operation !== "PUT") return undefined;
    try {
      return decode(ExecutionSnapshot, "jetflow.v1.ExecutionSnapshot", entry.value, buckets.instances);
    } catch (err) {
      log.error({ err, executionId }, "corrupt snapshot");
      return "unknown";
    }
  }

  async function onHeartbeat(msg: Msg): Promise<void> {
    const parsed = parseHeartbeat(msg.data, msg.subject);
    if (parsed.kind === "undecodable") {
      // Nothing to answer: the sender is not speaking the protocol; its request times out.
      await park(msg.subject, msg.data, parsed.reason);
      return;
    }
    if (parsed.kind === "bad-token") {
      // No execution can ever have this attempt active: the worker should stop.
      respond(msg, true);
      await park(msg.subject, msg.data, parsed.reason);
      return;
    }
    const [, snapshot] = await Promise.all([
      recordHeartbeat(parsed.taskToken),
      readSnapshot(parsed.executionId),
    ]);
    // A missing bucket or an unreadable snapshot is our problem, not a reason to stop the worker.
    const cancel =
      snapshot === "unknown" ? false : isCancelRequested(snapshot, parsed.taskToken, parsed.scheduledEventId);
    if (log.isLevelEnabled("debug")) {
      const fields =
        typeof snapshot === "object"
          ? snapshotLogFields(snapshot)
          : executionLogFields({ executionId: parsed.executionId });
      log.child({ ...fields }).debug({ cancelRequested: cancel }, "heartbeat recorded");
    }
    respond(msg, cancel);
  }

  function respond(msg: Msg, cancelRequested: boolean): void {
    if (msg.reply && !msg.respond(encode(TaskHeartbeatReply, { cancelRequested }))) {
      log.warn({ subject: msg.subject }, "heartbeat reply not sent: connection closed");
    }
  }

  return {
    async start() {
      const jsm = await jetstreamManager(nc);
      js = jetstream(nc);
      kvm = new Kvm(js);
      heartbeatsKv = await ensureResources(nc, jsm, { replicas: config.replicas });
      heartbeats.serve(subjects.allHeartbeats, onHeartbeat);
      // A round trip to the server makes sure it has registered the subscription.
      await heartbeats.registered();
      running = true;
      log.info("result-ingestor running");
    },

    ready: () => running,
    requiredStreams: [streams.results],

    async stop() {
      running = false;
      await heartbeats.stop();
      log.info({ stats }, "result-ingestor stopped");
    },

    stats: () => ({ ...stats }),
  };
}
