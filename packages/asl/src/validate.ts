import type { JsonObject } from "./json";
import { describeValue, exceededBound, hasOwn, isJsonObject } from "./json";
import type { LoadOptions, Limits } from "./limits";
import { resolveLimits } from "./limits";
import type { AslProblem, PathSegments } from "./problems";
import { formatPath } from "./problems";
import type { MachineKind, Transition } from "./validate-context";
import { Validation, suggestName } from "./validate-context";
import { checkUnknownFields } from "./validate-fields";
import { assignedNames } from "./validate-jsonata";
import { checkState } from "./validate-state";

const MACHINE_FIELDS: Readonly<Record<MachineKind, readonly string[]>> = {
  top: ["StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"],
  branch: ["StartAt", "States", "Comment", "QueryLanguage"],
  processor: ["StartAt", "States", "Comment", "QueryLanguage", "ProcessorConfig"],
};

const MACHINE_NAMES: Readonly<Record<MachineKind, string>> = {
  top: "the state machine",
  branch: "a Parallel branch",
  processor: "a Map item processor",
};

/** First pass: every state name with its location, so transitions can be checked against all scopes. */
function collectStates(v: Validation, machine: unknown, at: PathSegments, nesting: number): number {
  if (!isJsonObject(machine) || nesting > v.limits.maxNestingDepth) return 0;
  const states = machine.States;
  if (!isJsonObject(states)) return 0;
  let count = 0;
  for (const name of Object.keys(states)) {
    count++;
    const stateAt = [...at, "States", name];
    const seen = v.stateLocations.get(name);
    if (seen === undefined) v.stateLocations.set(name, [stateAt]);
    else seen.push(stateAt);
    const state = states[name];
    if (!isJsonObject(state)) continue;
    if (state.Type === "Parallel" && Array.isArray(state.Branches)) {
      state.Branches.forEach(
        (branch, i) => (count += collectStates(v, branch, [...stateAt, "Branches", i], nesting + 1)),
      );
    }
    if (state.Type === "Map") {
      for (const key of ["ItemProcessor", "Iterator"]) {
        if (hasOwn(state, key)) count += collectStates(v, state[key], [...stateAt, key], nesting + 1);
      }
    }
  }
  return count;
}

function isTerminalValue(state: unknown): boolean {
  return isJsonObject(state) && (state.Type === "Succeed" || state.Type === "Fail" || state.End === true);
}

function checkStateName(v: Validation, name: string, at: PathSegments): void {
  if (name === "") v.add(at, "state names must not be empty");
  const length = [...name].length;
  if (length > v.limits.maxNameLength) {
    v.add(at, `state name is ${length} characters long; the limit is ${v.limits.maxNameLength}`);
  }
  const locations = v.stateLocations.get(name) ?? [];
  const first = locations[0];
  if (locations.length > 1 && first !== undefined && formatPath(first) !== formatPath(at)) {
    v.add(
      at,
      `state name ${JSON.stringify(name)} is already used at ${formatPath(first)}; names must be unique across the whole machine`,
    );
  }
}

function missingTarget(v: Validation, target: string, states: JsonObject): string {
  const elsewhere = v.stateLocations.get(target)?.[0];
  if (elsewhere !== undefined) {
    return `state ${JSON.stringify(target)} exists only at ${formatPath(elsewhere)}; a transition cannot enter or leave a Parallel branch or Map item processor`;
  }
  const hint = suggestName(target, Object.keys(states));
  return `no state named ${JSON.stringify(target)}${hint === undefined ? "" : `; did you mean ${JSON.stringify(hint)}?`}`;
}

function checkMachineFields(v: Validation, machine: JsonObject, at: PathSegments, kind: MachineKind): void {
  checkUnknownFields(v, machine, at, MACHINE_FIELDS[kind], MACHINE_NAMES[kind], (key) =>
    key === "TimeoutSeconds" || key === "Version"
      ? `"${key}" is allowed only at the top level of the definition`
      : undefined,
  );
  v.string(machine, "Comment", at);
  const language = v.string(machine, "QueryLanguage", at);
  if (language !== undefined && language !== "JSONPath" && language !== "JSONata") {
    v.add(
      [...at, "QueryLanguage"],
      `"QueryLanguage" must be "JSONPath" or "JSONata", got ${JSON.stringify(language)}`,
    );
  }
  if (kind === "top") {
    const version = v.string(machine, "Version", at);
    if (version !== undefined && version !== "1.0")
      v.add([...at, "Version"], `"Version" must be "1.0", got ${JSON.stringify(version)}`);
    v.integer(machine, "TimeoutSeconds", at, 1);
  }
  if (kind === "processor") {
    const config = v.object(machine, "ProcessorConfig", at);
    if (config !== undefined) {
      const configAt = [...at, "ProcessorConfig"];
      checkUnknownFields(v, config, configAt, ["Mode", "ExecutionType"], '"ProcessorConfig"');
      const mode = v.string(config, "Mode", configAt);
      if (mode !== undefined && mode !== "INLINE" && mode !== "DISTRIBUTED") {
        v.add([...configAt, "Mode"], `"Mode" must be "INLINE" or "DISTRIBUTED", got ${JSON.stringify(mode)}`);
      }
      const type = v.string(config, "ExecutionType", configAt);
      if (type !== undefined && type !== "STANDARD" && type !== "EXPRESS") {
        v.add(
          [...configAt, "ExecutionType"],
          `"ExecutionType" must be "STANDARD" or "EXPRESS", got ${JSON.stringify(type)}`,
        );
      }
    }
  }
}

/**
 * The variables this scope's states assign (state, choice rule and catcher `Assign`); an inner
 * scope assigning a variable of an outer scope is a problem, as the specification requires.
 */
function checkScopeVariables(v: Validation, states: JsonObject, at: PathSegments): Set<string> {
  const own = new Set<string>();
  for (const name of Object.keys(states)) {
    const state = states[name];
    if (!isJsonObject(state)) continue;
    const jsonata = (state.QueryLanguage ?? v.queryLanguage) === "JSONata";
    const owners: [unknown, PathSegments][] = [[state, [...at, "States", name]]];
    if (Array.isArray(state.Choices))
      state.Choices.forEach((r, i) => owners.push([r, [...at, "States", name, "Choices", i]]));
    if (Array.isArray(state.Catch))
      state.Catch.forEach((c, i) => owners.push([c, [...at, "States", name, "Catch", i]]));
    for (const [owner, ownerAt] of owners) {
      for (const variable of assignedNames(owner, jsonata)) {
        own.add(variable);
        if (v.outerVariables.has(variable)) {
          v.add(
            [...ownerAt, "Assign"],
            `variable "${variable}" belongs to an outer scope: a state in a Parallel branch or Map iteration can read it but cannot assign it`,
          );
        }
      }
    }
  }
  return own;
}

function validateMachine(
  v: Validation,
  value: unknown,
  at: PathSegments,
  kind: MachineKind,
  nesting: number,
): void {
  if (nesting > v.limits.maxNestingDepth) {
    v.add(at, `Parallel and Map states nest deeper than ${v.limits.maxNestingDepth} levels`);
    return;
  }
  if (!isJsonObject(value)) {
    v.add(
      at,
      `${MACHINE_NAMES[kind]} must be an object with "StartAt" and "States", got ${describeValue(value)}`,
    );
    return;
  }
  checkMachineFields(v, value, at, kind);
  const startAt = v.string(value, "StartAt", at, MACHINE_NAMES[kind]);
  const states = v.object(value, "States", at, MACHINE_NAMES[kind]);
  if (states === undefined) return;
  const names = Object.keys(states);
  if (names.length === 0) {
    v.add([...at, "States"], `"States" must contain at least one state`);
    return;
  }

  const edges = new Map<string, Transition[]>();
  const savedLanguage = v.queryLanguage;
  const savedOuter = v.outerVariables;
  if (value.QueryLanguage === "JSONata" || value.QueryLanguage === "JSONPath")
    v.queryLanguage = value.QueryLanguage;
  const own = checkScopeVariables(v, states, at);
  v.outerVariables = new Set([...savedOuter, ...own]);
  try {
    for (const name of names) {
      const stateAt = [...at, "States", name];
      checkStateName(v, name, stateAt);
      edges.set(name, checkState(v, states[name], stateAt, nesting));
    }
  } finally {
    v.queryLanguage = savedLanguage;
    v.outerVariables = savedOuter;
  }
  for (const transitions of edges.values()) {
    for (const transition of transitions) {
      if (!hasOwn(states, transition.target))
        v.add(transition.at, missingTarget(v, transition.target, states));
    }
  }
  if (!names.some((name) => isTerminalValue(states[name]))) {
    v.add(
      [...at, "States"],
      `no state ends ${MACHINE_NAMES[kind]}: give a state "End": true, or add a Succeed or Fail state`,
    );
  }
  if (startAt === undefined) return;
  if (!hasOwn(states, startAt)) {
    const hint = suggestName(startAt, names);
    v.add(
      [...at, "StartAt"],
      `"StartAt" must name a state in "States", and there is no ${JSON.stringify(startAt)}${hint === undefined ? "" : `; did you mean ${JSON.stringify(hint)}?`}`,
    );
    return;
  }
  const reached = new Set<string>([startAt]);
  const queue = [startAt];
  while (queue.length > 0) {
    for (const transition of edges.get(queue.shift() as string) ?? []) {
      if (hasOwn(states, transition.target) && !reached.has(transition.target)) {
        reached.add(transition.target);
        queue.push(transition.target);
      }
    }
  }
  for (const name of names) {
    if (!reached.has(name))
      v.add(
        [...at, "States", name],
        `state ${JSON.stringify(name)} is unreachable from "StartAt" ${JSON.stringify(startAt)}`,
      );
  }
}

/** Validates and returns problems with their segments, for callers that attach positions. @internal */
export function validateToSegments(
  value: unknown,
  limits: Limits,
): Array<{ segments: PathSegments; message: string }> {
  const bound = exceededBound(value, limits.maxJsonDepth, limits.maxNodes);
  if (bound !== undefined) return [{ segments: [], message: bound }];
  const text = JSON.stringify(value) as string | undefined;
  const bytes = text === undefined ? 0 : Buffer.byteLength(text, "utf8");
  if (bytes > limits.maxDefinitionBytes) {
    return [
      {
        segments: [],
        message: `the definition is ${bytes} bytes as JSON; the limit is ${limits.maxDefinitionBytes}`,
      },
    ];
  }
  const v: Validation = new Validation(limits, (machine, at, kind, nesting) =>
    validateMachine(v, machine, at, kind, nesting),
  );
  const count = collectStates(v, value, [], 0);
  if (count > limits.maxStates) {
    return [
      { segments: [], message: `the definition has ${count} states; the limit is ${limits.maxStates}` },
    ];
  }
  validateMachine(v, value, [], "top", 0);
  return v.problems.items;
}

/**
 * Validates a parsed definition against the States Language (JSONPath flavour) and jetflow's
 * limits, and returns every problem found (an empty array means valid). Each problem names its
 * location, e.g. `States.Charge.Retry[1].ErrorEquals`. Throws `RangeError` for bad options only.
 */
export function validateDefinition(value: unknown, options?: LoadOptions): AslProblem[] {
  return validateToSegments(value, resolveLimits(options)).map((p) => ({
    path: formatPath(p.segments),
    message: p.message,
  }));
}
