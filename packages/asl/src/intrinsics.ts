import { createHash } from "node:crypto";
import type { EvaluationEnv } from "./context";
import { pathSource, pathSourceName } from "./context";
import { ErrorNames, StatesError } from "./errors";
import type { Json, JsonObject } from "./json";
import {
  MAX_JSON_DEPTH,
  canonicalJson,
  describeValue,
  getOwn,
  isJsonObject,
  jsonDepthExceeds,
  jsonEquals,
  jsonTypeName,
  setOwn,
} from "./json";
import type { IntrinsicArgument, IntrinsicCall } from "./intrinsic-parse";
import { cachedIntrinsic, splitTemplate } from "./intrinsic-parse";
import { evaluatePath } from "./jsonpath-eval";
import { RUNTIME_LIMITS } from "./limits";

/** What an intrinsic needs from its surroundings: the payload template's input and the env. */
interface Scope {
  input: Json;
  env: Pick<EvaluationEnv, "random" | "uuid"> & { context?: EvaluationEnv["context"] };
}

function failure(name: string, reason: string): StatesError {
  return new StatesError(ErrorNames.IntrinsicFailure, `${name}: ${reason}`);
}

function resolveArgument(arg: IntrinsicArgument, scope: Scope, fn: string): Json {
  switch (arg.kind) {
    case "literal":
    case "string":
      return arg.value;
    case "path": {
      const data = pathSource(arg.path, scope.input, scope.env);
      const value = data === undefined ? undefined : evaluatePath(arg.path, data);
      if (value === undefined) {
        throw failure(
          fn,
          `path ${JSON.stringify(arg.path.source)} matches nothing in ${pathSourceName(arg.path)}`,
        );
      }
      return value;
    }
    case "call":
      return invoke(arg.call, scope);
  }
}

function expectString(fn: string, position: string, value: Json, maxLength: number): string {
  if (typeof value !== "string")
    throw failure(fn, `the ${position} argument must be a string, got ${describeValue(value)}`);
  if (value.length > maxLength) {
    throw failure(
      fn,
      `the ${position} argument is ${value.length} characters long; the limit is ${maxLength}`,
    );
  }
  return value;
}

function expectArray(fn: string, position: string, value: Json): Json[] {
  if (!Array.isArray(value))
    throw failure(fn, `the ${position} argument must be an array, got ${describeValue(value)}`);
  return value;
}

function expectInteger(fn: string, position: string, value: Json): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw failure(fn, `the ${position} argument must be an integer, got ${describeValue(value)}`);
  }
  return value;
}

function expectObject(fn: string, position: string, value: Json): JsonObject {
  if (!isJsonObject(value))
    throw failure(fn, `the ${position} argument must be an object, got ${describeValue(value)}`);
  return value;
}

/**
 * `States.JsonMerge`: the keys of `left`, then those of `right`, the right value winning. In a deep
 * merge, when both values of a key are objects they are merged the same way, recursively; any
 * other pair (arrays included) is replaced, not combined. Keys are defined as own properties, so a
 * `__proto__` key stays a plain key and never reaches a prototype. `depth` is the level of the
 * objects being merged (1 at the top); a deep merge fails rather than descend past MAX_JSON_DEPTH.
 */
function mergeObjects(
  fn: string,
  left: JsonObject,
  right: JsonObject,
  deep: boolean,
  depth: number,
): JsonObject {
  const merged: JsonObject = {};
  for (const key of Object.keys(left)) setOwn(merged, key, left[key] as Json);
  for (const key of Object.keys(right)) {
    const before = getOwn(merged, key);
    const after = right[key] as Json;
    if (deep && isJsonObject(before) && isJsonObject(after)) {
      if (depth >= MAX_JSON_DEPTH)
        throw failure(fn, `the objects to merge nest deeper than ${MAX_JSON_DEPTH} levels`);
      setOwn(merged, key, mergeObjects(fn, before, after, deep, depth + 1));
    } else {
      setOwn(merged, key, after);
    }
  }
  return merged;
}

function checkStringResult(fn: string, value: string): string {
  if (value.length > RUNTIME_LIMITS.maxStringLength) {
    throw failure(
      fn,
      `the result would be ${value.length} characters long; the limit is ${RUNTIME_LIMITS.maxStringLength}`,
    );
  }
  return value;
}

/** Step Functions' hash algorithm names and node's. @internal */
export const HASH_ALGORITHMS: Readonly<Record<string, string>> = Object.freeze({
  MD5: "md5",
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
});

/**
 * A small seeded generator (mulberry32), so `States.MathRandom` (and JSONata's `$random`) with a
 * seed repeats itself. @internal
 */
export function seededRandom(seed: number): number {
  let t = (seed + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function formatValue(fn: string, value: Json): string {
  if (value === null) return "null";
  if (typeof value === "object")
    throw failure(fn, `values must be strings, numbers, booleans or null, got ${jsonTypeName(value)}`);
  return String(value);
}

const ORDINALS = ["first", "second", "third"];
const ordinal = (i: number): string => ORDINALS[i] ?? `${i + 1}th`;

function invoke(call: IntrinsicCall, scope: Scope): Json {
  const fn = call.name;
  if (fn === "States.Format") {
    // The template keeps its escapes so that `\{\}` stays literal while `{}` is a placeholder.
    const first = call.args[0] as IntrinsicArgument;
    let parts: string[];
    if (first.kind === "string") {
      parts = splitTemplate(first.raw, true);
    } else {
      const template = expectString(
        fn,
        "first",
        resolveArgument(first, scope, fn),
        RUNTIME_LIMITS.maxStringLength,
      );
      parts = splitTemplate(template, false);
    }
    const values = call.args.slice(1).map((arg) => formatValue(fn, resolveArgument(arg, scope, fn)));
    if (values.length !== parts.length - 1) {
      throw failure(
        fn,
        `the template has ${parts.length - 1} "{}" placeholders but ${values.length} values follow`,
      );
    }
    const length =
      parts.reduce((sum, part) => sum + part.length, 0) + values.reduce((sum, v) => sum + v.length, 0);
    if (length > RUNTIME_LIMITS.maxStringLength) {
      throw failure(
        fn,
        `the result would be ${length} characters long; the limit is ${RUNTIME_LIMITS.maxStringLength}`,
      );
    }
    let out = parts[0] as string;
    values.forEach((value, i) => {
      out += value + (parts[i + 1] as string);
    });
    return checkStringResult(fn, out);
  }

  const args = call.args.map((arg) => resolveArgument(arg, scope, fn));
  const arg = (i: number): Json => args[i] as Json;
  switch (fn) {
    case "States.StringToJson": {
      const text = expectString(fn, "first", arg(0), RUNTIME_LIMITS.maxStringLength);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw failure(fn, `the argument is not valid JSON: ${describeValue(text)}`);
      }
      if (jsonDepthExceeds(parsed, MAX_JSON_DEPTH))
        throw failure(fn, `the JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
      return parsed as Json;
    }
    case "States.JsonToString": {
      if (jsonDepthExceeds(arg(0), MAX_JSON_DEPTH))
        throw failure(fn, `the value nests deeper than ${MAX_JSON_DEPTH} levels`);
      return checkStringResult(fn, JSON.stringify(arg(0)));
    }
    case "States.Array":
      return args;
    case "States.ArrayPartition": {
      const array = expectArray(fn, "first", arg(0));
      const size = expectInteger(fn, "second", arg(1));
      if (size <= 0) throw failure(fn, `the chunk size must be a positive integer, got ${size}`);
      const chunks: Json[] = [];
      for (let i = 0; i < array.length; i += size) chunks.push(array.slice(i, i + size));
      return chunks;
    }
    case "States.ArrayContains": {
      const array = expectArray(fn, "first", arg(0));
      return array.some((item) => jsonEquals(item, arg(1)));
    }
    case "States.ArrayRange": {
      const [start, end, step] = [0, 1, 2].map((i) => expectInteger(fn, ordinal(i), arg(i))) as [
        number,
        number,
        number,
      ];
      if (step === 0) throw failure(fn, "the step must not be 0");
      const count = Math.floor((end - start) / step) + 1;
      if (count > RUNTIME_LIMITS.maxArrayRangeLength) {
        throw failure(
          fn,
          `the range would have ${count} elements; the limit is ${RUNTIME_LIMITS.maxArrayRangeLength}`,
        );
      }
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push(start + i * step);
      return out;
    }
    case "States.ArrayGetItem": {
      const array = expectArray(fn, "first", arg(0));
      const index = expectInteger(fn, "second", arg(1));
      if (index < 0 || index >= array.length) {
        throw failure(fn, `index ${index} is out of bounds for an array of length ${array.length}`);
      }
      return array[index] as Json;
    }
    case "States.ArrayLength":
      return expectArray(fn, "first", arg(0)).length;
    case "States.ArrayUnique": {
      const seen = new Set<string>();
      const out: Json[] = [];
      for (const item of expectArray(fn, "first", arg(0))) {
        const key = canonicalJson(item);
        if (!seen.has(key)) {
          seen.add(key);
          out.push(item);
        }
      }
      return out;
    }
    case "States.Base64Encode": {
      const text = expectString(fn, "first", arg(0), RUNTIME_LIMITS.maxEncodeInputLength);
      return Buffer.from(text, "utf8").toString("base64");
    }
    case "States.Base64Decode": {
      const text = expectString(fn, "first", arg(0), RUNTIME_LIMITS.maxEncodeInputLength);
      if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
        throw failure(fn, `the argument is not valid base64: ${describeValue(text)}`);
      }
      return Buffer.from(text, "base64").toString("utf8");
    }
    case "States.Hash": {
      const data = expectString(fn, "first", arg(0), RUNTIME_LIMITS.maxEncodeInputLength);
      const algorithm = arg(1);
      const nodeName =
        typeof algorithm === "string" && Object.prototype.hasOwnProperty.call(HASH_ALGORITHMS, algorithm)
          ? HASH_ALGORITHMS[algorithm]
          : undefined;
      if (nodeName === undefined) {
        throw failure(
          fn,
          `unknown algorithm ${describeValue(algorithm)}; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512`,
        );
      }
      return createHash(nodeName).update(data, "utf8").digest("hex");
    }
    case "States.JsonMerge": {
      const left = expectObject(fn, "first", arg(0));
      const right = expectObject(fn, "second", arg(1));
      const deep = arg(2);
      if (typeof deep !== "boolean")
        throw failure(fn, `the third argument must be a boolean, got ${describeValue(deep)}`);
      return mergeObjects(fn, left, right, deep, 1);
    }
    case "States.MathRandom": {
      const start = expectInteger(fn, "first", arg(0));
      const end = expectInteger(fn, "second", arg(1));
      if (end <= start) throw failure(fn, `the end (${end}) must be greater than the start (${start})`);
      const r = args.length === 3 ? seededRandom(expectInteger(fn, "third", arg(2)) | 0) : scope.env.random();
      if (!(r >= 0 && r < 1))
        throw failure(fn, `the random source returned ${describeValue(r)}, not a number in [0, 1)`);
      return start + Math.floor(r * (end - start));
    }
    case "States.MathAdd": {
      const [a, b] = [0, 1].map((i) => expectInteger(fn, ordinal(i), arg(i))) as [number, number];
      for (const [i, value] of [a, b].entries()) {
        if (value < -2147483648 || value > 2147483647) {
          throw failure(fn, `the ${ordinal(i)} argument ${value} is outside the 32-bit integer range`);
        }
      }
      return a + b;
    }
    case "States.StringSplit": {
      const text = expectString(fn, "first", arg(0), RUNTIME_LIMITS.maxStringLength);
      const delimiters = new Set(expectString(fn, "second", arg(1), RUNTIME_LIMITS.maxStringLength));
      // Every character of the second argument is a delimiter, and empty pieces are dropped
      // (Step Functions: "This.is+a,test=string" split by ".+,=" gives five words).
      const out: string[] = [];
      let current = "";
      for (const ch of text) {
        if (delimiters.has(ch)) {
          if (current !== "") out.push(current);
          current = "";
        } else {
          current += ch;
        }
      }
      if (current !== "") out.push(current);
      return out;
    }
    case "States.UUID":
      return scope.env.uuid();
    default:
      throw failure(fn, "unknown intrinsic function");
  }
}

/**
 * Evaluates an intrinsic function call (text or parsed) against a payload template's input;
 * `$$.` arguments read `env.context`. Randomness and UUIDs come from `env`. Throws `StatesError`
 * `States.IntrinsicFailure` when an argument has the wrong type or a limit is exceeded, and
 * `ExpressionSyntaxError` when `expression` text does not parse.
 */
export function evaluateIntrinsic(
  expression: string | IntrinsicCall,
  input: Json,
  env: Pick<EvaluationEnv, "random" | "uuid"> & { context?: EvaluationEnv["context"] },
): Json {
  const call = typeof expression === "string" ? cachedIntrinsic(expression) : expression;
  try {
    return invoke(call, { input, env });
  } catch (error) {
    if (error instanceof RangeError) throw failure(call.name, error.message);
    throw error;
  }
}
