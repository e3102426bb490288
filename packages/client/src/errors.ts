/**
 * The client's one error class. Every rejected call rejects with a JetflowError carrying the gRPC
 * status code and the server's message (connect-es `ConnectError` is the model).
 */
import { status } from "@grpc/grpc-js";

/** gRPC status codes, as numbers (`Code.NOT_FOUND === 5`) and back to names (`Code[5] === "NOT_FOUND"`). */
export { status as Code };

/** The name of a gRPC status code: `codeName(5) === "NOT_FOUND"`; `CODE_<n>` for an unknown one. */
export function codeName(code: number): string {
  return (status as unknown as Record<number, string | undefined>)[code] ?? `CODE_${code}`;
}

/**
 * A failed call: `code` is the gRPC status (see `Code`), `details` the server's message, e.g.
 * `NOT_FOUND` and `execution "x" does not exist`. `message` is both, `NOT_FOUND: execution "x"...`.
 */
export class JetflowError extends Error {
  override readonly name = "JetflowError";
  constructor(
    readonly code: number,
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`${codeName(code)}: ${details}`, options);
  }

  /**
   * Normalises anything thrown by a call: a JetflowError is returned as is, a gRPC error keeps its
   * code and details, anything else becomes UNKNOWN with its message.
   */
  static from(err: unknown): JetflowError {
    if (err instanceof JetflowError) return err;
    if (isServiceError(err)) return new JetflowError(err.code, err.details || err.message, { cause: err });
    const text = err instanceof Error ? err.message : String(err);
    return new JetflowError(status.UNKNOWN, text, { cause: err });
  }
}

function isServiceError(err: unknown): err is { code: number; details: string; message: string } {
  if (err === null || typeof err !== "object") return false;
  const e = err as Record<string, unknown>;
  return typeof e.code === "number" && typeof e.details === "string";
}
