/**
 * The state semantics of JSONata states: Arguments, Output, Choice Condition, Wait, timeouts,
 * Fail, Map's Items/ItemSelector/MaxConcurrency/tolerated failures, and Catch's Output. The
 * JSONPath functions (data-flow.ts, choice.ts, wait.ts...) hand over here when
 * `state.QueryLanguage` is "JSONata". Every runtime failure is `States.QueryEvaluationError`.
 */
import type { EvaluationEnv } from "./context";
import { ErrorNames, StatesError } from "./errors";
import type { Json } from "./json";
import { describeValue, isJsonObject } from "./json";
import type { JsonataScope } from "./jsonata";
import { evaluateJsonataValue } from "./jsonata";
import { MAX_SECONDS } from "./settings";
import { parseTimestamp, timestampToMs } from "./timestamp";
import type {
  Catcher,
  ChoiceRule,
  ChoiceState,
  FailState,
  MapState,
  State,
  TaskState,
  WaitState,
} from "./types";

/** True when `state` uses JSONata (as `loadDefinition` resolved it). */
export function isJsonataState(state: { QueryLanguage?: string }): boolean {
  return state.QueryLanguage === "JSONata";
}

function requireEnv(env: EvaluationEnv | undefined): EvaluationEnv {
  if (!env) throw new Error("a JSONata state needs an evaluation environment");
  return env;
}

/** The scope of a field: `$states.input`, `$states.context`, and `result`/`errorOutput` when given. */
export function jsonataScope(
  input: Json,
  env: EvaluationEnv,
  extra: { result?: Json; errorOutput?: Json } = {},
): JsonataScope {
  return { states: { input, context: env.context, ...extra }, env };
}

function queryError(reason: string): StatesError {
  return new StatesError(ErrorNames.QueryEvaluationError, reason);
}

/** Task and Parallel: the evaluated Arguments, else the state input. */
export function jsonataArguments(state: State, rawInput: Json, env: EvaluationEnv | undefined): Json {
  const args = "Arguments" in state ? state.Arguments : undefined;
  if (args === undefined) return rawInput;
  return evaluateJsonataValue(args, jsonataScope(rawInput, requireEnv(env)), "Arguments");
}

/**
 * The state output: Output evaluated with `$states.result` (Task, Map, Parallel), else the result
 * (Task, Map, Parallel) or the input (every other state).
 */
export function jsonataOutput(
  state: State,
  rawInput: Json,
  result: Json | undefined,
  env: EvaluationEnv | undefined,
): Json {
  const hasResult = state.Type === "Task" || state.Type === "Map" || state.Type === "Parallel";
  if (state.Output === undefined) return hasResult ? (result ?? null) : rawInput;
  const extra = hasResult ? { result: result ?? null } : {};
  return evaluateJsonataValue(state.Output, jsonataScope(rawInput, requireEnv(env), extra), "Output");
}

/** The chosen rule of a JSONata Choice state (undefined: the Default). */
export interface JsonataChoice {
  next: string;
  rule?: ChoiceRule;
  ruleIndex?: number;
}

/**
 * The first rule whose Condition is true, else Default, else `States.NoChoiceMatched`. A
 * Condition that is not a boolean is `States.QueryEvaluationError`.
 */
export function jsonataChoose(
  state: ChoiceState,
  rawInput: Json,
  env: EvaluationEnv | undefined,
): JsonataChoice {
  const scope = jsonataScope(rawInput, requireEnv(env));
  for (const [index, rule] of state.Choices.entries()) {
    const field = `Choices[${index}].Condition`;
    const value = evaluateJsonataValue(rule.Condition ?? null, scope, field);
    if (typeof value !== "boolean") {
      throw queryError(`${field}: the condition must give a boolean, got ${describeValue(value)}`);
    }
    if (value) return { next: rule.Next as string, rule, ruleIndex: index };
  }
  if (state.Default !== undefined) return { next: state.Default };
  throw new StatesError(ErrorNames.NoChoiceMatched, "no choice rule matched and there is no Default");
}

/** A Choice state's output: the chosen rule's Output, else the state's, else its input. */
export function jsonataChoiceOutput(
  state: ChoiceState,
  rawInput: Json,
  choice: JsonataChoice,
  env: EvaluationEnv | undefined,
): Json {
  const output = choice.rule?.Output !== undefined ? choice.rule.Output : state.Output;
  if (output === undefined) return rawInput;
  const field = choice.rule?.Output !== undefined ? `Choices[${choice.ruleIndex}].Output` : "Output";
  return evaluateJsonataValue(output, jsonataScope(rawInput, requireEnv(env)), field);
}

function integerSetting(field: string, value: Json, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw queryError(`${field} must be an integer from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return value;
}

function evaluateSetting(field: string, value: Json, rawInput: Json, env: EvaluationEnv | undefined): Json {
  return evaluateJsonataValue(value, jsonataScope(rawInput, requireEnv(env)), field);
}

/** Wait: Seconds (an integer 0–99,999,999) or Timestamp (RFC 3339), either possibly a JSONata string. */
export function jsonataWaitUntilMs(
  state: WaitState,
  rawInput: Json,
  enteredAtMs: number,
  env: EvaluationEnv | undefined,
): number {
  if (state.Seconds !== undefined) {
    const seconds = integerSetting(
      "Seconds",
      evaluateSetting("Seconds", state.Seconds, rawInput, env),
      0,
      MAX_SECONDS,
    );
    return enteredAtMs + seconds * 1000;
  }
  const text = evaluateSetting("Timestamp", state.Timestamp ?? null, rawInput, env);
  const parsed = typeof text === "string" ? parseTimestamp(text) : undefined;
  if (parsed === undefined) {
    throw queryError(
      `Timestamp gave ${describeValue(text)}, which is not an RFC 3339 timestamp such as "2016-03-14T01:59:00Z"`,
    );
  }
  return timestampToMs(parsed);
}

/** Task: TimeoutSeconds and HeartbeatSeconds, positive integers (heartbeat shorter), possibly JSONata. */
export function jsonataTaskTimeouts(
  state: TaskState,
  rawInput: Json,
  env: EvaluationEnv | undefined,
): { timeoutSeconds?: number; heartbeatSeconds?: number } {
  const out: { timeoutSeconds?: number; heartbeatSeconds?: number } = {};
  if (state.TimeoutSeconds !== undefined) {
    const value = evaluateSetting("TimeoutSeconds", state.TimeoutSeconds, rawInput, env);
    out.timeoutSeconds = integerSetting("TimeoutSeconds", value, 1, MAX_SECONDS);
  }
  if (state.HeartbeatSeconds !== undefined) {
    const value = evaluateSetting("HeartbeatSeconds", state.HeartbeatSeconds, rawInput, env);
    out.heartbeatSeconds = integerSetting("HeartbeatSeconds", value, 1, MAX_SECONDS);
  }
  if (
    out.timeoutSeconds !== undefined &&
    out.heartbeatSeconds !== undefined &&
    out.heartbeatSeconds >= out.timeoutSeconds
  ) {
    throw queryError(
      `HeartbeatSeconds (${out.heartbeatSeconds}) must be shorter than TimeoutSeconds (${out.timeoutSeconds})`,
    );
  }
  return out;
}

/** Fail: Error and Cause, strings or JSONata strings giving strings (absent: ""). */
export function jsonataFailDetails(
  state: FailState,
  rawInput: Json,
  env: EvaluationEnv | undefined,
): { error: string; cause: string } {
  const read = (field: "Error" | "Cause"): string => {
    const raw = state[field];
    if (raw === undefined) return "";
    const value = evaluateSetting(field, raw, rawInput, env);
    if (typeof value !== "string")
      throw queryError(`${field} must give a string, got ${describeValue(value)}`);
    return value;
  };
  return { error: read("Error"), cause: read("Cause") };
}

/** Map: Items (an array, or a JSONata string giving one; an object gives its values), default the input. */
export function jsonataMapItems(state: MapState, rawInput: Json, env: EvaluationEnv | undefined): Json[] {
  const value = state.Items === undefined ? rawInput : evaluateSetting("Items", state.Items, rawInput, env);
  if (Array.isArray(value)) return value;
  if (isJsonObject(value)) return Object.keys(value).map((key) => value[key] as Json);
  throw queryError(`Items must give an array or an object, got ${describeValue(value)}`);
}

/** Map: one iteration's input, ItemSelector evaluated with `$states.context.Map.Item`, else the item. */
export function jsonataItemInput(
  state: MapState,
  rawInput: Json,
  index: number,
  item: Json,
  env: EvaluationEnv,
): Json {
  if (state.ItemSelector === undefined) return item;
  const itemEnv: EvaluationEnv = {
    ...env,
    context: { ...env.context, Map: { Item: { Index: index, Value: item } } },
  };
  return evaluateJsonataValue(state.ItemSelector, jsonataScope(rawInput, itemEnv), "ItemSelector");
}

/** Map: MaxConcurrency, a non-negative integer (0: no limit), possibly a JSONata string. */
export function jsonataMaxConcurrency(
  state: MapState,
  rawInput: Json,
  env: EvaluationEnv | undefined,
): number {
  if (state.MaxConcurrency === undefined) return 0;
  const value = evaluateSetting("MaxConcurrency", state.MaxConcurrency, rawInput, env);
  return integerSetting("MaxConcurrency", value, 0, Number.MAX_SAFE_INTEGER);
}

/** Map: the tolerated failures from ToleratedFailureCount/Percentage, possibly JSONata strings. */
export function jsonataToleratedFailures(
  state: MapState,
  rawInput: Json,
  itemCount: number,
  env: EvaluationEnv | undefined,
): { maxFailures: number } {
  const limits: number[] = [];
  if (state.ToleratedFailurePercentage !== undefined) {
    const value = evaluateSetting(
      "ToleratedFailurePercentage",
      state.ToleratedFailurePercentage,
      rawInput,
      env,
    );
    if (typeof value !== "number" || value < 0 || value > 100) {
      throw queryError(
        `ToleratedFailurePercentage must be a number from 0 to 100, got ${describeValue(value)}`,
      );
    }
    limits.push(Math.floor((value * itemCount) / 100 + 1e-9));
  }
  if (state.ToleratedFailureCount !== undefined) {
    const value = evaluateSetting("ToleratedFailureCount", state.ToleratedFailureCount, rawInput, env);
    limits.push(integerSetting("ToleratedFailureCount", value, 0, Number.MAX_SAFE_INTEGER));
  }
  return { maxFailures: limits.length === 0 ? 0 : Math.min(...limits) };
}

/** Catch: the catcher's Output with `$states.errorOutput`, else the Error Output itself. */
export function jsonataCatchOutput(
  catcher: Catcher,
  index: number,
  rawInput: Json,
  errorOutput: Json,
  env: EvaluationEnv | undefined,
): Json {
  if (catcher.Output === undefined) return errorOutput;
  return evaluateJsonataValue(
    catcher.Output,
    jsonataScope(rawInput, requireEnv(env), { errorOutput }),
    `Catch[${index}].Output`,
  );
}
