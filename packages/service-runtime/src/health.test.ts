import { startHealthServer } from "./health";

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
