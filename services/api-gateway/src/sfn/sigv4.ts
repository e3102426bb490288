/**
 * Verification of AWS Signature Version 4 on a request (header form, `Authorization:
 * AWS4-HMAC-SHA256 ...`), with node:crypto: canonical request, string to sign, the HMAC chain of
 * the signing key, and the request time within 5 minutes of ours. Pure apart from the clock the
 * caller passes.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { SfnError } from "./errors";
import { ROLES, isRole } from "../auth";
import type { Role } from "../auth";

/** What SigV4 reads of a request. Header names lowercase; several values of a header joined by ",". */
export interface SignedRequest {
  method: string;
  /** The path, still percent-encoded as sent, e.g. "/". */
  path: string;
  /** The query string without "?", "" when none. */
  query: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

/** Who signed a request. */
export interface SignedBy {
  accessKeyId: string;
  region: string;
  service: string;
}

/** How far the request's time may be from ours, as AWS allows. */
export const MAX_SKEW_MS = 5 * 60 * 1000;

const ALGORITHM = "AWS4-HMAC-SHA256";

function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** SigV4's URI encoding: everything but unreserved characters, as %XX uppercase. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalQuery(query: string): string {
  if (query === "") return "";
  const pairs = query.split("&").map((pair) => {
    const eq = pair.indexOf("=");
    const key = decodeURIComponent((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, " "));
    const value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, " "));
    return [uriEncode(key), uriEncode(value)] as const;
  });
  pairs.sort(([k1, v1], [k2, v2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/** Non-S3 services encode each path segment twice: once by the client, once for signing. */
function canonicalPath(path: string): string {
  return path
    .split("/")
    .map((segment) => uriEncode(segment))
    .join("/");
}

function headerValue(headers: SignedRequest["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/** The canonical request of SigV4 for the headers named in `signedHeaders` (sorted, lowercase). */
export function canonicalRequest(request: SignedRequest, signedHeaders: readonly string[]): string {
  const headerLines = signedHeaders
    .map((name) => `${name}:${(headerValue(request.headers, name) ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const payloadHash = headerValue(request.headers, "x-amz-content-sha256") ?? sha256Hex(request.body);
  return [
    request.method,
    canonicalPath(request.path),
    canonicalQuery(request.query),
    headerLines,
    signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
}

/** The signing key of the HMAC chain: secret → date → region → service → "aws4_request". */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
}

/** The hex signature of a request whose signing time is `amzDate` and scope `scope`. */
export function signatureOf(
  request: SignedRequest,
  signedHeaders: readonly string[],
  amzDate: string,
  scope: { date: string; region: string; service: string },
  secret: string,
): string {
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [
    ALGORITHM,
    amzDate,
    credentialScope,
    sha256Hex(canonicalRequest(request, signedHeaders)),
  ].join("\n");
  return createHmac("sha256", signingKey(secret, scope.date, scope.region, scope.service))
    .update(stringToSign)
    .digest("hex");
}

/** Parses the `Authorization` header; throws AWS's error for a malformed one. */
function parseAuthorization(header: string): {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
} {
  if (!header.startsWith(`${ALGORITHM} `)) {
    throw new SfnError(
      "IncompleteSignatureException",
      `Unsupported signing algorithm in Authorization header`,
    );
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential")?.split("/");
  const signedHeaders = fields.get("SignedHeaders")?.split(";");
  const signature = fields.get("Signature");
  if (
    credential?.length !== 5 ||
    credential[4] !== "aws4_request" ||
    !/^\d{8}$/.test(credential[1] ?? "") ||
    signedHeaders === undefined ||
    signature === undefined ||
    !/^[0-9a-f]{64}$/.test(signature)
  ) {
    throw new SfnError(
      "IncompleteSignatureException",
      "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters",
    );
  }
  const [accessKeyId, date, region, service] = credential as [string, string, string, string];
  return { accessKeyId, date, region, service, signedHeaders, signature };
}

/** Parses an X-Amz-Date (`20240102T030405Z`) into epoch milliseconds, NaN when malformed. */
function parseAmzDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (m === null) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/**
 * Verifies the SigV4 signature of `request` against the secrets of `keys` (access key id →
 * secret). Resolves with the signer.
 * @throws SfnError MissingAuthenticationTokenException without a signature,
 *   IncompleteSignatureException for a malformed one, UnrecognizedClientException for an unknown
 *   access key, InvalidSignatureException for a wrong signature or a time more than 5 minutes off
 */
export function verifySignature(
  request: SignedRequest,
  keys: ReadonlyMap<string, string>,
  nowMs: number,
): SignedBy {
  const authorization = headerValue(request.headers, "authorization");
  if (authorization === undefined || authorization === "") {
    throw new SfnError("MissingAuthenticationTokenException", "Missing Authentication Token");
  }
  const auth = parseAuthorization(authorization);
  const amzDate = headerValue(request.headers, "x-amz-date") ?? "";
  const signedAtMs = parseAmzDate(amzDate);
  if (Number.isNaN(signedAtMs) || !auth.signedHeaders.includes("host") || amzDate.slice(0, 8) !== auth.date) {
    throw new SfnError(
      "IncompleteSignatureException",
      "the request must sign the host header and carry an X-Amz-Date matching the credential's date",
    );
  }
  const secret = keys.get(auth.accessKeyId);
  if (secret === undefined) {
    throw new SfnError(
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
    );
  }
  if (Math.abs(nowMs - signedAtMs) > MAX_SKEW_MS) {
    throw new SfnError(
      "InvalidSignatureException",
      `Signature expired: ${amzDate} is now earlier than ${new Date(nowMs - MAX_SKEW_MS).toISOString()} ` +
        `or later than ${new Date(nowMs + MAX_SKEW_MS).toISOString()}`,
    );
  }
  const expected = signatureOf(request, auth.signedHeaders, amzDate, auth, secret);
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature))) {
    throw new SfnError(
      "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. " +
        "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  }
  return { accessKeyId: auth.accessKeyId, region: auth.region, service: auth.service };
}

/** One configured access key: its secret, and the identity it stands for. */
export interface AccessKey {
  secret: string;
  /** Recorded in history and logs as who did what. Default: the access key id. */
  name: string;
  role: Role;
  /** When set, the key only reaches workflows whose names start with one of these. */
  workflowPrefixes?: string[] | undefined;
}

const JSON_SHAPE = '[{"accessKeyId","secret","role"}...] (optional "name", "workflowPrefixes")';

/**
 * Parses SFN_ACCESS_KEYS, in either form:
 * - comma-separated `id:secret` pairs (the secret may hold colons): each key is `admin`, as every
 *   key could call everything before keys had roles;
 * - a JSON array of `{accessKeyId, secret, role, name?, workflowPrefixes?}`, roles and scopes as
 *   API_TOKENS has them.
 * Returns the problem's text when an entry is malformed, naming it by position (its text holds a
 * secret).
 */
export function parseAccessKeys(text: string, variable = "SFN_ACCESS_KEYS"): Map<string, AccessKey> | string {
  if (text.trimStart().startsWith("[")) return parseJsonAccessKeys(text, variable);
  const keys = new Map<string, AccessKey>();
  for (const [index, pair] of text.split(",").entries()) {
    const trimmed = pair.trim();
    if (trimmed === "") continue;
    const colon = trimmed.indexOf(":");
    if (colon <= 0 || colon === trimmed.length - 1) {
      return `${variable} must be comma-separated id:secret pairs; pair ${index + 1} is not`;
    }
    const id = trimmed.slice(0, colon);
    keys.set(id, { secret: trimmed.slice(colon + 1), name: id, role: "admin" });
  }
  return keys;
}

function parseJsonAccessKeys(text: string, variable: string): Map<string, AccessKey> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `${variable} must be id:secret pairs or a JSON array ${JSON_SHAPE}, got invalid JSON`;
  }
  if (!Array.isArray(parsed)) return `${variable} must be a JSON array ${JSON_SHAPE}`;
  const keys = new Map<string, AccessKey>();
  for (const [index, entry] of (parsed as unknown[]).entries()) {
    const e = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    const at = `${variable} [${index}]`;
    const { accessKeyId: id, secret, role, name, workflowPrefixes: prefixes } = e;
    if (typeof id !== "string" || !/^[A-Za-z0-9_+=,.@-]{1,128}$/.test(id))
      return `${at}.accessKeyId must be 1 to 128 letters, digits or _+=,.@-`;
    if (typeof secret !== "string" || secret === "") return `${at}.secret must be a non-empty string`;
    if (!isRole(role)) return `${at}.role must be one of ${ROLES.join(", ")}, got ${JSON.stringify(role)}`;
    if (name !== undefined && (typeof name !== "string" || name === "" || name.length > 200))
      return `${at}.name must be a non-empty string of at most 200 characters`;
    if (
      prefixes !== undefined &&
      (!Array.isArray(prefixes) || !prefixes.every((p) => typeof p === "string" && p !== ""))
    )
      return `${at}.workflowPrefixes must be an array of non-empty strings`;
    if (keys.has(id)) return `${at}.accessKeyId "${id}" appears twice`;
    keys.set(id, { secret, name: name ?? id, role, workflowPrefixes: prefixes as string[] | undefined });
  }
  return keys;
}
