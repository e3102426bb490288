/**
 * Workflow variables: evaluating `Assign` (both query languages), variable names, and the size
 * limits. All values of one `Assign` are evaluated first, from the variables as they were when
 * the state was entered (`env.variables`); the caller applies them after the state.
 */
import type { EvaluationEnv } from "./context";
import { applyInputPath } from "./data-flow";
import { StatesError } from "./errors";
import type { Json, JsonObject } from "./json";
import { isJsonObject } from "./json";
import { evaluateJsonataValue } from "./jsonata";
import { isJsonataState, jsonataScope } from "./jsonata-states";
import { evaluateTemplate } from "./payload-template";
import type { Assign, ChoiceRule, ChoiceState, State } from "./types";

/** Variables by name. */
export type Variables = Record<string, Json>;

/** Limits on variables; a breach at run time is `States.DataLimitExceeded`. */
export const VARIABLE_LIMITS = Object.freeze({
  /** Longest variable name, in Unicode code points (as Step Functions). */
  maxNameLength: 80,
  /** Largest value of one variable, as UTF-8 JSON bytes (as Step Functions: 256 KiB). */
  maxVariableBytes: 256 * 1024,
  /** Largest total of one Assign field (as Step Functions: 256 KiB). */
  maxAssignBytes: 256 * 1024,
  /**
   * Largest total of all variables of one execution, outer scopes included. Step Functions allows
   * 10 MiB; jetflow keeps variables in the execution snapshot, which must stay well under the
   * NATS max payload (1 MiB), so 256 KiB.
   */
  maxTotalBytes: 256 * 1024,
});

/** The variable name the States Language reserves. */
export const RESERVED_VARIABLE = "states";

const IDENTIFIER = /^\p{ID_Start}\p{ID_Continue}*$/u;

/** Why `name` cannot be a variable name, or undefined when it can. */
export function variableNameProblem(name: string): string | undefined {
  if (name === RESERVED_VARIABLE) return `"${RESERVED_VARIABLE}" is reserved and cannot be assigned`;
  const length = [...name].length;
  if (length > VARIABLE_LIMITS.maxNameLength) {
    return `variable name is ${length} characters long; the limit is ${VARIABLE_LIMITS.maxNameLength}`;
  }
  if (!IDENTIFIER.test(name)) {
    return `${JSON.stringify(name)} is not a valid variable name: it must start with a Unicode letter (ID_Start) and continue with letters, digits or "_" (ID_Continue)`;
  }
  return undefined;
}

function byteLength(value: Json): number {
  return Buffer.byteLength(JSON.stringify(value), "utf8");
}

function checkSizes(assigned: Variables, field: string): void {
  let total = 0;
  for (const name of Object.keys(assigned)) {
    const bytes = byteLength(assigned[name] as Json);
    if (bytes > VARIABLE_LIMITS.maxVariableBytes) {
      throw new StatesError(
        "States.DataLimitExceeded",
        `${field}: variable "${name}" would hold ${bytes} bytes; the limit is ${VARIABLE_LIMITS.maxVariableBytes}`,
      );
    }
    total += bytes;
  }
  if (total > VARIABLE_LIMITS.maxAssignBytes) {
    throw new StatesError(
      "States.DataLimitExceeded",
      `${field}: the assigned values add up to ${total} bytes; the limit is ${VARIABLE_LIMITS.maxAssignBytes}`,
    );
  }
}

function own(target: Variables, name: string, value: Json): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Evaluates an `Assign` object. JSONata: each value is evaluated with `$states` from `scope`.
 * JSONPath: `Assign` is a Payload Template whose `$` is `data` (names ending in `.$` take a path
 * or an intrinsic). Returns the new values (undefined when `assign` is absent); throws
 * `StatesError` (`States.QueryEvaluationError`, `States.ParameterPathFailure`,
 * `States.DataLimitExceeded`...).
 */
export function evaluateAssign(
  assign: Assign | undefined,
  jsonata: boolean,
  scope: { input: Json; data: Json; result?: Json; errorOutput?: Json },
  env: EvaluationEnv,
  field = "Assign",
): Variables | undefined {
  if (assign === undefined) return undefined;
  const out: Variables = {};
  if (jsonata) {
    const extra: { result?: Json; errorOutput?: Json } = {};
    if (scope.result !== undefined) extra.result = scope.result;
    if (scope.errorOutput !== undefined) extra.errorOutput = scope.errorOutput;
    const jsonataScopeValue = jsonataScope(scope.input, env, extra);
    for (const name of Object.keys(assign)) {
      own(out, name, evaluateJsonataValue(assign[name] as Json, jsonataScopeValue, `${field}.${name}`));
    }
  } else {
    const evaluated = evaluateTemplate(assign, scope.data, env) as JsonObject;
    for (const name of Object.keys(evaluated)) own(out, name, evaluated[name] as Json);
  }
  checkSizes(out, field);
  return out;
}

/**
 * The variables a state assigns as it completes with `result` (Task, Map, Parallel: the raw
 * result; Pass: its result). JSONata: `$states.input` and (Task, Map, Parallel) `$states.result`.
 * JSONPath: `$` is the result after ResultSelector (Task, Map, Parallel), the result (Pass) or
 * the input after InputPath (Choice, Wait), as in Step Functions.
 */
export function stateAssignments(
  state: State,
  rawInput: Json,
  result: Json | undefined,
  env: EvaluationEnv,
): Variables | undefined {
  if (state.Type === "Succeed" || state.Type === "Fail" || state.Assign === undefined) return undefined;
  const jsonata = isJsonataState(state);
  const hasResult = state.Type === "Task" || state.Type === "Map" || state.Type === "Parallel";
  let data: Json = rawInput;
  if (!jsonata) {
    if (hasResult) {
      data =
        "ResultSelector" in state && state.ResultSelector !== undefined
          ? evaluateTemplate(state.ResultSelector, result ?? null, env)
          : (result ?? null);
    } else if (state.Type === "Pass") {
      data = result ?? null;
    } else {
      data = applyInputPath(state, rawInput, env);
    }
  }
  const scope: { input: Json; data: Json; result?: Json } = { input: rawInput, data };
  if (hasResult) scope.result = result ?? null;
  return evaluateAssign(state.Assign, jsonata, scope, env);
}

/**
 * A Choice state's assignments: its own `Assign` and the chosen rule's, both evaluated from the
 * values on entry; the rule's win where both name a variable.
 */
export function choiceAssignments(
  state: ChoiceState,
  rule: ChoiceRule | undefined,
  ruleIndex: number | undefined,
  rawInput: Json,
  env: EvaluationEnv,
): Variables | undefined {
  const stateLevel = stateAssignments(state, rawInput, undefined, env);
  if (rule?.Assign === undefined) return stateLevel;
  const jsonata = isJsonataState(state);
  const data = jsonata ? rawInput : applyInputPath(state, rawInput, env);
  const ruleLevel = evaluateAssign(
    rule.Assign,
    jsonata,
    { input: rawInput, data },
    env,
    `Choices[${ruleIndex ?? 0}].Assign`,
  );
  const merged = { ...(stateLevel ?? {}) };
  for (const name of Object.keys(ruleLevel ?? {})) own(merged, name, (ruleLevel as Variables)[name] as Json);
  return merged;
}

/** A catcher's assignments: JSONata with `$states.errorOutput`; JSONPath with `$` the Error Output. */
export function catchAssignments(
  state: State,
  catcherIndex: number,
  rawInput: Json,
  errorOutput: Json,
  env: EvaluationEnv,
): Variables | undefined {
  const catcher = "Catch" in state ? state.Catch?.[catcherIndex] : undefined;
  if (catcher?.Assign === undefined) return undefined;
  return evaluateAssign(
    catcher.Assign,
    isJsonataState(state),
    { input: rawInput, data: errorOutput, errorOutput },
    env,
    `Catch[${catcherIndex}].Assign`,
  );
}

/**
 * `current` with `assigned` applied. Throws `StatesError` `States.DataLimitExceeded` when all
 * variables together exceed {@link VARIABLE_LIMITS}.maxTotalBytes.
 */
export function applyAssignments(current: Variables | undefined, assigned: Variables): Variables {
  const out: Variables = {};
  for (const name of Object.keys(current ?? {})) own(out, name, (current as Variables)[name] as Json);
  for (const name of Object.keys(assigned)) own(out, name, assigned[name] as Json);
  const total = byteLength(out);
  if (total > VARIABLE_LIMITS.maxTotalBytes) {
    throw new StatesError(
      "States.DataLimitExceeded",
      `the workflow variables would add up to ${total} bytes; the limit is ${VARIABLE_LIMITS.maxTotalBytes}`,
    );
  }
  return out;
}

/** True when `value` is a JSON object of variables. @internal */
export function isVariables(value: Json): value is JsonObject {
  return isJsonObject(value);
}
