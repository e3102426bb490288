import { startHealthServer } from "./health";
import { Counter, Registry } from "prom-client";

describe("startHealthServer", () => {
  it("answers liveness always and readiness from the check", async () => {
    let ready = false;
    const server = await startHealthServer("127.0.0.1", 0, () => ready);
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe("startHealthServer with a registry", () => {
  it("serves the registry's metrics in the Prometheus text format at /metrics", async () => {
    const registry = new Registry();
    new Counter({ name: "test_things_total", help: "things", registers: [registry] }).inc(3);
    const server = await startHealthServer("127.0.0.1", 0, () => true, registry);
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe(registry.contentType);
      expect(await response.text()).toContain("test_things_total 3");
    } finally {
      await server.close();
    }
  });

  it("answers 404 at /metrics without a registry", async () => {
    const server = await startHealthServer("127.0.0.1", 0, () => true);
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
