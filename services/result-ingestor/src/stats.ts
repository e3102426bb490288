/** Counters of a result-ingestor process, for logs, tests and (later) metrics. */
export interface IngestorStats {
  /** TaskOutcome commands published, duplicates included. */
  commands: number;
  /** Commands the server dropped as duplicates (the same result published twice). */
  duplicates: number;
  /** Heartbeats recorded, from requests and from the results stream. */
  heartbeats: number;
  /** Messages parked on the dead-letter subject. */
  deadLettered: number;
  /** Results that could not be forwarded and were handed back for a retry. */
  failures: number;
}

/** Fresh counters, all 0. */
export function emptyStats(): IngestorStats {
  return { commands: 0, duplicates: 0, heartbeats: 0, deadLettered: 0, failures: 0 };
}
