/** A JSON value, as read from a definition or passed between states. */
export type Json = null | boolean | number | string | Json[] | JsonObject;

/** A JSON object. Keys are own properties; nothing is ever read from the prototype. */
export type JsonObject = { [key: string]: Json };

/** Deepest nesting that runtime helpers walk before giving up (protects the stack from hostile input). */
export const MAX_JSON_DEPTH = 512;

/** Reports whether a value is a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reports whether `key` is an own property of `object`; inherited names like `constructor` never count. */
export function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** Reads an own property, or `undefined`: `constructor`, `__proto__` and friends never leak through. */
export function getOwn(object: JsonObject, key: string): Json | undefined {
  return hasOwn(object, key) ? object[key] : undefined;
}

/**
 * Defines `key` as an own, enumerable data property. Unlike `object[key] = value`, a key such as
 * `__proto__` becomes an ordinary field instead of replacing the prototype.
 */
export function setOwn(object: JsonObject, key: string, value: Json): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Copies an object's own fields into a new plain object (one level deep). */
export function copyObject(object: JsonObject): JsonObject {
  const copy: JsonObject = {};
  for (const key of Object.keys(object)) setOwn(copy, key, object[key] as Json);
  return copy;
}

/** Structural equality of two JSON values; object key order does not matter. */
export function jsonEquals(a: Json, b: Json, depth = 0): boolean {
  if (a === b) return true;
  if (depth > MAX_JSON_DEPTH) throw new RangeError(`value nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEquals(item, b[i] as Json, depth + 1));
  }
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => hasOwn(b, key) && jsonEquals(a[key] as Json, b[key] as Json, depth + 1));
  }
  return false;
}

/** A string that is equal for structurally equal values (object keys sorted), for use as a Set key. */
export function canonicalJson(value: Json, depth = 0): string {
  if (depth > MAX_JSON_DEPTH) throw new RangeError(`value nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item, depth + 1)).join(",")}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as Json, depth + 1)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Measures the nesting depth of a value without recursion, stopping early once `limit` is passed. */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== "object" || node === null) continue;
    if (depth > limit) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) stack.push([child, depth + 1]);
  }
  return false;
}

/** Names a value's JSON type for messages: "a string", "an object", "null"... */
export function jsonTypeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

/** Renders a value briefly for messages: scalars as JSON (long ones cut), collections by type. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "object" && value !== null) return jsonTypeName(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Walks a value without recursion and names the first bound it breaks: more than `maxNodes`
 * values, or objects and arrays nested deeper than `maxDepth`. `undefined` when within bounds.
 */
export function exceededBound(value: unknown, maxDepth: number, maxNodes: number): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 1]];
  let nodes = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (++nodes > maxNodes) return `the definition holds more than ${maxNodes} values`;
    if (typeof node !== "object" || node === null) continue;
    if (depth > maxDepth) return `the definition nests deeper than ${maxDepth} levels`;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return undefined;
}
