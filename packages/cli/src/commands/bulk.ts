/** `jetflow bulk stop|redrive|describe|list`: act on every execution matching a filter, as one tracked operation. */
import { BulkAction, BulkOperationState } from "@jetflow/client";
import type { BulkOperation, ExecutionStatus } from "@jetflow/client";
import { InvalidArgumentError, Option } from "commander";
import type { Command } from "commander";
import type { Ctx, Runner } from "../context";
import { ExitCode } from "../exit-codes";
import { formatTime, renderFields, renderTable, statusName } from "../format";
import { positiveInt, statusOption } from "../options";
import type { Style } from "../style";

interface FilterOptions {
  workflow?: string;
  status?: ExecutionStatus;
  namePrefix?: string;
  startedAfter?: Date;
  startedBefore?: Date;
  wait?: boolean;
}

interface StopOptions extends FilterOptions {
  error?: string;
  cause?: string;
}

function timeOption(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError("expected an ISO 8601 time");
  return date;
}

function actionName(action: BulkAction): string {
  switch (action) {
    case BulkAction.BULK_ACTION_STOP:
      return "stop";
    case BulkAction.BULK_ACTION_REDRIVE:
      return "redrive";
    default:
      return String(action);
  }
}

function stateName(state: BulkOperationState): string {
  switch (state) {
    case BulkOperationState.BULK_OPERATION_STATE_RUNNING:
      return "RUNNING";
    case BulkOperationState.BULK_OPERATION_STATE_COMPLETED:
      return "COMPLETED";
    default:
      return "UNKNOWN";
  }
}

function operationToJson(op: BulkOperation): Record<string, unknown> {
  return {
    operationId: op.operationId,
    action: actionName(op.action),
    state: stateName(op.state),
    filter: op.filter && {
      ...op.filter,
      status: statusName(op.filter.status),
      startedAfter: op.filter.startedAfter?.toISOString(),
      startedBefore: op.filter.startedBefore?.toISOString(),
    },
    matched: op.matched,
    done: op.done,
    skipped: op.skipped,
    failed: op.failed,
    lastFailure: op.lastFailure,
    lastSkipReason: op.lastSkipReason,
    createTime: op.createTime?.toISOString(),
    endTime: op.endTime?.toISOString(),
    createdBy: op.createdBy,
  };
}

/** One operation's fields and progress. */
export function renderOperation(style: Style, op: BulkOperation): string {
  const f = op.filter;
  const filter = [
    f?.workflowName ? `workflow=${f.workflowName}` : "",
    f?.status ? `status=${statusName(f.status).toLowerCase()}` : "",
    f?.namePrefix ? `name-prefix=${f.namePrefix}` : "",
    f?.startedAfter ? `started-after=${f.startedAfter.toISOString()}` : "",
    f?.startedBefore ? `started-before=${f.startedBefore.toISOString()}` : "",
  ]
    .filter((part) => part !== "")
    .join(" ");
  const fields: [string, string][] = [
    ["Operation", op.operationId],
    ["Action", actionName(op.action)],
    ["State", stateName(op.state)],
    ["Filter", filter],
    [
      "Progress",
      `${op.done + op.skipped + op.failed}/${op.matched} (done ${op.done}, skipped ${op.skipped}, failed ${op.failed})`,
    ],
    ["Created", formatTime(op.createTime)],
  ];
  if (op.endTime) fields.push(["Ended", formatTime(op.endTime)]);
  if (op.createdBy) fields.push(["By", op.createdBy]);
  if (op.lastSkipReason) fields.push(["Last skipped", op.lastSkipReason]);
  if (op.lastFailure) fields.push(["Last failure", style.red(op.lastFailure)]);
  return renderFields(style, fields);
}

async function waitForCompletion(ctx: Ctx, operationId: string): Promise<BulkOperation> {
  for (;;) {
    const op = await ctx.client().describeBulkOperation(operationId);
    if (op.state !== BulkOperationState.BULK_OPERATION_STATE_RUNNING) return op;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function filterOf(opts: FilterOptions) {
  return {
    workflowName: opts.workflow,
    status: opts.status,
    namePrefix: opts.namePrefix,
    startedAfter: opts.startedAfter,
    startedBefore: opts.startedBefore,
  };
}

async function stop(ctx: Ctx, opts: StopOptions): Promise<ExitCode | void> {
  const started = await ctx.client().startBulkStop({
    filter: filterOf(opts),
    error: opts.error,
    cause: opts.cause,
  });
  return follow(ctx, opts, started, ctx.style.yellow("■"));
}

async function redrive(ctx: Ctx, opts: FilterOptions): Promise<ExitCode | void> {
  const started = await ctx.client().startBulkRedrive({ filter: filterOf(opts) });
  return follow(ctx, opts, started, ctx.style.cyan("↻"));
}

/** Reports a started operation, and with --wait its outcome; exit 1 when any execution failed. */
async function follow(
  ctx: Ctx,
  opts: FilterOptions,
  started: { operation?: BulkOperation; created: boolean },
  mark: string,
): Promise<ExitCode | void> {
  let op = started.operation as BulkOperation;
  if (!ctx.json) {
    ctx.print(
      `${mark} bulk ${actionName(op.action)} ${ctx.style.bold(op.operationId)} ${started.created ? "started" : "exists"}: ${op.matched} executions match`,
    );
  }
  if (opts.wait === true) op = await waitForCompletion(ctx, op.operationId);
  if (ctx.json) ctx.printJson(operationToJson(op));
  else if (opts.wait === true) ctx.io.stdout.write(renderOperation(ctx.style, op));
  else ctx.note(ctx.style.dim(`follow it: ${ctx.command} bulk describe ${op.operationId}`));
  return op.failed > 0 ? ExitCode.Failed : undefined;
}

async function describe(ctx: Ctx, operationId: string): Promise<void> {
  const op = await ctx.client().describeBulkOperation(operationId);
  if (ctx.json) ctx.printJson(operationToJson(op));
  else ctx.io.stdout.write(renderOperation(ctx.style, op));
}

async function list(ctx: Ctx, opts: { limit?: number }): Promise<void> {
  const page = await ctx.client().listBulkOperations({ pageSize: opts.limit ?? 50 });
  if (ctx.json) {
    ctx.printJson({ operations: page.operations.map(operationToJson), nextPageToken: page.nextPageToken });
    return;
  }
  if (page.operations.length === 0) {
    ctx.io.stdout.write(ctx.style.dim("no bulk operations\n"));
    return;
  }
  ctx.io.stdout.write(
    renderTable(
      ctx.style,
      ["OPERATION", "ACTION", "STATE", "MATCHED", "DONE", "SKIPPED", "FAILED", "CREATED"],
      page.operations.map((op) => [
        op.operationId,
        actionName(op.action),
        stateName(op.state),
        String(op.matched),
        String(op.done),
        String(op.skipped),
        op.failed > 0 ? ctx.style.red(String(op.failed)) : "0",
        formatTime(op.createTime),
      ]),
    ),
  );
}

/** Adds `bulk stop`, `bulk redrive`, `bulk describe` and `bulk list` to `program`. */
export function addBulkCommands(program: Command, run: Runner): void {
  const bulk = program
    .command("bulk")
    .description("act on every execution matching a filter, as one tracked operation")
    .addHelpText(
      "after",
      "\nThe api-gateways process an operation in batches and resume it after a restart (docs/operations.md).",
    );

  bulk
    .command("stop")
    .description("stop every RUNNING execution matching the filter")
    .option("--workflow <name>", "only executions of this workflow")
    .addOption(
      new Option("--status <status>", "running (the default; a stop applies to nothing else)").argParser(
        statusOption,
      ),
    )
    .option("--name-prefix <prefix>", "only executions whose name starts with this")
    .option("--started-after <time>", "only executions started at or after this ISO 8601 time", timeOption)
    .option("--started-before <time>", "only executions started before this ISO 8601 time", timeOption)
    .option("--error <name>", "error recorded on each stopped execution")
    .option("--cause <text>", "cause recorded on each stopped execution")
    .option("--wait", "wait until the operation completes and show its outcome")
    .action((opts: StopOptions, cmd: Command) => run(cmd, (ctx) => stop(ctx, opts)));

  bulk
    .command("redrive")
    .description("redrive every FAILED, TIMED_OUT or ABORTED execution matching the filter")
    .option("--workflow <name>", "only executions of this workflow")
    .addOption(
      new Option(
        "--status <status>",
        "only executions in this status: failed, timed_out or aborted (default: all three)",
      ).argParser(statusOption),
    )
    .option("--name-prefix <prefix>", "only executions whose name starts with this")
    .option("--started-after <time>", "only executions started at or after this ISO 8601 time", timeOption)
    .option("--started-before <time>", "only executions started before this ISO 8601 time", timeOption)
    .option("--wait", "wait until the operation completes and show its outcome")
    .addHelpText(
      "after",
      "\nEach execution is redriven as `jetflow redrive` would (docs/redrive.md); one that cannot be\nredriven (ended more than 14 days ago, no state to resume) is counted as skipped.",
    )
    .action((opts: FilterOptions, cmd: Command) => run(cmd, (ctx) => redrive(ctx, opts)));

  bulk
    .command("describe")
    .description("show a bulk operation's state and progress")
    .argument("<operation-id>")
    .action((id: string, _opts: unknown, cmd: Command) => run(cmd, (ctx) => describe(ctx, id)));

  bulk
    .command("list")
    .description("list bulk operations, newest first")
    .addOption(new Option("--limit <n>", "show at most n operations").argParser(positiveInt).default(50))
    .action((opts: { limit?: number }, cmd: Command) => run(cmd, (ctx) => list(ctx, opts)));
}
