/** `jetflow task success|failure|heartbeat`: complete or heartbeat a task by its token. */
import type { Command } from "commander";
import type { Ctx, Runner } from "../context";
import { readJsonArg } from "../json-arg";

interface SuccessOptions {
  output: string;
}

async function success(ctx: Ctx, token: string, opts: SuccessOptions): Promise<void> {
  const outputJson = await readJsonArg("--output", opts.output, ctx.io.readFile);
  await ctx.client().sendTaskSuccess(token, JSON.parse(outputJson));
  if (ctx.json) ctx.printJson({ taskToken: token, completed: "success" });
  else ctx.print(`${ctx.style.green("✓")} task ${ctx.style.bold(token)} succeeded`);
}

interface FailureOptions {
  error: string;
  cause?: string;
}

async function failure(ctx: Ctx, token: string, opts: FailureOptions): Promise<void> {
  await ctx.client().sendTaskFailure(token, opts.error, opts.cause);
  if (ctx.json) ctx.printJson({ taskToken: token, completed: "failure", error: opts.error });
  else
    ctx.print(
      `${ctx.style.red("✗")} task ${ctx.style.bold(token)} failed with ${ctx.style.bold(opts.error)}`,
    );
}

async function heartbeat(ctx: Ctx, token: string): Promise<void> {
  const { cancelRequested } = await ctx.client().sendTaskHeartbeat(token);
  if (ctx.json) ctx.printJson({ taskToken: token, cancelRequested });
  else if (cancelRequested)
    ctx.print(`${ctx.style.yellow("■")} the execution no longer wants this task: abandon it`);
  else ctx.print(`${ctx.style.green("♥")} heartbeat recorded`);
}

/** Adds `task success`, `task failure` and `task heartbeat` to `program`. */
export function addTaskCommands(program: Command, run: Runner): void {
  const task = program
    .command("task")
    .description("complete or heartbeat a task by its token (the callback pattern)")
    .addHelpText(
      "after",
      "\nA task's token is in its TaskScheduled event: `jetflow watch` and `jetflow history` show it.",
    );

  task
    .command("success")
    .description("complete a task with an output")
    .argument("<token>", "the task's token")
    .option("-o, --output <json>", "output as JSON text, @file, or @- for standard input", "{}")
    .action((token: string, opts: SuccessOptions, cmd: Command) =>
      run(cmd, (ctx) => success(ctx, token, opts)),
    );

  task
    .command("failure")
    .description("fail a task with an error that Retry and Catch can match")
    .argument("<token>", "the task's token")
    .option("-e, --error <name>", "error name", "States.TaskFailed")
    .option("-c, --cause <text>", "what went wrong")
    .action((token: string, opts: FailureOptions, cmd: Command) =>
      run(cmd, (ctx) => failure(ctx, token, opts)),
    );

  task
    .command("heartbeat")
    .description("tell the engine a long task is still alive; says when its execution was stopped")
    .argument("<token>", "the task's token")
    .action((token: string, _opts: unknown, cmd: Command) => run(cmd, (ctx) => heartbeat(ctx, token)));
}
