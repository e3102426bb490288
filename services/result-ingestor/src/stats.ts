/** Counters of a result-ingestor process, for logs, tests and metrics. */
export interface IngestorStats {
  /** Heartbeats recorded. */
  heartbeats: number;
  /** Messages parked on the dead-letter subject. */
  deadLettered: number;
}

/** Fresh counters, all 0. */
export function emptyStats(): IngestorStats {
  return { heartbeats: 0, deadLettered: 0 };
}
