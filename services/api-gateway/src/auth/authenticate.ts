/**
 * Establishes who is calling from a request's headers: `authorization: Bearer <token>`, where
 * the token is a static API token (looked up by its sha256) or a JWT (verified with jose against
 * the configured key or JWKS: signature, issuer, audience, expiry). Transport-neutral: gRPC
 * metadata and HTTP headers both come in as a header map.
 */
import { createHash, createPublicKey } from "node:crypto";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from "jose";
import type { JWTPayload, JWTVerifyGetKey, KeyLike } from "jose";
import type { AuthConfig, JwtConfig, StaticToken } from "./config";
import { AuthError, UNAUTHENTICATED_MESSAGE } from "./errors";
import { ANONYMOUS } from "./identity";
import type { Identity } from "./identity";
import { ROLES, isRole } from "./roles";
import type { Role } from "./roles";

/** Request headers, lowercase names (Node's HTTP headers, or grpc-js `Metadata.getMap()`). */
export type RequestHeaders = Readonly<Record<string, string | string[] | Buffer | undefined>>;

/** Turns request headers into an identity. */
export interface Authenticator {
  /** False when API_AUTH=none: every call is {@link ANONYMOUS}. */
  readonly enabled: boolean;
  /**
   * The caller's identity.
   * @throws AuthError "unauthenticated" (same message whatever the reason; `reason` says why)
   */
  authenticate(headers: RequestHeaders): Promise<Identity>;
}

/** A JWT is three base64url parts; anything else is tried as a static token only. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Longer bearer values are refused unread: a cheap guard against oversized headers. */
const MAX_TOKEN_LENGTH = 8192;

function refuse(reason: string): never {
  throw new AuthError("unauthenticated", UNAUTHENTICATED_MESSAGE, reason);
}

function bearerToken(headers: RequestHeaders): string {
  const raw = headers.authorization;
  const value = Array.isArray(raw) ? raw[0] : Buffer.isBuffer(raw) ? undefined : raw;
  if (value === undefined) refuse("no authorization header");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  if (!match?.[1]) refuse("authorization is not a bearer token");
  if (match[1].length > MAX_TOKEN_LENGTH) refuse("bearer token too long");
  return match[1];
}

function strongestRole(claim: unknown): Role | undefined {
  const values = Array.isArray(claim) ? claim : [claim];
  let best: Role | undefined;
  for (const value of values) {
    if (isRole(value) && (best === undefined || ROLES.indexOf(value) > ROLES.indexOf(best))) best = value;
  }
  return best;
}

function createJwtCheck(
  jwt: JwtConfig,
  keyFile: { readonly value: KeyLike | undefined } | undefined,
): (token: string) => Promise<Identity> {
  const key: KeyLike | JWTVerifyGetKey = jwt.jwksUrl
    ? createRemoteJWKSet(new URL(jwt.jwksUrl))
    : keyFile
      ? // Read on each call: a reloaded key counts at once.
        () => {
          if (keyFile.value === undefined) throw new Error("no public key");
          return keyFile.value;
        }
      : createPublicKey(jwt.publicKeyPem ?? "");
  return async (token) => {
    let payload: JWTPayload;
    try {
      const options = {
        issuer: jwt.issuer,
        audience: jwt.audience,
        algorithms: jwt.algorithms,
        clockTolerance: jwt.clockToleranceSeconds,
        // Tokens without an expiry live forever if stolen: refuse them.
        requiredClaims: ["exp", "sub"],
      };
      // Two calls: jose's overloads take a key or a key resolver, not their union.
      payload =
        typeof key === "function"
          ? (await jwtVerify(token, key, options)).payload
          : (await jwtVerify(token, key, options)).payload;
    } catch (err) {
      const reason =
        err instanceof joseErrors.JOSEError ? `jwt: ${err.code}: ${err.message}` : `jwt: ${String(err)}`;
      refuse(reason);
    }
    const role = strongestRole(payload[jwt.rolesClaim]);
    if (role === undefined) refuse(`jwt: claim "${jwt.rolesClaim}" names no role`);
    const prefixes = payload[jwt.prefixesClaim];
    const workflowPrefixes =
      Array.isArray(prefixes) && prefixes.every((p) => typeof p === "string")
        ? (prefixes as string[])
        : undefined;
    if (prefixes !== undefined && workflowPrefixes === undefined) {
      // A malformed scope must not widen into "no scope".
      refuse(`jwt: claim "${jwt.prefixesClaim}" is not an array of strings`);
    }
    return { name: payload.sub ?? "", role, workflowPrefixes, via: "jwt" };
  };
}

/** Hex sha256 of a token, as API_TOKENS stores it (`printf %s TOKEN | sha256sum`). */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Files of the auth configuration that are re-read while the gateway runs. */
export interface AuthFiles {
  /** The tokens of API_TOKENS_FILE (see token-file.ts). */
  tokenFile?: { readonly byHash: ReadonlyMap<string, StaticToken> } | undefined;
  /** The key of API_JWT_PUBLIC_KEY_FILE (see key-file.ts). */
  publicKeyFile?: { readonly value: KeyLike | undefined } | undefined;
}

/**
 * Creates the authenticator for `config`. `files` hold what API_TOKENS_FILE and
 * API_JWT_PUBLIC_KEY_FILE contain, read on each call so that a reloaded file counts at once.
 */
export function createAuthenticator(config: AuthConfig, files: AuthFiles = {}): Authenticator {
  const { tokenFile } = files;
  if (config.mode === "none") return { enabled: false, authenticate: () => Promise.resolve(ANONYMOUS) };
  // Keyed by hash: looking a token up never compares the secret itself.
  const byHash = new Map<string, StaticToken>(config.tokens.map((t) => [t.sha256, t]));
  const checkJwt = config.jwt ? createJwtCheck(config.jwt, files.publicKeyFile) : undefined;
  return {
    enabled: true,
    async authenticate(headers) {
      const token = bearerToken(headers);
      const hash = hashToken(token);
      const known = byHash.get(hash) ?? tokenFile?.byHash.get(hash);
      if (known) {
        return { name: known.name, role: known.role, workflowPrefixes: known.workflowPrefixes, via: "token" };
      }
      if (checkJwt && JWT_SHAPE.test(token)) return checkJwt(token);
      return refuse("unknown token");
    },
  };
}
