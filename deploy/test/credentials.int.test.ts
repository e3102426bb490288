/**
 * deploy/scripts/nats-credentials.sh: the Secrets it makes let every user of auth.conf log in to
 * a nats-server that knows only their bcrypt hashes, and nothing else gets in.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { connectTo, startNatsServer } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { parseAllDocuments } from "yaml";
import { AUTH_CONF, NATS_USERS, passwordVariable } from "./support/nats-auth";

const run = promisify(execFile);
const SCRIPT = resolve(__dirname, "../scripts/nats-credentials.sh");

interface Secret {
  metadata: { name: string; namespace: string };
  data: Record<string, string>;
}

let secrets: Secret[];
let server: NatsServer | undefined;

function decoded(secret: Secret | undefined, key: string): string {
  return Buffer.from(secret?.data[key] ?? "", "base64").toString("utf8");
}

function secretNamed(name: string): Secret | undefined {
  return secrets.find((s) => s.metadata.name === name);
}

beforeAll(async () => {
  const { stdout } = await run("bash", [SCRIPT, "init", "--namespace", "jetflow-test", "--dry-run"]);
  secrets = parseAllDocuments(stdout)
    .map((doc) => doc.toJSON() as Secret | null)
    .filter((s): s is Secret => s !== null);
  // nats-server gets the hashes as the Secret would give them: variables read by auth.conf.
  const serverPasswords = secretNamed("jetflow-nats-server-passwords");
  const variables = NATS_USERS.map(
    (user) => `${passwordVariable(user)}: ${decoded(serverPasswords, passwordVariable(user))}`,
  );
  const state = NATS_USERS[0];
  server = await startNatsServer({
    extraConfig: `${variables.join("\n")}\n${await readFile(AUTH_CONF, "utf8")}`,
    connectOptions: { user: state, pass: decoded(secretNamed(`jetflow-nats-${state}`), "NATS_PASSWORD") },
  });
});

afterAll(async () => {
  await server?.dispose();
});

it("makes a Secret per user and one of bcrypt hashes for the server", () => {
  expect(secrets.map((s) => s.metadata.name).sort()).toEqual(
    ["jetflow-nats-server-passwords", ...NATS_USERS.map((u) => `jetflow-nats-${u}`)].sort(),
  );
  expect(secrets.every((s) => s.metadata.namespace === "jetflow-test")).toBe(true);
  for (const user of NATS_USERS) {
    const hash = decoded(secretNamed("jetflow-nats-server-passwords"), passwordVariable(user));
    expect(hash).toMatch(/^"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}"$/);
    const password = decoded(secretNamed(`jetflow-nats-${user}`), "NATS_PASSWORD");
    expect(password).toMatch(/^j[A-Za-z0-9]{39}$/);
    expect(hash).not.toContain(password);
  }
});

it("lets every user log in with its password and no other", async () => {
  for (const user of NATS_USERS) {
    const pass = decoded(secretNamed(`jetflow-nats-${user}`), "NATS_PASSWORD");
    expect(decoded(secretNamed(`jetflow-nats-${user}`), "NATS_USER")).toBe(user);
    const nc = await connectTo(server?.url ?? "", { user, pass, reconnect: false });
    await nc.close();
    await expect(connectTo(server?.url ?? "", { user, pass: `${pass}x`, reconnect: false })).rejects.toThrow(
      /authorization/i,
    );
  }
});

it("rotates one user's password", async () => {
  const { stdout } = await run("bash", [
    SCRIPT,
    "rotate",
    "dispatcher",
    "--namespace",
    "jetflow-test",
    "--dry-run",
  ]);
  const [yaml, patch] = stdout.split("\nkubectl ");
  const rotated = parseAllDocuments(yaml ?? "")
    .map((doc) => doc.toJSON() as Secret | null)
    .filter((s): s is Secret => s !== null);
  expect(rotated.map((s) => s.metadata.name)).toEqual(["jetflow-nats-dispatcher"]);
  expect(decoded(rotated[0], "NATS_PASSWORD")).not.toBe(
    decoded(secretNamed("jetflow-nats-dispatcher"), "NATS_PASSWORD"),
  );
  expect(patch?.trim()).toMatch(
    /^--namespace jetflow-test patch secret jetflow-nats-server-passwords --type merge -p '\{"stringData":\{"JETFLOW_NATS_PASSWORD_DISPATCHER":"\\"\$2[aby]\$\d\d\$[^"\\]{53}\\""\}\}'$/,
  );
  await expect(run("bash", [SCRIPT, "rotate", "nobody", "--dry-run"])).rejects.toThrow(/no user "nobody"/);
});
