/** `jetflow stats`: each activity's task backlog and idle worker pulls, each workflow's recent failure rate. */
import type { GetEngineStatsResponse } from "@jetflow/client";
import type { Command } from "commander";
import type { Ctx, Runner } from "../context";
import { formatDuration, formatTime, renderTable } from "../format";
import { positiveInt } from "../options";
import type { Style } from "../style";

interface StatsOptions {
  window?: number;
}

/** The stats as two tables, activities then workflows, with a warning for a queue nobody pulls. */
export function renderStats(style: Style, stats: GetEngineStatsResponse): string {
  const parts: string[] = [];
  if (stats.activities.length === 0) {
    parts.push(style.dim("no activity has a task queue yet\n"));
  } else {
    parts.push(
      renderTable(
        style,
        ["ACTIVITY", "PENDING", "RUNNING", "IDLE PULLS", "REDELIVERED", "LAST ACTIVE"],
        stats.activities.map((a) => [
          a.activity,
          a.pending > 0 && a.waitingPulls === 0 && a.running === 0
            ? style.red(String(a.pending))
            : String(a.pending),
          String(a.running),
          String(a.waitingPulls),
          String(a.redelivered),
          formatTime(a.lastActiveTime),
        ]),
      ),
    );
    const unserved = stats.activities.filter((a) => a.pending > 0 && a.waitingPulls === 0 && a.running === 0);
    for (const a of unserved) {
      parts.push(style.yellow(`! no worker is asking for tasks of "${a.activity}" (${a.pending} waiting)\n`));
    }
  }
  parts.push("\n");
  const window = formatDuration(stats.windowSeconds * 1000);
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
          w.succeeded + w.failed === 0 ? "-" : `${(w.failureRate * 100).toFixed(1)}%`,
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
      "show each activity's task backlog and idle workers, and each workflow's recent failure rate",
    )
    .option(
      "-w, --window <seconds>",
      "how far back the failure rates look (default 300, at most 86400)",
      positiveInt,
    )
    .addHelpText(
      "after",
      "\nBacklog and idle pulls are JetStream's numbers for each task consumer; the failure rates count the\n" +
        "top-level executions that ended in the window. Per-activity failure rates and latency are in the\n" +
        "Prometheus metrics (docs/metrics.md).",
    )
    .action((opts: StatsOptions, cmd: Command) => run(cmd, (ctx) => stats(ctx, opts)));
}
