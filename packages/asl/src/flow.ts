import type { State } from "./types";

/** Reports whether a state ends its machine, branch or iteration: `End: true`, Succeed or Fail. */
export function isTerminal(state: State): boolean {
  if (state.Type === "Succeed" || state.Type === "Fail") return true;
  if (state.Type === "Choice") return false;
  return state.End === true;
}

/** The state's unconditional successor (`Next`); `undefined` for terminal and Choice states. */
export function nextOf(state: State): string | undefined {
  if (state.Type === "Succeed" || state.Type === "Fail" || state.Type === "Choice") return undefined;
  return state.End === true ? undefined : state.Next;
}
