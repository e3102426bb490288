/**
 * The gateway's one error class: a gRPC status code and a message for the client. Anything else
 * thrown inside a handler becomes INTERNAL with a generic message (no stack traces leak).
 */
import { status } from "@grpc/grpc-js";

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
