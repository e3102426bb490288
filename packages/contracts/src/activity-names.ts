/**
 * Activity names and their NATS subject token. An activity may have any name Step Functions
 * accepts (`billing.charge-card`, `envoyer-reçu`), but a subject token cannot hold `.`, spaces or
 * wildcards, so every subject and consumer that names an activity carries its encoded form:
 *
 * - `A`–`Z`, `a`–`z`, `0`–`9`, `_` and `-` stay as they are;
 * - every other character is written as its UTF-8 bytes, each as `~` and two uppercase hex digits.
 *
 * `billing.charge-card` → `billing~2Echarge-card`, `envoyer-reçu` → `envoyer-re~C3~A7u`. `~` is
 * itself forbidden in activity names, and a name made only of `[A-Za-z0-9_-]` is its own token,
 * so subjects and consumer names of such activities never change. `@jetflow/asl` checks the same
 * rule in workflow definitions (with messages that point into the definition).
 */
import { createHash } from "node:crypto";

/** Longest activity name, in characters (Unicode code points), as in Step Functions. */
export const MAX_ACTIVITY_NAME_LENGTH = 80;

/** Characters kept as they are in a token; everything else is escaped. */
const PLAIN = /^[A-Za-z0-9_-]$/;
/** A well-formed token: plain characters and `~XX` escapes (uppercase hex). */
const TOKEN_SHAPE = /^(?:[A-Za-z0-9_-]|~[0-9A-F]{2})+$/;
/** Step Functions' special characters, brackets and wildcards. */
const FORBIDDEN = new Set(['"', "#", "%", "\\", "^", "|", "~", "`", "$", "&", ",", ";", ":", "/"]);
const BRACKETS = new Set(["<", ">", "{", "}", "[", "]"]);
const WILDCARDS = new Set(["?", "*"]);

/** Thrown when a string cannot be an activity name (`reason` says why). */
export class InvalidActivityNameError extends Error {
  override readonly name = "InvalidActivityNameError";
  constructor(
    readonly activity: string,
    readonly reason: string,
  ) {
    super(`invalid activity name ${JSON.stringify(activity)}: ${reason}`);
  }
}

/** Thrown by `decodeActivityToken` when a subject token is not the encoding of an activity name. */
export class InvalidActivityTokenError extends Error {
  override readonly name = "InvalidActivityTokenError";
  constructor(
    readonly token: string,
    readonly reason: string,
  ) {
    super(`invalid activity token ${JSON.stringify(token)}: ${reason}`);
  }
}

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Why `activity` is not a name Step Functions accepts for an activity, or `undefined` when it is:
 * 1 to 80 characters, no whitespace, no control characters (U+0000–U+001F, U+007F–U+009F), none of
 * `< > { } [ ] ? *` and none of ``" # % \ ^ | ~ ` $ & , ; : /``, and valid Unicode (no lone
 * surrogate). The reason names the first offending character and its position (1-based).
 */
export function activityNameProblem(activity: string): string | undefined {
  const chars = [...activity];
  if (chars.length === 0) return "it must not be empty";
  if (chars.length > MAX_ACTIVITY_NAME_LENGTH) {
    return `it is ${chars.length} characters long; the limit is ${MAX_ACTIVITY_NAME_LENGTH}`;
  }
  for (const [index, char] of chars.entries()) {
    const at = `at character ${index + 1}`;
    const code = char.codePointAt(0) as number;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) {
      return `it contains the control character ${codePoint(char)} ${at}`;
    }
    if (/^\s$/u.test(char)) return `it contains whitespace (${codePoint(char)}) ${at}`;
    if (code >= 0xd800 && code <= 0xdfff) return `it contains a lone surrogate (${codePoint(char)}) ${at}`;
    if (BRACKETS.has(char)) return `it contains the bracket "${char}" ${at}`;
    if (WILDCARDS.has(char)) return `it contains the wildcard "${char}" ${at}`;
    if (FORBIDDEN.has(char)) return `it contains the special character ${JSON.stringify(char)} ${at}`;
  }
  return undefined;
}

/** True when `activity` is a name Step Functions accepts for an activity (see `activityNameProblem`). */
export function isActivityName(activity: string): boolean {
  return activityNameProblem(activity) === undefined;
}

/** Returns `activity`, or throws InvalidActivityNameError saying what is wrong with it. */
export function assertActivityName(activity: string): string {
  const problem = activityNameProblem(activity);
  if (problem !== undefined) throw new InvalidActivityNameError(activity, problem);
  return activity;
}

/**
 * The single NATS subject token for an activity name (see the module comment for the encoding).
 * Reversible by `decodeActivityToken` for every well-formed string, so it accepts more than valid
 * activity names; it throws InvalidActivityNameError only for the empty string and for strings
 * with a lone surrogate, which have no UTF-8 form.
 */
export function encodeActivityToken(activity: string): string {
  if (activity === "") throw new InvalidActivityNameError(activity, "it must not be empty");
  let token = "";
  for (const char of activity) {
    if (PLAIN.test(char)) {
      token += char;
      continue;
    }
    const code = char.codePointAt(0) as number;
    if (code >= 0xd800 && code <= 0xdfff) {
      throw new InvalidActivityNameError(activity, `it contains a lone surrogate (${codePoint(char)})`);
    }
    for (const byte of Buffer.from(char, "utf8")) {
      token += `~${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return token;
}

/**
 * The activity name a subject token encodes. Strict: only the exact output of
 * `encodeActivityToken` is accepted (uppercase hex, no escaped plain character, valid UTF-8), so
 * one activity has exactly one token. Throws InvalidActivityTokenError otherwise.
 */
export function decodeActivityToken(token: string): string {
  if (!TOKEN_SHAPE.test(token)) {
    throw new InvalidActivityTokenError(
      token,
      'expected letters, digits, "_", "-" and "~" followed by two uppercase hex digits',
    );
  }
  const bytes: number[] = [];
  for (let i = 0; i < token.length;) {
    if (token[i] === "~") {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(token.charCodeAt(i));
      i += 1;
    }
  }
  let activity: string;
  try {
    activity = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw new InvalidActivityTokenError(token, "its escaped bytes are not valid UTF-8");
  }
  if (encodeActivityToken(activity) !== token) {
    throw new InvalidActivityTokenError(token, "it escapes a character that is written as itself");
  }
  return activity;
}

/** Longest durable consumer name jetflow derives from an activity, in bytes (see `activityConsumerName`). */
export const MAX_ACTIVITY_CONSUMER_NAME_BYTES = 200;

/**
 * The durable consumer name of an activity's tasks: `tasks-<token>`. A consumer name becomes a
 * directory on the server, so when that would exceed 200 bytes (names of many non-ASCII
 * characters) it is `tasks-~h<the first 32 hex digits of the SHA-256 of the UTF-8 name>` instead;
 * `~h` cannot occur in a token, so the two forms never collide.
 */
export function activityConsumerName(activity: string): string {
  const name = `tasks-${encodeActivityToken(activity)}`;
  if (name.length <= MAX_ACTIVITY_CONSUMER_NAME_BYTES) return name;
  const digest = createHash("sha256").update(activity, "utf8").digest("hex").slice(0, 32);
  return `tasks-~h${digest}`;
}
