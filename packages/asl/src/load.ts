import { AslValidationError } from "./errors";
import type { LoadOptions } from "./limits";
import { resolveLimits } from "./limits";
import type { SourceMap } from "./parse";
import { parseDefinition } from "./parse";
import type { AslProblem, PathSegments } from "./problems";
import { formatPath } from "./problems";
import type { QueryLanguage, State, StateMachine } from "./types";
import { validateToSegments } from "./validate";

function locate(segments: PathSegments, locations: SourceMap): { line: number; column: number } | undefined {
  // A missing field has no position of its own: point at the closest enclosing one that exists.
  for (let n = segments.length; n > 0; n--) {
    const found = locations.get(formatPath(segments.slice(0, n)));
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Sets every state's `QueryLanguage` to the one it runs with: its own, else its enclosing
 * machine's (a branch or item processor may name one), else the top level's. Nested machines
 * default to `inherited`, the top level's, not the Map or Parallel state's own, as the
 * specification says. @internal
 */
export function resolveQueryLanguages(machine: StateMachine, inherited: QueryLanguage): void {
  const fallback = machine.QueryLanguage ?? inherited;
  for (const name of Object.keys(machine.States)) {
    const state = machine.States[name] as State;
    state.QueryLanguage ??= fallback;
    if (state.Type === "Parallel")
      for (const branch of state.Branches) resolveQueryLanguages(branch, inherited);
    if (state.Type === "Map") {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) resolveQueryLanguages(processor, inherited);
    }
  }
}

/**
 * Parses (JSON or YAML) and validates a definition. On success returns the typed machine; on
 * failure every problem, with line and column where the text has them, ordered by position.
 */
export function loadDefinition(
  text: string,
  options?: LoadOptions,
): { ok: true; machine: StateMachine } | { ok: false; problems: AslProblem[] } {
  const limits = resolveLimits(options);
  const parsed = parseDefinition(text, limits);
  if (!parsed.ok) return parsed;
  const found = validateToSegments(parsed.value, limits);
  if (found.length === 0) {
    const machine = parsed.value as StateMachine;
    resolveQueryLanguages(machine, machine.QueryLanguage ?? "JSONPath");
    return { ok: true, machine };
  }
  const problems: AslProblem[] = found.map(({ segments, message }) => {
    const position = locate(segments, parsed.locations);
    return { path: formatPath(segments), message, ...(position === undefined ? {} : position) };
  });
  const key = (p: AslProblem): number => (p.line ?? 0) * 1_000_000 + (p.column ?? 0);
  problems.sort((a, b) => key(a) - key(b));
  return { ok: false, problems };
}

/** Like `loadDefinition`, but returns the machine directly and throws `AslValidationError` with every problem. */
export function assertValidDefinition(text: string, options?: LoadOptions): StateMachine {
  const loaded = loadDefinition(text, options);
  if (!loaded.ok) throw new AslValidationError(loaded.problems);
  return loaded.machine;
}
