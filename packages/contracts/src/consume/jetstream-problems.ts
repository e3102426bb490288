/**
 * Names what went wrong when a JetStream call failed, in the words an operator needs in the middle
 * of an incident. nats.js reports a request nobody answered (a 503 "no responders") as
 * "jetstream is not enabled"; on a running cluster that almost always means the stream or
 * consumer has no leader at the moment (an election, a partition), so we say that instead.
 */
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";

/** What a failed JetStream call tells about the resource it addressed. */
export type JetStreamProblem =
  | { kind: "no-leader"; description: string }
  | { kind: "consumer-missing"; description: string }
  | { kind: "stream-missing"; description: string }
  | { kind: "heartbeats-missed"; description: string }
  | { kind: "timeout"; description: string }
  | { kind: "other"; description: string };

/** The JetStream resource a call addressed, for the words of a {@link JetStreamProblem}. */
export interface JetStreamTarget {
  stream: string;
  consumer?: string;
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : "";
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isNoResponders(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e.name === "JetStreamNotEnabled" || e.name === "NoResponders") return true;
    if (e instanceof JetStreamApiError && e.status === 503) return true;
  }
  return false;
}

/**
 * Classifies the error of a JetStream request, publish, consume or fetch against `target`.
 * Pure: it only reads the error.
 */
export function describeJetStreamProblem(err: unknown, target: JetStreamTarget): JetStreamProblem {
  const what =
    target.consumer === undefined
      ? `stream "${target.stream}"`
      : `consumer "${target.consumer}" on stream "${target.stream}"`;
  if (isNoResponders(err)) {
    return {
      kind: "no-leader",
      description: `${what} has no leader: no JetStream server answered (leader election or partition under way)`,
    };
  }
  const message = errorMessage(err);
  if (
    (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) ||
    errorName(err) === "ConsumerNotFoundError" ||
    message === "consumer not found" ||
    message === "consumer deleted"
  ) {
    return {
      kind: "consumer-missing",
      description: `consumer "${target.consumer ?? "?"}" on stream "${target.stream}" does not exist`,
    };
  }
  if (
    (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) ||
    errorName(err) === "StreamNotFoundError" ||
    message === "stream not found" ||
    message === "stream deleted"
  ) {
    return { kind: "stream-missing", description: `stream "${target.stream}" does not exist` };
  }
  if (message === "heartbeats missed" || message === "idle heartbeats missed") {
    return {
      kind: "heartbeats-missed",
      description: `${what} sent no heartbeat: no leader, a lost pull or a dead connection`,
    };
  }
  if (errorName(err) === "TimeoutError") {
    return {
      kind: "timeout",
      description: `${what} did not answer in time: no leader or an overloaded server`,
    };
  }
  return { kind: "other", description: `${what}: ${message}` };
}

/**
 * The error to log for a failed publish or request on `stream`: a "no leader" error naming the
 * stream when nobody answered, else `err` itself.
 */
export function explainJetStreamError(err: unknown, stream: string): unknown {
  if (!isNoResponders(err)) return err;
  return new StreamLeaderError(stream, { cause: err });
}

/** A JetStream call found no leader for the stream it addressed. */
export class StreamLeaderError extends Error {
  override readonly name = "StreamLeaderError";
  constructor(
    readonly stream: string,
    options?: { cause?: unknown },
  ) {
    super(
      `stream "${stream}" has no leader: no JetStream server answered (leader election or partition under way)`,
      options,
    );
  }
}
