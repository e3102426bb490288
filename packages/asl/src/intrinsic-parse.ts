import { ExpressionSyntaxError } from "./errors";
import type { Json } from "./json";
import type { JsonPath } from "./jsonpath";
import { parseEmbeddedPath } from "./jsonpath";
import { RUNTIME_LIMITS } from "./limits";

/** One argument of an intrinsic function call. */
export type IntrinsicArgument =
  | { readonly kind: "literal"; readonly value: Json }
  /** A quoted string: `raw` keeps its backslash escapes, which `States.Format` needs to tell `\{` from `{`. */
  | { readonly kind: "string"; readonly value: string; readonly raw: string }
  | { readonly kind: "path"; readonly path: JsonPath }
  | { readonly kind: "call"; readonly call: IntrinsicCall };

/** A parsed intrinsic function call such as `States.Format('{}', $.name)`. */
export interface IntrinsicCall {
  readonly name: string;
  readonly args: readonly IntrinsicArgument[];
}

/** How many arguments each intrinsic takes: [least, most]. */
export const INTRINSIC_ARITY: Readonly<Record<string, readonly [number, number]>> = Object.freeze({
  "States.Format": [1, Infinity],
  "States.StringToJson": [1, 1],
  "States.JsonToString": [1, 1],
  "States.Array": [0, Infinity],
  "States.ArrayPartition": [2, 2],
  "States.ArrayContains": [2, 2],
  "States.ArrayRange": [3, 3],
  "States.ArrayGetItem": [2, 2],
  "States.ArrayLength": [1, 1],
  "States.ArrayUnique": [1, 1],
  "States.Base64Encode": [1, 1],
  "States.Base64Decode": [1, 1],
  "States.Hash": [2, 2],
  "States.JsonMerge": [3, 3],
  "States.MathRandom": [2, 3],
  "States.MathAdd": [2, 2],
  "States.StringSplit": [2, 2],
  "States.UUID": [0, 0],
});

const RESERVED_ESCAPES = new Set(["'", "{", "}", "\\"]);

/**
 * Splits a `States.Format` template into the literal text between `{}` placeholders, resolving
 * the escapes `\'`, `\{`, `\}` and `\\`. With `strict` (a literal in the definition), a lone `{`
 * or `}` and any other backslash are errors, as the spec reserves them; otherwise (a template read
 * from data) they stay literal text. Throws `Error` with a reason.
 * @internal
 */
export function splitTemplate(raw: string, strict: boolean): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    if (ch === "\\") {
      const next = raw[i + 1];
      if (next === undefined || !RESERVED_ESCAPES.has(next)) {
        if (!strict) {
          // Data (a template read from the input) keeps backslashes that escape nothing.
          current += ch;
          continue;
        }
        throw new Error(
          next === undefined
            ? "a backslash at the end must itself be escaped as \\\\"
            : `"\\${next}" is not an escape; only \\', \\{, \\} and \\\\ are`,
        );
      }
      current += next;
      i++;
    } else if (ch === "{" && raw[i + 1] === "}") {
      parts.push(current);
      current = "";
      i++;
    } else if ((ch === "{" || ch === "}") && strict) {
      throw new Error(`"${ch}" is reserved; write \\${ch} for a literal brace`);
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

class IntrinsicScanner {
  pos = 0;
  constructor(readonly text: string) {}

  fail(reason: string, at = this.pos): never {
    throw new ExpressionSyntaxError("intrinsic function", this.text, at, reason);
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  skipSpaces(): void {
    while (this.peek() === " " || this.peek() === "\t" || this.peek() === "\n" || this.peek() === "\r")
      this.pos++;
  }

  parseCall(depth: number): IntrinsicCall {
    const start = this.pos;
    if (depth > RUNTIME_LIMITS.maxIntrinsicNesting) {
      this.fail(`intrinsic functions nest deeper than ${RUNTIME_LIMITS.maxIntrinsicNesting} levels`);
    }
    const match = /^[A-Za-z0-9._]+/.exec(this.text.slice(this.pos));
    if (match === null) this.fail("expected an intrinsic function name such as States.Format");
    const name = match[0];
    this.pos += name.length;
    const arity = INTRINSIC_ARITY[name];
    if (arity === undefined || !Object.prototype.hasOwnProperty.call(INTRINSIC_ARITY, name)) {
      this.fail(`unknown intrinsic function "${name}"`, start);
    }
    if (this.peek() !== "(") this.fail(`expected "(" after "${name}"`);
    this.pos++;
    const args: IntrinsicArgument[] = [];
    this.skipSpaces();
    if (this.peek() === ")") {
      this.pos++;
    } else {
      for (;;) {
        this.skipSpaces();
        args.push(this.parseArgument(depth));
        this.skipSpaces();
        const ch = this.peek();
        if (ch === ",") {
          this.pos++;
          continue;
        }
        if (ch === ")") {
          this.pos++;
          break;
        }
        this.fail(
          ch === undefined ? `expected ")" to close "${name}("` : `expected "," or ")" after an argument`,
        );
      }
    }
    const [least, most] = arity;
    if (args.length < least || args.length > most) {
      const expected =
        least === most ? `${least}` : most === Infinity ? `at least ${least}` : `${least} to ${most}`;
      this.fail(
        `${name} takes ${expected} argument${(most === Infinity ? least : most) === 1 ? "" : "s"}, got ${args.length}`,
        start,
      );
    }
    if (name === "States.Format") this.checkFormat(args, start);
    return { name, args };
  }

  checkFormat(args: IntrinsicArgument[], start: number): void {
    const template = args[0];
    if (template?.kind !== "string") return;
    let parts: string[];
    try {
      parts = splitTemplate(template.raw, true);
    } catch (error) {
      return this.fail((error as Error).message, start);
    }
    const placeholders = parts.length - 1;
    if (placeholders !== args.length - 1) {
      this.fail(
        `States.Format template has ${placeholders} "{}" placeholder${placeholders === 1 ? "" : "s"} but ${args.length - 1} value${args.length - 1 === 1 ? "" : "s"} follow${args.length - 1 === 1 ? "s" : ""}`,
        start,
      );
    }
  }

  parseArgument(depth: number): IntrinsicArgument {
    const ch = this.peek();
    if (ch === "'") return this.parseString();
    if (ch === "$") {
      const { path, end } = parseEmbeddedPath(this.text, this.pos);
      this.pos = end;
      return { kind: "path", path };
    }
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (number !== null) {
      this.pos += number[0].length;
      const value = Number(number[0]);
      if (!Number.isFinite(value)) this.fail("number is out of range");
      return { kind: "literal", value };
    }
    const word = /^[A-Za-z0-9._]+/.exec(this.text.slice(this.pos));
    if (word !== null && this.text[this.pos + word[0].length] !== "(") {
      if (word[0] === "null") {
        this.pos += 4;
        return { kind: "literal", value: null };
      }
      if (word[0] === "true" || word[0] === "false") {
        this.pos += word[0].length;
        return { kind: "literal", value: word[0] === "true" };
      }
      this.fail(`unexpected ${JSON.stringify(word[0])}; strings need single quotes`);
    }
    if (word !== null) return { kind: "call", call: this.parseCall(depth + 1) };
    return this.fail(
      ch === undefined
        ? "expected an argument"
        : `unexpected ${JSON.stringify(ch)}; expected a string, number, null, path or function`,
    );
  }

  parseString(): IntrinsicArgument {
    const start = this.pos;
    this.pos++;
    let raw = "";
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) this.fail('unterminated string; expected "\'"', start);
      if (ch === "'") {
        this.pos++;
        break;
      }
      if (ch === "\\") {
        const next = this.text[this.pos + 1];
        if (next === undefined || !RESERVED_ESCAPES.has(next)) {
          this.fail(
            next === undefined
              ? "a backslash must be followed by ', {, } or \\"
              : `"\\${next}" is not an escape; only \\', \\{, \\} and \\\\ are`,
          );
        }
        raw += ch + next;
        this.pos += 2;
        continue;
      }
      raw += ch;
      this.pos++;
    }
    return { kind: "string", value: raw.replace(/\\(.)/g, "$1"), raw };
  }
}

/**
 * Parses an intrinsic function call such as `States.Format('Hello {}', $.name)`: checks names,
 * argument counts (and `States.Format` placeholders against values), string escapes and nesting
 * (at most 10 levels). Throws `ExpressionSyntaxError`.
 */
export function parseIntrinsic(text: string): IntrinsicCall {
  const scanner = new IntrinsicScanner(text);
  scanner.skipSpaces();
  const call = scanner.parseCall(1);
  scanner.skipSpaces();
  if (scanner.pos !== text.length) scanner.fail('unexpected text after the closing ")"');
  return call;
}

const cache = new Map<string, IntrinsicCall>();
const CACHE_LIMIT = 10_000;

/** Parses with a bounded memo, like `cachedPath`. @internal */
export function cachedIntrinsic(text: string): IntrinsicCall {
  let call = cache.get(text);
  if (call === undefined) {
    call = parseIntrinsic(text);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(text, call);
  }
  return call;
}
