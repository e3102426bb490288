/**
 * The `jetflow` command line: parses arguments with commander, runs one command and turns every
 * outcome into an exit code (see exit-codes.ts). No process globals are touched here: main.ts
 * passes the process's streams, environment and signals in a {@link CliIo}.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { JetflowError } from "@jetflow/client";
import type { ClientOptions, JetflowClient } from "@jetflow/client";
import { Command, CommanderError, Option } from "commander";
import { addBulkCommands } from "./commands/bulk";
import { addDeadLetterCommands } from "./commands/dead-letters";
import { addExecutionCommands } from "./commands/executions";
import { addStatsCommand } from "./commands/stats";
import { addScheduleCommands } from "./commands/schedules";
import { addTaskCommands } from "./commands/tasks";
import { addWatchCommand } from "./commands/watch";
import { addWorkflowCommands } from "./commands/workflows";
import type { CliIo, Ctx, Runner } from "./context";
import { CommandFailed, UsageError } from "./errors";
import { ExitCode, exitCodeForStatus } from "./exit-codes";
import { positiveInt } from "./options";
import { colorEnabled, createStyle } from "./style";

/** The API address when neither `--address` nor `JETFLOW_ADDR` says otherwise. */
export const DEFAULT_ADDRESS = "127.0.0.1:50051";

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const UNAUTHENTICATED = 16;

interface GlobalOptions {
  address?: string;
  token?: string;
  ca?: string;
  cert?: string;
  key?: string;
  tls?: boolean;
  json?: boolean;
  color?: boolean;
  timeout?: number;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/**
 * Runs the `jetflow` command with `argv` (the arguments after the program name) and resolves with
 * its exit code. Never rejects: every error is reported on `io.stderr`.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const errStyle = createStyle(colorEnabled(io.stderr.isTTY, io.env));
  let exitCode: number = ExitCode.Ok;
  let client: JetflowClient | undefined;
  let address = io.env["JETFLOW_ADDR"] || DEFAULT_ADDRESS;
  const commandName = io.env["JETFLOW_COMMAND"] || "jetflow";

  const runner: Runner = async (command, action) => {
    const opts = command.optsWithGlobals<GlobalOptions>();
    address = opts.address ?? address;
    const json = opts.json === true;
    const tls = await tlsOptions(opts, io);
    const style = createStyle(!json && colorEnabled(io.stdout.isTTY, io.env, opts.color));
    const ctx: Ctx = {
      io,
      json,
      style,
      address,
      command: commandName,
      client: () =>
        (client ??= io.connect({
          address,
          deadlineMs: opts.timeout,
          // "" rather than undefined: the client must not fall back to the process's own env.
          token: opts.token ?? io.env["JETFLOW_TOKEN"] ?? "",
          tls,
        })),
      print: (text) => io.stdout.write(`${text}\n`),
      printJson: (value, compact) =>
        io.stdout.write(`${JSON.stringify(value, null, compact ? undefined : 2)}\n`),
      note: (text) => io.stderr.write(`${text}\n`),
    };
    exitCode = (await action(ctx)) ?? ExitCode.Ok;
  };

  const program = new Command(commandName)
    .description(
      "Validate, register and run Amazon States Language workflows on jetflow, and watch them run.",
    )
    .version(version(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help for a command")
    .option(
      "-a, --address <host:port>",
      `jetflow API (api-gateway) address (default: $JETFLOW_ADDR or ${DEFAULT_ADDRESS})`,
    )
    .option("--token <token>", "bearer token for the API (default: $JETFLOW_TOKEN; prefer the variable)")
    .option("--tls", "connect with TLS, trusting the system's CAs (implied by --ca, --cert, --key)")
    .option("--ca <file>", "PEM CA bundle that signed the API's certificate (default: $JETFLOW_CA)")
    .option("--cert <file>", "PEM client certificate for mutual TLS (default: $JETFLOW_CERT)")
    .option("--key <file>", "PEM private key of --cert (default: $JETFLOW_KEY)")
    .option("--json", "print JSON for scripts instead of text for people")
    .option("--color", "colour the output even when it is not a terminal")
    .option("--no-color", "never colour the output (also: NO_COLOR=1)")
    .addOption(
      new Option("--timeout <ms>", "deadline of each API call in milliseconds").argParser(positiveInt),
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(errStyle.red(text)),
    })
    .showHelpAfterError("(add --help for usage)")
    .showSuggestionAfterError(true)
    .addHelpText(
      "after",
      `
Exit codes:
  0  ok (a watched or awaited execution succeeded)
  1  invalid definition, or the execution ended FAILED, TIMED_OUT or ABORTED
  2  usage error          3  API unreachable or too slow    4  not found
  5  request refused      6  other server error           130  interrupted (Ctrl-C)

Environment:
  JETFLOW_ADDR   API address (host:port), overridden by --address
  JETFLOW_TOKEN  bearer token (API token or JWT), overridden by --token
  JETFLOW_CA, JETFLOW_CERT, JETFLOW_KEY  TLS files, overridden by --ca, --cert, --key
  JETFLOW_COMMAND  how you run this command, for the commands hints print (default: jetflow)
  NO_COLOR       turn colours off

Docs: docs/cli.md`,
    );

  addWorkflowCommands(program, runner);
  addExecutionCommands(program, runner);
  addWatchCommand(program, runner);
  addTaskCommands(program, runner);
  addScheduleCommands(program, runner);
  addStatsCommand(program, runner);
  addDeadLetterCommands(program, runner);
  addBulkCommands(program, runner);

  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (err) {
    return report(err, io, errStyle, address);
  } finally {
    client?.close();
  }
}

/** TLS settings from --tls/--ca/--cert/--key (or JETFLOW_CA/CERT/KEY); undefined: plaintext. */
async function tlsOptions(opts: GlobalOptions, io: CliIo): Promise<ClientOptions["tls"]> {
  const ca = opts.ca ?? io.env["JETFLOW_CA"];
  const cert = opts.cert ?? io.env["JETFLOW_CERT"];
  const key = opts.key ?? io.env["JETFLOW_KEY"];
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("--cert and --key (JETFLOW_CERT, JETFLOW_KEY) go together");
  }
  if (ca === undefined && cert === undefined) return opts.tls === true ? true : undefined;
  const read = async (flag: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return await io.readFile(path);
    } catch (err) {
      throw new UsageError(
        `cannot read ${flag} file "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  };
  return { ca: await read("--ca", ca), cert: await read("--cert", cert), key: await read("--key", key) };
}

function report(err: unknown, io: CliIo, style: ReturnType<typeof createStyle>, address: string): number {
  const fail = (text: string) => io.stderr.write(`${style.red("error:")} ${text}\n`);
  if (err instanceof CommanderError) {
    // Help and version exit 0; commander already printed what was wrong with the command line.
    return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  }
  if (err instanceof UsageError) {
    fail(err.message);
    return ExitCode.Usage;
  }
  if (err instanceof CommandFailed) {
    if (err.message !== "") fail(err.message);
    return err.exitCode;
  }
  const e = JetflowError.from(err);
  if (e.code === UNAVAILABLE || e.code === DEADLINE_EXCEEDED) {
    const what = e.code === UNAVAILABLE ? "cannot reach" : "no answer in time from";
    fail(`${what} the jetflow API at ${address}: ${e.details}`);
    io.stderr.write(
      style.dim(
        "is jetflow running? ./scripts/start.sh starts it; --address or JETFLOW_ADDR say where it is\n",
      ),
    );
  } else {
    fail(e.details || e.message);
    if (e.code === UNAUTHENTICATED) {
      io.stderr.write(style.dim("the API needs a token: --token or JETFLOW_TOKEN give it\n"));
    }
  }
  return exitCodeForStatus(e.code);
}
