/** Parsers of option values, for commander's `argParser`. */
import { InvalidArgumentError } from "commander";
import type { ExecutionStatus } from "@jetflow/contracts";
import { STATUS_NAMES, parseStatus } from "./format";

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
