import { createServer } from "node:net";
import type { AddressInfo, Server } from "node:net";

/**
 * Returns `count` distinct TCP ports that were free on 127.0.0.1 a moment ago: each is bound to port 0 and
 * read back, all are held open together (so they differ), then released. Another process may still take
 * one before it is reused; on loopback in a test run that is rare.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
    }
    return servers.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

/** Returns one TCP port that was free on 127.0.0.1 a moment ago (see {@link freePorts}). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}
