import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@jetflow/service-runtime";
import { waitFor } from "@jetflow/testing";
import { TokenFile, createAuthenticator, hashToken, parseTokenFile } from ".";

const entry = (name: string, token: string, role = "operator") =>
  `  {"name": "${name}", "role": "${role}", "sha256": "${hashToken(token)}"}`;
const file = (...entries: string[]) => `[\n${entries.join(",\n")}\n]\n`;

describe("parseTokenFile", () => {
  it("reads the JSON array of API_TOKENS", () => {
    expect(parseTokenFile(file(entry("ci", "a"), entry("ops", "b", "admin")))).toEqual({
      tokens: [
        { name: "ci", role: "operator", sha256: hashToken("a"), workflowPrefixes: undefined },
        { name: "ops", role: "admin", sha256: hashToken("b"), workflowPrefixes: undefined },
      ],
      problems: [],
    });
    expect(parseTokenFile("[]")).toEqual({ tokens: [], problems: [] });
  });

  it("names the line of each problem and keeps no token of a bad file", () => {
    expect(parseTokenFile(file(entry("ci", "a"), entry("ops", "b", "root")))).toEqual({
      tokens: [],
      problems: ['line 3: [1].role must be one of reader, operator, admin, got "root"'],
    });
    const broken = parseTokenFile(file(entry("ci", "a"), '  {"name": "x", "role": }', entry("ops", "b")));
    expect(broken.problems).toHaveLength(1);
    expect(broken.problems[0]).toMatch(/^line 3: \[1\] is not valid JSON: /);
    expect(parseTokenFile(file(entry("ci", "a")).replace("]", ""))).toEqual({
      tokens: [],
      problems: ['line 4: the array is not closed with "]"'],
    });
    expect(parseTokenFile(`${file(entry("ci", "a"))}x`).problems).toEqual([
      'line 4: text after the closing "]"',
    ]);
    expect(parseTokenFile(`[\n${entry("ci", "a")},\n]`).problems).toEqual([
      "line 3: a comma without an entry after it",
    ]);
    expect(parseTokenFile('\n{"name": "ci"}').problems).toEqual([
      'line 2: must be a JSON array of {"name","role","sha256"} objects',
    ]);
  });

  it("is not confused by brackets and commas inside strings", () => {
    const text = `[{"name": "a,]\\"[{", "role": "reader", "sha256": "${hashToken("t")}"}]`;
    expect(parseTokenFile(text).tokens.map((t) => t.name)).toEqual(['a,]"[{']);
  });
});

describe("TokenFile", () => {
  const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it("refuses to start with a bad file, naming it and the line", () => {
    const dir = mkdtempSync(join(tmpdir(), "jetflow-tokens-"));
    const path = join(dir, "tokens.json");
    writeFileSync(path, file(entry("ci", "a", "root")));
    expect(() => new TokenFile({ file: path, reloadIntervalMs: 60_000, log })).toThrow(
      new ConfigError([
        `API_TOKENS_FILE "${path}" line 2: [0].role must be one of reader, operator, admin, got "root"`,
      ]),
    );
    expect(() => new TokenFile({ file: join(dir, "none.json"), reloadIntervalMs: 60_000, log })).toThrow(
      new ConfigError([`API_TOKENS_FILE: cannot read "${join(dir, "none.json")}": ENOENT`]),
    );
  });

  it("lets an added token in and locks a removed one out, and keeps the old set over a broken file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jetflow-tokens-"));
    const path = join(dir, "tokens.json");
    writeFileSync(path, file(entry("ci", "first")));
    // Polling is slow here: the change events of the directory must be enough.
    const tokens = new TokenFile({ file: path, reloadIntervalMs: 3_600_000, log });
    const auth = createAuthenticator({ mode: "required", tokens: [] }, { tokenFile: tokens });
    const accepted = (token: string) =>
      auth.authenticate(bearer(token)).then(
        () => true,
        () => false,
      );
    tokens.start();
    try {
      expect(await accepted("first")).toBe(true);
      expect(await accepted("second")).toBe(false);

      writeFileSync(path, file(entry("ci", "first"), entry("deploy-bot", "second", "admin")));
      await waitFor(() => accepted("second"), {
        timeoutMs: 20_000,
        message: "the added token was not let in",
      });
      await expect(auth.authenticate(bearer("second"))).resolves.toMatchObject({
        name: "deploy-bot",
        role: "admin",
      });

      // Replaced by rename, as the kubelet and most editors do.
      writeFileSync(join(dir, "next.json"), file(entry("deploy-bot", "second", "admin")));
      renameSync(join(dir, "next.json"), path);
      await waitFor(async () => !(await accepted("first")), {
        timeoutMs: 20_000,
        message: "the removed token was still accepted",
      });
      expect(await accepted("second")).toBe(true);

      writeFileSync(path, file(entry("deploy-bot", "second", "admin"), '  {"name": "oops", "role": }'));
      const reported = () =>
        log.error.mock.calls.some(
          ([fields, message]: [{ file: string; problems: string[] }, string]) =>
            fields.file === path &&
            fields.problems.length === 1 &&
            /^line 3: \[1\] is not valid JSON: /.test(fields.problems[0] ?? "") &&
            message === "api token file not reloaded; the previous tokens stay in force",
        );
      await waitFor(reported, { timeoutMs: 20_000, message: "the broken file was not reported" });
      expect(await accepted("second")).toBe(true);
      expect(await accepted("first")).toBe(false);
      expect(tokens.reload()).toBe(false);
    } finally {
      tokens.stop();
    }
  });

  it("re-reads on its interval too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jetflow-tokens-"));
    const path = join(dir, "tokens.json");
    writeFileSync(path, "[]");
    const tokens = new TokenFile({ file: path, reloadIntervalMs: 100, log });
    expect(tokens.byHash.size).toBe(0);
    writeFileSync(path, file(entry("ci", "a")));
    tokens.start();
    try {
      await waitFor(() => tokens.byHash.has(hashToken("a")), { timeoutMs: 20_000 });
    } finally {
      tokens.stop();
    }
  });
});
