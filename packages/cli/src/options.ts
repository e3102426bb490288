/** Parsers of option values, for commander's `argParser`. */
import { InvalidArgumentError } from "commander";
import type { ExecutionStatus } from "@jetflow/contracts";
import { UsageError } from "./errors";
import { STATUS_NAMES, parseStatus } from "./format";

/** The engine's execution id format: one NATS subject token of at most 128 characters. */
const EXECUTION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Checks an `<execution-id>` argument before any call, so a mistyped id is a one-line usage error.
 * @throws UsageError when `value` cannot be an execution id
 */
export function executionIdArg(value: string): string {
  if (!EXECUTION_ID.test(value)) {
    const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
    throw new UsageError(
      `${JSON.stringify(shown)} is not an execution id: ids are 1 to 128 letters, digits, "-" and "_"`,
    );
  }
  return value;
}

/** A positive integer (`--limit 20`). */
export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError("expected a positive integer");
  return Number(value);
}

/** An integer from 0 up (`--version 0` means the latest). */
export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected an integer from 0 up");
  return Number(value);
}

/** An execution status name, any case (`--status failed`). */
export function statusOption(value: string): ExecutionStatus {
  const status = parseStatus(value);
  if (status === undefined) {
    throw new InvalidArgumentError(`expected one of ${STATUS_NAMES.map((s) => s.toLowerCase()).join(", ")}`);
  }
  return status;
}
