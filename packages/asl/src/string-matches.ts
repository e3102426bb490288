/** One piece of a StringMatches pattern: literal text or a `*` wildcard. */
type Token = { literal: string } | "*";

/**
 * Compiles a StringMatches pattern: `*` matches any run of characters, `\*` is a literal star and
 * `\\` a literal backslash; nothing else is special. Throws `Error` with a reason on any other
 * escape or a trailing backslash.
 */
export function compileStringMatches(pattern: string): Token[] {
  const tokens: Token[] = [];
  let literal = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "\\") {
      const next = pattern[i + 1];
      if (next !== "*" && next !== "\\") {
        throw new Error(
          next === undefined
            ? "the pattern ends with an open backslash; write \\\\ for a literal backslash"
            : `"\\${next}" is not an escape; only \\* and \\\\ are`,
        );
      }
      literal += next;
      i++;
    } else if (ch === "*") {
      if (literal !== "") tokens.push({ literal });
      literal = "";
      if (tokens[tokens.length - 1] !== "*") tokens.push("*");
    } else {
      literal += ch;
    }
  }
  if (literal !== "") tokens.push({ literal });
  return tokens;
}

/**
 * Tests `text` against a StringMatches pattern. Greedy-free: each literal is found left to right,
 * so the cost stays linear-ish whatever the number of stars (no regex, no backtracking blow-up).
 */
export function stringMatches(text: string, pattern: string): boolean {
  const tokens = compileStringMatches(pattern);
  let pos = 0;
  let floating = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if (token === "*") {
      floating = true;
      continue;
    }
    const isLast = i === tokens.length - 1;
    if (!floating) {
      if (!text.startsWith(token.literal, pos)) return false;
      pos += token.literal.length;
    } else if (isLast) {
      // The final literal must sit at the very end, after everything matched so far.
      return text.length - token.literal.length >= pos && text.endsWith(token.literal);
    } else {
      const found = text.indexOf(token.literal, pos);
      if (found < 0) return false;
      pos = found + token.literal.length;
    }
    floating = false;
  }
  return floating || pos === text.length;
}
