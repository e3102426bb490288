/** `jetflow dead-letters list|show|replay|discard`: the messages services parked, and what to do with them. */
import type { DeadLetterInfo, GetDeadLetterResponse } from "@jetflow/client";
import type { Command } from "commander";
import type { Ctx, Runner } from "../context";
import { formatTime, prettyJson, renderFields, renderTable, truncate } from "../format";
import { positiveInt } from "../options";
import type { Style } from "../style";

interface ListOptions {
  service?: string;
  subject?: string;
  reason?: string;
  limit?: number;
  pageToken?: string;
}

function letterToJson(letter: DeadLetterInfo): Record<string, unknown> {
  return { ...letter, parkedTime: letter.parkedTime?.toISOString() };
}

/** The letters as a table, one per line, the reason cut to fit. */
export function renderDeadLetters(style: Style, letters: readonly DeadLetterInfo[]): string {
  if (letters.length === 0) return style.dim("no dead letters\n");
  return renderTable(
    style,
    ["SEQ", "PARKED", "SERVICE", "KIND", "SUBJECT", "REASON"],
    letters.map((l) => [
      String(l.sequence),
      formatTime(l.parkedTime),
      l.service,
      l.replayable ? l.kind : style.dim(l.kind),
      l.subject,
      truncate(l.reason, 80),
    ]),
  );
}

/** One letter: its fields, then its payload as indented JSON (or why it could not be decoded). */
export function renderDeadLetter(style: Style, response: GetDeadLetterResponse): string {
  const l = response.deadLetter;
  if (l === undefined) return "";
  const fields: [string, string][] = [
    ["Sequence", String(l.sequence)],
    ["Parked", formatTime(l.parkedTime)],
    ["Service", l.service],
    ["Kind", l.kind],
    ["Subject", l.subject],
  ];
  if (l.executionId !== "") fields.push(["Execution", l.executionId]);
  if (l.deliveryCount > 0) fields.push(["Deliveries", String(l.deliveryCount)]);
  fields.push(["Replayable", l.replayable ? "yes" : "no"]);
  fields.push(["Reason", l.reason]);
  fields.push(["Size", `${l.sizeBytes} bytes`]);
  fields.push(
    response.payloadJson !== ""
      ? ["Payload", prettyJson(response.payloadJson)]
      : ["Payload", style.dim(`(not decoded: ${response.decodeError})`)],
  );
  return renderFields(style, fields);
}

async function list(ctx: Ctx, opts: ListOptions): Promise<void> {
  const letters: DeadLetterInfo[] = [];
  let pageToken = opts.pageToken ?? "";
  let next: string;
  const limit = opts.limit ?? 100;
  do {
    const page = await ctx.client().listDeadLetters({
      service: opts.service,
      subjectPrefix: opts.subject,
      reasonContains: opts.reason,
      pageSize: Math.min(limit - letters.length, 1000),
      pageToken,
    });
    letters.push(...page.deadLetters);
    next = page.nextPageToken;
    pageToken = next;
  } while (pageToken !== "" && letters.length < limit);
  if (ctx.json) {
    ctx.printJson({ deadLetters: letters.map(letterToJson), nextPageToken: next });
    return;
  }
  ctx.io.stdout.write(renderDeadLetters(ctx.style, letters));
  if (next !== "") ctx.note(ctx.style.dim(`more: ${ctx.command} dead-letters list --page-token ${next}`));
}

async function show(ctx: Ctx, sequence: number): Promise<void> {
  const response = await ctx.client().getDeadLetter(sequence);
  if (ctx.json) {
    ctx.printJson({
      deadLetter: response.deadLetter && letterToJson(response.deadLetter),
      payloadJson: response.payloadJson,
      decodeError: response.decodeError,
      payloadBase64: Buffer.from(response.payload).toString("base64"),
    });
  } else {
    ctx.io.stdout.write(renderDeadLetter(ctx.style, response));
  }
}

async function replay(ctx: Ctx, sequences: number[]): Promise<void> {
  const replayed = [];
  for (const sequence of sequences) {
    const response = await ctx.client().replayDeadLetter(sequence);
    replayed.push({ sequence, ...response });
    if (!ctx.json) {
      ctx.print(
        `${ctx.style.green("↻")} dead letter ${ctx.style.bold(String(sequence))} replayed on ${response.subject}` +
          (response.duplicate ? ctx.style.dim(" (already replayed)") : ""),
      );
    }
  }
  if (ctx.json) ctx.printJson({ replayed });
}

async function discard(ctx: Ctx, sequences: number[]): Promise<void> {
  for (const sequence of sequences) {
    await ctx.client().discardDeadLetter(sequence);
    if (!ctx.json)
      ctx.print(`${ctx.style.yellow("✗")} dead letter ${ctx.style.bold(String(sequence))} discarded`);
  }
  if (ctx.json) ctx.printJson({ discarded: sequences });
}

/** Adds `dead-letters list|show|replay|discard` to `program`. */
export function addDeadLetterCommands(program: Command, run: Runner): void {
  const group = program
    .command("dead-letters")
    .description("list, inspect, replay and discard the messages services parked")
    .addHelpText(
      "after",
      "\nA dead letter is a message a service could not process, parked with the reason on the stream\n" +
        "JETFLOW_DEAD_LETTERS (kept 14 days). Commands, tasks, results and timers can be replayed once\n" +
        "the cause is fixed; event batches and state requests can only be discarded (docs/operations.md).",
    );

  group
    .command("list")
    .description("list dead letters, oldest first")
    .option("-s, --service <name>", "only those parked by this service (orchestrator, dispatcher, ...)")
    .option("--subject <prefix>", "only those whose original subject starts with this")
    .option("-r, --reason <text>", "only those whose reason contains this")
    .option("-n, --limit <count>", "at most this many (default 100)", positiveInt)
    .option("--page-token <token>", "continue after an earlier page")
    .action((opts: ListOptions, cmd: Command) => run(cmd, (ctx) => list(ctx, opts)));

  group
    .command("show")
    .description("show one dead letter with its decoded payload")
    .argument("<seq>", "the dead letter's sequence (from list)", positiveInt)
    .action((seq: number, _opts: unknown, cmd: Command) => run(cmd, (ctx) => show(ctx, seq)));

  group
    .command("replay")
    .description("publish dead letters again on their original subjects, then delete them")
    .argument("<seq...>", "sequences of the dead letters", (value: string, previous: number[] = []) => [
      ...previous,
      positiveInt(value),
    ])
    .action((seqs: number[], _opts: unknown, cmd: Command) => run(cmd, (ctx) => replay(ctx, seqs)));

  group
    .command("discard")
    .description("delete dead letters without replaying them")
    .argument("<seq...>", "sequences of the dead letters", (value: string, previous: number[] = []) => [
      ...previous,
      positiveInt(value),
    ])
    .action((seqs: number[], _opts: unknown, cmd: Command) => run(cmd, (ctx) => discard(ctx, seqs)));
}
