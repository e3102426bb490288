import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { NatsServerNotFoundError } from "./errors";

/** Where the Debian/Ubuntu package installs the server; tried after `PATH`. */
export const debianNatsServerPath = "/usr/sbin/nats-server";

/**
 * Finds the nats-server binary: `NATS_SERVER_BIN` if set (and then only there), else the first
 * `nats-server` on `PATH`, else {@link debianNatsServerPath}. `env` defaults to `process.env`.
 *
 * @throws {NatsServerNotFoundError} when none of these is an executable file
 */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return searchNatsServer(env, debianNatsServerPath);
}

/** {@link findNatsServer} with the last-resort path as a parameter, for tests. @internal */
export async function searchNatsServer(env: NodeJS.ProcessEnv, fallback: string): Promise<string> {
  const explicit = env["NATS_SERVER_BIN"];
  if (explicit !== undefined && explicit !== "") {
    if (await isExecutableFile(explicit)) return explicit;
    throw new NatsServerNotFoundError(`"${explicit}" (NATS_SERVER_BIN) is not an executable file`, [
      explicit,
    ]);
  }
  const candidates = (env["PATH"] ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => join(dir, "nats-server"));
  candidates.push(fallback);
  for (const candidate of candidates) {
    if (await isExecutableFile(candidate)) return candidate;
  }
  throw new NatsServerNotFoundError(`not in NATS_SERVER_BIN, on PATH or at "${fallback}"`, candidates);
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
