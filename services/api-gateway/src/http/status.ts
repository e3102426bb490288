/**
 * gRPC status codes as HTTP statuses: the mapping of Google's HTTP transcoding
 * (google/rpc/code.proto), so that clients of either protocol see the same outcome.
 */
import { status } from "@grpc/grpc-js";

/** The HTTP status of a gRPC status code; unknown codes are 500. */
export function httpStatusOf(code: status): number {
  switch (code) {
    case status.OK:
      return 200;
    case status.CANCELLED:
      return 499;
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION:
    case status.OUT_OF_RANGE:
      return 400;
    case status.UNAUTHENTICATED:
      return 401;
    case status.PERMISSION_DENIED:
      return 403;
    case status.NOT_FOUND:
      return 404;
    case status.ALREADY_EXISTS:
    case status.ABORTED:
      return 409;
    case status.RESOURCE_EXHAUSTED:
      return 429;
    case status.UNIMPLEMENTED:
      return 501;
    case status.UNAVAILABLE:
      return 503;
    case status.DEADLINE_EXCEEDED:
      return 504;
    case status.UNKNOWN:
    case status.INTERNAL:
    case status.DATA_LOSS:
    default:
      return 500;
  }
}

/** The JSON body of an error, as google.rpc.Status in the proto3 JSON mapping. */
export interface StatusBody {
  code: number;
  message: string;
  details: unknown[];
}

/** The body for gRPC status `code` with `message` (the gRPC status details text). */
export function statusBody(code: status, message: string): StatusBody {
  return { code, message, details: [] };
}
