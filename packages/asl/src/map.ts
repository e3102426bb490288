import {
  isJsonataState,
  jsonataItemInput,
  jsonataMapItems,
  jsonataMaxConcurrency,
  jsonataToleratedFailures,
} from "./jsonata-states";
import type { EvaluationEnv } from "./context";
import { applyInputPath, readPath } from "./data-flow";
import { ErrorNames, StatesError } from "./errors";
import type { Json } from "./json";
import { jsonTypeName } from "./json";
import { evaluateTemplate } from "./payload-template";
import { resolveNumberSetting } from "./settings";
import type { ItemProcessor, MapState } from "./types";

/**
 * The items a Map state iterates over: ItemsPath (default `$`) applied to the input after
 * InputPath. Throws `StatesError` `States.Runtime` when the path misses or does not select an array.
 */
export function mapItems(state: MapState, rawInput: Json, env?: EvaluationEnv): Json[] {
  if (isJsonataState(state)) return jsonataMapItems(state, rawInput, env);
  const itemsPath = state.ItemsPath ?? "$";
  const value = readPath(itemsPath, applyInputPath(state, rawInput, env), env);
  if (value === undefined) {
    throw new StatesError(
      ErrorNames.Runtime,
      `ItemsPath ${JSON.stringify(itemsPath)} matches nothing in the state's input`,
    );
  }
  if (!Array.isArray(value)) {
    throw new StatesError(
      ErrorNames.Runtime,
      `ItemsPath ${JSON.stringify(itemsPath)} selected ${jsonTypeName(value)}, but a Map state needs an array`,
    );
  }
  return value;
}

/**
 * The input of one iteration: the item itself, or the ItemSelector (or deprecated Parameters)
 * payload, evaluated over the input after InputPath with `$$.Map.Item.Index` and
 * `$$.Map.Item.Value` set in the context object. Throws `StatesError`.
 */
export function mapItemInput(
  state: MapState,
  rawInput: Json,
  index: number,
  item: Json,
  env: EvaluationEnv,
): Json {
  if (isJsonataState(state)) return jsonataItemInput(state, rawInput, index, item, env);
  const selector = state.ItemSelector ?? state.Parameters;
  if (selector === undefined) return item;
  const context = { ...env.context, Map: { Item: { Index: index, Value: item } } };
  return evaluateTemplate(selector, applyInputPath(state, rawInput, env), { ...env, context });
}

/** The machine each iteration runs: ItemProcessor, or the deprecated Iterator. */
export function mapProcessor(state: MapState): ItemProcessor {
  const processor = state.ItemProcessor ?? state.Iterator;
  if (processor === undefined) throw new StatesError(ErrorNames.Runtime, "Map state has no ItemProcessor");
  return processor;
}

/**
 * How many iterations may fail before the Map state fails with
 * `States.ExceedToleratedFailureThreshold`: the smaller of ToleratedFailureCount and
 * ⌊ToleratedFailurePercentage × itemCount / 100⌋ (either may come from its `...Path` form, read
 * after InputPath). With neither, 0: any failure fails the state. Throws `StatesError` `States.Runtime`.
 */
export function toleratedFailures(
  state: MapState,
  rawInput: Json,
  itemCount: number,
  env?: EvaluationEnv,
): { maxFailures: number } {
  if (isJsonataState(state)) return jsonataToleratedFailures(state, rawInput, itemCount, env);
  const percentage =
    state.ToleratedFailurePercentagePath !== undefined
      ? resolveNumberSetting(
          state,
          rawInput,
          "ToleratedFailurePercentagePath",
          state.ToleratedFailurePercentagePath,
          "percentage",
          env,
        )
      : (state.ToleratedFailurePercentage as number | undefined);
  const count =
    state.ToleratedFailureCountPath !== undefined
      ? resolveNumberSetting(
          state,
          rawInput,
          "ToleratedFailureCountPath",
          state.ToleratedFailureCountPath,
          "non-negative integer",
          env,
        )
      : (state.ToleratedFailureCount as number | undefined);
  const limits: number[] = [];
  // A tiny epsilon keeps e.g. 7% of 300 (= 20.999999...) from flooring to 20.
  if (percentage !== undefined) limits.push(Math.floor((percentage * itemCount) / 100 + 1e-9));
  if (count !== undefined) limits.push(count);
  return { maxFailures: limits.length === 0 ? 0 : Math.min(...limits) };
}

/**
 * How many iterations may run at once: MaxConcurrency or MaxConcurrencyPath (read after
 * InputPath); 0, the default, means no limit. Throws `StatesError` `States.Runtime`.
 */
export function maxConcurrency(state: MapState, rawInput: Json, env?: EvaluationEnv): number {
  if (isJsonataState(state)) return jsonataMaxConcurrency(state, rawInput, env);
  if (state.MaxConcurrencyPath !== undefined) {
    return resolveNumberSetting(
      state,
      rawInput,
      "MaxConcurrencyPath",
      state.MaxConcurrencyPath,
      "non-negative integer",
      env,
    );
  }
  return (state.MaxConcurrency as number | undefined) ?? 0;
}
