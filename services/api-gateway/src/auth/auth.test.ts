import { generateKeyPairSync } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { ConfigError, EnvReader } from "@jetflow/service-runtime";
import { SignJWT } from "jose";
import {
  AuthError,
  UNAUTHENTICATED_MESSAGE,
  authorize,
  createAuthenticator,
  hashToken,
  readAuthConfig,
} from ".";
import type { Identity } from ".";

function readConfig(env: Record<string, string>) {
  const reader = new EnvReader(env);
  const config = readAuthConfig(reader);
  reader.done();
  return config;
}

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    readConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
const otherKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
const publicPem = keys.publicKey.export({ type: "spki", format: "pem" }).toString();
const JWT_ENV = {
  API_JWT_PUBLIC_KEY: publicPem,
  API_JWT_ISSUER: "https://idp.test",
  API_JWT_AUDIENCE: "jetflow",
};

function jwt(
  claims: Record<string, unknown>,
  options: { key?: KeyObject; expiresIn?: string | number; issuer?: string; audience?: string } = {},
) {
  const builder = new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256" })
    .setIssuer(options.issuer ?? "https://idp.test")
    .setAudience(options.audience ?? "jetflow")
    .setSubject("alice")
    .setIssuedAt();
  if (options.expiresIn !== 0) builder.setExpirationTime(options.expiresIn ?? "5m");
  return builder.sign(options.key ?? keys.privateKey);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function reasonOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).kind).toBe("unauthenticated");
    expect((err as AuthError).message).toBe(UNAUTHENTICATED_MESSAGE);
    return (err as AuthError).reason;
  }
  throw new Error("expected the call to be refused");
}

describe("readAuthConfig", () => {
  it("turns auth off when nothing is configured", () => {
    expect(readConfig({})).toEqual({ mode: "none", tokens: [], jwt: undefined });
  });

  it("names every wrong variable at once", () => {
    expect(
      problemsOf({
        API_AUTH: "required",
        API_TOKENS: '[{"name":"ci","role":"root","sha256":"secret"}]',
        API_JWT_JWKS_URL: "ftp://x",
      }),
    ).toEqual([
      'API_TOKENS [0].role must be one of reader, operator, admin, got "root"',
      "API_TOKENS [0].sha256 must be the token's sha256 as 64 hex digits (not the token itself)",
      'API_JWT_JWKS_URL must be an http(s) URL, got "ftp://x"',
      "API_JWT_ISSUER is required with JWT authentication",
      "API_JWT_AUDIENCE is required with JWT authentication",
    ]);
    expect(problemsOf({ API_AUTH: "required" })).toEqual([
      "API_AUTH=required needs API_TOKENS or API_TOKENS_FILE or API_JWT_JWKS_URL or API_JWT_PUBLIC_KEY",
    ]);
  });

  it("refuses symmetric JWT algorithms and a key that is not a public key", () => {
    expect(problemsOf({ ...JWT_ENV, API_JWT_ALGORITHMS: "HS256", API_JWT_PUBLIC_KEY: "nope" })).toEqual([
      "API_JWT_PUBLIC_KEY must be a PEM public key (-----BEGIN PUBLIC KEY-----)",
      'API_JWT_ALGORITHMS must list only RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, got "HS256"',
    ]);
  });

  it("refuses API_AUTH=none next to configured credentials", () => {
    expect(problemsOf({ ...JWT_ENV, API_AUTH: "none" })).toEqual([
      "API_AUTH=none contradicts the configured API_TOKENS/API_JWT_*: remove one",
    ]);
  });
});

describe("authenticate", () => {
  const tokens = JSON.stringify([
    { name: "ci", role: "operator", sha256: hashToken("s3cret-ci"), workflowPrefixes: ["team-a-"] },
  ]);
  const auth = createAuthenticator(readConfig({ ...JWT_ENV, API_TOKENS: tokens }));

  it("knows a static token by its hash", async () => {
    await expect(auth.authenticate(bearer("s3cret-ci"))).resolves.toEqual({
      name: "ci",
      role: "operator",
      workflowPrefixes: ["team-a-"],
      via: "token",
    });
  });

  it("accepts a JWT signed by the configured key and takes its strongest role", async () => {
    const token = await jwt({ roles: ["reader", "admin"] });
    await expect(auth.authenticate(bearer(token))).resolves.toEqual({
      name: "alice",
      role: "admin",
      workflowPrefixes: undefined,
      via: "jwt",
    });
  });

  it("refuses, with one message for all, what cannot be trusted; the log gets the reason", async () => {
    expect(await reasonOf(auth.authenticate({}))).toBe("no authorization header");
    expect(await reasonOf(auth.authenticate({ authorization: "Basic abc" }))).toBe(
      "authorization is not a bearer token",
    );
    expect(await reasonOf(auth.authenticate(bearer("guess")))).toBe("unknown token");
    expect(
      await reasonOf(auth.authenticate(bearer(await jwt({ roles: "admin" }, { key: otherKeys.privateKey })))),
    ).toMatch(/^jwt: ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
    const expired = await jwt({ roles: "admin" }, { expiresIn: Math.floor(Date.now() / 1000) - 120 });
    expect(await reasonOf(auth.authenticate(bearer(expired)))).toMatch(/^jwt: ERR_JWT_EXPIRED/);
    expect(
      await reasonOf(auth.authenticate(bearer(await jwt({ roles: "admin" }, { expiresIn: 0 })))),
    ).toMatch(/^jwt: ERR_JWT_CLAIM_VALIDATION_FAILED: missing required "exp" claim/);
    expect(
      await reasonOf(auth.authenticate(bearer(await jwt({ roles: "admin" }, { issuer: "evil" })))),
    ).toMatch(/"iss" claim/);
    expect(
      await reasonOf(auth.authenticate(bearer(await jwt({ roles: "admin" }, { audience: "other" })))),
    ).toMatch(/"aud" claim/);
    expect(await reasonOf(auth.authenticate(bearer(await jwt({ roles: "root" }))))).toBe(
      'jwt: claim "roles" names no role',
    );
    expect(
      await reasonOf(
        auth.authenticate(bearer(await jwt({ roles: "admin", jetflow_workflow_prefixes: "a-" }))),
      ),
    ).toBe('jwt: claim "jetflow_workflow_prefixes" is not an array of strings');
  });

  it("lets everyone in as the anonymous admin when auth is off", async () => {
    const open = createAuthenticator(readConfig({}));
    expect(open.enabled).toBe(false);
    await expect(open.authenticate({})).resolves.toMatchObject({
      name: "anonymous",
      role: "admin",
      via: "none",
    });
  });
});

describe("authorize", () => {
  const reader: Identity = { name: "r", role: "reader", via: "token" };
  const scoped: Identity = { name: "ci", role: "operator", via: "token", workflowPrefixes: ["team-a-"] };

  it("allows what the role includes", () => {
    expect(() => authorize(reader, "DescribeExecution")).not.toThrow();
    expect(() => authorize(scoped, "StartExecution", "team-a-orders")).not.toThrow();
  });

  it("names the missing role", () => {
    expect(() => authorize(reader, "StartExecution")).toThrow(
      new AuthError("permission-denied", 'StartExecution needs the role "operator"; "r" has "reader"'),
    );
    expect(() => authorize(scoped, "RegisterWorkflow", "team-a-x")).toThrow(
      'RegisterWorkflow needs the role "admin"; "ci" has "operator"',
    );
  });

  it("keeps a scoped identity to its prefixes", () => {
    expect(() => authorize(scoped, "StartExecution", "billing")).toThrow(
      '"ci" may not act on workflow "billing": it is limited to the prefixes ["team-a-"]',
    );
  });
});
