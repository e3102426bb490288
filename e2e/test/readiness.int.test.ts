/**
 * /readyz follows the NATS connection: a service that lost NATS reports not ready (a Kubernetes
 * probe takes it out of rotation) and ready again once it has reconnected; /healthz stays up.
 */
import { waitFor } from "@jetflow/testing";
import { SERVICE_NAMES, startEngine } from "../src";
import type { Engine } from "../src";

let engine: Engine;

beforeAll(async () => {
  engine = await startEngine({ healthPorts: true });
});

afterAll(async () => {
  await engine?.stop();
});

async function statusOf(port: number | undefined, path: string): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port ?? 0}${path}`)).status;
  } catch {
    return 0;
  }
}

it("reports not ready while NATS is down and ready again after it is back", async () => {
  const processes = SERVICE_NAMES.flatMap((name) => engine.services[name]);
  for (const proc of processes) {
    await waitFor(async () => (await statusOf(proc.healthPort, "/readyz")) === 200, { timeoutMs: 30_000 });
  }
  await engine.nats.stop();
  try {
    for (const proc of processes) {
      await waitFor(async () => (await statusOf(proc.healthPort, "/readyz")) === 503, {
        timeoutMs: 30_000,
        message: `${proc.label} still ready without NATS`,
      });
      expect(await statusOf(proc.healthPort, "/healthz")).toBe(200);
    }
  } finally {
    await engine.nats.restart();
  }
  for (const proc of processes) {
    await waitFor(async () => (await statusOf(proc.healthPort, "/readyz")) === 200, {
      timeoutMs: 60_000,
      message: `${proc.label} not ready again after NATS came back`,
    });
  }
});
