/**
 * JSONata evaluation for JSONata states: `{% ... %}` strings, the reserved `$states` variable,
 * workflow variables, Step Functions' own functions, and bounds that keep an expression from
 * hanging or exhausting the process. Pure: `$random`, `$uuid`, `$now` and `$millis` read the
 * injected environment, never the machine's clock or `Math.random`.
 *
 * jsonata 1.8 is used because it evaluates synchronously (2.x only returns promises), so the
 * engine's decisions stay synchronous; the package is required on first use only, so a process
 * that runs JSONPath workflows never loads it.
 */
import { createHash } from "node:crypto";
import type jsonataModule from "jsonata";
import type { ContextObject, EvaluationEnv } from "./context";
import { ErrorNames, StatesError } from "./errors";
import { HASH_ALGORITHMS, seededRandom } from "./intrinsics";
import type { Json, JsonObject } from "./json";
import { describeValue, isJsonObject } from "./json";

type JsonataFactory = typeof jsonataModule;
type Expression = ReturnType<JsonataFactory>;

/** Bounds on one JSONata evaluation; each breach is `States.QueryEvaluationError`. */
export const JSONATA_LIMITS = Object.freeze({
  /** Most evaluation steps (AST nodes visited) of one expression; deterministic, unlike a clock. */
  maxSteps: 1_000_000,
  /** Deepest nesting of evaluation (recursion of user-defined functions included). */
  maxDepth: 500,
  /** Longest string an expression may build (characters). */
  maxStringLength: 1024 * 1024,
  /** Most items an array built by an expression may hold. */
  maxArrayLength: 1_000_000,
  /** Most elements `$range` may produce (as `States.ArrayRange`). */
  maxRangeLength: 1000,
  /** Longest input `$hash` takes (as `States.Hash`). */
  maxHashInputLength: 10_000,
  /** Compiled expressions kept in memory (definitions are immutable; texts repeat). */
  cacheSize: 2000,
});

/** The standard JSONata functions Step Functions refuses, with the reason. */
export const REFUSED_JSONATA_FUNCTIONS: Readonly<Record<string, string>> = Object.freeze({
  eval: "use $parse to read JSON text",
});

/** The functions Step Functions adds to JSONata. */
export const STEP_FUNCTIONS_JSONATA_FUNCTIONS = ["partition", "range", "hash", "random", "uuid", "parse"];

let factory: JsonataFactory | undefined;

function loadJsonata(): JsonataFactory {
  // Required on first use: JSONPath-only workflows never load or initialise the package.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  factory ??= require("jsonata") as JsonataFactory;
  return factory;
}

const cache = new Map<string, Expression>();

/** A JSONata syntax error: the reason and the 0-based position in the expression. */
export interface JsonataSyntaxProblem {
  message: string;
  position: number;
}

interface JsonataErrorLike {
  code?: string;
  message?: string;
  position?: number;
  token?: string;
}

function compile(source: string): Expression {
  const cached = cache.get(source);
  if (cached) return cached;
  const expression = loadJsonata()(source);
  if (cache.size >= JSONATA_LIMITS.cacheSize) cache.clear();
  cache.set(source, expression);
  return expression;
}

/** True when `value` is a JSONata string: starts with `{%` and ends with `%}`. */
export function isJsonataString(value: unknown): value is string {
  return typeof value === "string" && value.startsWith("{%") && value.endsWith("%}") && value.length >= 4;
}

/** The expression inside a JSONata string. */
export function jsonataSource(text: string): string {
  return text.slice(2, -2);
}

/** Parses a JSONata expression (the text between `{%` and `%}`); undefined when it parses. */
export function checkJsonataSyntax(source: string): JsonataSyntaxProblem | undefined {
  if (source.trim() === "") return { message: "the expression is empty", position: 0 };
  try {
    compile(source);
    return undefined;
  } catch (err) {
    const e = err as JsonataErrorLike;
    return { message: e.message ?? String(err), position: typeof e.position === "number" ? e.position : 0 };
  }
}

/** What `$states` holds while a field is evaluated. */
export interface StatesVariable {
  input: Json;
  context: ContextObject;
  /** Task, Map and Parallel states' result, in their top-level Output and Assign. */
  result?: Json;
  /** The Error Output, in a Catcher's Output and Assign. */
  errorOutput?: Json;
}

/** Everything one JSONata evaluation sees. */
export interface JsonataScope {
  states: StatesVariable;
  env: EvaluationEnv;
}

function queryError(field: string, reason: string): StatesError {
  return new StatesError(ErrorNames.QueryEvaluationError, `${field}: ${reason}`);
}

class BoundExceeded extends Error {}

function functionError(name: string, reason: string): Error {
  return new Error(`$${name}: ${reason}`);
}

function integerArg(name: string, position: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw functionError(name, `the ${position} argument must be a number, got ${describeValue(value)}`);
  }
  // As Step Functions: built-in functions round non-integers down.
  return Math.floor(value);
}

function stepFunctionsFunctions(env: EvaluationEnv): Record<string, unknown> {
  const nowMs = env.nowMs ?? Date.parse(env.context.State.EnteredTime);
  return {
    partition(array: unknown, size: unknown): Json {
      if (!Array.isArray(array)) {
        throw functionError("partition", `the first argument must be an array, got ${describeValue(array)}`);
      }
      const chunk = integerArg("partition", "second", size);
      if (chunk <= 0) throw functionError("partition", `the chunk size must be positive, got ${chunk}`);
      const out: Json[] = [];
      for (let i = 0; i < array.length; i += chunk) out.push(array.slice(i, i + chunk) as Json[]);
      return out;
    },
    range(start: unknown, end: unknown, step: unknown): Json {
      const from = integerArg("range", "first", start);
      const to = integerArg("range", "second", end);
      const by = integerArg("range", "third", step);
      if (by === 0) throw functionError("range", "the step must not be 0");
      const count = Math.max(0, Math.floor((to - from) / by) + 1);
      if (count > JSONATA_LIMITS.maxRangeLength) {
        throw functionError(
          "range",
          `the range would have ${count} elements; the limit is ${JSONATA_LIMITS.maxRangeLength}`,
        );
      }
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push(from + i * by);
      return out;
    },
    hash(data: unknown, algorithm: unknown): Json {
      if (typeof data !== "string") {
        throw functionError("hash", `the first argument must be a string, got ${describeValue(data)}`);
      }
      if (data.length > JSONATA_LIMITS.maxHashInputLength) {
        throw functionError(
          "hash",
          `the input is longer than ${JSONATA_LIMITS.maxHashInputLength} characters`,
        );
      }
      const nodeName =
        typeof algorithm === "string" && Object.prototype.hasOwnProperty.call(HASH_ALGORITHMS, algorithm)
          ? HASH_ALGORITHMS[algorithm]
          : undefined;
      if (nodeName === undefined) {
        throw functionError(
          "hash",
          `unknown algorithm ${describeValue(algorithm)}; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512`,
        );
      }
      return createHash(nodeName).update(data, "utf8").digest("hex");
    },
    random(seed?: unknown): Json {
      if (seed === undefined) return env.random();
      return seededRandom(integerArg("random", "first", seed));
    },
    uuid(): Json {
      return env.uuid();
    },
    parse(text: unknown): Json {
      if (typeof text !== "string") {
        throw functionError("parse", `the argument must be a string, got ${describeValue(text)}`);
      }
      try {
        return JSON.parse(text) as Json;
      } catch {
        throw functionError("parse", "the argument is not valid JSON text");
      }
    },
    // Deterministic: the decision's time, not the machine's clock at evaluation.
    now(): string {
      return new Date(nowMs).toISOString();
    },
    millis(): number {
      return nowMs;
    },
    // JSONata's own $shuffle draws from Math.random; this one from the injected source.
    shuffle(array: unknown): Json {
      if (array === undefined) return undefined as unknown as Json;
      const items = Array.isArray(array) ? [...(array as Json[])] : [array as Json];
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(env.random() * (i + 1));
        [items[i], items[j]] = [items[j] as Json, items[i] as Json];
      }
      return items;
    },
  };
}

function refused(name: string, reason: string): () => never {
  return () => {
    throw functionError(name, `is not supported: ${reason}`);
  };
}

/** Converts what JSONata returned into plain JSON (sequences become arrays; functions are refused). */
function toJson(field: string, value: unknown, depth = 0): Json {
  if (depth > 512) throw queryError(field, "the result nests deeper than 512 levels");
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw queryError(field, `the result is not a finite number`);
    return value;
  }
  if (Array.isArray(value)) {
    const out: Json[] = [];
    for (const item of value) if (item !== undefined) out.push(toJson(field, item, depth + 1));
    return out;
  }
  if (
    typeof value === "function" ||
    (typeof value === "object" && value !== null && "_jsonata_lambda" in value)
  ) {
    throw queryError(field, "the expression returned a function, which is not JSON");
  }
  if (typeof value === "object") {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      Object.defineProperty(out, key, {
        value: toJson(field, item, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  throw queryError(field, `the expression returned ${typeof value}, which is not JSON`);
}

/**
 * Evaluates one JSONata expression (the text between `{%` and `%}`) for field `field` (named in
 * errors). The result is plain JSON; an expression that yields nothing, fails, or exceeds
 * {@link JSONATA_LIMITS} throws `StatesError` `States.QueryEvaluationError`.
 */
export function evaluateJsonata(source: string, scope: JsonataScope, field: string): Json {
  let expression: Expression;
  try {
    expression = compile(source);
  } catch (err) {
    throw queryError(
      field,
      `invalid JSONata expression: ${(err as JsonataErrorLike).message ?? String(err)}`,
    );
  }
  const bindings: Record<string, unknown> = {};
  const variables = scope.env.variables;
  if (variables) for (const name of Object.keys(variables)) bindings[name] = variables[name];
  const states: Record<string, unknown> = { input: scope.states.input, context: scope.states.context };
  if (scope.states.result !== undefined) states.result = scope.states.result;
  if (scope.states.errorOutput !== undefined) states.errorOutput = scope.states.errorOutput;
  bindings.states = states;
  Object.assign(bindings, stepFunctionsFunctions(scope.env));
  for (const [name, reason] of Object.entries(REFUSED_JSONATA_FUNCTIONS))
    bindings[name] = refused(name, reason);
  let steps = 0;
  let depth = 0;
  bindings.__evaluate_entry = () => {
    if (++steps > JSONATA_LIMITS.maxSteps) {
      throw new BoundExceeded(`the evaluation took more than ${JSONATA_LIMITS.maxSteps} steps`);
    }
    if (++depth > JSONATA_LIMITS.maxDepth) {
      throw new BoundExceeded(
        `stack overflow: the evaluation nested deeper than ${JSONATA_LIMITS.maxDepth} levels`,
      );
    }
  };
  bindings.__evaluate_exit = (_expr: unknown, _input: unknown, _env: unknown, result: unknown) => {
    depth--;
    if (typeof result === "string" && result.length > JSONATA_LIMITS.maxStringLength) {
      throw new BoundExceeded(
        `memory limit exceeded: a string of ${result.length} characters (the limit is ${JSONATA_LIMITS.maxStringLength})`,
      );
    }
    if (Array.isArray(result) && result.length > JSONATA_LIMITS.maxArrayLength) {
      throw new BoundExceeded(
        `memory limit exceeded: an array of ${result.length} items (the limit is ${JSONATA_LIMITS.maxArrayLength})`,
      );
    }
  };
  let result: unknown;
  try {
    result = expression.evaluate(scope.states.input, bindings);
  } catch (err) {
    if (err instanceof StatesError) throw err;
    if (err instanceof RangeError) throw queryError(field, "stack overflow");
    const e = err as JsonataErrorLike;
    const text = e.message ?? String(err);
    throw queryError(field, e.code ? `${text} (${e.code})` : text);
  }
  if (result === undefined)
    throw queryError(field, "the expression returned nothing (undefined is not JSON)");
  return toJson(field, result);
}

/**
 * Evaluates a field that accepts JSONata: a JSONata string is replaced by its result, objects
 * and arrays are evaluated item by item (to any depth), anything else is taken as is.
 * `field` names the field in errors. Throws `StatesError` `States.QueryEvaluationError`.
 */
export function evaluateJsonataValue(value: Json, scope: JsonataScope, field: string): Json {
  if (typeof value === "string") {
    return isJsonataString(value) ? evaluateJsonata(jsonataSource(value), scope, field) : value;
  }
  if (Array.isArray(value))
    return value.map((item, i) => evaluateJsonataValue(item, scope, `${field}[${i}]`));
  if (isJsonObject(value)) {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) {
      Object.defineProperty(out, key, {
        value: evaluateJsonataValue(value[key] as Json, scope, `${field}.${key}`),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
