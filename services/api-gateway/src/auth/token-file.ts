/**
 * API tokens from a file (API_TOKENS_FILE) that may change while the gateway runs: adding an
 * entry lets its token in, removing one locks it out, without a restart. The file holds the
 * same JSON array as API_TOKENS; it is watched as a {@link WatchedFile}. A file that does not
 * parse, or holds a bad entry, leaves the previous tokens in force and is logged with the line of
 * each problem.
 */
import type { Logger } from "@jetflow/service-runtime";
import { WatchedFile } from "./watched-file";
import { toStaticToken } from "./config";
import type { StaticToken } from "./config";

/** The line (from 1) of `offset` in `text`. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

const SHAPE = 'must be a JSON array of {"name","role","sha256"} objects';

/**
 * The top-level entries of a JSON array, each with its text and offset, found without parsing
 * them: so that a problem in one entry can be reported with the line it starts on.
 */
function splitArray(text: string): { entries: { text: string; offset: number }[] } | { problem: string } {
  let i = text.search(/\S/);
  if (i < 0 || text[i] !== "[") return { problem: `line ${lineAt(text, Math.max(i, 0))}: ${SHAPE}` };
  const entries: { text: string; offset: number }[] = [];
  let depth = 1;
  let inString = false;
  let escaped = false;
  let start = -1;
  let afterComma = false;
  for (i++; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === " " || c === "\n" || c === "\r" || c === "\t") continue;
    if (depth === 1 && c === ",") {
      if (start < 0) return { problem: `line ${lineAt(text, i)}: a comma without an entry before it` };
      entries.push({ text: text.slice(start, i), offset: start });
      start = -1;
      afterComma = true;
      continue;
    }
    if (depth === 1 && c === "]") {
      if (start >= 0) entries.push({ text: text.slice(start, i), offset: start });
      else if (afterComma) return { problem: `line ${lineAt(text, i)}: a comma without an entry after it` };
      const rest = text.slice(i + 1).search(/\S/);
      if (rest >= 0) return { problem: `line ${lineAt(text, i + 1 + rest)}: text after the closing "]"` };
      return { entries };
    }
    if (depth === 1 && start < 0) {
      start = i;
      afterComma = false;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
  }
  return { problem: `line ${lineAt(text, text.length)}: the array is not closed with "]"` };
}

/**
 * Parses the text of a token file: the tokens when every entry is good, else one problem per
 * thing wrong, each naming its line (`line 4: [1].role must be one of ...`).
 */
export function parseTokenFile(text: string): { tokens: StaticToken[]; problems: string[] } {
  const split = splitArray(text);
  if ("problem" in split) return { tokens: [], problems: [split.problem] };
  const tokens: StaticToken[] = [];
  const problems: string[] = [];
  split.entries.forEach((entry, i) => {
    const line = lineAt(text, entry.offset);
    let parsed: unknown;
    try {
      parsed = JSON.parse(entry.text);
    } catch (err) {
      problems.push(`line ${line}: [${i}] is not valid JSON: ${(err as Error).message}`);
      return;
    }
    const token = toStaticToken(parsed, `[${i}]`, (what) => problems.push(`line ${line}: ${what}`));
    if (token) tokens.push(token);
  });
  return { tokens: problems.length === 0 ? tokens : [], problems };
}

export interface TokenFileOptions {
  /** API_TOKENS_FILE. */
  file: string;
  /** API_TOKENS_RELOAD_MS: how often the file is re-read besides on change events. */
  reloadIntervalMs: number;
  log: Pick<Logger, "info" | "error" | "warn">;
}

/**
 * The tokens of API_TOKENS_FILE, kept current (see {@link WatchedFile}); reading it at start
 * throws ConfigError naming the file and each problem with its line.
 */
export class TokenFile extends WatchedFile<ReadonlyMap<string, StaticToken>> {
  constructor(options: TokenFileOptions) {
    super({
      ...options,
      variable: "API_TOKENS_FILE",
      parse: (text) => {
        const { tokens, problems } = parseTokenFile(text);
        return { value: new Map(tokens.map((t) => [t.sha256, t])), problems };
      },
      reloadedMessage: "api tokens reloaded",
      refusedMessage: "api token file not reloaded; the previous tokens stay in force",
      describe: (byHash) => ({ tokens: byHash.size }),
    });
  }

  /** The tokens in force, by sha256. */
  get byHash(): ReadonlyMap<string, StaticToken> {
    return this.value;
  }
}
