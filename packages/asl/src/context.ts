import type { Json } from "./json";

/** The context object that `$$.` paths read: what the engine knows about the execution. */
export interface ContextObject {
  Execution: { Id: string; Input: Json; Name: string; StartTime: string; RedriveCount?: number };
  State: { EnteredTime: string; Name: string; RetryCount: number };
  StateMachine: { Id: string; Name: string };
  /** Present for Task states: the token of the current task. */
  Task?: { Token: string };
  /** Present inside a Map state's ItemSelector: the item being processed. */
  Map?: { Item: { Index: number; Value: Json } };
}

/**
 * Everything evaluation needs besides the definition and the data. Randomness and ids come from
 * here, never from `Math.random` or `crypto`, so that replaying an execution gives the same result.
 */
export interface EvaluationEnv {
  /** The context object for `$$.` paths. */
  context: ContextObject;
  /** A number in [0, 1); used by `States.MathRandom` without a seed. */
  random(): number;
  /** A version 4 UUID; used by `States.UUID`. */
  uuid(): string;
  /**
   * The workflow variables visible to the state, as they were when it was entered (the outer
   * scopes' included); `$name` in JSONata expressions and JSONPath paths reads them. Default none.
   */
  variables?: Readonly<Record<string, Json>>;
  /** The decision's time in epoch ms, for JSONata's `$now()` and `$millis()`. Default `$$.State.EnteredTime`. */
  nowMs?: number;
}

/**
 * The document a path reads: the context object for `$$`, the variable for `$name`, else
 * `input`. An unknown variable gives undefined (the path matches nothing). @internal
 */
export function pathSource(
  path: { root: string; variable?: string },
  input: Json,
  env: Partial<Pick<EvaluationEnv, "context" | "variables">>,
): Json | undefined {
  if (path.root === "$$") return contextAsJson(env.context);
  if (path.variable !== undefined) {
    const variables = env.variables;
    return variables && Object.prototype.hasOwnProperty.call(variables, path.variable)
      ? variables[path.variable]
      : undefined;
  }
  return input;
}

/** Where a path reads, for error messages. @internal */
export function pathSourceName(path: { root: string; variable?: string }): string {
  if (path.root === "$$") return "the context object";
  if (path.variable !== undefined) return `the variable "${path.variable}"`;
  return "the input";
}

/** The context object as JSON, for path evaluation. @internal */
export function contextAsJson(context: ContextObject | undefined): Json {
  return (context ?? {}) as unknown as Json;
}
