/**
 * The Amazon States Language (JSONPath flavour) for jetflow: parse and validate definitions, and
 * evaluate every piece of state semantics as pure functions the orchestrator calls.
 *
 * ```ts
 * const loaded = loadDefinition(yamlText);
 * if (!loaded.ok) throw new Error(formatProblems(loaded.problems, "order.yaml"));
 * const start = loaded.machine.States[loaded.machine.StartAt];
 * ```
 */

export type { Json, JsonObject } from "./json";
export type {
  StateMachine,
  QueryLanguage,
  Assign,
  ItemProcessor,
  State,
  StateType,
  PayloadTemplate,
  Retrier,
  Catcher,
  TaskState,
  PassState,
  ChoiceRule,
  ChoiceState,
  WaitState,
  SucceedState,
  FailState,
  ParallelState,
  MapState,
} from "./types";
export type { AslProblem } from "./problems";
export type { LoadOptions } from "./limits";
export { DEFAULT_LIMITS, RUNTIME_LIMITS } from "./limits";
export type { ParseResult, SourceMap, SourcePosition } from "./parse";
export { parseDefinition } from "./parse";
export { validateDefinition } from "./validate";
export { loadDefinition, assertValidDefinition } from "./load";
export { formatProblems } from "./report";
export {
  AslValidationError,
  ExpressionSyntaxError,
  StatesError,
  ErrorNames,
  PREDEFINED_ERROR_NAMES,
} from "./errors";

export type { ContextObject, EvaluationEnv } from "./context";
export { activityName, taskTimeouts } from "./task";
export {
  applyInputPath,
  applyOutputPath,
  applyResultPath,
  effectiveInput,
  stateOutput,
  passResult,
  passThroughOutput,
  choiceOutput,
} from "./data-flow";
export { chooseNext, chooseRule, evaluateChoiceRule } from "./choice";
export type { JsonataChoice } from "./jsonata-states";
export { isJsonataState, jsonataChoiceOutput } from "./jsonata-states";
export type { JsonataScope, StatesVariable } from "./jsonata";
export {
  JSONATA_LIMITS,
  REFUSED_JSONATA_FUNCTIONS,
  STEP_FUNCTIONS_JSONATA_FUNCTIONS,
  evaluateJsonata,
  evaluateJsonataValue,
  isJsonataString,
} from "./jsonata";
export type { Variables } from "./variables";
export {
  RESERVED_VARIABLE,
  VARIABLE_LIMITS,
  applyAssignments,
  catchAssignments,
  choiceAssignments,
  evaluateAssign,
  stateAssignments,
  variableNameProblem,
} from "./variables";
export { waitUntilMs } from "./wait";
export { failDetails } from "./fail";
export type { RetryDecision, RecoverableState } from "./retry";
export {
  decideRetry,
  findCatcher,
  catchOutput,
  errorMatches,
  RETRY_DEFAULTS,
  MAX_RETRY_DELAY_SECONDS,
} from "./retry";
export { mapItems, mapItemInput, mapProcessor, toleratedFailures, maxConcurrency } from "./map";
export { isTerminal, nextOf } from "./flow";

export type {
  JsonPath,
  PathSegment,
  Selector,
  FilterExpression,
  FilterOperand,
  ComparisonOperator,
} from "./jsonpath";
export { parsePath, parseReferencePath, isReferencePath } from "./jsonpath";
export { evaluatePath, queryPath, setAtReferencePath } from "./jsonpath-eval";
export type { IntrinsicCall, IntrinsicArgument } from "./intrinsic-parse";
export { parseIntrinsic } from "./intrinsic-parse";
export { evaluateIntrinsic } from "./intrinsics";
export { evaluateTemplate } from "./payload-template";
export type { Timestamp } from "./timestamp";
export { parseTimestamp, compareTimestamps } from "./timestamp";
