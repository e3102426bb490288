import { ExpressionSyntaxError } from "./errors";
import type { Json } from "./json";

/** What one step of a path picks from the nodes it is applied to. */
export type Selector =
  | { readonly kind: "name"; readonly name: string }
  | { readonly kind: "index"; readonly index: number }
  | { readonly kind: "wildcard" }
  | { readonly kind: "union"; readonly members: readonly (string | number)[] }
  | { readonly kind: "slice"; readonly start?: number; readonly end?: number; readonly step: number }
  | { readonly kind: "filter"; readonly filter: FilterExpression };

/** One step of a path; `descendant` marks `..` (the selector applies to every node below, too). */
export interface PathSegment {
  readonly descendant: boolean;
  readonly selector: Selector;
}

/** A filter `[?(...)]` expression. */
export type FilterExpression =
  | { readonly kind: "or" | "and"; readonly left: FilterExpression; readonly right: FilterExpression }
  | { readonly kind: "not"; readonly operand: FilterExpression }
  | { readonly kind: "exists"; readonly path: JsonPath }
  | {
      readonly kind: "compare";
      readonly operator: ComparisonOperator;
      readonly left: FilterOperand;
      readonly right: FilterOperand;
    };

/** The comparison operators a filter understands. */
export type ComparisonOperator = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** A value in a filter comparison: a path relative to `@` or `$`, or a literal. */
export type FilterOperand =
  { readonly kind: "path"; readonly path: JsonPath } | { readonly kind: "literal"; readonly value: Json };

/**
 * A parsed JSONPath. `root` is `$` (the input), `$$` (the context object) or `@` (the current node,
 * inside filters only).
 */
export interface JsonPath {
  readonly source: string;
  readonly root: "$" | "$$" | "@";
  /** A workflow variable the path starts from (`$name...`), instead of the input. */
  readonly variable?: string;
  readonly segments: readonly PathSegment[];
}

/** Where a path ends when it is embedded in another expression. */
type Mode = "whole" | "argument" | "filter";

const MAX_FILTER_DEPTH = 16;

/** A variable name after "$": a Unicode identifier (ID_Start, then ID_Continue). */
const VARIABLE_NAME = /^\p{ID_Start}\p{ID_Continue}*/u;

/** Characters that end an unescaped name in dot notation, in every mode. */
const NAME_STOP = new Set([".", "[", "]", "(", ")", ",", ":", "?", "@", "'", '"', "*"]);
const FILTER_STOP = new Set(["=", "!", "<", ">", "&", "|"]);

function isSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\r";
}

class PathScanner {
  pos: number;
  constructor(
    readonly text: string,
    start: number,
    readonly mode: Mode,
    readonly depth: number,
  ) {
    this.pos = start;
  }

  fail(reason: string, at = this.pos): never {
    throw new ExpressionSyntaxError("path", this.text, at, reason);
  }

  peek(offset = 0): string | undefined {
    return this.text[this.pos + offset];
  }

  skipSpaces(): void {
    while (isSpace(this.peek())) this.pos++;
  }

  expect(ch: string): void {
    if (this.peek() !== ch) this.fail(this.peek() === undefined ? `expected "${ch}"` : `expected "${ch}"`);
    this.pos++;
  }

  parsePath(): JsonPath {
    const start = this.pos;
    let root: JsonPath["root"];
    let variable: string | undefined;
    if (this.text.startsWith("$$", this.pos)) {
      root = "$$";
      this.pos += 2;
    } else if (this.peek() === "$") {
      root = "$";
      this.pos += 1;
      if (this.mode !== "filter") variable = this.parseVariableName();
    } else if (this.peek() === "@" && this.mode === "filter") {
      root = "@";
      this.pos += 1;
    } else {
      this.fail('a path must begin with "$"');
    }
    const segments: PathSegment[] = [];
    for (;;) {
      const ch = this.peek();
      if (ch === undefined || this.atEnd(ch)) break;
      if (ch === ".") {
        if (this.peek(1) === ".") {
          this.pos += 2;
          segments.push({ descendant: true, selector: this.parseAfterDot(true) });
        } else {
          this.pos += 1;
          segments.push({ descendant: false, selector: this.parseAfterDot(false) });
        }
      } else if (ch === "[") {
        segments.push({ descendant: false, selector: this.parseBracket() });
      } else {
        this.fail(`unexpected character ${JSON.stringify(ch)}; expected "." or "["`);
      }
    }
    const source = this.text.slice(start, this.pos);
    return variable === undefined ? { source, root, segments } : { source, root, variable, segments };
  }

  /** A variable name right after "$" (`$name`), or undefined when the path reads the input. */
  parseVariableName(): string | undefined {
    const rest = this.text.slice(this.pos);
    const match = VARIABLE_NAME.exec(rest);
    if (!match) return undefined;
    this.pos += match[0].length;
    return match[0];
  }

  atEnd(ch: string): boolean {
    if (this.mode === "whole") return false;
    if (isSpace(ch) || ch === ")" || ch === ",") return true;
    return this.mode === "filter" && FILTER_STOP.has(ch);
  }

  parseAfterDot(descendant: boolean): Selector {
    const ch = this.peek();
    if (ch === "*") {
      this.pos++;
      return { kind: "wildcard" };
    }
    if (ch === "[") {
      // `$.abc.['def ghi']` and `$..['x']`: a bracket may follow the dot directly.
      return this.parseBracket();
    }
    const name = this.parseDotName();
    if (name === "") this.fail(descendant ? 'expected a name after ".."' : 'expected a name after "."');
    return { kind: "name", name };
  }

  parseDotName(): string {
    let name = "";
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) break;
      if (ch === "\\") {
        const next = this.peek(1);
        if (next === undefined) this.fail("a backslash must be followed by the character it escapes");
        name += next;
        this.pos += 2;
        continue;
      }
      if (NAME_STOP.has(ch) || isSpace(ch) || (this.mode === "filter" && FILTER_STOP.has(ch))) {
        if (this.atEnd(ch) || ch === "." || ch === "[") break;
        if (isSpace(ch)) this.fail(`unexpected space; write names with spaces as ['like this']`);
        this.fail(`unexpected ${JSON.stringify(ch)} in a name; escape it with a backslash or use ['...']`);
      }
      name += ch;
      this.pos++;
    }
    return name;
  }

  parseBracket(): Selector {
    const open = this.pos;
    this.expect("[");
    this.skipSpaces();
    const ch = this.peek();
    let selector: Selector;
    if (ch === "*") {
      this.pos++;
      selector = { kind: "wildcard" };
    } else if (ch === "?") {
      this.pos++;
      this.skipSpaces();
      this.expect("(");
      const filter = this.parseFilterOr(0);
      this.skipSpaces();
      this.expect(")");
      selector = { kind: "filter", filter };
    } else if (ch === "'" || ch === '"') {
      const members: string[] = [this.parseQuoted()];
      this.skipSpaces();
      while (this.peek() === ",") {
        this.pos++;
        this.skipSpaces();
        if (this.peek() !== "'" && this.peek() !== '"') this.fail('expected a quoted name after ","');
        members.push(this.parseQuoted());
        this.skipSpaces();
      }
      selector =
        members.length === 1 ? { kind: "name", name: members[0] as string } : { kind: "union", members };
    } else if (ch === "-" || ch === ":" || (ch !== undefined && ch >= "0" && ch <= "9")) {
      selector = this.parseIndexes();
    } else if (ch === undefined) {
      this.fail('expected "]"', open);
    } else {
      this.fail(`unexpected ${JSON.stringify(ch)} after "["`);
    }
    this.skipSpaces();
    if (this.peek() !== "]") this.fail('expected "]"');
    this.pos++;
    return selector;
  }

  parseQuoted(): string {
    const quote = this.peek() as string;
    const start = this.pos;
    this.pos++;
    let value = "";
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) this.fail(`unterminated string; expected ${quote}`, start);
      this.pos++;
      if (ch === quote) return value;
      if (ch === "\\") {
        const next = this.peek();
        if (next === undefined) this.fail(`unterminated string; expected ${quote}`, start);
        value += next;
        this.pos++;
      } else {
        value += ch;
      }
    }
  }

  parseInteger(): number | undefined {
    const start = this.pos;
    if (this.peek() === "-") this.pos++;
    while (this.peek() !== undefined && (this.peek() as string) >= "0" && (this.peek() as string) <= "9")
      this.pos++;
    const text = this.text.slice(start, this.pos);
    if (text === "") return undefined;
    if (text === "-") this.fail('expected digits after "-"', start);
    const value = Number(text);
    if (!Number.isSafeInteger(value)) this.fail("index is too large", start);
    return value;
  }

  parseIndexes(): Selector {
    const first = this.parseInteger();
    this.skipSpaces();
    if (this.peek() === ":") {
      this.pos++;
      this.skipSpaces();
      const end = this.parseInteger();
      this.skipSpaces();
      let step = 1;
      if (this.peek() === ":") {
        this.pos++;
        this.skipSpaces();
        const at = this.pos;
        const given = this.parseInteger();
        if (given === 0) this.fail("a slice step cannot be 0", at);
        if (given !== undefined) step = given;
      }
      return { kind: "slice", start: first, end, step };
    }
    if (first === undefined) this.fail("expected an index");
    const members: number[] = [first];
    while (this.peek() === ",") {
      this.pos++;
      this.skipSpaces();
      const next = this.parseInteger();
      if (next === undefined) this.fail('expected an index after ","');
      members.push(next);
      this.skipSpaces();
    }
    return members.length === 1 ? { kind: "index", index: first } : { kind: "union", members };
  }

  parseFilterOr(depth: number): FilterExpression {
    let left = this.parseFilterAnd(depth);
    for (;;) {
      this.skipSpaces();
      if (!this.text.startsWith("||", this.pos)) return left;
      this.pos += 2;
      left = { kind: "or", left, right: this.parseFilterAnd(depth) };
    }
  }

  parseFilterAnd(depth: number): FilterExpression {
    let left = this.parseFilterUnary(depth);
    for (;;) {
      this.skipSpaces();
      if (!this.text.startsWith("&&", this.pos)) return left;
      this.pos += 2;
      left = { kind: "and", left, right: this.parseFilterUnary(depth) };
    }
  }

  parseFilterUnary(depth: number): FilterExpression {
    if (depth > MAX_FILTER_DEPTH) this.fail(`filter nests deeper than ${MAX_FILTER_DEPTH} levels`);
    this.skipSpaces();
    if (this.peek() === "!" && this.peek(1) !== "=") {
      this.pos++;
      return { kind: "not", operand: this.parseFilterUnary(depth + 1) };
    }
    if (this.peek() === "(") {
      this.pos++;
      const inner = this.parseFilterOr(depth + 1);
      this.skipSpaces();
      this.expect(")");
      return inner;
    }
    const left = this.parseOperand();
    this.skipSpaces();
    const operator = this.parseOperator();
    if (operator === undefined) {
      if (left.kind !== "path") this.fail("expected a comparison operator after a literal");
      return { kind: "exists", path: left.path };
    }
    this.skipSpaces();
    return { kind: "compare", operator, left, right: this.parseOperand() };
  }

  parseOperator(): ComparisonOperator | undefined {
    for (const op of ["==", "!=", "<=", ">=", "<", ">"] as const) {
      if (this.text.startsWith(op, this.pos)) {
        this.pos += op.length;
        return op;
      }
    }
    return undefined;
  }

  parseOperand(): FilterOperand {
    const ch = this.peek();
    if (ch === "@" || ch === "$") {
      const inner = new PathScanner(this.text, this.pos, "filter", this.depth + 1);
      if (this.depth > MAX_FILTER_DEPTH) this.fail(`filter nests deeper than ${MAX_FILTER_DEPTH} levels`);
      const path = inner.parsePath();
      if (path.root === "$$") this.fail("filters cannot read the context object");
      this.pos = inner.pos;
      return { kind: "path", path };
    }
    if (ch === "'" || ch === '"') return { kind: "literal", value: this.parseQuoted() };
    for (const [word, value] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return { kind: "literal", value };
      }
    }
    const match = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (match !== null) {
      this.pos += match[0].length;
      return { kind: "literal", value: Number(match[0]) };
    }
    return this.fail("expected a path, a string, a number, true, false or null");
  }
}

/**
 * Parses a JSONPath such as `$.store.book[0].title`, `$['a b']`, `$..price`, `$.a[1:3]` or
 * `$.items[?(@.qty > 1)]`; `$$.` paths address the context object. Throws `ExpressionSyntaxError`.
 */
export function parsePath(text: string): JsonPath {
  const scanner = new PathScanner(text, 0, "whole", 0);
  const path = scanner.parsePath();
  if (scanner.pos !== text.length) scanner.fail("unexpected text after the path");
  return path;
}

/**
 * Parses a path that starts at `start` inside a larger expression (an intrinsic function's
 * arguments) and ends before the first top-level space, `,` or `)`. Returns the path and the end offset.
 * @internal
 */
export function parseEmbeddedPath(text: string, start: number): { path: JsonPath; end: number } {
  const scanner = new PathScanner(text, start, "argument", 0);
  const path = scanner.parsePath();
  return { path, end: scanner.pos };
}

/**
 * Reports whether a path is a Reference Path: it names exactly one node, using only names and
 * indexes (no `..`, `*`, unions, slices or filters).
 */
export function isReferencePath(path: JsonPath): boolean {
  return path.segments.every(
    (segment) =>
      !segment.descendant && (segment.selector.kind === "name" || segment.selector.kind === "index"),
  );
}

/** Parses `text` and checks that it is a Reference Path; throws `ExpressionSyntaxError` otherwise. */
export function parseReferencePath(text: string): JsonPath {
  const path = parsePath(text);
  if (!isReferencePath(path)) {
    throw new ExpressionSyntaxError(
      "path",
      text,
      0,
      'a reference path may only use names and indexes (no "..", "*", unions, slices or filters)',
    );
  }
  return path;
}

const cache = new Map<string, JsonPath>();
const CACHE_LIMIT = 10_000;

/** Parses with a bounded memo: definitions are immutable, so hot paths need not re-parse. @internal */
export function cachedPath(text: string): JsonPath {
  let path = cache.get(text);
  if (path === undefined) {
    path = parsePath(text);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(text, path);
  }
  return path;
}
