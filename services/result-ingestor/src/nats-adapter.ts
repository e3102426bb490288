/**
 * The result-ingestor component: takes task results from JETFLOW_RESULTS to the orchestrator as
 * TaskOutcome commands, and answers workers' heartbeat requests. Results are processed many at a
 * time (their publishes pipelined) and each is acked only after its own command is stored.
 */
import {
  Command,
  ExecutionSnapshot,
  activityFromSubject,
  TaskHeartbeatReply,
  buckets,
  consumerConfigs,
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
  lazyChild,
  publishDeadLetter,
  snapshotLogFields,
} from "@jetflow/service-runtime";
import {
  explainJetStreamError,
  resultNamesFromHeaders,
  startDurableConsumer,
  startTraceSpan,
  traceHeaders,
  traceParentHeader,
} from "@jetflow/contracts/internal";
import type { DurableConsumer } from "@jetflow/contracts/internal";
import type { Component, Logger } from "@jetflow/service-runtime";
import { JetStreamApiCodes, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import type { Config } from "./config";
import { ingestBytes, isCancelRequested, parseHeartbeat } from "@jetflow/engine";
import { ensureResources, isApiError } from "./resources";
import { emptyStats } from "./stats";
import type { IngestorStats } from "./stats";

/** The service name used in dead letters and logs. */
export const SERVICE_NAME = "result-ingestor";

/** How long a result that could not be forwarded waits before it is offered again. */
const RETRY_DELAY_MS = 1_000;

/** Options of {@link createResultIngestor}. */
export interface ResultIngestorOptions {
  /** The connection; the ingestor never closes it. */
  nc: NatsConnection;
  log: Logger;
  config: Pick<Config, "replicas" | "maxOutputBytes" | "maxInFlight" | "ackWaitMs">;
  /** The clock, in ms since the epoch: heartbeat records and results without a time. Default Date.now. */
  now?: () => number;
}

/** A result-ingestor instance: `start()` once, then `stop()` once. */
export interface ResultIngestor extends Component {
  /** Ensures its streams, consumer and heartbeat bucket, then consumes results and serves heartbeats. */
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
  const limits = { maxOutputBytes: config.maxOutputBytes };
  let js: JetStreamClient | undefined;
  let kvm: Kvm | undefined;
  let heartbeatsKv: KV | undefined;
  let instances: KV | undefined;
  // Heartbeats are core request/reply, shared by the replicas through the queue group.
  const heartbeats = createRequestServer({ nc, log, queue: queueGroups.resultIngestor });
  let results: DurableConsumer | undefined;
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

  async function onResult(msg: JsMsg): Promise<void> {
    // The stream's own timestamp: the same on every redelivery, so the deadline check is too.
    const storedMs = Math.floor(msg.info.timestampNanos / 1_000_000);
    const ingested = ingestBytes(msg.data, msg.subject, limits, new Date(storedMs > 0 ? storedMs : now()));
    // A result from a traced task attempt continues its trace (the worker's span is the parent).
    const parent = traceParentHeader(msg.headers);
    const activity = activityFromSubject(msg.subject);
    const span =
      parent === undefined
        ? undefined
        : startTraceSpan(`result ${activity ?? ""}`, { parent, kind: "consumer" });
    // A result's body names neither its workflow nor its state (reading the snapshot for them
    // would cost a KV read per result): the SDKs send them in headers, which a worker written from
    // the .proto files may leave out (then so do the lines). Any worker can put anything there, so
    // they go into log lines and nowhere else: never trust them for a decision.
    const rlog = lazyChild(log, () => ({
      ...executionLogFields({
        executionId: ingested.kind === "rejected" ? undefined : ingested.executionId,
        ...resultNamesFromHeaders(msg.headers),
        traceParent: parent,
      }),
      activity,
    }));
    try {
      switch (ingested.kind) {
        case "outcome": {
          const ack = await (js as JetStreamClient).publish(
            subjects.command(ingested.executionId),
            encode(Command, ingested.command),
            { msgID: ingested.msgId, headers: traceHeaders(span?.traceParent) },
          );
          stats.commands += 1;
          if (ack.duplicate) stats.duplicates += 1;
          // Every result passes here: build the child logger only when the line is written.
          if (log.isLevelEnabled("debug"))
            rlog().debug({ duplicate: ack.duplicate }, "task outcome forwarded");
          break;
        }
        case "heartbeat":
          await recordHeartbeat(ingested.taskToken);
          break;
        case "rejected":
          await park(msg.subject, msg.data, ingested.reason);
          break;
      }
    } catch (err) {
      stats.failures += 1;
      rlog().warn(
        { err: explainJetStreamError(err, streams.commands), subject: msg.subject, seq: msg.seq },
        "result not forwarded, retrying later",
      );
      msg.nak(RETRY_DELAY_MS);
      span?.end("not forwarded");
      return;
    }
    span?.end(ingested.kind === "rejected" ? "parked" : undefined);
    // Only now: the command (or dead letter, or heartbeat record) is durable.
    msg.ack();
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
      heartbeatsKv = await ensureResources(jsm, js, {
        replicas: config.replicas,
        ackWaitMs: config.ackWaitMs,
      });
      results = await startDurableConsumer({
        nc,
        stream: streams.results,
        config: consumerConfigs.results(config.ackWaitMs),
        maxInFlight: config.maxInFlight,
        handle: onResult,
        log,
      });
      heartbeats.serve(subjects.allHeartbeats, onHeartbeat);
      // A round trip to the server makes sure it has registered the subscription.
      await heartbeats.registered();
      running = true;
      log.info(
        { maxInFlight: config.maxInFlight, maxOutputBytes: config.maxOutputBytes },
        "result-ingestor running",
      );
    },

    ready: () => running && (results?.ready() ?? false),
    requiredStreams: [streams.results, streams.commands],

    async stop() {
      running = false;
      await heartbeats.stop();
      await results?.stop();
      log.info({ stats }, "result-ingestor stopped");
    },

    stats: () => ({ ...stats }),
  };
}
