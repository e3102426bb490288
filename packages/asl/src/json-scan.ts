import type { Json, JsonObject } from "./json";
import { hasOwn, setOwn } from "./json";
import type { AslProblem, PathSegments } from "./problems";
import { formatPath } from "./problems";

/** What scanning a JSON text yields: the value, where each path starts, and duplicate keys. */
export interface JsonScan {
  value: Json;
  locations: Map<string, { line: number; column: number }>;
  problems: AslProblem[];
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Reads a JSON text that `JSON.parse` has already accepted, recording the position of every
 * member key and array item and reporting duplicate keys (which `JSON.parse` silently merges).
 * Much faster than the YAML parser on large definitions. Objects get own properties only. The
 * caller must have bounded the nesting depth, as this recurses once per level.
 * @internal
 */
export function scanJson(text: string): JsonScan {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const positionOf = (offset: number): { line: number; column: number } => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (lineStarts[low] as number) + 1 };
  };
  const locations = new Map<string, { line: number; column: number }>();
  const problems: AslProblem[] = [];
  let pos = 0;

  const skip = (): void => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) pos++;
      else return;
    }
  };
  const readString = (): string => {
    const start = pos;
    pos++;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 92) pos += 2;
      else if (c === 34) break;
      else pos++;
    }
    pos++;
    return JSON.parse(text.slice(start, pos)) as string;
  };
  const readValue = (path: PathSegments): Json => {
    skip();
    const ch = text[pos];
    if (ch === "{") {
      pos++;
      const out: JsonObject = {};
      skip();
      if (text[pos] === "}") {
        pos++;
        return out;
      }
      for (;;) {
        skip();
        const keyAt = pos;
        const key = readString();
        const memberPath = [...path, key];
        skip();
        pos++; // the ":"
        const duplicate = hasOwn(out, key);
        const value = readValue(memberPath);
        if (duplicate) {
          problems.push({
            path: formatPath(memberPath),
            message: `duplicate key ${JSON.stringify(key)}`,
            ...positionOf(keyAt),
          });
        } else {
          const formatted = formatPath(memberPath);
          if (!locations.has(formatted)) locations.set(formatted, positionOf(keyAt));
          setOwn(out, key, value);
        }
        skip();
        if (text[pos++] === "}") return out;
      }
    }
    if (ch === "[") {
      pos++;
      const out: Json[] = [];
      skip();
      if (text[pos] === "]") {
        pos++;
        return out;
      }
      for (;;) {
        skip();
        const itemPath = [...path, out.length];
        const formatted = formatPath(itemPath);
        if (!locations.has(formatted)) locations.set(formatted, positionOf(pos));
        out.push(readValue(itemPath));
        skip();
        if (text[pos++] === "]") return out;
      }
    }
    if (ch === '"') return readString();
    if (text.startsWith("true", pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith("false", pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith("null", pos)) {
      pos += 4;
      return null;
    }
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    if (match === null) throw new SyntaxError(`unexpected character at offset ${pos}`);
    pos += match[0].length;
    return Number(match[0]);
  };

  const value = readValue([]);
  return { value, locations, problems };
}
