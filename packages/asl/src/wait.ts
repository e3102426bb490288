import { applyInputPath, readPath } from "./data-flow";
import { ErrorNames, StatesError } from "./errors";
import type { Json } from "./json";
import { describeValue } from "./json";
import { MAX_SECONDS, resolveNumberSetting } from "./settings";
import { parseTimestamp, timestampToMs } from "./timestamp";
import type { WaitState } from "./types";
import type { EvaluationEnv } from "./context";
import { isJsonataState, jsonataWaitUntilMs } from "./jsonata-states";

/**
 * When a Wait state ends, in epoch milliseconds: `enteredAtMs` plus Seconds (or SecondsPath, a
 * non-negative integer), or the instant of Timestamp (or TimestampPath). Paths read the input
 * after InputPath. A time in the past is returned as is; the engine continues at once. Throws
 * `StatesError` `States.Runtime` when a path misses or holds the wrong kind of value.
 */
export function waitUntilMs(
  state: WaitState,
  rawInput: Json,
  enteredAtMs: number,
  env?: EvaluationEnv,
): number {
  if (isJsonataState(state)) return jsonataWaitUntilMs(state, rawInput, enteredAtMs, env);
  if (typeof state.Seconds === "number") return enteredAtMs + state.Seconds * 1000;
  if (state.SecondsPath !== undefined) {
    const seconds = resolveNumberSetting(
      state,
      rawInput,
      "SecondsPath",
      state.SecondsPath,
      "non-negative integer",
      env,
    );
    if (seconds > MAX_SECONDS) {
      throw new StatesError(
        ErrorNames.Runtime,
        `SecondsPath selected ${seconds}, more than the limit of ${MAX_SECONDS} seconds`,
      );
    }
    return enteredAtMs + seconds * 1000;
  }
  let text: Json | undefined = state.Timestamp;
  let field = "Timestamp";
  if (state.TimestampPath !== undefined) {
    field = `TimestampPath ${JSON.stringify(state.TimestampPath)}`;
    text = readPath(state.TimestampPath, applyInputPath(state, rawInput, env), env);
    if (text === undefined)
      throw new StatesError(ErrorNames.Runtime, `${field} matches nothing in the state's input`);
  }
  const parsed = typeof text === "string" ? parseTimestamp(text) : undefined;
  if (parsed === undefined) {
    throw new StatesError(
      ErrorNames.Runtime,
      `${field} gave ${describeValue(text)}, which is not an RFC 3339 timestamp such as "2016-03-14T01:59:00Z"`,
    );
  }
  return timestampToMs(parsed);
}
