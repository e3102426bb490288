/**
 * The auth part of the gateway's configuration, read from env by {@link readAuthConfig}: static
 * API tokens (stored as sha256 hashes) and JWT verification (JWKS URL or a public key).
 */
import { createPublicKey } from "node:crypto";
import type { EnvReader } from "@jetflow/service-runtime";
import { isRole } from "./roles";
import type { Role } from "./roles";

/** A static API token: only its sha256 is configured, never the token itself. */
export interface StaticToken {
  /** Who the token belongs to; recorded as the identity. */
  name: string;
  role: Role;
  /** Hex sha256 of the token, lowercase. */
  sha256: string;
  /** When set, the token only reaches workflows whose names start with one of these. */
  workflowPrefixes?: string[] | undefined;
}

/** How JWTs are verified. */
export interface JwtConfig {
  /** API_JWT_JWKS_URL: where the signing keys are published (fetched and cached by jose). */
  jwksUrl?: string | undefined;
  /** API_JWT_PUBLIC_KEY: a PEM public key (SPKI), instead of a JWKS URL. */
  publicKeyPem?: string | undefined;
  /**
   * API_JWT_PUBLIC_KEY_FILE: a file holding the PEM public key, re-read when it changes (see
   * watched-file.ts), instead of a JWKS URL or API_JWT_PUBLIC_KEY.
   */
  publicKeyFile?: string | undefined;
  /** API_JWT_ISSUER: the required `iss`. */
  issuer: string;
  /** API_JWT_AUDIENCE: the required `aud`. */
  audience: string;
  /** API_JWT_ALGORITHMS: accepted `alg`s. Default RS256, ES256, EdDSA (never `none` nor HMAC). */
  algorithms: string[];
  /** API_JWT_ROLES_CLAIM: the claim holding the role (a string or an array). Default "roles". */
  rolesClaim: string;
  /** API_JWT_PREFIXES_CLAIM: the claim holding workflow name prefixes. Default "jetflow_workflow_prefixes". */
  prefixesClaim: string;
  /** API_JWT_CLOCK_TOLERANCE_S: allowed clock skew for `exp` and `nbf`. Default 30. */
  clockToleranceSeconds: number;
}

/** Authentication of API calls. */
export interface AuthConfig {
  /**
   * API_AUTH: "required" (every call needs a bearer token) or "none" (anyone who reaches the port
   * is admin). Default: "required" when tokens or JWT are configured, else "none".
   */
  mode: "none" | "required";
  /** API_TOKENS: a JSON array of {@link StaticToken}. */
  tokens: StaticToken[];
  /**
   * API_TOKENS_FILE: a file holding the same JSON array, re-read when it changes (see
   * token-file.ts); its tokens count beside those of API_TOKENS.
   */
  tokensFile?: string | undefined;
  /**
   * API_TOKENS_RELOAD_MS: how often API_TOKENS_FILE and API_JWT_PUBLIC_KEY_FILE are re-read
   * besides on change events. Default 10000.
   */
  tokensReloadMs?: number | undefined;
  jwt?: JwtConfig | undefined;
}

const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
];

/**
 * Checks one entry of API_TOKENS or API_TOKENS_FILE; `problem` gets each thing wrong with it,
 * prefixed by `at` (its index). The token is returned when it is usable.
 */
export function toStaticToken(
  entry: unknown,
  at: string,
  problem: (what: string) => void,
): StaticToken | undefined {
  const e = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
  if (typeof e.name !== "string" || e.name === "" || e.name.length > 200)
    problem(`${at}.name must be a non-empty string of at most 200 characters`);
  if (!isRole(e.role))
    problem(`${at}.role must be one of reader, operator, admin, got ${JSON.stringify(e.role)}`);
  if (typeof e.sha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(e.sha256))
    problem(`${at}.sha256 must be the token's sha256 as 64 hex digits (not the token itself)`);
  const prefixes = e.workflowPrefixes;
  if (prefixes !== undefined && (!Array.isArray(prefixes) || !prefixes.every((p) => typeof p === "string")))
    problem(`${at}.workflowPrefixes must be an array of strings`);
  if (typeof e.name === "string" && isRole(e.role) && typeof e.sha256 === "string") {
    return {
      name: e.name,
      role: e.role,
      sha256: e.sha256.toLowerCase(),
      workflowPrefixes: Array.isArray(prefixes) ? (prefixes as string[]) : undefined,
    };
  }
  return undefined;
}

function readTokens(reader: EnvReader, raw: string | undefined): StaticToken[] {
  if (raw === undefined) return [];
  const problem = (what: string) => reader.problems.push(`API_TOKENS ${what}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problem('must be a JSON array of {"name","role","sha256"} objects, got invalid JSON');
    return [];
  }
  if (!Array.isArray(parsed)) {
    problem('must be a JSON array of {"name","role","sha256"} objects');
    return [];
  }
  const tokens: StaticToken[] = [];
  parsed.forEach((entry: unknown, i) => {
    const token = toStaticToken(entry, `[${i}]`, problem);
    if (token) tokens.push(token);
  });
  return tokens;
}

function readJwt(reader: EnvReader): JwtConfig | undefined {
  const jwksUrl = reader.optionalString("API_JWT_JWKS_URL");
  const publicKeyPem = reader.optionalString("API_JWT_PUBLIC_KEY");
  const publicKeyFile = reader.optionalString("API_JWT_PUBLIC_KEY_FILE");
  const sources = [jwksUrl, publicKeyPem, publicKeyFile].filter((v) => v !== undefined).length;
  if (sources === 0) return undefined;
  if (sources > 1) {
    reader.problems.push(
      publicKeyFile === undefined
        ? "API_JWT_JWKS_URL and API_JWT_PUBLIC_KEY are exclusive: set one"
        : "API_JWT_JWKS_URL, API_JWT_PUBLIC_KEY and API_JWT_PUBLIC_KEY_FILE are exclusive: set one",
    );
  }
  if (jwksUrl !== undefined && !/^https?:\/\/\S+$/.test(jwksUrl)) {
    reader.problems.push(`API_JWT_JWKS_URL must be an http(s) URL, got "${jwksUrl}"`);
  }
  if (publicKeyPem !== undefined) {
    try {
      if (createPublicKey(publicKeyPem).type !== "public") throw new Error("not public");
    } catch {
      reader.problems.push("API_JWT_PUBLIC_KEY must be a PEM public key (-----BEGIN PUBLIC KEY-----)");
    }
  }
  const issuer = reader.optionalString("API_JWT_ISSUER");
  const audience = reader.optionalString("API_JWT_AUDIENCE");
  if (issuer === undefined) reader.problems.push("API_JWT_ISSUER is required with JWT authentication");
  if (audience === undefined) reader.problems.push("API_JWT_AUDIENCE is required with JWT authentication");
  const algorithms = reader
    .string("API_JWT_ALGORITHMS", "RS256,ES256,EdDSA")
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "");
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) {
      reader.problems.push(
        `API_JWT_ALGORITHMS must list only ${ASYMMETRIC_ALGORITHMS.join(", ")}, got "${alg}"`,
      );
    }
  }
  return {
    jwksUrl,
    publicKeyPem,
    ...(publicKeyFile === undefined ? {} : { publicKeyFile }),
    issuer: issuer ?? "",
    audience: audience ?? "",
    algorithms,
    rolesClaim: reader.string("API_JWT_ROLES_CLAIM", "roles"),
    prefixesClaim: reader.string("API_JWT_PREFIXES_CLAIM", "jetflow_workflow_prefixes"),
    clockToleranceSeconds: reader.integer("API_JWT_CLOCK_TOLERANCE_S", 30, 0, 600),
  };
}

/** Reads API_AUTH, API_TOKENS and API_JWT_*; problems go to `reader`. */
export function readAuthConfig(reader: EnvReader): AuthConfig {
  const tokens = readTokens(reader, reader.optionalString("API_TOKENS"));
  const tokensFile = reader.optionalString("API_TOKENS_FILE");
  const tokensReloadMs = reader.integer("API_TOKENS_RELOAD_MS", 10_000, 100, 86_400_000);
  const jwt = readJwt(reader);
  const configured = tokens.length > 0 || tokensFile !== undefined || jwt !== undefined;
  const mode = reader.oneOf("API_AUTH", ["none", "required"] as const, configured ? "required" : "none");
  if (mode === "required" && !configured) {
    reader.problems.push(
      "API_AUTH=required needs API_TOKENS or API_TOKENS_FILE or API_JWT_JWKS_URL or API_JWT_PUBLIC_KEY",
    );
  }
  if (mode === "none" && configured) {
    reader.problems.push("API_AUTH=none contradicts the configured API_TOKENS/API_JWT_*: remove one");
  }
  if (tokensFile === undefined && jwt?.publicKeyFile === undefined) return { mode, tokens, jwt };
  return { mode, tokens, tokensFile, tokensReloadMs, jwt };
}
