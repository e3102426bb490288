import type { Json } from "./json";
import { describeValue, isJsonObject } from "./json";
import type { PathSegments } from "./problems";
import type { Validation } from "./validate-context";

/**
 * Checks a `.$` value: a path into the input (`$...`), into the context object (`$$...`), or an
 * intrinsic function call. @internal
 */
export function checkDynamicValue(v: Validation, key: string, value: unknown, at: PathSegments): void {
  if (typeof value !== "string") {
    v.add(
      at,
      `"${key}" ends in ".$", so its value must be a path or an intrinsic function string, got ${describeValue(value)}`,
    );
    return;
  }
  if (value.startsWith("$")) v.pathText(value, at, key, { reference: false, context: true });
  else v.intrinsic(value, at);
}

function checkNode(v: Validation, node: Json, at: PathSegments): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => checkNode(v, item, [...at, i]));
    return;
  }
  if (!isJsonObject(node)) return;
  const produced = new Map<string, string>();
  for (const key of Object.keys(node)) {
    const dynamic = key.endsWith(".$");
    const name = dynamic ? key.slice(0, -2) : key;
    const other = produced.get(name);
    if (other !== undefined) {
      v.add([...at, key], `fields "${other}" and "${key}" would both produce "${name}"`);
    } else {
      produced.set(name, key);
    }
    if (dynamic) checkDynamicValue(v, key, node[key], [...at, key]);
    else checkNode(v, node[key] as Json, [...at, key]);
  }
}

/** Checks a Payload Template field (Parameters, ResultSelector, ItemSelector): an object whose `.$` fields parse. @internal */
export function checkTemplate(
  v: Validation,
  object: { [key: string]: Json },
  key: string,
  at: PathSegments,
): void {
  const template = v.object(object, key, at);
  if (template !== undefined) checkNode(v, template, [...at, key]);
}
