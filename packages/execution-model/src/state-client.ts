/** The client side of the state-manager's request/reply API (commit a transition, load a snapshot). */
import {
  CommitReply,
  CommitRequest,
  LoadReply,
  LoadRequest,
  decode,
  encode,
  subjects,
} from "@jetflow/contracts";
import type { ExecutionSnapshot } from "@jetflow/contracts";
import { setTimeout as delay } from "node:timers/promises";
import type { Msg, NatsConnection } from "@nats-io/transport-node";

/** Thrown when the state-manager answers with an error or does not answer. */
export class StateManagerError extends Error {
  override readonly name = "StateManagerError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export type CommitResult = { kind: "ok"; eventSeq: number; duplicate: boolean } | { kind: "conflict" };

/**
 * How long one request to the state-manager may take before it is sent again, in milliseconds.
 * A state-manager answers in milliseconds; a request that went to one that was just killed gets
 * no answer at all, and waiting out the whole budget (10 s) for it was the recovery tail after a
 * crash. Sending again reaches a live replica or the replacement.
 */
export const DEFAULT_STATE_ATTEMPT_TIMEOUT_MS = 2_000;

/**
 * The pause before the `attempt`-th resend (1-based), in milliseconds: 50 ms doubling to 500 ms.
 * No responders (no state-manager subscribed, e.g. between a crash and the restart) fails at once,
 * so the pauses keep the retries from spinning.
 */
export function stateRetryDelayMs(attempt: number): number {
  return Math.min(500, 50 * 2 ** Math.max(0, attempt - 1));
}

/**
 * The client of the state-manager's request/reply API. Every call is safe to send again (a commit
 * is de-duplicated by its batch's message id, a load only reads), so a call that gets no answer is
 * resent after `attemptTimeoutMs` until `timeoutMs` has passed in all.
 */
export class StateClient {
  private readonly attemptTimeoutMs: number;

  /**
   * @param timeoutMs the most one call may take, resends included
   * @param attemptTimeoutMs the most one request may take; default {@link DEFAULT_STATE_ATTEMPT_TIMEOUT_MS}
   */
  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
    attemptTimeoutMs = DEFAULT_STATE_ATTEMPT_TIMEOUT_MS,
  ) {
    this.attemptTimeoutMs = Math.min(attemptTimeoutMs, timeoutMs);
  }

  /** Appends a batch and stores its snapshot; "conflict" when another writer got there first. */
  async commit(request: CommitRequest): Promise<CommitResult> {
    const reply = decode(
      CommitReply,
      "CommitReply",
      (await this.request(subjects.stateCommit, encode(CommitRequest, request))).data,
      subjects.stateCommit,
    );
    switch (reply.result?.$case) {
      case "ok":
        return { kind: "ok", eventSeq: reply.result.value.eventSeq, duplicate: reply.result.value.duplicate };
      case "conflict":
        return { kind: "conflict" };
      case "error":
        throw new StateManagerError(`commit refused: ${reply.result.value}`);
      default:
        throw new StateManagerError("commit reply is empty");
    }
  }

  /** The current snapshot of an execution, or undefined when it does not exist. */
  async load(executionId: string): Promise<ExecutionSnapshot | undefined> {
    const reply = decode(
      LoadReply,
      "LoadReply",
      (await this.request(subjects.stateLoad, encode(LoadRequest, { executionId }))).data,
      subjects.stateLoad,
    );
    if (reply.error) throw new StateManagerError(`load of "${executionId}" failed: ${reply.error}`);
    return reply.snapshot;
  }

  private async request(subject: string, data: Uint8Array): Promise<Msg> {
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const leftMs = deadline - Date.now();
      try {
        return await this.nc.request(subject, data, {
          timeout: Math.max(1, Math.min(this.attemptTimeoutMs, leftMs)),
        });
      } catch (err) {
        // A timeout (the state-manager died holding the request), no responders (none is
        // subscribed right now) or a disconnect: all worth sending again.
        const retryable =
          err instanceof Error && (err.name === "TimeoutError" || err.name === "RequestError");
        const pauseMs = stateRetryDelayMs(attempt);
        if (!retryable || this.nc.isClosed() || Date.now() + pauseMs >= deadline) {
          throw new StateManagerError(
            `state-manager request on "${subject}" failed after ${attempt} attempt(s)`,
            { cause: err },
          );
        }
        await delay(pauseMs);
      }
    }
  }
}
