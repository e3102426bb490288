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
const ESCAPE = /^(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/;
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
  // A string from its opening quote at `pos`: no raw control characters, only JSON's escapes.
  const string = (): void => {
    for (let i = pos + 1; i < text.length; i++) {
      const char = text[i] as string;
      if (char === '"') {
        pos = i + 1;
        return;
      }
      if (char.charCodeAt(0) < 0x20) throw new Stop(i, "a valid string");
      if (char === "\\") {
        if (!ESCAPE.test(text.slice(i + 1, i + 6))) throw new Stop(i, "a valid string");
        i += text[i + 1] === "u" ? 5 : 1;
      }
    }
    throw new Stop(text.length, "a valid string");
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
        if (text[pos] !== '"') throw new Stop(pos, "a property name in double quotes");
        string();
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
    if (ch === '"') return string();
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
