import { ALL_OPERATORS, COMPARISON_OPERATORS, TYPE_TEST_OPERATORS } from "./choice";
import type { JsonObject } from "./json";
import { describeValue, hasOwn, isJsonObject } from "./json";
import type { PathSegments } from "./problems";
import { compileStringMatches } from "./string-matches";
import { parseTimestamp } from "./timestamp";
import type { Transition, Validation } from "./validate-context";
import { checkUnknownFields } from "./validate-fields";
import { checkAssign, jsonataOnlyMessage } from "./validate-jsonata";

const BOOLEAN_KEYS = ["And", "Or", "Not"] as const;
const RULE_FIELDS = ["Next", "Comment", "Assign", ...BOOLEAN_KEYS, "Variable", ...ALL_OPERATORS];

function checkOperatorValue(v: Validation, rule: JsonObject, operator: string, at: PathSegments): void {
  const value = rule[operator];
  const fieldAt = [...at, operator];
  if (
    operator.endsWith("Path") &&
    (COMPARISON_OPERATORS as readonly string[]).includes(operator.slice(0, -4))
  ) {
    if (typeof value !== "string")
      v.add(fieldAt, `"${operator}" must be a path string, got ${describeValue(value)}`);
    else v.pathText(value, fieldAt, operator, { reference: false, context: true });
    return;
  }
  if ((TYPE_TEST_OPERATORS as readonly string[]).includes(operator)) {
    if (typeof value !== "boolean")
      v.add(fieldAt, `"${operator}" must be true or false, got ${describeValue(value)}`);
    return;
  }
  if (operator.startsWith("Numeric")) {
    if (typeof value !== "number")
      v.add(fieldAt, `"${operator}" must be a number, got ${describeValue(value)}`);
    return;
  }
  if (operator.startsWith("Boolean")) {
    if (typeof value !== "boolean")
      v.add(fieldAt, `"${operator}" must be true or false, got ${describeValue(value)}`);
    return;
  }
  if (typeof value !== "string") {
    v.add(fieldAt, `"${operator}" must be a string, got ${describeValue(value)}`);
    return;
  }
  if (operator.startsWith("Timestamp") && parseTimestamp(value) === undefined) {
    v.add(
      fieldAt,
      `"${operator}" must be an RFC 3339 timestamp such as "2016-03-14T01:59:00Z", got ${JSON.stringify(value)}`,
    );
  }
  if (operator === "StringMatches") {
    try {
      compileStringMatches(value);
    } catch (error) {
      v.add(fieldAt, `invalid "StringMatches" pattern: ${(error as Error).message}`);
    }
  }
}

function checkRule(
  v: Validation,
  rule: unknown,
  at: PathSegments,
  topLevel: boolean,
  transitions: Transition[],
): void {
  if (!isJsonObject(rule)) {
    v.add(at, `a choice rule must be an object, got ${describeValue(rule)}`);
    return;
  }
  checkUnknownFields(v, rule, at, RULE_FIELDS, "a choice rule", (key) =>
    key === "Condition" || key === "Output" ? jsonataOnlyMessage(key) : undefined,
  );
  v.string(rule, "Comment", at);
  if (topLevel) checkAssign(v, rule, at, false);
  else if (hasOwn(rule, "Assign"))
    v.add([...at, "Assign"], `a choice rule inside "And", "Or" or "Not" cannot have "Assign"`);
  if (topLevel) {
    const next = v.string(rule, "Next", at, "a top-level choice rule");
    if (next !== undefined) transitions.push({ target: next, at: [...at, "Next"] });
  } else if (hasOwn(rule, "Next")) {
    v.add([...at, "Next"], `a choice rule inside "And", "Or" or "Not" cannot have "Next"`);
  }

  const booleans = BOOLEAN_KEYS.filter((key) => hasOwn(rule, key));
  const operators = ALL_OPERATORS.filter((key) => hasOwn(rule, key));
  if (booleans.length > 0) {
    if (booleans.length > 1)
      v.add([...at, booleans[1] as string], `a choice rule can have only one of "And", "Or" and "Not"`);
    if (hasOwn(rule, "Variable") || operators.length > 0) {
      v.add(
        at,
        `a choice rule with "${booleans[0] as string}" cannot also have "Variable" or a comparison operator`,
      );
    }
    for (const key of booleans) {
      if (key === "Not") {
        const inner = rule.Not;
        if (!isJsonObject(inner))
          v.add([...at, "Not"], `"Not" must be a single choice rule object, got ${describeValue(inner)}`);
        else checkRule(v, inner, [...at, "Not"], false, transitions);
      } else {
        const inner = v.array(rule, key, at);
        inner?.forEach((item, i) => checkRule(v, item, [...at, key, i], false, transitions));
      }
    }
    return;
  }

  const variable = v.string(rule, "Variable", at, 'a choice rule without "And", "Or" or "Not"');
  if (variable !== undefined)
    v.pathText(variable, [...at, "Variable"], "Variable", { reference: false, context: true });
  if (operators.length === 0) {
    v.add(
      at,
      `a choice rule needs a comparison operator such as "StringEquals", "NumericGreaterThan" or "IsPresent"`,
    );
    return;
  }
  if (operators.length > 1) {
    v.add(
      at,
      `a choice rule can have only one comparison operator, found ${operators.map((op) => `"${op}"`).join(" and ")}`,
    );
  }
  for (const operator of operators) checkOperatorValue(v, rule, operator, at);
}

/** Checks a Choice state's Choices (and their rules, however nested); returns the transitions. @internal */
export function checkChoices(v: Validation, state: JsonObject, at: PathSegments): Transition[] {
  const transitions: Transition[] = [];
  const choices = v.array(state, "Choices", at, "a Choice state");
  choices?.forEach((rule, i) => checkRule(v, rule, [...at, "Choices", i], true, transitions));
  const fallback = v.string(state, "Default", at);
  if (fallback !== undefined) transitions.push({ target: fallback, at: [...at, "Default"] });
  return transitions;
}
