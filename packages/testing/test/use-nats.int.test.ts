import { existsSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectTo, NatsServerNotFoundError, startNatsServer, useNats } from "@jetflow/testing";
import type { UsedNats } from "@jetflow/testing";

jest.setTimeout(60_000);

const missingBinaryMessage =
  'cannot find nats-server: "/nonexistent/nats-server" (NATS_SERVER_BIN) is not an executable file; ' +
  'install it with "apt-get update && apt-get install nats-server" or set NATS_SERVER_BIN to its path';

let nats: UsedNats | undefined;

beforeAll(async () => {
  nats = await useNats({ env: { ...process.env, NATS_URL: "" } });
});

afterAll(async () => {
  await nats?.stop();
});

function used(): UsedNats {
  if (nats === undefined) throw new Error("useNats did not provide a server");
  return nats;
}

describe("useNats", () => {
  it("starts a local JetStream server when NATS_URL is unset", async () => {
    const { url, server } = used();
    expect(server?.url).toBe(url);
    const nc = await connectTo(url);
    try {
      const jsm = await jetstreamManager(nc);
      expect((await jsm.getAccountInfo()).streams).toBe(0);
    } finally {
      await nc.close();
    }
  });

  it("uses the server at NATS_URL and leaves it running on stop", async () => {
    const given = await useNats({ env: { NATS_URL: used().url } });
    expect(given.url).toBe(used().url);
    expect(given.server).toBeUndefined();
    await given.stop();
    expect(used().server?.running).toBe(true);
    const nc = await connectTo(given.url);
    await nc.close();
  });

  // With a Docker engine on the default socket useNats would fall back to a container instead.
  (existsSync("/var/run/docker.sock") ? it.skip : it)(
    "fails with install instructions when there is neither a binary nor Docker",
    async () => {
      const env = { NATS_SERVER_BIN: "/nonexistent/nats-server", DOCKER_HOST: "" };
      const err: unknown = await useNats({ env }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NatsServerNotFoundError);
      expect((err as Error).message).toBe(missingBinaryMessage);
    },
  );
});

describe("startNatsServer without a binary", () => {
  it("throws NatsServerNotFoundError saying how to install nats-server", async () => {
    const err: unknown = await startNatsServer({
      env: { NATS_SERVER_BIN: "/nonexistent/nats-server" },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsServerNotFoundError);
    expect((err as NatsServerNotFoundError).name).toBe("NatsServerNotFoundError");
    expect((err as NatsServerNotFoundError).message).toBe(missingBinaryMessage);
    expect((err as NatsServerNotFoundError).searched).toEqual(["/nonexistent/nats-server"]);
  });
});
