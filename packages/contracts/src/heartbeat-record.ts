/**
 * The value stored per task attempt in the heartbeat bucket (`jetflow_heartbeats`, key: the task
 * token): the time of the attempt's last heartbeat, in epoch milliseconds as decimal text. The
 * result-ingestor writes it; the dispatcher (heartbeat timeouts) and the orchestrator (a result
 * received past its heartbeat deadline) read it.
 */

/** The bucket value recording a heartbeat at `epochMs`. */
export function formatHeartbeatRecord(epochMs: number): string {
  return String(Math.floor(epochMs));
}

/** The heartbeat time in a bucket value, or undefined when the text is not such a number. */
export function parseHeartbeatRecord(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,16}$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) ? value : undefined;
}
