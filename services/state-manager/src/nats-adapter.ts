/**
 * The state-manager component: creates the resources it owns, serves `jetflow.state.commit`,
 * `jetflow.state.commits` (several commits at once) and `jetflow.state.load` as core NATS
 * request/reply in the queue group `state-manager`, keeps the execution index
 * (jetflow_executions) written before each snapshot, and parks what it cannot serve on its
 * dead-letter subject. Requests are handled concurrently, except that
 * the commits of one execution are applied one at a time in arrival order.
 */
import type { ExecutionStatus } from "@jetflow/contracts";
import {
  CommitBatchReply,
  CommitBatchRequest,
  CommitReply,
  LoadReply,
  LoadRequest,
  bucketConfigs,
  buckets,
  decode,
  encode,
  ensureStream,
  queueGroups,
  streamConfigs,
  streams,
  subjects,
} from "@jetflow/contracts";
import { LruCache, createRequestServer, publishDeadLetter, reply } from "@jetflow/service-runtime";
import type { Component } from "@jetflow/service-runtime";
import { isExecutionId, parseCommitRequest } from "@jetflow/engine";
import type { ValidCommit } from "@jetflow/engine";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { createCommitter } from "./commit";
import { createExecutionIndex, withExecutionIndex } from "./execution-index";
import type { Committer } from "./commit";
import type { Config } from "./config";
import { errorMessage } from "./errors";
import { KeyedQueue } from "./keyed-queue";
import { createSnapshotStore } from "./kv-store";
import type { CachedVersion } from "./kv-store";
import { createLoader } from "./load";
import type { Loader } from "./load";
import { createPurger } from "./purger";
import { emptyStats } from "./stats";
import type { StateManagerStats } from "./stats";

/** The service name used in dead letters. */
export const SERVICE_NAME = "state-manager";

/** Options of `createStateManager`. */
export interface StateManagerOptions {
  /** The connection; the state-manager never closes it. */
  nc: NatsConnection;
  log: Logger;
  config: Pick<Config, "replicas" | "maxSnapshotBytes" | "cacheEntries"> &
    Partial<Pick<Config, "retention" | "snapshotEveryEvents">>;
  /** Told of each commit answered, with how long it took from arrival to answer. Must not throw. */
  onCommitAnswered?: (reply: CommitReply, seconds: number) => void;
}

/** A state-manager instance: `start()` once, then `stop()` once. */
export interface StateManager extends Component {
  /** Ensures the events and dead-letter streams and the instances bucket, then subscribes. */
  start(): Promise<void>;
  /** Counters since start. */
  stats(): Readonly<StateManagerStats>;
}

/** Creates a state-manager over `nc`; nothing happens until `start()`. */
export function createStateManager({ nc, log, config, onCommitAnswered }: StateManagerOptions): StateManager {
  const stats = emptyStats();
  const commitQueue = new KeyedQueue();
  const server = createRequestServer({ nc, log, queue: queueGroups.stateManager });
  let js: JetStreamClient | undefined;
  let purger: ReturnType<typeof createPurger> | undefined;
  let commit: Committer | undefined;
  let load: Loader | undefined;
  let running = false;

  function respond(msg: Msg, bytes: Uint8Array): void {
    reply(msg, bytes, log);
  }

  /** Counts, logs and parks a request (or one commit of a batch) that cannot be served. */
  function setAside(request: Pick<Msg, "subject" | "data">, reason: string): void {
    stats.malformed += 1;
    log.warn({ subject: request.subject, reason }, "malformed request");
    park(request, reason);
  }

  function refuse(msg: Msg, reason: string, reply: Uint8Array): void {
    setAside(msg, reason);
    respond(msg, reply);
  }

  /** False (and the request parked) when `msg` has no reply subject to answer on. */
  function answerable(msg: Msg, what: string): boolean {
    if (msg.reply) return true;
    stats.malformed += 1;
    log.warn({ subject: msg.subject }, `${what} without a reply subject`);
    park(msg, "request without a reply subject");
    return false;
  }

  function park(msg: Pick<Msg, "subject" | "data">, reason: string): void {
    const parkedTime = new Date();
    void server.track(
      (async () => {
        try {
          await publishDeadLetter(js as JetStreamClient, {
            service: SERVICE_NAME,
            subject: msg.subject,
            data: msg.data,
            reason,
            parkedTime,
          });
          stats.deadLettered += 1;
        } catch (err) {
          log.error({ err, subject: msg.subject, reason }, "cannot park a dead letter");
        }
      })(),
    );
  }

  function onCommit(msg: Msg): Promise<void> | undefined {
    if (!answerable(msg, "commit")) return;
    const arrived = performance.now();
    const parsed = parseCommitRequest(msg.data, msg.subject, config);
    if (!parsed.ok) {
      refuse(msg, parsed.reason, encode(CommitReply, { result: { $case: "error", value: parsed.reason } }));
      return;
    }
    return commitValid(parsed.commit, arrived).then((committed) =>
      respond(msg, encode(CommitReply, committed)),
    );
  }

  /**
   * Several commits in one request: each is checked, queued behind its execution's earlier
   * commits and applied exactly as on `jetflow.state.commit`, all at once; the answer carries
   * every commit's reply in order. One that cannot be read is refused (and parked) alone.
   */
  function onCommitBatch(msg: Msg): Promise<void> | undefined {
    if (!answerable(msg, "commit batch")) return;
    const arrived = performance.now();
    let commits: Uint8Array[];
    try {
      commits = decode(CommitBatchRequest, "CommitBatchRequest", msg.data, msg.subject).commits;
    } catch (err) {
      const reason = errorMessage(err);
      refuse(msg, reason, encode(CommitBatchReply, { replies: [], error: reason }));
      return;
    }
    const replies = commits.map((bytes, index): CommitReply | Promise<CommitReply> => {
      const parsed = parseCommitRequest(bytes, msg.subject, config);
      if (parsed.ok) return commitValid(parsed.commit, arrived);
      const reason = `commit ${index + 1} of ${commits.length}: ${parsed.reason}`;
      setAside({ subject: msg.subject, data: bytes }, reason);
      return { result: { $case: "error", value: reason } };
    });
    return Promise.all(replies).then((answered) =>
      respond(msg, encode(CommitBatchReply, { replies: answered, error: "" })),
    );
  }

  /** Applies one checked commit after the execution's earlier ones (rejects only on a bug, as before). */
  function commitValid(valid: ValidCommit, arrived: number): Promise<CommitReply> {
    const run = commit as Committer;
    return commitQueue
      .run(valid.executionId, () => run(valid))
      .then((committed) => {
        onCommitAnswered?.(committed, (performance.now() - arrived) / 1000);
        return committed;
      });
  }

  function onLoad(msg: Msg): Promise<void> | undefined {
    if (!answerable(msg, "load")) return;
    let executionId: string;
    try {
      executionId = decode(LoadRequest, "LoadRequest", msg.data, msg.subject).executionId;
    } catch (err) {
      const reason = errorMessage(err);
      refuse(msg, reason, encode(LoadReply, { snapshot: undefined, error: reason }));
      return;
    }
    if (!isExecutionId(executionId)) {
      const reason = `invalid execution id "${executionId.slice(0, 200)}"`;
      refuse(msg, reason, encode(LoadReply, { snapshot: undefined, error: reason }));
      return;
    }
    const run = load as Loader;
    return run(executionId).then((loaded) => respond(msg, encode(LoadReply, loaded)));
  }

  return {
    async start() {
      const jsm = await jetstreamManager(nc);
      const resources = { replicas: config.replicas };
      await ensureStream(jsm, streamConfigs.deadLetters(resources));
      await ensureStream(jsm, streamConfigs.events(resources));
      js = jetstream(nc);
      const kvm = new Kvm(js);
      const kv = await kvm.create(buckets.instances, bucketConfigs.instances(resources));
      const indexKv = await kvm.create(buckets.executions, bucketConfigs.executions(resources));
      // Every snapshot write (commit, retry, repair on load) first brings the execution index up to date.
      const store = withExecutionIndex(
        createSnapshotStore({
          kv,
          cache: new LruCache<string, CachedVersion>(config.cacheEntries),
          log,
          snapshotEveryEvents: config.snapshotEveryEvents ?? 0,
        }),
        createExecutionIndex({
          kv: indexKv,
          cache: new LruCache<string, ExecutionStatus>(config.cacheEntries),
          log,
        }),
      );
      const leaseKv = await kvm.create(buckets.retention, bucketConfigs.retention(resources));
      if (config.retention !== undefined) {
        purger = createPurger({
          jsm,
          leaseKv,
          indexKv,
          config: config.retention,
          log: log.child({ component: "retention" }),
        });
      }
      commit = createCommitter({ js, jsm, store, stats, log });
      load = createLoader({ jsm, store, stats, log });
      server.serve(subjects.stateCommit, onCommit);
      server.serve(subjects.stateCommitBatch, onCommitBatch);
      server.serve(subjects.stateLoad, onLoad);
      // A round trip to the server makes sure it has registered the subscriptions.
      await server.registered();
      running = true;
      purger?.start();
      log.info({ replicas: config.replicas }, "state-manager serving");
    },

    ready: () => running,
    // Every commit appends to the events and writes a snapshot into the instances bucket.
    requiredStreams: [streams.events, `KV_${buckets.instances}`],

    async stop() {
      running = false;
      await purger?.stop();
      await server.stop();
      log.info({ stats }, "state-manager stopped");
    },

    stats: () => ({ ...stats }),
  };
}
