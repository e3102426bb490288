import { exposeStats } from "@jetflow/service-runtime";
import type { Registry } from "@jetflow/service-runtime";
import type { IngestorStats } from "./stats";

/** Registers the result-ingestor's counters as metrics, read from its stats at each scrape. */
export function instrumentResultIngestor(registry: Registry, stats: () => Readonly<IngestorStats>): void {
  exposeStats(registry, stats, [
    {
      name: "jetflow_heartbeats_recorded_total",
      help: "Task heartbeats recorded",
      read: (s) => s.heartbeats,
    },
    {
      name: "jetflow_dead_letters_parked_total",
      help: "Messages this process parked on the dead-letter stream",
      read: (s) => s.deadLettered,
    },
  ]);
}
