import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "./logger";

/** What a handler knows about the task it runs, and how it talks back while it runs. */
export interface TaskContext {
  /** Identifies this attempt of this task; the engine applies one result per token. */
  readonly taskToken: string;
  /** 1 for the first attempt, incremented by each ASL retry. */
  readonly attempt: number;
  /** The execution running the state: top-level, or a child (a Parallel branch, a Map iteration). */
  readonly executionId: string;
  /**
   * The top-level execution the task belongs to (`executionId` itself when it is top-level): the
   * key for idempotency per execution.
   */
  readonly rootExecutionId: string;
  /** The ASL state that scheduled the task. */
  readonly stateName: string;
  /** The activity (the Task state's Resource) this handler is registered for. */
  readonly activity: string;
  readonly workflowName: string;
  /** When the engine gives up on this attempt (ASL TimeoutSeconds); undefined means no deadline. */
  readonly deadline?: Date;
  /** How often the engine expects `heartbeat()` (ASL HeartbeatSeconds); 0 means never. */
  readonly heartbeatIntervalSeconds: number;
  /**
   * Fires when the handler should give up: the execution was stopped or the attempt is no longer
   * current, the deadline passed, or the worker is stopping. Its `reason` is a `TaskAbortedError`.
   */
  readonly signal: AbortSignal;
  /**
   * Tells the engine the task is still alive and asks whether it should stop; when it should,
   * `signal` fires. Best effort: never rejects (a failed heartbeat is logged at warn).
   */
  heartbeat(): Promise<void>;
}

/**
 * Runs one task. `input` is the task's parsed JSON input: declare the type you expect. Return the
 * output (any JSON value; `undefined` becomes `null`) or throw: an error whose `name` is an ASL error
 * name (`PaymentDeclined`) is matched by Retry and Catch, anything else becomes `States.TaskFailed`.
 */
export type TaskHandler<I = unknown> = (input: I, ctx: TaskContext) => unknown;

/**
 * Handlers by activity name. The input type is left to each handler (`never` here accepts any
 * declared input type).
 */
export type TaskHandlers = Readonly<Record<string, TaskHandler<never>>>;

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  /** The connection to use. The worker never closes or drains it. */
  nc: NatsConnection;
  /**
   * One handler per activity, by any name Step Functions accepts for an activity
   * (`billing.charge-card`, `envoyer-reçu`); its subjects carry it encoded (see the worker docs).
   */
  handlers: TaskHandlers;
  /** Most handlers running at once, per activity. Default 10. */
  concurrency?: number;
  /**
   * Ack wait of the activity's task consumer, in milliseconds: a task whose worker goes silent this
   * long goes to another worker. Running handlers are kept alive every third of it. Default 10_000:
   * short, so that the tasks of a worker killed mid-task run elsewhere within seconds; a handler
   * that blocks the event loop for longer gets its task run twice (its second result is dropped).
   */
  ackWaitMs?: number;
  /** How long `stop()` waits for running handlers before handing their tasks back, in ms. Default 20_000. */
  stopTimeoutMs?: number;
  /** How long `ctx.heartbeat()` waits for its reply, in milliseconds. Default 5_000. */
  heartbeatTimeoutMs?: number;
  /**
   * How long one pull for tasks stays open on the server, in ms (at least 1_000). Default 5_000:
   * a pull lost to a leader change or a dead connection is replaced within seconds.
   */
  pullExpiresMs?: number;
  /**
   * Replicas of the task and dead-letter streams when this worker is the first to create them.
   * Existing streams are never changed. Default 1.
   */
  replicas?: number;
  /**
   * Create the task and dead-letter streams when they are missing (a worker may start before the
   * dispatcher). Default true; false for a least-privilege NATS user that may not create streams.
   */
  ensureStreams?: boolean;
  /** Where the worker reports what it does. Default: silent. */
  logger?: Logger;
  /** Identifies this worker in results, for diagnostics. Default `<hostname>-<pid>-<random>`. */
  workerId?: string;
}

/** A worker made by {@link createWorker}. */
export interface Worker {
  /** The id sent with every result. */
  readonly workerId: string;
  /**
   * Creates the task stream and consumers if missing and starts pulling tasks.
   * @throws WorkerError when called twice or when NATS refuses the set-up
   */
  start(): Promise<void>;
  /**
   * Stops pulling, waits for running handlers (at most `stopTimeoutMs`), then hands the tasks of
   * unfinished handlers back to the server for another worker and fires their `signal`. Idempotent.
   */
  stop(): Promise<void>;
  /** The number of handlers running now, over all activities. */
  inFlight(): number;
  /**
   * True while every activity's task consumer is being pulled: false before `start()`, after
   * `stop()`, and while a consumer is missing, without a leader or unreachable (the worker
   * recovers by itself; use this for a readiness probe).
   */
  ready(): boolean;
}
