/** Counters of what the dispatcher did since it started, for logs, probes and tests. */
export interface DispatcherStats {
  /** Event batches whose effects were all performed and that were acked. */
  batches: number;
  /** Messages published for those batches (duplicates included). */
  effects: number;
  /** Publishes the server dropped as duplicates (a redelivered batch or timer). */
  duplicates: number;
  /** Timers that became a TimerFired command. */
  timersFired: number;
  /** Due timers dropped because their state had ended (no command sent). */
  timersStale: number;
  /** Times a timer was handed back with a delay because it was not due. */
  timersDelayed: number;
  /** Messages parked on the dead-letter subject. */
  deadLetters: number;
  /** Messages NAKed for a retry because an effect could not be published. */
  retries: number;
}

/** All counters at zero. */
export function emptyStats(): DispatcherStats {
  return {
    batches: 0,
    effects: 0,
    duplicates: 0,
    timersFired: 0,
    timersStale: 0,
    timersDelayed: 0,
    deadLetters: 0,
    retries: 0,
  };
}
