/**
 * The in-memory view behind ListExecutions: every entry of the execution index (KV
 * jetflow_executions, written by the state-manager), ordered newest first by start time. A
 * page is a walk from a cursor, so it costs the page (plus, for a rare status, a scan of the
 * entries in between: about a millisecond per 100,000), never a read of NATS.
 * Pure: the KV watcher feeds it (kv-view.ts).
 */
import { ExecutionStatus } from "@jetflow/contracts";
import type { ExecutionSummary } from "@jetflow/contracts";
import { ApiError } from "./errors";

/** Where a page starts: strictly older than this (start time, then id, descending). */
export interface ListCursor {
  startMs: number;
  executionId: string;
}

/** Optional filters of a page; each absent field matches every execution. */
export interface ListFilter {
  /** Only executions whose name starts with this. */
  namePrefix?: string;
  /** Only executions started at or after this time (ms since the epoch). */
  startedAfterMs?: number;
  /** Only executions started before this time (ms since the epoch). */
  startedBeforeMs?: number;
}

/** A page of executions and the cursor of the next one, if any. */
export interface ExecutionPage {
  executions: ExecutionSummary[];
  next: ListCursor | undefined;
}

interface Entry {
  startMs: number;
  id: string;
  summary: ExecutionSummary;
}

/** True when `a` sorts before `b` (older start, then smaller id). */
function before(a: { startMs: number; id: string }, b: { startMs: number; id: string }): boolean {
  return a.startMs < b.startMs || (a.startMs === b.startMs && a.id < b.id);
}

/** The index of the first element of `list` (sorted ascending) that does not sort before `key`. */
function lowerBound(list: readonly Entry[], key: { startMs: number; id: string }): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(list[mid] as Entry, key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(list: Entry[], entry: Entry): void {
  // Starts arrive mostly in order: appending is the common case.
  const last = list[list.length - 1];
  if (last === undefined || before(last, entry)) list.push(entry);
  else list.splice(lowerBound(list, entry), 0, entry);
}

function removeSorted(list: Entry[], entry: Entry): void {
  const at = lowerBound(list, entry);
  if (list[at] === entry) list.splice(at, 1);
}

/** Every listed execution, by id, by start time and by workflow. */
export class ExecutionList {
  private readonly byId = new Map<string, Entry>();
  private readonly all: Entry[] = [];
  private readonly byWorkflow = new Map<string, Entry[]>();

  get size(): number {
    return this.byId.size;
  }

  /** Adds an execution or replaces its summary (a status change). */
  upsert(summary: ExecutionSummary): void {
    const id = summary.executionId;
    const existing = this.byId.get(id);
    const startMs = summary.startTime?.getTime() ?? 0;
    if (existing !== undefined && existing.startMs === startMs) {
      existing.summary = summary;
      return;
    }
    if (existing !== undefined) this.remove(id);
    const entry: Entry = { startMs, id, summary };
    this.byId.set(id, entry);
    insertSorted(this.all, entry);
    let ofWorkflow = this.byWorkflow.get(summary.workflowName);
    if (ofWorkflow === undefined) {
      ofWorkflow = [];
      this.byWorkflow.set(summary.workflowName, ofWorkflow);
    }
    insertSorted(ofWorkflow, entry);
  }

  /** Forgets an execution (its index entry was deleted). */
  remove(executionId: string): void {
    const entry = this.byId.get(executionId);
    if (entry === undefined) return;
    this.byId.delete(executionId);
    removeSorted(this.all, entry);
    const ofWorkflow = this.byWorkflow.get(entry.summary.workflowName);
    if (ofWorkflow !== undefined) {
      removeSorted(ofWorkflow, entry);
      if (ofWorkflow.length === 0) this.byWorkflow.delete(entry.summary.workflowName);
    }
  }

  /**
   * Up to `size` executions older than `cursor` (from the newest when absent), newest first,
   * optionally only of `workflowName` ("" for all), in `status` (UNSPECIFIED for all) and
   * matching `filter`. The start-time bounds cut the walk short (the list is ordered by start).
   */
  page(
    workflowName: string,
    status: ExecutionStatus,
    size: number,
    cursor?: ListCursor,
    filter: ListFilter = {},
  ): ExecutionPage {
    const list = workflowName === "" ? this.all : (this.byWorkflow.get(workflowName) ?? []);
    let i = cursor
      ? lowerBound(list, { startMs: cursor.startMs, id: cursor.executionId }) - 1
      : list.length - 1;
    if (filter.startedBeforeMs !== undefined) {
      i = Math.min(i, lowerBound(list, { startMs: filter.startedBeforeMs, id: "" }) - 1);
    }
    const after = filter.startedAfterMs ?? -Infinity;
    const prefix = filter.namePrefix ?? "";
    const any = status === ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED;
    const executions: ExecutionSummary[] = [];
    let last: Entry | undefined;
    for (; i >= 0; i--) {
      const entry = list[i] as Entry;
      if (entry.startMs < after) break;
      if (!any && entry.summary.status !== status) continue;
      if (prefix !== "" && !entry.summary.executionName.startsWith(prefix)) continue;
      // One more match than the page holds tells that a next page exists.
      if (executions.length === size) return { executions, next: toCursor(last as Entry) };
      executions.push(entry.summary);
      last = entry;
    }
    return { executions, next: undefined };
  }
}

function toCursor(entry: Entry): ListCursor {
  return { startMs: entry.startMs, executionId: entry.id };
}

const CURSOR = /^(\d{1,16}):([A-Za-z0-9_-]{1,128})$/;

/** The page token of a cursor (opaque to clients). */
export function encodeListCursor(cursor: ListCursor): string {
  return Buffer.from(`${cursor.startMs}:${cursor.executionId}`).toString("base64url");
}

/**
 * The cursor of a page token; undefined for "".
 * @throws ApiError INVALID_ARGUMENT when the token was not issued by ListExecutions
 */
export function decodeListCursor(token: string): ListCursor | undefined {
  if (token === "") return undefined;
  const match = CURSOR.exec(Buffer.from(token, "base64url").toString());
  if (match === null) throw ApiError.invalid(`page_token: invalid page token "${token.slice(0, 100)}"`);
  return { startMs: Number(match[1]), executionId: match[2] as string };
}
