import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { exposeStats, startBacklogSampler } from "@jetflow/service-runtime";
import type { Registry, StatCounter } from "@jetflow/service-runtime";
import type { DispatcherStats } from "./stats";

const COUNTERS: readonly StatCounter<DispatcherStats>[] = [
  {
    name: "jetflow_dispatcher_batches_total",
    help: "Event batches whose effects were all performed and acknowledged",
    read: (s) => s.batches,
  },
  {
    name: "jetflow_dispatcher_effects_published_total",
    help: "Messages published for event batches (tasks, commands, timers), duplicates included",
    read: (s) => s.effects,
  },
  {
    name: "jetflow_dispatcher_duplicate_publishes_total",
    help: "Publishes the server dropped as duplicates (a redelivered batch or timer)",
    read: (s) => s.duplicates,
  },
  {
    name: "jetflow_timers_fired_total",
    help: "Timers that became a TimerFired command",
    read: (s) => s.timersFired,
  },
  {
    name: "jetflow_timers_stale_total",
    help: "Due timers dropped because their state had ended",
    read: (s) => s.timersStale,
  },
  {
    name: "jetflow_timers_delayed_total",
    help: "Times a timer not yet due was handed back with a delay",
    read: (s) => s.timersDelayed,
  },
  {
    name: "jetflow_dispatcher_retries_total",
    help: "Batches or timers handed back for a retry because an effect could not be published",
    read: (s) => s.retries,
  },
  {
    name: "jetflow_dead_letters_parked_total",
    help: "Messages this process parked on the dead-letter stream",
    read: (s) => s.deadLetters,
  },
];

/**
 * The dispatcher's metrics: its counters, and the backlog of every jetflow consumer read from
 * JetStream every `intervalMs` (the dispatcher is the one service that samples it). Returns the
 * function that stops the sampling.
 */
export function instrumentDispatcher(options: {
  registry: Registry;
  stats: () => Readonly<DispatcherStats>;
  nc: NatsConnection;
  log: Logger;
  intervalMs: number;
}): () => void {
  exposeStats(options.registry, options.stats, COUNTERS);
  const sampler = startBacklogSampler({
    nc: options.nc,
    registry: options.registry,
    log: options.log,
    intervalMs: options.intervalMs,
  });
  return () => sampler.stop();
}
