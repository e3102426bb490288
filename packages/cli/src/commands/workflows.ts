/** `jetflow validate`, `jetflow register` and `jetflow workflows`. */
import { basename } from "node:path";
import { formatProblems, loadDefinition } from "@jetflow/asl";
import type { AslProblem, StateMachine } from "@jetflow/asl";
import type { Command } from "commander";
import { Option } from "commander";
import type { Ctx, Runner } from "../context";
import { CommandFailed, UsageError } from "../errors";
import { ExitCode } from "../exit-codes";
import { formatTime, renderTable } from "../format";
import { readTextFile } from "../json-arg";
import { positiveInt } from "../options";

const EXTENSIONS = [".asl.yaml", ".asl.yml", ".asl.json", ".yaml", ".yml", ".json"];

/** The workflow name a file registers under: its name without `.asl.yaml`, `.json`... */
export function workflowNameOf(file: string): string {
  const name = basename(file);
  const ext = EXTENSIONS.find((e) => name.toLowerCase().endsWith(e));
  return ext === undefined ? name : name.slice(0, -ext.length);
}

/** How many states a machine has, counting those inside Parallel branches and Map processors. */
export function countStates(machine: Pick<StateMachine, "States">): number {
  let count = 0;
  for (const state of Object.values(machine.States)) {
    count++;
    if (state.Type === "Parallel") for (const branch of state.Branches) count += countStates(branch);
    if (state.Type === "Map") {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor !== undefined) count += countStates(processor);
    }
  }
  return count;
}

type Checked =
  | { file: string; text: string; ok: true; machine: StateMachine }
  | { file: string; text: string; ok: false; problems: AslProblem[] };

async function check(ctx: Ctx, file: string): Promise<Checked> {
  const text = await readTextFile(file, ctx.io.readFile);
  const loaded = loadDefinition(text);
  return loaded.ok
    ? { file, text, ok: true, machine: loaded.machine }
    : { file, text, ok: false, problems: loaded.problems };
}

function printProblems(ctx: Ctx, checked: Extract<Checked, { ok: false }>): void {
  const s = ctx.style;
  const count = checked.problems.length;
  ctx.print(`${s.red("✗")} ${s.bold(checked.file)}: ${count} problem${count === 1 ? "" : "s"}`);
  for (const line of formatProblems(checked.problems, checked.file).split("\n")) ctx.print(`  ${line}`);
}

async function validate(ctx: Ctx, files: string[]): Promise<ExitCode> {
  const results = await Promise.all(files.map((file) => check(ctx, file)));
  if (ctx.json) {
    ctx.printJson({
      valid: results.every((r) => r.ok),
      files: results.map((r) =>
        r.ok
          ? { file: r.file, valid: true, startAt: r.machine.StartAt, states: countStates(r.machine) }
          : { file: r.file, valid: false, problems: r.problems },
      ),
    });
  } else {
    for (const r of results) {
      if (r.ok) {
        const n = countStates(r.machine);
        ctx.print(
          `${ctx.style.green("✓")} ${ctx.style.bold(r.file)}: valid ${ctx.style.dim(`(${n} state${n === 1 ? "" : "s"}, starts at ${r.machine.StartAt})`)}`,
        );
      } else {
        printProblems(ctx, r);
      }
    }
  }
  return results.every((r) => r.ok) ? ExitCode.Ok : ExitCode.Failed;
}

interface RegisterOptions {
  name?: string;
  description?: string;
}

async function register(ctx: Ctx, files: string[], opts: RegisterOptions): Promise<void> {
  if (opts.name !== undefined && files.length > 1) {
    throw new UsageError(
      "--name works with one file only; without it each file registers under its own name",
    );
  }
  // Check everything first, so that a bad file registers nothing.
  const checked = await Promise.all(files.map((file) => check(ctx, file)));
  const bad = checked.filter((c): c is Extract<Checked, { ok: false }> => !c.ok);
  if (bad.length > 0) {
    if (!ctx.json) for (const c of bad) printProblems(ctx, c);
    else ctx.printJson({ registered: [], invalid: bad.map((c) => ({ file: c.file, problems: c.problems })) });
    throw new CommandFailed(
      `nothing registered: ${bad.length} definition${bad.length === 1 ? " has" : "s have"} problems`,
    );
  }
  const registered = [];
  for (const c of checked) {
    if (!c.ok) continue;
    const name = opts.name ?? workflowNameOf(c.file);
    const description = opts.description ?? (typeof c.machine.Comment === "string" ? c.machine.Comment : "");
    const res = await ctx.client().registerWorkflow({ name, definition: c.text, description });
    registered.push({ file: c.file, name: res.name, version: res.version, created: res.created });
    if (!ctx.json) {
      const s = ctx.style;
      ctx.print(
        res.created
          ? `${s.green("✓")} registered ${s.bold(res.name)} version ${res.version} ${s.dim(`from ${c.file}`)}`
          : `${s.green("✓")} ${s.bold(res.name)} version ${res.version} is already registered ${s.dim("(same definition)")}`,
      );
    }
  }
  if (ctx.json) ctx.printJson({ registered });
}

interface ListWorkflowsOptions {
  limit?: number;
  pageToken?: string;
}

async function listWorkflows(ctx: Ctx, opts: ListWorkflowsOptions): Promise<void> {
  const workflows = [];
  let pageToken = opts.pageToken ?? "";
  let next: string;
  do {
    const want = opts.limit === undefined ? 100 : Math.min(100, opts.limit - workflows.length);
    const page = await ctx.client().listWorkflows({ pageSize: want, pageToken });
    workflows.push(...page.workflows);
    next = page.nextPageToken;
    pageToken = next;
  } while (next !== "" && (opts.limit === undefined || workflows.length < opts.limit));
  if (ctx.json) {
    ctx.printJson({
      workflows: workflows.map((w) => ({ ...w, createdTime: w.createdTime?.toISOString() ?? null })),
      nextPageToken: next,
    });
    return;
  }
  if (workflows.length === 0) {
    ctx.print("no workflows registered yet; add one with: jetflow register <file>");
    return;
  }
  ctx.io.stdout.write(
    renderTable(
      ctx.style,
      ["NAME", "VERSION", "REGISTERED", "DESCRIPTION"],
      workflows.map((w) => [w.name, String(w.version), formatTime(w.createdTime), w.description]),
    ),
  );
  if (next !== "") ctx.note(ctx.style.dim(`more: jetflow workflows --page-token ${next}`));
}

/** Adds `validate`, `register` and `workflows` to `program`. */
export function addWorkflowCommands(program: Command, run: Runner): void {
  program
    .command("validate")
    .description("check workflow definitions (ASL as JSON or YAML) without a server")
    .argument("<files...>", "definition files")
    .addHelpText("after", "\nExit code 0 when every file is valid, 1 when any has problems.")
    .action((files: string[], _opts: unknown, cmd: Command) => run(cmd, (ctx) => validate(ctx, files)));

  program
    .command("register")
    .description("register workflow definitions; each file under its name without extension")
    .argument("<files...>", "definition files (checked first: a bad file registers nothing)")
    .option("-n, --name <name>", "workflow name (one file only)")
    .option("-d, --description <text>", "description (default: the definition's Comment)")
    .addHelpText(
      "after",
      "\nRegistering the same definition again returns the existing version; a changed one gets a new version.",
    )
    .action((files: string[], opts: RegisterOptions, cmd: Command) =>
      run(cmd, (ctx) => register(ctx, files, opts)),
    );

  program
    .command("workflows")
    .description("list registered workflows (latest version of each)")
    .addOption(new Option("--limit <n>", "show at most n workflows").argParser(positiveInt))
    .option("--page-token <token>", "continue a previous listing")
    .action((opts: ListWorkflowsOptions, cmd: Command) => run(cmd, (ctx) => listWorkflows(ctx, opts)));
}
