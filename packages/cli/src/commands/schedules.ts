/** `jetflow schedule create|list|describe|pause|resume|delete` (docs/schedules.md). */
import { OverlapPolicy } from "@jetflow/contracts";
import type { Schedule } from "@jetflow/contracts";
import type { Command } from "commander";
import { InvalidArgumentError, Option } from "commander";
import type { Ctx, Runner } from "../context";
import { formatTime, prettyJson, renderFields, renderTable } from "../format";
import { readJsonArg } from "../json-arg";
import { nonNegativeInt } from "../options";

const POLICIES: Record<string, OverlapPolicy> = {
  skip: OverlapPolicy.OVERLAP_POLICY_SKIP,
  buffer_one: OverlapPolicy.OVERLAP_POLICY_BUFFER_ONE,
  allow_all: OverlapPolicy.OVERLAP_POLICY_ALLOW_ALL,
};

function policyOption(value: string): OverlapPolicy {
  const policy = POLICIES[value.toLowerCase().replace("-", "_")];
  if (policy === undefined) throw new InvalidArgumentError("must be skip, buffer_one or allow_all");
  return policy;
}

function policyName(policy: OverlapPolicy): string {
  return policy === OverlapPolicy.OVERLAP_POLICY_BUFFER_ONE
    ? "BUFFER_ONE"
    : policy === OverlapPolicy.OVERLAP_POLICY_ALLOW_ALL
      ? "ALLOW_ALL"
      : "SKIP";
}

function specOf(s: Schedule): string {
  return s.cron !== ""
    ? `cron "${s.cron}"${s.timezone ? ` ${s.timezone}` : ""}`
    : `every ${s.intervalSeconds}s`;
}

/** A schedule as `--json` prints it. */
export function scheduleToJson(s: Schedule): Record<string, unknown> {
  return {
    scheduleId: s.scheduleId,
    workflowName: s.workflowName,
    workflowVersion: s.workflowVersion,
    input: s.inputJson === "" ? {} : (JSON.parse(s.inputJson) as unknown),
    cron: s.cron,
    timezone: s.timezone,
    intervalSeconds: s.intervalSeconds,
    overlapPolicy: policyName(s.overlapPolicy),
    catchupWindowSeconds: s.catchupWindowSeconds,
    jitterSeconds: s.jitterSeconds,
    paused: s.paused,
    description: s.description,
    createdTime: s.createdTime?.toISOString() ?? null,
    lastFireTime: s.lastFireTime?.toISOString() ?? null,
    nextFireTime: s.nextFireTime?.toISOString() ?? null,
    lastExecutionId: s.lastExecutionId,
    startedCount: s.startedCount,
    skippedCount: s.skippedCount,
  };
}

function printSchedule(ctx: Ctx, s: Schedule): void {
  if (ctx.json) {
    ctx.printJson(scheduleToJson(s));
    return;
  }
  const st = ctx.style;
  const fields: [string, string][] = [
    ["Schedule", s.scheduleId],
    ["Workflow", `${s.workflowName}${s.workflowVersion > 0 ? ` v${s.workflowVersion}` : " (latest)"}`],
    ["When", specOf(s)],
    ["Overlap", policyName(s.overlapPolicy)],
    ["State", s.paused ? st.yellow("PAUSED") : st.green("ACTIVE")],
    ["Next", formatTime(s.nextFireTime)],
    ["Last", formatTime(s.lastFireTime)],
    ["Started", `${s.startedCount} (skipped ${s.skippedCount})`],
  ];
  if (s.lastExecutionId !== "") fields.push(["Last run", s.lastExecutionId]);
  if (s.jitterSeconds > 0) fields.push(["Jitter", `${s.jitterSeconds}s`]);
  if (s.catchupWindowSeconds > 0) fields.push(["Catch-up", `${s.catchupWindowSeconds}s`]);
  if (s.description !== "") fields.push(["Description", s.description]);
  fields.push(["Input", prettyJson(s.inputJson || "{}")]);
  ctx.io.stdout.write(renderFields(st, fields));
}

interface CreateOptions {
  workflow: string;
  workflowVersion?: number;
  cron?: string;
  timezone?: string;
  every?: number;
  input?: string;
  overlap?: OverlapPolicy;
  catchupWindow?: number;
  jitter?: number;
  paused?: boolean;
  description?: string;
}

async function create(ctx: Ctx, id: string, opts: CreateOptions): Promise<void> {
  const inputJson = opts.input === undefined ? "" : await readJsonArg("--input", opts.input, ctx.io.readFile);
  const schedule = await ctx.client().createSchedule({
    scheduleId: id,
    workflowName: opts.workflow,
    workflowVersion: opts.workflowVersion ?? 0,
    inputJson,
    cron: opts.cron ?? "",
    timezone: opts.timezone ?? "",
    intervalSeconds: opts.every ?? 0,
    overlapPolicy: opts.overlap ?? OverlapPolicy.OVERLAP_POLICY_SKIP,
    catchupWindowSeconds: opts.catchupWindow ?? 0,
    jitterSeconds: opts.jitter ?? 0,
    paused: opts.paused ?? false,
    description: opts.description ?? "",
  });
  printSchedule(ctx, schedule);
}

async function list(ctx: Ctx, opts: { workflow?: string }): Promise<void> {
  const schedules = await ctx.client().listSchedules(opts.workflow);
  if (ctx.json) {
    ctx.printJson({ schedules: schedules.map(scheduleToJson) });
    return;
  }
  const st = ctx.style;
  ctx.io.stdout.write(
    renderTable(
      st,
      ["SCHEDULE", "WORKFLOW", "WHEN", "OVERLAP", "STATE", "NEXT", "STARTED"],
      schedules.map((s) => [
        s.scheduleId,
        s.workflowName,
        specOf(s),
        policyName(s.overlapPolicy),
        s.paused ? "PAUSED" : "ACTIVE",
        formatTime(s.nextFireTime),
        String(s.startedCount),
      ]),
    ),
  );
}

/** Adds `schedule create|list|describe|pause|resume|delete` to `program`. */
export function addScheduleCommands(program: Command, run: Runner): void {
  const schedule = program
    .command("schedule")
    .description("start executions of a workflow on a cron expression or a fixed interval");

  schedule
    .command("create")
    .description("create a schedule (exactly one of --cron and --every)")
    .argument("<schedule-id>", "letters, digits, '-' and '_'; names the executions it starts")
    .requiredOption("-w, --workflow <name>", "the workflow to start")
    .addOption(
      new Option("--workflow-version <n>", "its version (default: the latest at each start)").argParser(
        nonNegativeInt,
      ),
    )
    .option("--cron <expression>", 'cron expression, 5 fields or 6 with seconds, e.g. "*/5 * * * *"')
    .option("--timezone <zone>", "IANA time zone of the cron expression (default UTC)")
    .addOption(new Option("--every <seconds>", "fixed interval in seconds").argParser(nonNegativeInt))
    .option("-i, --input <json>", "input of each execution: JSON text, @file or @-")
    .addOption(
      new Option(
        "--overlap <policy>",
        "while the last execution runs: skip, buffer_one, allow_all (default skip)",
      ).argParser(policyOption),
    )
    .addOption(
      new Option(
        "--catchup-window <seconds>",
        "after downtime, start fire times at most this old (default 60)",
      ).argParser(nonNegativeInt),
    )
    .addOption(
      new Option("--jitter <seconds>", "delay each start by up to this many seconds").argParser(
        nonNegativeInt,
      ),
    )
    .option("--paused", "create it paused")
    .option("--description <text>", "what it is for")
    .action((id: string, opts: CreateOptions, cmd: Command) => run(cmd, (ctx) => create(ctx, id, opts)));

  schedule
    .command("list")
    .description("list schedules")
    .option("--workflow <name>", "only the schedules of this workflow")
    .action((opts: { workflow?: string }, cmd: Command) => run(cmd, (ctx) => list(ctx, opts)));

  schedule
    .command("describe")
    .description("show a schedule: when it fires, what it started")
    .argument("<schedule-id>")
    .action((id: string, _opts: unknown, cmd: Command) =>
      run(cmd, async (ctx) => printSchedule(ctx, await ctx.client().describeSchedule(id))),
    );

  schedule
    .command("pause")
    .description("stop starting executions until resumed")
    .argument("<schedule-id>")
    .action((id: string, _opts: unknown, cmd: Command) =>
      run(cmd, async (ctx) => printSchedule(ctx, await ctx.client().pauseSchedule(id))),
    );

  schedule
    .command("resume")
    .description("start executions again (fire times passed while paused are not started)")
    .argument("<schedule-id>")
    .action((id: string, _opts: unknown, cmd: Command) =>
      run(cmd, async (ctx) => printSchedule(ctx, await ctx.client().resumeSchedule(id))),
    );

  schedule
    .command("delete")
    .description("delete a schedule (the executions it started are kept)")
    .argument("<schedule-id>")
    .action((id: string, _opts: unknown, cmd: Command) =>
      run(cmd, async (ctx) => {
        await ctx.client().deleteSchedule(id);
        if (ctx.json) ctx.printJson({ scheduleId: id, deleted: true });
        else ctx.print(`${ctx.style.green("✓")} schedule ${ctx.style.bold(id)} deleted`);
      }),
    );
}
