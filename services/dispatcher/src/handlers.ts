import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { DecodeError, EventBatch, Timer, decode } from "@jetflow/contracts";
import {
  InvalidBatchError,
  InvalidTimerError,
  canGoStale,
  decideTimer,
  isStale,
  parseHeartbeatMs,
  planEffects,
  timerFiredEffect,
  validateTimer,
} from "@jetflow/engine";
import type { Effect } from "@jetflow/engine";
import { parkDeadLetter, performEffects } from "./publish";
import type { DispatcherStats } from "./stats";

/** What the message handlers share. */
export interface HandlerContext {
  js: JetStreamClient;
  nc: NatsConnection;
  log: Logger;
  stats: DispatcherStats;
  /** NAK delay of a message whose effects failed, in milliseconds. */
  retryDelayMs: number;
}

/**
 * Handles one EventBatch message: performs its effects, waits for every publish ack, then acks the
 * batch. A batch that cannot be decoded or planned is dead-lettered and acked; a failed publish
 * NAKs the batch for a retry of all its effects (they are de-duplicated).
 */
export function createBatchHandler(ctx: HandlerContext): (msg: JsMsg) => Promise<void> {
  return async (msg) => {
    let effects: Effect[];
    let batch: EventBatch;
    try {
      batch = decode(EventBatch, "EventBatch", msg.data, msg.subject);
      effects = planEffects(batch, msg.subject, msg.seq, msg.data);
    } catch (err) {
      if (!(err instanceof DecodeError || err instanceof InvalidBatchError)) throw err;
      await deadLetter(ctx, msg, err);
      return;
    }
    try {
      const duplicates = await performEffects(ctx.js, ctx.nc, effects, batch.traceParent);
      ctx.stats.effects += effects.length;
      ctx.stats.duplicates += duplicates;
    } catch (err) {
      retry(ctx, msg, err, "cannot perform the effects of a batch");
      return;
    }
    await ack(ctx, msg);
    ctx.stats.batches += 1;
    ctx.log.debug(
      { executionId: batch.executionId, seq: msg.seq, effects: effects.length },
      "batch dispatched",
    );
  };
}

/** Options of the timer handler besides the shared context. */
export interface TimerHandlerOptions {
  /** The heartbeat bucket (key: task token, value: last heartbeat in epoch ms as decimal text). */
  heartbeats: KV;
  /** Longest single NAK delay, in milliseconds. */
  maxDelayMs: number;
  /** The clock, in epoch milliseconds. */
  now: () => number;
  /** How long after its deadline a task or heartbeat timeout fires, in milliseconds. */
  timeoutGraceMs: number;
  /**
   * The stream sequence of an execution's last batch (0 when it has none): a due timer armed by
   * an earlier batch is stale and dropped without a command.
   */
  lastBatchSeq: (executionId: string) => Promise<number>;
}

/**
 * Handles one Timer message: NAKs it with the time left when not due (after consulting the last
 * heartbeat for a heartbeat timeout), else publishes TimerFired, waits for the ack, then acks.
 */
export function createTimerHandler(
  ctx: HandlerContext,
  options: TimerHandlerOptions,
): (msg: JsMsg) => Promise<void> {
  return async (msg) => {
    let timer: Timer;
    try {
      timer = decode(Timer, "Timer", msg.data, msg.subject);
      validateTimer(timer, msg.subject);
    } catch (err) {
      if (!(err instanceof DecodeError || err instanceof InvalidTimerError)) throw err;
      await deadLetter(ctx, msg, err);
      return;
    }
    try {
      const clock = { maxDelayMs: options.maxDelayMs, timeoutGraceMs: options.timeoutGraceMs };
      let decision = decideTimer(timer, { ...clock, nowMs: options.now() });
      if (decision.action !== "delay" && isStale(timer, await armedStateEnded(timer, options))) {
        // Its state ended after the timer was armed (the task finished, the wait was stopped):
        // firing it would only cost a command and a decision that drops it.
        await ack(ctx, msg);
        ctx.stats.timersStale += 1;
        ctx.log.debug({ timerId: timer.timerId, executionId: timer.executionId }, "stale timer dropped");
        return;
      }
      if (decision.action === "read-heartbeat") {
        const lastMs = await readLastHeartbeatMs(options.heartbeats, timer.taskToken, ctx.log);
        decision = decideTimer(timer, { ...clock, nowMs: options.now(), heartbeat: { lastMs } });
      }
      if (decision.action === "delay") {
        msg.nak(decision.delayMs);
        ctx.stats.timersDelayed += 1;
        ctx.log.debug({ timerId: timer.timerId, delayMs: decision.delayMs }, "timer not due");
        return;
      }
      ctx.stats.duplicates += await performEffects(ctx.js, ctx.nc, [timerFiredEffect(timer)]);
    } catch (err) {
      retry(ctx, msg, err, "cannot fire a timer");
      return;
    }
    await ack(ctx, msg);
    ctx.stats.timersFired += 1;
    ctx.log.debug({ timerId: timer.timerId, executionId: timer.executionId }, "timer fired");
  };
}

/** Whether the execution appended a batch after the one that armed `timer` (see isStale). */
async function armedStateEnded(timer: Timer, options: TimerHandlerOptions): Promise<boolean> {
  if (!canGoStale(timer)) return false;
  return (await options.lastBatchSeq(timer.executionId)) > timer.armedBatchSeq;
}

async function readLastHeartbeatMs(kv: KV, taskToken: string, log: Logger): Promise<number | undefined> {
  const entry = await kv.get(taskToken);
  if (!entry || entry.operation !== "PUT") return undefined;
  const lastMs = parseHeartbeatMs(entry.string());
  if (lastMs === undefined)
    log.warn({ taskToken, revision: entry.revision }, "unreadable heartbeat record ignored");
  return lastMs;
}

async function deadLetter(ctx: HandlerContext, msg: JsMsg, err: Error): Promise<void> {
  try {
    await parkDeadLetter(ctx.js, msg, err.message);
  } catch (parkErr) {
    retry(ctx, msg, parkErr, "cannot park a dead letter");
    return;
  }
  ctx.stats.deadLetters += 1;
  ctx.log.warn({ err, subject: msg.subject, seq: msg.seq }, "message parked as dead letter");
  await ack(ctx, msg);
}

function retry(ctx: HandlerContext, msg: JsMsg, err: unknown, what: string): void {
  ctx.stats.retries += 1;
  ctx.log.warn({ err, subject: msg.subject, seq: msg.seq }, `${what}; retrying`);
  msg.nak(ctx.retryDelayMs);
}

async function ack(_ctx: HandlerContext, msg: JsMsg): Promise<void> {
  // A plain ack, not a confirmed one: the effects are durable already, and an ack that gets lost
  // only means a redelivery whose effects are de-duplicated. Waiting for the confirmation cost
  // a round trip per batch.
  msg.ack();
  return Promise.resolve();
}
