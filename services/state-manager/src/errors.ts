import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";

/**
 * True when JetStream refused a publish because the subject's last sequence was not the expected
 * one: the compare-and-set of an append or of a KV write lost.
 */
export function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** The message of any thrown value, for replies and logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Thrown when a snapshot could not be stored after every compare-and-set attempt. */
export class SnapshotWriteError extends Error {
  override readonly name = "SnapshotWriteError";
  constructor(
    readonly executionId: string,
    readonly attempts: number,
  ) {
    super(
      `cannot store the snapshot of execution "${executionId}": still conflicting after ${attempts} attempts`,
    );
  }
}
