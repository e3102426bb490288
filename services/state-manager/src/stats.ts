/** Counters of a state-manager process, for logs, tests and (later) metrics. */
export interface StateManagerStats {
  /** Commits answered `ok`, duplicates included. */
  commits: number;
  /** Commits answered `ok` with `duplicate: true`. */
  duplicates: number;
  /** Commits answered `conflict`. */
  conflicts: number;
  /** Commits whose snapshot was not written because a newer one was stored. */
  snapshotsKept: number;
  /** Commits of a running execution whose snapshot write was deferred (STATE_SNAPSHOT_EVERY_EVENTS). */
  snapshotsDeferred: number;
  /** Commits whose batch was appended but whose snapshot could not be stored (a load repairs it). */
  snapshotWriteFailures: number;
  /** Loads answered. */
  loads: number;
  /** Loads that folded batches missing from the stored snapshot. */
  repairs: number;
  /** Requests refused as malformed. */
  malformed: number;
  /** Requests that failed on NATS or on a corrupt history and were answered with an error. */
  failures: number;
  /** Messages parked on the dead-letter subject. */
  deadLettered: number;
}

/** Fresh counters, all 0. */
export function emptyStats(): StateManagerStats {
  return {
    commits: 0,
    duplicates: 0,
    conflicts: 0,
    snapshotsKept: 0,
    snapshotsDeferred: 0,
    snapshotWriteFailures: 0,
    loads: 0,
    repairs: 0,
    malformed: 0,
    failures: 0,
    deadLettered: 0,
  };
}
