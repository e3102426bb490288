import { startNatsServer } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { runWorker } from "@jetflow/worker-sdk";

// A server that only lets the worker's user in: runWorker must take its credentials from the env.
let server: NatsServer;

beforeAll(async () => {
  server = await startNatsServer({
    extraConfig: `authorization { users: [ { user: "worker-a", password: "s3cret" } ] }`,
    connectOptions: { user: "worker-a", pass: "s3cret" },
  });
});

afterAll(async () => {
  await server?.dispose();
});

test("runWorker logs in with NATS_USER and NATS_PASSWORD from the environment", async () => {
  const running = await runWorker(
    { echo: (input: unknown) => input },
    {
      handleSignals: false,
      env: { NATS_URL: server.url, NATS_USER: "worker-a", NATS_PASSWORD: "s3cret" },
    },
  );
  try {
    expect(running.nc.isClosed()).toBe(false);
    expect(running.worker.inFlight()).toBe(0);
  } finally {
    await running.shutdown();
  }
});

test("runWorker is refused with a wrong password", async () => {
  await expect(
    runWorker(
      { echo: (input: unknown) => input },
      { handleSignals: false, env: { NATS_URL: server.url, NATS_USER: "worker-a", NATS_PASSWORD: "wrong" } },
    ),
  ).rejects.toThrow(/authorization/i);
});
