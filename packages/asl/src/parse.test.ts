import { parseDefinition } from "./parse";

function problems(text: string, options?: Parameters<typeof parseDefinition>[1]): unknown {
  const result = parseDefinition(text, options);
  if (result.ok) throw new Error("expected problems");
  return result.problems;
}

describe("parseDefinition", () => {
  it("reads JSON and records where each field starts", () => {
    const text = '{\n  "StartAt": "A",\n  "States": {\n    "A": { "Type": "Succeed" }\n  }\n}';
    const result = parseDefinition(text);
    if (!result.ok) throw new Error("expected success");
    expect(result.value).toEqual({ StartAt: "A", States: { A: { Type: "Succeed" } } });
    expect(result.locations.get("StartAt")).toEqual({ line: 2, column: 3 });
    expect(result.locations.get("States.A")).toEqual({ line: 4, column: 5 });
    expect(result.locations.get("States.A.Type")).toEqual({ line: 4, column: 12 });
  });

  it("reads YAML, including arrays, anchors and aliases", () => {
    const text = [
      "StartAt: A",
      "States:",
      "  A:",
      "    Type: Task",
      "    Resource: work",
      "    Retry: &policy",
      "      - ErrorEquals: [States.ALL]",
      "    End: true",
      "  B:",
      "    Type: Task",
      "    Resource: work",
      "    Retry: *policy",
      "    End: true",
      "",
    ].join("\n");
    const result = parseDefinition(text);
    if (!result.ok) throw new Error("expected success");
    const states = (result.value as { States: Record<string, { Retry: unknown }> }).States;
    expect(states.B?.Retry).toEqual([{ ErrorEquals: ["States.ALL"] }]);
    expect(result.locations.get("States.A.Retry[0]")).toEqual({ line: 7, column: 9 });
    expect(result.locations.get("States.A.Retry[0].ErrorEquals[0]")).toEqual({ line: 7, column: 23 });
  });

  it("reports JSON syntax errors with line and column", () => {
    expect(problems('{\n  "StartAt": "A",,\n}')).toEqual([
      { path: "", message: 'invalid JSON: unexpected character ","', line: 2, column: 18 },
    ]);
    expect(problems('{"StartAt": "A"')).toEqual([
      { path: "", message: "invalid JSON: unexpected end of input", line: 1, column: 16 },
    ]);
    expect(problems('[1, 2]\n{"b": 2}')).toEqual([
      { path: "", message: 'invalid JSON: unexpected character "{"', line: 2, column: 1 },
    ]);
  });

  it("reports duplicate keys, which JSON.parse would silently merge", () => {
    expect(problems('{\n  "States": {},\n  "States": {}\n}')).toEqual([
      { path: "States", message: 'duplicate key "States"', line: 3, column: 3 },
    ]);
  });

  it("reads JSON escapes, numbers and nested duplicates exactly", () => {
    const text = '{"a\\"b": [1.5e2, -0, true, null, "x\\u00e9"],\n "o": {"k": 1,\n  "k": 2}}';
    expect(problems(text)).toEqual([{ path: "o.k", message: 'duplicate key "k"', line: 3, column: 3 }]);
    const result = parseDefinition('{"a\\"b": [1.5e2, -0, true, null, "x\\u00e9", {}, []]}');
    if (!result.ok) throw new Error("expected success");
    expect(result.value).toEqual({ 'a"b': [150, -0, true, null, "xé", {}, []] });
    expect(result.locations.get('["a\\"b"][4]')).toEqual({ line: 1, column: 34 });
  });

  it("counts JSON values against maxNodes", () => {
    expect(problems("[1, 2, 3, 4]", { maxNodes: 4 })).toEqual([
      { path: "", message: "the definition holds more than 4 values" },
    ]);
  });

  it("reports YAML errors with line and column", () => {
    expect(problems("StartAt: A\nStates: [1, 2\n")).toEqual([
      {
        path: "",
        message:
          '"[" is not closed: flow sequence in block collection must be sufficiently indented and end with a ]',
        line: 2,
        column: 9,
      },
    ]);
    expect(problems("a: 1\n---\nb: 2\n")).toEqual([
      {
        path: "",
        message: "source contains multiple documents; please use YAML.parseAllDocuments()",
        line: 2,
        column: 1,
      },
    ]);
  });

  it("places an unclosed bracket or quote where it opens, not where the parser noticed it", () => {
    const state = (line: string) => `StartAt: P\nStates:\n  P:\n    Type: Pass\n${line}\n\n    End: true\n`;
    expect(problems(state("    Parameters: { a: [1, 2"))).toEqual([
      {
        path: "",
        message:
          '"[" is not closed: flow sequence in block collection must be sufficiently indented and end with a ]',
        line: 5,
        column: 22,
      },
      {
        path: "",
        message:
          '"{" is not closed: flow map in block collection must be sufficiently indented and end with a }',
        line: 5,
        column: 17,
      },
    ]);
    expect(problems(state('    Parameters: "abc'))).toEqual([
      {
        path: "",
        message: 'the string that starts here is not closed: missing closing "quote',
        line: 5,
        column: 17,
      },
    ]);
  });

  it("refuses YAML values that JSON cannot hold", () => {
    expect(problems("a: .nan\nb: 1e400\nc: !!binary aGVsbG8=\n? [1]\n: 2\n")).toEqual([
      {
        path: "a",
        message: '".nan" is not a JSON value (only strings, finite numbers, booleans and null are)',
        line: 1,
        column: 4,
      },
      {
        path: "b",
        message: '"1e400" is not a JSON value (only strings, finite numbers, booleans and null are)',
        line: 2,
        column: 4,
      },
      {
        path: "c",
        message: '"aGVsbG8=" is not a JSON value (only strings, finite numbers, booleans and null are)',
        line: 3,
        column: 13,
      },
      { path: "", message: "object keys must be strings", line: 4, column: 3 },
    ]);
  });

  it("reports unknown tags", () => {
    expect(problems("a: !foo bar\n")).toEqual([
      { path: "", message: "unresolved tag: !foo", line: 1, column: 4 },
    ]);
  });

  it("refuses aliases that contain themselves", () => {
    expect(problems("a: &x [*x]\n")).toEqual([
      { path: "a[0]", message: 'YAML alias "*x" refers to itself', line: 1, column: 8 },
    ]);
    expect(problems("a: *nope\n")).toEqual([
      { path: "a", message: 'unknown YAML alias "*nope"', line: 1, column: 4 },
    ]);
  });

  it("stops alias bombs with the value limit", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(", ")}]`,
      );
    const found = problems(bomb.join("\n"), { maxNodes: 100_000 }) as Array<{ message: string }>;
    expect(found.map((p) => p.message)).toEqual([
      "the definition holds more than 100000 values once its YAML aliases are expanded",
    ]);
    // Measured, not expanded: a billion values are refused as fast as a hundred thousand.
    const started = Date.now();
    expect((problems(bomb.join("\n")) as Array<{ message: string }>).map((p) => p.message)).toEqual([
      "the definition holds more than 1000000 values once its YAML aliases are expanded",
    ]);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("enforces the size and depth limits", () => {
    expect(problems(`{"a": "${"x".repeat(100)}"}`, { maxDefinitionBytes: 50 })).toEqual([
      { path: "", message: "the definition is 109 bytes; the limit is 50" },
    ]);
    expect(problems("[".repeat(10) + "]".repeat(10), { maxJsonDepth: 5 })).toEqual([
      { path: "", message: "the definition nests deeper than 5 levels" },
    ]);
    expect(problems("a:\n  b:\n    c:\n      d: 1\n", { maxJsonDepth: 3 })).toEqual([
      { path: "a.b.c", message: "the definition nests deeper than 3 levels", line: 4, column: 7 },
    ]);
    expect(problems("[".repeat(100_000) + "]".repeat(100_000))).toEqual([
      { path: "", message: "the definition nests deeper than 128 levels" },
    ]);
    expect(
      (problems("a: " + "[".repeat(100_000) + "]".repeat(100_000)) as Array<{ message: string }>)[0]?.message,
    ).toBe("the definition nests too deeply to parse");
  });

  it("measures the size in UTF-8 bytes", () => {
    expect(problems(`"${"é".repeat(30)}"`, { maxDefinitionBytes: 50 })).toEqual([
      { path: "", message: "the definition is 62 bytes; the limit is 50" },
    ]);
  });

  it("reports an empty document", () => {
    expect(problems("")).toEqual([{ path: "", message: "the definition is empty" }]);
    expect(problems("# only a comment\n")).toEqual([{ path: "", message: "the definition is empty" }]);
  });

  it("skips a byte order mark", () => {
    expect(parseDefinition('\ufeff{"a": 1}')).toMatchObject({ ok: true, value: { a: 1 } });
  });

  it("keeps __proto__ an ordinary key in JSON and YAML", () => {
    for (const text of ['{"__proto__": {"polluted": true}}', "__proto__:\n  polluted: true\n"]) {
      const result = parseDefinition(text);
      if (!result.ok) throw new Error("expected success");
      expect(Object.getPrototypeOf(result.value)).toBe(Object.prototype);
      expect(JSON.stringify(result.value)).toBe('{"__proto__":{"polluted":true}}');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it("rejects bad options", () => {
    expect(() => parseDefinition("{}", { maxStates: 0 })).toThrow(
      'load option "maxStates" must be a positive integer, got 0',
    );
  });
});
