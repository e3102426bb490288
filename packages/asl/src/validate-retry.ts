import { ErrorNames, PREDEFINED_ERROR_NAMES } from "./errors";
import type { JsonObject } from "./json";
import { describeValue, isJsonObject } from "./json";
import type { PathSegments } from "./problems";
import type { Transition, Validation } from "./validate-context";
import { checkUnknownFields } from "./validate-fields";
import {
  JSONPATH_ONLY_FIELDS,
  checkAssign,
  checkJsonataValue,
  jsonPathOnlyMessage,
  jsonataOnlyMessage,
} from "./validate-jsonata";

const RETRIER_FIELDS = [
  "ErrorEquals",
  "IntervalSeconds",
  "MaxAttempts",
  "BackoffRate",
  "MaxDelaySeconds",
  "JitterStrategy",
  "Comment",
];
const CATCHER_FIELDS = ["ErrorEquals", "Next", "ResultPath", "Comment", "Assign"];
const JSONATA_CATCHER_FIELDS = ["ErrorEquals", "Next", "Output", "Comment", "Assign"];

function checkErrorEquals(
  v: Validation,
  entry: JsonObject,
  at: PathSegments,
  what: string,
  isLast: boolean,
  list: string,
): void {
  const names = v.array(entry, "ErrorEquals", at, what);
  if (names === undefined) return;
  const fieldAt = [...at, "ErrorEquals"];
  names.forEach((name, i) => {
    if (typeof name !== "string" || name === "") {
      v.add([...fieldAt, i], `error names must be non-empty strings, got ${describeValue(name)}`);
    } else if (name === ErrorNames.Runtime) {
      v.add(
        [...fieldAt, i],
        `"States.Runtime" can never be retried or caught: it always fails the execution`,
      );
    } else if (name.startsWith("States.") && !PREDEFINED_ERROR_NAMES.has(name)) {
      v.add(
        [...fieldAt, i],
        `"${name}" is not a predefined error name; names starting with "States." are reserved`,
      );
    }
  });
  if (names.includes(ErrorNames.ALL)) {
    if (names.length > 1) v.add(fieldAt, `"States.ALL" must appear alone in "ErrorEquals"`);
    if (!isLast) v.add(fieldAt, `${what} with "States.ALL" must be the last one in "${list}"`);
  }
}

/** Checks a state's Retry array. @internal */
export function checkRetry(v: Validation, state: JsonObject, at: PathSegments): void {
  const retriers = v.array(state, "Retry", at);
  if (retriers === undefined) return;
  retriers.forEach((retrier, i) => {
    const rAt = [...at, "Retry", i];
    if (!isJsonObject(retrier)) {
      v.add(rAt, `a retrier must be an object, got ${describeValue(retrier)}`);
      return;
    }
    checkUnknownFields(v, retrier, rAt, RETRIER_FIELDS, "a retrier");
    checkErrorEquals(v, retrier, rAt, "a retrier", i === retriers.length - 1, "Retry");
    v.integer(retrier, "IntervalSeconds", rAt, 1);
    v.integer(retrier, "MaxAttempts", rAt, 0);
    v.integer(retrier, "MaxDelaySeconds", rAt, 1);
    v.number(retrier, "BackoffRate", rAt, 1, Number.MAX_VALUE, "a number of at least 1.0");
    const jitter = v.string(retrier, "JitterStrategy", rAt);
    if (jitter !== undefined && jitter !== "FULL" && jitter !== "NONE") {
      v.add(
        [...rAt, "JitterStrategy"],
        `"JitterStrategy" must be "FULL" or "NONE", got ${JSON.stringify(jitter)}`,
      );
    }
    v.string(retrier, "Comment", rAt);
  });
}

/** Checks a state's Catch array and returns the transitions it declares. @internal */
export function checkCatch(
  v: Validation,
  state: JsonObject,
  at: PathSegments,
  jsonata = false,
): Transition[] {
  const catchers = v.array(state, "Catch", at);
  if (catchers === undefined) return [];
  const transitions: Transition[] = [];
  catchers.forEach((catcher, i) => {
    const cAt = [...at, "Catch", i];
    if (!isJsonObject(catcher)) {
      v.add(cAt, `a catcher must be an object, got ${describeValue(catcher)}`);
      return;
    }
    checkUnknownFields(
      v,
      catcher,
      cAt,
      jsonata ? JSONATA_CATCHER_FIELDS : CATCHER_FIELDS,
      "a catcher",
      (key) =>
        jsonata && JSONPATH_ONLY_FIELDS.has(key)
          ? jsonPathOnlyMessage(key)
          : !jsonata && key === "Output"
            ? jsonataOnlyMessage(key)
            : undefined,
    );
    checkErrorEquals(v, catcher, cAt, "a catcher", i === catchers.length - 1, "Catch");
    const next = v.string(catcher, "Next", cAt, "a catcher");
    if (next !== undefined) transitions.push({ target: next, at: [...cAt, "Next"] });
    if (jsonata) {
      if (Object.prototype.hasOwnProperty.call(catcher, "Output"))
        checkJsonataValue(v, catcher.Output, [...cAt, "Output"], { errorOutput: true });
    } else v.path(catcher, "ResultPath", cAt, { reference: true, nullable: true });
    checkAssign(v, catcher, cAt, jsonata, { errorOutput: true });
    v.string(catcher, "Comment", cAt);
  });
  return transitions;
}
