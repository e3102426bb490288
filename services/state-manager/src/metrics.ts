import { Histogram, exposeStats } from "@jetflow/service-runtime";
import type { Registry } from "@jetflow/service-runtime";
import type { CommitReply } from "@jetflow/contracts";
import type { StateManagerStats } from "./stats";

/** Buckets of commit latencies, in seconds: a commit is two JetStream writes, milliseconds. */
const COMMIT_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Registers the state-manager's metrics (its counters, and the commit latency by result) and
 * returns what observes each answered commit.
 */
export function instrumentStateManager(
  registry: Registry,
  stats: () => Readonly<StateManagerStats>,
): (reply: CommitReply, seconds: number) => void {
  exposeStats(registry, stats, [
    {
      name: "jetflow_state_commits_total",
      help: "Commits answered ok, duplicates included",
      read: (s) => s.commits,
    },
    {
      name: "jetflow_state_commit_duplicates_total",
      help: "Commits answered ok as a duplicate of a batch already appended (a retried commit)",
      read: (s) => s.duplicates,
    },
    {
      name: "jetflow_state_commit_conflicts_total",
      help: "Commits refused because the execution had moved on (expected sequence mismatch)",
      read: (s) => s.conflicts,
    },
    {
      name: "jetflow_state_snapshot_write_failures_total",
      help: "Commits whose batch was appended but whose snapshot could not be stored (a load repairs it)",
      read: (s) => s.snapshotWriteFailures,
    },
    {
      name: "jetflow_state_snapshot_writes_deferred_total",
      help: "Commits of a running execution whose snapshot write was left to a later commit or load",
      read: (s) => s.snapshotsDeferred,
    },
    { name: "jetflow_state_loads_total", help: "Snapshot loads answered", read: (s) => s.loads },
    {
      name: "jetflow_state_load_repairs_total",
      help: "Loads that folded batches missing from the stored snapshot",
      read: (s) => s.repairs,
    },
    {
      name: "jetflow_state_malformed_requests_total",
      help: "Requests refused as malformed",
      read: (s) => s.malformed,
    },
    {
      name: "jetflow_state_request_failures_total",
      help: "Requests answered with an error (NATS trouble, a corrupt history)",
      read: (s) => s.failures,
    },
    {
      name: "jetflow_dead_letters_parked_total",
      help: "Messages this process parked on the dead-letter stream",
      read: (s) => s.deadLettered,
    },
  ]);
  const latency = new Histogram({
    name: "jetflow_state_commit_duration_seconds",
    help: "Time from a commit's arrival to its answer (append and snapshot write), by result",
    labelNames: ["result"],
    buckets: COMMIT_BUCKETS_S,
    registers: [registry],
  });
  return (reply, seconds) => {
    const result = reply.result;
    const label =
      result?.$case === "ok" ? (result.value.duplicate ? "duplicate" : "ok") : (result?.$case ?? "error");
    latency.observe({ result: label }, seconds);
  };
}
