/**
 * Checks a commit request before anything is written: a request that fails here changes nothing
 * in the stream or the bucket. Pure: bytes in, a valid commit or the reason out.
 */
import {
  CommitRequest,
  DecodeError,
  EventBatch,
  ExecutionSnapshot,
  decode,
  embeddedMessageBytes,
  encode,
} from "@jetflow/contracts";
import { isExecutionId } from "../model";

/** A commit request that passed every check, with the bytes to append. */
export interface ValidCommit {
  executionId: string;
  batch: EventBatch;
  /** The encoded batch, exactly as it is appended to the stream. */
  batchBytes: Uint8Array;
  firstEventId: number;
  lastEventId: number;
  expectedLastEventSeq: number;
  snapshot: ExecutionSnapshot;
}

/** The outcome of `parseCommitRequest`. */
export type CommitParseResult = { ok: true; commit: ValidCommit } | { ok: false; reason: string };

/** Limits applied to a commit. */
export interface CommitLimits {
  /** Largest encoded snapshot accepted, in bytes. */
  maxSnapshotBytes: number;
}

// The largest value last_event_seq can take here; a snapshot checked with it is never larger
// once the real sequence (known only after the append) is filled in.
const LARGEST_SEQ = Number.MAX_SAFE_INTEGER;
/**
 * What filling in LARGEST_SEQ can add to an encoded snapshot, at most: its field's tag and an
 * 8-byte varint where the request may have had nothing.
 */
const LARGEST_SEQ_BYTES = 10;
/** `CommitRequest.batch`'s field number (proto/jetflow/v1/engine.proto). */
const COMMIT_REQUEST_BATCH_FIELD = 1;

/**
 * Decodes and checks a CommitRequest received on `subject`: it has a batch with at least one event,
 * consecutive event ids from at least 1, a valid execution id used consistently, an expected
 * sequence that fits the first event id, and a snapshot of the same execution ending at the batch's
 * last event whose encoding fits `limits.maxSnapshotBytes`.
 */
export function parseCommitRequest(
  data: Uint8Array,
  subject: string,
  limits: CommitLimits,
): CommitParseResult {
  let request: CommitRequest;
  try {
    request = decode(CommitRequest, "CommitRequest", data, subject);
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, reason: err.message };
    throw err;
  }
  const reason = findProblem(request, limits, data.length);
  if (reason !== undefined) return { ok: false, reason };
  const batch = request.batch as EventBatch;
  const events = batch.events;
  return {
    ok: true,
    commit: {
      executionId: batch.executionId,
      batch,
      // Appended as the orchestrator encoded it: the batch's bytes inside the request, checked
      // above through their decoding. Encoded again only if the field was split (never by us).
      batchBytes: embeddedMessageBytes(data, COMMIT_REQUEST_BATCH_FIELD) ?? encode(EventBatch, batch),
      firstEventId: events[0]?.eventId ?? 0,
      lastEventId: events[events.length - 1]?.eventId ?? 0,
      expectedLastEventSeq: request.expectedLastEventSeq,
      snapshot: request.snapshot as ExecutionSnapshot,
    },
  };
}

function findProblem(request: CommitRequest, limits: CommitLimits, requestBytes: number): string | undefined {
  const { batch, snapshot, expectedLastEventSeq } = request;
  if (batch === undefined) return "commit request has no batch";
  const id = batch.executionId;
  if (!isExecutionId(id)) return `invalid execution id "${id.slice(0, 200)}"`;
  const first = batch.events[0];
  if (first === undefined) return `batch of execution "${id}" has no events`;
  if (first.eventId < 1)
    return `batch of execution "${id}" starts at event id ${first.eventId}, not at 1 or above`;
  let previous: number | undefined;
  for (const event of batch.events) {
    if (previous !== undefined && event.eventId !== previous + 1) {
      return `event ids of execution "${id}" are not consecutive: ${event.eventId} follows ${previous}`;
    }
    if (event.executionId !== "" && event.executionId !== id) {
      return `event ${event.eventId} names execution "${event.executionId.slice(0, 200)}", not "${id}"`;
    }
    if (event.details === undefined) return `event ${event.eventId} of execution "${id}" has no details`;
    previous = event.eventId;
  }
  // The first batch of an execution, and only it, is appended to an empty subject.
  if (first.eventId === 1 && expectedLastEventSeq !== 0) {
    return `batch of execution "${id}" starts at event 1 but expects last event sequence ${expectedLastEventSeq}, not 0`;
  }
  if (first.eventId > 1 && expectedLastEventSeq === 0) {
    return `batch of execution "${id}" starts at event ${first.eventId} but expects an empty history (sequence 0)`;
  }
  if (snapshot === undefined) return `commit request of execution "${id}" has no snapshot`;
  if (snapshot.executionId !== id) {
    return `snapshot is of execution "${snapshot.executionId.slice(0, 200)}", not "${id}"`;
  }
  if (snapshot.lastEventId !== previous) {
    return `snapshot of execution "${id}" ends at event ${snapshot.lastEventId}, not at the batch's last event ${previous}`;
  }
  // The snapshot is part of the request, so a request that fits the limit (with room for the
  // sequence) holds a snapshot that does: encoding it only to measure it is needed only for a
  // request near or over the limit. The state-manager encodes it once more, for the bucket.
  if (requestBytes + LARGEST_SEQ_BYTES <= limits.maxSnapshotBytes) return undefined;
  const size = encode(ExecutionSnapshot, { ...snapshot, lastEventSeq: LARGEST_SEQ }).length;
  if (size > limits.maxSnapshotBytes) {
    return `snapshot of execution "${id}" is ${size} bytes, over the limit of ${limits.maxSnapshotBytes} bytes`;
  }
  return undefined;
}
