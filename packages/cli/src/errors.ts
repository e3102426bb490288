import { ExitCode } from "./exit-codes";

/** A mistake on the command line (exit code 2): the message says what and how to fix it. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * The command ran but the answer is "no" (exit code 1 by default); what went wrong was already
 * printed, or is the message.
 */
export class CommandFailed extends Error {
  override readonly name = "CommandFailed";
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Failed,
  ) {
    super(message);
  }
}
