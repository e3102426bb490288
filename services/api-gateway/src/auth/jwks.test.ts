// JWT verification against API_JWT_JWKS_URL: the key set is served by a real HTTP server on
// 127.0.0.1 and fetched by the authenticator (jose's remote key set), as an identity provider's
// would be.
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EnvReader } from "@jetflow/service-runtime";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import type { KeyLike } from "jose";
import { AuthError, UNAUTHENTICATED_MESSAGE, createAuthenticator, readAuthConfig } from ".";
import type { Authenticator } from ".";

const ISSUER = "https://idp.jwks.test";
const AUDIENCE = "jetflow-jwks";

interface SigningKey {
  kid: string;
  alg: "ES256" | "EdDSA";
  privateKey: KeyLike;
  publicKey: KeyLike;
}

async function signingKey(kid: string, alg: SigningKey["alg"]): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, publicKey };
}

let published: SigningKey[];
let stranger: SigningKey;
let server: Server;
let jwksUrl: string;
/** Paths the server was asked for, in order. */
const requests: string[] = [];
let auth: Authenticator;

beforeAll(async () => {
  // Two keys in the set: the token's `kid` picks one.
  published = [await signingKey("es-1", "ES256"), await signingKey("ed-1", "EdDSA")];
  stranger = await signingKey("es-1", "ES256");
  const jwks = JSON.stringify({
    keys: await Promise.all(
      published.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: k.alg, use: "sig" })),
    ),
  });
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    if (req.url === "/.well-known/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" }).end(jwks);
    } else {
      res.writeHead(500, { "content-type": "text/plain" }).end("identity provider down");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  jwksUrl = `http://127.0.0.1:${port}/.well-known/jwks.json`;
  auth = authenticatorFor(jwksUrl);
});

afterAll(async () => {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function authenticatorFor(url: string): Authenticator {
  const reader = new EnvReader({
    API_JWT_JWKS_URL: url,
    API_JWT_ISSUER: ISSUER,
    API_JWT_AUDIENCE: AUDIENCE,
  });
  const config = readAuthConfig(reader);
  reader.done();
  expect(config.mode).toBe("required");
  expect(config.jwt?.jwksUrl).toBe(url);
  return createAuthenticator(config);
}

function jwt(
  key: SigningKey,
  claims: Record<string, unknown>,
  options: { exp?: number; issuer?: string; audience?: string; kid?: string } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: options.kid ?? key.kid })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setSubject("dana")
    .setIssuedAt()
    .setExpirationTime(options.exp ?? "5m")
    .sign(key.privateKey);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The reason (for the log) a call was refused; the client only ever gets the one message. */
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

describe("JWT verification against API_JWT_JWKS_URL", () => {
  it("accepts a token signed by a key of the set, with its roles and scope", async () => {
    const [es, ed] = published as [SigningKey, SigningKey];
    await expect(
      auth.authenticate(bearer(await jwt(es, { roles: ["reader", "operator"] }))),
    ).resolves.toEqual({ name: "dana", role: "operator", workflowPrefixes: undefined, via: "jwt" });
    await expect(
      auth.authenticate(bearer(await jwt(ed, { roles: "admin", jetflow_workflow_prefixes: ["team-b-"] }))),
    ).resolves.toEqual({ name: "dana", role: "admin", workflowPrefixes: ["team-b-"], via: "jwt" });
    // The set was fetched from the server (once: jose caches it).
    expect(requests).toEqual(["/.well-known/jwks.json"]);
  });

  it("refuses a token signed by a key outside the set", async () => {
    // Same kid as a published key, other key: the signature does not verify.
    expect(await reasonOf(auth.authenticate(bearer(await jwt(stranger, { roles: "admin" }))))).toMatch(
      /^jwt: ERR_JWS_SIGNATURE_VERIFICATION_FAILED: signature verification failed$/,
    );
    // A kid the set does not have.
    expect(
      await reasonOf(auth.authenticate(bearer(await jwt(stranger, { roles: "admin" }, { kid: "es-9" })))),
    ).toMatch(/^jwt: ERR_JWKS_NO_MATCHING_KEY: /);
  });

  it("refuses an expired token", async () => {
    const [es] = published as [SigningKey];
    // Older than the 30 s clock tolerance.
    const expired = await jwt(es, { roles: "admin" }, { exp: Math.floor(Date.now() / 1000) - 120 });
    expect(await reasonOf(auth.authenticate(bearer(expired)))).toBe(
      'jwt: ERR_JWT_EXPIRED: "exp" claim timestamp check failed',
    );
  });

  it("refuses a token for another issuer or audience", async () => {
    const [es] = published as [SigningKey];
    const otherIssuer = await jwt(es, { roles: "admin" }, { issuer: "https://evil.test" });
    expect(await reasonOf(auth.authenticate(bearer(otherIssuer)))).toBe(
      'jwt: ERR_JWT_CLAIM_VALIDATION_FAILED: unexpected "iss" claim value',
    );
    const otherAudience = await jwt(es, { roles: "admin" }, { audience: "another-api" });
    expect(await reasonOf(auth.authenticate(bearer(otherAudience)))).toBe(
      'jwt: ERR_JWT_CLAIM_VALIDATION_FAILED: unexpected "aud" claim value',
    );
  });

  it("refuses every token while the key set cannot be fetched", async () => {
    const [es] = published as [SigningKey];
    const down = authenticatorFor(jwksUrl.replace("/.well-known/jwks.json", "/down"));
    expect(await reasonOf(down.authenticate(bearer(await jwt(es, { roles: "admin" }))))).toMatch(
      /^jwt: ERR_JOSE_GENERIC: Expected 200 OK from the JSON Web Key Set HTTP response$/,
    );
    expect(requests).toContain("/down");
  });
});
