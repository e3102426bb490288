import type { EvaluationEnv } from "./context";
import type { JsonataChoice } from "./jsonata-states";
import { isJsonataState, jsonataChoose } from "./jsonata-states";
import { contextAsJson, pathSource } from "./context";
import type { ContextObject } from "./context";
import { ErrorNames, StatesError } from "./errors";
import type { Json } from "./json";
import { cachedPath } from "./jsonpath";
import { evaluatePath } from "./jsonpath-eval";
import { applyInputPath } from "./data-flow";
import { stringMatches } from "./string-matches";
import { compareTimestamps, parseTimestamp } from "./timestamp";
import type { ChoiceRule, ChoiceState } from "./types";

/** Data-test operators that compare against a literal or, with the `Path` suffix, another path. */
export const COMPARISON_OPERATORS = [
  "StringEquals",
  "StringLessThan",
  "StringGreaterThan",
  "StringLessThanEquals",
  "StringGreaterThanEquals",
  "NumericEquals",
  "NumericLessThan",
  "NumericGreaterThan",
  "NumericLessThanEquals",
  "NumericGreaterThanEquals",
  "BooleanEquals",
  "TimestampEquals",
  "TimestampLessThan",
  "TimestampGreaterThan",
  "TimestampLessThanEquals",
  "TimestampGreaterThanEquals",
] as const;

/** Type-test operators whose value is a boolean. */
export const TYPE_TEST_OPERATORS = [
  "IsNull",
  "IsPresent",
  "IsNumeric",
  "IsString",
  "IsBoolean",
  "IsTimestamp",
] as const;

/** Every data-test operator name, including `StringMatches` and the `...Path` forms. */
export const ALL_OPERATORS: readonly string[] = [
  ...COMPARISON_OPERATORS,
  ...COMPARISON_OPERATORS.map((op) => `${op}Path`),
  "StringMatches",
  ...TYPE_TEST_OPERATORS,
];

type Comparison = (typeof COMPARISON_OPERATORS)[number];

interface RuleScope {
  input: Json;
  context: Json;
  variables?: Readonly<Record<string, Json>> | undefined;
}

function resolve(path: string, scope: RuleScope): Json | undefined {
  const parsed = cachedPath(path);
  if (parsed.root === "$$") return evaluatePath(parsed, scope.context);
  const data = pathSource(parsed, scope.input, { variables: scope.variables });
  return data === undefined ? undefined : evaluatePath(parsed, data);
}

function order(relation: string, sign: number): boolean {
  switch (relation) {
    case "Equals":
      return sign === 0;
    case "LessThan":
      return sign < 0;
    case "GreaterThan":
      return sign > 0;
    case "LessThanEquals":
      return sign <= 0;
    default:
      return sign >= 0;
  }
}

function compare(operator: Comparison, value: Json, expected: Json): boolean {
  const kind = operator.startsWith("String")
    ? "String"
    : operator.startsWith("Numeric")
      ? "Numeric"
      : operator.startsWith("Boolean")
        ? "Boolean"
        : "Timestamp";
  const relation = operator.slice(kind.length);
  switch (kind) {
    case "String":
      if (typeof value !== "string" || typeof expected !== "string") return false;
      return order(relation, value < expected ? -1 : value > expected ? 1 : 0);
    case "Numeric":
      if (typeof value !== "number" || typeof expected !== "number") return false;
      return order(relation, value < expected ? -1 : value > expected ? 1 : 0);
    case "Boolean":
      return typeof value === "boolean" && value === expected;
    default: {
      if (typeof value !== "string" || typeof expected !== "string") return false;
      const a = parseTimestamp(value);
      const b = parseTimestamp(expected);
      if (a === undefined || b === undefined) return false;
      return order(relation, compareTimestamps(a, b));
    }
  }
}

function missing(path: string): StatesError {
  return new StatesError(
    ErrorNames.Runtime,
    `choice rule path ${JSON.stringify(path)} matches nothing in the input; guard it with "IsPresent"`,
  );
}

function typeTest(operator: string, value: Json): boolean {
  switch (operator) {
    case "IsNull":
      return value === null;
    case "IsNumeric":
      return typeof value === "number";
    case "IsString":
      return typeof value === "string";
    case "IsBoolean":
      return typeof value === "boolean";
    default:
      return typeof value === "string" && parseTimestamp(value) !== undefined;
  }
}

function evaluateRule(rule: ChoiceRule, scope: RuleScope): boolean {
  if (rule.And !== undefined) return rule.And.every((inner) => evaluateRule(inner, scope));
  if (rule.Or !== undefined) return rule.Or.some((inner) => evaluateRule(inner, scope));
  if (rule.Not !== undefined) return !evaluateRule(rule.Not, scope);
  const variable = rule.Variable as string;
  const value = resolve(variable, scope);
  const fields = rule as unknown as Record<string, Json | undefined>;
  if (rule.IsPresent !== undefined) return (value !== undefined) === rule.IsPresent;
  if (value === undefined) throw missing(variable);
  for (const operator of TYPE_TEST_OPERATORS) {
    const expected = fields[operator];
    if (typeof expected === "boolean") return typeTest(operator, value) === expected;
  }
  if (rule.StringMatches !== undefined) {
    return typeof value === "string" && stringMatches(value, rule.StringMatches);
  }
  for (const operator of COMPARISON_OPERATORS) {
    const literal = fields[operator];
    if (literal !== undefined) return compare(operator, value, literal);
    const other = fields[`${operator}Path`];
    if (typeof other === "string") {
      const expected = resolve(other, scope);
      if (expected === undefined) throw missing(other);
      return compare(operator, value, expected);
    }
  }
  throw new StatesError(ErrorNames.Runtime, "choice rule has no comparison operator");
}

/**
 * Evaluates one Choice rule (And/Or/Not or a data test) against a state's effective input.
 * Comparisons between values of the wrong types are false; a Variable (or `...Path` operand)
 * that matches nothing throws `StatesError` `States.Runtime`, except under `IsPresent`.
 */
export function evaluateChoiceRule(rule: ChoiceRule, input: Json, context?: ContextObject): boolean {
  return evaluateRule(rule, { input, context: contextAsJson(context) });
}

/**
 * Picks the next state of a Choice state: the `Next` of the first rule that matches the input
 * (after InputPath), else `Default`. `context` serves `$$.` variables. Throws `StatesError`
 * `States.NoChoiceMatched` when nothing matches and there is no Default, `States.Runtime` as above.
 */
export function chooseNext(state: ChoiceState, rawInput: Json, context?: ContextObject): string {
  const input = applyInputPath(state, rawInput);
  const scope = { input, context: contextAsJson(context) };
  for (const rule of state.Choices) {
    if (evaluateRule(rule, scope)) return rule.Next as string;
  }
  if (state.Default !== undefined) return state.Default;
  throw new StatesError(
    ErrorNames.NoChoiceMatched,
    'no choice rule matched the input and the state has no "Default"',
  );
}

/**
 * The rule a Choice state takes, in either query language: `{ next, rule, ruleIndex }` for the
 * first matching rule, `{ next }` for Default. JSONata rules are judged by `Condition`
 * (`States.QueryEvaluationError` when it is not a boolean); JSONPath rules as in
 * {@link chooseNext}. Throws `StatesError` `States.NoChoiceMatched` when nothing matches.
 */
export function chooseRule(state: ChoiceState, rawInput: Json, env: EvaluationEnv): JsonataChoice {
  if (isJsonataState(state)) return jsonataChoose(state, rawInput, env);
  const input = applyInputPath(state, rawInput, env);
  const scope = { input, context: contextAsJson(env.context), variables: env.variables };
  for (const [index, rule] of state.Choices.entries()) {
    if (evaluateRule(rule, scope)) return { next: rule.Next as string, rule, ruleIndex: index };
  }
  if (state.Default !== undefined) return { next: state.Default };
  throw new StatesError(
    ErrorNames.NoChoiceMatched,
    'no choice rule matched the input and the state has no "Default"',
  );
}
