/**
 * Activity workers over HTTP: GetActivityTask takes one Task from the activity's shared consumer
 * (`tasks-<token>`, the one jetflow's own workers pull from) and keeps it in progress while it is
 * handed out; SendTaskSuccess/Failure publish the TaskResult on the results subject exactly as a
 * worker does (Nats-Msg-Id = token), and only once JetStream stored it ack the Task message.
 * Any gateway replica answers SendTask* (the token's execution names the activity); the one
 * holding the message lets it go when its sweep sees the attempt is over.
 *
 * So the rules are a jetflow worker's: at-least-once (a gateway that dies while holding a task
 * lets it be redelivered after the consumer's ack wait, and a task whose answer could not be
 * written to the poller is handed back at once), one result per attempt (the engine drops
 * duplicates and stale results), and the state's TimeoutSeconds / HeartbeatSeconds time the
 * attempt out.
 */
import {
  DEFAULT_TASK_ACK_WAIT_MS,
  ExecutionStatus,
  Task,
  TaskResult,
  consumers,
  decode,
  encode,
  streams,
  subjects,
} from "@jetflow/contracts";
import { resultHeaders } from "@jetflow/contracts/internal";
import { parseTaskToken } from "@jetflow/engine";
import type { Logger } from "@jetflow/service-runtime";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { Executions } from "../executions";
import { ensureTaskConsumers } from "../task-consumers";

/** A task's outcome: an output or a failure (TaskResult's oneof without the heartbeat). */
export type TaskOutcome = Exclude<NonNullable<TaskResult["outcome"]>, { $case: "heartbeat" }>;
import { SfnError } from "./errors";

/** A task handed out by GetActivityTask and not yet answered. */
interface Handout {
  msg: JsMsg;
  workerName: string;
  /** When it was handed out (epoch ms). */
  since: number;
  /** Sends in-progress acks; cleared when the task is answered or its deadline passes. */
  keepAlive: NodeJS.Timeout;
  /** Gives the message up at the attempt's deadline: the engine has timed it out by then. */
  expiry: NodeJS.Timeout | undefined;
}

export interface ActivityTasksOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  executions: Executions;
  log: Logger;
  /** Longest wait of one GetActivityTask, in ms. Default 60000 (AWS's). */
  pollMs?: number;
  /** How often held tasks are checked for being still current, in ms. Default 30000. */
  sweepMs?: number;
}

/** How long each pull waits before checking whether the caller went away. */
const PULL_SLICE_MS = 5_000;
/**
 * How often held tasks are checked against their execution: one answered through jetflow's own
 * API (or stopped, or timed out without a deadline of its own) is then let go.
 */
const SWEEP_MS = 30_000;
/** Worker id recorded when the task was answered through a gateway that did not hand it out. */
const UNKNOWN_WORKER = "sfn-api";

export class ActivityTasks {
  private readonly handouts = new Map<string, Handout>();
  private readonly consumersReady = new Set<string>();
  private stopped = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly o: ActivityTasksOptions) {
    this.sweeper = setInterval(() => void this.sweep(), o.sweepMs ?? SWEEP_MS);
    this.sweeper.unref();
  }

  /**
   * Waits up to the poll time for a task of `activity`. Resolves with `{}` when none came (AWS
   * answers an empty token) or when `gone()` turned true meanwhile (the client left: a task taken
   * then is handed back at once with a NAK). `delivered` is told whether the answer reached the
   * client: a task whose answer was not written is handed back at once.
   */
  async next(
    activity: string,
    workerName: string,
    gone: () => boolean,
    delivered: (settle: (sent: boolean) => void) => void,
  ): Promise<{ taskToken?: string; input?: string }> {
    const consumer = await this.consumerOf(activity);
    const deadline = Date.now() + (this.o.pollMs ?? 60_000);
    while (!this.stopped && !gone()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      // nats.js 3 wants expires of at least 1 s.
      const msg = await consumer.next({ expires: Math.max(1_000, Math.min(PULL_SLICE_MS, remaining)) });
      if (msg === null) continue;
      if (gone() || this.stopped) {
        msg.nak();
        break;
      }
      let task: Task;
      try {
        task = decode(Task, "jetflow.v1.Task", msg.data, msg.subject);
      } catch (err) {
        // The SDK parks such a task; leave that to a worker of the SDK and let this one go.
        this.o.log.error({ err, activity, seq: msg.seq }, "undecodable task handed back");
        msg.nak(PULL_SLICE_MS);
        continue;
      }
      this.hold(task, msg, workerName, await this.ackWaitMs(consumer));
      delivered((sent) => {
        if (!sent) this.handBack(task.taskToken);
      });
      this.o.log.debug({ activity, taskToken: task.taskToken, workerName }, "activity task handed out");
      return { taskToken: task.taskToken, input: task.inputJson || "{}" };
    }
    return {};
  }

  /**
   * Completes a task by token the way a worker does: the result on the results subject of the
   * task's activity, then the ack of the Task message (when this gateway handed it out).
   * @throws SfnError InvalidToken, TaskDoesNotExist (unknown execution), TaskTimedOut (the attempt
   *   is no longer running)
   */
  async complete(taskToken: string, outcome: TaskOutcome): Promise<void> {
    const attempt = await this.currentAttempt(taskToken);
    const handout = this.handouts.get(taskToken);
    const result = encode(TaskResult, {
      taskToken,
      outcome,
      workerId: handout?.workerName || UNKNOWN_WORKER,
      completedTime: new Date(),
    });
    // Nats-Msg-Id = token: answering twice (or a native worker answering too) stores one result.
    // The workflow and state headers name the task in the result-ingestor's log lines, as an SDK's do.
    await this.o.js.publish(subjects.result(attempt.activity), result, {
      msgID: taskToken,
      headers: resultHeaders(attempt),
    });
    if (handout !== undefined) {
      this.release(taskToken);
      await handout.msg.ackAck().catch((err: unknown) => {
        // The result is stored; a redelivered task is then a stale attempt the engine drops.
        this.o.log.warn({ err, taskToken }, "ack of an answered activity task failed");
      });
    }
  }

  /**
   * Records a heartbeat of a task. @throws SfnError TaskTimedOut when the attempt is no longer
   * current (timed out, retried, or its execution stopped), InvalidToken, TaskDoesNotExist
   */
  async heartbeat(taskToken: string): Promise<void> {
    await this.currentAttempt(taskToken);
    const cancelRequested = await this.o.executions.heartbeat(taskToken);
    if (cancelRequested) {
      this.abandon(taskToken);
      throw new SfnError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'");
    }
  }

  /** Stops polling and lets every handed-out task be redelivered (to a worker or another gateway). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.sweeper);
    for (const [token, handout] of this.handouts) {
      this.release(token);
      handout.msg.nak();
    }
  }

  /** Lets go of every held task whose attempt is no longer the running one. */
  private async sweep(): Promise<void> {
    // A snapshot may lag the event that scheduled a task: only tasks held a while are checked.
    const before = Date.now() - (this.o.sweepMs ?? SWEEP_MS);
    for (const [token, handout] of [...this.handouts]) {
      if (handout.since > before) continue;
      try {
        await this.currentAttempt(token);
      } catch (err) {
        // currentAttempt has let the task go when it is stale; an unreachable engine is retried.
        if (!(err instanceof SfnError)) this.o.log.debug({ err, taskToken: token }, "held task check failed");
      }
    }
  }

  /**
   * The activity of the task `taskToken` names, with its workflow and state, when that attempt
   * is the running one.
   */
  private async currentAttempt(
    taskToken: string,
  ): Promise<{ activity: string; workflowName: string; stateName: string }> {
    let executionId: string;
    try {
      executionId = parseTaskToken(taskToken).executionId;
    } catch {
      throw new SfnError("InvalidToken", `Invalid Token: '${taskToken.slice(0, 200)}'`);
    }
    const snapshot = await this.o.executions.load(executionId);
    if (snapshot === undefined) {
      throw new SfnError("TaskDoesNotExist", `Task does not exist: '${taskToken.slice(0, 200)}'`);
    }
    const phase = snapshot.active?.phase;
    if (
      snapshot.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING ||
      phase?.$case !== "task" ||
      phase.value.taskToken !== taskToken
    ) {
      this.abandon(taskToken);
      throw new SfnError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'");
    }
    return {
      activity: phase.value.activity,
      workflowName: snapshot.workflowName,
      stateName: snapshot.active?.name ?? "",
    };
  }

  private async consumerOf(activity: string) {
    if (!this.consumersReady.has(activity)) {
      // Normally made at RegisterWorkflow; an existing one (a worker's ack wait) is never changed.
      await ensureTaskConsumers(this.o.jsm, [activity]);
      this.consumersReady.add(activity);
    }
    return this.o.js.consumers.get(streams.tasks, consumers.task(activity));
  }

  private async ackWaitMs(consumer: Awaited<ReturnType<ActivityTasks["consumerOf"]>>): Promise<number> {
    try {
      const info = await consumer.info(true);
      return (info.config.ack_wait ?? 0) / 1_000_000 || DEFAULT_TASK_ACK_WAIT_MS;
    } catch {
      return DEFAULT_TASK_ACK_WAIT_MS;
    }
  }

  private hold(task: Task, msg: JsMsg, workerName: string, ackWaitMs: number): void {
    const token = task.taskToken;
    // Three in-progress acks per ack wait, like the SDK: one may be late without losing the task.
    const keepAlive = setInterval(() => msg.working(), Math.max(100, Math.floor(ackWaitMs / 3)));
    keepAlive.unref();
    const deadline = task.startToCloseDeadline?.getTime();
    const expiry =
      deadline === undefined || deadline === 0
        ? undefined
        : setTimeout(() => this.abandon(token), Math.max(0, deadline - Date.now()));
    expiry?.unref();
    this.release(token);
    this.handouts.set(token, { msg, workerName, since: Date.now(), keepAlive, expiry });
  }

  /**
   * Gives up a handed-out task whose attempt is over (timed out, stopped): it is acked, because
   * the engine no longer waits for it and a redelivery would only hand out a stale attempt.
   */
  private abandon(taskToken: string): void {
    const handout = this.handouts.get(taskToken);
    if (handout === undefined) return;
    this.release(taskToken);
    handout.msg.ack();
  }

  /** Gives back a task whose answer never reached its poller: redelivered at once, to anyone. */
  private handBack(taskToken: string): void {
    const handout = this.handouts.get(taskToken);
    if (handout === undefined) return;
    this.release(taskToken);
    handout.msg.nak();
  }

  private release(taskToken: string): void {
    const handout = this.handouts.get(taskToken);
    if (handout === undefined) return;
    clearInterval(handout.keepAlive);
    if (handout.expiry !== undefined) clearTimeout(handout.expiry);
    this.handouts.delete(taskToken);
  }
}
