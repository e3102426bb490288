import { ExpressionSyntaxError } from "./errors";
import type { JsonObject } from "./json";
import { describeValue, hasOwn, isJsonObject } from "./json";
import type { JsonPath } from "./jsonpath";
import { isReferencePath, parsePath } from "./jsonpath";
import { parseIntrinsic } from "./intrinsic-parse";
import type { Limits } from "./limits";
import type { PathSegments } from "./problems";
import { ProblemList } from "./problems";
import { MAX_SECONDS } from "./settings";

/** What kind of machine is being validated: the document, a Parallel branch or a Map processor. */
export type MachineKind = "top" | "branch" | "processor";

/** A transition found in a state, checked once its whole scope is known. @internal */
export interface Transition {
  target: string;
  at: PathSegments;
}

/** Shared state of one validation run. @internal */
export class Validation {
  readonly problems = new ProblemList();
  /** Every state name in the definition, with the path of each state so named. */
  readonly stateLocations = new Map<string, PathSegments[]>();
  /** The query language of states that name none, in the machine being validated. */
  queryLanguage: "JSONPath" | "JSONata" = "JSONPath";
  /** Variables assigned in the scopes around the machine being validated (inner scopes may not assign them). */
  outerVariables: ReadonlySet<string> = new Set();

  constructor(
    readonly limits: Limits,
    readonly validateMachine: (value: unknown, at: PathSegments, kind: MachineKind, nesting: number) => void,
  ) {}

  add(at: PathSegments, message: string): void {
    this.problems.add(at, message);
  }

  /** Returns the field if present; records a problem when a required field is missing. */
  field(object: JsonObject, key: string, at: PathSegments, required: string | false): unknown {
    if (hasOwn(object, key)) return object[key];
    if (required !== false) this.add([...at, key], `"${key}" is required in ${required}`);
    return undefined;
  }

  /** Checks a string field; returns it when valid. */
  string(
    object: JsonObject,
    key: string,
    at: PathSegments,
    required: string | false = false,
  ): string | undefined {
    const value = this.field(object, key, at, required);
    if (value === undefined) return undefined;
    if (typeof value !== "string") {
      this.add([...at, key], `"${key}" must be a string, got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  }

  /** Checks a boolean field. */
  boolean(object: JsonObject, key: string, at: PathSegments): boolean | undefined {
    const value = this.field(object, key, at, false);
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") {
      this.add([...at, key], `"${key}" must be true or false, got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  }

  /** Checks an integer field within [min, max] (max defaults to 99,999,999). */
  integer(
    object: JsonObject,
    key: string,
    at: PathSegments,
    min: 0 | 1,
    max = MAX_SECONDS,
  ): number | undefined {
    const value = this.field(object, key, at, false);
    if (value === undefined) return undefined;
    const kind = min === 1 ? "a positive integer" : "a non-negative integer";
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      const range = max < Number.MAX_SAFE_INTEGER ? ` no greater than ${max}` : "";
      this.add([...at, key], `"${key}" must be ${kind}${range}, got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  }

  /** Checks a number field within [min, max]. */
  number(
    object: JsonObject,
    key: string,
    at: PathSegments,
    min: number,
    max: number,
    wanted: string,
  ): number | undefined {
    const value = this.field(object, key, at, false);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
      this.add([...at, key], `"${key}" must be ${wanted}, got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  }

  /** Checks an object field. */
  object(
    object: JsonObject,
    key: string,
    at: PathSegments,
    required: string | false = false,
  ): JsonObject | undefined {
    const value = this.field(object, key, at, required);
    if (value === undefined) return undefined;
    if (!isJsonObject(value)) {
      this.add([...at, key], `"${key}" must be an object, got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  }

  /** Checks a non-empty array field. */
  array(
    object: JsonObject,
    key: string,
    at: PathSegments,
    required: string | false = false,
  ): unknown[] | undefined {
    const value = this.field(object, key, at, required);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.add([...at, key], `"${key}" must be an array, got ${describeValue(value)}`);
      return undefined;
    }
    if (value.length === 0) {
      this.add([...at, key], `"${key}" must not be empty`);
      return undefined;
    }
    return value;
  }

  /** Reports each pair of fields that may not appear together; returns true when none clash. */
  exclusive(
    object: JsonObject,
    at: PathSegments,
    stateKind: string,
    keys: readonly [string, string],
  ): boolean {
    const [a, b] = keys;
    if (hasOwn(object, a) && hasOwn(object, b)) {
      this.add([...at, b], `${stateKind} cannot have both "${a}" and "${b}"`);
      return false;
    }
    return true;
  }

  /**
   * Checks that a value parses as a path. `reference` demands a Reference Path; `context` allows
   * `$$` paths. Returns the parsed path when valid.
   */
  pathText(
    text: string,
    at: PathSegments,
    key: string,
    options: { reference: boolean; context: boolean; variables?: boolean },
  ): JsonPath | undefined {
    let path: JsonPath;
    try {
      path = parsePath(text);
    } catch (error) {
      if (error instanceof ExpressionSyntaxError) {
        this.add(at, error.message);
        return undefined;
      }
      throw error;
    }
    if (path.root === "$$" && !options.context) {
      this.add(at, `"${key}" cannot refer to the context object ("$$"), got ${JSON.stringify(text)}`);
      return undefined;
    }
    if (path.variable !== undefined && !(options.variables ?? options.context)) {
      this.add(
        at,
        key === "ResultPath"
          ? `"ResultPath" cannot refer to a variable ("$${path.variable}"): it says where the result goes in the state's input; use "Assign" to set a variable`
          : `"${key}" cannot refer to a variable ("$${path.variable}")`,
      );
      return undefined;
    }
    if (options.reference && !isReferencePath(path)) {
      this.add(
        at,
        `"${key}" must be a reference path (names and indexes only, no "..", "*", slices or filters), got ${JSON.stringify(text)}`,
      );
      return undefined;
    }
    return path;
  }

  /** Checks a path field; `null` is allowed when `nullable`. */
  path(
    object: JsonObject,
    key: string,
    at: PathSegments,
    options: { reference: boolean; context?: boolean; nullable?: boolean; required?: string },
  ): void {
    const value = this.field(object, key, at, options.required ?? false);
    if (value === undefined) return;
    if (value === null && options.nullable === true) return;
    if (typeof value !== "string") {
      const what = options.nullable === true ? "a path string or null" : "a path string";
      this.add([...at, key], `"${key}" must be ${what}, got ${describeValue(value)}`);
      return;
    }
    this.pathText(value, [...at, key], key, {
      reference: options.reference,
      context: options.context ?? false,
      // The specification: "In a JSONPath state, the ResultPath field MUST NOT reference a variable".
      variables: key !== "ResultPath",
    });
  }

  /** Checks that text parses as an intrinsic function call. */
  intrinsic(text: string, at: PathSegments): void {
    try {
      parseIntrinsic(text);
    } catch (error) {
      if (error instanceof ExpressionSyntaxError) this.add(at, error.message);
      else throw error;
    }
  }
}

/** Finds a name among `candidates` that differs only in letter case, for "did you mean" hints. */
export function suggestName(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  for (const candidate of candidates) if (candidate.toLowerCase() === lower) return candidate;
  return undefined;
}
