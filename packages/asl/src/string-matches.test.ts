import { compileStringMatches, stringMatches } from "./string-matches";

describe("stringMatches", () => {
  it.each([
    ["", "", true],
    ["", "*", true],
    ["abc", "*", true],
    ["abc", "abc", true],
    ["abc", "ab", false],
    ["abc", "a*c", true],
    ["ac", "a*c", true],
    ["a", "a*a", false],
    ["aXa", "a*a", true],
    ["abcabc", "*abc", true],
    ["abcabd", "*abc*", true],
    ["xaybzc", "*a*b*c", true],
    ["xaybz", "*a*b*c", false],
    ["a*b", "a\\*b", true],
    ["a\\b", "a\\\\b", true],
    ["a\\xb", "a\\\\*b", true],
    ["foo.log", "foo**.log", true],
  ])("%j against %j is %s", (text, pattern, expected) => {
    expect(stringMatches(text, pattern)).toBe(expected);
  });

  it("stays fast on patterns that make regex engines backtrack", () => {
    const started = Date.now();
    expect(stringMatches("a".repeat(50_000), "*a*a*a*a*a*a*a*a*b")).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("rejects escapes other than \\* and \\\\", () => {
    expect(() => compileStringMatches("a\\b")).toThrow('"\\b" is not an escape; only \\* and \\\\ are');
    expect(() => compileStringMatches("a\\")).toThrow(
      "the pattern ends with an open backslash; write \\\\ for a literal backslash",
    );
  });
});
