/**
 * Gathers the commits made in one turn of the event loop into one CommitBatchRequest: the
 * orchestrator decides many executions' transitions at once, and one request and one answer for
 * all of them costs the state-manager and the server far less than one pair each. A commit waits
 * at most until the end of the current turn (setImmediate), so a lone commit goes out as soon as
 * it would have alone.
 */
import { CommitBatchReply, CommitBatchRequest, decode, encode } from "@jetflow/contracts";
import type { CommitReply } from "@jetflow/contracts";

/** Sends one encoded CommitBatchRequest and resolves with the encoded answer. */
export type SendCommitBatch = (data: Uint8Array) => Promise<Uint8Array>;

/** Limits of one batch. */
export interface CommitBatchLimits {
  /** Commits in one request at most (at least 2). */
  maxCommits: number;
  /** Encoded commits' bytes in one request at most: the request must stay under max_payload. */
  maxBytes: number;
}

interface Pending {
  bytes: Uint8Array;
  resolve: (reply: CommitReply) => void;
  reject: (err: unknown) => void;
}

export class CommitBatcher {
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly send: SendCommitBatch,
    private readonly limits: CommitBatchLimits,
  ) {}

  /** True when an encoded commit of `size` bytes can travel in a batch at all. */
  fits(size: number): boolean {
    return size <= this.limits.maxBytes;
  }

  /** Queues an encoded CommitRequest; resolves with its reply, rejects when the request failed. */
  commit(bytes: Uint8Array): Promise<CommitReply> {
    if (this.pendingBytes + bytes.length > this.limits.maxBytes) this.flush();
    return new Promise<CommitReply>((resolve, reject) => {
      this.pending.push({ bytes, resolve, reject });
      this.pendingBytes += bytes.length;
      if (this.pending.length >= this.limits.maxCommits) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Sends what is queued now. */
  private flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.pendingBytes = 0;
    const request = encode(CommitBatchRequest, { commits: batch.map((p) => p.bytes) });
    this.send(request).then(
      (answer) => {
        let reply: CommitBatchReply;
        try {
          reply = decode(CommitBatchReply, "CommitBatchReply", answer, "commit batch reply");
          if (reply.error !== "") throw new Error(`commit batch refused: ${reply.error}`);
          if (reply.replies.length !== batch.length) {
            throw new Error(`commit batch answered ${reply.replies.length} of ${batch.length} commits`);
          }
        } catch (err) {
          for (const p of batch) p.reject(err);
          return;
        }
        batch.forEach((p, i) => p.resolve(reply.replies[i] as CommitReply));
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}
