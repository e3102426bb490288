import type { Document, Node } from "yaml";
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, visit } from "yaml";
import type { Json, JsonObject } from "./json";
import { exceededBound, hasOwn, setOwn } from "./json";
import type { LoadOptions, Limits } from "./limits";
import { resolveLimits } from "./limits";
import type { AslProblem, PathSegments } from "./problems";
import { formatPath } from "./problems";
import { scanJson } from "./json-scan";

/** A 1-based line and column in the definition text. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** Where each path of a parsed definition sits in its text: object members at their key, items at their start. */
export type SourceMap = ReadonlyMap<string, SourcePosition>;

/** The result of `parseDefinition`. */
export type ParseResult =
  { ok: true; value: unknown; locations: SourceMap } | { ok: false; problems: AslProblem[] };

class TooLarge extends Error {}

function positionAt(text: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function jsonSyntaxProblem(text: string, error: unknown): AslProblem {
  // V8 names the offset ("... at position 12"); the wording itself varies between Node versions,
  // so the message is rebuilt from the offending character.
  const match = /at position (\d+)/.exec(error instanceof Error ? error.message : "");
  const offset = match === null ? text.length : Number(match[1]);
  const ch = text[offset];
  const message =
    ch === undefined
      ? "invalid JSON: unexpected end of input"
      : `invalid JSON: unexpected character ${JSON.stringify(ch)}`;
  return { path: "", message, ...positionAt(text, offset) };
}

type OpenerKind = "seq" | "map" | "quote";

/** What an error message of the YAML parser says was left open, if anything. */
function unclosedKind(message: string): OpenerKind | undefined {
  if (/^flow sequence\b.*end with a \]/i.test(message)) return "seq";
  if (/^flow map\b.*end with a \}/i.test(message)) return "map";
  if (/^missing closing .quote/i.test(message)) return "quote";
  return undefined;
}

/** Flow collections and quoted scalars with where they open and end, to place unclosed-bracket errors. */
function unclosedOpeners(
  doc: Document,
): Array<{ kind: OpenerKind; char: string; start: number; end: number }> {
  const found: Array<{ kind: OpenerKind; char: string; start: number; end: number }> = [];
  visit(doc, {
    Node(_key, node) {
      const range = node.range;
      if (range === null || range === undefined) return;
      const [start, end] = range;
      if ((isMap(node) || isSeq(node)) && node.flow === true) {
        found.push({ kind: isSeq(node) ? "seq" : "map", char: isSeq(node) ? "[" : "{", start, end });
      } else if (isScalar(node) && (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE")) {
        found.push({ kind: "quote", char: node.type === "QUOTE_DOUBLE" ? '"' : "'", start, end });
      }
    },
  });
  return found;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

interface BuildState {
  doc: Document;
  limits: Limits;
  lines: LineCounter;
  locations: Map<string, SourcePosition>;
  problems: AslProblem[];
  nodes: number;
  /** Collections being built, outermost first: an alias to one of them would expand forever. */
  open: Set<Node>;
}

function record(state: BuildState, path: PathSegments, offset: number | undefined): void {
  if (offset === undefined) return;
  const key = formatPath(path);
  if (state.locations.has(key)) return;
  const pos = state.lines.linePos(offset);
  state.locations.set(key, { line: pos.line, column: pos.col });
}

function problemAt(
  state: BuildState,
  path: PathSegments,
  node: Node | null | undefined,
  message: string,
): void {
  const offset = node?.range?.[0];
  const pos = offset === undefined ? undefined : state.lines.linePos(offset);
  state.problems.push({
    path: formatPath(path),
    message,
    ...(pos ? { line: pos.line, column: pos.col } : {}),
  });
}

/** Converts a YAML node into plain JSON, recording positions and refusing what JSON cannot hold. */
function build(state: BuildState, node: Node | null | undefined, path: PathSegments, depth: number): Json {
  if (++state.nodes > state.limits.maxNodes) {
    problemAt(state, path, node, `the definition holds more than ${state.limits.maxNodes} values`);
    throw new TooLarge();
  }
  if (depth > state.limits.maxJsonDepth) {
    problemAt(state, path, node, `the definition nests deeper than ${state.limits.maxJsonDepth} levels`);
    throw new TooLarge();
  }
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    const target = node.resolve(state.doc);
    if (target === undefined) {
      problemAt(state, path, node, `unknown YAML alias "*${node.source}"`);
      return null;
    }
    if (state.open.has(target)) {
      problemAt(state, path, node, `YAML alias "*${node.source}" refers to itself`);
      return null;
    }
    return build(state, target, path, depth);
  }
  if (isScalar(node)) {
    const value = node.value;
    if (value === null || typeof value === "string" || typeof value === "boolean") return value;
    if (typeof value === "number" && Number.isFinite(value)) return value;
    problemAt(
      state,
      path,
      node,
      `${JSON.stringify(node.source ?? String(value))} is not a JSON value (only strings, finite numbers, booleans and null are)`,
    );
    return null;
  }
  if (isSeq(node)) {
    state.open.add(node);
    const items = node.items.map((item, i) => {
      const itemPath = [...path, i];
      record(state, itemPath, (item as Node | null)?.range?.[0]);
      return build(state, item as Node | null, itemPath, depth + 1);
    });
    state.open.delete(node);
    return items;
  }
  if (isMap(node)) {
    state.open.add(node);
    const out: JsonObject = {};
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      let key: string;
      if (
        isScalar(keyNode) &&
        (keyNode.value === null || ["string", "number", "boolean"].includes(typeof keyNode.value))
      ) {
        key = typeof keyNode.value === "string" ? keyNode.value : String(keyNode.source ?? keyNode.value);
      } else {
        problemAt(state, path, keyNode ?? node, "object keys must be strings");
        continue;
      }
      const memberPath = [...path, key];
      if (hasOwn(out, key)) {
        problemAt(state, memberPath, keyNode, `duplicate key ${JSON.stringify(key)}`);
        continue;
      }
      record(state, memberPath, keyNode?.range?.[0]);
      setOwn(out, key, build(state, pair.value as Node | null, memberPath, depth + 1));
    }
    state.open.delete(node);
    return out;
  }
  problemAt(state, path, node, "unsupported YAML node");
  return null;
}

/**
 * How many values `node` expands to, aliases included, counting each distinct node once
 * (memoised): an alias bomb (aliases of aliases of lists) is measured in time proportional to
 * its text, before `build` would spend seconds expanding it. Self-referring aliases and what lies
 * deeper than `depthLeft` count 1 here; `build` reports them.
 */
function expandedSize(
  doc: BuildState["doc"],
  node: Node | null | undefined,
  sizes: Map<Node, number>,
  depthLeft: number,
): number {
  if (node === null || node === undefined || depthLeft <= 0) return 1;
  const known = sizes.get(node);
  if (known !== undefined) return known;
  sizes.set(node, 1); // a cycle through this node counts once
  let size = 1;
  if (isAlias(node)) {
    const target = node.resolve(doc);
    size = target === undefined ? 1 : expandedSize(doc, target, sizes, depthLeft);
  } else if (isSeq(node)) {
    for (const item of node.items) size += expandedSize(doc, item as Node | null, sizes, depthLeft - 1);
  } else if (isMap(node)) {
    for (const pair of node.items) size += expandedSize(doc, pair.value as Node | null, sizes, depthLeft - 1);
  }
  sizes.set(node, size);
  return size;
}

/**
 * Parses a definition written in JSON or YAML into plain JSON data, with the position of every
 * field. JSON syntax errors, YAML errors, duplicate keys, non-JSON values (`.nan`, binary...) and
 * limit breaches (`maxDefinitionBytes`, `maxJsonDepth`, `maxNodes`) come back as problems with
 * line and column. Objects are built with own properties only, so keys like `__proto__` are inert.
 */
export function parseDefinition(text: string, options?: LoadOptions): ParseResult {
  const limits = resolveLimits(options);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > limits.maxDefinitionBytes) {
    return {
      ok: false,
      problems: [
        { path: "", message: `the definition is ${bytes} bytes; the limit is ${limits.maxDefinitionBytes}` },
      ],
    };
  }
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const trimmed = source.trimStart();
  if (trimmed === "") return { ok: false, problems: [{ path: "", message: "the definition is empty" }] };
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(source);
    } catch (error) {
      if (!(error instanceof RangeError)) return { ok: false, problems: [jsonSyntaxProblem(source, error)] };
    }
    if (parsed !== undefined) {
      // Bounded before the scan, which recurses once per level.
      const bound = exceededBound(parsed, limits.maxJsonDepth, limits.maxNodes);
      if (bound !== undefined) return { ok: false, problems: [{ path: "", message: bound }] };
      const scanned = scanJson(source);
      if (scanned.problems.length > 0) return { ok: false, problems: scanned.problems };
      return { ok: true, value: scanned.value, locations: scanned.locations };
    }
  }

  const lines = new LineCounter();
  let doc;
  try {
    doc = parseDocument(source, {
      lineCounter: lines,
      prettyErrors: false,
      uniqueKeys: false,
      version: "1.2",
      schema: "core",
    });
  } catch (error) {
    if (error instanceof RangeError) {
      return { ok: false, problems: [{ path: "", message: "the definition nests too deeply to parse" }] };
    }
    throw error;
  }
  const issues = [...doc.errors, ...doc.warnings];
  if (issues.length > 0) {
    const openers = unclosedOpeners(doc);
    return {
      ok: false,
      problems: issues.map((issue) => {
        let message = /call stack/i.test(issue.message)
          ? "the definition nests too deeply to parse"
          : lowerFirst(issue.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, ""));
        // The parser notices an unclosed bracket or quote where the text moves on, often lines
        // later; the place to fix is where it was opened.
        const opener = openers.find((o) => o.end === issue.pos[0] && o.kind === unclosedKind(issue.message));
        if (opener !== undefined) {
          const what = opener.kind === "quote" ? "the string that starts here" : JSON.stringify(opener.char);
          message = `${what} is not closed: ${message}`;
        }
        const pos = lines.linePos(opener?.start ?? issue.pos[0]);
        return { path: "", message, line: pos.line, column: pos.col };
      }),
    };
  }
  if (expandedSize(doc, doc.contents as Node | null, new Map(), limits.maxJsonDepth + 1) > limits.maxNodes) {
    return {
      ok: false,
      problems: [
        {
          path: "",
          message: `the definition holds more than ${limits.maxNodes} values once its YAML aliases are expanded`,
        },
      ],
    };
  }
  const state: BuildState = {
    doc,
    limits,
    lines,
    locations: new Map(),
    problems: [],
    nodes: 0,
    open: new Set(),
  };
  let value: Json;
  try {
    value = build(state, doc.contents as Node | null, [], 1);
  } catch (error) {
    if (!(error instanceof TooLarge)) throw error;
    return { ok: false, problems: state.problems };
  }
  if (state.problems.length > 0) return { ok: false, problems: state.problems };
  if (doc.contents === null)
    return { ok: false, problems: [{ path: "", message: "the definition is empty" }] };
  return { ok: true, value, locations: state.locations };
}
