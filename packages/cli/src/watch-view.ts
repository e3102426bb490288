/**
 * What `jetflow watch` prints for each history event: a line when a state is entered and when it
 * is left (with how long it took), task failures, retries and timeouts, and for a Map (or a large
 * Parallel) a progress line instead of one line per iteration. Pure apart from writing to a Screen.
 */
import type { HistoryEvent } from "@jetflow/contracts";
import { formatDuration, formatTime, previewJson, truncate } from "./format";
import type { Screen } from "./screen";
import type { Style } from "./style";

/** Where an event comes from: the watched execution (depth 0) or one of its Parallel branches. */
export interface Scope {
  /** 0 for the watched execution, 1 for a branch of it. */
  depth: number;
  /** Shown before the branch's lines, e.g. `[2]`; empty for the watched execution. */
  label: string;
}

/** The watched execution's own scope. */
export const ROOT_SCOPE: Scope = { depth: 0, label: "" };

/** Options of {@link WatchView}. */
export interface WatchViewOptions {
  screen: Screen;
  style: Style;
  /** Longest JSON preview, in characters. Default 100. */
  jsonMax?: number;
  /** Most Map iteration failures printed one by one per Map; more are only counted. Default 5. */
  maxFailureLines?: number;
  /**
   * Parallel states with at most this many branches have their branches' events shown (the caller
   * feeds them with a branch scope); larger ones get a progress line like a Map. Default 0.
   */
  followBranches?: number;
}

/** How a watched execution ended. */
export interface Ending {
  status: "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";
  error: string;
  cause: string;
  outputJson: string;
}

interface Progress {
  name: string;
  noun: string;
  total: number;
  done: number;
  failed: number;
  running: number;
  failureLines: number;
  /** Quarters already reported, on screens that cannot redraw. */
  quarters: number;
}

interface ScopeState {
  entered: Map<string, number>;
  /** A state entered whose line waits for the event that completes it (TaskScheduled, MapStarted...). */
  pending: { event: HistoryEvent; type: string; scope: Scope } | undefined;
  /** The last error a state raised; a StateExited of that state right after means a Catch took it. */
  failure: { state: string; error: string } | undefined;
  /** A failure a Catch handled; printed with where it went when the next state is entered. */
  caught: { event: HistoryEvent; state: string; error: string; scope: Scope } | undefined;
}

const BAR_WIDTH = 20;

/** Turns history events into lines on a screen; one per watch. */
export class WatchView {
  private origin: number | undefined;
  private readonly scopes = new Map<string, ScopeState>();
  private readonly progress = new Map<string, Progress>();
  private readonly jsonMax: number;
  private readonly maxFailureLines: number;
  /** Set when the watched execution's terminal event was seen. */
  ending: Ending | undefined;

  constructor(private readonly options: WatchViewOptions) {
    this.jsonMax = options.jsonMax ?? 100;
    this.maxFailureLines = options.maxFailureLines ?? 5;
  }

  private get style(): Style {
    return this.options.style;
  }

  /** Renders one event of `scope`. */
  onEvent(event: HistoryEvent, scope: Scope = ROOT_SCOPE): void {
    const at = event.timestamp?.getTime() ?? Date.now();
    this.origin ??= at;
    const state = this.scopeState(scope);
    const d = event.details;
    if (d === undefined) return;
    const s = this.style;
    const name = event.stateName;

    // A state's entered line waits for the next event: a state left at once (Pass, Choice) gets
    // one line, and a Task, Map, Parallel or Wait state's line says what it started.
    if (state.pending !== undefined) {
      const pending = state.pending;
      state.pending = undefined;
      if (d.$case === "stateExited" && name === pending.event.stateName) {
        const since = state.entered.get(name);
        state.entered.delete(name);
        const took = since === undefined ? "" : `  ${s.dim(formatDuration(at - since))}`;
        this.line(event, scope, `${s.green("✓")} ${s.bold(name)} ${s.dim(`(${pending.type})`)}${took}`);
        return;
      }
      const extra = this.enteredDetail(event, pending.event.stateName);
      this.line(
        pending.event,
        scope,
        `${s.cyan("→")} ${s.bold(pending.event.stateName)} ${s.dim(`(${pending.type})`)}${extra}`,
      );
    }

    switch (d.$case) {
      case "executionStarted":
        if (scope.depth === 0) {
          this.line(
            event,
            scope,
            `${s.bold("▶")} ${s.bold(d.value.workflowName)} v${d.value.workflowVersion} ${s.dim(`input ${previewJson(d.value.inputJson, this.jsonMax)}`)}`,
          );
        }
        return;
      case "stateEntered":
        this.flushCaught(state, name);
        state.entered.set(name, at);
        state.pending = { event, type: d.value.stateType, scope };
        return;
      case "stateExited": {
        const since = state.entered.get(name);
        state.entered.delete(name);
        if (state.failure?.state === name) {
          // Left after an error without a retry: a Catch handled it. Not a ✓, which would read as
          // if the failure were undone; the line waits for the state the catcher goes to.
          state.caught = { event, state: name, error: state.failure.error, scope };
          state.failure = undefined;
          return;
        }
        const took = since === undefined ? "" : `  ${s.dim(formatDuration(at - since))}`;
        this.line(event, scope, `${s.green("✓")} ${name}${took}`);
        return;
      }
      case "taskFailed":
        state.failure = { state: name, error: d.value.error };
        this.line(event, scope, `${s.red("✗")} ${name}  ${this.errorText(d.value.error, d.value.cause)}`);
        return;
      case "taskTimedOut":
        state.failure = { state: name, error: d.value.error };
        this.line(event, scope, `${s.yellow("⏱")} ${name}  ${this.errorText(d.value.error, d.value.cause)}`);
        return;
      case "taskRetryScheduled":
        state.failure = undefined;
        this.line(
          event,
          scope,
          `${s.yellow("↻")} ${name}  ${s.dim(`retry in ${formatDuration(d.value.delayMs)} (attempt ${d.value.nextAttempt})`)}`,
        );
        return;
      case "taskCancelled":
        this.line(event, scope, `${s.magenta("■")} ${name}  ${s.dim("task cancelled")}`);
        return;
      case "mapStarted":
        this.startProgress(scope, name, "items", d.value.itemCount);
        return;
      case "parallelStarted":
        if (d.value.branchCount > (this.options.followBranches ?? 0)) {
          this.startProgress(scope, name, "branches", d.value.branchCount);
        }
        return;
      case "mapIterationStarted":
      case "parallelBranchStarted":
        this.updateProgress(event, scope, name, "started");
        return;
      case "mapIterationSucceeded":
      case "parallelBranchSucceeded":
        this.updateProgress(event, scope, name, "succeeded");
        return;
      case "mapIterationFailed":
      case "parallelBranchFailed": {
        const p = this.progress.get(this.key(scope, name));
        // Without progress (followed branches) every failure is shown; with it, the first few.
        if (p === undefined || p.failureLines < this.maxFailureLines) {
          if (p !== undefined) p.failureLines++;
          const what = d.$case === "mapIterationFailed" ? "item" : "branch";
          this.line(
            event,
            scope,
            `${s.red("✗")} ${name} ${what} ${d.value.index}  ${this.errorText(d.value.error, d.value.cause)}`,
          );
        }
        this.updateProgress(event, scope, name, "failed");
        return;
      }
      case "mapSucceeded":
      case "mapFailed":
      case "parallelSucceeded":
      case "parallelFailed":
        this.endProgress(event, scope, name);
        if (d.$case === "mapFailed" || d.$case === "parallelFailed") {
          state.failure = { state: name, error: d.value.error };
          this.line(event, scope, `${s.red("✗")} ${name}  ${this.errorText(d.value.error, d.value.cause)}`);
        }
        return;
      case "executionStopRequested":
        if (scope.depth === 0) {
          this.line(
            event,
            scope,
            `${s.magenta("■")} stop requested  ${this.errorText(d.value.error, d.value.cause)}`,
          );
        }
        return;
      case "executionSucceeded":
        if (scope.depth === 0)
          this.end(event, { status: "SUCCEEDED", error: "", cause: "", outputJson: d.value.outputJson });
        return;
      case "executionFailed":
        if (scope.depth === 0) this.end(event, { status: "FAILED", ...d.value, outputJson: "" });
        return;
      case "executionTimedOut":
        if (scope.depth === 0) this.end(event, { status: "TIMED_OUT", ...d.value, outputJson: "" });
        return;
      case "executionAborted":
        if (scope.depth === 0) this.end(event, { status: "ABORTED", ...d.value, outputJson: "" });
        return;
      case "taskScheduled":
      case "taskStarted":
      case "taskSucceeded":
      case "waitStarted":
      case "waitFinished":
      case "childLaunchPending":
      case "childrenCancelled":
        return;
    }
  }

  /** Prints states still waiting for their next event and removes the progress lines. */
  close(): void {
    this.options.screen.close();
    for (const state of this.scopes.values()) {
      this.flushCaught(state, undefined);
      const pending = state.pending;
      state.pending = undefined;
      if (pending === undefined) continue;
      const scope = pending.scope;
      const s = this.style;
      this.line(
        pending.event,
        scope,
        `${s.cyan("→")} ${s.bold(pending.event.stateName)} ${s.dim(`(${pending.type})`)}`,
      );
    }
  }

  /** Prints the caught failure of `state`, if any: `↪ Charge  caught PaymentDeclined → Refund`. */
  private flushCaught(state: ScopeState, next: string | undefined): void {
    const caught = state.caught;
    if (caught === undefined) return;
    state.caught = undefined;
    const s = this.style;
    const to = next === undefined ? "" : ` → ${s.bold(next)}`;
    this.line(
      caught.event,
      caught.scope,
      `${s.yellow("↪")} ${caught.state}  caught ${s.bold(caught.error)}${to}`,
    );
  }

  /** The text a state's entered line gets from the event that follows it, or "" when none. */
  private enteredDetail(event: HistoryEvent, stateName: string): string {
    const d = event.details;
    if (d === undefined || event.stateName !== stateName) return "";
    const s = this.style;
    switch (d.$case) {
      case "taskScheduled":
        return `  ${s.dim(`activity ${d.value.activity} · token ${d.value.taskToken}`)}`;
      case "waitStarted":
        return `  ${s.dim(`until ${formatTime(d.value.fireTime)}`)}`;
      case "mapStarted": {
        const limit = d.value.maxConcurrency > 0 ? `, at most ${d.value.maxConcurrency} at a time` : "";
        return `  ${s.dim(`${d.value.itemCount} items${limit}`)}`;
      }
      case "parallelStarted":
        return `  ${s.dim(`${d.value.branchCount} branches`)}`;
      default:
        return "";
    }
  }

  private end(event: HistoryEvent, ending: Ending): void {
    this.ending = ending;
    const s = this.style;
    const took = formatDuration((event.timestamp?.getTime() ?? Date.now()) - (this.origin ?? Date.now()));
    this.options.screen.close();
    if (ending.status === "SUCCEEDED") {
      this.line(event, ROOT_SCOPE, `${s.green(s.bold("✔ SUCCEEDED"))} in ${took}`);
      this.options.screen.line(`  ${s.dim("output")} ${previewJson(ending.outputJson, this.jsonMax * 3)}`);
    } else {
      const paint = ending.status === "FAILED" ? s.red : ending.status === "TIMED_OUT" ? s.yellow : s.magenta;
      this.line(
        event,
        ROOT_SCOPE,
        `${paint(s.bold(`✘ ${ending.status}`))} in ${took}  ${this.errorText(ending.error, ending.cause)}`,
      );
    }
  }

  private startProgress(scope: Scope, name: string, noun: string, total: number): void {
    this.progress.set(this.key(scope, name), {
      name,
      noun,
      total,
      done: 0,
      failed: 0,
      running: 0,
      failureLines: 0,
      quarters: 0,
    });
  }

  private updateProgress(
    event: HistoryEvent,
    scope: Scope,
    name: string,
    change: "started" | "succeeded" | "failed",
  ): Progress | undefined {
    const key = this.key(scope, name);
    const p = this.progress.get(key);
    if (p === undefined) return undefined;
    if (change === "started") p.running++;
    else {
      p.running = Math.max(0, p.running - 1);
      p.done++;
      if (change === "failed") p.failed++;
    }
    if (this.options.screen.live) {
      this.options.screen.setStatus(key, this.indent(scope) + this.progressText(p, true));
    } else if (p.total > 0 && change !== "started") {
      // Off a terminal, report each quarter once so logs stay short.
      const quarters = Math.floor((p.done * 4) / p.total);
      if (quarters > p.quarters && p.done < p.total) {
        p.quarters = quarters;
        this.line(event, scope, `  ${this.progressText(p, false)}`);
      }
    }
    return p;
  }

  private endProgress(event: HistoryEvent, scope: Scope, name: string): void {
    const key = this.key(scope, name);
    const p = this.progress.get(key);
    if (p === undefined) return;
    this.progress.delete(key);
    this.options.screen.setStatus(key, undefined);
    this.line(event, scope, `  ${this.progressText(p, false)}`);
  }

  private progressText(p: Progress, bar: boolean): string {
    const s = this.style;
    const parts = [`${p.done}/${p.total} ${p.noun} done`];
    if (p.running > 0) parts.push(`${p.running} running`);
    parts.push(p.failed > 0 ? s.red(`${p.failed} failed`) : "0 failed");
    if (!bar) return `${s.dim("⧉")} ${p.name}  ${parts.join(", ")}`;
    const filled = p.total === 0 ? BAR_WIDTH : Math.round((p.done / p.total) * BAR_WIDTH);
    const barText = s.green("█".repeat(filled)) + s.dim("░".repeat(BAR_WIDTH - filled));
    return `           ${s.dim("⧉")} ${p.name}  ${barText}  ${parts.join(" · ")}`;
  }

  private errorText(error: string, cause: string): string {
    const s = this.style;
    return cause === "" ? s.bold(error) : `${s.bold(error)}: ${truncate(cause, this.jsonMax * 2)}`;
  }

  private line(event: HistoryEvent, scope: Scope, text: string): void {
    const at = event.timestamp?.getTime() ?? Date.now();
    const elapsed = formatElapsed(at - (this.origin ?? at));
    this.options.screen.line(`${this.style.dim(elapsed)}  ${this.indent(scope)}${text}`);
  }

  private indent(scope: Scope): string {
    return scope.depth === 0 ? "" : `${"  ".repeat(scope.depth)}${this.style.dim(scope.label)} `;
  }

  private key(scope: Scope, name: string): string {
    return `${scope.label}/${name}`;
  }

  private scopeState(scope: Scope): ScopeState {
    let state = this.scopes.get(scope.label);
    if (state === undefined) {
      state = { entered: new Map(), pending: undefined, failure: undefined, caught: undefined };
      this.scopes.set(scope.label, state);
    }
    return state;
  }
}

/** Time since the execution started, right-aligned in 8 columns: `   1.25s`, ` 12m 05s`. */
export function formatElapsed(ms: number): string {
  const text = ms < 600_000 ? `${(Math.max(0, ms) / 1000).toFixed(2)}s` : formatDuration(ms);
  return text.padStart(8);
}
