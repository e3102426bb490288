import type { Json, JsonObject } from "./json";

/** A state machine, or a Parallel branch or Map processor (which share its shape). */
export interface StateMachine {
  StartAt: string;
  States: Record<string, State>;
  /** Seconds the whole execution may run; top level only. */
  TimeoutSeconds?: number;
  Comment?: string;
  /** States Language version; only "1.0" exists. */
  Version?: string;
  /** The query language of the states that name none; default "JSONPath". */
  QueryLanguage?: QueryLanguage;
}

/** The two query languages of the States Language. */
export type QueryLanguage = "JSONPath" | "JSONata";

/**
 * Workflow variables to assign: name → value. In a JSONata state values may hold `{% %}`
 * strings; in a JSONPath state a name ending in `.$` takes a path or intrinsic, as in a Payload
 * Template.
 */
export type Assign = JsonObject;

/** A Map state's ItemProcessor (or the older Iterator). */
export interface ItemProcessor extends StateMachine {
  /** jetflow runs both modes the same way: iterations inside the parent execution. */
  ProcessorConfig?: { Mode?: "INLINE" | "DISTRIBUTED"; ExecutionType?: "STANDARD" | "EXPRESS" };
}

/** Any state; discriminate on `Type`. */
export type State =
  TaskState | PassState | ChoiceState | WaitState | SucceedState | FailState | ParallelState | MapState;

/** The names of the state types. */
export type StateType = State["Type"];

/** A Payload Template: fields ending in `.$` are resolved at run time. */
export type PayloadTemplate = JsonObject;

interface CommonFields {
  Comment?: string;
  /**
   * The state's query language. `loadDefinition` sets it on every state (inherited from the
   * enclosing machine, else the top level), so evaluation never looks elsewhere.
   */
  QueryLanguage?: QueryLanguage;
  /** JSONata: the state output (default: the result for Task/Map/Parallel, else the input). */
  Output?: Json;
  /** Variables assigned when the state completes. Not on Succeed and Fail. */
  Assign?: Assign;
}

interface Flow {
  Next?: string;
  End?: boolean;
}

interface InputOutput {
  /** `null` discards the input (the state sees `{}`). Default `$`. */
  InputPath?: string | null;
  /** `null` discards the output (the state emits `{}`). Default `$`. */
  OutputPath?: string | null;
}

interface ResultHandling {
  Parameters?: PayloadTemplate;
  /** JSONata: the task's (or the branches') input; default the state input. */
  Arguments?: Json;
  ResultSelector?: PayloadTemplate;
  /** `null` discards the result (output is the raw input). Default `$`. */
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
}

/** A Retry entry. */
export interface Retrier {
  ErrorEquals: string[];
  /** Seconds before the first retry. Default 1. */
  IntervalSeconds?: number;
  /** Retries allowed; 0 means never retry. Default 3. */
  MaxAttempts?: number;
  /** Multiplier applied to the interval on each retry. Default 2.0. */
  BackoffRate?: number;
  /** Cap on any single delay, in seconds. */
  MaxDelaySeconds?: number;
  /** FULL draws each delay uniformly from [0, computed delay). Default NONE. */
  JitterStrategy?: "FULL" | "NONE";
  Comment?: string;
}

/** A Catch entry. */
export interface Catcher {
  ErrorEquals: string[];
  Next: string;
  /** Where the `{ Error, Cause }` output goes in the raw input. Default `$` (replace it). */
  ResultPath?: string | null;
  /** JSONata: the output passed to `Next` (default the Error Output). */
  Output?: Json;
  /** Variables assigned when this catcher handles the error. */
  Assign?: Assign;
  Comment?: string;
}

/** A Task state: runs the activity named by `Resource` on a worker. */
export interface TaskState extends CommonFields, Flow, InputOutput, ResultHandling {
  Type: "Task";
  Resource: string;
  /** A number, or in a JSONata state a JSONata string. */
  TimeoutSeconds?: number | string;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number | string;
  HeartbeatSecondsPath?: string;
}

/** A Pass state: passes its input, or `Result`, on. */
export interface PassState extends CommonFields, Flow, InputOutput {
  Type: "Pass";
  Result?: Json;
  Parameters?: PayloadTemplate;
  ResultPath?: string | null;
}

/** A Choice rule; top-level rules carry `Next`. Exactly one operator per data-test rule. */
export interface ChoiceRule {
  Next?: string;
  Comment?: string;
  /** JSONata: a JSONata string (or a boolean) deciding whether the rule matches. */
  Condition?: Json;
  /** Variables assigned when this rule is chosen. */
  Assign?: Assign;
  /** JSONata: the state output when this rule is chosen. */
  Output?: Json;
  And?: ChoiceRule[];
  Or?: ChoiceRule[];
  Not?: ChoiceRule;
  Variable?: string;
  StringEquals?: string;
  StringEqualsPath?: string;
  StringLessThan?: string;
  StringLessThanPath?: string;
  StringGreaterThan?: string;
  StringGreaterThanPath?: string;
  StringLessThanEquals?: string;
  StringLessThanEqualsPath?: string;
  StringGreaterThanEquals?: string;
  StringGreaterThanEqualsPath?: string;
  StringMatches?: string;
  NumericEquals?: number;
  NumericEqualsPath?: string;
  NumericLessThan?: number;
  NumericLessThanPath?: string;
  NumericGreaterThan?: number;
  NumericGreaterThanPath?: string;
  NumericLessThanEquals?: number;
  NumericLessThanEqualsPath?: string;
  NumericGreaterThanEquals?: number;
  NumericGreaterThanEqualsPath?: string;
  BooleanEquals?: boolean;
  BooleanEqualsPath?: string;
  TimestampEquals?: string;
  TimestampEqualsPath?: string;
  TimestampLessThan?: string;
  TimestampLessThanPath?: string;
  TimestampGreaterThan?: string;
  TimestampGreaterThanPath?: string;
  TimestampLessThanEquals?: string;
  TimestampLessThanEqualsPath?: string;
  TimestampGreaterThanEquals?: string;
  TimestampGreaterThanEqualsPath?: string;
  IsNull?: boolean;
  IsPresent?: boolean;
  IsNumeric?: boolean;
  IsString?: boolean;
  IsBoolean?: boolean;
  IsTimestamp?: boolean;
}

/** A Choice state: picks the `Next` of the first matching rule, else `Default`. */
export interface ChoiceState extends CommonFields, InputOutput {
  Type: "Choice";
  Choices: ChoiceRule[];
  Default?: string;
}

/** A Wait state: exactly one of the four timing fields. */
export interface WaitState extends CommonFields, Flow, InputOutput {
  Type: "Wait";
  /** A number, or in a JSONata state a JSONata string. */
  Seconds?: number | string;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
}

/** A Succeed state: ends the machine, branch or iteration successfully. */
export interface SucceedState extends CommonFields, InputOutput {
  Type: "Succeed";
}

/** A Fail state: ends the machine with an error. */
export interface FailState extends CommonFields {
  Type: "Fail";
  Error?: string;
  /** A reference path or intrinsic function yielding the error name. */
  ErrorPath?: string;
  Cause?: string;
  /** A reference path or intrinsic function yielding the cause. */
  CausePath?: string;
}

/** A Parallel state: runs every branch on the same input. */
export interface ParallelState extends CommonFields, Flow, InputOutput, ResultHandling {
  Type: "Parallel";
  Branches: StateMachine[];
}

/** A Map state: runs its processor once per item of an array. */
export interface MapState extends CommonFields, Flow, InputOutput, ResultHandling {
  Type: "Map";
  ItemProcessor?: ItemProcessor;
  /** Deprecated name of ItemProcessor. */
  Iterator?: ItemProcessor;
  ItemsPath?: string;
  /** JSONata: the items, an array or a JSONata string yielding one (default the state input). */
  Items?: Json;
  ItemSelector?: PayloadTemplate;
  /** A number, or in a JSONata state a JSONata string. */
  MaxConcurrency?: number | string;
  MaxConcurrencyPath?: string;
  ToleratedFailurePercentage?: number | string;
  ToleratedFailurePercentagePath?: string;
  ToleratedFailureCount?: number | string;
  ToleratedFailureCountPath?: string;
}
