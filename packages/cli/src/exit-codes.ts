/**
 * The exit codes of the `jetflow` command, which scripts can rely on (docs/cli.md lists them).
 */
export const ExitCode = {
  /** The command did what was asked; a watched or awaited execution succeeded. */
  Ok: 0,
  /** The answer is "no": a definition has problems, or an execution ended FAILED, TIMED_OUT or ABORTED. */
  Failed: 1,
  /** The command line is wrong: unknown command or option, bad JSON, unreadable file. */
  Usage: 2,
  /** The server could not be reached or did not answer in time. */
  Unavailable: 3,
  /** The workflow, execution or task token does not exist. */
  NotFound: 4,
  /**
   * The server refused the request: invalid definition or input, name conflict, task already
   * closed, missing or invalid credentials, or a role that does not allow it.
   */
  Rejected: 5,
  /** Any other server error. */
  ServerError: 6,
  /** Interrupted with Ctrl-C (128 + SIGINT). */
  Interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

// gRPC status codes (numbers fixed by the gRPC specification).
const INVALID_ARGUMENT = 3;
const DEADLINE_EXCEEDED = 4;
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const PERMISSION_DENIED = 7;
const FAILED_PRECONDITION = 9;
const OUT_OF_RANGE = 11;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;

/** The exit code for a call that failed with gRPC status `code`. */
export function exitCodeForStatus(code: number): ExitCode {
  switch (code) {
    case UNAVAILABLE:
    case DEADLINE_EXCEEDED:
      return ExitCode.Unavailable;
    case NOT_FOUND:
      return ExitCode.NotFound;
    case INVALID_ARGUMENT:
    case ALREADY_EXISTS:
    case FAILED_PRECONDITION:
    case OUT_OF_RANGE:
    case PERMISSION_DENIED:
    case UNAUTHENTICATED:
      return ExitCode.Rejected;
    default:
      return ExitCode.ServerError;
  }
}
