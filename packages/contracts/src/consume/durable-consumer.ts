/**
 * The one loop every jetflow service and the worker SDK pull a durable consumer with. It keeps
 * consuming whatever happens to the consumer or the connection: a deleted consumer is created
 * again from its configuration, a pull that ends or fails is opened again, a lost pull, a leader
 * change or missed heartbeats are noticed within seconds (short pull expiry and idle
 * heartbeats), and it says so at warn naming the stream and consumer. `ready()` is false while
 * it is not consuming.
 */
import { setTimeout as delay } from "node:timers/promises";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { ConsumerConfig, ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ensureConsumer } from "../resources";
import { decideOnFailure, decideOnNotification, reopenDelayMs } from "./consume-decisions";
import type { LoopAction } from "./consume-decisions";
import { HeldMessages } from "./held-messages";
import { countDelivery } from "./delivery-counts";

/** The logger the loop writes to (pino fits; so does the worker SDK's `Logger`). */
export interface LoopLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** How long a pull request waits on the server before the client asks again. */
export const DEFAULT_PULL_EXPIRES_MS = 5_000;
/** How often the server sends a heartbeat on an idle pull; two missed ones count as a stall. */
export const DEFAULT_IDLE_HEARTBEAT_MS = 1_500;
/** Past this a held message is no longer kept alive: it is redelivered (a lost ack, a bug). */
export const DEFAULT_MAX_HOLD_MS = 10 * 60_000;

/** Options of {@link startDurableConsumer}. */
export interface DurableConsumerOptions {
  /** The connection; the loop never closes it. */
  nc: NatsConnection;
  stream: string;
  /**
   * The consumer's configuration, `durable_name` required: ensured (created, or updated when it
   * differs) at start and whenever the consumer is found missing.
   */
  config: Partial<ConsumerConfig>;
  /**
   * Handles one message. The message is held (counted in flight, kept alive with in-progress
   * acks) until it is acked, NAKed or terminated, which may be after the handler returns. A
   * handler that throws before settling its message gets it NAKed.
   */
  handle: (msg: JsMsg) => void | Promise<void>;
  /** The most messages held at once (at least 1). */
  maxInFlight: number;
  log: LoopLogger;
  /**
   * `consume` (default): one continuous pull with up to `maxInFlight` messages buffered, for
   * handlers that take milliseconds. `fetch`: asks only for as many messages as there are free
   * slots, so none waits in a client buffer; for handlers that take long (worker tasks).
   */
  pull?: "consume" | "fetch";
  /** Pull expiry. Default {@link DEFAULT_PULL_EXPIRES_MS}. */
  pullExpiresMs?: number;
  /** Idle heartbeat of the pull. Default {@link DEFAULT_IDLE_HEARTBEAT_MS}. */
  idleHeartbeatMs?: number;
  /** See {@link DEFAULT_MAX_HOLD_MS}. */
  maxHoldMs?: number;
  /** The clock, in ms. Default `Date.now`. */
  now?: () => number;
}

/** A running durable consume loop. */
export interface DurableConsumer {
  /** True while the loop is consuming: pulled, and the server answered since the last trouble. */
  ready(): boolean;
  /** Why the loop is not consuming, or undefined while it is. */
  notReadyReason(): string | undefined;
  /** Messages held now. */
  readonly inFlight: number;
  /** Stops pulling (messages delivered afterwards are NAKed); held messages stay the caller's. */
  close(): Promise<void>;
  /** `close()`, then waits until every held message is settled. */
  stop(): Promise<void>;
}

/**
 * Ensures the consumer, then starts the loop. Resolves once the first pull is open; rejects when
 * the consumer cannot be ensured (the caller's start-up retries).
 */
export async function startDurableConsumer(options: DurableConsumerOptions): Promise<DurableConsumer> {
  const { nc, stream, config, log, handle } = options;
  const name = config.durable_name;
  if (!name) throw new Error(`startDurableConsumer: config.durable_name is required (stream "${stream}")`);
  if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) {
    throw new Error(
      `startDurableConsumer: maxInFlight must be a positive integer, got ${options.maxInFlight}`,
    );
  }
  const target = { stream, consumer: name };
  const where = { stream, consumer: name };
  const pullMode = options.pull ?? "consume";
  const expires = options.pullExpiresMs ?? DEFAULT_PULL_EXPIRES_MS;
  const idleHeartbeat = options.idleHeartbeatMs ?? DEFAULT_IDLE_HEARTBEAT_MS;
  const maxHoldMs = options.maxHoldMs ?? DEFAULT_MAX_HOLD_MS;
  const now = options.now ?? Date.now;
  // In-progress acks at a third of the ack wait leave two chances before the server redelivers.
  const ackWaitMs = config.ack_wait ? config.ack_wait / 1_000_000 : 30_000;
  const keepAliveMs = Math.max(100, Math.floor(ackWaitMs / 3));

  const js: JetStreamClient = jetstream(nc);
  const held = new HeldMessages();
  const closeController = new AbortController();
  let closing = false;
  let current: ConsumerMessages | undefined;
  let needsEnsure = false;
  let notReady: string | undefined = "starting";

  const setHealthy = (): void => {
    if (notReady === undefined) return;
    if (notReady !== "starting") log.info({ ...where, was: notReady }, "consuming again");
    notReady = undefined;
  };
  // The state changes before the log line, so whoever reads the line sees it.
  const setNotReady = (reason: string, warn: boolean): void => {
    const was = notReady;
    notReady = reason;
    if (was === undefined && warn) log.warn(where, reason);
  };

  const ensure = async (): Promise<void> => {
    await ensureConsumer(await jetstreamManager(nc), stream, config);
  };

  /** Applies an action; closes the current pull when the loop must open a new one. */
  const apply = (action: LoopAction, pull: ConsumerMessages): void => {
    switch (action.kind) {
      case "ignore":
        return;
      case "healthy":
        setHealthy();
        return;
      case "stalled":
      case "reopen":
        setNotReady(action.reason, true);
        if (pullMode === "consume") void pull.close();
        return;
      case "recreate":
        notReady = action.reason;
        needsEnsure = true;
        log.warn(where, `${action.reason}; recreating it`);
        void pull.close();
        return;
    }
  };

  const watchStatus = async (pull: ConsumerMessages): Promise<void> => {
    for await (const status of pull.status()) {
      if (closing) return;
      apply(decideOnNotification(status, target, held.size >= options.maxInFlight), pull);
    }
  };

  // The messages of one event-loop turn are handed to the handler together, at the end of the
  // turn: what their handlers publish then leaves in one socket write. Handed one by one from the
  // pull's iterator, each handler's publish was flushed before the next message came out of it,
  // a write system call (and a wake-up of the server) per message.
  let turn: { msg: JsMsg; tracked: JsMsg }[] = [];
  const handleTurn = (): void => {
    const messages = turn;
    turn = [];
    for (const { msg, tracked } of messages) handleOne(msg, tracked);
  };

  const dispatch = (msg: JsMsg): void => {
    setHealthy();
    if (closing) {
      // Delivered after close(): hand it straight back rather than after the ack wait.
      msg.nak();
      return;
    }
    countDelivery(stream, name, msg.redelivered);
    if (turn.length === 0) setImmediate(handleTurn);
    turn.push({ msg, tracked: held.hold(msg, now()) });
  };

  const handleOne = (msg: JsMsg, tracked: JsMsg): void => {
    let result: void | Promise<void>;
    try {
      result = handle(tracked);
    } catch (err) {
      result = Promise.reject(err);
    }
    if (result instanceof Promise) {
      result.catch((err: unknown) => {
        log.error({ ...where, err, subject: msg.subject, seq: msg.seq }, "message handler failed");
        if (held.has(msg)) tracked.nak();
      });
    }
  };

  const openPull = async (): Promise<ConsumerMessages> => {
    if (needsEnsure) {
      await ensure();
      needsEnsure = false;
      log.warn(where, "consumer recreated from its configuration");
    }
    const consumer = await js.consumers.get(stream, name);
    if (pullMode === "fetch") {
      await held.belowLimit(options.maxInFlight, closeController.signal);
      if (closing) throw new Error("closed");
      return consumer.fetch({
        max_messages: options.maxInFlight - held.size,
        expires,
        idle_heartbeat: idleHeartbeat,
      });
    }
    return consumer.consume({ max_messages: options.maxInFlight, expires, idle_heartbeat: idleHeartbeat });
  };

  const pump = async (pull: ConsumerMessages): Promise<void> => {
    for await (const msg of pull) {
      // Bounded in flight: take no more from the pull until a slot is free (the client then
      // stops asking the server for more, so nothing piles up beyond one pull's worth).
      await held.belowLimit(options.maxInFlight, closeController.signal);
      dispatch(msg);
    }
  };

  const run = async (): Promise<void> => {
    let failures = 0;
    while (!closing) {
      try {
        const pull = await openPull();
        current = pull;
        if (closing) {
          // Not awaited: nats.js finishes a close inside the iteration, and nobody iterates this one.
          void pull.close();
          break;
        }
        // The consumer answered (its info or our pull): it exists and has a leader.
        setHealthy();
        void watchStatus(pull);
        await pump(pull);
        failures = 0;
        if (!closing && pullMode === "consume") log.debug(where, "pull ended; opening a new one");
      } catch (err) {
        if (closing) break;
        failures++;
        const action = decideOnFailure(err, target);
        if (action.kind === "recreate") needsEnsure = true;
        const reason =
          action.kind === "recreate"
            ? `${action.reason}; recreating it`
            : "reason" in action
              ? action.reason
              : String(err);
        setNotReady(reason, true);
        log.debug({ ...where, err, failures }, "pull failed");
        await delay(reopenDelayMs(failures), undefined, { signal: closeController.signal }).catch(() => {});
      } finally {
        current = undefined;
      }
    }
  };

  const watchConnection = async (): Promise<void> => {
    for await (const status of nc.status()) {
      if (closing) return;
      if (status.type === "disconnect") setNotReady("connection lost", false);
      else if (status.type === "reconnect") {
        log.warn(
          { ...where, server: "server" in status ? status.server : undefined },
          "reconnected; pulling again",
        );
      }
    }
  };

  const keepAlive = setInterval(() => {
    for (const msg of held.keepAlive(now(), keepAliveMs, maxHoldMs)) {
      log.warn(
        { ...where, subject: msg.subject, seq: msg.seq, maxHoldMs },
        "message held too long; left to redeliver",
      );
    }
  }, keepAliveMs);
  keepAlive.unref();

  await ensure();
  const loop = run();
  void watchConnection();

  const close = async (): Promise<void> => {
    if (!closing) {
      closing = true;
      notReady = "stopped";
      closeController.abort();
      await current?.close();
      // Held messages stay alive until their holder settles them, then the timer goes.
      void held.drained().then(() => clearInterval(keepAlive));
    }
    await loop;
  };

  return {
    ready: () => notReady === undefined,
    notReadyReason: () => notReady,
    get inFlight() {
      return held.size;
    },
    close,
    async stop() {
      await close();
      await held.drained();
    },
  };
}
