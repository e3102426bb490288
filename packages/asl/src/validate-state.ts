import type { JsonObject } from "./json";
import { describeValue, hasOwn, isJsonObject } from "./json";
import type { PathSegments } from "./problems";
import { checkActivityResource } from "./task";
import { parseTimestamp } from "./timestamp";
import type { Transition, Validation } from "./validate-context";
import { checkChoices } from "./validate-choice";
import { checkUnknownFields } from "./validate-fields";
import { checkCatch, checkRetry } from "./validate-retry";
import {
  JSONATA_ONLY_FIELDS,
  JSONATA_STATE_FIELDS,
  JSONPATH_ONLY_FIELDS,
  checkAssign,
  checkJsonataStateFields,
  jsonPathOnlyMessage,
  jsonataOnlyMessage,
} from "./validate-jsonata";
import { checkTemplate } from "./validate-template";

const STATE_TYPES = ["Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"] as const;
type StateType = (typeof STATE_TYPES)[number];

const COMMON = ["Type", "Comment", "QueryLanguage"];
const FLOW = ["Next", "End"];
const IO = ["InputPath", "OutputPath"];
const RESULT = ["Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"];

const FIELDS: Readonly<Record<StateType, readonly string[]>> = {
  Task: [
    ...COMMON,
    ...FLOW,
    "Assign",
    ...IO,
    ...RESULT,
    "Resource",
    "TimeoutSeconds",
    "TimeoutSecondsPath",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
  ],
  Pass: [...COMMON, ...FLOW, ...IO, "Result", "Parameters", "ResultPath", "Assign"],
  Choice: [...COMMON, ...IO, "Choices", "Default", "Assign"],
  Wait: [...COMMON, ...FLOW, ...IO, "Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"],
  Succeed: [...COMMON, ...IO],
  Fail: [...COMMON, "Error", "ErrorPath", "Cause", "CausePath"],
  Parallel: [...COMMON, ...FLOW, ...IO, ...RESULT, "Branches", "Assign"],
  Map: [
    ...COMMON,
    ...FLOW,
    "Assign",
    ...IO,
    ...RESULT,
    "ItemProcessor",
    "Iterator",
    "ItemsPath",
    "ItemSelector",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
  ],
};

const ALL_STATE_FIELDS = new Set([
  ...Object.values(FIELDS).flat(),
  ...Object.values(JSONATA_STATE_FIELDS).flat(),
]);

function article(type: string): string {
  return /^[AEIOU]/.test(type) ? `an ${type}` : `a ${type}`;
}

function misplacedField(type: StateType): (key: string) => string | undefined {
  return (key) => {
    if (type === "Choice" && key === "Next") {
      return `a Choice state cannot have "Next": put "Next" on each choice rule and use "Default" for the fallback`;
    }
    if (type === "Choice" && key === "End")
      return `a Choice state cannot have "End": it always moves on to another state`;
    if ((type === "Succeed" || type === "Fail") && (key === "Next" || key === "End")) {
      return `a ${type} state cannot have "${key}": it always ends the machine`;
    }
    if (ALL_STATE_FIELDS.has(key)) return `${article(type)} state cannot have "${key}"`;
    return undefined;
  };
}

/** @internal */
export function checkFlow(
  v: Validation,
  state: JsonObject,
  at: PathSegments,
  type: StateType,
  transitions: Transition[],
): void {
  const next = v.string(state, "Next", at);
  const end = v.boolean(state, "End", at);
  if (next !== undefined) transitions.push({ target: next, at: [...at, "Next"] });
  if (next !== undefined && end === true) {
    v.add([...at, "End"], `${article(type)} state cannot have both "Next" and "End": true`);
  } else if (!hasOwn(state, "Next") && end !== true && !hasOwn(state, "End")) {
    v.add(at, `${article(type)} state needs "Next" or "End": true`);
  } else if (!hasOwn(state, "Next") && end === false) {
    v.add([...at, "End"], `"End" is false but there is no "Next"; set "End": true or add "Next"`);
  }
}

function checkTask(v: Validation, state: JsonObject, at: PathSegments): void {
  const resource = v.string(state, "Resource", at, "a Task state");
  if (resource !== undefined) {
    const checked = checkActivityResource(resource, v.limits.maxNameLength);
    if (!checked.ok) v.add([...at, "Resource"], checked.message);
  }
  v.exclusive(state, at, "a Task state", ["TimeoutSeconds", "TimeoutSecondsPath"]);
  v.exclusive(state, at, "a Task state", ["HeartbeatSeconds", "HeartbeatSecondsPath"]);
  const timeout = v.integer(state, "TimeoutSeconds", at, 1);
  const heartbeat = v.integer(state, "HeartbeatSeconds", at, 1);
  if (timeout !== undefined && heartbeat !== undefined && heartbeat >= timeout) {
    v.add(
      [...at, "HeartbeatSeconds"],
      `"HeartbeatSeconds" (${heartbeat}) must be smaller than "TimeoutSeconds" (${timeout})`,
    );
  }
  v.path(state, "TimeoutSecondsPath", at, { reference: true });
  v.path(state, "HeartbeatSecondsPath", at, { reference: true });
}

function checkWait(v: Validation, state: JsonObject, at: PathSegments): void {
  const present = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"].filter((key) =>
    hasOwn(state, key),
  );
  if (present.length === 0) {
    v.add(at, `a Wait state needs one of "Seconds", "SecondsPath", "Timestamp" or "TimestampPath"`);
  } else if (present.length > 1) {
    v.add(
      [...at, present[1] as string],
      `a Wait state can have only one of "Seconds", "SecondsPath", "Timestamp" and "TimestampPath", found ${present.map((k) => `"${k}"`).join(" and ")}`,
    );
  }
  v.integer(state, "Seconds", at, 0);
  const timestamp = v.string(state, "Timestamp", at);
  if (timestamp !== undefined && parseTimestamp(timestamp) === undefined) {
    v.add(
      [...at, "Timestamp"],
      `"Timestamp" must be an RFC 3339 timestamp such as "2016-03-14T01:59:00Z", got ${JSON.stringify(timestamp)}`,
    );
  }
  v.path(state, "SecondsPath", at, { reference: true });
  v.path(state, "TimestampPath", at, { reference: true });
}

function checkFail(v: Validation, state: JsonObject, at: PathSegments): void {
  for (const [plain, dynamic] of [
    ["Error", "ErrorPath"],
    ["Cause", "CausePath"],
  ] as const) {
    v.exclusive(state, at, "a Fail state", [plain, dynamic]);
    v.string(state, plain, at);
    const expression = v.string(state, dynamic, at);
    if (expression === undefined) continue;
    if (expression.startsWith("$"))
      v.pathText(expression, [...at, dynamic], dynamic, { reference: true, context: true });
    else v.intrinsic(expression, [...at, dynamic]);
  }
}

function checkParallel(v: Validation, state: JsonObject, at: PathSegments, nesting: number): void {
  const branches = v.array(state, "Branches", at, "a Parallel state");
  branches?.forEach((branch, i) => v.validateMachine(branch, [...at, "Branches", i], "branch", nesting + 1));
}

function checkMap(v: Validation, state: JsonObject, at: PathSegments, nesting: number): void {
  if (!hasOwn(state, "ItemProcessor") && !hasOwn(state, "Iterator")) {
    v.add([...at, "ItemProcessor"], `"ItemProcessor" is required in a Map state`);
  } else if (v.exclusive(state, at, "a Map state", ["ItemProcessor", "Iterator"])) {
    const key = hasOwn(state, "ItemProcessor") ? "ItemProcessor" : "Iterator";
    v.validateMachine(state[key], [...at, key], "processor", nesting + 1);
  }
  v.exclusive(state, at, "a Map state", ["ItemSelector", "Parameters"]);
  checkTemplate(v, state, "ItemSelector", at);
  v.path(state, "ItemsPath", at, { reference: true });
  v.exclusive(state, at, "a Map state", ["MaxConcurrency", "MaxConcurrencyPath"]);
  v.integer(state, "MaxConcurrency", at, 0, Number.MAX_SAFE_INTEGER);
  v.path(state, "MaxConcurrencyPath", at, { reference: true });
  v.exclusive(state, at, "a Map state", ["ToleratedFailurePercentage", "ToleratedFailurePercentagePath"]);
  v.number(state, "ToleratedFailurePercentage", at, 0, 100, "a number from 0 to 100");
  v.path(state, "ToleratedFailurePercentagePath", at, { reference: true });
  v.exclusive(state, at, "a Map state", ["ToleratedFailureCount", "ToleratedFailureCountPath"]);
  v.integer(state, "ToleratedFailureCount", at, 0, Number.MAX_SAFE_INTEGER);
  v.path(state, "ToleratedFailureCountPath", at, { reference: true });
}

/**
 * Checks one state and returns the transitions it declares (Next, Default, choice rules, Catch).
 * Nested machines (Parallel branches, Map processors) are validated through `v.validateMachine`.
 * @internal
 */
export function checkState(v: Validation, value: unknown, at: PathSegments, nesting: number): Transition[] {
  if (!isJsonObject(value)) {
    v.add(at, `a state must be an object, got ${describeValue(value)}`);
    return [];
  }
  const type = v.string(value, "Type", at, "every state");
  if (type === undefined) return [];
  if (!(STATE_TYPES as readonly string[]).includes(type)) {
    v.add(
      [...at, "Type"],
      `unknown state type ${JSON.stringify(type)}; expected one of ${STATE_TYPES.join(", ")}`,
    );
    return [];
  }
  const stateType = type as StateType;
  const transitions: Transition[] = [];
  const language = v.string(value, "QueryLanguage", at);
  if (language !== undefined && language !== "JSONPath" && language !== "JSONata") {
    v.add(
      [...at, "QueryLanguage"],
      `"QueryLanguage" must be "JSONPath" or "JSONata", got ${JSON.stringify(language)}`,
    );
  }
  if ((language ?? v.queryLanguage) === "JSONata") return checkJsonataState(v, value, at, stateType, nesting);
  checkUnknownFields(v, value, at, FIELDS[stateType], `${article(stateType)} state`, (key) =>
    JSONATA_ONLY_FIELDS.has(key) ? jsonataOnlyMessage(key) : misplacedField(stateType)(key),
  );
  v.string(value, "Comment", at);
  if (FIELDS[stateType].includes("Assign")) checkAssign(v, value, at, false);
  if (FIELDS[stateType].includes("Next")) checkFlow(v, value, at, stateType, transitions);
  if (stateType !== "Fail") {
    v.path(value, "InputPath", at, { reference: false, nullable: true });
    v.path(value, "OutputPath", at, { reference: false, nullable: true });
  }
  if (FIELDS[stateType].includes("ResultPath"))
    v.path(value, "ResultPath", at, { reference: true, nullable: true });
  if (FIELDS[stateType].includes("Parameters")) checkTemplate(v, value, "Parameters", at);
  if (FIELDS[stateType].includes("ResultSelector")) checkTemplate(v, value, "ResultSelector", at);
  if (FIELDS[stateType].includes("Retry")) {
    checkRetry(v, value, at);
    transitions.push(...checkCatch(v, value, at));
  }
  switch (stateType) {
    case "Task":
      checkTask(v, value, at);
      break;
    case "Choice":
      transitions.push(...checkChoices(v, value, at));
      break;
    case "Wait":
      checkWait(v, value, at);
      break;
    case "Fail":
      checkFail(v, value, at);
      break;
    case "Parallel":
      checkParallel(v, value, at, nesting);
      break;
    case "Map":
      checkMap(v, value, at, nesting);
      break;
    default:
      break;
  }
  return transitions;
}

function checkJsonataState(
  v: Validation,
  value: JsonObject,
  at: PathSegments,
  stateType: StateType,
  nesting: number,
): Transition[] {
  const fields = JSONATA_STATE_FIELDS[stateType] ?? [];
  const transitions: Transition[] = [];
  checkUnknownFields(v, value, at, fields, `a JSONata ${stateType} state`, (key) =>
    JSONPATH_ONLY_FIELDS.has(key) ? jsonPathOnlyMessage(key) : misplacedField(stateType)(key),
  );
  v.string(value, "Comment", at);
  if (fields.includes("Next")) checkFlow(v, value, at, stateType, transitions);
  transitions.push(...checkJsonataStateFields(v, value, at, stateType));
  if (fields.includes("Retry")) {
    checkRetry(v, value, at);
    transitions.push(...checkCatch(v, value, at, true));
  }
  if (stateType === "Parallel") checkParallel(v, value, at, nesting);
  if (stateType === "Map") {
    if (!hasOwn(value, "ItemProcessor") && !hasOwn(value, "Iterator")) {
      v.add([...at, "ItemProcessor"], `"ItemProcessor" is required in a Map state`);
    } else if (v.exclusive(value, at, "a Map state", ["ItemProcessor", "Iterator"])) {
      const key = hasOwn(value, "ItemProcessor") ? "ItemProcessor" : "Iterator";
      v.validateMachine(value[key], [...at, key], "processor", nesting + 1);
    }
  }
  return transitions;
}
