import type { EvaluationEnv } from "./context";
import { pathSource, pathSourceName } from "./context";
import { ErrorNames, StatesError } from "./errors";
import { evaluateIntrinsic } from "./intrinsics";
import type { Json, JsonObject } from "./json";
import { MAX_JSON_DEPTH, isJsonObject, setOwn } from "./json";
import { cachedPath } from "./jsonpath";
import { evaluatePath } from "./jsonpath-eval";

/** Payload-template environment: `context` may be absent when a template cannot use `$$`. */
export type TemplateEnv = Pick<EvaluationEnv, "random" | "uuid"> & { context?: EvaluationEnv["context"] };

/**
 * Resolves one `.$` value: a path into the input (`$...`), a path into the context object
 * (`$$...`), or an intrinsic function call. Throws `StatesError`: `States.ParameterPathFailure`
 * when a path matches nothing, `States.IntrinsicFailure` when a function fails.
 */
export function resolveDynamicValue(field: string, expression: string, input: Json, env: TemplateEnv): Json {
  if (expression.startsWith("$")) {
    const path = cachedPath(expression);
    const data = pathSource(path, input, env);
    const value = data === undefined ? undefined : evaluatePath(path, data);
    if (value === undefined) {
      const where = pathSourceName(path);
      throw new StatesError(
        ErrorNames.ParameterPathFailure,
        `cannot resolve field ${JSON.stringify(field)}: path ${JSON.stringify(expression)} matches nothing in ${where}`,
      );
    }
    return value;
  }
  return evaluateIntrinsic(expression, input, env);
}

function evaluateNode(node: Json, input: Json, env: TemplateEnv, depth: number): Json {
  if (depth > MAX_JSON_DEPTH) {
    throw new StatesError(ErrorNames.Runtime, `payload template nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  if (Array.isArray(node)) return node.map((item) => evaluateNode(item, input, env, depth + 1));
  if (!isJsonObject(node)) return node;
  const out: JsonObject = {};
  for (const key of Object.keys(node)) {
    const value = node[key] as Json;
    if (key.endsWith(".$") && typeof value === "string") {
      setOwn(out, key.slice(0, -2), resolveDynamicValue(key, value, input, env));
    } else {
      setOwn(out, key, evaluateNode(value, input, env, depth + 1));
    }
  }
  return out;
}

/**
 * Processes a Payload Template (Parameters, ResultSelector, ItemSelector): copies it, replacing
 * every field whose name ends in `.$` (however deeply nested) by the value its path or intrinsic
 * function yields, and stripping the suffix. Object keys are defined as own properties, so a
 * `__proto__` key is just a field. Throws `StatesError`.
 */
export function evaluateTemplate(template: JsonObject, input: Json, env: TemplateEnv): JsonObject {
  return evaluateNode(template, input, env, 0) as JsonObject;
}
