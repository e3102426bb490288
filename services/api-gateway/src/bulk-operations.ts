/**
 * Bulk operations: one tracked operation that applies an action (a stop or a redrive) to every
 * top-level execution matching a filter. The operation lives in the KV bucket jetflow_bulk_operations; any
 * api-gateway replica processes it, one at a time: a replica takes the operation's lease by
 * writing its own id and an expiry with compare-and-set on the entry's revision, processes one
 * bounded batch from the operation's cursor, and writes the progress and a renewed lease with
 * compare-and-set again. A write that fails lost the lease (another replica took over after it
 * expired); a replica that dies leaves a lease that expires, and the next one resumes from the
 * last cursor written. The action is idempotent (a stop of a stopped execution is skipped, a
 * redriven execution is RUNNING and no longer matches), so a batch done twice after a crash
 * changes nothing but the counters of that batch.
 */
import { createHash, randomUUID } from "node:crypto";
import {
  BulkAction,
  BulkOperation,
  BulkOperationState,
  ExecutionStatus,
  decode,
  encode,
} from "@jetflow/contracts";
import type { BulkFilter, ExecutionSummary } from "@jetflow/contracts";
import type { Logger } from "@jetflow/service-runtime";
import type { KV, KvEntry } from "@nats-io/kv";
import { ApiError, RequestProblems } from "./errors";
import type { ExecutionIndex } from "./execution-index";
import type { ExecutionPage } from "./execution-list";
import { decodeListCursor, encodeListCursor, keyOf, matchesQuery } from "./execution-list";
import type { KvView } from "./kv-view";
import { WORKFLOW_NAME_RULE, isWorkflowName } from "./workflows";

/** How the processor paces itself. */
export interface BulkProcessingConfig {
  /** Executions per batch (one progress write per batch). Default 100. */
  batchSize: number;
  /** Pause between two batches of one operation, in ms: spares the engine. Default 100. */
  batchIntervalMs: number;
  /** How long a lease lasts without a progress write, in ms. Default 15000. */
  leaseMs: number;
  /** How often idle replicas look for operations to take, in ms. Default 1000. */
  pollMs: number;
}

/** What the processor needs of the gateway. */
export interface BulkOperationsOptions {
  kv: KV;
  /** The execution index (the window of the newest executions, else a scan of the bucket). */
  executionIndex: Pick<ExecutionIndex, "pageReadingAhead" | "current" | "forEach">;
  /**
   * Stops one execution (Executions.stop); rejects with ApiError FAILED_PRECONDITION or NOT_FOUND
   * when it is not running.
   */
  stop: (executionId: string, error: string, cause: string, identity?: string) => Promise<unknown>;
  /**
   * Redrives one execution (Executions.redrive); rejects with ApiError FAILED_PRECONDITION (saying
   * why) or NOT_FOUND when it cannot be redriven.
   */
  redrive: (executionId: string, identity?: string) => Promise<unknown>;
  config: BulkProcessingConfig;
  log: Logger;
  now?: () => Date;
}

/** The actions this release processes. */
const KNOWN_ACTIONS: readonly BulkAction[] = [BulkAction.BULK_ACTION_STOP, BulkAction.BULK_ACTION_REDRIVE];
/** Actions (stops, redrives) applied at once within a batch. */
const ACTION_CONCURRENCY = 16;
const MAX_ERROR_LENGTH = 256;
const MAX_CAUSE_LENGTH = 32_768;
/**
 * Executions a batch read from a scan of the bucket keeps for the next batches (50 batches, at
 * most 5,000 summaries unless a batch is larger): an operation over executions older than the
 * gateway's window pays one scan per 50 batches, not one per batch.
 */
function readAheadOf(batchSize: number): number {
  return Math.max(batchSize, Math.min(50 * batchSize, 5_000));
}

/**
 * What an operation does with one listed execution: applies its action, counts it as skipped (it
 * matched when the operation was created, and the action no longer applies), or ignores it (it
 * never matched).
 */
export type BulkDecision = "apply" | "skip" | "ignore";

/** The statuses a redrive applies to (those RedriveExecution accepts). */
export const REDRIVABLE_STATUSES: readonly ExecutionStatus[] = [
  ExecutionStatus.EXECUTION_STATUS_FAILED,
  ExecutionStatus.EXECUTION_STATUS_TIMED_OUT,
  ExecutionStatus.EXECUTION_STATUS_ABORTED,
];

/** What a stop does with one listed execution (pure). */
export function stopDecision(summary: ExecutionSummary, createdMs: number): BulkDecision {
  if (summary.status === ExecutionStatus.EXECUTION_STATUS_RUNNING) return "apply";
  // Ended after the operation was created: it matched then, and ended by itself since.
  const stopMs = summary.stopTime?.getTime() ?? 0;
  return stopMs >= createdMs ? "skip" : "ignore";
}

/**
 * What a redrive does with one listed execution (pure): redrives it when it is in a status the
 * filter names (`status`, or any of REDRIVABLE_STATUSES when unspecified) and ended before the
 * operation was created. One that ended since was running then (or was redriven since, and
 * ended again): it is left alone, so that an operation never redrives an execution twice.
 * Whether it can be redriven (the 14-day window, a state to resume) is for the redrive to say.
 */
export function redriveDecision(
  summary: ExecutionSummary,
  status: ExecutionStatus,
  createdMs: number,
): BulkDecision {
  const statuses = status === ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED ? REDRIVABLE_STATUSES : [status];
  if (!statuses.includes(summary.status)) return "ignore";
  const stopMs = summary.stopTime?.getTime() ?? 0;
  return stopMs < createdMs ? "apply" : "ignore";
}

/** What `op` does with one listed execution (pure): its action's decision. */
export function bulkDecision(
  op: Pick<BulkOperation, "action" | "filter">,
  summary: ExecutionSummary,
  createdMs: number,
): BulkDecision {
  switch (op.action) {
    case BulkAction.BULK_ACTION_STOP:
      return stopDecision(summary, createdMs);
    case BulkAction.BULK_ACTION_REDRIVE:
      return redriveDecision(
        summary,
        op.filter?.status ?? ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
        createdMs,
      );
    default:
      return "ignore";
  }
}

/**
 * The id of an operation started with `requestId` (the same for every retry of the start). A
 * redrive's differs from a stop's with the same request id.
 */
export function bulkOperationId(requestId: string, action: BulkAction = BulkAction.BULK_ACTION_STOP): string {
  if (requestId === "") return `bulk-${randomUUID()}`;
  const key = action === BulkAction.BULK_ACTION_STOP ? requestId : `${action}:${requestId}`;
  return `bulk-${createHash("sha256").update(key).digest("hex").slice(0, 32)}`;
}

/**
 * Adds the problems of an action's filter to `problems` and returns it with its bounds made
 * explicit (executions started after `now` never match) and, for a stop, its status RUNNING.
 */
function checkFilter(
  action: BulkAction,
  filter: BulkFilter | undefined,
  now: Date,
  problems: RequestProblems,
): BulkFilter {
  const f: BulkFilter = filter ?? {
    workflowName: "",
    status: ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
    namePrefix: "",
    startedAfter: undefined,
    startedBefore: undefined,
  };
  if (f.workflowName !== "" && !isWorkflowName(f.workflowName))
    problems.add("filter.workflow_name", WORKFLOW_NAME_RULE);
  const stop = action === BulkAction.BULK_ACTION_STOP;
  if (f.status !== ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED) {
    if (stop && f.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) {
      problems.add("filter.status", "a stop applies to RUNNING executions only: leave it unset or RUNNING");
    } else if (!stop && !REDRIVABLE_STATUSES.includes(f.status)) {
      problems.add(
        "filter.status",
        "a redrive applies to FAILED, TIMED_OUT or ABORTED executions only: leave it unset (all three) or name one",
      );
    }
  }
  if (f.workflowName === "" && f.namePrefix === "" && !f.startedAfter && !f.startedBefore) {
    problems.add(
      "filter",
      `set at least one of workflow_name, name_prefix, started_after and started_before (a ${stop ? "stop" : "redrive"} of everything must be asked for with a time bound)`,
    );
  }
  if (f.startedAfter && f.startedBefore && f.startedAfter >= f.startedBefore) {
    problems.add("filter.started_before", "must be later than started_after");
  }
  const before = f.startedBefore && f.startedBefore < now ? f.startedBefore : now;
  return { ...f, status: stop ? ExecutionStatus.EXECUTION_STATUS_RUNNING : f.status, startedBefore: before };
}

/**
 * Checks a stop's filter and returns it with its bounds made explicit: executions started after
 * `now` never match.
 * @throws ApiError INVALID_ARGUMENT naming every problem
 */
export function checkStopFilter(
  filter: BulkFilter | undefined,
  error: string,
  cause: string,
  now: Date,
): BulkFilter {
  const problems = new RequestProblems();
  const checked = checkFilter(BulkAction.BULK_ACTION_STOP, filter, now, problems);
  if (error.length > MAX_ERROR_LENGTH)
    problems.add("error", `must be at most ${MAX_ERROR_LENGTH} characters`);
  if (cause.length > MAX_CAUSE_LENGTH)
    problems.add("cause", `must be at most ${MAX_CAUSE_LENGTH} characters`);
  problems.check();
  return checked;
}

/**
 * Checks a redrive's filter and returns it with its bounds made explicit: executions started
 * after `now` never match. Its status stays unset for "FAILED, TIMED_OUT or ABORTED".
 * @throws ApiError INVALID_ARGUMENT naming every problem
 */
export function checkRedriveFilter(filter: BulkFilter | undefined, now: Date): BulkFilter {
  const problems = new RequestProblems();
  const checked = checkFilter(BulkAction.BULK_ACTION_REDRIVE, filter, now, problems);
  problems.check();
  return checked;
}

function listFilter(filter: BulkFilter) {
  return {
    namePrefix: filter.namePrefix,
    startedAfterMs: filter.startedAfter?.getTime(),
    startedBeforeMs: filter.startedBefore?.getTime(),
  };
}

/** The bulk operations of one gateway: the API's calls and the processor of its share. */
export class BulkOperations {
  /** This process's id in leases. */
  readonly owner = `gw-${randomUUID()}`;
  private readonly operations = new Map<string, { op: BulkOperation; revision: number }>();
  private view: KvView | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly now: () => Date;
  /** The executions read ahead for an operation's next batches, valid at that cursor only. */
  private ahead: { operationId: string; cursor: string; page: ExecutionPage } | undefined;

  constructor(private readonly o: BulkOperationsOptions) {
    this.now = o.now ?? (() => new Date());
  }

  /** Applies one entry of the bucket to the in-memory list (the KV view calls it). */
  apply(entry: KvEntry): void {
    if (entry.operation !== "PUT") {
      this.operations.delete(entry.key);
      return;
    }
    const op = decode(BulkOperation, "BulkOperation", entry.value, entry.key);
    this.operations.set(entry.key, { op, revision: entry.revision });
  }

  /** Starts processing (the view must be started by the caller). */
  start(view: KvView): void {
    this.view = view;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops taking batches; resolves once the batch in progress has been written. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /**
   * Creates a stop operation, or returns the one an earlier call with the same request id made.
   * @throws ApiError INVALID_ARGUMENT
   */
  async startStop(
    req: { filter?: BulkFilter; error: string; cause: string; requestId: string },
    identity: string | undefined,
  ): Promise<{ operation: BulkOperation; created: boolean }> {
    const now = this.now();
    const filter = checkStopFilter(req.filter, req.error, req.cause, now);
    return await this.create(BulkAction.BULK_ACTION_STOP, filter, req, now, identity);
  }

  /**
   * Creates a redrive operation, or returns the one an earlier call with the same request id made.
   * @throws ApiError INVALID_ARGUMENT
   */
  async startRedrive(
    req: { filter?: BulkFilter; requestId: string },
    identity: string | undefined,
  ): Promise<{ operation: BulkOperation; created: boolean }> {
    const now = this.now();
    const filter = checkRedriveFilter(req.filter, now);
    return this.create(
      BulkAction.BULK_ACTION_REDRIVE,
      filter,
      { ...req, error: "", cause: "" },
      now,
      identity,
    );
  }

  /** Creates an operation with a checked filter, counting the executions it matches now. */
  private async create(
    action: BulkAction,
    filter: BulkFilter,
    req: { error: string; cause: string; requestId: string },
    now: Date,
    identity: string | undefined,
  ): Promise<{ operation: BulkOperation; created: boolean }> {
    const operationId = bulkOperationId(req.requestId, action);
    const existing = await this.o.kv.get(operationId);
    if (existing?.operation === "PUT") {
      return {
        operation: decode(BulkOperation, "BulkOperation", existing.value, operationId),
        created: false,
      };
    }
    const createdMs = now.getTime();
    const query = {
      workflowName: filter.workflowName,
      status: filter.status,
      size: 0,
      filter: listFilter(filter),
    };
    let matched = 0;
    // Counted one at a time: an operation over more executions than the window holds scans the
    // bucket without holding its matches.
    await this.o.executionIndex.forEach((summary) => {
      if (!matchesQuery(query, keyOf(summary), summary)) return;
      if (bulkDecision({ action, filter }, summary, createdMs) === "apply") matched++;
    });
    const operation: BulkOperation = {
      operationId,
      action,
      filter,
      state:
        matched === 0
          ? BulkOperationState.BULK_OPERATION_STATE_COMPLETED
          : BulkOperationState.BULK_OPERATION_STATE_RUNNING,
      matched,
      done: 0,
      skipped: 0,
      failed: 0,
      lastFailure: "",
      createTime: now,
      updateTime: now,
      endTime: matched === 0 ? now : undefined,
      createdBy: identity ?? "",
      stopError: req.error,
      stopCause: req.cause,
      cursor: "",
      leaseOwner: "",
      leaseExpireTime: undefined,
      lastSkipReason: "",
    };
    try {
      await this.o.kv.create(operationId, encode(BulkOperation, operation));
    } catch (err) {
      // A concurrent retry with the same request id created it first.
      const raced = await this.o.kv.get(operationId);
      if (raced?.operation !== "PUT") throw err;
      return { operation: decode(BulkOperation, "BulkOperation", raced.value, operationId), created: false };
    }
    this.o.log.info(
      { operationId, action: action === BulkAction.BULK_ACTION_STOP ? "stop" : "redrive", matched, identity },
      "bulk operation created",
    );
    this.wake?.();
    return { operation, created: true };
  }

  /** @throws ApiError NOT_FOUND */
  async describe(operationId: string): Promise<BulkOperation> {
    const entry = /^[A-Za-z0-9_-]{1,100}$/.test(operationId) ? await this.o.kv.get(operationId) : null;
    if (!entry || entry.operation !== "PUT")
      throw ApiError.notFound(`bulk operation "${operationId}" not found`);
    return decode(BulkOperation, "BulkOperation", entry.value, operationId);
  }

  /** Operations newest first; the page token is the last one's id. */
  async list(pageSize: number, pageToken: string, visible: (op: BulkOperation) => boolean) {
    await this.view?.sync();
    const all = [...this.operations.values()]
      .map((e) => e.op)
      .filter(visible)
      .sort(
        (a, b) =>
          (b.createTime?.getTime() ?? 0) - (a.createTime?.getTime() ?? 0) ||
          a.operationId.localeCompare(b.operationId),
      );
    const from = pageToken === "" ? 0 : all.findIndex((op) => op.operationId === pageToken) + 1;
    const operations = all.slice(from, from + pageSize);
    const more = from + pageSize < all.length;
    return { operations, nextPageToken: more ? (operations[operations.length - 1]?.operationId ?? "") : "" };
  }

  private async run(): Promise<void> {
    while (this.running) {
      let worked = false;
      for (const [key, { op, revision }] of [...this.operations]) {
        if (!this.running) break;
        if (op.state !== BulkOperationState.BULK_OPERATION_STATE_RUNNING) continue;
        // An action added by a newer release (during a rolling upgrade): left to the replicas that know it.
        if (!KNOWN_ACTIONS.includes(op.action)) continue;
        const leaseFree =
          op.leaseOwner === "" ||
          op.leaseOwner === this.owner ||
          (op.leaseExpireTime?.getTime() ?? 0) <= this.now().getTime();
        if (!leaseFree) continue;
        try {
          worked = (await this.process(key, op, revision)) || worked;
        } catch (err) {
          this.o.log.warn({ err, operationId: key }, "bulk operation batch failed; retrying");
        }
      }
      if (!worked && this.running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.o.config.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** Takes the lease, then runs batches while it holds it; true when it did any work. */
  private async process(key: string, first: BulkOperation, firstRevision: number): Promise<boolean> {
    let op = first;
    let revision = await this.write(key, this.leased(op), firstRevision);
    if (revision === undefined) return false;
    op = this.leased(op);
    this.o.log.info({ operationId: key, done: op.done }, "bulk operation taken");
    while (this.running && op.state === BulkOperationState.BULK_OPERATION_STATE_RUNNING) {
      const next = await this.batch(op);
      revision = await this.write(key, next, revision);
      if (revision === undefined) {
        this.o.log.warn({ operationId: key }, "bulk operation lease lost");
        return true;
      }
      op = next;
      if (op.state === BulkOperationState.BULK_OPERATION_STATE_RUNNING && this.o.config.batchIntervalMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, this.o.config.batchIntervalMs));
      }
    }
    if (op.state === BulkOperationState.BULK_OPERATION_STATE_COMPLETED) {
      this.o.log.info(
        { operationId: key, matched: op.matched, done: op.done, skipped: op.skipped, failed: op.failed },
        "bulk operation completed",
      );
    }
    return true;
  }

  private leased(op: BulkOperation): BulkOperation {
    const now = this.now();
    return {
      ...op,
      leaseOwner: this.owner,
      leaseExpireTime: new Date(now.getTime() + this.o.config.leaseMs),
      updateTime: now,
    };
  }

  /** The operation after its next batch (not yet written). */
  private async batch(op: BulkOperation): Promise<BulkOperation> {
    const filter = op.filter as BulkFilter;
    const createdMs = op.createTime?.getTime() ?? 0;
    const page = await this.nextPage(op, filter);
    let { done, skipped, failed, lastFailure, lastSkipReason } = op;
    const todo: ExecutionSummary[] = [];
    for (const summary of page.executions) {
      const decision = bulkDecision(op, summary, createdMs);
      if (decision === "apply") todo.push(summary);
      else if (decision === "skip") skipped++;
    }
    for (let i = 0; i < todo.length; i += ACTION_CONCURRENCY) {
      const outcomes = await Promise.all(
        todo.slice(i, i + ACTION_CONCURRENCY).map(async (summary) => {
          try {
            await this.applyAction(op, summary.executionId);
            return "done" as const;
          } catch (err) {
            // Not running (a stop), not redrivable (a redrive) or gone: skipped, with the reason.
            if (err instanceof ApiError && (err.code === 9 || err.code === 5)) return { skip: err.message };
            // Anything else (the engine unavailable) fails the batch, to be done again.
            if (!(err instanceof ApiError)) throw err;
            return { failure: `${summary.executionId}: ${err.message}` };
          }
        }),
      );
      for (const outcome of outcomes) {
        if (outcome === "done") done++;
        else if (outcome.skip !== undefined) {
          skipped++;
          lastSkipReason = outcome.skip;
        } else {
          failed++;
          lastFailure = outcome.failure ?? "";
        }
      }
    }
    const now = this.now();
    const finished = page.next === undefined;
    return {
      ...this.leased(op),
      done,
      skipped,
      failed,
      lastFailure,
      lastSkipReason,
      cursor: page.next ? encodeListCursor(page.next) : op.cursor,
      state: finished
        ? BulkOperationState.BULK_OPERATION_STATE_COMPLETED
        : BulkOperationState.BULK_OPERATION_STATE_RUNNING,
      endTime: finished ? now : undefined,
      leaseOwner: finished ? "" : this.owner,
      leaseExpireTime: finished ? undefined : new Date(now.getTime() + this.o.config.leaseMs),
    };
  }

  /**
   * The executions of `op`'s next batch: from what an earlier batch read ahead at this cursor,
   * else from the index (reading ahead when it scans the bucket). What was read ahead is as old
   * as that scan: each execution's current summary is read again, so that the batch decides on
   * the same summaries as one read now (an execution deleted since is left out).
   */
  private async nextPage(op: BulkOperation, filter: BulkFilter): Promise<ExecutionPage> {
    const size = this.o.config.batchSize;
    const cached = this.ahead;
    this.ahead = undefined;
    if (cached !== undefined && cached.operationId === op.operationId && cached.cursor === op.cursor) {
      const taken = cached.page.executions.slice(0, size);
      const rest = cached.page.executions.slice(size);
      const last = taken[taken.length - 1] as ExecutionSummary;
      const next =
        rest.length > 0 ? { startMs: keyOf(last).startMs, executionId: last.executionId } : cached.page.next;
      if (rest.length > 0 && next !== undefined) {
        this.ahead = {
          operationId: op.operationId,
          cursor: encodeListCursor(next),
          page: { executions: rest, next: cached.page.next },
        };
      }
      const current = await this.o.executionIndex.current(taken.map((s) => s.executionId));
      return { executions: taken.flatMap((s) => current.get(s.executionId) ?? []), next };
    }
    const page = await this.o.executionIndex.pageReadingAhead(
      filter.workflowName,
      ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
      size,
      readAheadOf(size),
      decodeListCursor(op.cursor),
      listFilter(filter),
    );
    if (page.ahead !== undefined && page.next !== undefined) {
      this.ahead = { operationId: op.operationId, cursor: encodeListCursor(page.next), page: page.ahead };
    }
    return page;
  }

  /** Applies `op`'s action to one execution. */
  private applyAction(op: BulkOperation, executionId: string): Promise<unknown> {
    const identity = op.createdBy || undefined;
    switch (op.action) {
      case BulkAction.BULK_ACTION_STOP:
        return this.o.stop(executionId, op.stopError, op.stopCause, identity);
      case BulkAction.BULK_ACTION_REDRIVE:
        return this.o.redrive(executionId, identity);
      default:
        return Promise.reject(ApiError.invalid(`unknown bulk action ${op.action}`));
    }
  }

  /** Writes `op` if the entry is still at `revision`; the new revision, or undefined when it moved. */
  private async write(key: string, op: BulkOperation, revision: number): Promise<number | undefined> {
    try {
      return await this.o.kv.update(key, encode(BulkOperation, op), revision);
    } catch (err) {
      const current = await this.o.kv.get(key);
      if (current?.revision !== revision) return undefined;
      throw err;
    }
  }
}
