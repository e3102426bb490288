import type { EvaluationEnv } from "./context";
import { pathSource } from "./context";
import { ErrorNames, StatesError } from "./errors";
import type { Json, JsonObject } from "./json";
import { cachedPath } from "./jsonpath";
import { evaluatePath, setAtReferencePath } from "./jsonpath-eval";
import { isJsonataState, jsonataArguments, jsonataOutput } from "./jsonata-states";
import { evaluateTemplate } from "./payload-template";
import type { ChoiceState, PassState, State } from "./types";

/** The variables a path may read (`$name`), when the caller has them. */
type PathEnv = Partial<Pick<EvaluationEnv, "variables">> | undefined;

/**
 * Evaluates `path` against `data`, or against the variable it names (`$name...`).
 * Undefined when it matches nothing (or names an unknown variable). @internal
 */
export function readPath(path: string, data: Json, env: PathEnv): Json | undefined {
  const parsed = cachedPath(path);
  if (parsed.root !== "$") return undefined;
  const source = pathSource(parsed, data, env ?? {});
  return source === undefined ? undefined : evaluatePath(parsed, source);
}

function selectWithPath(
  field: "InputPath" | "OutputPath",
  path: string | null | undefined,
  data: Json,
  env: PathEnv,
): Json {
  if (path === undefined) return data;
  if (path === null) return {};
  const value = readPath(path, data, env);
  if (value === undefined) {
    const variable = cachedPath(path).variable;
    const what =
      variable !== undefined
        ? `the variable "${variable}"`
        : field === "InputPath"
          ? "the state's input"
          : "the state's output";
    throw new StatesError(ErrorNames.Runtime, `${field} ${JSON.stringify(path)} matches nothing in ${what}`);
  }
  return value;
}

/**
 * Applies a state's InputPath to its raw input: absent means `$`, `null` means `{}`. This is the
 * input a state "sees" (Choice rules, Wait and timeout paths, ItemsPath). Throws `StatesError`
 * `States.Runtime` when the path matches nothing.
 */
export function applyInputPath(state: State, rawInput: Json, env?: PathEnv): Json {
  return state.Type === "Fail" ? rawInput : selectWithPath("InputPath", state.InputPath, rawInput, env);
}

/**
 * The effective input of a state: InputPath, then Parameters (Task, Pass, Parallel). For a Map
 * state only InputPath applies, because its Parameters (like ItemSelector) shape each item (see
 * `mapItemInput`). Throws `StatesError` (`States.Runtime`, `States.ParameterPathFailure`,
 * `States.IntrinsicFailure`).
 */
export function effectiveInput(state: State, rawInput: Json, env: EvaluationEnv): Json {
  if (isJsonataState(state)) {
    return state.Type === "Task" || state.Type === "Parallel"
      ? jsonataArguments(state, rawInput, env)
      : rawInput;
  }
  const selected = applyInputPath(state, rawInput, env);
  if (
    (state.Type === "Task" || state.Type === "Pass" || state.Type === "Parallel") &&
    state.Parameters !== undefined
  ) {
    return evaluateTemplate(state.Parameters, selected, env);
  }
  return selected;
}

/**
 * Applies a ResultPath to the raw input: absent means `$` (the result replaces the input), `null`
 * discards the result (the raw input passes through), anything else places the result inside a
 * copy of the raw input. Throws `StatesError` `States.ResultPathMatchFailure`.
 */
export function applyResultPath(resultPath: string | null | undefined, rawInput: Json, result: Json): Json {
  if (resultPath === undefined) return result;
  if (resultPath === null) return rawInput;
  return setAtReferencePath(rawInput, resultPath, result);
}

/** Applies an OutputPath: absent means `$`, `null` means `{}`. Throws `StatesError` `States.Runtime`. */
export function applyOutputPath(outputPath: string | null | undefined, value: Json, env?: PathEnv): Json {
  return selectWithPath("OutputPath", outputPath, value, env);
}

/**
 * The output of a state that produced `result`: ResultSelector (Task, Parallel, Map; its `$` is
 * the result), then ResultPath against the raw input, then OutputPath. For a Pass state `result` is
 * its Result or effective input (see `passResult`). Throws `StatesError`.
 */
export function stateOutput(state: State, rawInput: Json, result: Json, env: EvaluationEnv): Json {
  if (isJsonataState(state)) return jsonataOutput(state, rawInput, result, env);
  switch (state.Type) {
    case "Task":
    case "Parallel":
    case "Map": {
      const selected =
        state.ResultSelector === undefined ? result : evaluateTemplate(state.ResultSelector, result, env);
      return applyOutputPath(state.OutputPath, applyResultPath(state.ResultPath, rawInput, selected), env);
    }
    case "Pass":
      return applyOutputPath(state.OutputPath, applyResultPath(state.ResultPath, rawInput, result), env);
    case "Fail":
      return rawInput;
    default:
      return passThroughOutput(state, rawInput);
  }
}

/**
 * The whole output of a Pass state: its result is `Result` when present, otherwise its effective
 * input (InputPath, then Parameters); then ResultPath and OutputPath. Throws `StatesError`.
 */
export function passResult(state: PassState, rawInput: Json, env: EvaluationEnv): Json {
  if (isJsonataState(state)) return jsonataOutput(state, rawInput, undefined, env);
  const result = state.Result !== undefined ? state.Result : effectiveInput(state, rawInput, env);
  return stateOutput(state, rawInput, result, env);
}

/**
 * The output of a state that produces no result of its own (Choice, Wait, Succeed): InputPath,
 * then OutputPath. Throws `StatesError` `States.Runtime`.
 */
export function passThroughOutput(state: State, rawInput: Json, env?: EvaluationEnv): Json {
  if (state.Type === "Fail") return rawInput;
  if (isJsonataState(state)) return jsonataOutput(state, rawInput, undefined, env);
  return applyOutputPath(state.OutputPath, applyInputPath(state, rawInput, env), env);
}

/** The output of a Choice state (InputPath, then OutputPath), which becomes the chosen state's input. */
export function choiceOutput(state: ChoiceState, rawInput: Json, env?: EvaluationEnv): Json {
  return passThroughOutput(state, rawInput, env);
}

/** The Error Output a Catcher passes on. @internal */
export function errorOutput(error: { error: string; cause: string }): JsonObject {
  return { Error: error.error, Cause: error.cause };
}
