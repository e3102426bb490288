import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { consumerConfigs, streams } from "@jetflow/contracts";
import { startDurableConsumer } from "@jetflow/contracts/internal";
import type { DurableConsumer } from "@jetflow/contracts/internal";
import { lastBatchSeq } from "@jetflow/service-runtime";
import type { Component } from "@jetflow/service-runtime";
import type { Config } from "./config";
import { createBatchHandler, createTimerHandler } from "./handlers";
import { ensureResources } from "./resources";
import { emptyStats } from "./stats";
import type { DispatcherStats } from "./stats";

/** Options of {@link createDispatcher}. */
export interface DispatcherOptions {
  /** The connection; the dispatcher never closes it. */
  nc: NatsConnection;
  log: Logger;
  config: Pick<
    Config,
    | "replicas"
    | "dispatchConcurrency"
    | "timerConcurrency"
    | "timerMaxDelayMs"
    | "ackWaitMs"
    | "retryDelayMs"
    | "timeoutGraceMs"
  >;
  /** The clock, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** The dispatcher: the effects of event batches, and the durable timers. */
export interface Dispatcher extends Component {
  /** Ensures the streams, consumers and bucket it needs, then starts pulling. */
  start(): Promise<void>;
  /** Counters since start. */
  stats(): Readonly<DispatcherStats>;
}

/**
 * Creates the dispatcher component: one pull loop on `dispatcher-effects` (JETFLOW_EVENTS) that
 * performs each batch's effects, and one on `dispatcher-timers` (JETFLOW_TIMERS) that turns due
 * timers into TimerFired commands. Any number of replicas may run: the consumers are shared.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { nc, log, config } = options;
  const js = jetstream(nc);
  const stats = emptyStats();
  const loops: DurableConsumer[] = [];

  return {
    async start() {
      const { heartbeats } = await ensureResources(nc, {
        replicas: config.replicas,
        ackWaitMs: config.ackWaitMs,
      });
      // checkAPI off: the connection is known to have JetStream (ensureResources used it).
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      const effectsLog = log.child({ component: "effects" });
      loops.push(
        await startDurableConsumer({
          nc,
          stream: streams.events,
          config: consumerConfigs.eventEffects(config.ackWaitMs),
          maxInFlight: config.dispatchConcurrency,
          handle: createBatchHandler({ js, nc, log: effectsLog, stats, retryDelayMs: config.retryDelayMs }),
          log: effectsLog,
        }),
      );
      const timersLog = log.child({ component: "timers" });
      loops.push(
        await startDurableConsumer({
          nc,
          stream: streams.timers,
          config: consumerConfigs.timers(config.ackWaitMs),
          maxInFlight: config.timerConcurrency,
          handle: createTimerHandler(
            { js, nc, log: timersLog, stats, retryDelayMs: config.retryDelayMs },
            {
              heartbeats,
              maxDelayMs: config.timerMaxDelayMs,
              now: options.now ?? Date.now,
              timeoutGraceMs: config.timeoutGraceMs,
              lastBatchSeq: (executionId) => lastBatchSeq(jsm, executionId),
            },
          ),
          log: timersLog,
        }),
      );
    },
    ready: () => loops.length === 2 && loops.every((loop) => loop.ready()),
    // Where its effects go, besides what it consumes.
    requiredStreams: [streams.events, streams.timers, streams.tasks, streams.commands],
    async stop() {
      await Promise.all(loops.map((loop) => loop.stop()));
    },
    stats: () => ({ ...stats }),
  };
}
