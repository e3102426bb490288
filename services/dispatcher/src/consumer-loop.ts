import type { ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";

/** Options of {@link startConsumerLoop}. */
export interface ConsumerLoopOptions {
  js: JetStreamClient;
  /** The stream and durable consumer to pull from. */
  stream: string;
  consumer: string;
  /** Messages handled at once; also the size of each pull. */
  concurrency: number;
  /** Handles one message and acks or NAKs it; must not throw (a throw is logged, the message left to redeliver). */
  handle: (msg: JsMsg) => Promise<void>;
  /** Called before every (re)start of the pull, e.g. to recreate a deleted consumer. */
  prepare: () => Promise<void>;
  log: Logger;
  /** Pause before restarting after a failure, in milliseconds. Default 1000. */
  restartDelayMs?: number;
}

/** A running pull loop. */
export interface ConsumerLoop {
  /** True while messages are being pulled. */
  ready(): boolean;
  /** Stops pulling, NAKs what arrives meanwhile and waits for the handlers in flight. */
  stop(): Promise<void>;
}

/**
 * Pulls from a durable consumer and runs `handle` on up to `concurrency` messages at once, each
 * acked on its own when its handler is done (no ordering between messages). The pull survives
 * NATS reconnects (nats.js re-issues it); if it ends for another reason, the loop prepares and
 * pulls again after a pause.
 */
export function startConsumerLoop(options: ConsumerLoopOptions): ConsumerLoop {
  const { js, stream, consumer, concurrency, handle, prepare, log } = options;
  const restartDelayMs = options.restartDelayMs ?? 1000;
  const inFlight = new Set<Promise<void>>();
  let messages: ConsumerMessages | undefined;
  let stopping = false;
  let pulling = false;
  let wakeUp: (() => void) | undefined;

  const dispatch = (msg: JsMsg): void => {
    const task = handle(msg)
      .catch((err: unknown) =>
        log.error({ err, subject: msg.subject, seq: msg.seq }, "message handler failed"),
      )
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  };

  const pullOnce = async (): Promise<void> => {
    await prepare();
    const c = await js.consumers.get(stream, consumer);
    messages = await c.consume({ max_messages: concurrency });
    if (stopping) {
      await messages.close();
      return;
    }
    pulling = true;
    for await (const msg of messages) {
      if (stopping) {
        // Hand it back at once rather than after the ack wait.
        msg.nak();
        continue;
      }
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      dispatch(msg);
    }
  };

  const loop = (async () => {
    while (!stopping) {
      try {
        await pullOnce();
        if (!stopping) log.warn({ stream, consumer }, "pull ended; restarting");
      } catch (err) {
        if (!stopping) log.warn({ err, stream, consumer }, "pull failed; restarting");
      } finally {
        pulling = false;
      }
      if (stopping) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, restartDelayMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();

  return {
    ready: () => pulling && !stopping,
    stop: async () => {
      stopping = true;
      wakeUp?.();
      await messages?.close();
      await loop;
      await Promise.all(inFlight);
    },
  };
}
