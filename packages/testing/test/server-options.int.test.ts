import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectTo, NatsServerStartError, startNatsServer, uniqueName } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";

jest.setTimeout(60_000);

const admin = { user: "admin", pass: "admin-secret" };
const worker = { user: "worker", pass: "worker-secret" };

let configDir: string | undefined;
let server: NatsServer | undefined;

beforeAll(async () => {
  configDir = await mkdtemp(join(tmpdir(), "jetflow-options-"));
  const configFile = join(configDir, "given.conf");
  // A listen address that would clash with the system server, to show the fixture replaces it.
  await writeFile(configFile, 'listen: "127.0.0.1:4222"\nmax_payload: 65536\n');
  server = await startNatsServer({
    configFile,
    extraConfig: `authorization {
  users: [
    { user: "${admin.user}", password: "${admin.pass}" }
    { user: "${worker.user}", password: "${worker.pass}", permissions: { publish: ["tasks.>"], subscribe: ["_INBOX.>"] } }
  ]
}`,
    connectOptions: admin,
  });
});

afterAll(async () => {
  await server?.dispose();
  if (configDir !== undefined) await rm(configDir, { recursive: true, force: true });
});

function started(): NatsServer {
  if (server === undefined) throw new Error("the server did not start");
  return server;
}

describe("startNatsServer with a config file and extra config", () => {
  it("keeps the file's settings but listens on its own loopback port", async () => {
    expect(started().port).not.toBe(4222);
    const nc = await connectTo(started().url, admin);
    try {
      expect(nc.info?.max_payload).toBe(65536);
      const jsm = await jetstreamManager(nc);
      expect((await jsm.getAccountInfo()).streams).toBe(0);
    } finally {
      await nc.close();
    }
  });

  it("enforces the users of the extra config", async () => {
    await expect(connectTo(started().url, { maxReconnectAttempts: 0 })).rejects.toThrow(
      /authorization violation/i,
    );
    const nc = await connectTo(started().url, worker);
    try {
      const denied = new Promise<string>((resolve) => {
        void (async () => {
          for await (const status of nc.status()) {
            if (status.type === "error") resolve(String(status.error));
          }
        })();
      });
      nc.publish(`results.${uniqueName("t")}`, "nope");
      await nc.flush();
      expect(await denied).toMatch(/permissions violation for publish/i);
    } finally {
      await nc.close();
    }
  });

  it("restarts with the same users and port", async () => {
    const s = started();
    const port = s.port;
    await s.restart();
    expect(s.port).toBe(port);
    const nc = await connectTo(s.url, admin);
    await nc.close();
  });
});

describe("startNatsServer with an invalid config", () => {
  it("reports the early exit with the tail of the server's log", async () => {
    const err: unknown = await startNatsServer({ name: "broken", extraConfig: "jetstream {" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NatsServerStartError);
    const startError = err as NatsServerStartError;
    // A failed start keeps its temp dir for inspection; this test has no use for it.
    await rm(dirname(startError.logFile), { recursive: true, force: true });
    expect(startError.serverName).toBe("broken");
    expect(startError.message).toBe(
      `nats-server "broken" exited with code 1 before it was ready; log "${startError.logFile}" ends with:\n` +
        "nats-server: Parse error on line 11: 'Unexpected EOF processing map.'",
    );
  });
});
