import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../config";

describe("the Step Functions settings", () => {
  it("are off by default, with AWS's default region and a zero account", () => {
    expect(loadConfig({}).sfn).toEqual({
      port: undefined,
      host: "127.0.0.1",
      region: "us-east-1",
      account: "000000000000",
      accessKeys: undefined,
      keyIdentities: undefined,
      activityPollMs: 60_000,
    });
  });

  it("read the port, scope and access keys", () => {
    const sfn = loadConfig({
      SFN_PORT: "0",
      SFN_REGION: "eu-west-3",
      SFN_ACCOUNT: "123456789012",
      SFN_ACCESS_KEYS: "K:s",
    }).sfn;
    expect(sfn).toMatchObject({
      port: 0,
      region: "eu-west-3",
      account: "123456789012",
      accessKeys: new Map([["K", "s"]]),
      keyIdentities: new Map([
        ["K", { name: "K", role: "admin", workflowPrefixes: undefined, via: "sigv4" }],
      ]),
    });
  });

  it("read access keys with roles from a file", () => {
    const dir = mkdtempSync(join(tmpdir(), "sfn-keys-"));
    const file = join(dir, "keys.json");
    writeFileSync(
      file,
      JSON.stringify([{ accessKeyId: "R", secret: "s", role: "reader", workflowPrefixes: ["a-"] }]),
    );
    try {
      const sfn = loadConfig({ SFN_PORT: "0", SFN_ACCESS_KEYS_FILE: file }).sfn;
      expect(sfn.accessKeys).toEqual(new Map([["R", "s"]]));
      expect(sfn.keyIdentities).toEqual(
        new Map([["R", { name: "R", role: "reader", workflowPrefixes: ["a-"], via: "sigv4" }]]),
      );
      expect(() => loadConfig({ SFN_ACCESS_KEYS_FILE: file, SFN_ACCESS_KEYS: "K:s" })).toThrow(
        "SFN_ACCESS_KEYS and SFN_ACCESS_KEYS_FILE are exclusive: set one",
      );
      expect(() => loadConfig({ SFN_ACCESS_KEYS_FILE: join(dir, "missing.json") })).toThrow(
        "SFN_ACCESS_KEYS_FILE: cannot read",
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it("name every wrong variable", () => {
    expect(() =>
      loadConfig({ SFN_PORT: "x", SFN_REGION: "moon", SFN_ACCOUNT: "12", SFN_ACCESS_KEYS: "oops" }),
    ).toThrow(
      [
        "invalid configuration:",
        '  SFN_PORT must be an integer from 0 to 65535, got "x"',
        '  SFN_REGION must be a region name such as us-east-1, got "moon"',
        '  SFN_ACCOUNT must be 12 digits, got "12"',
        "  SFN_ACCESS_KEYS must be comma-separated id:secret pairs; pair 1 is not",
      ].join("\n"),
    );
  });

  it("refuses an open Step Functions endpoint beside an API that requires authentication", () => {
    const tokens = JSON.stringify([{ name: "ci", role: "admin", sha256: "a".repeat(64) }]);
    expect(() => loadConfig({ API_TOKENS: tokens, SFN_PORT: "8091" })).toThrow(
      "SFN_ACCESS_KEYS is required when API authentication is on (API_AUTH=required) and SFN_PORT is set",
    );
    expect(loadConfig({ API_TOKENS: tokens, SFN_PORT: "8091", SFN_ACCESS_KEYS: "K:s" }).sfn.port).toBe(8091);
  });
});
