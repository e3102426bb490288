/** Why a running task's `ctx.signal` fired. */
export type TaskAbortKind = "cancelled" | "deadline" | "shutdown";

/**
 * The reason of `ctx.signal` when it fires: the execution was stopped or the attempt is no longer
 * current (`cancelled`), the task's start-to-close deadline passed (`deadline`), or the worker is
 * stopping and gave up waiting for the handler (`shutdown`, the task goes to another worker).
 */
export class TaskAbortedError extends Error {
  override readonly name = "TaskAbortedError";
  constructor(
    readonly kind: TaskAbortKind,
    readonly taskToken: string,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown by `createWorker` and `start()` when the options or the worker's state are wrong. */
export class WorkerError extends Error {
  override readonly name = "WorkerError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
