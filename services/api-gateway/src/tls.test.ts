import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, EnvReader } from "@jetflow/service-runtime";
import { waitFor } from "@jetflow/testing";
import { checkApiTlsFiles, readApiTlsConfig, reloadHttpsCertificates } from "./tls";

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

describe("reloadHttpsCertificates", () => {
  /** A self-signed certificate and its key, made with openssl in `dir`. */
  function selfSigned(dir: string, name: string): { cert: string; key: string } {
    execFileSync(
      process.env.OPENSSL_BIN ?? "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"].concat([
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.pem`,
        "-days",
        "1",
        "-subj",
        `/CN=${name}`,
      ]),
      { cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
    );
    return {
      cert: readFileSync(join(dir, `${name}.pem`), "utf8"),
      key: readFileSync(join(dir, `${name}.key`), "utf8"),
    };
  }

  /** Replaces a file at once (as the kubelet does), so that no read sees it half-written. */
  function replace(file: string, text: string): void {
    writeFileSync(`${file}.next`, text);
    renameSync(`${file}.next`, file);
  }

  it("gives changed files to the server, and keeps the old ones when the new pair does not match", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jetflow-tls-"));
    const [a, b] = [selfSigned(dir, "a"), selfSigned(dir, "b")];
    const tls = { certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key"), reloadIntervalMs: 1000 };
    writeFileSync(tls.certFile, a.cert);
    writeFileSync(tls.keyFile, a.key);
    const server = { setSecureContext: jest.fn() };
    const log = { info: jest.fn(), error: jest.fn() };
    const stop = reloadHttpsCertificates(server, tls, log);
    try {
      // A certificate without its key yet: refused, logged once, nothing changes.
      replace(tls.certFile, b.cert);
      await waitFor(() => log.error.mock.calls.length > 0, { timeoutMs: 20_000 });
      expect(log.error).toHaveBeenCalledWith(
        { problems: [`API_TLS_KEY: "${tls.keyFile}" does not match the certificate in "${tls.certFile}"`] },
        "https certificate not reloaded; the previous one stays",
      );
      expect(server.setSecureContext).not.toHaveBeenCalled();
      replace(tls.keyFile, b.key);
      await waitFor(() => server.setSecureContext.mock.calls.length > 0, { timeoutMs: 20_000 });
      expect(server.setSecureContext).toHaveBeenCalledWith({
        cert: Buffer.from(b.cert),
        key: Buffer.from(b.key),
      });
      expect(log.error).toHaveBeenCalledTimes(1);
      expect(log.info).toHaveBeenCalledWith({ certFile: tls.certFile }, "https certificate reloaded");
    } finally {
      stop();
    }
  });
});
