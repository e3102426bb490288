import { setTimeout as delay } from "node:timers/promises";
import {
  DeadLetter,
  Task,
  TaskCancellation,
  TaskHeartbeatReply,
  TaskResult,
  consumerConfigs,
  decode,
  encode,
  streams,
  subjects,
} from "@jetflow/contracts";
import {
  explainJetStreamError,
  resultHeaders,
  startDurableConsumer,
  startTraceSpan,
  traceParentHeader,
  withTraceSpan,
} from "@jetflow/contracts/internal";
import type { DurableConsumer, TraceSpan } from "@jetflow/contracts/internal";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { LazyAbort } from "./lazy-abort";
import { TaskAbortedError } from "./errors";
import type { Logger } from "./logger";
import { outcomeLabel } from "./metrics";
import type { TaskObserver } from "./metrics";
import { failureOutcome, parseInput, successOutcome, tooLargeOutcome } from "./outcome";
import type { TaskOutcome } from "./outcome";
import type { TaskContext, TaskHandler } from "./types";

/** Everything one activity's runner needs, resolved from the worker's options. */
export interface ActivityRunnerOptions {
  activity: string;
  handler: TaskHandler<never>;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  workerId: string;
  concurrency: number;
  ackWaitMs: number;
  heartbeatTimeoutMs: number;
  pullExpiresMs: number;
  /** Where task metrics go; none when the worker has no metrics. */
  observer?: TaskObserver;
}

/** One task being handled: its message, its abort switch and whether it was handed back. */
interface Running {
  readonly msg: JsMsg;
  /** Fires `ctx.signal`; the signal is made only if the handler reads it. */
  readonly controller: LazyAbort;
  token?: string;
  /** Set once the task was NAKed by `stop()`: the result of the handler must not be published. */
  abandoned: boolean;
  done?: Promise<void>;
  /** The attempt's span, child of the execution's trace when the task carries one. */
  span?: TraceSpan;
}

const DEAD_LETTER_SERVICE = "worker";
/** How long a task that could not be parked waits before it is offered again. */
const PARK_RETRY_DELAY_MS = 30_000;
const MAX_BACKOFF_MS = 5_000;
/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Pulls the tasks of one activity and runs its handler on them, never more than `concurrency` at
 * once, with the shared durable consume loop in `fetch` mode: it only ever asks the server for as
 * many tasks as it has free slots, so no task waits in a client-side buffer while its ack wait
 * runs out; it keeps running tasks alive with in-progress acks, recreates a deleted consumer and
 * pulls again within seconds after a lost pull.
 */
export class ActivityRunner {
  private readonly running = new Set<Running>();
  private readonly byToken = new Map<string, Running>();
  private readonly stopController = new AbortController();
  private tasks?: DurableConsumer;
  private cancelSub?: Subscription;
  private stopping = false;

  constructor(private readonly o: ActivityRunnerOptions) {}

  /** The number of tasks being handled now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** True while the task consumer is being pulled. */
  ready(): boolean {
    return this.tasks?.ready() ?? false;
  }

  /** Ensures the durable consumer, listens for cancellations, starts pulling. */
  async start(): Promise<void> {
    this.cancelSub = this.o.nc.subscribe(subjects.taskCancel(this.o.activity), {
      callback: (err, msg) => {
        if (!err) this.onCancellation(msg.data, msg.subject);
      },
    });
    this.tasks = await startDurableConsumer({
      nc: this.o.nc,
      stream: streams.tasks,
      config: consumerConfigs.task(this.o.activity, this.o.ackWaitMs),
      maxInFlight: this.o.concurrency,
      handle: (msg) => this.accept(msg),
      log: this.o.log,
      pull: "fetch",
      pullExpiresMs: this.o.pullExpiresMs,
      // A task may run for hours: it is kept alive until its handler ends (its deadline bounds it).
      maxHoldMs: Number.POSITIVE_INFINITY,
    });
  }

  /**
   * Stops pulling, waits for running handlers until `deadline` (ms since the epoch), then NAKs the
   * tasks still running so another worker takes them, and fires their signals.
   */
  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    this.stopController.abort();
    await this.tasks?.close();
    const pending = [...this.running].map((r) => r.done);
    const remainingMs = Math.max(0, deadline - Date.now());
    const timeout = new AbortController();
    await Promise.race([
      Promise.allSettled(pending),
      delay(remainingMs, undefined, { signal: timeout.signal }),
    ]).catch(() => {});
    timeout.abort();
    for (const r of this.running) {
      r.abandoned = true;
      r.msg.nak();
      r.controller.abort(
        new TaskAbortedError(
          "shutdown",
          r.token ?? "",
          `task "${r.token ?? ""}" was handed back: the worker is stopping`,
        ),
      );
      this.o.log.warn({ activity: this.o.activity, taskToken: r.token }, "task handed back to the server");
    }
    this.cancelSub?.unsubscribe();
    // The NAKs must reach the server before the caller closes the connection.
    if (!this.o.nc.isClosed()) await this.o.nc.flush().catch(() => {});
  }

  private accept(msg: JsMsg): void {
    if (this.stopping) {
      // Delivered after stop() closed the pull: give it straight back.
      msg.nak();
      return;
    }
    const r: Running = { msg, controller: new LazyAbort(), abandoned: false };
    this.running.add(r);
    r.done = this.handle(r)
      .catch((err: unknown) => {
        // handle() reports its own failures; this is a bug guard that keeps the task alive.
        this.o.log.error({ err, activity: this.o.activity, taskToken: r.token }, "task handling failed");
        if (!r.abandoned) msg.nak();
      })
      .finally(() => {
        this.running.delete(r);
        if (r.token !== undefined && this.byToken.get(r.token) === r) this.byToken.delete(r.token);
      });
  }

  private async handle(r: Running): Promise<void> {
    const { msg } = r;
    let task: Task;
    try {
      task = decode(Task, "jetflow.v1.Task", msg.data, msg.subject);
      if (task.taskToken === "") throw new Error("task has no task_token");
    } catch (err) {
      await this.park(msg, err instanceof Error ? err.message : String(err));
      return;
    }
    const token = task.taskToken;
    r.token = token;
    this.byToken.set(token, r);
    const log = this.o.log;
    log.debug({ activity: this.o.activity, taskToken: token, redelivered: msg.redelivered }, "task received");

    // The consume loop keeps the task alive with in-progress acks until it is acked or NAKed.
    let deadlineTimer: NodeJS.Timeout | undefined;
    const deadline = task.startToCloseDeadline;
    const armDeadline = (): void => {
      if (!deadline) return;
      const leftMs = deadline.getTime() - Date.now();
      // setTimeout fires at once beyond 2^31-1 ms (ASL allows far longer timeouts): re-arm instead.
      if (leftMs > MAX_TIMER_MS) {
        deadlineTimer = setTimeout(armDeadline, MAX_TIMER_MS);
        return;
      }
      deadlineTimer = setTimeout(
        () => {
          const message = `task "${token}" passed its deadline ${deadline.toISOString()}`;
          r.controller.abort(new TaskAbortedError("deadline", token, message));
        },
        Math.max(0, leftMs),
      );
    };
    armDeadline();
    const observer = this.o.observer;
    const startedAt = performance.now();
    observer?.started(this.o.activity, task.scheduledTime);
    r.span = startTraceSpan(`task ${this.o.activity}`, {
      parent: traceParentHeader(msg.headers),
      kind: "consumer",
      attributes: {
        "jetflow.activity": this.o.activity,
        "jetflow.attempt": task.attempt,
        "jetflow.execution_id": task.executionId,
        "jetflow.workflow": task.workflowName,
        "jetflow.state": task.stateName,
      },
    });
    let failure: string | undefined;
    try {
      const outcome = await this.run(r, task);
      if (outcome.$case === "failure") failure = outcome.value.error;
      if (!r.abandoned) await this.publishResult(r, task, outcome);
      observer?.ended(
        this.o.activity,
        r.abandoned ? "handed_back" : outcomeLabel(outcome),
        (performance.now() - startedAt) / 1000,
      );
      if (r.abandoned) return;
      // A plain ack: the result is durable, and if the ack is lost a redelivery reruns the handler
      // and its result is dropped as a duplicate. A confirmed ack cost a round trip per task.
      msg.ack();
    } finally {
      clearTimeout(deadlineTimer);
      r.span.end(r.abandoned ? "handed back" : failure);
    }
  }

  private async run(r: Running, task: Task): Promise<TaskOutcome> {
    const input = parseInput(task.inputJson);
    if (!input.ok) return { $case: "failure", value: input.failure };
    const ctx: TaskContext = Object.freeze({
      taskToken: task.taskToken,
      attempt: task.attempt,
      executionId: task.executionId,
      // An engine older than the field sends none: the execution is then taken as top-level.
      rootExecutionId: task.rootExecutionId || task.executionId,
      stateName: task.stateName,
      activity: this.o.activity,
      workflowName: task.workflowName,
      deadline: task.startToCloseDeadline,
      heartbeatIntervalSeconds: task.heartbeatIntervalSeconds,
      get signal() {
        return r.controller.signal;
      },
      heartbeat: () => this.heartbeat(r, task.taskToken),
    });
    let outcome: TaskOutcome;
    try {
      // The attempt's span is the active context of the handler: spans it starts are children.
      const handler = this.o.handler;
      const value: unknown = await (r.span
        ? withTraceSpan(r.span, () => handler(input.value as never, ctx))
        : handler(input.value as never, ctx));
      outcome = successOutcome(value);
    } catch (err) {
      outcome = failureOutcome(err);
    }
    // Past its deadline the attempt has timed out, whatever the handler made of the abort: a late
    // success must not win the race against the engine's own timeout timer.
    const reason: unknown = r.controller.reason;
    if (reason instanceof TaskAbortedError && reason.kind === "deadline") {
      return { $case: "failure", value: { error: "States.Timeout", cause: reason.message } };
    }
    return outcome;
  }

  /**
   * Publishes the result until JetStream has stored it (or the task was handed back), with headers
   * naming the task's workflow and state (for the result-ingestor's log lines) and its trace.
   */
  private async publishResult(r: Running, task: Task, outcome: TaskOutcome): Promise<void> {
    const token = r.token ?? "";
    const headers = resultHeaders({
      workflowName: task.workflowName,
      stateName: task.stateName,
      traceParent: r.span?.traceParent,
    });
    let bytes = this.encodeResult(token, outcome);
    const maxPayload = this.o.nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
    if (bytes.length > maxPayload) {
      bytes = this.encodeResult(token, tooLargeOutcome(bytes.length, maxPayload));
    }
    for (let attempt = 1; ; attempt++) {
      try {
        // msgID = token: if a redelivered task is run twice, the server keeps one result.
        const ack = await this.o.js.publish(subjects.result(this.o.activity), bytes, {
          msgID: token,
          headers,
        });
        this.o.log.debug(
          { activity: this.o.activity, taskToken: token, seq: ack.seq, duplicate: ack.duplicate },
          "task result published",
        );
        return;
      } catch (err) {
        if (r.abandoned || this.o.nc.isClosed()) return;
        const backoffMs = Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt);
        this.o.log.warn(
          {
            err: explainJetStreamError(err, streams.results),
            activity: this.o.activity,
            taskToken: token,
            attempt,
          },
          "result publish failed",
        );
        await delay(backoffMs);
        if (r.abandoned) return;
      }
    }
  }

  private encodeResult(token: string, outcome: TaskOutcome): Uint8Array {
    return encode(TaskResult, {
      taskToken: token,
      outcome,
      workerId: this.o.workerId,
      completedTime: new Date(),
    });
  }

  private async heartbeat(r: Running, token: string): Promise<void> {
    if (r.abandoned || !this.running.has(r)) return;
    r.msg.working();
    const request = encode(TaskResult, {
      taskToken: token,
      outcome: { $case: "heartbeat", value: {} },
      workerId: this.o.workerId,
      completedTime: new Date(),
    });
    try {
      const reply = await this.o.nc.request(subjects.heartbeat(this.o.activity), request, {
        timeout: this.o.heartbeatTimeoutMs,
      });
      const { cancelRequested } = decode(
        TaskHeartbeatReply,
        "jetflow.v1.TaskHeartbeatReply",
        reply.data,
        reply.subject,
      );
      if (cancelRequested) {
        this.o.log.info({ activity: this.o.activity, taskToken: token }, "task cancellation requested");
        r.controller.abort(
          new TaskAbortedError(
            "cancelled",
            token,
            `task "${token}" was cancelled: the execution stopped or the attempt is no longer current`,
          ),
        );
      }
    } catch (err) {
      this.o.log.warn({ err, activity: this.o.activity, taskToken: token }, "heartbeat failed");
    }
  }

  private onCancellation(data: Uint8Array, subject: string): void {
    let cancellation: TaskCancellation;
    try {
      cancellation = decode(TaskCancellation, "jetflow.v1.TaskCancellation", data, subject);
    } catch (err) {
      this.o.log.warn({ err, activity: this.o.activity }, "malformed task cancellation ignored");
      return;
    }
    for (const token of cancellation.taskTokens) {
      const r = this.byToken.get(token);
      if (!r) continue;
      this.o.log.info({ activity: this.o.activity, taskToken: token }, "task cancelled");
      const why = cancellation.reason === "" ? "the execution stopped" : cancellation.reason;
      r.controller.abort(new TaskAbortedError("cancelled", token, `task "${token}" was cancelled: ${why}`));
    }
  }

  /** Parks a task that cannot be decoded on the dead-letter subject, then acks it. */
  private async park(msg: JsMsg, reason: string): Promise<void> {
    const log = this.o.log;
    log.error(
      { activity: this.o.activity, subject: msg.subject, seq: msg.seq, reason },
      "malformed task parked",
    );
    const letter = encode(DeadLetter, {
      service: DEAD_LETTER_SERVICE,
      subject: msg.subject,
      data: Buffer.from(msg.data),
      reason,
      parkedTime: new Date(),
    });
    try {
      await this.o.js.publish(subjects.deadLetter(DEAD_LETTER_SERVICE), letter);
    } catch (err) {
      // Keep the message rather than lose it; it is offered again later, not in a tight loop.
      log.error({ err, activity: this.o.activity, seq: msg.seq }, "dead letter publish failed");
      msg.nak(PARK_RETRY_DELAY_MS);
      return;
    }
    await msg.ackAck().catch((err: unknown) => {
      log.warn({ err, activity: this.o.activity, seq: msg.seq }, "ack of parked task failed");
    });
  }
}
