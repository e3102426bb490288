/**
 * The gateway's one error class: a gRPC status code and a message for the client. Anything else
 * thrown inside a handler becomes INTERNAL with a generic message (no stack traces leak).
 */
import { status } from "@grpc/grpc-js";
import { StateManagerError } from "@jetflow/service-runtime";
import { JetStreamApiError } from "@nats-io/jetstream";
import {
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from "@nats-io/transport-node";

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }

  static invalid(message: string): ApiError {
    return new ApiError(status.INVALID_ARGUMENT, message);
  }
  static notFound(message: string): ApiError {
    return new ApiError(status.NOT_FOUND, message);
  }
  static exists(message: string): ApiError {
    return new ApiError(status.ALREADY_EXISTS, message);
  }
  static tooLarge(message: string): ApiError {
    return new ApiError(status.RESOURCE_EXHAUSTED, message);
  }
  static unavailable(message: string): ApiError {
    return new ApiError(status.UNAVAILABLE, message);
  }
  static precondition(message: string): ApiError {
    return new ApiError(status.FAILED_PRECONDITION, message);
  }
}

/** Collects every problem of a request, each with the path of its field, then throws them all. */
export class RequestProblems {
  private readonly problems: string[] = [];

  /** Records that the field at `path` (snake_case, as in the .proto) is wrong. */
  add(path: string, message: string): this {
    this.problems.push(`${path}: ${message}`);
    return this;
  }

  get empty(): boolean {
    return this.problems.length === 0;
  }

  /** The problems as lines, for a message that adds more. */
  lines(): string[] {
    return [...this.problems];
  }

  /** @throws ApiError INVALID_ARGUMENT listing every problem, one per line, when there is any */
  check(): void {
    if (!this.empty) throw ApiError.invalid(`invalid request:\n${this.problems.join("\n")}`);
  }
}

const UNREACHABLE = [
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
  StateManagerError,
];

/**
 * True when `err` (or an error it wraps) says NATS or a service behind it did not answer: the
 * request may succeed when retried, so the client gets UNAVAILABLE.
 */
export function isUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (UNREACHABLE.some((type) => e instanceof type)) return true;
    // 503: JetStream is not (yet) available, e.g. a stream has no leader during a restart.
    if (e instanceof JetStreamApiError && e.status === 503) return true;
  }
  return false;
}
