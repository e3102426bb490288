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
import type { NatsConnection } from "@nats-io/transport-node";

/** Thrown when the state-manager answers with an error or does not answer. */
export class StateManagerError extends Error {
  override readonly name = "StateManagerError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export type CommitResult = { kind: "ok"; eventSeq: number; duplicate: boolean } | { kind: "conflict" };

export class StateClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {}

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

  private async request(subject: string, data: Uint8Array) {
    try {
      return await this.nc.request(subject, data, { timeout: this.timeoutMs });
    } catch (err) {
      throw new StateManagerError(`state-manager request on "${subject}" failed`, { cause: err });
    }
  }
}
