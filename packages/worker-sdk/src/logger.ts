/**
 * The logger the SDK writes to. The SDK never logs by itself: pass pino (or anything with these four
 * methods) to see what it does; the default discards everything.
 */
export interface Logger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

const discard = (): void => {};

/** A logger that discards everything: the default. */
export const silentLogger: Logger = Object.freeze({
  debug: discard,
  info: discard,
  warn: discard,
  error: discard,
});
