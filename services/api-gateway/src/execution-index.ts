/**
 * The execution index as the API reads it: the gateway's bounded window of the newest executions
 * (execution-list.ts, fed by a KV watch) for the pages it can answer, and a scan of the bucket
 * jetflow_executions for the others (a page past the window, a filter whose matches the window
 * does not hold, the engine's counts once the window let executions go). A scan reads every
 * entry once and keeps only the page being built, so the gateway's memory does not grow with the
 * number of executions the bucket holds; its time does (about a second per 100,000 entries).
 */
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ExecutionSummary, buckets, decode, kvKeySubject, kvStreamName } from "@jetflow/contracts";
import type { ExecutionStatus } from "@jetflow/contracts";
import type { Logger } from "@jetflow/service-runtime";
import { ApiError } from "./errors";
import { PageCollector, keyOf } from "./execution-list";
import type { ExecutionList, ExecutionPage, ListCursor, ListFilter } from "./execution-list";
import type { KvView } from "./kv-view";

/** Calls `visit` with the current summary of every execution in the index, in no particular order. */
export type IndexScan = (visit: (summary: ExecutionSummary) => void) => Promise<void>;

/** The window size when EXECUTION_LIST_WINDOW is unset. */
export const DEFAULT_LIST_WINDOW = 10_000;

/** How long one scan of the bucket may take before the call fails UNAVAILABLE. */
const SCAN_TIMEOUT_MS = 120_000;

/**
 * Reads the last value of every key of jetflow_executions through an ordered consumer (no server
 * state left behind), up to the entry that was last when the read began (plus any written
 * meanwhile). Deleted keys and entries that do not decode are skipped.
 * @throws ApiError UNAVAILABLE when the read takes longer than two minutes
 */
export function createIndexScan(nc: NatsConnection, log?: Logger): IndexScan {
  return async (visit) => {
    const consumer = await jetstream(nc).consumers.get(kvStreamName(buckets.executions), {
      filter_subjects: kvKeySubject(buckets.executions, ">"),
      deliver_policy: DeliverPolicy.LastPerSubject,
    });
    // An ordered consumer on an empty bucket would wait for the next write.
    if ((await consumer.info(true)).num_pending === 0) return;
    let undecodable = 0;
    let failure: unknown;
    // Each entry is handled as it arrives (a callback, not an iterator's queue), so that what a
    // scan allocates dies young instead of piling up in the heap between collections.
    const messages = await consumer.consume({
      max_messages: 500,
      expires: 5_000,
      callback: (msg) => {
        if (failure !== undefined) return;
        const operation = msg.headers?.get("KV-Operation") ?? "";
        if (operation === "" && msg.data.length > 0) {
          let summary: ExecutionSummary | undefined;
          try {
            summary = decode(ExecutionSummary, "ExecutionSummary", msg.data, msg.subject);
          } catch {
            undecodable++;
          }
          try {
            if (summary !== undefined) visit(summary);
          } catch (err) {
            failure = err;
          }
        }
        if (failure !== undefined || msg.info.pending === 0) void messages.stop();
      },
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void messages.stop();
    }, SCAN_TIMEOUT_MS);
    try {
      await messages.closed();
    } finally {
      clearTimeout(timer);
    }
    if (failure !== undefined) throw failure;
    if (undecodable > 0) log?.warn({ undecodable }, "execution index entries skipped by a scan");
    if (timedOut) {
      throw ApiError.unavailable(`reading the execution index took longer than ${SCAN_TIMEOUT_MS / 1000} s`);
    }
  };
}

/** The cursor after `summary`. */
function keyCursor(summary: ExecutionSummary): ListCursor {
  const key = keyOf(summary);
  return { startMs: key.startMs, executionId: key.id };
}

/** Options of `ExecutionIndex`. */
export interface ExecutionIndexOptions {
  /** The window of the newest executions. */
  list: ExecutionList;
  /** The watch that feeds `list`; synced before each read. */
  view: Pick<KvView, "sync">;
  /** Reads the whole bucket (createIndexScan); used only when the window cannot answer. */
  scan: IndexScan;
  /** Reads one execution's current summary from the bucket (undefined when it has none). */
  get: (executionId: string) => Promise<ExecutionSummary | undefined>;
}

/** A page and, when it was read from the bucket, the executions read ahead after it. */
export interface PageReadAhead extends ExecutionPage {
  /**
   * The executions that follow the page (as they were when read) and the cursor after them:
   * the next pages, without another scan. Absent when the window answered or nothing follows.
   */
  ahead?: ExecutionPage;
}

/** Pages and counts of the execution index, from the window when it can answer, else from a scan. */
export class ExecutionIndex {
  /** Scans done since start (a counter for tests and the curious). */
  scans = 0;

  constructor(private readonly o: ExecutionIndexOptions) {}

  /**
   * The page of ListExecutions (see `ExecutionList.page`): what the window answers, else the
   * same page read from the bucket. An execution whose start was acknowledged before the call is
   * on it (the window is synced first, and a scan reads the bucket after that).
   * @throws ApiError UNAVAILABLE when the window does not catch up or a scan takes too long
   */
  page(
    workflowName: string,
    status: ExecutionStatus,
    size: number,
    cursor?: ListCursor,
    filter: ListFilter = {},
  ): Promise<ExecutionPage> {
    return this.pageReadingAhead(workflowName, status, size, size, cursor, filter);
  }

  /**
   * `page`, but a scan of the bucket keeps up to `readAhead` executions (at least `size`) and
   * returns those after the page as `ahead`: how a bulk operation pays one scan for many batches.
   */
  async pageReadingAhead(
    workflowName: string,
    status: ExecutionStatus,
    size: number,
    readAhead: number,
    cursor?: ListCursor,
    filter: ListFilter = {},
  ): Promise<PageReadAhead> {
    await this.o.view.sync();
    const fromWindow = this.o.list.page(workflowName, status, size, cursor, filter);
    if (fromWindow !== undefined) return fromWindow;
    const collector = new PageCollector({
      workflowName,
      status,
      size: Math.max(size, readAhead),
      cursor,
      filter,
    });
    this.scans++;
    await this.o.scan((summary) => collector.add(summary));
    const read = collector.page();
    if (read.executions.length <= size) return read;
    const executions = read.executions.slice(0, size);
    return {
      executions,
      next: keyCursor(executions[size - 1] as ExecutionSummary),
      ahead: { executions: read.executions.slice(size), next: read.next },
    };
  }

  /**
   * The current summary of each of `executionIds` that still has one, by id: from the window
   * when it holds the execution, else from the bucket.
   */
  async current(executionIds: readonly string[]): Promise<Map<string, ExecutionSummary>> {
    await this.o.view.sync();
    const found = new Map<string, ExecutionSummary>();
    await Promise.all(
      executionIds.map(async (id) => {
        const summary = this.o.list.get(id) ?? (await this.o.get(id));
        if (summary !== undefined) found.set(id, summary);
      }),
    );
    return found;
  }

  /**
   * Calls `visit` with every execution of the index: from the window while it holds them all,
   * else from a scan of the bucket.
   */
  async forEach(visit: (summary: ExecutionSummary) => void): Promise<void> {
    await this.o.view.sync();
    if (this.o.list.complete) {
      for (const summary of this.o.list.summaries()) visit(summary);
      return;
    }
    this.scans++;
    await this.o.scan(visit);
  }
}
