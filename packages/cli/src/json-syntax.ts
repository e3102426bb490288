/**
 * Where a JSON text stops being JSON. `JSON.parse` does not always say (V8's "Unexpected token
 * 'x', ... is not valid JSON" names no offset, and the wording changes between Node versions), so
 * this small scanner finds the first offending character itself, for a "line 3, column 7" message.
 */

/** The first syntax error of a JSON text: what is wrong and where (1-based line and column). */
export interface JsonSyntaxError {
  message: string;
  line: number;
  column: number;
}

class Stop extends Error {
  constructor(
    readonly offset: number,
    readonly expected: string,
  ) {
    super(expected);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const WORDS = ["true", "false", "null"];

/**
 * Scans `text` and returns its first syntax error, or undefined when it is valid JSON (or nests
 * too deeply to scan, in which case `JSON.parse`'s own message has to do).
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let pos = 0;
  const skip = () => {
    while (pos < text.length && " \t\n\r".includes(text[pos] as string)) pos++;
  };
  const expect = (char: string, what: string) => {
    skip();
    if (text[pos] !== char) throw new Stop(pos, what);
    pos++;
  };
  const match = (pattern: RegExp): boolean => {
    pattern.lastIndex = pos;
    if (!pattern.test(text)) return false;
    pos = pattern.lastIndex;
    return true;
  };
  const value = (): void => {
    skip();
    const ch = text[pos];
    if (ch === "{") {
      pos++;
      skip();
      if (text[pos] === "}") {
        pos++;
        return;
      }
      for (;;) {
        skip();
        if (!match(STRING)) throw new Stop(pos, "a property name in double quotes");
        expect(":", `":" after the property name`);
        value();
        skip();
        if (text[pos] === ",") pos++;
        else return expect("}", `"," or "}"`);
      }
    }
    if (ch === "[") {
      pos++;
      skip();
      if (text[pos] === "]") {
        pos++;
        return;
      }
      for (;;) {
        value();
        skip();
        if (text[pos] === ",") pos++;
        else return expect("]", `"," or "]"`);
      }
    }
    if (ch === '"') {
      if (!match(STRING)) throw new Stop(stringErrorOffset(text, pos), "a valid string");
      return;
    }
    if (match(NUMBER)) return;
    for (const word of WORDS) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return;
      }
    }
    throw new Stop(pos, "a value");
  };
  try {
    value();
    skip();
    if (pos < text.length) throw new Stop(pos, "the end of the text");
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) return undefined; // RangeError: too deep to scan here
    const found = text[err.offset];
    const what = found === undefined ? "the text ends" : `found ${JSON.stringify(found)}`;
    return { message: `expected ${err.expected}, ${what}`, ...positionOf(text, err.offset) };
  }
}

/** The offset of what breaks the string opened at `start` (a control character, a bad escape, the end). */
function stringErrorOffset(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20) return i;
    if (text[i] === "\\") {
      if (!/^(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/.test(text.slice(i + 1, i + 6))) return i;
      i++;
    }
  }
  return text.length;
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
