import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, EnvReader } from "@jetflow/service-runtime";
import { checkApiTlsFiles, readApiTlsConfig } from "./tls";

function problemsOf(env: Record<string, string>): readonly string[] {
  const reader = new EnvReader(env);
  readApiTlsConfig(reader);
  return reader.problems;
}

describe("readApiTlsConfig", () => {
  it("is plaintext without a certificate", () => {
    const reader = new EnvReader({});
    expect(readApiTlsConfig(reader)).toBeUndefined();
    expect(reader.problems).toEqual([]);
  });

  it("names what is missing", () => {
    expect(problemsOf({ API_TLS_CERT: "/c.pem", API_TLS_CLIENT_CA: "/ca.pem" })).toEqual([
      "API_TLS_CERT and API_TLS_KEY must be set together",
    ]);
    expect(problemsOf({ API_TLS_CLIENT_CA: "/ca.pem", API_TLS: "required" })).toEqual([
      "API_TLS_CLIENT_CA (mutual TLS) needs API_TLS_CERT and API_TLS_KEY",
      "API_TLS=required needs API_TLS_CERT and API_TLS_KEY",
    ]);
  });
});

describe("checkApiTlsFiles", () => {
  it("names every file it cannot use", () => {
    const dir = mkdtempSync(join(tmpdir(), "jetflow-tls-"));
    writeFileSync(join(dir, "cert.pem"), "not a certificate");
    const check = () =>
      checkApiTlsFiles({
        certFile: join(dir, "cert.pem"),
        keyFile: join(dir, "missing.key"),
        clientCaFile: join(dir, "cert.pem"),
        reloadIntervalMs: 1000,
      });
    expect(check).toThrow(ConfigError);
    expect(check).toThrow(
      new ConfigError([
        `API_TLS_KEY: cannot read "${dir}/missing.key": ENOENT`,
        `API_TLS_CERT: "${dir}/cert.pem" is not a PEM certificate`,
        `API_TLS_CLIENT_CA: "${dir}/cert.pem" is not a PEM certificate`,
      ]),
    );
  });
});
