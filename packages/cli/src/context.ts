/** What every command runs with: the process's streams and environment, options, a lazy client. */
import type { ClientOptions, JetflowClient } from "@jetflow/client";
import type { Command } from "commander";
import type { ExitCode } from "./exit-codes";
import type { ScreenOutput } from "./screen";
import type { Style } from "./style";

/** A stream the CLI writes to. */
export interface OutputStream extends ScreenOutput {
  /** True when the stream is a terminal. */
  readonly isTTY?: boolean;
  /** Terminal width, when known. */
  readonly columns?: number;
}

/** The outside world of one CLI run; main.ts passes the process's, tests their own. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Reads a file as UTF-8 text; `-` means standard input. */
  readFile(path: string): Promise<string>;
  /** Creates a client of the jetflow API. */
  connect(options: ClientOptions): JetflowClient;
  /**
   * Calls `listener` on Ctrl-C instead of exiting; returns a function that removes it. While no
   * listener is registered, Ctrl-C ends the process with exit code 130.
   */
  onInterrupt(listener: () => void): () => void;
}

/** One command's view of the run: parsed global options and helpers. */
export interface Ctx {
  readonly io: CliIo;
  /** `--json`: print JSON for scripts instead of text for people. */
  readonly json: boolean;
  /** Colours for standard output (off unless it is a terminal). */
  readonly style: Style;
  /** host:port of the jetflow API. */
  readonly address: string;
  /**
   * How the user runs this CLI, for the commands that hints print: `$JETFLOW_COMMAND` (which
   * scripts/jetflow sets to the path it was run as, e.g. `./scripts/jetflow`), else `jetflow`.
   */
  readonly command: string;
  /** The client, created on first use and closed when the command ends. */
  client(): JetflowClient;
  /** Writes `text` and a newline to standard output. */
  print(text: string): void;
  /** Writes `value` as JSON to standard output: indented, or on one line when `compact`. */
  printJson(value: unknown, compact?: boolean): void;
  /** Writes `text` and a newline to standard error, for notes that are not the command's result. */
  note(text: string): void;
}

/** Runs one command; the action returns its exit code (undefined means 0). */
export type Action = (ctx: Ctx) => Promise<ExitCode | void>;

/** Binds an action to the parsed global options of `command`; used by every command module. */
export type Runner = (command: Command, action: Action) => Promise<void>;
