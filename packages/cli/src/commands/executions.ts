/** `jetflow start`, `describe`, `list`, `history`, `stop` and `redrive`. */
import type {
  DescribeExecutionResponse,
  ExecutionStatus,
  ExecutionSummary,
  HistoryEvent,
} from "@jetflow/contracts";
import type { Command } from "commander";
import { Option } from "commander";
import type { Ctx, Runner } from "../context";
import { eventToJson, eventType, summarizeEvent } from "../events";
import { ExitCode } from "../exit-codes";
import {
  formatDuration,
  formatTime,
  paintStatus,
  parseJsonText,
  prettyJson,
  renderFields,
  renderTable,
  statusName,
  truncate,
} from "../format";
import { readJsonArg } from "../json-arg";
import { executionIdArg, nonNegativeInt, positiveInt, statusOption } from "../options";
import { formatElapsed } from "../watch-view";
import { watchExecution } from "./watch";

/** An execution summary as `--json` prints it. */
export function summaryToJson(summary: ExecutionSummary | undefined): Record<string, unknown> {
  return {
    executionId: summary?.executionId ?? "",
    executionName: summary?.executionName ?? "",
    workflowName: summary?.workflowName ?? "",
    workflowVersion: summary?.workflowVersion ?? 0,
    status: statusName(summary?.status),
    startTime: summary?.startTime?.toISOString() ?? null,
    stopTime: summary?.stopTime?.toISOString() ?? null,
    redriveCount: summary?.redriveCount ?? 0,
    scheduleId: summary?.scheduleId ?? "",
  };
}

/** A described execution as `--json` prints it: the summary, input and output parsed, error, cause. */
export function executionToJson(res: DescribeExecutionResponse): Record<string, unknown> {
  return {
    ...summaryToJson(res.execution),
    input: parseJsonText(res.inputJson),
    output: res.outputJson === "" ? null : parseJsonText(res.outputJson),
    error: res.error,
    cause: res.cause,
    activeStates: res.activeStates,
  };
}

function durationOf(summary: ExecutionSummary | undefined, now = Date.now()): string {
  const start = summary?.startTime?.getTime();
  if (start === undefined) return "-";
  return formatDuration((summary?.stopTime?.getTime() ?? now) - start);
}

/** The exit code a finished execution gives `--wait` and `watch`: 0 for SUCCEEDED, else 1. */
export function exitCodeOf(status: ExecutionStatus | undefined): ExitCode {
  return statusName(status) === "SUCCEEDED" ? ExitCode.Ok : ExitCode.Failed;
}

function printExecution(ctx: Ctx, res: DescribeExecutionResponse): void {
  const s = ctx.style;
  const e = res.execution;
  const status = statusName(e?.status);
  const fields: [string, string][] = [
    ["Execution", e?.executionId ?? ""],
    ...(e?.executionName ? ([["Name", e.executionName]] as [string, string][]) : []),
    ["Workflow", `${e?.workflowName ?? ""} v${e?.workflowVersion ?? 0}`],
    ["Status", s.bold(paintStatus(s, status))],
    ["Started", formatTime(e?.startTime)],
    ...(e?.stopTime ? ([["Stopped", formatTime(e.stopTime)]] as [string, string][]) : []),
    ["Duration", durationOf(e)],
    ...(e?.redriveCount ? ([["Redrives", String(e.redriveCount)]] as [string, string][]) : []),
    ...(e?.scheduleId ? ([["Schedule", e.scheduleId]] as [string, string][]) : []),
  ];
  if (res.activeStates.length > 0) fields.push(["Active", res.activeStates.join(", ")]);
  fields.push(["Input", prettyJson(res.inputJson || "{}")]);
  if (res.outputJson !== "") fields.push(["Output", prettyJson(res.outputJson)]);
  if (res.error !== "") fields.push(["Error", s.red(res.error)]);
  if (res.cause !== "") fields.push(["Cause", res.cause]);
  ctx.io.stdout.write(renderFields(s, fields));
}

interface StartOptions {
  input?: string;
  name?: string;
  workflowVersion?: number;
  watch?: boolean;
  wait?: boolean;
  quiet?: boolean;
}

async function start(ctx: Ctx, workflow: string, opts: StartOptions): Promise<ExitCode> {
  const inputJson =
    opts.input === undefined ? undefined : await readJsonArg("--input", opts.input, ctx.io.readFile);
  const res = await ctx.client().startExecution({
    workflowName: workflow,
    workflowVersion: opts.workflowVersion,
    inputJson,
    executionName: opts.name,
  });
  const id = res.executionId;
  if (opts.quiet) ctx.print(id);
  else if (ctx.json && !opts.wait) {
    ctx.printJson(
      { executionId: id, startTime: res.startTime?.toISOString() ?? null, created: res.created },
      opts.watch === true,
    );
  } else if (!ctx.json) {
    const s = ctx.style;
    ctx.print(
      res.created
        ? `${s.green("✓")} started ${s.bold(workflow)} execution ${s.bold(id)}`
        : `${s.yellow("=")} execution ${s.bold(id)} of ${s.bold(workflow)} already exists (same name and input)`,
    );
    if (!opts.watch && !opts.wait) ctx.print(s.dim(`  follow it: ${ctx.command} watch ${id}`));
  }
  if (opts.watch) return watchExecution(ctx, id, { quiet: opts.quiet === true });
  if (opts.wait) {
    const done = await ctx.client().waitForExecution(id);
    if (ctx.json) ctx.printJson(executionToJson(done));
    else if (!opts.quiet) printExecution(ctx, done);
    return exitCodeOf(done.execution?.status);
  }
  return ExitCode.Ok;
}

async function describe(ctx: Ctx, id: string): Promise<void> {
  const res = await ctx.client().describeExecution(id);
  if (ctx.json) ctx.printJson(executionToJson(res));
  else printExecution(ctx, res);
}

interface ListOptions {
  workflow?: string;
  status?: ExecutionStatus;
  limit: number;
  pageToken?: string;
}

async function list(ctx: Ctx, opts: ListOptions): Promise<void> {
  const executions: ExecutionSummary[] = [];
  let pageToken = opts.pageToken ?? "";
  let next: string;
  do {
    const page = await ctx.client().listExecutions({
      workflowName: opts.workflow,
      status: opts.status,
      pageSize: Math.min(100, opts.limit - executions.length),
      pageToken,
    });
    executions.push(...page.executions);
    next = page.nextPageToken;
    pageToken = next;
  } while (next !== "" && executions.length < opts.limit);
  if (ctx.json) {
    ctx.printJson({ executions: executions.map(summaryToJson), nextPageToken: next });
    return;
  }
  if (executions.length === 0) {
    ctx.print("no executions found");
    return;
  }
  const s = ctx.style;
  const now = Date.now();
  ctx.io.stdout.write(
    renderTable(
      s,
      ["EXECUTION", "WORKFLOW", "STATUS", "STARTED", "DURATION", "NAME"],
      executions.map((e) => [
        e.executionId,
        `${e.workflowName} v${e.workflowVersion}`,
        paintStatus(s, statusName(e.status)),
        formatTime(e.startTime),
        durationOf(e, now),
        e.executionName,
      ]),
    ),
  );
  if (next !== "") ctx.note(s.dim(`more: jetflow list --page-token ${next}`));
}

interface HistoryOptions {
  reverse?: boolean;
  limit?: number;
}

async function history(ctx: Ctx, id: string, opts: HistoryOptions): Promise<void> {
  const events: HistoryEvent[] = [];
  let pageToken = "";
  do {
    const want = opts.limit === undefined ? 1000 : Math.min(1000, opts.limit - events.length);
    const page = await ctx.client().getExecutionHistory({
      executionId: id,
      pageSize: want,
      pageToken,
      reverseOrder: opts.reverse === true,
    });
    events.push(...page.events);
    pageToken = page.nextPageToken;
  } while (pageToken !== "" && (opts.limit === undefined || events.length < opts.limit));
  if (ctx.json) {
    ctx.printJson({ executionId: id, events: events.map(eventToJson) });
    return;
  }
  const times = events.map((e) => e.timestamp?.getTime() ?? 0).filter((t) => t > 0);
  const origin = times.length > 0 ? Math.min(...times) : 0;
  const columns = ctx.io.stdout.isTTY ? (ctx.io.stdout.columns ?? 0) : 0;
  const rows = events.map((e) => [
    String(e.eventId),
    e.timestamp ? formatElapsed(e.timestamp.getTime() - origin).trim() : "-",
    eventType(e),
    e.stateName,
    summarizeEvent(e, 60),
  ]);
  // On a terminal, keep each row on one line.
  if (columns > 0) {
    const fixed = Math.max(...rows.map((r) => r.slice(0, 4).reduce((n, c) => n + c.length + 2, 0)), 40);
    for (const row of rows) row[4] = truncate(row[4] ?? "", Math.max(20, columns - fixed - 1));
  }
  ctx.io.stdout.write(renderTable(ctx.style, ["ID", "TIME", "EVENT", "STATE", "DETAILS"], rows));
}

interface StopOptions {
  error?: string;
  cause?: string;
  wait?: boolean;
}

async function stop(ctx: Ctx, id: string, opts: StopOptions): Promise<void> {
  const res = await ctx.client().stopExecution({ executionId: id, error: opts.error, cause: opts.cause });
  const done = opts.wait ? await ctx.client().waitForExecution(id) : undefined;
  if (ctx.json) {
    ctx.printJson({
      executionId: id,
      stopTime: res.stopTime?.toISOString() ?? null,
      ...(done ? { execution: executionToJson(done) } : {}),
    });
    return;
  }
  const s = ctx.style;
  ctx.print(`${s.magenta("■")} stop requested for execution ${s.bold(id)}`);
  if (done) ctx.print(`  ended ${s.bold(paintStatus(s, statusName(done.execution?.status)))}`);
}

interface RedriveOptions {
  wait?: boolean;
}

/**
 * `jetflow redrive <id>`: RedriveExecution; with `--wait`, waits until the redrive is applied and
 * the execution has ended again (exit code as for `start --wait`).
 */
async function redrive(ctx: Ctx, id: string, opts: RedriveOptions): Promise<ExitCode> {
  const client = ctx.client();
  const res = await client.redriveExecution(id);
  let done: DescribeExecutionResponse | undefined;
  if (opts.wait) {
    // The redrive is applied by the orchestrator a moment after it is accepted.
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      const described = await client.describeExecution(id);
      if ((described.execution?.redriveCount ?? 0) >= res.redriveCount) break;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    done = await client.waitForExecution(id);
  }
  if (ctx.json) {
    ctx.printJson({
      executionId: id,
      redriveCount: res.redriveCount,
      redriveTime: res.redriveTime?.toISOString() ?? null,
      ...(done ? { execution: executionToJson(done) } : {}),
    });
  } else {
    const s = ctx.style;
    ctx.print(`${s.cyan("↻")} redrive ${res.redriveCount} requested for execution ${s.bold(id)}`);
    if (done) ctx.print(`  ended ${s.bold(paintStatus(s, statusName(done.execution?.status)))}`);
  }
  return done ? exitCodeOf(done.execution?.status) : ExitCode.Ok;
}

/** Adds `start`, `describe`, `list`, `history`, `stop` and `redrive` to `program`. */
export function addExecutionCommands(program: Command, run: Runner): void {
  program
    .command("start")
    .description("start an execution of a registered workflow")
    .argument("<workflow>", "workflow name")
    .option("-i, --input <json>", "input as JSON text, @file to read a file, @- for standard input")
    .option(
      "-n, --name <name>",
      "execution name: starting the same name with the same input again is a no-op",
    )
    .addOption(
      new Option("--workflow-version <n>", "workflow version (default: the latest)").argParser(
        nonNegativeInt,
      ),
    )
    .addOption(
      new Option("-w, --watch", "then watch it live until it ends (exit code as for watch)").conflicts(
        "wait",
      ),
    )
    .option("--wait", "then wait until it ends and describe it; exit 0 only if it succeeded")
    .option("-q, --quiet", "print only the execution id")
    .action((workflow: string, opts: StartOptions, cmd: Command) =>
      run(cmd, (ctx) => start(ctx, workflow, opts)),
    );

  program
    .command("describe")
    .description("show an execution: status, input, output, error")
    .argument("<execution-id>")
    .action((id: string, _opts: unknown, cmd: Command) =>
      run(cmd, (ctx) => describe(ctx, executionIdArg(id))),
    );

  program
    .command("list")
    .description("list executions, newest first")
    .option("--workflow <name>", "only executions of this workflow")
    .addOption(
      new Option(
        "--status <status>",
        "only executions with this status: running, succeeded, failed, timed_out, aborted",
      ).argParser(statusOption),
    )
    .addOption(new Option("--limit <n>", "show at most n executions").argParser(positiveInt).default(50))
    .option("--page-token <token>", "continue a previous listing")
    .action((opts: ListOptions, cmd: Command) => run(cmd, (ctx) => list(ctx, opts)));

  program
    .command("history")
    .description("show every event of an execution")
    .argument("<execution-id>")
    .option("--reverse", "newest event first")
    .addOption(new Option("--limit <n>", "show at most n events").argParser(positiveInt))
    .action((id: string, opts: HistoryOptions, cmd: Command) =>
      run(cmd, (ctx) => history(ctx, executionIdArg(id), opts)),
    );

  program
    .command("stop")
    .description("stop a running execution (it ends ABORTED)")
    .argument("<execution-id>")
    .option("--error <name>", "error name recorded with the stop")
    .option("--cause <text>", "why it was stopped")
    .option("--wait", "wait until the execution has ended")
    .action((id: string, opts: StopOptions, cmd: Command) =>
      run(cmd, (ctx) => stop(ctx, executionIdArg(id), opts)),
    );

  program
    .command("redrive")
    .description(
      "run a failed, timed-out or aborted execution again from the state that failed (its history is kept)",
    )
    .argument("<execution-id>")
    .option("--wait", "wait until it has ended again; exit 0 only if it succeeded")
    .action((id: string, opts: RedriveOptions, cmd: Command) =>
      run(cmd, (ctx) => redrive(ctx, executionIdArg(id), opts)),
    );
}
