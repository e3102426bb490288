import { isJsonataState, jsonataFailDetails } from "./jsonata-states";
import { pathSource } from "./context";
import type { EvaluationEnv } from "./context";
import { ErrorNames, StatesError } from "./errors";
import { evaluateIntrinsic } from "./intrinsics";
import type { Json } from "./json";
import { describeValue } from "./json";
import { cachedPath } from "./jsonpath";
import { evaluatePath } from "./jsonpath-eval";
import type { FailState } from "./types";

const NO_RANDOMNESS: Pick<EvaluationEnv, "random" | "uuid"> = {
  random: () => {
    throw new StatesError(ErrorNames.IntrinsicFailure, "no random source is available here");
  },
  uuid: () => {
    throw new StatesError(ErrorNames.IntrinsicFailure, "no UUID source is available here");
  },
};

function resolveText(field: string, expression: string, rawInput: Json, env: Partial<EvaluationEnv>): string {
  let value: Json | undefined;
  if (expression.startsWith("$")) {
    const path = cachedPath(expression);
    const data = pathSource(path, rawInput, env);
    value = data === undefined ? undefined : evaluatePath(path, data);
    if (value === undefined) {
      throw new StatesError(
        ErrorNames.Runtime,
        `${field} ${JSON.stringify(expression)} matches nothing in the state's input`,
      );
    }
  } else {
    value = evaluateIntrinsic(expression, rawInput, { ...NO_RANDOMNESS, ...env });
  }
  if (typeof value !== "string") {
    throw new StatesError(
      ErrorNames.Runtime,
      `${field} ${JSON.stringify(expression)} gave ${describeValue(value)}, not a string`,
    );
  }
  return value;
}

/**
 * The error name and cause a Fail state ends with: Error/Cause, or ErrorPath/CausePath (a
 * reference path or an intrinsic function, applied to the raw input; Fail has no InputPath).
 * Missing fields give `""`. `env` is needed only when the paths use `$$` or random intrinsics.
 * Throws `StatesError` `States.Runtime` when a path misses or does not yield a string.
 */
export function failDetails(
  state: FailState,
  rawInput: Json,
  env: Partial<EvaluationEnv> = {},
): { error: string; cause: string } {
  if (isJsonataState(state)) return jsonataFailDetails(state, rawInput, env as EvaluationEnv);
  const error =
    state.ErrorPath !== undefined
      ? resolveText("ErrorPath", state.ErrorPath, rawInput, env)
      : (state.Error ?? "");
  const cause =
    state.CausePath !== undefined
      ? resolveText("CausePath", state.CausePath, rawInput, env)
      : (state.Cause ?? "");
  return { error, cause };
}
