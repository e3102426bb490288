/**
 * The result-ingestor component: answers workers' heartbeat requests (recording each and telling
 * the worker whether its attempt was cancelled), and owns the results stream and the heartbeat
 * bucket. The orchestrators read the results stream themselves (see docs/architecture.md): until
 * December 2026 this service re-published every result as a command, a hop per step that only
 * re-wrapped the message.
 */
import {
  activityFromSubject,
  TaskHeartbeatReply,
  encode,
  formatHeartbeatRecord,
  queueGroups,
  streams,
  subjects,
} from "@jetflow/contracts";
import {
  StateClient,
  createRequestServer,
  executionLogFields,
  publishDeadLetter,
  snapshotLogFields,
} from "@jetflow/service-runtime";
import type { Component, Logger } from "@jetflow/service-runtime";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { ExecutionSnapshot } from "@jetflow/contracts";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import type { Config } from "./config";
import { isCancelRequested, parseHeartbeat } from "@jetflow/engine";
import { ensureResources } from "./resources";
import { emptyStats } from "./stats";
import type { IngestorStats } from "./stats";

/** The service name used in dead letters and logs. */
export const SERVICE_NAME = "result-ingestor";

/**
 * How long a heartbeat waits for the state-manager's load before it is answered without it: well
 * within the worker SDK's heartbeat request timeout.
 */
const HEARTBEAT_LOAD_TIMEOUT_MS = 2_000;

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
  let heartbeatsKv: KV | undefined;
  const state = new StateClient(nc, HEARTBEAT_LOAD_TIMEOUT_MS);
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

  /**
   * The execution's snapshot as of its last event, through the state-manager's load: the stored
   * one may lag the history by design (docs/architecture.md, "The snapshot is a projection"), and
   * an attempt that a later event ended must not be told to go on. "unknown" when the
   * state-manager cannot answer now: our problem, not a reason to stop the worker.
   */
  async function readSnapshot(executionId: string): Promise<ExecutionSnapshot | undefined | "unknown"> {
    try {
      return await state.load(executionId);
    } catch (err) {
      log.warn({ err, executionId }, "snapshot not loaded; heartbeat answered without it");
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
