/** How to get a nats-server binary, repeated in every {@link NatsServerNotFoundError}. */
const installHint =
  'install it with "apt-get update && apt-get install nats-server" or set NATS_SERVER_BIN to its path';

/**
 * Thrown when no nats-server binary can be found: not at `NATS_SERVER_BIN`, nor on `PATH`, nor at
 * `/usr/sbin/nats-server`. The message says how to install one.
 */
export class NatsServerNotFoundError extends Error {
  override readonly name = "NatsServerNotFoundError";

  /** Why no binary was usable, as quoted in the message. */
  readonly reason: string;
  /** The paths that were tried, in order. */
  readonly searched: readonly string[];

  constructor(reason: string, searched: readonly string[], options?: ErrorOptions) {
    super(`cannot find nats-server: ${reason}; ${installHint}`, options);
    this.reason = reason;
    this.searched = searched;
  }
}

/**
 * Thrown when a nats-server process exits before it is ready, or does not become ready in time.
 * The message ends with the tail of the server's log; `logFile` holds all of it.
 */
export class NatsServerStartError extends Error {
  override readonly name = "NatsServerStartError";

  /** The `server_name` of the server that failed. */
  readonly serverName: string;
  /** The file the server's stdout and stderr were written to. */
  readonly logFile: string;

  constructor(message: string, serverName: string, logFile: string, options?: ErrorOptions) {
    super(message, options);
    this.serverName = serverName;
    this.logFile = logFile;
  }
}

/**
 * Thrown by `waitFor()` when its condition is still unmet after `timeoutMs`. The last error thrown by the
 * condition, if any, is both quoted in the message and kept as `cause`.
 */
export class WaitForTimeoutError extends Error {
  override readonly name = "WaitForTimeoutError";

  /** The bound that was exceeded, in milliseconds. */
  readonly timeoutMs: number;
  /** What the condition last threw, or `undefined` if it only ever returned a falsy value. */
  readonly lastError: unknown;

  constructor(what: string, timeoutMs: number, lastError: unknown) {
    const why = lastError === undefined ? "" : `: last error: ${describe(lastError)}`;
    super(
      `timed out after ${timeoutMs} ms waiting for ${what}${why}`,
      lastError === undefined ? undefined : { cause: lastError },
    );
    this.timeoutMs = timeoutMs;
    this.lastError = lastError;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
