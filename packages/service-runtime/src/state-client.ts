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
import { CommitBatcher } from "./commit-batcher";
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
 * How long a request to the state-manager goes unanswered before a second one is sent alongside
 * it, in milliseconds. A state-manager answers in milliseconds; a request that went to one that
 * was just killed gets no answer at all, and waiting out the whole budget (10 s) for it was the
 * recovery tail after a crash. The second reaches a live replica or the replacement; the first
 * still counts if it answers (a large load may take seconds).
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
 * Commits sent in one request at most, as the services configure it by default
 * (ORCH_MAX_COMMIT_BATCH, GATEWAY_MAX_COMMIT_BATCH): an orchestrator has at most 64 transitions in
 * flight anyway.
 */
export const DEFAULT_MAX_COMMIT_BATCH = 64;

/**
 * The client of the state-manager's request/reply API. Every call is safe to send twice (a commit
 * is de-duplicated by its batch's message id, a load only reads), so a call without an answer after
 * `attemptTimeoutMs` is sent once more alongside, and one that finds no state-manager is sent
 * again after a short pause, until `timeoutMs` has passed in all.
 */
export class StateClient {
  private readonly attemptTimeoutMs: number;
  private readonly batcher: CommitBatcher | undefined;

  /**
   * @param timeoutMs the most one call may take, resends included
   * @param attemptTimeoutMs how long a request waits alone before a second is sent; default
   *   {@link DEFAULT_STATE_ATTEMPT_TIMEOUT_MS}
   * @param maxCommitBatch the most commits sent in one request (`jetflow.state.commits`); commits
   *   made in the same turn of the event loop travel together. 1 (the default): one request each.
   */
  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
    attemptTimeoutMs = DEFAULT_STATE_ATTEMPT_TIMEOUT_MS,
    maxCommitBatch = 1,
  ) {
    this.attemptTimeoutMs = Math.min(attemptTimeoutMs, timeoutMs);
    if (maxCommitBatch > 1) {
      this.batcher = new CommitBatcher(
        async (data) => (await this.request(subjects.stateCommitBatch, data)).data,
        // Half the server's max_payload (1 MiB by default) leaves room for the envelope and the
        // headers; a larger commit goes alone on jetflow.state.commit.
        { maxCommits: maxCommitBatch, maxBytes: Math.floor((nc.info?.max_payload ?? 1024 * 1024) / 2) },
      );
    }
  }

  /** Appends a batch and stores its snapshot; "conflict" when another writer got there first. */
  async commit(request: CommitRequest): Promise<CommitResult> {
    const bytes = encode(CommitRequest, request);
    const reply =
      this.batcher?.fits(bytes.length) === true
        ? await this.batcher.commit(bytes).catch((err: unknown) => {
            throw err instanceof StateManagerError
              ? err
              : new StateManagerError(
                  `commit batch failed: ${err instanceof Error ? err.message : String(err)}`,
                  { cause: err },
                );
          })
        : decode(
            CommitReply,
            "CommitReply",
            (await this.request(subjects.stateCommit, bytes)).data,
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

  private request(subject: string, data: Uint8Array): Promise<Msg> {
    return hedgedRequest(this.nc, subject, data, this.timeoutMs, this.attemptTimeoutMs).catch(
      (err: unknown) => {
        const attempts = err instanceof HedgeFailure ? err.attempts : 1;
        throw new StateManagerError(
          `state-manager request on "${subject}" failed after ${attempts} attempt(s)`,
          {
            cause: err instanceof HedgeFailure ? err.cause : err,
          },
        );
      },
    );
  }
}

/** The last error of a hedged request, with the number of requests sent. */
class HedgeFailure extends Error {
  override readonly name = "HedgeFailure";
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`failed after ${attempts} attempt(s)`, { cause });
  }
}

/**
 * Sends a request and, when it gets no answer within `hedgeAfterMs`, sends it once more while
 * still waiting for the first: whichever answers first wins, until `timeoutMs` in all. A slow
 * answer is not thrown away (a large load may take seconds), and a request held by a process
 * that died is covered by the second. A request that finds no responders (or a disconnect) is
 * sent again after a short pause.
 */
function hedgedRequest(
  nc: NatsConnection,
  subject: string,
  data: Uint8Array,
  timeoutMs: number,
  hedgeAfterMs: number,
): Promise<Msg> {
  const deadline = Date.now() + timeoutMs;
  return new Promise<Msg>((resolve, reject) => {
    let settled = false;
    let attempts = 0;
    let outstanding = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const later = (ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(send, ms);
    };
    function send(): void {
      const leftMs = deadline - Date.now();
      if (settled || leftMs <= 0) return;
      attempts++;
      outstanding++;
      // At most one extra request in flight: never more than twice the work for a slow answer.
      if (outstanding < 2 && leftMs > hedgeAfterMs) later(hedgeAfterMs);
      nc.request(subject, data, { timeout: leftMs }).then(
        (msg) => finish(() => resolve(msg)),
        (err: unknown) => {
          outstanding--;
          if (settled) return;
          // No responders (none subscribed right now) or a disconnect: worth sending again soon.
          const retryable = err instanceof Error && err.name === "RequestError" && !nc.isClosed();
          const pauseMs = stateRetryDelayMs(attempts);
          if (retryable && Date.now() + pauseMs < deadline) {
            if (outstanding === 0) later(pauseMs);
          } else if (outstanding === 0) {
            finish(() => reject(new HedgeFailure(attempts, err)));
          }
        },
      );
    }
    send();
  });
}
