/**
 * `jetflow stats`: each activity's connected workers, task backlog, idle worker pulls and recent
 * failure rate, each workflow's recent failure rate.
 */
import type { GetEngineStatsResponse } from "@jetflow/client";
import type { Command } from "commander";
import type { Ctx, Runner } from "../context";
import { formatDuration, formatTime, renderTable } from "../format";
import { positiveInt } from "../options";
import type { Style } from "../style";

interface StatsOptions {
  window?: number;
}

/** A failure rate as a percentage, `-` when nothing ended. */
function formatRate(ended: number, rate: number): string {
  return ended === 0 ? "-" : `${(rate * 100).toFixed(1)}%`;
}

/** The stats as two tables, activities then workflows, with a warning for a queue nobody pulls. */
export function renderStats(style: Style, stats: GetEngineStatsResponse): string {
  const parts: string[] = [];
  const window = formatDuration(stats.windowSeconds * 1000);
  // The activities' counts cover less than the window when it held too much history to read.
  const taskStartMs = stats.taskCountsStartTime?.getTime();
  const windowStartMs = (stats.readTime?.getTime() ?? 0) - stats.windowSeconds * 1000;
  const taskWindow =
    taskStartMs !== undefined && taskStartMs > windowStartMs + 1000
      ? `since ${formatTime(stats.taskCountsStartTime)}`
      : window;
  if (stats.activities.length === 0) {
    parts.push(style.dim("no activity has a task queue yet\n"));
  } else {
    parts.push(
      renderTable(
        style,
        [
          "ACTIVITY",
          "WORKERS",
          "PENDING",
          "RUNNING",
          "IDLE PULLS",
          "REDELIVERED",
          "LAST ACTIVE",
          `SUCCEEDED (${taskWindow})`,
          `FAILED (${taskWindow})`,
          "FAILURE RATE",
        ],
        stats.activities.map((a) => [
          a.activity,
          String(a.workersConnected),
          a.pending > 0 && a.waitingPulls === 0 && a.running === 0
            ? style.red(String(a.pending))
            : String(a.pending),
          String(a.running),
          String(a.waitingPulls),
          String(a.redelivered),
          formatTime(a.lastActiveTime),
          String(a.succeeded),
          a.failed > 0 ? style.red(String(a.failed)) : "0",
          formatRate(a.succeeded + a.failed, a.failureRate),
        ]),
      ),
    );
    const unserved = stats.activities.filter((a) => a.pending > 0 && a.waitingPulls === 0 && a.running === 0);
    for (const a of unserved) {
      parts.push(style.yellow(`! no worker is asking for tasks of "${a.activity}" (${a.pending} waiting)\n`));
    }
  }
  parts.push("\n");
  if (stats.workflows.length === 0) {
    parts.push(style.dim(`no execution running or ended in the last ${window}\n`));
  } else {
    parts.push(
      renderTable(
        style,
        ["WORKFLOW", "RUNNING", `SUCCEEDED (${window})`, `FAILED (${window})`, "FAILURE RATE"],
        stats.workflows.map((w) => [
          w.workflowName,
          String(w.running),
          String(w.succeeded),
          w.failed > 0 ? style.red(String(w.failed)) : "0",
          formatRate(w.succeeded + w.failed, w.failureRate),
        ]),
      ),
    );
  }
  return parts.join("");
}

async function stats(ctx: Ctx, opts: StatsOptions): Promise<void> {
  const response = await ctx.client().getEngineStats(opts.window ?? 0);
  if (ctx.json) ctx.printJson(response);
  else ctx.io.stdout.write(renderStats(ctx.style, response));
}

/** Adds `stats` to `program`. */
export function addStatsCommand(program: Command, run: Runner): void {
  program
    .command("stats")
    .description(
      "show each activity's workers, task backlog, idle pulls and recent failure rate, and each workflow's",
    )
    .option(
      "-w, --window <seconds>",
      "how far back the failure rates look (default 300, at most 86400)",
      positiveInt,
    )
    .addHelpText(
      "after",
      "\nWORKERS counts the worker processes connected now that run the activity (those that answer a\n" +
        "presence ping). Backlog and idle pulls are JetStream's numbers for each task consumer. An\n" +
        "activity's failure rate counts its task attempts (retries included) that failed or timed out in\n" +
        "the window, read from the executions' histories; a workflow's counts the top-level executions\n" +
        "that ended in it. Latency is in the Prometheus metrics (docs/metrics.md).",
    )
    .action((opts: StatsOptions, cmd: Command) => run(cmd, (ctx) => stats(ctx, opts)));
}
