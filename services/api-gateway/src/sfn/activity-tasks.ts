/**
 * Activity workers over HTTP: GetActivityTask takes one Task from the activity's shared consumer
 * (`tasks-<token>`, the one jetflow's own workers pull from) and acks its message once the answer
 * carrying it has been written to the worker: from then on the task is the worker's, as in AWS,
 * and nothing about it stays in this gateway. SendTaskSuccess/Failure publish the TaskResult on the
 * results subject exactly as a worker does (Nats-Msg-Id = token) and SendTaskHeartbeat sends a
 * worker's heartbeat, each found from the token alone (its execution's snapshot names the
 * activity), so any gateway replica answers them, before or after a restart of the one that
 * handed the task out.
 *
 * The rules are a worker's: at-least-once up to the hand-out (a gateway that dies before its
 * answer is written lets the task be redelivered after the consumer's ack wait), one result per
 * attempt (the engine drops duplicates and stale results), and the state's TimeoutSeconds /
 * HeartbeatSeconds time the attempt out when the worker goes silent.
 */
import {
  ExecutionStatus,
  Task,
  TaskResult,
  consumers,
  decode,
  encode,
  streams,
  subjects,
} from "@jetflow/contracts";
import { parseTaskToken } from "@jetflow/engine";
import type { Logger } from "@jetflow/service-runtime";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { Executions } from "../executions";
import { ensureTaskConsumers } from "../task-consumers";

/** A task's outcome: an output or a failure (TaskResult's oneof without the heartbeat). */
export type TaskOutcome = Exclude<NonNullable<TaskResult["outcome"]>, { $case: "heartbeat" }>;
import { SfnError } from "./errors";

export interface ActivityTasksOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  executions: Executions;
  log: Logger;
  /** Longest wait of one GetActivityTask, in ms. Default 60000 (AWS's). */
  pollMs?: number;
}

/** How long each pull waits before checking whether the caller went away. */
const PULL_SLICE_MS = 5_000;
/** Worker id recorded when the task was answered through a gateway that did not hand it out. */
const UNKNOWN_WORKER = "sfn-api";
/** Worker names remembered for the answer's TaskResult (a best effort: this gateway's hand-outs). */
const MAX_WORKER_NAMES = 10_000;

export class ActivityTasks {
  /** Task token → the `workerName` it was handed out to, by this gateway; oldest first. */
  private readonly workerNames = new Map<string, string>();
  private readonly consumersReady = new Set<string>();
  private stopped = false;

  constructor(private readonly o: ActivityTasksOptions) {}

  /**
   * Waits up to the poll time for a task of `activity`. Resolves with `{}` when none came (AWS
   * answers an empty token) or when `gone()` turned true meanwhile (the client left: a task taken
   * then is handed back at once with a NAK). `delivered` is told whether the answer reached the
   * client: the task's message is acked then, or handed back.
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
      // A fresh ack wait for writing the answer.
      msg.working();
      delivered((sent) => this.settle(msg, task.taskToken, sent));
      this.rememberWorker(task.taskToken, workerName);
      this.o.log.debug({ activity, taskToken: task.taskToken, workerName }, "activity task handed out");
      return { taskToken: task.taskToken, input: task.inputJson || "{}" };
    }
    return {};
  }

  /** Acks a handed-out task once its answer was written, or hands it back when it was not. */
  private settle(msg: JsMsg, taskToken: string, sent: boolean): void {
    if (!sent) {
      this.workerNames.delete(taskToken);
      msg.nak();
      return;
    }
    msg.ackAck().catch((err: unknown) => {
      // Redelivered after the ack wait: the same attempt, handed out again (at least once).
      this.o.log.warn({ err, taskToken }, "ack of a handed-out activity task failed");
    });
  }

  private rememberWorker(taskToken: string, workerName: string): void {
    this.workerNames.delete(taskToken);
    this.workerNames.set(taskToken, workerName);
    if (this.workerNames.size > MAX_WORKER_NAMES) {
      const oldest = this.workerNames.keys().next().value;
      if (oldest !== undefined) this.workerNames.delete(oldest);
    }
  }

  /**
   * Completes a task by token the way a worker does: the result on the results subject of the
   * task's activity (found from the token's execution), on any gateway.
   * @throws SfnError InvalidToken, TaskDoesNotExist (unknown execution), TaskTimedOut (the attempt
   *   is no longer running)
   */
  async complete(taskToken: string, outcome: TaskOutcome): Promise<void> {
    const activity = await this.currentActivity(taskToken);
    const result = encode(TaskResult, {
      taskToken,
      outcome,
      workerId: this.workerNames.get(taskToken) || UNKNOWN_WORKER,
      completedTime: new Date(),
    });
    // Nats-Msg-Id = token: answering twice (or a native worker answering too) stores one result.
    await this.o.js.publish(subjects.result(activity), result, { msgID: taskToken });
    this.workerNames.delete(taskToken);
  }

  /**
   * Records a heartbeat of a task. @throws SfnError TaskTimedOut when the attempt is no longer
   * current (timed out, retried, or its execution stopped), InvalidToken, TaskDoesNotExist
   */
  async heartbeat(taskToken: string): Promise<void> {
    await this.currentActivity(taskToken);
    const cancelRequested = await this.o.executions.heartbeat(taskToken);
    if (cancelRequested) {
      this.workerNames.delete(taskToken);
      throw new SfnError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'");
    }
  }

  /** Stops polling; a task taken by a poll still waiting for its answer to be written is handed back. */
  stop(): void {
    this.stopped = true;
  }

  /** The activity of the task `taskToken` names, when that attempt is the running one. */
  private async currentActivity(taskToken: string): Promise<string> {
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
      this.workerNames.delete(taskToken);
      throw new SfnError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'");
    }
    return phase.value.activity;
  }

  private async consumerOf(activity: string) {
    if (!this.consumersReady.has(activity)) {
      // Normally made at RegisterWorkflow; an existing one (a worker's ack wait) is never changed.
      await ensureTaskConsumers(this.o.jsm, [activity]);
      this.consumersReady.add(activity);
    }
    return this.o.js.consumers.get(streams.tasks, consumers.task(activity));
  }
}
