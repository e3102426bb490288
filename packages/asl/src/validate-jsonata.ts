/**
 * Validation of JSONata states, JSONata strings and `Assign` fields (both query languages).
 * @internal
 */
import type { JsonObject } from "./json";
import { describeValue, hasOwn, isJsonObject } from "./json";
import { checkJsonataSyntax, isJsonataString, jsonataSource } from "./jsonata";
import type { PathSegments } from "./problems";
import { checkActivityResource } from "./task";
import type { Transition, Validation } from "./validate-context";
import { checkUnknownFields } from "./validate-fields";
import { checkTemplate } from "./validate-template";
import { variableNameProblem } from "./variables";

/** Fields only JSONPath states have, refused in JSONata states. */
export const JSONPATH_ONLY_FIELDS: ReadonlySet<string> = new Set([
  "InputPath",
  "OutputPath",
  "Parameters",
  "ResultSelector",
  "ResultPath",
  "Result",
  "TimeoutSecondsPath",
  "HeartbeatSecondsPath",
  "SecondsPath",
  "TimestampPath",
  "ItemsPath",
  "MaxConcurrencyPath",
  "ToleratedFailurePercentagePath",
  "ToleratedFailureCountPath",
  "ErrorPath",
  "CausePath",
]);

/** Fields only JSONata states have, refused in JSONPath states. */
export const JSONATA_ONLY_FIELDS: ReadonlySet<string> = new Set([
  "Arguments",
  "Output",
  "Items",
  "Condition",
]);

/** Why a JSONPath-only field cannot be in a JSONata state. */
export function jsonPathOnlyMessage(key: string): string {
  const instead =
    key === "InputPath" || key === "Parameters"
      ? '; use "Arguments"'
      : key === "OutputPath" || key === "ResultSelector" || key === "ResultPath" || key === "Result"
        ? '; use "Output"'
        : key === "ItemsPath"
          ? '; use "Items"'
          : key.endsWith("Path")
            ? `; use "${key.slice(0, -4)}" with a JSONata expression`
            : "";
  return `"${key}" is a JSONPath field and cannot be used in a JSONata state${instead}`;
}

/** Why a JSONata-only field cannot be in a JSONPath state. */
export function jsonataOnlyMessage(key: string): string {
  return `"${key}" is a JSONata field; set "QueryLanguage": "JSONata" on the state or the state machine to use it`;
}

/** Which of `$states.result` and `$states.errorOutput` a field may reference. */
export interface StatesFields {
  result?: boolean;
  errorOutput?: boolean;
}

const STATES_REFERENCE = /\$states\s*\.\s*(result|errorOutput)\b/g;

/**
 * Checks every string inside `value`: a JSONata string must parse and may reference
 * `$states.result`/`$states.errorOutput` only where `allowed` says; a string that opens with
 * `{%` but does not close with `%}` (or the reverse) is refused.
 */
export function checkJsonataValue(
  v: Validation,
  value: unknown,
  at: PathSegments,
  allowed: StatesFields = {},
  depth = 0,
): void {
  if (depth > v.limits.maxJsonDepth) return;
  if (typeof value === "string") {
    const opens = value.startsWith("{%");
    const closes = value.endsWith("%}");
    if (isJsonataString(value)) {
      const problem = checkJsonataSyntax(jsonataSource(value));
      if (problem) {
        v.add(at, `invalid JSONata expression: ${problem.message} at character ${problem.position + 1}`);
      }
      for (const match of value.matchAll(STATES_REFERENCE)) {
        const field = match[1] as "result" | "errorOutput";
        if (allowed[field] === true) continue;
        const where =
          field === "result"
            ? "the Output and Assign fields of a Task, Map or Parallel state"
            : "a Catcher's Output and Assign";
        v.add(at, `"$states.${field}" is available only in ${where}`);
        break;
      }
    } else if (opens !== closes) {
      v.add(
        at,
        `a JSONata string must start with "{%" and end with "%}" (no spaces outside them), got ${JSON.stringify(value)}`,
      );
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkJsonataValue(v, item, [...at, i], allowed, depth + 1));
  } else if (isJsonObject(value)) {
    for (const key of Object.keys(value)) checkJsonataValue(v, value[key], [...at, key], allowed, depth + 1);
  }
}

/** Checks a setting that is a number in range or a JSONata string. */
function checkNumberOrExpression(
  v: Validation,
  state: JsonObject,
  key: string,
  at: PathSegments,
  min: number,
  integer = true,
  max = 99_999_999,
): void {
  if (!hasOwn(state, key)) return;
  const value = state[key];
  if (typeof value === "string") {
    if (!isJsonataString(value)) {
      v.add(
        [...at, key],
        `"${key}" must be a number or a JSONata string "{% ... %}", got ${JSON.stringify(value)}`,
      );
    } else checkJsonataValue(v, value, [...at, key]);
    return;
  }
  if (integer) v.integer(state, key, at, min === 0 ? 0 : 1, max);
  else v.number(state, key, at, min, max, `a number from ${min} to ${max}`);
}

/** Checks an `Assign` field: an object of valid variable names; values by query language. */
export function checkAssign(
  v: Validation,
  owner: JsonObject,
  at: PathSegments,
  jsonata: boolean,
  allowed: StatesFields = {},
): void {
  if (!hasOwn(owner, "Assign")) return;
  const assign = owner.Assign;
  const assignAt = [...at, "Assign"];
  if (!isJsonObject(assign)) {
    v.add(assignAt, `"Assign" must be an object of variable names and values, got ${describeValue(assign)}`);
    return;
  }
  for (const key of Object.keys(assign)) {
    const name = !jsonata && key.endsWith(".$") ? key.slice(0, -2) : key;
    const problem = variableNameProblem(name);
    if (problem) v.add([...assignAt, key], problem);
  }
  if (jsonata) checkJsonataValue(v, assign, assignAt, allowed);
  else checkTemplate(v, owner, "Assign", at);
}

/** The variable names an `Assign` field assigns (JSONPath `.$` suffixes removed). */
export function assignedNames(owner: unknown, jsonata: boolean): string[] {
  if (!isJsonObject(owner) || !isJsonObject(owner.Assign)) return [];
  return Object.keys(owner.Assign).map((key) => (!jsonata && key.endsWith(".$") ? key.slice(0, -2) : key));
}

const COMMON = ["Type", "Comment", "QueryLanguage"];
const FLOW = ["Next", "End"];
const RECOVERY = ["Retry", "Catch"];

/** The fields of each state type in a JSONata state. */
export const JSONATA_STATE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Task: [
    ...COMMON,
    ...FLOW,
    ...RECOVERY,
    "Resource",
    "Arguments",
    "Output",
    "Assign",
    "TimeoutSeconds",
    "HeartbeatSeconds",
  ],
  Pass: [...COMMON, ...FLOW, "Output", "Assign"],
  Choice: [...COMMON, "Choices", "Default", "Output", "Assign"],
  Wait: [...COMMON, ...FLOW, "Seconds", "Timestamp", "Output", "Assign"],
  Succeed: [...COMMON, "Output"],
  Fail: [...COMMON, "Error", "Cause"],
  Parallel: [...COMMON, ...FLOW, ...RECOVERY, "Branches", "Arguments", "Output", "Assign"],
  Map: [
    ...COMMON,
    ...FLOW,
    ...RECOVERY,
    "ItemProcessor",
    "Iterator",
    "Items",
    "ItemSelector",
    "MaxConcurrency",
    "ToleratedFailurePercentage",
    "ToleratedFailureCount",
    "Output",
    "Assign",
  ],
};

const RULE_FIELDS = ["Next", "Comment", "Condition", "Assign", "Output"];

function checkJsonataChoices(v: Validation, state: JsonObject, at: PathSegments): Transition[] {
  const transitions: Transition[] = [];
  const choices = v.array(state, "Choices", at, "a Choice state");
  if (choices !== undefined && choices.length === 0) v.add([...at, "Choices"], `"Choices" must not be empty`);
  choices?.forEach((rule, i) => {
    const ruleAt = [...at, "Choices", i];
    if (!isJsonObject(rule)) {
      v.add(ruleAt, `a choice rule must be an object, got ${describeValue(rule)}`);
      return;
    }
    checkUnknownFields(v, rule, ruleAt, RULE_FIELDS, "a JSONata choice rule", (key) =>
      key === "Variable" ||
      key === "And" ||
      key === "Or" ||
      key === "Not" ||
      /Equals|Than|Is[A-Z]|Matches/.test(key)
        ? `"${key}" is a JSONPath choice rule field; a JSONata choice rule uses "Condition"`
        : undefined,
    );
    v.string(rule, "Comment", ruleAt);
    const next = v.string(rule, "Next", ruleAt, "a choice rule");
    if (next !== undefined) transitions.push({ target: next, at: [...ruleAt, "Next"] });
    if (!hasOwn(rule, "Condition"))
      v.add([...ruleAt, "Condition"], `"Condition" is required in a JSONata choice rule`);
    else if (typeof rule.Condition !== "boolean" && !isJsonataString(rule.Condition)) {
      v.add(
        [...ruleAt, "Condition"],
        `"Condition" must be a JSONata string "{% ... %}" or a boolean, got ${describeValue(rule.Condition)}`,
      );
    } else checkJsonataValue(v, rule.Condition, [...ruleAt, "Condition"]);
    if (hasOwn(rule, "Output")) checkJsonataValue(v, rule.Output, [...ruleAt, "Output"]);
    checkAssign(v, rule, ruleAt, true);
  });
  const fallback = v.string(state, "Default", at);
  if (fallback !== undefined) transitions.push({ target: fallback, at: [...at, "Default"] });
  return transitions;
}

/**
 * Checks the fields specific to a JSONata state of type `type` (unknown fields, recovery and
 * nested machines are checked by the caller). Returns the Choice transitions.
 */
export function checkJsonataStateFields(
  v: Validation,
  state: JsonObject,
  at: PathSegments,
  type: string,
): Transition[] {
  const result = { result: type === "Task" || type === "Map" || type === "Parallel" };
  for (const key of ["Arguments", "Output", "Items", "ItemSelector"]) {
    if (hasOwn(state, key)) checkJsonataValue(v, state[key], [...at, key], key === "Output" ? result : {});
  }
  if (type !== "Succeed" && type !== "Fail") checkAssign(v, state, at, true, result);
  switch (type) {
    case "Task": {
      const resource = v.string(state, "Resource", at, "a Task state");
      if (resource !== undefined) {
        const checked = checkActivityResource(resource, v.limits.maxNameLength);
        if (!checked.ok) v.add([...at, "Resource"], checked.message);
      }
      checkNumberOrExpression(v, state, "TimeoutSeconds", at, 1);
      checkNumberOrExpression(v, state, "HeartbeatSeconds", at, 1);
      const timeout = state.TimeoutSeconds;
      const heartbeat = state.HeartbeatSeconds;
      if (typeof timeout === "number" && typeof heartbeat === "number" && heartbeat >= timeout) {
        v.add(
          [...at, "HeartbeatSeconds"],
          `"HeartbeatSeconds" (${heartbeat}) must be smaller than "TimeoutSeconds" (${timeout})`,
        );
      }
      return [];
    }
    case "Wait": {
      const present = ["Seconds", "Timestamp"].filter((key) => hasOwn(state, key));
      if (present.length !== 1) {
        v.add(at, `a JSONata Wait state needs exactly one of "Seconds" and "Timestamp"`);
      }
      checkNumberOrExpression(v, state, "Seconds", at, 0);
      if (hasOwn(state, "Timestamp")) {
        const value = state.Timestamp;
        if (typeof value !== "string") v.add([...at, "Timestamp"], `"Timestamp" must be a string`);
        else checkJsonataValue(v, value, [...at, "Timestamp"]);
      }
      return [];
    }
    case "Fail":
      for (const key of ["Error", "Cause"]) {
        if (!hasOwn(state, key)) continue;
        if (typeof state[key] !== "string") v.add([...at, key], `"${key}" must be a string`);
        else checkJsonataValue(v, state[key], [...at, key]);
      }
      return [];
    case "Map":
      if (hasOwn(state, "Items")) {
        const items = state.Items;
        if (!Array.isArray(items) && !isJsonObject(items) && !isJsonataString(items)) {
          v.add(
            [...at, "Items"],
            `"Items" must be an array, an object or a JSONata string, got ${describeValue(items)}`,
          );
        }
      }
      checkNumberOrExpression(v, state, "MaxConcurrency", at, 0, true, Number.MAX_SAFE_INTEGER);
      checkNumberOrExpression(v, state, "ToleratedFailurePercentage", at, 0, false, 100);
      checkNumberOrExpression(v, state, "ToleratedFailureCount", at, 0, true, Number.MAX_SAFE_INTEGER);
      return [];
    case "Choice":
      return checkJsonataChoices(v, state, at);
    default:
      return [];
  }
}
