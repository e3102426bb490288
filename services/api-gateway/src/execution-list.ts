/**
 * The in-memory window behind ListExecutions: the newest executions of the execution index (KV
 * jetflow_executions, written by the state-manager), at most `capacity` of them, ordered newest
 * first by start time. The window holds every execution that sorts after its boundary (the
 * newest one it ever let go), so a page that stays above the boundary is a walk from a cursor
 * and costs the page (plus, for a rare status, a scan of the entries in between), never a read
 * of NATS. A page that would go past the boundary is not answered here (`page` says undefined):
 * the caller reads the bucket instead (execution-index.ts). Pure: the KV watcher feeds it.
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

/** A position in the list's order: start time, then execution id. */
export interface ListKey {
  startMs: number;
  id: string;
}

/** True when `a` sorts before `b` (older start, then smaller id). */
export function before(a: ListKey, b: ListKey): boolean {
  return a.startMs < b.startMs || (a.startMs === b.startMs && a.id < b.id);
}

/** The list key of a summary (an execution without a start time sorts at 0). */
export function keyOf(summary: ExecutionSummary): ListKey {
  return { startMs: summary.startTime?.getTime() ?? 0, id: summary.executionId };
}

/** What a page asks for: the arguments of `ExecutionList.page`, in one object. */
export interface ListQuery {
  /** Only executions of this workflow; "" for all. */
  workflowName: string;
  /** Only executions in this status; UNSPECIFIED for all. */
  status: ExecutionStatus;
  /** The most executions on the page. */
  size: number;
  cursor?: ListCursor | undefined;
  filter?: ListFilter;
}

/**
 * Whether the execution at `key` with `summary` belongs to a page of `query` (the cursor and every
 * filter), whatever holds it: the window's walk and a scan of the bucket answer with this same
 * rule, so that both give the same pages.
 */
export function matchesQuery(query: ListQuery, key: ListKey, summary: ExecutionSummary): boolean {
  const { cursor, filter = {} } = query;
  if (cursor !== undefined && !before(key, { startMs: cursor.startMs, id: cursor.executionId })) return false;
  if (filter.startedBeforeMs !== undefined && key.startMs >= filter.startedBeforeMs) return false;
  if (filter.startedAfterMs !== undefined && key.startMs < filter.startedAfterMs) return false;
  if (query.workflowName !== "" && summary.workflowName !== query.workflowName) return false;
  if (query.status !== ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED && summary.status !== query.status) {
    return false;
  }
  const prefix = filter.namePrefix ?? "";
  return prefix === "" || summary.executionName.startsWith(prefix);
}

/** The index of the first element of `list` (sorted ascending) that does not sort before `key`. */
function lowerBound(list: readonly Entry[], key: ListKey): number {
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

/** The newest executions (all of them while fewer than `capacity`), by id, by start time and by workflow. */
export class ExecutionList {
  private readonly byId = new Map<string, Entry>();
  private readonly all: Entry[] = [];
  private readonly byWorkflow = new Map<string, Entry[]>();
  /**
   * The newest execution the window let go; every execution that sorts after it is held.
   * Undefined while the window never let one go: it then holds every execution.
   */
  private boundary: ListKey | undefined;

  /** @param capacity the most executions held (default: no limit) */
  constructor(readonly capacity = Number.POSITIVE_INFINITY) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be at least 1, got ${capacity}`);
  }

  get size(): number {
    return this.byId.size;
  }

  /** True while the window holds every execution of the index (it never let one go). */
  get complete(): boolean {
    return this.boundary === undefined;
  }

  /**
   * Adds an execution or replaces its summary (a status change). One that sorts at or before the
   * boundary is not held (a scan of the bucket finds it); adding one beyond the capacity lets the
   * oldest go and moves the boundary to it.
   */
  upsert(summary: ExecutionSummary): void {
    const id = summary.executionId;
    const existing = this.byId.get(id);
    const { startMs } = keyOf(summary);
    if (existing !== undefined && existing.startMs === startMs) {
      existing.summary = summary;
      return;
    }
    if (existing !== undefined) this.remove(id);
    const entry: Entry = { startMs, id, summary };
    if (this.boundary !== undefined && !before(this.boundary, entry)) return;
    this.byId.set(id, entry);
    insertSorted(this.all, entry);
    let ofWorkflow = this.byWorkflow.get(summary.workflowName);
    if (ofWorkflow === undefined) {
      ofWorkflow = [];
      this.byWorkflow.set(summary.workflowName, ofWorkflow);
    }
    insertSorted(ofWorkflow, entry);
    if (this.all.length > this.capacity) {
      const oldest = this.all[0] as Entry;
      this.remove(oldest.id);
      this.boundary = { startMs: oldest.startMs, id: oldest.id };
    }
  }

  /** The summary of a held execution. */
  get(executionId: string): ExecutionSummary | undefined {
    return this.byId.get(executionId)?.summary;
  }

  /** Every held execution's summary, in no particular order (every execution while `complete`). */
  *summaries(): IterableIterator<ExecutionSummary> {
    for (const entry of this.byId.values()) yield entry.summary;
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
   * Undefined when the answer depends on executions past the window's boundary: the walk ran out
   * of held executions before it knew the page and whether another follows.
   */
  page(
    workflowName: string,
    status: ExecutionStatus,
    size: number,
    cursor?: ListCursor,
    filter: ListFilter = {},
  ): ExecutionPage | undefined {
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
      if (entry.startMs < after) return { executions, next: undefined };
      if (!any && entry.summary.status !== status) continue;
      if (prefix !== "" && !entry.summary.executionName.startsWith(prefix)) continue;
      // One more match than the page holds tells that a next page exists.
      if (executions.length === size) return { executions, next: toCursor(last as Entry) };
      executions.push(entry.summary);
      last = entry;
    }
    // Past the last held execution: the rest is known only when nothing was let go, or when what
    // was let go started before the range asked for.
    if (this.boundary === undefined || this.boundary.startMs < after) return { executions, next: undefined };
    return undefined;
  }
}

/**
 * Collects the first `size` executions of a page (and whether more follow) from executions seen
 * in any order, holding `size + 1` at most: how a scan of the bucket answers a page with the
 * window's order and cursors.
 */
export class PageCollector {
  /** A min-heap on the list order: the oldest kept match on top, the first to let go. */
  private readonly heap: Entry[] = [];
  constructor(private readonly query: ListQuery) {}

  /** Considers one execution of the index. */
  add(summary: ExecutionSummary): void {
    const key = keyOf(summary);
    if (!matchesQuery(this.query, key, summary)) return;
    const entry: Entry = { ...key, summary };
    const keep = this.query.size + 1;
    if (this.heap.length < keep) {
      this.heap.push(entry);
      this.siftUp(this.heap.length - 1);
    } else if (before(this.heap[0] as Entry, entry)) {
      this.heap[0] = entry;
      this.siftDown(0);
    }
  }

  /** The page: the newest `size` matches, and the cursor after them when one more matched. */
  page(): ExecutionPage {
    const sorted = [...this.heap].sort((a, b) => (before(a, b) ? 1 : before(b, a) ? -1 : 0));
    const more = sorted.length > this.query.size;
    const kept = more ? sorted.slice(0, this.query.size) : sorted;
    const last = kept[kept.length - 1];
    return {
      executions: kept.map((e) => e.summary),
      next: more && last !== undefined ? toCursor(last) : undefined,
    };
  }

  private siftUp(at: number): void {
    const heap = this.heap;
    while (at > 0) {
      const parent = (at - 1) >>> 1;
      if (!before(heap[at] as Entry, heap[parent] as Entry)) return;
      [heap[at], heap[parent]] = [heap[parent] as Entry, heap[at] as Entry];
      at = parent;
    }
  }

  private siftDown(at: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let smallest = at;
      if (left < heap.length && before(heap[left] as Entry, heap[smallest] as Entry)) smallest = left;
      if (right < heap.length && before(heap[right] as Entry, heap[smallest] as Entry)) smallest = right;
      if (smallest === at) return;
      [heap[at], heap[smallest]] = [heap[smallest] as Entry, heap[at] as Entry];
      at = smallest;
    }
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
