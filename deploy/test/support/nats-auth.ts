/**
 * The deploy's NATS authorization (deploy/k8s/base/nats/auth.conf) for tests: the same file the
 * Kubernetes manifests mount, with fixed test passwords defined in front of it.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** The file nats-server includes in every overlay. */
export const AUTH_CONF = resolve(__dirname, "../../k8s/base/nats/auth.conf");

/** The users auth.conf defines: one per service, one per worker role. */
export const NATS_USERS = [
  "state-manager",
  "orchestrator",
  "dispatcher",
  "result-ingestor",
  "api-gateway",
  "worker-examples",
] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** The variable auth.conf reads a user's password from: `JETFLOW_NATS_PASSWORD_<USER>`. */
export function passwordVariable(user: string): string {
  return `JETFLOW_NATS_PASSWORD_${user.toUpperCase().replace(/-/g, "_")}`;
}

/** The fixed password of `user` in tests. */
export function testPassword(user: string): string {
  return `test-${user}-secret`;
}

/** Connection options of `user`; a worker role gets its own inbox prefix, as auth.conf requires. */
export function credentialsOf(user: NatsUser): { user: string; pass: string; inboxPrefix?: string } {
  const credentials = { user, pass: testPassword(user) };
  return user.startsWith("worker-") ? { ...credentials, inboxPrefix: `_INBOX_${user}` } : credentials;
}

/**
 * auth.conf preceded by the test passwords, for `startNatsServer({ extraConfig })`. With
 * `probeUser`, adds a user allowed only `$JS.API.INFO` and makes it the user of unauthenticated
 * connections (`no_auth_user`): fixtures whose readiness probe cannot log in need it.
 */
export function natsAuthConfig(options: { probeUser?: boolean } = {}): string {
  let auth = readFileSync(AUTH_CONF, "utf8");
  if (options.probeUser === true) {
    const probe =
      '{ user: "probe", password: "probe", permissions: { publish: ["$JS.API.INFO"], subscribe: ["_INBOX.>"] } }';
    if (!auth.includes("users: [")) throw new Error(`${AUTH_CONF} has no "users: [" list`);
    auth = `${auth.replace("users: [", `users: [\n    ${probe}`)}\nno_auth_user: "probe"\n`;
  }
  const passwords = NATS_USERS.map((user) => `${passwordVariable(user)}: "${testPassword(user)}"`);
  return `${passwords.join("\n")}\n${auth}`;
}
