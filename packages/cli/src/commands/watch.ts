/** `jetflow watch`: an execution's events, live, until it ends. */
import type { HistoryEvent } from "@jetflow/contracts";
import type { Command } from "commander";
import { Option } from "commander";
import type { Ctx, Runner } from "../context";
import { CommandFailed } from "../errors";
import { eventToJson } from "../events";
import { ExitCode } from "../exit-codes";
import { executionIdArg, nonNegativeInt } from "../options";
import { Screen } from "../screen";
import type { Scope } from "../watch-view";
import { ROOT_SCOPE, WatchView } from "../watch-view";

/** Parallel states with at most this many branches have their branches followed. */
export const FOLLOW_BRANCHES = 8;

type Item =
  | { kind: "event"; source: Source; event: HistoryEvent }
  | { kind: "end"; source: Source }
  | { kind: "error"; source: Source; err: unknown }
  | { kind: "interrupt" };

interface Source {
  executionId: string;
  scope: Scope;
  lastEventId: number;
  /** The live stream is closed: its events are no longer shown as they come. */
  closed: boolean;
  /** A branch whose end its parent reported, and whose remaining events were read from history. */
  done?: boolean;
  iterator?: AsyncIterator<HistoryEvent>;
}

/** A queue that many producers push into and one consumer awaits. */
class Inbox {
  private readonly items: Item[] = [];
  private waiting: ((item: Item) => void) | undefined;

  push(item: Item): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(item);
    else this.items.push(item);
  }

  next(): Promise<Item> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

function follow(ctx: Ctx, source: Source, inbox: Inbox, fromEventId?: number): void {
  const events = ctx.client().watchExecution({ executionId: source.executionId, fromEventId });
  const iterator = events[Symbol.asyncIterator]();
  source.iterator = iterator;
  void (async () => {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done || source.closed) break;
        inbox.push({ kind: "event", source, event: next.value });
      }
      inbox.push({ kind: "end", source });
    } catch (err) {
      inbox.push({ kind: "error", source, err });
    }
  })();
}

function close(source: Source): void {
  source.closed = true;
  // Not awaited: a stream's return() may wait for its pending read; closing the client ends it.
  void source.iterator?.return?.().catch(() => undefined);
}

/** Reads a finished branch's events the stream has not delivered yet, so they print in order. */
async function catchUp(ctx: Ctx, source: Source): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  try {
    let pageToken = "";
    do {
      const page = await ctx
        .client()
        .getExecutionHistory({ executionId: source.executionId, pageSize: 1000, pageToken });
      events.push(...page.events.filter((e) => e.eventId > source.lastEventId));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
  } catch {
    // Best effort: the branch's own lines are a courtesy; the parent's events tell the outcome.
  }
  return events;
}

/** Options of {@link watchExecution}. */
export interface WatchOptions {
  /** First event id to show; default 1 (the whole history, then live). */
  fromEventId?: number;
  /** Leave out the header line. */
  quiet?: boolean;
  /** Show the events of Parallel branches (up to {@link FOLLOW_BRANCHES} per state). Default true. */
  branches?: boolean;
}

/**
 * Shows the events of execution `id` as they happen until it ends; resolves with exit code 0 when
 * it succeeded, 1 when it ended otherwise, 130 when interrupted with Ctrl-C.
 */
export async function watchExecution(ctx: Ctx, id: string, opts: WatchOptions = {}): Promise<ExitCode> {
  const s = ctx.style;
  const followBranches = ctx.json || opts.branches === false ? 0 : FOLLOW_BRANCHES;
  const screen = new Screen(ctx.io.stdout, ctx.io.stdout.isTTY === true && !ctx.json);
  const view = new WatchView({ screen, style: s, followBranches });
  const inbox = new Inbox();
  const root: Source = { executionId: id, scope: ROOT_SCOPE, lastEventId: 0, closed: false };
  const branches = new Map<string, Source>();
  const followed = new Set<string>();
  if (!ctx.json && !opts.quiet) {
    ctx.print(s.dim(`watching execution ${id} (Ctrl-C stops watching; the execution goes on)`));
  }
  const removeInterrupt = ctx.io.onInterrupt(() => inbox.push({ kind: "interrupt" }));
  follow(ctx, root, inbox, opts.fromEventId);
  let ended = false;
  let terminal: string | undefined;
  try {
    while (!ended) {
      const item = await inbox.next();
      if (item.kind === "interrupt") {
        view.close();
        ctx.note(s.dim(`stopped watching; the execution goes on (${ctx.command} watch ${id})`));
        return ExitCode.Interrupted;
      }
      const { source } = item;
      if (source !== root && source.closed) continue;
      if (item.kind === "error") {
        if (source === root) throw item.err;
        // A branch whose stream failed is read from its history when its parent reports its end.
        close(source);
        continue;
      }
      if (item.kind === "end") {
        if (source === root) ended = true;
        continue;
      }
      const event = item.event;
      if (event.eventId <= source.lastEventId) continue;
      source.lastEventId = event.eventId;
      if (ctx.json) ctx.printJson(eventToJson(event), true);
      else view.onEvent(event, source.scope);
      if (source !== root) continue;
      const d = event.details;
      if (d?.$case === "parallelStarted" && d.value.branchCount <= followBranches)
        followed.add(event.stateName);
      if (d?.$case === "parallelBranchStarted" && followed.has(event.stateName)) {
        const branch: Source = {
          executionId: d.value.childExecutionId,
          scope: { depth: 1, label: `[${d.value.index}]` },
          lastEventId: 0,
          closed: false,
        };
        branches.set(`${event.stateName}/${d.value.index}`, branch);
        follow(ctx, branch, inbox);
      }
      if (d?.$case === "parallelBranchSucceeded" || d?.$case === "parallelBranchFailed") {
        const branch = branches.get(`${event.stateName}/${d.value.index}`);
        if (branch !== undefined && branch.done !== true) {
          branch.done = true;
          close(branch);
          for (const e of await catchUp(ctx, branch)) view.onEvent(e, branch.scope);
        }
      }
      if (d !== undefined && TERMINAL.has(d.$case)) {
        terminal = d.$case;
        ended = true;
      }
    }
  } finally {
    removeInterrupt();
    view.close();
    close(root);
    for (const branch of branches.values()) close(branch);
  }
  if (terminal === undefined)
    throw new CommandFailed("the watch ended before the execution did", ExitCode.ServerError);
  return terminal === "executionSucceeded" ? ExitCode.Ok : ExitCode.Failed;
}

const TERMINAL = new Set(["executionSucceeded", "executionFailed", "executionTimedOut", "executionAborted"]);

interface WatchCommandOptions {
  from?: number;
  branches: boolean;
}

/** Adds `watch` to `program`. */
export function addWatchCommand(program: Command, run: Runner): void {
  program
    .command("watch")
    .description("follow an execution live: each state as it is entered and left, progress of Map states")
    .argument("<execution-id>")
    .addOption(
      new Option("--from <event-id>", "start at this event instead of the first").argParser(nonNegativeInt),
    )
    .option("--no-branches", "do not show the states inside Parallel branches")
    .addHelpText(
      "after",
      "\nEnds when the execution ends: exit code 0 if it SUCCEEDED, 1 if it FAILED, TIMED_OUT or was ABORTED.\nWith --json, prints one event per line (NDJSON).",
    )
    .action((id: string, opts: WatchCommandOptions, cmd: Command) =>
      run(cmd, (ctx) =>
        watchExecution(ctx, executionIdArg(id), { fromEventId: opts.from, branches: opts.branches }),
      ),
    );
}
