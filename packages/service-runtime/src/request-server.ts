/**
 * A core NATS request/reply server: subscriptions in one queue group (so replicas share the
 * requests), handlers that may run concurrently, and a stop that drains the subscriptions and
 * then waits for every handler still running, so that no request is dropped half answered.
 */
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "./logger";

/** Options of {@link createRequestServer}. */
export interface RequestServerOptions {
  nc: NatsConnection;
  log: Logger;
  /** The queue group every subscription joins. */
  queue: string;
}

/** Handles one request; a returned promise is awaited by `stop()`. Errors are logged, never thrown. */
export type RequestHandler = (msg: Msg) => void | Promise<void>;

/** See {@link createRequestServer}. */
export interface RequestServer {
  /** Subscribes `handler` to `subject` (wildcards allowed) in the queue group. */
  serve(subject: string, handler: RequestHandler): void;
  /** Resolves once the server has registered every subscription (one round trip). */
  registered(): Promise<void>;
  /** Work started on behalf of a request outside its handler, which `stop()` must wait for too. */
  track(work: Promise<void>): Promise<void>;
  /** Drains the subscriptions, then waits for every handler and tracked work in flight. */
  stop(): Promise<void>;
}

/** Creates a request server on `nc`; nothing is subscribed until `serve()`. */
export function createRequestServer({ nc, log, queue }: RequestServerOptions): RequestServer {
  const subscriptions: Subscription[] = [];
  const inFlight = new Set<Promise<void>>();

  function track(work: Promise<void>): Promise<void> {
    const tracked = work.catch((err: unknown) => log.error({ err }, "request handler failed"));
    inFlight.add(tracked);
    void tracked.finally(() => inFlight.delete(tracked));
    return tracked;
  }

  return {
    serve(subject, handler) {
      const sub = nc.subscribe(subject, {
        queue,
        callback: (err, msg) => {
          if (err) {
            log.error({ err, subject }, "subscription failed");
            return;
          }
          try {
            const work = handler(msg);
            if (work) void track(work);
          } catch (handlerErr) {
            // A bug in one handler must not kill the subscription.
            log.error({ err: handlerErr, subject }, "request handler threw");
          }
        },
      });
      subscriptions.push(sub);
    },
    registered: () => nc.flush(),
    track,
    async stop() {
      await Promise.all(subscriptions.splice(0).map((sub) => sub.drain().catch(() => {})));
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

/**
 * Sends a reply to a request, logging instead of throwing when it cannot be sent (the connection
 * closed): the requester times out and retries.
 */
export function reply(msg: Msg, bytes: Uint8Array, log: Logger): void {
  if (!msg.respond(bytes)) log.warn({ subject: msg.subject }, "reply not sent: connection closed");
}
