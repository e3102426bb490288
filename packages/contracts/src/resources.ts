/**
 * Names and configurations of every JetStream stream, consumer and KV bucket. The service that
 * owns a resource creates it at start-up with `ensureStream` / `ensureConsumer` (idempotent);
 * everyone else only binds to it.
 */
import type { ConsumerConfig, JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV, KvOptions } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { activityConsumerName } from "./activity-names";
import { subjects } from "./subjects";

/** Stream names. */
export const streams = {
  events: "JETFLOW_EVENTS",
  tasks: "JETFLOW_TASKS",
  results: "JETFLOW_RESULTS",
  commands: "JETFLOW_COMMANDS",
  timers: "JETFLOW_TIMERS",
  deadLetters: "JETFLOW_DEAD_LETTERS",
} as const;

/** KV bucket names. */
export const buckets = {
  definitions: "jetflow_defs",
  instances: "jetflow_instances",
  heartbeats: "jetflow_heartbeats",
  /**
   * The execution index behind ListExecutions: key `<executionId>` → ExecutionSummary of each
   * top-level execution, written by the state-manager when an execution starts and when it ends.
   */
  executions: "jetflow_executions",
  /**
   * Activities declared through the Step Functions API (CreateActivity), owned by the api-gateway:
   * key = base64url of the activity name → JSON `{ name, creationDate }`.
   */
  sfnActivities: "jetflow_sfn_activities",
  /**
   * State machines deleted through the Step Functions API, owned by the api-gateway: key = the
   * workflow name → JSON `{ deletionDate }` (jetflow keeps every definition version).
   */
  sfnDeletedStateMachines: "jetflow_sfn_deleted",
  /**
   * Bulk operations (StartBulkStop, StartBulkRedrive), owned by the api-gateway: key = operation id → BulkOperation,
   * its filter, progress and the lease of the gateway processing it.
   */
  bulkOperations: "jetflow_bulk_operations",
  /**
   * The retention purger's lease, owned by the state-manager: key `purger` → JSON
   * `{ owner, expiresMs }`, so that one replica purges at a time.
   */
  retention: "jetflow_retention",
  /** Schedules (docs/schedules.md), owned by the api-gateway: key = schedule id → Schedule. */
  schedules: "jetflow_schedules",
  /**
   * The scheduler lease, owned by the api-gateway: key `leader` → the holding replica's id. The
   * bucket's TTL ends a lease its holder stopped renewing.
   */
  schedulerLease: "jetflow_scheduler_lease",
} as const;

/** The stream behind a KV bucket (`KV_<bucket>`). */
export function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}

/** The stream subject of one key of a KV bucket (`$KV.<bucket>.<key>`). */
export function kvKeySubject(bucket: string, key: string): string {
  return `$KV.${bucket}.${key}`;
}

/** Durable consumer names. */
export const consumers = {
  /**
   * The one consumer per activity on JETFLOW_TASKS, shared by every worker of that activity:
   * `tasks-<encoded activity>`, or a hashed form for very long encodings (`activityConsumerName`).
   */
  task: (activity: string) => activityConsumerName(activity),
  /**
   * Read by the orchestrators. The name is the one it had when the result-ingestor read it, kept
   * so that old and new processes share it during an upgrade (a work-queue stream refuses a
   * second consumer of the same subjects).
   */
  results: "result-ingestor",
  commands: "orchestrator",
  /** The dispatcher reads every event batch and performs its effects (tasks, timers, child runs). */
  eventEffects: "dispatcher-effects",
  timers: "dispatcher-timers",
} as const;

/** Settings that differ between a laptop and a production cluster. */
export interface ResourceOptions {
  /** Stream and bucket replicas: 1 on one node, 3 (or 5) on a cluster. Default 1. */
  replicas?: number;
}

/** How long the server remembers a Nats-Msg-Id to drop a duplicate publish. */
export const DUPLICATE_WINDOW_NS = 120 * 1_000_000_000;

function fileStream(name: string, subject: string, options: ResourceOptions): Partial<StreamConfig> {
  return {
    name,
    subjects: [subject],
    storage: StorageType.File,
    num_replicas: options.replicas ?? 1,
    duplicate_window: DUPLICATE_WINDOW_NS,
    // Direct get lets readers (history, replay) fetch messages from any replica cheaply.
    allow_direct: true,
  };
}

/** Stream configurations by owner. */
export const streamConfigs = {
  /** Owned by state-manager: the append-only history, kept forever (limits retention, no limits). */
  events: (o: ResourceOptions = {}): Partial<StreamConfig> => ({
    ...fileStream(streams.events, subjects.allEvents, o),
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
  }),
  /** Owned by dispatcher: a message is removed once a worker acks it. */
  tasks: (o: ResourceOptions = {}): Partial<StreamConfig> => ({
    ...fileStream(streams.tasks, subjects.allTasks, o),
    retention: RetentionPolicy.Workqueue,
  }),
  /** Owned by result-ingestor. */
  results: (o: ResourceOptions = {}): Partial<StreamConfig> => ({
    ...fileStream(streams.results, subjects.allResults, o),
    retention: RetentionPolicy.Workqueue,
  }),
  /** Owned by orchestrator. */
  commands: (o: ResourceOptions = {}): Partial<StreamConfig> => ({
    ...fileStream(streams.commands, subjects.allCommands, o),
    retention: RetentionPolicy.Workqueue,
  }),
  /** Owned by dispatcher: pending durable timers, removed when fired. */
  timers: (o: ResourceOptions = {}): Partial<StreamConfig> => ({
    ...fileStream(streams.timers, subjects.allTimers, o),
    retention: RetentionPolicy.Workqueue,
  }),
  /** Ensured by every service: parked messages, kept 14 days for a human to look at. */
  deadLetters: (o: ResourceOptions = {}): Partial<StreamConfig> => ({
    ...fileStream(streams.deadLetters, subjects.allDeadLetters, o),
    retention: RetentionPolicy.Limits,
    max_age: 14 * 24 * 3600 * 1_000_000_000,
  }),
} as const;

/**
 * Ack wait of the engine's own consumers. Short, because a message is redelivered only when its
 * holder died: a live holder keeps it with in-progress acks every third of the ack wait (the
 * durable consume loop does). So after a `kill -9` its messages go to the replacement or another
 * replica within 3 s instead of 30.
 */
export const DEFAULT_ACK_WAIT_MS = 3_000;

/**
 * Ack wait of a task consumer: longer than the engine's, because user handlers may block their
 * worker's event loop for a while (and so its in-progress acks).
 */
export const DEFAULT_TASK_ACK_WAIT_MS = 10_000;

function durablePull(name: string, filter: string, ackWaitMs: number): Partial<ConsumerConfig> {
  return {
    durable_name: name,
    filter_subject: filter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ackWaitMs * 1_000_000,
    // Redeliver forever: giving up on a message would lose a step of an execution.
    max_deliver: -1,
    max_ack_pending: 20_000,
  };
}

/** Consumer configurations. */
export const consumerConfigs = {
  /** Created by the api-gateway when a workflow using the activity is registered, and by workers when missing. */
  task: (activity: string, ackWaitMs = DEFAULT_TASK_ACK_WAIT_MS): Partial<ConsumerConfig> =>
    durablePull(consumers.task(activity), subjects.task(activity), ackWaitMs),
  /** Read by the orchestrators, bounded like the commands (their outcomes wait in the same queues). */
  results: (ackWaitMs = DEFAULT_ACK_WAIT_MS, maxAckPending = 20_000): Partial<ConsumerConfig> => ({
    ...durablePull(consumers.results, subjects.allResults, ackWaitMs),
    max_ack_pending: maxAckPending,
  }),
  /**
   * `maxAckPending` bounds the commands the orchestrators hold unacknowledged (and so their
   * memory): the client's own pull limit does not, because it keeps pulling as it acks.
   */
  commands: (ackWaitMs = DEFAULT_ACK_WAIT_MS, maxAckPending = 20_000): Partial<ConsumerConfig> => ({
    ...durablePull(consumers.commands, subjects.allCommands, ackWaitMs),
    max_ack_pending: maxAckPending,
  }),
  eventEffects: (ackWaitMs = DEFAULT_ACK_WAIT_MS): Partial<ConsumerConfig> =>
    durablePull(consumers.eventEffects, subjects.allEvents, ackWaitMs),
  /** Timers are NAKed with a delay until due, so many are pending at once. */
  timers: (ackWaitMs = DEFAULT_ACK_WAIT_MS): Partial<ConsumerConfig> => ({
    ...durablePull(consumers.timers, subjects.allTimers, ackWaitMs),
    max_ack_pending: 1_000_000,
  }),
} as const;

/** Bucket settings; `history: 1` because snapshots and definitions are versioned by us, not by KV. */
export const bucketConfigs = {
  definitions: (o: ResourceOptions = {}) => ({
    history: 1,
    replicas: o.replicas ?? 1,
    storage: "file" as const,
  }),
  instances: (o: ResourceOptions = {}) => ({
    history: 1,
    replicas: o.replicas ?? 1,
    storage: "file" as const,
  }),
  heartbeats: (o: ResourceOptions = {}) => ({
    history: 1,
    replicas: o.replicas ?? 1,
    storage: "file" as const,
    // A heartbeat record is useless a day after its task ended.
    ttl: 24 * 3600 * 1000,
  }),
  /** Owned by state-manager: one small summary per top-level execution, kept as long as its history. */
  executions: (o: ResourceOptions = {}) => ({
    history: 1,
    replicas: o.replicas ?? 1,
    storage: "file" as const,
  }),
  /** Owned by api-gateway (Step Functions API): a few small records. */
  sfnActivities: (o: ResourceOptions = {}) => ({
    history: 1,
    replicas: o.replicas ?? 1,
    storage: "file" as const,
  }),
  /** Owned by api-gateway: one small record per schedule, updated by compare-and-set. */
  schedules: (o: ResourceOptions = {}) => ({
    history: 1,
    replicas: o.replicas ?? 1,
    storage: "file" as const,
  }),
  /** Owned by api-gateway: the scheduler lease; an entry not renewed within `ttl` ms expires. */
  schedulerLease: (o: ResourceOptions & { leaseMs?: number } = {}) => ({
    history: 1,
    replicas: o.replicas ?? 1,
    storage: "file" as const,
    ttl: o.leaseMs ?? 10_000,
  }),
  /** Owned by api-gateway (Step Functions API): one tombstone per deleted state machine. */
  sfnDeletedStateMachines: (o: ResourceOptions = {}) => ({
    history: 1,
    replicas: o.replicas ?? 1,
    storage: "file" as const,
  }),
  /** Owned by state-manager: the purger's lease, one small key. */
  retention: (o: ResourceOptions = {}) => ({
    history: 1,
    replicas: o.replicas ?? 1,
    storage: "file" as const,
  }),
  /** Owned by api-gateway: one record per bulk operation, rewritten after each batch; kept 30 days. */
  bulkOperations: (o: ResourceOptions = {}) => ({
    history: 1,
    replicas: o.replicas ?? 1,
    storage: "file" as const,
    ttl: 30 * 24 * 3600 * 1000,
  }),
} as const;

/** JetStream API error code of "stream name already in use" (not among nats.js's named codes). */
export const STREAM_NAME_IN_USE = 10058;

/** True when `err` is a JetStream API error with this error code. */
export function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/**
 * Creates the stream, or updates it to `config` when it exists. Idempotent. For the stream's
 * owner only: anyone else would impose its own settings (replicas...) on the owner's stream.
 */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig>): Promise<void> {
  const name = config.name;
  if (!name) throw new Error("ensureStream: config.name is required");
  if (!(await streamExists(jsm, name))) {
    try {
      await jsm.streams.add({ ...config, name });
      return;
    } catch (err) {
      // Another replica created it between our look-up and our add: fall through to update.
      if (!isApiError(err, STREAM_NAME_IN_USE)) throw err;
    }
  }
  await jsm.streams.update(name, config);
}

/**
 * Creates the stream only when it is missing, leaving an existing one as its owner configured it.
 * For services that use a stream another service owns: services start in any order.
 */
export async function ensureStreamExists(
  jsm: JetStreamManager,
  config: Partial<StreamConfig>,
): Promise<void> {
  const name = config.name;
  if (!name) throw new Error("ensureStreamExists: config.name is required");
  if (await streamExists(jsm, name)) return;
  try {
    await jsm.streams.add({ ...config, name });
  } catch (err) {
    if (!isApiError(err, STREAM_NAME_IN_USE)) throw err;
  }
}

async function streamExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    await jsm.streams.info(name);
    return true;
  } catch (err) {
    if (isApiError(err, JetStreamApiCodes.StreamNotFound)) return false;
    throw err;
  }
}

/**
 * Opens a KV bucket, creating it with `options` when it does not exist yet (an existing bucket
 * keeps its owner's settings). Safe when several services start together.
 */
export async function openOrCreateBucket(
  nc: NatsConnection,
  name: string,
  options: Partial<KvOptions>,
): Promise<KV> {
  const kvm = new Kvm(jetstream(nc));
  try {
    return await kvm.create(name, options);
  } catch (err) {
    // Created by someone else between the look-up and the add, with other settings: use it.
    if (!isApiError(err, STREAM_NAME_IN_USE)) throw err;
    return kvm.open(name);
  }
}

/** Creates or updates a durable consumer. Idempotent; safe when replicas start together. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig>,
): Promise<void> {
  // consumers.add with an existing durable name and the same config succeeds; with a changed
  // config it fails, and then we update the mutable fields.
  try {
    await jsm.consumers.add(stream, config);
  } catch (err) {
    const name = config.durable_name;
    if (!name) throw err;
    await jsm.consumers.update(stream, name, config);
  }
}
