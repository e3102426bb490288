/**
 * The JWT verification key from a file (API_JWT_PUBLIC_KEY_FILE) that may change while the
 * gateway runs: a rotated key is used for the next call, without a restart. A text that is not a
 * PEM public key leaves the previous key in force and is logged.
 */
import { createPublicKey } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type { Logger } from "@jetflow/service-runtime";
import { WatchedFile } from "./watched-file";

/** The public key of a PEM text, or the problem with it. */
export function parsePublicKey(text: string): { value: KeyObject | undefined; problems: string[] } {
  try {
    const key = createPublicKey(text);
    if (key.type === "public") return { value: key, problems: [] };
  } catch {
    // Reported below, without the parser's message: it may quote the file.
  }
  return { value: undefined, problems: ["is not a PEM public key (-----BEGIN PUBLIC KEY-----)"] };
}

/** API_JWT_PUBLIC_KEY_FILE, kept current; reading it at start throws ConfigError on a bad file. */
export class PublicKeyFile extends WatchedFile<KeyObject | undefined> {
  constructor(options: {
    file: string;
    reloadIntervalMs: number;
    log: Pick<Logger, "info" | "error" | "warn">;
  }) {
    super({
      ...options,
      variable: "API_JWT_PUBLIC_KEY_FILE",
      parse: parsePublicKey,
      reloadedMessage: "jwt public key reloaded",
      refusedMessage: "jwt public key file not reloaded; the previous key stays in force",
    });
  }
}
