import { generateKeyPairSync } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, EnvReader } from "@jetflow/service-runtime";
import { waitFor } from "@jetflow/testing";
import { SignJWT } from "jose";
import { PublicKeyFile, createAuthenticator, readAuthConfig } from ".";

const first = generateKeyPairSync("ec", { namedCurve: "P-256" });
const second = generateKeyPairSync("ec", { namedCurve: "P-256" });
const pem = (key: KeyObject) => key.export({ type: "spki", format: "pem" }).toString();

const jwt = (key: KeyObject) =>
  new SignJWT({ roles: "reader" })
    .setProtectedHeader({ alg: "ES256" })
    .setIssuer("https://idp.test")
    .setAudience("jetflow")
    .setSubject("alice")
    .setExpirationTime("5m")
    .sign(key);

describe("API_JWT_PUBLIC_KEY_FILE", () => {
  const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };

  it("is one of the three key sources, exclusive of the others", () => {
    const reader = new EnvReader({
      API_JWT_PUBLIC_KEY_FILE: "/keys/jwt.pem",
      API_JWT_ISSUER: "https://idp.test",
      API_JWT_AUDIENCE: "jetflow",
    });
    const config = readAuthConfig(reader);
    expect(reader.problems).toEqual([]);
    expect(config.mode).toBe("required");
    expect(config.jwt?.publicKeyFile).toBe("/keys/jwt.pem");
    expect(config.tokensReloadMs).toBe(10_000);
    const both = new EnvReader({
      API_JWT_PUBLIC_KEY_FILE: "/keys/jwt.pem",
      API_JWT_JWKS_URL: "https://idp.test/jwks",
      API_JWT_ISSUER: "https://idp.test",
      API_JWT_AUDIENCE: "jetflow",
    });
    readAuthConfig(both);
    expect(both.problems).toEqual([
      "API_JWT_JWKS_URL, API_JWT_PUBLIC_KEY and API_JWT_PUBLIC_KEY_FILE are exclusive: set one",
    ]);
  });

  it("refuses to start with a file that holds no public key", () => {
    const path = join(mkdtempSync(join(tmpdir(), "jetflow-jwt-key-")), "jwt.pem");
    writeFileSync(path, "not a key");
    expect(() => new PublicKeyFile({ file: path, reloadIntervalMs: 60_000, log })).toThrow(
      new ConfigError([
        `API_JWT_PUBLIC_KEY_FILE "${path}" is not a PEM public key (-----BEGIN PUBLIC KEY-----)`,
      ]),
    );
  });

  it("verifies with a rotated key without a restart, and keeps the key over a broken file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jetflow-jwt-key-"));
    const path = join(dir, "jwt.pem");
    writeFileSync(path, pem(first.publicKey));
    const keyFile = new PublicKeyFile({ file: path, reloadIntervalMs: 3_600_000, log });
    const reader = new EnvReader({
      API_JWT_PUBLIC_KEY_FILE: path,
      API_JWT_ISSUER: "https://idp.test",
      API_JWT_AUDIENCE: "jetflow",
    });
    const auth = createAuthenticator(readAuthConfig(reader), { publicKeyFile: keyFile });
    const accepted = async (key: KeyObject) =>
      auth.authenticate({ authorization: `Bearer ${await jwt(key)}` }).then(
        () => true,
        () => false,
      );
    keyFile.start();
    try {
      expect(await accepted(first.privateKey)).toBe(true);
      expect(await accepted(second.privateKey)).toBe(false);
      writeFileSync(join(dir, "next.pem"), pem(second.publicKey));
      renameSync(join(dir, "next.pem"), path);
      await waitFor(() => accepted(second.privateKey), {
        timeoutMs: 20_000,
        message: "the new key was not used",
      });
      expect(await accepted(first.privateKey)).toBe(false);

      writeFileSync(path, "-----BEGIN PUBLIC KEY-----\ntruncated");
      await waitFor(() => log.error.mock.calls.length > 0, {
        timeoutMs: 20_000,
        message: "the broken file was not reported",
      });
      expect(log.error).toHaveBeenCalledWith(
        { file: path, problems: ["is not a PEM public key (-----BEGIN PUBLIC KEY-----)"] },
        "jwt public key file not reloaded; the previous key stays in force",
      );
      expect(await accepted(second.privateKey)).toBe(true);
    } finally {
      keyFile.stop();
    }
  });
});
