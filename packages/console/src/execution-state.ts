/**
 * What an execution's history says about each state, folded event by event: its status (what the
 * graph colours), the Map and Parallel children with their counts, and the open task tokens. Pure,
 * so that a live event is one more `applyEvent`.
 */
import { eventDetails, eventType } from "./api";
import type { HistoryEvent } from "./api";

export type StateStatus = "running" | "retrying" | "succeeded" | "failed" | "caught" | "aborted";

export type ChildStatus = "running" | "succeeded" | "failed";

export interface ChildRun {
  index: number;
  executionId: string;
  status: ChildStatus;
}

/** The iterations of a Map or branches of a Parallel state, latest run. */
export interface Children {
  kind: "map" | "parallel";
  total: number;
  items: Map<number, ChildRun>;
}

export interface OpenTask {
  token: string;
  stateName: string;
  activity: string;
  attempt: number;
  scheduledAt?: string;
}

export interface ExecutionView {
  status: Map<string, StateStatus>;
  children: Map<string, Children>;
  openTasks: Map<string, OpenTask>;
  /** The state that failed last and was not yet left another way (a catch or the end). */
  lastFailed: string | undefined;
  lastEventId: number;
}

export function emptyView(): ExecutionView {
  return {
    status: new Map(),
    children: new Map(),
    openTasks: new Map(),
    lastFailed: undefined,
    lastEventId: 0,
  };
}

const str = (value: unknown): string => (typeof value === "string" ? value : "");
const num = (value: unknown): number => (typeof value === "number" ? value : Number(value ?? 0));

function childrenOf(view: ExecutionView, name: string, kind: "map" | "parallel"): Children {
  let children = view.children.get(name);
  if (children === undefined) {
    children = { kind, total: 0, items: new Map() };
    view.children.set(name, children);
  }
  return children;
}

/** Folds one event into `view` (mutates it); ids are prefixed with `prefix` (nested branches). */
export function applyEvent(view: ExecutionView, event: HistoryEvent, prefix = ""): void {
  view.lastEventId = Math.max(view.lastEventId, event.eventId);
  const type = eventType(event);
  const details = eventDetails(event);
  const name = event.stateName ?? "";
  const id = `${prefix}${name}`;
  switch (type) {
    case "stateEntered":
      // A state entered while another had failed and not been left: that failure was caught.
      if (view.lastFailed !== undefined && view.status.get(view.lastFailed) === "failed") {
        view.status.set(view.lastFailed, "caught");
      }
      view.lastFailed = undefined;
      view.status.set(id, "running");
      // A state entered again (a loop) starts a new round of children.
      view.children.delete(name);
      return;
    case "stateExited":
      // Left after a failure that was not retried: a Catch took it (its Next comes next).
      view.status.set(id, view.lastFailed === id ? "caught" : "succeeded");
      if (view.lastFailed === id) view.lastFailed = undefined;
      return;
    case "taskScheduled":
      view.status.set(id, "running");
      view.openTasks.set(str(details.taskToken), {
        token: str(details.taskToken),
        stateName: name,
        activity: str(details.activity),
        attempt: num(details.attempt),
        scheduledAt: event.timestamp,
      });
      return;
    case "taskSucceeded":
    case "taskCancelled":
      view.openTasks.delete(str(details.taskToken));
      return;
    case "taskFailed":
    case "taskTimedOut":
      view.openTasks.delete(str(details.taskToken));
      view.status.set(id, "failed");
      view.lastFailed = id;
      return;
    case "mapFailed":
    case "parallelFailed":
      view.status.set(id, "failed");
      view.lastFailed = id;
      return;
    case "taskRetryScheduled":
      view.status.set(id, "retrying");
      view.lastFailed = undefined;
      return;
    case "mapStarted":
      childrenOf(view, name, "map").total = num(details.itemCount);
      return;
    case "parallelStarted":
      childrenOf(view, name, "parallel").total = num(details.branchCount);
      return;
    case "mapIterationStarted":
    case "parallelBranchStarted": {
      const children = childrenOf(view, name, type === "mapIterationStarted" ? "map" : "parallel");
      const index = num(details.index);
      children.items.set(index, { index, executionId: str(details.childExecutionId), status: "running" });
      return;
    }
    case "mapIterationSucceeded":
    case "mapIterationFailed":
    case "parallelBranchSucceeded":
    case "parallelBranchFailed": {
      const item = view.children.get(name)?.items.get(num(details.index));
      if (item) item.status = type.endsWith("Succeeded") ? "succeeded" : "failed";
      return;
    }
    case "executionFailed":
    case "executionTimedOut":
      for (const [state, status] of view.status) {
        if (status === "running" || status === "retrying") view.status.set(state, "failed");
      }
      view.lastFailed = undefined;
      return;
    case "executionAborted":
      for (const [state, status] of view.status) {
        if (status === "running" || status === "retrying") view.status.set(state, "aborted");
      }
      view.openTasks.clear();
      return;
    case "executionSucceeded":
      view.lastFailed = undefined;
      return;
    default:
      return;
  }
}

/** Counts of `children`'s runs by status; not yet started ones count as pending. */
export function countByStatus(children: Children): Record<ChildStatus | "pending", number> {
  const counts = { running: 0, succeeded: 0, failed: 0, pending: 0 };
  for (const item of children.items.values()) counts[item.status]++;
  counts.pending = Math.max(0, children.total - children.items.size);
  return counts;
}

/** What the iterations read of a Map say about one of its inner states. */
export interface InnerStateSummary {
  /** The aggregate: running if any iteration is running there, else failed if any failed, ... */
  status: StateStatus;
  /** How many of the iterations read are in each status at this state. */
  counts: Partial<Record<StateStatus, number>>;
}

/** Highest first: one iteration running somewhere makes the state running, and so on down. */
const AGGREGATE_ORDER: readonly StateStatus[] = [
  "running",
  "retrying",
  "failed",
  "aborted",
  "caught",
  "succeeded",
];

/**
 * Folds the views of several iterations of one Map (each a child execution's history folded
 * without prefix) into one status per inner state: any running → running, else any retrying →
 * retrying, else any failed → failed, then aborted, caught, and succeeded when all that reached
 * it succeeded. States no iteration reached are absent.
 */
export function aggregateIterations(views: Iterable<ExecutionView>): Map<string, InnerStateSummary> {
  const out = new Map<string, InnerStateSummary>();
  for (const view of views) {
    for (const [state, status] of view.status) {
      let summary = out.get(state);
      if (summary === undefined) {
        summary = { status, counts: {} };
        out.set(state, summary);
      }
      summary.counts[status] = (summary.counts[status] ?? 0) + 1;
      if (AGGREGATE_ORDER.indexOf(status) < AGGREGATE_ORDER.indexOf(summary.status)) summary.status = status;
    }
  }
  return out;
}

/** "2 running · 5 succeeded": the counts of an inner state, highest status first. */
export function innerCountsText(summary: InnerStateSummary): string {
  return AGGREGATE_ORDER.filter((s) => (summary.counts[s] ?? 0) > 0)
    .map((s) => `${summary.counts[s]} ${s}`)
    .join(" · ");
}

/**
 * Which iterations of a Map to read to colour its inner states, at most `max`: every running one
 * first (they change), then failed ones (they explain a failure), then the earliest succeeded
 * ones. A 10,000-item Map costs `max` small history reads, not 10,000.
 */
export function iterationsToRead(children: Children, max: number): ChildRun[] {
  const byStatus = (status: ChildStatus) =>
    [...children.items.values()].filter((i) => i.status === status).sort((a, b) => a.index - b.index);
  const running = byStatus("running");
  const failed = byStatus("failed");
  const succeeded = byStatus("succeeded");
  // Room is kept for a few failed and succeeded ones however many run.
  const share = Math.max(1, Math.floor(max / 4));
  const failedKept = Math.min(share, failed.length);
  const succeededKept = Math.min(share, succeeded.length);
  const picked = running.slice(0, Math.max(0, max - failedKept - succeededKept));
  picked.push(...failed.slice(0, Math.max(0, max - picked.length - succeededKept)));
  picked.push(...succeeded.slice(0, Math.max(0, max - picked.length)));
  return picked;
}
