import { ErrorNames, StatesError } from "./errors";
import type { Json, JsonObject } from "./json";
import { copyObject, describeValue, getOwn, hasOwn, isJsonObject, jsonEquals, setOwn } from "./json";
import type { FilterExpression, FilterOperand, JsonPath, Selector } from "./jsonpath";
import { cachedPath, isReferencePath } from "./jsonpath";

function applySelector(node: Json, selector: Selector, root: Json, out: Json[]): void {
  switch (selector.kind) {
    case "name":
      if (isJsonObject(node) && hasOwn(node, selector.name)) out.push(node[selector.name] as Json);
      return;
    case "index":
      if (Array.isArray(node)) {
        const i = selector.index < 0 ? node.length + selector.index : selector.index;
        if (i >= 0 && i < node.length) out.push(node[i] as Json);
      }
      return;
    case "wildcard":
      if (Array.isArray(node)) out.push(...node);
      else if (isJsonObject(node)) for (const key of Object.keys(node)) out.push(node[key] as Json);
      return;
    case "union":
      for (const member of selector.members) {
        applySelector(
          node,
          typeof member === "number" ? { kind: "index", index: member } : { kind: "name", name: member },
          root,
          out,
        );
      }
      return;
    case "slice":
      if (Array.isArray(node)) sliceInto(node, selector.start, selector.end, selector.step, out);
      return;
    case "filter": {
      const candidates = Array.isArray(node) ? node : isJsonObject(node) ? Object.values(node) : [];
      for (const candidate of candidates)
        if (testFilter(selector.filter, candidate, root)) out.push(candidate);
      return;
    }
  }
}

function sliceInto(
  array: Json[],
  start: number | undefined,
  end: number | undefined,
  step: number,
  out: Json[],
): void {
  const n = array.length;
  const clamp = (value: number, low: number, high: number): number => Math.min(Math.max(value, low), high);
  if (step > 0) {
    const from = start === undefined ? 0 : clamp(start < 0 ? n + start : start, 0, n);
    const to = end === undefined ? n : clamp(end < 0 ? n + end : end, 0, n);
    for (let i = from; i < to; i += step) out.push(array[i] as Json);
  } else {
    const from = start === undefined ? n - 1 : clamp(start < 0 ? n + start : start, -1, n - 1);
    const to = end === undefined ? -1 : clamp(end < 0 ? n + end : end, -1, n - 1);
    for (let i = from; i > to; i += step) out.push(array[i] as Json);
  }
}

/** Every node at or below `node`, in document order, without recursion. */
function descendantsOf(node: Json): Json[] {
  const out: Json[] = [];
  const stack: Json[] = [node];
  while (stack.length > 0) {
    const current = stack.pop() as Json;
    out.push(current);
    const children = Array.isArray(current) ? current : isJsonObject(current) ? Object.values(current) : [];
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Json);
  }
  return out;
}

function operandValue(operand: FilterOperand, current: Json, root: Json): Json | undefined {
  if (operand.kind === "literal") return operand.value;
  return evaluatePath(operand.path, operand.path.root === "@" ? current : root);
}

/** Structural equality that treats values too deep to compare as different instead of throwing. */
function safeEquals(left: Json, right: Json): boolean {
  try {
    return jsonEquals(left, right);
  } catch {
    return false;
  }
}

function testFilter(filter: FilterExpression, current: Json, root: Json): boolean {
  switch (filter.kind) {
    case "or":
      return testFilter(filter.left, current, root) || testFilter(filter.right, current, root);
    case "and":
      return testFilter(filter.left, current, root) && testFilter(filter.right, current, root);
    case "not":
      return !testFilter(filter.operand, current, root);
    case "exists": {
      const value = evaluatePath(filter.path, filter.path.root === "@" ? current : root);
      return isReferencePath(filter.path) ? value !== undefined : Array.isArray(value) && value.length > 0;
    }
    case "compare": {
      const left = operandValue(filter.left, current, root);
      const right = operandValue(filter.right, current, root);
      if (left === undefined || right === undefined) return false;
      switch (filter.operator) {
        case "==":
          return safeEquals(left, right);
        case "!=":
          return !safeEquals(left, right);
        default:
          return compareOrdered(filter.operator, left, right);
      }
    }
  }
}

function compareOrdered(operator: "<" | "<=" | ">" | ">=", left: Json, right: Json): boolean {
  const bothNumbers = typeof left === "number" && typeof right === "number";
  const bothStrings = typeof left === "string" && typeof right === "string";
  if (!bothNumbers && !bothStrings) return false;
  switch (operator) {
    case "<":
      return left < right;
    case "<=":
      return left <= right;
    case ">":
      return left > right;
    case ">=":
      return left >= right;
  }
}

/** Every node the path selects, in document order (an empty array when nothing matches). */
export function queryPath(path: JsonPath | string, data: Json): Json[] {
  const parsed = typeof path === "string" ? cachedPath(path) : path;
  let nodes: Json[] = [data];
  for (const segment of parsed.segments) {
    const next: Json[] = [];
    for (const node of nodes) {
      const targets = segment.descendant ? descendantsOf(node) : [node];
      for (const target of targets) applySelector(target, segment.selector, data, next);
    }
    nodes = next;
  }
  return nodes;
}

/**
 * Applies a path to `data`. A Reference Path yields the single value it names, or `undefined`
 * when there is none; any other path yields an array of every match (possibly empty), as the
 * spec asks for multi-valued results. The root (`$` or `$$`) is not checked: pass the right document.
 */
export function evaluatePath(path: JsonPath | string, data: Json): Json | undefined {
  const parsed = typeof path === "string" ? cachedPath(path) : path;
  const matches = queryPath(parsed, data);
  if (isReferencePath(parsed)) return matches[0];
  return matches;
}

function resultPathFailure(path: JsonPath, reason: string): StatesError {
  return new StatesError(
    ErrorNames.ResultPathMatchFailure,
    `cannot apply ResultPath ${JSON.stringify(path.source)}: ${reason}`,
  );
}

/**
 * Returns a copy of `target` with `value` placed at a Reference Path, creating missing objects
 * along the way (`$` replaces the whole document). Only the nodes on the path are copied; `target`
 * is left unchanged. Throws `StatesError` `States.ResultPathMatchFailure` when the path runs into a
 * value that is not an object (or, for an index, not an array with that index).
 */
export function setAtReferencePath(target: Json, path: JsonPath | string, value: Json): Json {
  const parsed = typeof path === "string" ? cachedPath(path) : path;
  if (parsed.root !== "$" || !isReferencePath(parsed)) {
    throw resultPathFailure(parsed, 'it must be a reference path starting with "$"');
  }
  if (parsed.segments.length === 0) return value;

  const copyContainer = (node: Json): Json[] | JsonObject =>
    Array.isArray(node) ? [...node] : copyObject(node as JsonObject);
  if (typeof target !== "object" || target === null) {
    throw resultPathFailure(parsed, `the input is ${describeValue(target)}, not an object`);
  }
  const root = copyContainer(target);
  let current: Json[] | JsonObject = root;
  let walked = "$";
  const at = (): string => (walked === "$" ? "the input" : walked);
  parsed.segments.forEach((segment, i) => {
    const last = i === parsed.segments.length - 1;
    const selector = segment.selector;
    if (selector.kind === "name") {
      if (!isJsonObject(current)) {
        throw resultPathFailure(parsed, `${at()} is ${describeValue(current)}, not an object`);
      }
      if (last) {
        setOwn(current, selector.name, value);
        return;
      }
      const child = getOwn(current, selector.name);
      let next: Json[] | JsonObject;
      if (child === undefined) next = {};
      else if (typeof child === "object" && child !== null) next = copyContainer(child);
      else
        throw resultPathFailure(
          parsed,
          `${walked}.${selector.name} is ${describeValue(child)}, not an object`,
        );
      setOwn(current, selector.name, next);
      current = next;
      walked += `.${selector.name}`;
    } else if (selector.kind === "index") {
      if (!Array.isArray(current)) {
        throw resultPathFailure(parsed, `${at()} is ${describeValue(current)}, not an array`);
      }
      const index = selector.index < 0 ? current.length + selector.index : selector.index;
      if (index < 0 || index >= current.length) {
        throw resultPathFailure(parsed, `${at()} has no index ${selector.index}`);
      }
      if (last) {
        current[index] = value;
        return;
      }
      const child = current[index] as Json;
      if (typeof child !== "object" || child === null) {
        throw resultPathFailure(
          parsed,
          `${walked}[${selector.index}] is ${describeValue(child)}, not an object`,
        );
      }
      const next = copyContainer(child);
      current[index] = next;
      current = next;
      walked += `[${selector.index}]`;
    }
  });
  return root;
}
