import type { EvaluationEnv } from "./context";
import { applyInputPath, readPath } from "./data-flow";
import { ErrorNames, StatesError } from "./errors";
import type { Json } from "./json";
import { describeValue } from "./json";
import type { State } from "./types";

/** Kinds of numbers a `...Path` setting may resolve to. */
export type NumberKind = "positive integer" | "non-negative integer" | "percentage";

/** Largest value jetflow accepts for any seconds setting (as Step Functions: 99,999,999). */
export const MAX_SECONDS = 99_999_999;

function fits(kind: NumberKind, value: unknown): value is number {
  if (typeof value !== "number") return false;
  switch (kind) {
    case "positive integer":
      return Number.isSafeInteger(value) && value > 0;
    case "non-negative integer":
      return Number.isSafeInteger(value) && value >= 0;
    case "percentage":
      return Number.isFinite(value) && value >= 0 && value <= 100;
  }
}

/**
 * Resolves a `...Path` setting (TimeoutSecondsPath, SecondsPath, MaxConcurrencyPath...) against
 * the state's input after InputPath, before Parameters. Throws `StatesError` `States.Runtime` when
 * the path matches nothing or the value is not the kind of number required.
 * @internal
 */
export function resolveNumberSetting(
  state: State,
  rawInput: Json,
  field: string,
  path: string,
  kind: NumberKind,
  env?: Partial<Pick<EvaluationEnv, "variables">>,
): number {
  const value = readPath(path, applyInputPath(state, rawInput, env), env);
  if (value === undefined) {
    throw new StatesError(
      ErrorNames.Runtime,
      `${field} ${JSON.stringify(path)} matches nothing in the state's input`,
    );
  }
  if (!fits(kind, value)) {
    const wanted = kind === "percentage" ? "a number from 0 to 100" : `a ${kind}`;
    throw new StatesError(
      ErrorNames.Runtime,
      `${field} ${JSON.stringify(path)} selected ${describeValue(value)}, but it must be ${wanted}`,
    );
  }
  return value;
}
