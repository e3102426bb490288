import pino from "pino";
import type { Logger } from "pino";

/**
 * The one root logger of a service process: JSON lines on stdout, `service` on every line, and the
 * fields that may carry user data or secrets redacted.
 */
export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service },
    redact: ["input", "output", "inputJson", "outputJson", "password", "*.password", "token"],
  });
}

export type { Logger };
