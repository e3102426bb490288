import { randomBytes } from "node:crypto";

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";

/** What a NATS stream, consumer or KV bucket name and a single subject token may all contain. */
const validPrefix = /^[A-Za-z0-9_-]*$/;

/**
 * Returns `prefix` followed by `_` and 10 random lowercase letters and digits, e.g. `runs_k3x9q0m2ab`: a
 * name that is valid as a NATS stream, consumer or KV bucket name and as one subject token, so that tests
 * sharing a server do not collide.
 *
 * @throws {TypeError} if `prefix` holds anything but letters, digits, `_` and `-`
 */
export function uniqueName(prefix: string): string {
  if (!validPrefix.test(prefix)) {
    throw new TypeError(`invalid name prefix "${prefix}": use only letters, digits, "_" and "-"`);
  }
  // 36^10 names make a collision within a test run moot; the slight modulo bias does not matter here.
  const suffix = Array.from(randomBytes(10), (byte) => alphabet[byte % alphabet.length]).join("");
  return prefix === "" ? suffix : `${prefix}_${suffix}`;
}
