import { createServer } from "node:http";
import type { Server } from "node:http";
import type { Registry } from "prom-client";

/** What the readiness probe asks: true when the service can do its work. */
export type ReadinessCheck = () => boolean;

/** A running health endpoint server. */
export interface HealthServer {
  /** The bound port (useful when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /healthz` (200 while the process runs) and `GET /readyz` (200 when `ready()` says
 * so, else 503) for Kubernetes probes, and `GET /metrics` (Prometheus text format) when given a
 * registry.
 */
export async function startHealthServer(
  host: string,
  port: number,
  ready: ReadinessCheck,
  metrics?: Registry,
): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ready\n" : "not ready\n");
    } else if (path === "/metrics" && metrics) {
      metrics.metrics().then(
        (text) => res.writeHead(200, { "content-type": metrics.contentType }).end(text),
        (err: unknown) =>
          res
            .writeHead(500, { "content-type": "text/plain" })
            .end(`cannot collect metrics: ${err instanceof Error ? err.message : String(err)}\n`),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
