import { exposeStats } from "@jetflow/service-runtime";
import type { Registry } from "@jetflow/service-runtime";
import type { IngestorStats } from "./stats";

/** Registers the result-ingestor's counters as metrics, read from its stats at each scrape. */
export function instrumentResultIngestor(registry: Registry, stats: () => Readonly<IngestorStats>): void {
  exposeStats(registry, stats, [
    {
      name: "jetflow_results_forwarded_total",
      help: "Task outcomes forwarded to the orchestrator as commands, duplicates included",
      read: (s) => s.commands,
    },
    {
      name: "jetflow_results_duplicates_total",
      help: "Forwarded outcomes the server dropped as duplicates (the same result twice)",
      read: (s) => s.duplicates,
    },
    {
      name: "jetflow_heartbeats_recorded_total",
      help: "Task heartbeats recorded",
      read: (s) => s.heartbeats,
    },
    {
      name: "jetflow_results_retries_total",
      help: "Results that could not be forwarded and were handed back for a retry",
      read: (s) => s.failures,
    },
    {
      name: "jetflow_dead_letters_parked_total",
      help: "Messages this process parked on the dead-letter stream",
      read: (s) => s.deadLettered,
    },
  ]);
}
