/**
 * The nesting depth of a JSON text, measured without parsing it: the engine walks payloads
 * recursively (canonical JSON, JSONPath, protobuf), so a payload nested thousands of levels
 * deep must be refused before anything recurses over it.
 */

/** Deepest nesting of objects and arrays a payload may have; the ASL loader's default too. */
export const MAX_PAYLOAD_DEPTH = 128;

/**
 * The deepest nesting of `[` and `{` in `json`, ignoring brackets inside strings. Stops counting
 * once past `limit` (the answer is then `limit + 1`). Malformed text gets a number too: parsing
 * reports what is wrong with it.
 */
export function jsonNestingDepth(json: string, limit = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const code = json.charCodeAt(i);
    if (inString) {
      if (code === 0x5c)
        i++; // a backslash escapes the next character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return deepest;
}
